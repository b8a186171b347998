"""The roof's reads: each dashboard composes the apps' selectors (leads.reports for the
pipeline, parks.selectors for space, funds.selectors for budgets) and adds only what belongs to
no app: the plan targets and their progress. A fixed number of queries per dashboard, whatever
the number of projects, units or applications."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.core.dates import Period
from crm.core.figures import FigureList, cached_figures
from funds import rules as funds_rules
from funds import selectors as funds_selectors
from funds.fulfilment import models as fulfilment_models
from funds.fulfilment import selectors as fulfilment_selectors
from funds.models import WAITING_STATES
from leads import reports
from leads.models import PATH_KINDS, Industry, Project, Stage, confidential_name
from leads.reports import Row, rate
from parks import selectors as parks_selectors
from parks.models import Park

from .models import Metric, Target

YI = Decimal("10000")  # 万元 per 亿元
# What each cached figure set reads (crm/core/figures.py): a write elsewhere leaves it cached.
# The flags' thresholds are reminder rules (notifications); owners are named (accounts).
LEADER_READS = ("leads", "parks", "funds", "dashboards", "notifications", "accounts")
STAFF_READS = ("leads", "notifications")
CHAIN_READS = ("leads",)


# --- Filters ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DashboardFilters:
    period: Period
    park: Park | None = None
    industry: Industry | None = None
    owner: object | None = None  # a User

    @classmethod
    def this_year(cls, today: date) -> DashboardFilters:
        return cls(period=Period.year(today.year))

    @property
    def scope(self) -> dict:
        """The project list's parameters every project figure is narrowed by."""
        scope = {}
        if self.industry is not None:
            scope["industry"] = self.industry.code
        if self.owner is not None:
            scope["owner"] = self.owner.pk
        return scope

    def params(self) -> dict:
        params = {"date_from": self.period.start.isoformat(),
                  "date_to": self.period.end.isoformat(), **self.scope}
        if self.park is not None:
            params["park"] = self.park.pk
        return params

    def querystring(self) -> str:
        return urlencode(self.params())

    @property
    def scope_querystring(self) -> str:
        return urlencode(self.scope)


# --- Targets ----------------------------------------------------------------------------------
UNITS = {
    Metric.SPECIALISED_SMES: pgettext_lazy("unit of a count", "companies"),
    Metric.LEADING_FIRMS: pgettext_lazy("unit of a count", "companies"),
    Metric.SCENARIOS: _("projects"),
    Metric.CARRIER_AREA: "m²",
    Metric.INDUSTRY_OUTPUT: _("CNY 100M"),
}
DEFINITIONS = {
    Metric.SPECIALISED_SMES: _("Companies holding a specialised-SME or 'little giant' "
                               "qualification with a project first signed in the period."),
    Metric.LEADING_FIRMS: _("Chain leaders (链主) with a project first signed in the period."),
    Metric.SCENARIOS: _("Projects first signed in the period whose company is on the "
                        "application scenarios node of the chain."),
    Metric.CARRIER_AREA: _("Rentable building space of the parks in the inventory today "
                           "(land parcels excluded)."),
    Metric.INDUSTRY_OUTPUT: _("Expected annual output of the projects first signed in the "
                              "period, in CNY 100M."),
}


@dataclass
class TargetProgress:
    target: Target
    actual: Decimal
    url: str | None

    @property
    def unit(self) -> str:
        return str(UNITS[self.target.metric])

    @property
    def counts_list(self) -> bool:
        """The actual is the number of projects its list shows (not a sum or a firm count)."""
        return self.target.metric == Metric.SCENARIOS

    @property
    def places(self) -> int:
        """Decimals shown: counts and m² are whole, 亿元 has two."""
        return 2 if self.target.metric == Metric.INDUSTRY_OUTPUT else 0

    @property
    def definition(self) -> str:
        return str(DEFINITIONS[self.target.metric])

    @property
    def percent(self) -> Decimal | None:
        return rate(self.actual, self.target.value)


def _carrier_area(target: Target, rows, park_cities: dict[int, str]) -> Decimal:
    def counts(row) -> bool:
        if target.park_id:
            return row.park_id == target.park_id
        return not target.city or park_cities.get(row.park_id) == target.city

    return sum((row.rentable for row in rows if counts(row)), Decimal("0"))


def _carrier_url(target: Target) -> str:
    if target.park_id:
        return reverse("parks:occupancy") + f"?park={target.park_id}"
    return reverse("parks:park-list")


