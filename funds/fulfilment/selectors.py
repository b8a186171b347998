"""Reads of agreements, obligations and actuals, and the facts the rules judge. Every read
starts from Agreement.objects.visible_to(user) (the project's access rule), so the project
page, the agreement page, the fulfilment list, its export, the API, the acceptance report and
the leaders' figures agree on who sees what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from leads.models import PATH_KINDS, StageEvent

from ..models import Disbursement, Programme
from . import rules
from .models import (
    AT_RISK_STATUSES,
    DUE_STATUSES,
    Actual,
    Agreement,
    Incentive,
    Metric,
    Obligation,
    Status,
)


# --- One read path per model --------------------------------------------------------------------
def agreement_queryset(*, user):
    return (Agreement.objects.visible_to(user)
            .select_related("project", "project__company", "project__owner")
            .order_by("-signed_on", "-pk"))


def agreement_get(*, user, pk: int) -> Agreement:
    queryset = agreement_queryset(user=user).prefetch_related(
        "obligations", "actuals",
        Prefetch("incentives", queryset=Incentive.objects.select_related(
            "programme", "application")),
        "remedies", "acceptances__confirmed_by")
    return get_object_or_404(queryset, pk=pk)


def obligation_queryset(*, user):
    """Obligations of the agreements `user` may read, with what the fulfilment list shows."""
    return (Obligation.objects
            .filter(agreement__in=Agreement.objects.visible_to(user).values("pk"))
            .select_related("agreement", "agreement__project",
                            "agreement__project__company", "agreement__project__owner")
            .order_by("due_on", "pk"))


def actual_queryset(*, user):
    return (Actual.objects
            .filter(agreement__in=Agreement.objects.visible_to(user).values("pk"))
            .select_related("agreement").order_by("agreement", "period_start"))


def project_agreements(*, user, project) -> list[Agreement]:
    """The project page's panel: its agreements the user may read, with their obligations."""
    return list(agreement_queryset(user=user).filter(project=project)
                .prefetch_related("obligations"))


# --- Facts and verdicts -------------------------------------------------------------------------
def reached_days(project_ids) -> dict[int, list[tuple[int, date]]]:
    """(path order, local day) of every stage event on the path, per project: one query."""
    reached: dict[int, list[tuple[int, date]]] = {pk: [] for pk in project_ids}
    events = (StageEvent.objects.filter(project_id__in=list(project_ids),
                                        to_stage__kind__in=PATH_KINDS)
              .values_list("project_id", "to_stage__order", "at"))
    for project_id, order, at in events:
        reached[project_id].append((order, timezone.localdate(at)))
    return reached


def facts_for(agreement: Agreement, *, orders=None, reached=None, actuals=None) -> rules.Facts:
    """What the rules need about one agreement. Pass what a batch has already read."""
    if reached is None:
        reached = reached_days([agreement.project_id])[agreement.project_id]
    if actuals is None:
        actuals = list(agreement.actuals.all())
    return rules.Facts(land_mu=agreement.land_mu, grace_days=agreement.grace_days,
                       actuals=actuals, reached=reached,
                       orders=rules.milestone_orders() if orders is None else orders)


def obligation_states(agreement: Agreement, on: date, facts: rules.Facts | None = None):
    facts = facts or facts_for(agreement)
    return [(obligation, rules.obligation_state(obligation, facts, on))
            for obligation in agreement.obligations.all()]


def incentive_money(agreement: Agreement, on: date) -> list[rules.IncentiveMoney]:
    """Each incentive's money on `on`: paid net of clawbacks by then, and what is promised or
    approved and not yet paid. One query for the payments."""
    incentives = list(agreement.incentives.select_related("application"))
    application_ids = [i.application_id for i in incentives if i.application_id]
    paid = dict(Disbursement.objects.filter(application_id__in=application_ids,
                                            paid_on__lte=on)
                .values("application_id").annotate(total=Sum("paid_amount"))
                .values_list("application_id", "total"))
    tranches = dict(Disbursement.objects.filter(application_id__in=application_ids,
                                                kind=Disbursement.Kind.TRANCHE,
                                                paid_on__lte=on)
                    .values("application_id").annotate(total=Sum("paid_amount"))
                    .values_list("application_id", "total"))
    money = []
    for incentive in incentives:
        net = paid.get(incentive.application_id) or Decimal("0")
        promised = incentive.amount_yuan or Decimal("0")
        application = incentive.application
        if application is not None and application.approved_amount is not None:
            promised = application.approved_amount
        unpaid = max(promised - (tranches.get(incentive.application_id) or Decimal("0")),
                     Decimal("0"))
        money.append(rules.IncentiveMoney(incentive_id=incentive.pk,
                                          application_id=incentive.application_id,
                                          paid=net, unpaid=unpaid))
    return money


