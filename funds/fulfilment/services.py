"""Writes of agreements, their clauses and actuals; the acceptance confirmation; leaders'
payment overrides and the clawbacks a failed acceptance proposes.

Who may: the project's team (investment staff who may edit the project) keeps its agreements
and reports its actuals; a leader confirms an acceptance and overrides a breach for one
tranche; an independent fund reviewer records or dismisses a proposed clawback (as every
clawback: funds.services.clawback_record). Each service checks, then writes in one
transaction, and refreshes the stored statuses of the obligations it may have changed.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.roles import Role, has_role
from crm.core.exceptions import ConflictError
from crm.core.figures import figures_changed
from crm.core.permissions import require
from crm.core.uploads import validate_upload
from leads.permissions import can_edit_project

from .. import permissions as funds_permissions
from ..models import Application, Disbursement
from . import rules, selectors
from .models import (
    PER_MU_METRICS,
    Acceptance,
    Actual,
    Agreement,
    ClawbackProposal,
    Incentive,
    Obligation,
    PaymentOverride,
    Remedy,
    Status,
)

AGREEMENT_FIELDS = {"title", "parties", "signed_on", "land_mu", "space_m2",
                    "committed_investment_wan", "fixed_asset_investment_wan", "reporting",
                    "grace_days", "note"}
ACTUAL_FIGURES = ("investment_wan", "fixed_asset_investment_wan", "funds_arrived_wan",
                  "output_value_wan", "tax_wan", "jobs")
# Documents an agreement or an actual's evidence may be: what funds' documents may be.
EVIDENCE_TYPES = {"pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx"}


def can_keep_agreements(user, project) -> bool:
    """The project's team keeps its agreements and actuals (as it edits the project)."""
    return can_edit_project(user, project)


def can_confirm_acceptance(user) -> bool:
    return has_role(user, Role.LEADER)


can_override_breach = can_confirm_acceptance


def _require_team(by, project) -> None:
    require(can_keep_agreements(by, project),
            _("Only the project's owner and collaborators (investment staff) keep its "
              "agreements and actuals."))


def _check_document(document, field: str) -> None:
    if document:
        try:
            validate_upload(document, allowed=EVIDENCE_TYPES)
        except ValidationError as error:
            raise ValidationError({field: error.messages}) from error


# --- Agreements and their clauses ---------------------------------------------------------------
@transaction.atomic
def agreement_create(*, by, project, document=None, **fields) -> Agreement:
    _require_team(by, project)
    unknown = set(fields) - AGREEMENT_FIELDS
    if unknown:
        raise TypeError(f"unknown agreement fields: {sorted(unknown)}")
    if project.signed_on is None:
        raise ConflictError(_("Agreements are kept for signed projects; this one has not been "
                              "signed yet."), code="not_signed")
    _check_document(document, "document")
    agreement = Agreement(project=project, created_by=by, **fields)
    if document:
        agreement.document = document
    agreement.full_clean()
    agreement.save()
    return agreement


@transaction.atomic
def agreement_update(*, agreement: Agreement, by, document=None, **fields) -> Agreement:
    _require_team(by, agreement.project)
    unknown = set(fields) - AGREEMENT_FIELDS
    if unknown:
        raise TypeError(f"unknown agreement fields: {sorted(unknown)}")
    _check_document(document, "document")
    for name, value in fields.items():
        setattr(agreement, name, value)
    if document:
        agreement.document = document
    agreement.full_clean()
    if not agreement.land_mu and agreement.obligations.filter(metric__in=PER_MU_METRICS).exists():
        raise ValidationError({"land_mu": _("Obligations per mu need the land area.")})
    agreement.save()
    obligations_refresh(agreements=[agreement])
    return agreement


@transaction.atomic
def obligation_add(*, agreement: Agreement, by, metric: str, target: Decimal | None = None,
                   due_on: date | None = None, applies_from: int | None = None,
                   evidence: str = "") -> Obligation:
    _require_team(by, agreement.project)
    obligation = Obligation(agreement=agreement, metric=metric, target=target, due_on=due_on,
                            applies_from=applies_from, evidence=evidence)
    obligation.full_clean()
    if rules.needs_land(metric) and not agreement.land_mu:
        raise ValidationError({"metric": _("An obligation per mu needs the agreement's land "
                                           "area.")})
    obligation.save()
    obligations_refresh(agreements=[agreement])
    return obligation