def target_progress(*, user, today: date, occupancy_rows=None) -> list[TargetProgress]:
    """Every target with its computed actual. Queries: the targets, two for the project and
    company figures of all their periods, the parks' cities, and the occupancy report unless
    the caller already has it."""
    targets = list(Target.objects.select_related("park"))
    if not targets:
        return []
    periods = list(dict.fromkeys(
        Period.years(t.year_from, t.year_to) for t in targets
        if t.metric != Metric.CARRIER_AREA))
    figures = reports.plan_figures(user=user, periods=periods)
    park_cities, rows = {}, []
    if any(t.metric == Metric.CARRIER_AREA for t in targets):
        if occupancy_rows is None:
            occupancy_rows = parks_selectors.occupancy_report(user=user, on=today)
        rows = occupancy_rows
        park_cities = dict(Park.objects.visible_to(user).values_list("pk", "city"))
    result = []
    for target in targets:
        if target.metric == Metric.CARRIER_AREA:
            actual, url = _carrier_area(target, rows, park_cities), _carrier_url(target)
        else:
            plan = figures[Period.years(target.year_from, target.year_to)]
            actual, url = {
                Metric.SPECIALISED_SMES: (Decimal(plan.specialised_smes), None),
                Metric.LEADING_FIRMS: (Decimal(plan.leading_firms), None),
                Metric.SCENARIOS: (Decimal(plan.scenarios), plan.scenarios_url),
                Metric.INDUSTRY_OUTPUT: ((plan.expected_output_wan / YI).quantize(
                    Decimal("0.01")), plan.signed_url),
            }[target.metric]
        result.append(TargetProgress(target=target, actual=actual, url=url))
    return result


# --- Park space and funds ------------------------------------------------------------------
@dataclass
class Occupancy:
    on: date
    rows: list
    total: object  # parks.selectors.OccupancyRow
    url: str


def occupancy(*, user, on: date, park=None, rows=None) -> Occupancy:
    rows = parks_selectors.occupancy_report(user=user, on=on) if rows is None else rows
    if park is not None:
        rows = [row for row in rows if row.park_id == park.pk]
    url = reverse("parks:occupancy") + f"?on={on.isoformat()}" + (
        f"&park={park.pk}" if park is not None else "")
    return Occupancy(on=on, rows=rows, total=parks_selectors.occupancy_total(rows), url=url)


@dataclass
class FundBudget:
    years: tuple[int, int]
    programmes: list  # (programme, funds.selectors.ProgrammeFigures)
    budget: Decimal = Decimal("0")
    approved: Decimal = Decimal("0")
    paid: Decimal = Decimal("0")
    url: str = ""

    @property
    def approved_percent(self) -> Decimal | None:
        return rate(self.approved, self.budget)

    @property
    def paid_percent(self) -> Decimal | None:
        return rate(self.paid, self.budget)


def fund_budget(*, user, period: Period) -> FundBudget:
    """The programmes of the period's years: budget, approved (committed) and paid. One query."""
    programmes = funds_selectors.programme_list(user=user).filter(
        year__gte=period.start.year, year__lte=period.end.year)
    budget = FundBudget(years=(period.start.year, period.end.year), programmes=[],
                        url=reverse("funds:programme-list"))
    for programme in programmes:
        figures = funds_selectors.programme_figures(programme)
        budget.programmes.append((programme, figures))
        budget.budget += figures.budget
        budget.approved += figures.approved
        budget.paid += figures.paid
    return budget


# --- The leader dashboard -----------------------------------------------------------------
@dataclass
class LeaderDashboard:
    filters: DashboardFilters
    today: date
    summary: reports.Summary
    by_stage: list
    funnel: list
    signed: reports.SignedBreakdowns
    cohorts: list
    durations: list
    lost_reasons: list[Row]
    flagged: list
    chain: list
    targets: list[TargetProgress]
    occupancy: Occupancy
    funds: FundBudget
    stages: list = field(default_factory=list)
    computed_at: datetime | None = None  # set when cached (crm/core/figures.py)

    @property
    def signed_arrival_rate(self):
        """资金到位率 of the period's signings."""
        return rate(self.summary.signed_arrived_wan, self.summary.signed_amount_wan)


