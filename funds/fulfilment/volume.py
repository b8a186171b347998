"""Volume data for benchmarks (`seed_demo --scale N`, N > 1): an agreement for every signed
volume project (some 770×N), with its obligations, incentives, remedies and the actuals of
every reporting period that has ended, written in bulk (crm.core.bulk: COPY on PostgreSQL)
after leads' and funds' volume (see leads/volume.py for why not through the services).

Statuses are stored as the rules judge them today: rules.obligation_state over the rows in
memory (the same Facts services.obligations_refresh gathers from the database), so a city's
worth of obligations is judged in seconds instead of one read-judge-update batch after another.
`bench/fulfilment_bench.py` times obligations_refresh over all of them and checks that it
changes nothing.

Dates: leads' volume signs every project within the last sixteen months, which leaves a
timeline no more than one ended year long. A bureau's agreements run for years, and the bench
should read years of actuals, so each volume agreement is dated back whole years before its
project's (first) signing, the more the further the project has come (YEARS_BACK). That is a
shape for the bench, not a story: the demo's agreements (demo.py) keep their project's day.
Deterministic (ctx.rng).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.utils import timezone

from crm.core.bulk import analyze, bulk_write, reserve_ids
from crm.core.demo import SeedContext, register_seeder
from crm.core.figures import figures_changed
from leads.models import PATH_KINDS, Project, StageEvent
from leads.volume import volume_scale

from ..models import Application, Programme
from . import rules
from .demo import EVIDENCE, NOT_GRANTED, SUBSIDY_KINDS
from .models import Actual, Agreement, Incentive, Metric, Obligation, Remedy, Status

VOLUME_TITLE = "[V] 投资协议"
CENT = Decimal("0.01")
# How much of its word a volume project keeps (share of the committed investment and of the
# expected output, tax and jobs it reaches), with weights: most keep it, some fall short.
KEEPS = [(Decimal("1.1"), 40), (Decimal("0.95"), 30), (Decimal("0.6"), 20), (Decimal("0.25"), 10)]
# Years an agreement is dated back before its project's signing, by how far the project has
# come: one producing today signed years ago; one just registered, this year.
YEARS_BACK = {"signed": (0,), "registered": (0, 0, 1), "landed": (0, 1, 1, 2),
              "started": (1, 2, 2, 3), "producing": (2, 3, 3, 4), "full_capacity": (3, 4)}
INTENSITIES = [Decimal(v) for v in (200, 240, 280, 320)]  # committed 万元/亩, above the floor
INVESTMENT_CURVE = (Decimal("0.3"), Decimal("0.7"), Decimal("1.0"), Decimal("1.05"),
                    Decimal("1.08"))
RAMP = (Decimal("0.2"), Decimal("0.6"), Decimal("1.0"), Decimal("1.05"), Decimal("1.1"))


class ObligationRow(NamedTuple):  # what rules.obligation_state reads of an obligation
    metric: str
    target: Decimal | None
    due_on: date | None
    applies_from: int | None


class ActualRow(NamedTuple):  # what the rules read of an actual
    period_start: date
    period_end: date
    investment_wan: Decimal
    fixed_asset_investment_wan: Decimal
    funds_arrived_wan: Decimal
    output_value_wan: Decimal
    tax_wan: Decimal
    jobs: int | None


def _months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def _years_back(day: date, years: int) -> date:
    return date(day.year - years, day.month, min(day.day, 28))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _periods(signed: date, quarterly: bool, today: date) -> list[tuple[date, date, int]]:
    if not quarterly:
        return [(date(y, 1, 1), date(y, 12, 31), y - signed.year)
                for y in range(signed.year, today.year)]
    periods, start = [], date(signed.year, 3 * ((signed.month - 1) // 3) + 1, 1)
    while (end := _months(start, 3) - timedelta(days=1)) < today:
        periods.append((start, end, start.year - signed.year))
        start = _months(start, 3)
    return periods


@register_seeder("fulfilment-volume", order=75)
def seed_fulfilment_volume(ctx: SeedContext) -> None:
    scale = volume_scale(ctx)
    if scale <= 1 or Agreement.objects.filter(title__startswith="[V]").exists():
        return
    rng, today = ctx.rng, ctx.today
    low, high = ctx.shared.get("volume_project_range") or (
        Project.objects.order_by("pk").values_list("pk", flat=True).first(),
        Project.objects.order_by("-pk").values_list("pk", flat=True).first())
    projects = list(Project.objects.filter(pk__gte=low, pk__lte=high, signed_on__isnull=False,
                                           agreements__isnull=True)
                    .order_by("pk").values_list(
                        "pk", "signed_on", "agreed_investment_wan", "fixed_asset_wan",
                        "expected_output_wan", "expected_tax_wan", "expected_jobs",
                        "space_use", "owner_id", "company__name", "stage__code"))
    if not projects:
        return
    reached: dict[int, list] = defaultdict(list)
    for project_id, order, at in (StageEvent.objects.filter(
            project_id__gte=low, project_id__lte=high, to_stage__kind__in=PATH_KINDS)
            .values_list("project_id", "to_stage__order", "at").iterator(10_000)):
        reached[project_id].append((order, timezone.localdate(at)))
    orders = rules.milestone_orders()
    subsidy_programmes = list(Programme.objects.filter(kind__in=SUBSIDY_KINDS)
                              .order_by("code").values_list("pk", flat=True))
    applications = {project_id: (pk, programme_id) for pk, project_id, programme_id in
                    Application.objects.filter(project_id__gte=low, project_id__lte=high)
                    .exclude(state__in=NOT_GRANTED).order_by("-pk")
                    .values_list("pk", "project_id", "programme_id")}
    keeps = [k for k, weight in KEEPS for _ in range(weight)]

    first_agreement = reserve_ids(Agreement, len(projects))
    agreement_rows, obligation_rows, actual_rows, incentive_rows, remedy_rows = \
        [], [], [], [], []
    pending_remedies = []  # (agreement id, obligation key, incentive offset) until ids are known
    counts: dict[str, int] = defaultdict(int)
    for offset, (project_id, project_signed, agreed, fixed, output, tax, jobs, use, owner,
                 company, stage) in enumerate(projects):
        pk = first_agreement + offset
        signed = _years_back(project_signed, rng.choice(YEARS_BACK.get(stage, (0,))))
        committed = agreed or Decimal("1000")
        fixed = min(fixed or committed * Decimal("0.6"), committed)
        land = use in ("factory", "warehouse") and rng.random() < 0.7
        land_mu = max((fixed / rng.choice(INTENSITIES)).quantize(Decimal("1")),
                      Decimal("5")) if land else None
        quarterly = not land and rng.random() < 0.25
        grace = 180 if land else 90
        agreement_rows.append((
            pk, project_id, f"{VOLUME_TITLE}{project_id}", f"某区人民政府；{company}", signed,
            "", land_mu, None if land else Decimal(rng.randint(3, 60) * 100), committed, fixed,
            "quarter" if quarterly else "year", grace, "", owner,
            _aware(signed), _aware(signed)))
        expected_tax = tax or committed * Decimal("0.05")
        headcount = Decimal(jobs or 50)
        obligations: dict[str, ObligationRow] = {}
        if land:
            obligations.update(
                land=ObligationRow(Metric.LAND_ACQUIRED, None, _months(signed, 4), None),
                started=ObligationRow(Metric.CONSTRUCTION_STARTED, None, _months(signed, 9),
                                      None),
                completed=ObligationRow(Metric.COMPLETED, None, _months(signed, 24), None),
                producing=ObligationRow(Metric.PRODUCTION_STARTED, None, _months(signed, 30),
                                        None),
                fixed=ObligationRow(Metric.FIXED_ASSET_INVESTMENT, _money(fixed),
                                    _months(signed, 30), None),
                intensity=ObligationRow(Metric.INVESTMENT_INTENSITY,
                                        rules.INVESTMENT_INTENSITY_FLOOR_WAN_PER_MU,
                                        _months(signed, 30), None),
                tax_per_mu=ObligationRow(Metric.TAX_PER_MU, rules.TAX_PER_MU_FLOOR_WAN, None,
                                         signed.year + 2),
                jobs=ObligationRow(Metric.JOBS, headcount, _months(signed, 36), None))
        else:
            obligations.update(
                producing=ObligationRow(Metric.PRODUCTION_STARTED, None, _months(signed, 12),
                                        None),
                investment=ObligationRow(Metric.INVESTMENT_TOTAL, _money(committed),
                                         _months(signed, 24), None),
                tax=ObligationRow(Metric.TAX, _money(expected_tax * Decimal("0.6")), None,
                                  signed.year + 2),
                jobs=ObligationRow(Metric.JOBS, headcount, _months(signed, 24), None))
        # Actuals of every period that has ended, as the project keeps its word.
        keep = rng.choice(keeps)
        per_year = Decimal(4 if quarterly else 1)
        actuals, done = [], Decimal("0")
        for start, end, k in _periods(signed, quarterly, today):
            curve = INVESTMENT_CURVE[min(k, len(INVESTMENT_CURVE) - 1)] * keep
            if quarterly:
                investment = _money(committed * INVESTMENT_CURVE[0] * keep / per_year)
            else:
                investment = max(_money(committed * curve) - done, Decimal("0"))
            done += investment
            ramp = RAMP[min(k, len(RAMP) - 1)] * keep
            actuals.append(ActualRow(
                start, end, investment, _money(investment * fixed / committed),
                _money(investment * Decimal("0.95")),
                _money((output or Decimal("0")) * ramp / per_year),
                _money(expected_tax * ramp / per_year),
                int(headcount * min(Decimal("0.4") + Decimal("0.3") * k, Decimal("1")) * keep)))
        facts = rules.Facts(land_mu=land_mu, grace_days=grace, actuals=actuals,
                            reached=reached.get(project_id, []), orders=orders)
        keys = {}
        for key, obligation in obligations.items():
            state = rules.obligation_state(obligation, facts, today)
            counts[state.status] += 1
            keys[key] = len(obligation_rows)
            obligation_rows.append([
                pk, obligation.metric, obligation.target, obligation.due_on,
                obligation.applies_from, EVIDENCE[obligation.metric], state.status,
                state.actual, today,
                state.breached_on if state.status == Status.BREACHED else None])
        actual_rows += [(pk, *a, "", "", owner, _aware(a.period_end, 20))
                        for a in actuals]
        # One incentive: the project's fund application where it has one, else a promise
        # under a subsidy programme; remedies: clawback on the key figure, withholding on any.
        application = applications.get(project_id)
        programme = application[1] if application else rng.choice(subsidy_programmes)
        incentive = len(incentive_rows)
        incentive_rows.append(["subsidy", "扶持资金", programme,
                               application[0] if application else None,
                               _money(fixed * rng.choice((50, 100, 200))), None, None, pk])
        pending_remedies.append((pk, keys["intensity" if land else "tax"], incentive))
    first_obligation = reserve_ids(Obligation, len(obligation_rows))
    first_incentive = reserve_ids(Incentive, len(incentive_rows))
    for agreement_id, obligation, incentive in pending_remedies:
        remedy_rows.append((agreement_id, Remedy.Kind.PROPORTIONAL_CLAWBACK,
                            first_obligation + obligation, first_incentive + incentive,
                            Decimal("1"), None))
        remedy_rows.append((agreement_id, Remedy.Kind.WITHHOLD, None, None, None, None))
    bulk_write(Agreement, ["id", "project_id", "title", "parties", "signed_on", "document",
                           "land_mu", "space_m2", "committed_investment_wan",
                           "fixed_asset_investment_wan", "reporting", "grace_days", "note",
                           "created_by_id", "created_at", "updated_at"], agreement_rows)
    bulk_write(Obligation, ["id", "agreement_id", "metric", "target", "due_on", "applies_from",
                            "evidence", "status", "actual", "checked_on", "breached_on"],
               ((first_obligation + n, *row) for n, row in enumerate(obligation_rows)))
    bulk_write(Actual, ["agreement_id", "period_start", "period_end", "investment_wan",
                        "fixed_asset_investment_wan", "funds_arrived_wan", "output_value_wan",
                        "tax_wan", "jobs", "evidence", "note", "recorded_by_id", "recorded_at"],
               actual_rows)
    bulk_write(Incentive, ["id", "kind", "description", "programme_id", "application_id",
                           "amount_yuan", "rent_free_months", "land_price_yuan_per_mu",
                           "agreement_id"],
               ((first_incentive + n, *row) for n, row in enumerate(incentive_rows)))
    bulk_write(Remedy, ["agreement_id", "kind", "obligation_id", "incentive_id", "rate",
                        "amount_yuan"], remedy_rows)
    analyze(*(model._meta.db_table for model in (Agreement, Obligation, Actual, Incentive,
                                                 Remedy)))
    figures_changed("funds")
    ctx.log(f"  volume: {len(agreement_rows)} agreements, {len(obligation_rows)} obligations "
            f"({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}), "
            f"{len(actual_rows)} actuals")


def _aware(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)