@transaction.atomic
def incentive_add(*, agreement: Agreement, by, kind: str, description: str = "",
                  programme=None, application: Application | None = None,
                  amount_yuan: Decimal | None = None, rent_free_months: int | None = None,
                  land_price_yuan_per_mu: Decimal | None = None) -> Incentive:
    _require_team(by, agreement.project)
    if application is not None:
        if application.project_id != agreement.project_id:
            raise ValidationError({"application": _("The application is not this project's.")})
        programme = programme or application.programme
        if application.programme_id != programme.pk:
            raise ValidationError({"application": _("The application is for another "
                                                    "programme.")})
    incentive = Incentive(agreement=agreement, kind=kind, description=description,
                          programme=programme, application=application,
                          amount_yuan=amount_yuan, rent_free_months=rent_free_months,
                          land_price_yuan_per_mu=land_price_yuan_per_mu)
    incentive.full_clean()
    incentive.save()
    return incentive


@transaction.atomic
def remedy_add(*, agreement: Agreement, by, kind: str, obligation: Obligation | None = None,
               incentive: Incentive | None = None, rate: Decimal | None = None,
               amount_yuan: Decimal | None = None) -> Remedy:
    _require_team(by, agreement.project)
    if obligation is not None and obligation.agreement_id != agreement.pk:
        raise ValidationError({"obligation": _("The obligation is another agreement's.")})
    if incentive is not None and incentive.agreement_id != agreement.pk:
        raise ValidationError({"incentive": _("The incentive is another agreement's.")})
    if kind == Remedy.Kind.PROPORTIONAL_CLAWBACK and rate is None:
        rate = Decimal("1")
    remedy = Remedy(agreement=agreement, kind=kind, obligation=obligation, incentive=incentive,
                    rate=rate, amount_yuan=amount_yuan)
    remedy.full_clean()
    remedy.save()
    return remedy


# --- Actuals ------------------------------------------------------------------------------------
def period_problem(agreement: Agreement, start: date, end: date) -> str | None:
    """Why (start, end) is not one of the agreement's reporting periods, or None: a calendar
    year, or a calendar quarter where the agreement reports quarterly."""
    if end < start:
        return _("A period cannot end before it starts.")
    if agreement.reporting == Agreement.Reporting.YEAR:
        if not (start == date(start.year, 1, 1) and end == date(start.year, 12, 31)):
            return _("This agreement reports by calendar year (1 January to 31 December).")
        return None
    quarter_start = date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    quarter_end_month = quarter_start.month + 2
    next_first = (date(start.year + 1, 1, 1) if quarter_end_month == 12
                  else date(start.year, quarter_end_month + 1, 1))
    if start != quarter_start or end != next_first - timedelta(days=1):
        return _("This agreement reports by calendar quarter (e.g. 1 January to 31 March).")
    return None


def _actual_checked(agreement: Agreement, *, by, period_start: date, period_end: date,
                    evidence=None, note: str = "", **figures) -> Actual:
    unknown = set(figures) - set(ACTUAL_FIGURES)
    if unknown:
        raise TypeError(f"unknown actual figures: {sorted(unknown)}")
    problem = period_problem(agreement, period_start, period_end)
    if problem:
        raise ValidationError({"period_end": problem})
    if period_start < date(agreement.signed_on.year, 1, 1):
        raise ValidationError({"period_start": _("The period is before the agreement was "
                                                 "signed (%(day)s).") % {
            "day": agreement.signed_on}})
    _check_document(evidence, "evidence")
    actual = Actual(agreement=agreement, period_start=period_start, period_end=period_end,
                    note=note, recorded_by=by,
                    **{k: (v if v is not None or k == "jobs" else Decimal("0"))
                       for k, v in figures.items()})
    if evidence:
        actual.evidence = evidence
    actual.full_clean()
    fixed, total = actual.fixed_asset_investment_wan, actual.investment_wan
    if fixed and total is not None and fixed > total:
        raise ValidationError({"fixed_asset_investment_wan": _(
            "Fixed-asset investment is part of the investment made and cannot exceed it.")})
    return actual


@transaction.atomic
def actual_record(*, agreement: Agreement, by, period_start: date, period_end: date,
                  evidence=None, note: str = "", **figures) -> Actual:
    """Record one period's actuals (once: a second report of the period is refused)."""
    _require_team(by, agreement.project)
    actual = _actual_checked(agreement, by=by, period_start=period_start,
                             period_end=period_end, evidence=evidence, note=note, **figures)
    actual.save()
    obligations_refresh(agreements=[agreement])
    return actual