def leader_dashboard(*, user, filters: DashboardFilters, today: date) -> LeaderDashboard:
    """Cached until anything it counts changes (crm/core/figures.py)."""
    return cached_figures(
        "leader", user=user, params={**filters.params(), "today": today}, reads=LEADER_READS,
        compute=lambda: _leader_dashboard(user=user, filters=filters, today=today))


def _leader_dashboard(*, user, filters: DashboardFilters, today: date) -> LeaderDashboard:
    stages = list(Stage.objects.all())
    nodes = reports.chain_nodes()
    scope, period = reports.ProjectScope(user=user, params=filters.scope), filters.period
    # Space is reported on the period's last day, or today while the period runs. The
    # rentable area behind the carrier targets does not depend on the day.
    on = min(today, period.end)
    all_parks = parks_selectors.occupancy_report(user=user, on=on)
    return LeaderDashboard(
        filters=filters, today=today, stages=stages,
        summary=reports.pipeline_summary(scope=scope, period=period, today=today,
                                         stages=stages),
        by_stage=reports.pipeline_by_stage(scope=scope, stages=stages),
        funnel=reports.funnel(scope=scope, period=period, stages=stages),
        signed=reports.signed_breakdowns(scope=scope, period=period, nodes=nodes),
        cohorts=reports.cohorts(scope=scope, stages=stages, until_year=period.end.year),
        durations=reports.median_days_by_stage(scope=scope, period=period, stages=stages),
        lost_reasons=reports.lost_reasons(scope=scope),
        flagged=reports.flagged_projects(scope=scope, today=today, stages=stages),
        chain=reports.chain_map(scope=scope, stages=stages, nodes=nodes),
        targets=target_progress(user=user, today=today, occupancy_rows=all_parks),
        occupancy=occupancy(user=user, on=on, park=filters.park, rows=all_parks),
        funds=fund_budget(user=user, period=period),
    )


@dataclass
class MonthlyReturn:
    month: Period
    year_to_date: Period
    this_month: reports.SignedBreakdowns
    cumulative: reports.SignedBreakdowns
    by_stage: list
    cohorts: list
    fulfilment: FulfilmentBlock | None = None  # as of the day the return is drawn


def monthly_return(*, user, filters: DashboardFilters, year: int, month: int
                   ) -> MonthlyReturn:
    """月报: the month's signings next to the year to date, the pipeline now and the cohorts."""
    month_period = Period.month(year, month)
    year_to_date = Period(date(year, 1, 1), month_period.end)
    stages = list(Stage.objects.all())
    scope = reports.ProjectScope(user=user, params=filters.scope)
    return MonthlyReturn(
        month=month_period, year_to_date=year_to_date,
        this_month=reports.signed_breakdowns(scope=scope, period=month_period),
        cumulative=reports.signed_breakdowns(scope=scope, period=year_to_date),
        by_stage=reports.pipeline_by_stage(scope=scope, stages=stages),
        cohorts=reports.cohorts(scope=scope, stages=stages, until_year=year),
        fulfilment=fulfilment_export_block(user=user, today=timezone.localdate()),
    )


# --- Personal dashboards ------------------------------------------------------------------
@dataclass
class StaffDashboard:
    today: date
    year: Period
    summary: reports.Summary
    by_stage: list
    due_today: list
    overdue: list
    mine_url: str | None


def staff_dashboard(*, user, today: date) -> StaffDashboard:
    """An investment officer's own projects (the list's `owner=<me>`); cached until anything
    it counts changes (crm/core/figures.py)."""
    return cached_figures("staff", user=user, params={"today": today}, reads=STAFF_READS,
                          compute=lambda: _staff_dashboard(user=user, today=today))


def _staff_dashboard(*, user, today: date) -> StaffDashboard:
    stages = list(Stage.objects.all())
    scope = reports.ProjectScope(user=user, params={"owner": user.pk})
    year = Period.year(today.year)
    return StaffDashboard(
        today=today, year=year,
        summary=reports.pipeline_summary(scope=scope, period=year, today=today, stages=stages),
        by_stage=[row for row in reports.pipeline_by_stage(scope=scope, stages=stages)
                  if row.stage.kind in PATH_KINDS],
        due_today=reports.due_projects(scope=scope, today=today, overdue=False),
        overdue=reports.due_projects(scope=scope, today=today, overdue=True),
        mine_url=reports.project_list_url(scope.params),
    )


@dataclass
class ParkManagerDashboard:
    today: date
    parks: list
    occupancy: Occupancy
    expiring: list
    expiring_counts: dict


