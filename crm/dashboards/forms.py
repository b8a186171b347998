"""The dashboards' filters: a period (default this year), a park, an industry and an owner.

Industry and owner take the same values as the project list's (ProjectFilter's own querysets),
so the figures and the lists they link to are narrowed by the very same rule."""

from datetime import date

from django import forms
from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from crm.core.dates import Period
from crm.core.forms import ReferenceForm
from leads.filters import ProjectFilter
from leads.models import Industry
from parks.models import Park

from .models import Target
from .selectors import DashboardFilters

# A period longer than this would draw a monthly chart nobody can read (and costs a lot).
MAX_PERIOD_YEARS = 10
EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)
# <input type="date"> only takes ISO dates, whatever the language's date format.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def industry_choices():
    """Sections, each followed by its divisions (the list offers the same codes)."""
    queryset = ProjectFilter.base_filters["industry"].queryset.all()
    return queryset.select_related("parent").order_by(
        Coalesce("parent__code", "code"),
        Case(When(level=Industry.Level.SECTION, then=Value(0)), default=Value(1),
             output_field=IntegerField()),
        "code")


class IndustryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        indent = "" if obj.level == Industry.Level.SECTION else "\u3000"
        return f"{indent}{obj.code} {obj.name}"


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    # Projects have no park of their own (ProjectFilter has none): the park narrows the space
    # figures only, so every project figure still matches its list.
    park = forms.ModelChoiceField(label=_("Park (space figures)"), queryset=Park.objects.none(),
                                  required=False, empty_label=_("All parks"))
    industry = IndustryChoiceField(label=_("Industry"), queryset=Industry.objects.none(),
                                   required=False, to_field_name="code",
                                   empty_label=_("All industries"))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False,
                                   empty_label=_("Everyone"))

    def __init__(self, data=None, *, user, today: date, **kwargs):
        self.today = today
        super().__init__(data, **kwargs)
        self.fields["park"].queryset = Park.objects.visible_to(user).filter(is_active=True)
        self.fields["industry"].queryset = industry_choices()
        self.fields["owner"].queryset = ProjectFilter.base_filters["owner"].queryset.order_by(
            "full_name", "username")
        year = Period.year(today.year)
        self.fields["date_from"].initial = year.start
        self.fields["date_to"].initial = year.end

    def clean(self):
        data = super().clean()
        year = Period.year(self.today.year)
        start = data.get("date_from") or year.start
        end = data.get("date_to") or year.end
        if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST):
            raise forms.ValidationError(_("Choose dates between %(a)s and %(b)s.")
                                        % {"a": EARLIEST.isoformat(), "b": LATEST.isoformat()})
        if end < start:
            raise forms.ValidationError(_("The period ends before it starts."))
        if end.year - start.year >= MAX_PERIOD_YEARS:
            raise forms.ValidationError(
                _("Choose a period of at most %(n)s years.") % {"n": MAX_PERIOD_YEARS})
        data["period"] = Period(start, end)
        return data

    def filters(self) -> DashboardFilters:
        """The cleaned filters, or this year's defaults when the form is unbound or invalid
        (the page still shows figures, and the form its errors)."""
        if self.is_bound and self.is_valid():
            data = self.cleaned_data
            return DashboardFilters(period=data["period"], park=data.get("park"),
                                    industry=data.get("industry"), owner=data.get("owner"))
        return DashboardFilters.this_year(self.today)


class TargetForm(ReferenceForm):
    """A plan target, typed in by an administrator (crm.core.setup_screens); its actual is
    always computed (selectors.target_progress)."""

    class Meta:
        model = Target
        fields = ["metric", "year_from", "year_to", "value", "park", "city", "source", "order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["park"].queryset = Park.objects.order_by("name")
