"""Funds' business rules, each written once. The workflow's guards (workflow.py) call the
checks below, so a page, the API and the demo refuse the same thing with the same reason; the
list filter, the reminder and the review dashboard read the same "waiting long" threshold.

Refusals: ValidationError names the field to correct (publicity_end, amount ...);
ConflictError says what clashes with the state of the data (a document missing, a budget
that would be exceeded) and carries a code the API returns with its 409.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.dates import add_working_days
from crm.core.exceptions import ConflictError
from crm.notifications.models import ReminderRule

from .models import COMMITTED_STATES, Application, Programme, Review, ReviewStep

# --- Waiting for review -------------------------------------------------------------------------
# The reminder kind funds registers (reminders.py); its active rule's days are the threshold.
REVIEW_WAITING_KIND = "funds.review_waiting"
# DOMAIN.md: an application waiting for review over 5 working days → the reviewers. Applies
# while no active rule of the kind says otherwise.
REVIEW_WAITING_DAYS = 5


def review_waiting_days() -> int:
    """The working days after which an application waits "long": the active
    funds.review_waiting rule's days (the lowest, if an administrator keeps several), else
    REVIEW_WAITING_DAYS. One query. (As leads.rules.Thresholds.current() reads leads' rules.)"""
    days = (ReminderRule.objects.filter(is_active=True, kind=REVIEW_WAITING_KIND)
            .aggregate(days=Min("days"))["days"])
    return REVIEW_WAITING_DAYS if days is None else days


# --- Submission ---------------------------------------------------------------------------------
def missing_documents(application: Application) -> list[str]:
    present = set(application.documents.values_list("name", flat=True))
    return [name for name in application.programme.required_documents if name not in present]


def require_documents(application: Application) -> None:
    missing = missing_documents(application)
    if missing:
        raise ConflictError(_("Missing documents: %(names)s.") % {"names": "、".join(missing)},
                            code="missing_documents")


# --- Review and publicity (公示) -----------------------------------------------------------------
def require_reviews_passed(application: Application) -> None:
    pending = application.current_review_step
    if pending is not None:
        raise ConflictError(_("The review step “%(step)s” has not been passed yet.") % {
            "step": dict(ReviewStep.choices).get(pending, pending)}, code="review_pending")


def previous_step_ended(application: Application) -> date:
    """The day the step before the publicity ended: the last review step passed, or, without
    review steps, the day the application entered its current state."""
    entered = timezone.localdate(application.state_changed_at)
    passed = (application.reviews.filter(decision=Review.Decision.PASS)
              .aggregate(last=Max("at"))["last"])
    return max(entered, timezone.localdate(passed)) if passed else entered


def publicity_window(application: Application, *, start: date | None, end: date | None,
                     today: date) -> tuple[date, date]:
    """The publicity's (start, end), or the reason they are refused. It starts no earlier than
    the previous step ended (default: today), and lasts at least the programme's publicity
    period in working days (default end: start + that period)."""
    earliest_start = previous_step_ended(application)
    start = start or max(today, earliest_start)
    if start < earliest_start:
        # Shown under the field it names (the page) or keyed by it (the API): no label in it.
        raise ValidationError({"publicity_start": _(
            "The publicity cannot start before the review it follows ended: it can start on "
            "%(earliest)s at the earliest.") % {"earliest": f"{earliest_start:%Y-%m-%d}"}})
    days = application.programme.publicity_working_days
    earliest_end = add_working_days(start, days)
    end = end or earliest_end
    if end < earliest_end:
        raise ValidationError({"publicity_end": _(
            "The publicity lasts at least %(days)s working days: starting %(start)s, it can "
            "end on %(earliest)s at the earliest.") % {
            "days": days, "start": f"{start:%Y-%m-%d}",
            "earliest": f"{earliest_end:%Y-%m-%d}"}})
    return start, end


def default_publicity(application: Application, *, today: date) -> tuple[date, date]:
    """What the publicity form proposes: the shortest window the rules allow from today."""
    return publicity_window(application, start=None, end=None, today=today)


def require_publicity_over(application: Application, *, today: date) -> None:
    end = application.publicity_end
    if end is None or end >= today:
        raise ConflictError(_("The publicity period runs until %(end)s; approve after it "
                              "ends.") % {"end": end}, code="publicity_running")


# --- Money --------------------------------------------------------------------------------------
def committed_total(programme: Programme, *, exclude_pk=None) -> Decimal:
    applications = programme.applications.filter(state__in=COMMITTED_STATES)
    if exclude_pk:
        applications = applications.exclude(pk=exclude_pk)
    return applications.aggregate(total=Sum("approved_amount"))["total"] or Decimal("0")


def require_amount_fits(application: Application, amount: Decimal | None) -> None:
    """Approved ≤ requested, ≤ the per-company cap, and the programme's approved total ≤ its
    budget. Locks the programme row first (SELECT ... FOR UPDATE): two approvals of one
    programme queue up here and the second sees the first's amount."""
    if amount is None:
        raise ValidationError({"amount": _("Enter the approved amount.")})
    if amount <= 0:
        raise ValidationError({"amount": _("The approved amount must be positive.")})
    if amount > application.requested_amount:
        raise ConflictError(_("The approved amount %(amount)s exceeds the requested "
                              "%(requested)s.") % {"amount": amount,
                                                   "requested": application.requested_amount},
                            code="over_requested")
    programme = Programme.objects.select_for_update().get(pk=application.programme_id)
    cap = programme.cap_per_company_yuan
    if cap is not None:
        company_total = (programme.applications
                         .filter(company=application.company_id, state__in=COMMITTED_STATES)
                         .exclude(pk=application.pk)
                         .aggregate(total=Sum("approved_amount"))["total"] or Decimal("0"))
        if company_total + amount > cap:
            raise ConflictError(_("This company would receive %(total)s yuan from the "
                                  "programme; the cap is %(cap)s.") % {
                "total": company_total + amount, "cap": cap}, code="over_cap")
    used = committed_total(programme, exclude_pk=application.pk)
    if used + amount > programme.budget_yuan:
        raise ConflictError(_("Approving %(amount)s would exceed the budget: %(used)s of "
                              "%(budget)s yuan is already approved, %(left)s remains.") % {
            "amount": amount, "used": used, "budget": programme.budget_yuan,
            "left": programme.budget_yuan - used}, code="over_budget")