@transaction.atomic
def actuals_import_rows(*, by, rows: list[tuple[Agreement, dict]]) -> list[Actual]:
    """Record many periods at once, all or nothing (the actuals import's commit)."""
    saved = []
    for agreement, values in rows:
        _require_team(by, agreement.project)
        actual = _actual_checked(agreement, by=by, **values)
        actual.save()
        saved.append(actual)
    obligations_refresh(agreements={a.pk: a for a, _values in rows}.values())
    return saved


# --- Statuses -----------------------------------------------------------------------------------
REFRESH_BATCH = 500


def obligations_refresh(*, agreements=None, today: date | None = None) -> list[int]:
    """Store each obligation's status, actual and breach day as the rules judge them today.
    Called by every service that changes an input (actuals, clauses, the agreement), by the
    stage-event signal (a milestone met) and daily (dates move on). Returns the ids of the
    obligations newly breached, so their reminder goes out now."""
    today = today or timezone.localdate()
    if agreements is None:
        queryset = Agreement.objects.order_by("pk")
    else:
        queryset = Agreement.objects.filter(pk__in=[a.pk for a in agreements]).order_by("pk")
    orders = rules.milestone_orders()
    newly_breached: list[int] = []
    last_pk = 0
    while True:
        batch = list(queryset.filter(pk__gt=last_pk)
                     .prefetch_related("obligations", "actuals")[:REFRESH_BATCH])
        if not batch:
            break
        last_pk = batch[-1].pk
        reached = selectors.reached_days({a.project_id for a in batch})
        changed = []
        for agreement in batch:
            facts = selectors.facts_for(agreement, orders=orders,
                                        reached=reached[agreement.project_id])
            for obligation, state in selectors.obligation_states(agreement, today, facts):
                breached_on = state.breached_on if state.status == Status.BREACHED else None
                new = (state.status, state.actual, today, breached_on)
                old = (obligation.status, obligation.actual, obligation.checked_on,
                       obligation.breached_on)
                if new != old:
                    if state.status == Status.BREACHED and obligation.status != Status.BREACHED:
                        newly_breached.append(obligation.pk)
                    (obligation.status, obligation.actual, obligation.checked_on,
                     obligation.breached_on) = new
                    changed.append(obligation)
        if changed:
            Obligation.objects.bulk_update(changed, ["status", "actual", "checked_on",
                                                     "breached_on"])
    figures_changed("funds")
    if newly_breached:
        from crm.notifications.services import nudge_scans

        nudge_scans(Obligation.objects.filter(pk__in=newly_breached))
    return newly_breached


# --- Acceptance ---------------------------------------------------------------------------------
def _snapshot(verdict: rules.Verdict) -> dict:
    return {
        "on": verdict.on.isoformat(), "passed": verdict.passed,
        "obligations": [{
            "id": obligation.pk, "metric": obligation.metric,
            "target": str(obligation.target) if obligation.target is not None else None,
            "actual": str(state.actual) if state.actual is not None else None,
            "due_on": state.due_on.isoformat() if state.due_on else None, "due": due,
            "status": state.status, "shortfall": str(state.shortfall),
            "shortfall_ratio": str(state.shortfall_ratio)}
            for obligation, state, due in verdict.rows],
        "remedies": [{"id": line.remedy.pk, "kind": line.remedy.kind,
                      "triggered": line.triggered, "due_back": str(line.due_back),
                      "withheld": str(line.withheld)} for line in verdict.remedies],
    }


@transaction.atomic
def acceptance_confirm(*, agreement: Agreement, by, on: date, note: str) -> Acceptance:
    """A leader confirms the acceptance report for `on`, with a note. The report is kept as
    it stood; a failing one drafts the clawbacks its remedies imply, one per application, for
    a fund reviewer to record."""
    require(can_confirm_acceptance(by), _("Only a leader confirms an acceptance."))
    if not (note or "").strip():
        raise ValidationError({"note": _("Say why you confirm this verdict.")})
    if on > timezone.localdate():
        raise ValidationError({"on": _("An acceptance is judged on a day that has come.")})
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    verdict = selectors.verdict_for(agreement, on)
    acceptance = Acceptance.objects.create(
        agreement=agreement, on=on, note=note.strip(), confirmed_by=by,
        confirmed_at=timezone.now(),
        verdict=Acceptance.Verdict.PASS if verdict.passed else Acceptance.Verdict.FAIL,
        report=_snapshot(verdict), due_back_yuan=verdict.due_back,
        withheld_yuan=verdict.withheld)
    if not verdict.passed:
        reason = _("Acceptance of %(day)s failed: %(items)s") % {
            "day": on, "items": "、".join(str(o) for o, _s in verdict.shortfalls)}
        for application_id, amount in verdict.clawbacks().items():
            ClawbackProposal.objects.create(acceptance=acceptance,
                                            application_id=application_id,
                                            amount_yuan=amount, reason=reason[:200])
    return acceptance


