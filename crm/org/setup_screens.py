"""The organisation on the administrators' settings screens (crm.core.setup_screens)."""

from django.utils.translation import gettext_lazy as _

from crm.core.setup_screens import Column, SetupScreen, setup_screens

from .forms import MembershipForm, OrgUnitForm
from .models import Membership, OrgUnit
from .selectors import tree_label, unit_tree


def register() -> None:
    setup_screens.register(SetupScreen(
        key="org-units", title=_("Organisation units"), noun=_("organisation unit"),
        model=OrgUnit, form_class=OrgUnitForm, icon="network", order=50, deletable=True,
        description=_("The city, its districts and parks, the leading group with its 专班 "
                      "work teams, and the departments, as a tree. A unit that still has units, "
                      "people or projects cannot be deleted: switch it off."),
        list_rows=lambda: unit_tree(OrgUnit.objects.select_related("parent")),
        columns=(Column.field(OrgUnit, "name", value=tree_label), Column.field(OrgUnit, "code"),
                 Column.field(OrgUnit, "kind"), Column.field(OrgUnit, "order", numeric=True),
                 Column.field(OrgUnit, "is_active")),
    ))
    setup_screens.register(SetupScreen(
        key="memberships", title=_("Memberships"), noun=_("membership"), model=Membership,
        form_class=MembershipForm, icon="users", order=60, deletable=True,
        description=_("Who belongs to which unit, in which position, and which projects they "
                      "see through it."),
        list_related=("user", "unit"),
        columns=(Column.field(Membership, "user"), Column.field(Membership, "unit"),
                 Column.field(Membership, "role"), Column.field(Membership, "scope")),
    ))