def acceptance_report(*, user, agreement_id: int, on: date) -> tuple[Agreement, rules.Verdict]:
    """The acceptance report (达产验收) of an agreement the user may read, for `on`."""
    agreement = agreement_get(user=user, pk=agreement_id)
    return agreement, verdict_for(agreement, on)


def verdict_for(agreement: Agreement, on: date) -> rules.Verdict:
    facts = facts_for(agreement)
    return rules.acceptance_verdict(agreement.obligations.all(), agreement.remedies.all(),
                                    incentive_money(agreement, on), facts, on)


def breached_obligations(project_id: int, on: date) -> list[tuple[Obligation, rules.State]]:
    """The project's obligations breached on `on`, judged live (not from the stored status,
    which a write of this very transaction may not have refreshed yet): the payment guard."""
    agreements = list(Agreement.objects.filter(project_id=project_id)
                      .prefetch_related("obligations", "actuals"))
    if not agreements:
        return []
    orders = rules.milestone_orders()
    reached = reached_days([project_id])[project_id]
    breached = []
    for agreement in agreements:
        facts = facts_for(agreement, orders=orders, reached=reached)
        breached += [(o, s) for o, s in obligation_states(agreement, on, facts)
                     if s.status == Status.BREACHED]
    return breached


# --- The leaders' figures -----------------------------------------------------------------------
@dataclass
class FulfilmentFigures:
    by_year: list[dict]  # signing year, due, met, rate
    rate: Decimal | None  # 履约率 over all years
    committed_wan: Decimal
    arrived_wan: Decimal
    arrival_rate: Decimal | None  # 资金到位率
    intensity_bands: list[dict]  # label, count
    tax_bands: list[dict]
    breached_count: int
    at_risk_count: int
    incentives_paid_yuan: Decimal
    tax_since_signing_wan: Decimal
    return_ratio: Decimal | None  # 投入产出比
    projects: list[dict]  # per project: paid, tax, ratio (the top of the list)


# Bands of a per-mu figure against its floor (rules.*_FLOOR_*): below half, below, at or above.
BANDS = ((Decimal("0"), Decimal("0.5")), (Decimal("0.5"), Decimal("1")), (Decimal("1"), None))


def _bands(values: list[Decimal], floor: Decimal) -> list[dict]:
    counts = []
    for low, high in BANDS:
        n = sum(1 for v in values if v >= floor * low and (high is None or v < floor * high))
        counts.append({"low": floor * low, "high": floor * high if high else None, "count": n})
    return counts


def fulfilment_figures(*, user, today: date | None = None, top: int = 10) -> FulfilmentFigures:
    """履约率 by year of signing, 资金到位率, the distribution of investment intensity and tax
    per mu against the floors, the breached and at-risk counts and 投入产出比: a few grouped
    queries over the agreements the user may read (the stored statuses are today's)."""
    today = today or timezone.localdate()
    agreements = Agreement.objects.visible_to(user)
    obligations = Obligation.objects.filter(agreement__in=agreements.values("pk"))
    rows = (obligations.values("agreement__signed_on__year")
            .annotate(due=Count("pk", filter=Q(status__in=DUE_STATUSES)),
                      met=Count("pk", filter=Q(status=Status.MET)))
            .order_by("agreement__signed_on__year"))
    by_year = [{"year": r["agreement__signed_on__year"], "due": r["due"], "met": r["met"],
                "rate": rules.fulfilment_rate(r["met"], r["due"])} for r in rows]
    due = sum(r["due"] for r in by_year)
    met = sum(r["met"] for r in by_year)
    committed = agreements.aggregate(t=Sum("committed_investment_wan"))["t"] or Decimal("0")
    actuals = Actual.objects.filter(agreement__in=agreements.values("pk"))
    arrived = actuals.aggregate(t=Sum("funds_arrived_wan"))["t"] or Decimal("0")
    # Per agreement with land: cumulative fixed assets per mu, and last year's tax per mu.
    last_year = today.year - 1
    owes_tax = Exists(Obligation.objects.filter(agreement=OuterRef("agreement_id"),
                                                metric=Metric.TAX_PER_MU,
                                                applies_from__lte=last_year))
    per_agreement = (actuals.filter(agreement__land_mu__gt=0).annotate(owes_tax=owes_tax)
                     .values("agreement_id", "agreement__land_mu", "owes_tax")
                     .annotate(fixed=Sum("fixed_asset_investment_wan",
                                         filter=Q(period_end__lte=today)),
                               tax=Sum("tax_wan", filter=Q(period_start__year=last_year))))
    intensity, tax_per_mu = [], []
    for row in per_agreement:
        land = row["agreement__land_mu"]
        intensity.append((row["fixed"] or Decimal("0")) / land)
        if row["owes_tax"]:  # only agreements whose tax per mu was owed last year
            tax_per_mu.append((row["tax"] or Decimal("0")) / land)
    # Projects, not obligations: a project in breach is not also "at risk", and one with a
    # due-soon and a missed obligation is at risk once.
    breached_projects = obligations.filter(status=Status.BREACHED).values("agreement__project")
    counts = (obligations.filter(status__in=(Status.BREACHED, *AT_RISK_STATUSES))
              .aggregate(breached=Count("agreement__project", distinct=True,
                                        filter=Q(status=Status.BREACHED)),
                         at_risk=Count("agreement__project", distinct=True,
                                       filter=Q(status__in=AT_RISK_STATUSES)
                                       & ~Q(agreement__project__in=breached_projects))))
    breached, at_risk = counts["breached"], counts["at_risk"]
    projects = project_returns(user=user)
    paid = sum((p["paid"] for p in projects), Decimal("0"))
    tax = sum((p["tax"] for p in projects), Decimal("0"))
    return FulfilmentFigures(
        by_year=by_year, rate=rules.fulfilment_rate(met, due), committed_wan=committed,
        arrived_wan=arrived, arrival_rate=rules.percent(arrived, committed),
        intensity_bands=_bands(intensity, rules.INVESTMENT_INTENSITY_FLOOR_WAN_PER_MU),
        tax_bands=_bands(tax_per_mu, rules.TAX_PER_MU_FLOOR_WAN),
        breached_count=breached, at_risk_count=at_risk, incentives_paid_yuan=paid,
        tax_since_signing_wan=tax, return_ratio=rules.return_ratio(tax, paid),
        projects=sorted(projects, key=lambda p: -p["paid"])[:top])