# --- Consequences in the funds workflow ---------------------------------------------------------
def breach_refusal(application: Application, today: date,
                   disbursement: Disbursement | None = None) -> str | None:
    """Why a tranche of `application` may not be paid on `today`, or None: its project has a
    breached obligation and no leader let this tranche through. Names the obligations (metric
    and date), never the project, so the message may reach any reviewer."""
    if application.project_id is None:
        return None
    if disbursement is not None and PaymentOverride.objects.filter(
            disbursement=disbursement).exists():
        return None
    breached = selectors.breached_obligations(application.project_id, today)
    if not breached:
        return None
    items = "、".join(
        _("%(metric)s (due %(day)s)") % {"metric": o.get_metric_display(),
                                          "day": s.due_on} for o, s in breached)
    return _("The project is in breach of its agreement: %(items)s. Its tranches are not paid "
             "until the breach is cured or a leader overrides it.") % {"items": items}


@transaction.atomic
def payment_override_grant(*, disbursement: Disbursement, by, reason: str) -> PaymentOverride:
    """A leader lets one tranche of a project in breach be paid, with the reason recorded."""
    require(can_override_breach(by), _("Only a leader overrides a breach."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("An override needs its reason.")})
    disbursement = Disbursement.objects.select_for_update().select_related(
        "application").get(pk=disbursement.pk)
    if disbursement.paid_amount is not None:
        raise ConflictError(_("This tranche has been paid already."), code="state")
    if PaymentOverride.objects.filter(disbursement=disbursement).exists():
        raise ConflictError(_("This tranche already has an override."), code="duplicate")
    if breach_refusal(disbursement.application, timezone.localdate()) is None:
        raise ConflictError(_("The project is not in breach: the tranche needs no override."),
                            code="no_breach")
    return PaymentOverride.objects.create(disbursement=disbursement, reason=reason.strip(),
                                          by=by)


@transaction.atomic
def clawback_proposal_record(*, proposal: ClawbackProposal, by) -> ClawbackProposal:
    """Record a proposed clawback as a clawback (funds.services.clawback_record checks who
    and how much); the proposal keeps the link."""
    from ..services import clawback_record

    proposal = ClawbackProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ClawbackProposal.Status.PROPOSED:
        raise ConflictError(_("This proposal has been decided already."), code="state")
    clawback = clawback_record(application=proposal.application, by=by,
                               amount=proposal.amount_yuan, reason=proposal.reason)
    proposal.status = ClawbackProposal.Status.RECORDED
    proposal.clawback = clawback
    proposal.decided_by, proposal.decided_at = by, timezone.now()
    proposal.save()
    return proposal


@transaction.atomic
def clawback_proposal_dismiss(*, proposal: ClawbackProposal, by, note: str) -> ClawbackProposal:
    proposal = ClawbackProposal.objects.select_for_update().select_related(
        "application").get(pk=proposal.pk)
    require(funds_permissions.can_manage_money(by, proposal.application),
            _("Only a fund reviewer with no stake in the application decides its clawbacks."))
    if proposal.status != ClawbackProposal.Status.PROPOSED:
        raise ConflictError(_("This proposal has been decided already."), code="state")
    if not (note or "").strip():
        raise ValidationError({"decision_note": _("Say why the clawback is not recorded.")})
    proposal.status = ClawbackProposal.Status.DISMISSED
    proposal.decision_note = note.strip()[:200]
    proposal.decided_by, proposal.decided_at = by, timezone.now()
    proposal.save()
    return proposal


# --- Added for the actuals import (funds/fulfilment/imports.py) ------------------------------
def actual_check(*, agreement: Agreement, by, period_start: date, period_end: date,
                 evidence=None, note: str = "", **figures) -> Actual:
    """actual_record's checks with nothing written: the actuals import's dry run asks them of
    every row, so it refuses exactly what the commit (actuals_import_rows) would. Returns the
    unsaved Actual; raises PermissionDenied or ValidationError as actual_record does."""
    _require_team(by, agreement.project)
    return _actual_checked(agreement, by=by, period_start=period_start, period_end=period_end,
                           evidence=evidence, note=note, **figures)
