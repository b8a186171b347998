"""The reminder rules' settings screen (crm.core.setup_screens), registered in ready(). A
rule's days are the thresholds the dashboards' flags count by too (leads.rules.Thresholds)."""

from django.utils.translation import gettext_lazy as _

from crm.core.setup_screens import Column, SetupScreen, setup_screens

from .forms import ReminderRuleForm
from .models import ReminderRule
from .registry import rule_kinds


def _kind(rule: ReminderRule) -> str:
    labels = {kind.kind: str(kind.label) for kind in rule_kinds()}
    return labels.get(rule.kind, rule.kind)


def register() -> None:
    setup_screens.register(SetupScreen(
        key="reminder-rules", title=_("Reminder rules"), noun=_("reminder rule"),
        model=ReminderRule, form_class=ReminderRuleForm, icon="bell-ring", order=40,
        description=_("Who is reminded of what, after how many days. The no-contact and "
                      "not-started days are also the thresholds of the dashboards' red and "
                      "yellow flags."),
        columns=(Column.field(ReminderRule, "name"),
                 Column.field(ReminderRule, "kind", value=_kind),
                 Column.field(ReminderRule, "days", numeric=True),
                 Column.field(ReminderRule, "severity"), Column.field(ReminderRule, "recipients"),
                 Column.field(ReminderRule, "is_active")),
    ))
