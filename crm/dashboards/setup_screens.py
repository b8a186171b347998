"""The plan targets' settings screen (crm.core.setup_screens), registered in ready()."""

from django.utils.translation import gettext_lazy as _

from crm.core.numbers import format_number
from crm.core.setup_screens import Column, SetupScreen, setup_screens

from .forms import TargetForm
from .models import Target
from .selectors import TargetProgress


def _years(target: Target) -> str:
    return (str(target.year_to) if target.year_from == target.year_to
            else f"{target.year_from}–{target.year_to}")


def _value(target: Target) -> str:
    # The unit and the decimals the leader dashboard shows the same target with.
    shown = TargetProgress(target=target, actual=target.value, url=None)
    return f"{format_number(target.value, shown.places)} {shown.unit}"


def register() -> None:
    setup_screens.register(SetupScreen(
        key="targets", title=_("Plan targets"), noun=_("plan target"), model=Target,
        form_class=TargetForm, icon="target", order=10, deletable=True,
        description=_("The goals of the action plans. Their actuals are computed from the data "
                      "and shown on the leader dashboard."),
        list_related=("park",),
        columns=(Column.field(Target, "metric"), Column(_("Years"), _years),
                 Column.field(Target, "value", value=_value, numeric=True),
                 Column(_("Scope"), lambda t: t.scope_label or _("Whole city")),
                 Column.field(Target, "source")),
    ))
