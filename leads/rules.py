"""The leaders' flags and the thresholds behind them, in one place.

A threshold lives in the reminder rule an administrator edits (crm.notifications'
ReminderRule: "no contact for 14 days" is a row), so the red and yellow figures of a dashboard,
the project list's `?flag=`, the API's count and the reminders people receive always count the
same projects. The defaults below are DOMAIN.md's and apply while no active rule says otherwise.

The flags (rules themselves are the Q-builders of leads/models.py):
- overdue: open, next step planned before today;
- yellow: open and silent for the yellow threshold (14 days) but not yet the red one;
- red: open and silent for the red threshold (30 days) or more;
- not started: signed, not lost, past its contractual start date (plus the rule's grace days)
  and never at "construction started".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Min, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.notifications.models import ReminderRule, Severity

from .models import PATH_KINDS, Stage, not_started_q, open_q, overdue_q, silent_q

# DOMAIN.md: an open project not contacted in 14 days → yellow; 30 days → red, escalated.
SILENT_YELLOW_DAYS = 14
SILENT_RED_DAYS = 30
# DOMAIN.md: signed but not started past the contract's start date → red (no grace).
NOT_STARTED_GRACE_DAYS = 0

# The reminder kinds leads registers (leads/reminders.py) whose days are these thresholds.
NO_CONTACT_KIND = "leads.no_contact"
NOT_STARTED_KIND = "leads.signed_not_started"
NEXT_STEP_KIND = "leads.next_step_due"
NEW_LEAD_KIND = "leads.new_lead_unassessed"


@dataclass(frozen=True)
class Thresholds:
    silent_yellow_days: int = SILENT_YELLOW_DAYS
    silent_red_days: int = SILENT_RED_DAYS
    not_started_grace_days: int = NOT_STARTED_GRACE_DAYS

    @classmethod
    def current(cls) -> Thresholds:
        """The active reminder rules' days, one query; the defaults where no rule is set."""
        rows = (ReminderRule.objects.filter(is_active=True,
                                            kind__in=[NO_CONTACT_KIND, NOT_STARTED_KIND])
                .values("kind", "severity").annotate(days=Min("days")))
        found = {(row["kind"], row["severity"]): row["days"] for row in rows}
        yellow = found.get((NO_CONTACT_KIND, Severity.YELLOW), SILENT_YELLOW_DAYS)
        red = found.get((NO_CONTACT_KIND, Severity.RED), SILENT_RED_DAYS)
        grace = min((days for (kind, _sev), days in found.items() if kind == NOT_STARTED_KIND),
                    default=NOT_STARTED_GRACE_DAYS)
        return cls(silent_yellow_days=yellow, silent_red_days=max(red, yellow),
                   not_started_grace_days=grace)


# --- Stages the rules need --------------------------------------------------------------------
def path_stages(stages) -> list[Stage]:
    return sorted((s for s in stages if s.kind in PATH_KINDS), key=lambda s: (s.order, s.code))


def milestone_stage(stages, milestone: str) -> Stage | None:
    """The first stage (lowest order) that carries `milestone`."""
    carrying = [s for s in stages if s.milestone == milestone]
    return min(carrying, key=lambda s: (s.order, s.code)) if carrying else None


def started_stage(stages=None) -> Stage | None:
    stages = list(Stage.objects.all()) if stages is None else stages
    return milestone_stage(stages, Stage.Milestone.STARTED)


# --- The flags --------------------------------------------------------------------------------
class Flag:
    OVERDUE = "overdue"
    YELLOW = "yellow"
    RED = "red"
    NOT_STARTED = "not_started"

    ALL = (OVERDUE, YELLOW, RED, NOT_STARTED)
    colours = {OVERDUE: "red", YELLOW: "yellow", RED: "red", NOT_STARTED: "red"}
    # The filter's choices (labels without figures: the thresholds may change at any time).
    choices = [(OVERDUE, gettext_lazy("Next step overdue")),
               (YELLOW, gettext_lazy("Yellow: no contact for a while")),
               (RED, gettext_lazy("Red: no contact for long")),
               (NOT_STARTED, gettext_lazy("Signed, not started"))]


def flag_label(flag: str, thresholds: Thresholds) -> str:
    """What the flag means with today's thresholds, in words."""
    if flag == Flag.OVERDUE:
        return _("Next step overdue")
    if flag == Flag.YELLOW:
        return _("No contact for %(low)s–%(high)s days") % {
            "low": thresholds.silent_yellow_days, "high": thresholds.silent_red_days - 1}
    if flag == Flag.RED:
        return _("No contact for %(days)s days or more") % {"days": thresholds.silent_red_days}
    if flag == Flag.NOT_STARTED:
        return _("Signed, not started past the contract date")
    raise ValueError(f"unknown flag {flag!r}")


def flag_q(flag: str, *, today: date, thresholds: Thresholds | None = None,
           stages=None) -> Q:
    thresholds = thresholds or Thresholds.current()
    if flag == Flag.OVERDUE:
        return overdue_q(today)
    if flag == Flag.RED:
        return open_q() & silent_q(thresholds.silent_red_days, today)
    if flag == Flag.YELLOW:
        return (open_q() & silent_q(thresholds.silent_yellow_days, today)
                & ~silent_q(thresholds.silent_red_days, today))
    if flag == Flag.NOT_STARTED:
        return not_started_q(today, started=started_stage(stages),
                             grace_days=thresholds.not_started_grace_days)
    raise ValueError(f"unknown flag {flag!r}")
