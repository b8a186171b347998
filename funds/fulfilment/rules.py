"""The fulfilment rules, each written once: what an obligation's actual is, when it is on
track, due soon, met, missed or breached, what an acceptance verdict is and what its remedy
clauses cost. Pure functions over what `Facts` gathers (one agreement's obligations, actuals,
stage dates and incentive money), so the stored status, the acceptance report, the payment
guard, the reminders and the tests all ask the same question the same way.

How each kind of metric is read (models.CUMULATIVE_METRICS, YEARLY_METRICS, MILESTONE_METRICS):
- cumulative (investment, fixed-asset investment, intensity, jobs): the sum of the actuals of
  the periods that ended on or before the day (jobs: the last headcount reported), against
  the target by its due date;
- yearly (output, tax, tax per mu): the calendar year that ended last, from the year the
  obligation applies from; the year's actuals are summed;
- milestones: met on the day the project first reached the matching stage, or a later one on
  the path (the stage events hold the day, so nobody types it).
A shortfall is missed until the agreement's grace period has passed, then breached. A figure
reached late still counts as met from the day it is reached: the breach is cured.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from leads.models import Stage

from .models import (
    MILESTONE_METRICS,
    PER_MU_METRICS,
    YEARLY_METRICS,
    Metric,
    Remedy,
    Status,
)

# An obligation whose date is this close is "due soon" (and the first milestone reminder's
# distance, notifications' default rule milestone-due-30d).
DUE_SOON_DAYS = 30
# Actuals of a period are expected within this many days of its end (the statistics office's
# month-and-a-half is 45; the county asks its parks for 15): the default rule actuals-missing-15d.
ACTUALS_DUE_DAYS = 15
# The county and city floors for land-based projects (docs/seeds, 昆山 and 苏州 rules):
# at least 180 万元 of fixed-asset investment per mu, 10 万元 of tax per mu a year. The leaders'
# distribution reads against these where an agreement sets no target of its own.
INVESTMENT_INTENSITY_FLOOR_WAN_PER_MU = Decimal("180")
TAX_PER_MU_FLOOR_WAN = Decimal("10")

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")

# Which stage milestone meets which obligation milestone; where no stage carries a milestone
# (few cities have a 竣工 stage), the next one in this order stands for it: a project that
# produces has completed construction.
MILESTONE_STAGE = {
    Metric.LAND_ACQUIRED: Stage.Milestone.LANDED,
    Metric.CONSTRUCTION_STARTED: Stage.Milestone.STARTED,
    Metric.COMPLETED: Stage.Milestone.COMPLETED,
    Metric.PRODUCTION_STARTED: Stage.Milestone.PRODUCING,
    Metric.FULL_CAPACITY: Stage.Milestone.FULL_CAPACITY,
}


def milestone_orders() -> dict[str, int]:
    """Obligation milestone → the path order a project must reach to meet it. One query."""
    first_order: dict[str, int] = {}
    for milestone, order in (Stage.objects.filter(is_active=True, kind__in=("open", "won"))
                             .exclude(milestone="").order_by("order")
                             .values_list("milestone", "order")):
        first_order.setdefault(milestone, order)
    orders: dict[str, int] = {}
    metrics = list(MILESTONE_METRICS)
    for index, metric in enumerate(metrics):
        for later in metrics[index:]:
            order = first_order.get(MILESTONE_STAGE[later])
            if order is not None:
                orders[metric] = order
                break
    return orders


@dataclass
class Facts:
    """Everything the rules read about one agreement."""

    land_mu: Decimal | None
    grace_days: int
    actuals: list  # Actual rows (or anything with their fields), any order
    reached: list[tuple[int, date]]  # (path order, day) of each stage event on the path
    orders: dict[str, int]  # milestone_orders()

    def reached_on(self, metric: str) -> date | None:
        order = self.orders.get(metric)
        if order is None:
            return None
        days = [day for stage_order, day in self.reached if stage_order >= order]
        return min(days) if days else None


@dataclass
class State:
    status: str
    actual: Decimal | None = None  # in the metric's unit (milestones: None)
    due_on: date | None = None  # the date the status is judged against
    met_on: date | None = None  # milestones: the day the stage was reached
    year: int | None = None  # yearly metrics: the year judged
    shortfall: Decimal = Decimal("0")
    shortfall_ratio: Decimal = Decimal("0")  # shortfall ÷ target, 0 to 1
    breached_on: date | None = None

    @property
    def failed(self) -> bool:
        return self.status in (Status.MISSED, Status.BREACHED)


def _per_mu(value: Decimal, land_mu: Decimal | None) -> Decimal | None:
    if not land_mu:
        return None
    return (value / land_mu).quantize(CENT, rounding=ROUND_HALF_UP)


def cumulative_actual(metric: str, facts: Facts, on: date) -> Decimal | None:
    """A cumulative figure as of `on`: the periods ended by then."""
    ended = [a for a in facts.actuals if a.period_end <= on]
    if metric == Metric.JOBS:
        reported = sorted((a for a in ended if a.jobs is not None), key=lambda a: a.period_end)
        return Decimal(reported[-1].jobs) if reported else Decimal("0")
    if metric == Metric.INVESTMENT_TOTAL:
        return sum((a.investment_wan for a in ended), Decimal("0"))
    fixed = sum((a.fixed_asset_investment_wan for a in ended), Decimal("0"))
    if metric == Metric.INVESTMENT_INTENSITY:
        return _per_mu(fixed, facts.land_mu)
    return fixed


def yearly_actual(metric: str, facts: Facts, year: int) -> Decimal | None:
    """A yearly figure: the sum over the periods that started in `year`."""
    rows = [a for a in facts.actuals if a.period_start.year == year]
    if metric == Metric.OUTPUT_VALUE:
        return sum((a.output_value_wan for a in rows), Decimal("0"))
    tax = sum((a.tax_wan for a in rows), Decimal("0"))
    return _per_mu(tax, facts.land_mu) if metric == Metric.TAX_PER_MU else tax


def _by_date(due: date, on: date, grace_days: int) -> str:
    """Not met yet: where `on` stands against the due date and the grace after it."""
    if on < due - timedelta(days=DUE_SOON_DAYS):
        return Status.ON_TRACK
    if on <= due:
        return Status.DUE_SOON
    if on <= due + timedelta(days=grace_days):
        return Status.MISSED
    return Status.BREACHED


def _shortfall(target: Decimal, actual: Decimal | None) -> tuple[Decimal, Decimal]:
    actual = actual or Decimal("0")
    short = max(target - actual, Decimal("0"))
    return short, (short / target).quantize(RATIO, rounding=ROUND_HALF_UP)


def obligation_state(obligation, facts: Facts, on: date) -> State:
    """The status of one obligation on `on`, with the figures behind it."""
    metric, grace = obligation.metric, facts.grace_days
    if metric in MILESTONE_METRICS:
        met_on = facts.reached_on(metric)
        if met_on is not None and met_on <= on:
            return State(Status.MET, due_on=obligation.due_on, met_on=met_on)
        status = _by_date(obligation.due_on, on, grace)
        state = State(status, due_on=obligation.due_on)
        if status in (Status.MISSED, Status.BREACHED):
            state.shortfall_ratio = Decimal("1")
        if status == Status.BREACHED:
            state.breached_on = obligation.due_on + timedelta(days=grace + 1)
        return state
    target = obligation.target
    if metric in YEARLY_METRICS:
        year = on.year - 1 if on < date(on.year, 12, 31) else on.year
        first_end = date(obligation.applies_from, 12, 31)
        if year < obligation.applies_from:
            status = Status.DUE_SOON if on >= first_end - timedelta(days=DUE_SOON_DAYS) \
                else Status.ON_TRACK
            return State(status, due_on=first_end)
        actual = yearly_actual(metric, facts, year)
        year_end = date(year, 12, 31)
        state = State(Status.MET, actual=actual, due_on=year_end, year=year)
        if actual is not None and actual >= target:
            return state
        state.shortfall, state.shortfall_ratio = _shortfall(target, actual)
        if on <= year_end + timedelta(days=grace):
            state.status = Status.MISSED
        else:
            state.status = Status.BREACHED
            state.breached_on = year_end + timedelta(days=grace + 1)
        return state
    actual = cumulative_actual(metric, facts, on)
    state = State(Status.MET, actual=actual, due_on=obligation.due_on)
    if actual is not None and actual >= target:
        return state
    state.status = _by_date(obligation.due_on, on, grace)
    if state.status in (Status.MISSED, Status.BREACHED):
        state.shortfall, state.shortfall_ratio = _shortfall(target, actual)
    if state.status == Status.BREACHED:
        state.breached_on = obligation.due_on + timedelta(days=grace + 1)
    return state


def is_due(state: State, on: date) -> bool:
    """Has the obligation's date come by `on` (so it counts in 履约率 and an acceptance)? A
    figure met early has its date still ahead, and is not yet due."""
    if state.year is not None:
        return True
    return state.due_on is not None and state.due_on <= on


def needs_land(metric: str) -> bool:
    return metric in PER_MU_METRICS


# --- Acceptance (达产验收) and what the remedies cost ---------------------------------------------
@dataclass
class IncentiveMoney:
    """One incentive's money as of the acceptance date: paid net of clawbacks, and unpaid
    (what is promised or approved and not yet paid)."""

    incentive_id: int
    application_id: int | None
    paid: Decimal
    unpaid: Decimal


@dataclass
class RemedyLine:
    remedy: Remedy
    triggered: bool
    due_back: Decimal = Decimal("0")  # clawbacks and penalties: money to come back
    withheld: Decimal = Decimal("0")  # incentives not to be paid
    by_application: dict[int, Decimal] = field(default_factory=dict)  # clawbacks per application
    explanation: str = ""


@dataclass
class Verdict:
    on: date
    passed: bool
    rows: list  # (obligation, State, due: bool)
    remedies: list[RemedyLine]

    @property
    def due_back(self) -> Decimal:
        return sum((line.due_back for line in self.remedies), Decimal("0"))

    @property
    def withheld(self) -> Decimal:
        return sum((line.withheld for line in self.remedies), Decimal("0"))

    @property
    def shortfalls(self) -> list:
        return [(obligation, state) for obligation, state, due in self.rows
                if due and state.failed]

    def clawbacks(self) -> dict[int, Decimal]:
        """Per application, the clawback the remedies imply, never more than was paid."""
        total: dict[int, Decimal] = {}
        for line in self.remedies:
            for application_id, amount in line.by_application.items():
                total[application_id] = total.get(application_id, Decimal("0")) + amount
        return {pk: amount for pk, amount in total.items() if amount > 0}


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def acceptance_verdict(obligations: Iterable, remedies: Iterable[Remedy],
                       money: list[IncentiveMoney], facts: Facts, on: date) -> Verdict:
    """The acceptance report for `on`: every obligation's state, whether its date has come,
    the verdict (pass when every obligation due by then is met) and each remedy clause's
    consequence. A remedy is triggered by a failure of its obligation, or of any obligation
    when it names none; a proportional clawback takes the shortfall ratio of that obligation
    (the largest one, for "any") × rate × what was paid; clawbacks per application never
    exceed what it was paid."""
    rows = []
    for obligation in obligations:
        state = obligation_state(obligation, facts, on)
        rows.append((obligation, state, is_due(state, on)))
    failed = {obligation.pk: state for obligation, state, due in rows if due and state.failed}
    lines = []
    paid_left = {m.application_id: m.paid for m in money if m.application_id}
    for remedy in remedies:
        if remedy.obligation_id is not None:
            trigger = failed.get(remedy.obligation_id)
            ratio = trigger.shortfall_ratio if trigger else Decimal("0")
        else:
            trigger = next(iter(failed.values()), None)
            ratio = max((s.shortfall_ratio for s in failed.values()), default=Decimal("0"))
        line = RemedyLine(remedy=remedy, triggered=trigger is not None
                          and remedy.kind != Remedy.Kind.NONE)
        lines.append(line)
        if not line.triggered:
            continue
        scope = [m for m in money if remedy.incentive_id in (None, m.incentive_id)]
        if remedy.kind == Remedy.Kind.FIXED_PENALTY:
            line.due_back = _money(remedy.amount_yuan)
            line.explanation = _("Fixed penalty")
        elif remedy.kind == Remedy.Kind.WITHHOLD:
            line.withheld = _money(sum((m.unpaid for m in scope), Decimal("0")))
            line.explanation = _("Unpaid incentives withheld")
        else:
            share = Decimal("1") if remedy.kind == Remedy.Kind.FULL_CLAWBACK \
                else ratio * remedy.rate
            for m in scope:
                if not m.application_id:
                    continue
                amount = min(_money(m.paid * share), paid_left.get(m.application_id, 0))
                if amount > 0:
                    paid_left[m.application_id] -= amount
                    line.by_application[m.application_id] = (
                        line.by_application.get(m.application_id, Decimal("0")) + amount)
            line.due_back = sum(line.by_application.values(), Decimal("0"))
            line.explanation = (_("All incentives paid") if share == 1 else
                                _("Shortfall ratio %(ratio)s × rate %(rate)s × paid") % {
                                    "ratio": f"{ratio:.2%}", "rate": remedy.rate})
    return Verdict(on=on, passed=not failed, rows=rows, remedies=lines)


def fulfilment_rate(met: int, due: int) -> Decimal | None:
    """履约率: the share of due obligations met, as a percentage with one decimal."""
    if not due:
        return None
    return (Decimal(met) * 100 / due).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def percent(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """A share as a percentage with one decimal (资金到位率: funds arrived ÷ committed)."""
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(Decimal("0.1"),
                                                                  rounding=ROUND_HALF_UP)


def return_ratio(tax_wan: Decimal | None, incentives_yuan: Decimal | None) -> Decimal | None:
    """投入产出比: tax returned (万元 → 元) per yuan of incentives paid, two decimals."""
    if not incentives_yuan:
        return None
    return (Decimal(tax_wan or 0) * 10000 / Decimal(incentives_yuan)).quantize(
        CENT, rounding=ROUND_HALF_UP)