INCENTIVE_KINDS = (Programme.Kind.SUBSIDY, Programme.Kind.SPECIAL_FUND)


def project_returns(*, user) -> list[dict]:
    """Per project with an agreement: incentives paid (元, net of clawbacks, to the project's
    fund applications) and tax reported since its first agreement was signed (万元), with
    投入产出比. Two grouped queries."""
    agreements = Agreement.objects.visible_to(user)
    tax = {row["agreement__project_id"]: row for row in
           Actual.objects.filter(agreement__in=agreements.values("pk"))
           .values("agreement__project_id", "agreement__project__name")
           .annotate(tax=Sum("tax_wan"))}
    # Incentives are subsidies and special funds; equity (mother and sub-funds, direct
    # investment) is the city investing, not granting, and would make the ratio meaningless.
    paid = dict(Disbursement.objects
                .filter(application__project_id__in=agreements.values("project_id"),
                        application__programme__kind__in=INCENTIVE_KINDS,
                        paid_amount__isnull=False)
                .values("application__project_id").annotate(total=Sum("paid_amount"))
                .values_list("application__project_id", "total"))
    names = dict(agreements.values_list("project_id", "project__name"))
    result = []
    for project_id, name in names.items():
        row_tax = tax.get(project_id, {}).get("tax") or Decimal("0")
        row_paid = paid.get(project_id) or Decimal("0")
        result.append({"project_id": project_id, "name": name, "paid": row_paid,
                       "tax": row_tax, "ratio": rules.return_ratio(row_tax, row_paid)})
    return result


# --- The agreement page (added with the screens) ------------------------------------------------
@dataclass
class AgreementPage:
    """Everything the agreement page shows, read once: the agreement with its clauses, the
    acceptance verdict for `on`, the key figures as of today, the actuals with who recorded
    them, the confirmed acceptances with their clawback proposals, and which incentive
    applications the reader may open."""

    agreement: Agreement
    on: date
    verdict: rules.Verdict
    arrived_wan: Decimal  # 资金到位 reported so far
    arrival_rate: Decimal | None  # arrived ÷ committed, %
    fixed_so_far_wan: Decimal  # cumulative fixed-asset investment of the periods ended
    intensity: Decimal | None  # that ÷ land (万元/亩)
    actuals: list
    acceptances: list
    readable_applications: set