def park_manager_dashboard(*, user, today: date) -> ParkManagerDashboard:
    """The parks this user manages: occupancy, vacancies and leases ending in 30/60/90 days."""
    parks = list(Park.objects.managed_by(user).filter(is_active=True).order_by("name"))
    park_ids = {park.pk for park in parks}
    rows = [row for row in parks_selectors.occupancy_report(user=user, on=today)
            if row.park_id in park_ids]
    windows = parks_selectors.EXPIRY_WINDOWS
    leases = list(parks_selectors.expiring_leases(user=user, on=today, within=max(windows))
                  .filter(unit__park__in=park_ids))
    counts = {days: sum(1 for lease in leases if (lease.end - today).days <= days + 1)
              for days in windows}
    return ParkManagerDashboard(
        today=today, parks=parks,
        occupancy=Occupancy(on=today, rows=rows, total=parks_selectors.occupancy_total(rows),
                            url=reverse("parks:occupancy")),
        expiring=leases, expiring_counts=counts)


@dataclass
class ReviewQueue:
    count: int
    waiting_long: int
    applications: list
    url: str
    waiting_long_url: str
    days: int  # the threshold "waiting long" counts with, in working days


def review_queue(*, user, limit: int = 10, today: date | None = None) -> ReviewQueue:
    """Applications waiting for a reviewer, longest waiting first. "Waiting long" is funds'
    one rule (ApplicationQuerySet.waiting_review) with its one threshold (the active
    funds.review_waiting reminder rule's days, funds.rules.review_waiting_days()), so the
    figure, its link to the list and the reminders count the same applications."""
    today = today or timezone.localdate()
    days = funds_rules.review_waiting_days()
    params = QueryDict(mutable=True)
    params.setlist("state", [str(s) for s in WAITING_STATES])
    waiting = funds_selectors.application_list(user=user, filters=params).qs
    long_params = params.copy()
    long_params["waiting_days"] = str(days)
    url = reverse("funds:application-list")
    return ReviewQueue(
        count=waiting.count(), waiting_long=waiting.waiting_review(days, today).count(),
        applications=list(waiting.order_by("state_changed_at", "pk")[:limit]),
        url=f"{url}?{params.urlencode()}", waiting_long_url=f"{url}?{long_params.urlencode()}",
        days=days)


def chain_map(*, user, filters: DashboardFilters) -> list:
    """The chain map is a picture of the chain now: narrowed by industry and owner, not by
    the period."""
    return cached_figures(
        "chain", user=user, params=filters.scope, reads=CHAIN_READS,
        compute=lambda: FigureList(reports.chain_map(
            scope=reports.ProjectScope(user=user, params=filters.scope))))


# --- Fulfilment of agreements (履约) --------------------------------------------------------------
# Agreements, obligations, actuals and fund money are funds' rows; milestones (stage events),
# project names and owners are leads'. A write to either recomputes the block.
FULFILMENT_READS = ("funds", "leads")
WATCH_LIMIT = 10  # projects named on the dashboard; the export names them all (to its limit)


@dataclass
class FigureLink:
    """A count and the fulfilment list that shows exactly those obligations."""

    count: int
    url: str


@dataclass
class WatchRow:
    project_id: int
    name: str
    url: str | None  # the project page, for a reader who may open it
    owner: str
    breached: int
    at_risk: int
    first_due: date | None


@dataclass
class ReturnRow:
    project_id: int
    name: str
    url: str | None
    paid_yuan: Decimal
    tax_wan: Decimal
    ratio: Decimal | None


@dataclass
class FulfilmentBlock:
    today: date
    figures: object  # funds.fulfilment.selectors.FulfilmentFigures
    list_url: str
    due: FigureLink
    met: FigureLink
    breached: FigureLink
    due_soon: FigureLink
    missed: FigureLink
    at_risk_projects: int
    by_year: list[dict]
    intensity_bands: list[dict]  # low, high, count, width (% of the agreements with land)
    tax_bands: list[dict]
    intensity_url: str
    tax_per_mu_url: str
    watch: list[WatchRow]
    watch_total: int
    returns: list[ReturnRow]
    computed_at: datetime | None = None

    @property
    def has_agreements(self) -> bool:
        """Anything to report: an agreement with obligations or a committed investment."""
        return bool(self.figures.by_year) or self.figures.committed_wan > 0


