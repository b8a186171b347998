from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.accounts.models import User
from crm.core.forms import ReferenceForm

from .models import Membership, OrgUnit
from .selectors import tree_choices, tree_label


class UnitChoiceField(forms.ModelChoiceField):
    """Units as a tree: each indented under its parent."""

    def label_from_instance(self, unit):
        return tree_label(unit)


def _tree_choices(field, queryset):
    field.queryset = queryset
    field.choices = tree_choices(queryset, field.empty_label)


class OrgUnitForm(ReferenceForm):
    parent = UnitChoiceField(label=_("parent unit"), queryset=OrgUnit.objects.all(),
                             required=False)

    class Meta:
        model = OrgUnit
        fields = ["code", "name", "name_en", "kind", "parent", "order", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        candidates = OrgUnit.objects.all()
        if self.instance.pk:
            self.fields["code"].disabled = True
            # Not under itself or its own units (the model refuses it too).
            candidates = candidates.exclude(path__startswith=self.instance.path)
        _tree_choices(self.fields["parent"], candidates)


class MembershipForm(ReferenceForm):
    unit = UnitChoiceField(label=pgettext_lazy("organisation", "unit"),
                           queryset=OrgUnit.objects.all())

    class Meta:
        model = Membership
        fields = ["user", "unit", "role", "scope"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("username")
        _tree_choices(self.fields["unit"], OrgUnit.objects.all())