def agreement_page(*, user, pk: int, on: date, today: date | None = None) -> AgreementPage:
    """The agreement page of an agreement `user` may read (404 otherwise): a constant number
    of queries whatever the number of obligations, actuals or acceptances."""
    from django.db.models import prefetch_related_objects

    from ..models import Application
    from .models import ClawbackProposal, Metric

    today = today or timezone.localdate()
    agreement = agreement_get(user=user, pk=pk)
    # agreement_get has read the acceptances (with who confirmed them); add their proposals.
    prefetch_related_objects([agreement], Prefetch(
        "acceptances__proposals",
        queryset=ClawbackProposal.objects.select_related("decided_by").order_by("pk")))
    # The remedies name their obligation and incentive: point them at the rows already read.
    obligations = {o.pk: o for o in agreement.obligations.all()}
    incentives = {i.pk: i for i in agreement.incentives.all()}
    for remedy in agreement.remedies.all():
        remedy.obligation = obligations.get(remedy.obligation_id)
        remedy.incentive = incentives.get(remedy.incentive_id)
    verdict = verdict_for(agreement, on)
    ended = rules.Facts(land_mu=agreement.land_mu, grace_days=agreement.grace_days,
                        actuals=list(agreement.actuals.all()), reached=[], orders={})
    fixed = rules.cumulative_actual(Metric.FIXED_ASSET_INVESTMENT, ended, today)
    arrived = sum((a.funds_arrived_wan for a in agreement.actuals.all()), Decimal("0"))
    application_ids = {i.application_id for i in agreement.incentives.all() if i.application_id}
    application_ids |= {p.application_id for a in agreement.acceptances.all()
                        for p in a.proposals.all()}
    readable = set(Application.objects.visible_to(user).filter(pk__in=application_ids)
                   .values_list("pk", flat=True)) if application_ids else set()
    return AgreementPage(
        agreement=agreement, on=on, verdict=verdict, arrived_wan=arrived,
        arrival_rate=rules.percent(arrived, agreement.committed_investment_wan),
        fixed_so_far_wan=fixed,
        intensity=rules.cumulative_actual(Metric.INVESTMENT_INTENSITY, ended, today),
        actuals=list(Actual.objects.filter(agreement=agreement)
                     .select_related("recorded_by").order_by("period_start")),
        acceptances=list(agreement.acceptances.all()), readable_applications=readable)


def obligation_list(*, user, filters):
    """The fulfilment list and its export: the readable obligations, filtered
    (filters.ObligationFilter; its .qs is the list)."""
    from .filters import ObligationFilter

    return ObligationFilter(filters, queryset=obligation_queryset(user=user))


# --- The leaders' watch list (added with the dashboards' fulfilment block) ----------------------
def _readable_obligations(user):
    """Obligation.objects narrowed to the agreements `user` may read; for leaders (who read
    every agreement) not at all: an IN over every agreement costs the grouped reads below a
    third of their time at 400,000 obligations."""
    agreements = Agreement.objects.visible_to(user)
    if not agreements.query.where and not agreements.query.is_empty():
        return Obligation.objects.all()
    return Obligation.objects.filter(agreement__in=agreements.values("pk"))


def obligation_status_counts(*, user) -> dict[str, int]:
    """Per stored status, how many readable obligations have it (the fulfilment list's total
    for ?status=). One grouped query on the status index."""
    counts = dict.fromkeys(Status.values, 0)
    counts.update(_readable_obligations(user).values("status").order_by()
                  .annotate(n=Count("pk")).values_list("status", "n"))
    return counts


def projects_at_risk(*, user, limit: int | None = 10) -> tuple[list[dict], int]:
    """The readable projects with a breached obligation, then those with one due soon or
    missed (models.AT_RISK_STATUSES), worst first: per project its obligations breached and at
    risk and the earliest of their dates. Rows carry the project's name and `confidential`:
    a caller naming them to someone else checks who may open them. Returns (rows, how many
    projects in all); three queries (the grouped counts, the names of the rows kept, the
    total)."""
    from django.db.models import Min

    from leads.models import Project

    watched = (_readable_obligations(user)
               .filter(status__in=(Status.BREACHED, *AT_RISK_STATUSES))
               .values("agreement__project_id").order_by())
    rows = (watched
            .annotate(breached=Count("pk", filter=Q(status=Status.BREACHED)),
                      at_risk=Count("pk", filter=Q(status__in=AT_RISK_STATUSES)),
                      first_due=Min("due_on"))
            .order_by("-breached", "-at_risk", "first_due", "agreement__project_id"))
    rows = list(rows[:limit] if limit is not None else rows)
    projects = {p["pk"]: p for p in Project.objects.filter(
        pk__in=[r["agreement__project_id"] for r in rows]).values(
        "pk", "name", "confidential", "owner_id", "owner__full_name", "owner__username")}
    result = []
    for r in rows:
        project = projects[r["agreement__project_id"]]
        result.append({"project_id": project["pk"], "name": project["name"],
                       "confidential": project["confidential"], "owner_id": project["owner_id"],
                       "owner": project["owner__full_name"] or project["owner__username"],
                       "breached": r["breached"], "at_risk": r["at_risk"],
                       "first_due": r["first_due"]})
    return result, watched.distinct().count()