def obligation_list_url(**params) -> str:
    """The fulfilment list narrowed by `params` (status may be a list: the filter repeats)."""
    query = QueryDict(mutable=True)
    for name, value in params.items():
        if isinstance(value, list | tuple):
            query.setlist(name, [str(v) for v in value])
        elif value is not None:
            query[name] = str(value)
    url = reverse("fulfilment:obligation-list")
    return f"{url}?{query.urlencode()}" if query else url


def _openable(user, project_ids) -> set[int]:
    """Of these projects, the ones `user` may open: named to them; the others by id only."""
    visible = Project.objects.visible_to(user)
    if not visible.query.where:  # leaders: every project
        return set(project_ids)
    if not project_ids:
        return set()
    return set(visible.filter(pk__in=list(project_ids)).values_list("pk", flat=True))


def _name(project_id: int, name: str, openable: set[int]) -> str:
    return name if project_id in openable else confidential_name(Project(pk=project_id))


def _widths(bands: list[dict]) -> list[dict]:
    total = sum(b["count"] for b in bands) or 1
    return [{**b, "width": (Decimal(100) * b["count"] / total).quantize(Decimal("0.1"))}
            for b in bands]


def fulfilment_block(*, user, today: date, top: int | None = WATCH_LIMIT) -> FulfilmentBlock:
    """The leaders' fulfilment figures, cached until a write to what they count. `top` names
    that many projects in the watch list and the returns (None: all, for the exports)."""
    return cached_figures(
        "fulfilment", user=user, params={"today": today, "top": top}, reads=FULFILMENT_READS,
        compute=lambda: _fulfilment_block(user=user, today=today, top=top))


def _fulfilment_block(*, user, today: date, top: int | None) -> FulfilmentBlock:
    figures = fulfilment_selectors.fulfilment_figures(user=user, today=today, top=top)
    counts = fulfilment_selectors.obligation_status_counts(user=user)
    watch, watch_total = fulfilment_selectors.projects_at_risk(user=user, limit=top)
    openable = _openable(user, {r["project_id"] for r in watch}
                         | {p["project_id"] for p in figures.projects})

    def link(*statuses) -> FigureLink:
        return FigureLink(count=sum(counts[s] for s in statuses),
                          url=obligation_list_url(status=list(statuses)))

    due = [str(s) for s in fulfilment_models.DUE_STATUSES]
    return FulfilmentBlock(
        today=today, figures=figures, list_url=reverse("fulfilment:obligation-list"),
        due=link(*fulfilment_models.DUE_STATUSES), met=link(fulfilment_models.Status.MET),
        breached=link(fulfilment_models.Status.BREACHED),
        due_soon=link(fulfilment_models.Status.DUE_SOON),
        missed=link(fulfilment_models.Status.MISSED),
        at_risk_projects=max(watch_total - figures.breached_count, 0),
        by_year=[{**row, "due_url": obligation_list_url(signed_year=row["year"], status=due),
                  "met_url": obligation_list_url(signed_year=row["year"], status="met")}
                 for row in figures.by_year],
        intensity_bands=_widths(figures.intensity_bands), tax_bands=_widths(figures.tax_bands),
        intensity_url=obligation_list_url(metric=fulfilment_models.Metric.INVESTMENT_INTENSITY),
        tax_per_mu_url=obligation_list_url(metric=fulfilment_models.Metric.TAX_PER_MU),
        watch=[WatchRow(
            project_id=r["project_id"], name=_name(r["project_id"], r["name"], openable),
            url=(reverse("leads:project-detail", args=[r["project_id"]])
                 if r["project_id"] in openable else None),
            owner=r["owner"], breached=r["breached"], at_risk=r["at_risk"],
            first_due=r["first_due"]) for r in watch],
        watch_total=watch_total,
        returns=[ReturnRow(
            project_id=p["project_id"], name=_name(p["project_id"], p["name"], openable),
            url=(reverse("leads:project-detail", args=[p["project_id"]])
                 if p["project_id"] in openable else None),
            paid_yuan=p["paid"], tax_wan=p["tax"], ratio=p["ratio"]) for p in figures.projects],
    )


def fulfilment_export_block(*, user, today: date) -> FulfilmentBlock:
    """The fulfilment block of the exports (the dashboard's and the monthly return): every
    project it names, up to the export limit, computed afresh (exports are rare; a list of
    thousands is not worth a place in the cache)."""
    from crm.core.exports import export_limit

    return _fulfilment_block(user=user, today=today, top=export_limit())
