"""Leads' selectors for the leaders' figures (DOMAIN.md, "What leaders look at").

Every figure starts from Project.objects.visible_to(user), narrowed by the project list's own
ProjectFilter (the dashboard's industry and owner), so a figure never counts a project the
user's list would not show. Each figure carries the query string of the list behind it; a link
is only offered when ProjectFilter understands every parameter of it (see project_list_url), so
a linked figure and the list's total always agree.

The definitions (reached, entered, signed, silent, overdue, not started) are the rules of
leads/models.py and the flags and thresholds of leads/rules.py: this module only counts with
them.
All queries are aggregates in SQL, a fixed number per figure whatever the number of projects;
only the median days per stage is finished in Python, over the rows of one query.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property, reduce
from operator import or_
from urllib.parse import urlencode

from django.db import connections
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractYear, TruncMonth
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.core.dates import Period, month_last

from .filters import ProjectFilter
from .models import (
    SIZE_BANDS,
    ChainNode,
    ChainRole,
    Company,
    CompanyChainLink,
    Industry,
    Project,
    Qualification,
    SourceRegion,
    Stage,
    StageEvent,
    due_on_q,
    entered_q,
    on_chain_node_q,
    open_q,
    overdue_q,
    reached_q,
    signed_q,
)
from .rules import Flag, Thresholds, flag_label, flag_q, milestone_stage, path_stages

CENT = Decimal("0.01")  # amounts in 万元 carry two decimals
ZERO = Decimal("0")
MONEY = DecimalField(max_digits=16, decimal_places=2)
# The chain map's "negotiating": an open project at or past this stage (DOMAIN.md's 深度洽谈).
NEGOTIATING_STAGE = "negotiating"
# Where the funnel stops: the first stage that means "contract signed".
FUNNEL_END_MILESTONE = Stage.Milestone.SIGNED
COHORT_MILESTONES = (Stage.Milestone.LANDED, Stage.Milestone.STARTED, Stage.Milestone.PRODUCING)
# The plan's "application scenarios" are the companies on this chain node or under it
# (leads/reference/chain.py, plan 五(三)).
SCENARIOS_NODE = "scenarios"
# The chain map names this many chain leaders per node and counts the rest ("… and 12 more"):
# a map is read at a glance, and a long list of names would drown it.
LEADERS_NAMED = 5
SPECIALISED_KINDS = (Qualification.Kind.SPECIALISED_SME, Qualification.Kind.LITTLE_GIANT)
# The size band under the first band of DOMAIN.md, so the bands add up to every signing.
BELOW_BAND = ("<3", _("Below 300M yuan"), None, SIZE_BANDS[0][2])


# --- Scope and links ---------------------------------------------------------------------
class ProjectScope:
    """The projects a user's list shows for some of its parameters (the dashboards narrow by
    industry and owner). ProjectFilter validates them once; every figure then clones the
    queryset, so the validation's lookups are not repeated per figure."""

    def __init__(self, *, user, params: dict | None = None):
        self.user = user
        self.params = {k: v for k, v in (params or {}).items() if v not in (None, "")}

    @cached_property
    def projects(self):
        return ProjectFilter(self.params, queryset=Project.objects.visible_to(self.user)).qs

    @cached_property
    def thresholds(self) -> Thresholds:
        """Read once per figure set: every flag of it counts with the same thresholds."""
        return Thresholds.current()


def project_list_url(params: dict) -> str | None:
    """The project list filtered by `params`, or None when the list cannot express them (a
    parameter ProjectFilter does not have): a figure without a link beats a link whose list
    disagrees with it."""
    known = ProjectFilter.base_filters
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    if any(key not in known for key in clean):
        return None
    return reverse("leads:project-list") + "?" + urlencode(clean, doseq=True)


def signed_params(period: Period) -> dict:
    """The list's parameters for signed_q(period)."""
    return {"signed_from": period.start.isoformat(), "signed_to": period.end.isoformat()}


def entered_params(period: Period) -> dict:
    """The list's parameters for entered_q(period)."""
    return {"entered_from": period.start.isoformat(), "entered_to": period.end.isoformat()}


@dataclass
class Row:
    """One line of a breakdown: a count, an agreed amount (万元) and the list behind it."""

    key: str
    label: str
    count: int = 0
    amount_wan: Decimal = ZERO
    url: str | None = None
    extra: dict = field(default_factory=dict)


def rate(part, whole) -> Decimal | None:
    """part ÷ whole in %, one decimal; None (shown as —) when there is nothing to divide by."""
    if part is None or not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# --- The pipeline ---------------------------------------------------------------------------------
@dataclass
class StageRow(Row):
    stage: Stage | None = None


def pipeline_by_stage(*, scope: ProjectScope, stages=None) -> list[StageRow]:
    """Projects now in each stage and their agreed amount; each row is exactly the list's
    `?stage=<code>`. Stages no longer in use appear while projects remain in them."""
    stages = list(Stage.objects.all()) if stages is None else stages
    totals = {row["stage"]: row for row in scope.projects.order_by()
              .values("stage").annotate(n=Count("pk"), amount=Sum("agreed_investment_wan"))}
    rows = []
    for stage in sorted(stages, key=lambda s: (s.order, s.code)):
        total = totals.get(stage.pk, {})
        if not stage.is_active and not total:
            continue
        rows.append(StageRow(
            key=stage.code, label=stage.label, count=total.get("n", 0),
            amount_wan=total.get("amount") or ZERO, stage=stage,
            url=project_list_url({**scope.params, "stage": stage.code})))
    return rows


@dataclass
class Summary:
    open_count: int
    open_amount_wan: Decimal
    open_url: str | None
    new_count: int
    new_url: str | None
    signed_count: int
    signed_amount_wan: Decimal
    signed_arrived_wan: Decimal
    signed_url: str | None
    due_today: int
    due_today_url: str | None
    lost_count: int
    lost_url: str | None
    flags: list[Row]

    @property
    def red_count(self) -> int:
        return sum(r.count for r in self.flags if r.extra["colour"] == "red"
                   and r.key != Flag.OVERDUE)

    @property
    def yellow_count(self) -> int:
        return sum(r.count for r in self.flags if r.key == Flag.YELLOW)

    @property
    def overdue_count(self) -> int:
        return sum(r.count for r in self.flags if r.key == Flag.OVERDUE)

    @property
    def overdue_url(self) -> str | None:
        return next(r.url for r in self.flags if r.key == Flag.OVERDUE)


FLAG_PARAMS = {Flag.OVERDUE: {"overdue": "true"}}


def pipeline_summary(*, scope: ProjectScope, period: Period, today: date,
                     stages=None) -> Summary:
    """The headline numbers, in one aggregate query."""
    stages = list(Stage.objects.all()) if stages is None else stages
    params = scope.params
    open_ = open_q()
    signed = signed_q(period)
    flags = {flag: flag_q(flag, today=today, thresholds=scope.thresholds, stages=stages)
             for flag in Flag.ALL}
    figures = scope.projects.aggregate(
        open_n=Count("pk", filter=open_),
        open_amount=Sum("agreed_investment_wan", filter=open_),
        new_n=Count("pk", filter=entered_q(period)),
        signed_n=Count("pk", filter=signed),
        signed_amount=Sum("agreed_investment_wan", filter=signed),
        signed_arrived=Sum("funds_arrived_wan", filter=signed),
        due_today=Count("pk", filter=due_on_q(today)),
        lost_n=Count("pk", filter=Q(stage__kind=Stage.Kind.LOST)),
        **{f"flag_{flag}": Count("pk", filter=q) for flag, q in flags.items()},
    )
    flag_rows = [
        Row(key=flag, label=flag_label(flag, scope.thresholds), count=figures[f"flag_{flag}"],
            url=project_list_url({**params, **FLAG_PARAMS.get(flag, {"flag": flag})}),
            extra={"colour": Flag.colours[flag]})
        for flag in Flag.ALL
    ]
    today_iso = today.isoformat()
    return Summary(
        open_count=figures["open_n"], open_amount_wan=figures["open_amount"] or ZERO,
        open_url=project_list_url({**params, "stage_kind": Stage.Kind.OPEN}),
        new_count=figures["new_n"],
        new_url=project_list_url({**params, **entered_params(period)}),
        signed_count=figures["signed_n"], signed_amount_wan=figures["signed_amount"] or ZERO,
        signed_arrived_wan=figures["signed_arrived"] or ZERO,
        signed_url=project_list_url({**params, **signed_params(period)}),
        due_today=figures["due_today"],
        due_today_url=project_list_url({**params, "stage_kind": Stage.Kind.OPEN,
                                        "next_step_from": today_iso, "next_step_to": today_iso}),
        lost_count=figures["lost_n"],
        lost_url=project_list_url({**params, "stage_kind": Stage.Kind.LOST}),
        flags=flag_rows,
    )


def flagged_projects(*, scope: ProjectScope, today: date, limit: int = 8, stages=None):
    """The red-flag projects (silent past the red threshold, or signed and not started),
    longest silent first, for the leaders' attention."""
    stages = list(Stage.objects.all()) if stages is None else stages
    red = flag_q(Flag.RED, today=today, thresholds=scope.thresholds, stages=stages)
    not_started = flag_q(Flag.NOT_STARTED, today=today, thresholds=scope.thresholds,
                         stages=stages)
    return list(
        scope.projects.filter(red | not_started)
        .select_related("company", "owner", "stage")
        .annotate(flag=Case(When(red, then=Value(Flag.RED)), default=Value(Flag.NOT_STARTED),
                            output_field=CharField()))
        .order_by(F("last_contact_on").asc(nulls_first=True), "pk")[:limit]
    )


@dataclass
class FunnelStep:
    stage: Stage
    reached: int
    url: str | None
    conversion: Decimal | None = None  # to the next step, in %; None on the last or when empty
    share: Decimal | None = None  # of the funnel's first step, in %


def funnel(*, scope: ProjectScope, period: Period, stages=None) -> list[FunnelStep]:
    """The projects that entered the pipeline in the period, and how many of them reached each
    open stage and signing (to date): conversion = reached(next) ÷ reached(this). One query."""
    stages = list(Stage.objects.all()) if stages is None else stages
    params = scope.params
    steps = [s for s in path_stages(stages) if s.kind == Stage.Kind.OPEN and s.is_active]
    end = milestone_stage(stages, FUNNEL_END_MILESTONE)
    if end is not None:
        steps.append(end)
    if not steps:
        return []
    figures = scope.projects.filter(entered_q(period)).aggregate(
        **{f"s{stage.pk}": Count("pk", filter=reached_q(stage)) for stage in steps})
    result = [FunnelStep(stage=stage, reached=figures[f"s{stage.pk}"],
                         url=project_list_url({**params, **entered_params(period),
                                               "reached": stage.code}))
              for stage in steps]
    first = result[0].reached
    for this, following in zip(result, result[1:], strict=False):
        this.conversion = rate(following.reached, this.reached)
    for step in result:
        step.share = rate(step.reached, first)
    return result


# --- Signings -------------------------------------------------------------------------------------
@dataclass
class SignedBreakdowns:
    period: Period
    count: int
    amount_wan: Decimal
    url: str | None
    by_month: list[Row]
    by_size_band: list[Row]
    by_industry: list[Row]
    by_chain_node: list[Row]
    by_source_region: list[Row]
    by_owner: list[Row]


def _band_params(low, high) -> dict:
    # The list's bounds are inclusive and amounts have two decimals: [low, high) is
    # amount_min=low, amount_max=high − 0.01.
    params = {}
    if low is not None:
        params["amount_min"] = str(low)
    if high is not None:
        params["amount_max"] = str(high - CENT)
    return params


def signed_breakdowns(*, scope: ProjectScope, period: Period, nodes=None) -> SignedBreakdowns:
    """Projects first signed in the period: count and agreed amount, by month, size band,
    industry section, top-level chain node, source region and owner. Seven queries."""
    params = scope.params
    projects = scope.projects
    signed = projects.filter(signed_q(period))
    base = {**params, **signed_params(period)}

    bands = [BELOW_BAND, *SIZE_BANDS]
    band_q = {code: Q(agreed_investment_wan__gte=low) if high is None
              else Q(agreed_investment_wan__lt=high) if low is None
              else Q(agreed_investment_wan__gte=low, agreed_investment_wan__lt=high)
              for code, _label, low, high in bands}
    totals = signed.aggregate(
        n=Count("pk"), amount=Sum("agreed_investment_wan"),
        **{f"n_{i}": Count("pk", filter=band_q[b[0]]) for i, b in enumerate(bands)},
        **{f"a_{i}": Sum("agreed_investment_wan", filter=band_q[b[0]])
           for i, b in enumerate(bands)},
    )
    by_size_band = [
        Row(key=code, label=str(label), count=totals[f"n_{i}"],
            amount_wan=totals[f"a_{i}"] or ZERO,
            url=project_list_url({**base, **_band_params(low, high)}))
        for i, (code, label, low, high) in enumerate(bands)
    ]

    months = {row["month"]: row for row in signed.order_by()
              .annotate(month=TruncMonth("signed_on")).values("month")
              .annotate(n=Count("pk"), amount=Sum("agreed_investment_wan"))}
    by_month = []
    for first in period.months():
        row = months.get(first, {})
        window = Period(max(first, period.start), min(month_last(first), period.end))
        by_month.append(Row(key=first.strftime("%Y-%m"), label=first.strftime("%Y-%m"),
                            count=row.get("n", 0), amount_wan=row.get("amount") or ZERO,
                            url=project_list_url({**params, **signed_params(window)}),
                            extra={"month": first}))

    by_industry = _by_industry(signed, params=params, base=base)
    by_chain_node = _by_chain_node(signed, base=base, nodes=nodes)

    regions = dict(SourceRegion.choices)
    by_source_region = [
        Row(key=row["company__source_region"] or "",
            label=str(regions.get(row["company__source_region"], _("Not recorded"))),
            count=row["n"], amount_wan=row["amount"] or ZERO,
            url=project_list_url({**base, "source_region": row["company__source_region"]})
            if row["company__source_region"] else None)
        for row in signed.order_by().values("company__source_region")
        .annotate(n=Count("pk"), amount=Sum("agreed_investment_wan"))
    ]
    order = {code: i for i, code in enumerate(regions)}
    by_source_region.sort(key=lambda r: order.get(r.key, len(order)))

    owners = list(signed.order_by().values("owner", "owner__full_name", "owner__username")
                  .annotate(n=Count("pk"), amount=Sum("agreed_investment_wan")))
    # The list's owner filter offers investment staff only; an owner outside it gets no link.
    listable = set(ProjectFilter.base_filters["owner"].queryset
                   .filter(pk__in=[o["owner"] for o in owners]).values_list("pk", flat=True))
    by_owner = sorted((
        Row(key=str(o["owner"]), label=o["owner__full_name"] or o["owner__username"],
            count=o["n"], amount_wan=o["amount"] or ZERO,
            url=project_list_url({**base, "owner": o["owner"]}) if o["owner"] in listable
            else None)
        for o in owners), key=lambda r: (-r.amount_wan, -r.count, r.label))

    return SignedBreakdowns(
        period=period, count=totals["n"], amount_wan=totals["amount"] or ZERO,
        url=project_list_url(base), by_month=by_month, by_size_band=by_size_band,
        by_industry=by_industry, by_chain_node=by_chain_node,
        by_source_region=by_source_region, by_owner=by_owner)


def _by_industry(signed, *, params: dict, base: dict) -> list[Row]:
    """By GB/T 4754 section (门类), whatever level the company is classified at."""
    level = "company__industry__level"
    section = {
        "code": Case(
            When(**{level: Industry.Level.SECTION}, then=F("company__industry__code")),
            When(**{level: Industry.Level.DIVISION}, then=F("company__industry__parent__code")),
            When(**{level: Industry.Level.GROUP},
                 then=F("company__industry__parent__parent__code")),
            default=Value(""), output_field=CharField()),
        "name": Case(
            When(**{level: Industry.Level.SECTION}, then=F("company__industry__name")),
            When(**{level: Industry.Level.DIVISION}, then=F("company__industry__parent__name")),
            When(**{level: Industry.Level.GROUP},
                 then=F("company__industry__parent__parent__name")),
            default=Value(""), output_field=CharField()),
    }
    rows = []
    for row in (signed.order_by().annotate(section_code=section["code"],
                                           section_name=section["name"])
                .values("section_code", "section_name")
                .annotate(n=Count("pk"), amount=Sum("agreed_investment_wan"))):
        code = row["section_code"]
        # Under an industry filter every row lies inside it: the filter itself is the link.
        industry = params.get("industry") or code
        rows.append(Row(
            key=code, label=f"{code} {row['section_name']}" if code else str(_("Unclassified")),
            count=row["n"], amount_wan=row["amount"] or ZERO,
            url=project_list_url({**base, "industry": industry}) if code else None))
    return sorted(rows, key=lambda r: (-r.amount_wan, -r.count, r.key))


def _node_companies_sql() -> str:
    """SQL for the distinct (node_id, company_id) pairs of the same rule, seen from the node:
    a link counts for its node and for the node's parent (UNION, so a company on a child and
    on its parent counts once)."""
    links, nodes = CompanyChainLink._meta.db_table, ChainNode._meta.db_table
    return (f"SELECT l.node_id AS node_id, l.company_id AS company_id FROM {links} l UNION "
            f"SELECT n.parent_id, l.company_id FROM {links} l JOIN {nodes} n "
            "ON n.id = l.node_id WHERE n.parent_id IS NOT NULL")


def chain_nodes() -> list[ChainNode]:
    """Every chain node, in the map's order (pass it to the figures that need it, once)."""
    return list(ChainNode.objects.order_by("order", "code"))


def _by_chain_node(signed, *, base: dict, nodes=None) -> list[Row]:
    """By top-level chain node, children rolled up. A company on two nodes counts under both,
    so the rows may add up to more than the total (the list's chain_node filter agrees).
    One grouped query: the signed projects joined to the distinct (node, company) pairs of
    on_chain_node_q's rule, so a project counts once per top-level node however many of its
    children the company sits on."""
    nodes = [n for n in (chain_nodes() if nodes is None else nodes) if n.parent_id is None]
    if not nodes:
        return []
    projects_sql, projects_params = (signed.order_by()
                                     .values("company_id", "agreed_investment_wan")
                                     .query.sql_with_params())
    sql = (
        f"WITH signed AS ({projects_sql}), covered AS ({_node_companies_sql()}) "
        "SELECT covered.node_id, COUNT(*), SUM(signed.agreed_investment_wan) FROM signed "
        "JOIN covered ON covered.company_id = signed.company_id GROUP BY covered.node_id")
    with connections[signed.db].cursor() as cursor:
        cursor.execute(sql, projects_params)
        figures = {node: (count, amount) for node, count, amount in cursor.fetchall()}
    rows = []
    for node in nodes:
        count, amount = figures.get(node.pk, (0, None))
        rows.append(Row(key=node.code, label=node.label, count=count,
                        amount_wan=Decimal(str(amount)) if amount is not None else ZERO,
                        url=project_list_url({**base, "chain_node": node.code}),
                        extra={"position": node.position}))
    return rows


# --- Cohorts, time in stage, lost reasons ---------------------------------------------------------
@dataclass
class Cohort:
    year: int
    count: int
    agreed_wan: Decimal
    arrived_wan: Decimal
    reached: dict  # milestone -> count (None when no stage carries it)
    url: str | None
    reached_urls: dict

    def rate_of(self, milestone: str) -> Decimal | None:
        return rate(self.reached.get(milestone), self.count)

    @property
    def landed_rate(self):
        return self.rate_of(Stage.Milestone.LANDED)

    @property
    def started_rate(self):
        return self.rate_of(Stage.Milestone.STARTED)

    @property
    def producing_rate(self):
        return self.rate_of(Stage.Milestone.PRODUCING)

    @property
    def arrival_rate(self) -> Decimal | None:
        """资金到位率 = Σ funds arrived ÷ Σ agreed investment."""
        return rate(self.arrived_wan, self.agreed_wan)

    @property
    def rates(self) -> list[tuple[str, Decimal | None]]:
        return [("landed", self.landed_rate), ("started", self.started_rate),
                ("producing", self.producing_rate), ("arrival", self.arrival_rate)]


def cohorts(*, scope: ProjectScope, stages=None, until_year: int | None = None
            ) -> list[Cohort]:
    """Per signing year: 落地率, 开工率, 投产率 (share of the year's signings that reached the
    milestone, to date) and 资金到位率. One grouped query."""
    stages = list(Stage.objects.all()) if stages is None else stages
    params = scope.params
    milestones = {m: milestone_stage(stages, m) for m in COHORT_MILESTONES}
    signed = scope.projects.filter(signed_on__isnull=False)
    if until_year is not None:
        signed = signed.filter(signed_on__lt=date(until_year + 1, 1, 1))
    rows = (signed.order_by().annotate(year=ExtractYear("signed_on")).values("year")
            .annotate(n=Count("pk"), agreed=Sum("agreed_investment_wan"),
                      arrived=Sum("funds_arrived_wan"),
                      **{f"m_{m}": Count("pk", filter=reached_q(stage))
                         for m, stage in milestones.items()})
            .order_by("year"))
    result = []
    for row in rows:
        year_params = {**params, **signed_params(Period.year(row["year"]))}
        result.append(Cohort(
            year=row["year"], count=row["n"], agreed_wan=row["agreed"] or ZERO,
            arrived_wan=row["arrived"] or ZERO,
            reached={m: row[f"m_{m}"] if stage else None for m, stage in milestones.items()},
            url=project_list_url(year_params),
            reached_urls={m: project_list_url({**year_params, "reached": stage.code}) if stage
                          else None for m, stage in milestones.items()}))
    return result


@dataclass
class StageDuration:
    stage: Stage
    stays: int
    median_days: Decimal | None


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median, computed where the rows are."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _seconds_between(later: str, earlier: str) -> Func:
    return Func(F(later), F(earlier), template="EXTRACT(EPOCH FROM (%(expressions)s))",
                arg_joiner=" - ", output_field=FloatField())


def median_days_by_stage(*, scope: ProjectScope, period: Period, stages=None
                         ) -> list[StageDuration]:
    """Median days spent in each stage, over the stays that ended in the period. A stay ends
    with the event that leaves the stage (its from_stage) and began at that event's
    previous_at (the time of the project's previous event). One grouped query on PostgreSQL
    (percentile_cont); on SQLite (the demo) the median is taken in Python over the stays."""
    stages = list(Stage.objects.all()) if stages is None else stages
    start, end = period.bounds()
    stays = StageEvent.objects.filter(from_stage__isnull=False, previous_at__isnull=False,
                                      at__gte=start, at__lt=end).order_by()
    if scope.projects.query.where:  # a leader's unfiltered scope is every project: no join
        stays = stays.filter(project__in=scope.projects.values("pk"))
    figures: dict[int, tuple[int, float]] = {}
    if connections[stays.db].vendor == "postgresql":
        for stage_id, count, seconds in (
                stays.values("from_stage")
                .annotate(n=Count("pk"), median=Median(_seconds_between("at", "previous_at")))
                .values_list("from_stage", "n", "median")):
            figures[stage_id] = (count, seconds / 86400)
    else:
        days: dict[int, list[float]] = {}
        for stage_id, entered, left in stays.values_list("from_stage", "previous_at", "at"):
            days.setdefault(stage_id, []).append((left - entered).total_seconds() / 86400)
        figures = {k: (len(v), statistics.median(v)) for k, v in days.items()}
    result = []
    for stage in sorted(stages, key=lambda s: (s.order, s.code)):
        if stage.pk in figures:
            count, median = figures[stage.pk]
            result.append(StageDuration(
                stage=stage, stays=count,
                median_days=Decimal(str(median)).quantize(Decimal("0.1"))))
    return result


def lost_reasons(*, scope: ProjectScope) -> list[Row]:
    """Projects now lost, by reason (the rows add up to the list's `stage_kind=lost`)."""
    params = scope.params
    rows = (scope.projects.filter(stage__kind=Stage.Kind.LOST)
            .order_by().values("lost_reason__code", "lost_reason__name", "lost_reason__order")
            .annotate(n=Count("pk"), amount=Sum("agreed_investment_wan")))
    result = [Row(key=r["lost_reason__code"] or "",
                  label=r["lost_reason__name"] or str(_("Not recorded")), count=r["n"],
                  amount_wan=r["amount"] or ZERO,
                  url=project_list_url({**params, "stage_kind": Stage.Kind.LOST,
                                        "lost_reason": r["lost_reason__code"]})
                  if r["lost_reason__code"] else None)
              for r in rows]
    return sorted(result, key=lambda r: (-r.count, r.label))


# --- The chain map --------------------------------------------------------------------------------
@dataclass
class ChainNodeFigures:
    node: ChainNode
    targeted: int
    negotiating: int
    signed: int
    landed: int
    leaders: list[str]  # the first LEADERS_NAMED chain leaders by name
    url: str | None
    children: list[ChainNodeFigures] = field(default_factory=list)
    leader_count: int = 0  # all of them

    @property
    def more_leaders(self) -> int:
        return self.leader_count - len(self.leaders)

    @property
    def is_weak(self) -> bool:
        """补链: nothing signed on this link of the chain."""
        return self.signed == 0


def chain_map(*, scope: ProjectScope, stages=None, nodes=None) -> list[ChainNodeFigures]:
    """For every chain node (a top-level node with its children rolled up): how many companies
    are targeted (any project the user may see), negotiating (an open project at or past
    "negotiating"), signed (a project with signed_on), landed (a project that reached the
    landed milestone), and the chain leaders (链主) among the targeted companies.

    Three queries: the nodes; one grouped query (below); the chain leaders. The grouped
    query takes the user's projects once, folded to one row of flags per company, and joins
    them to the (node, company) pairs where each link also counts for its node's parent;
    UNION (not UNION ALL) makes a company on a child and on its parent count once."""
    stages = list(Stage.objects.all()) if stages is None else stages
    params = scope.params
    projects = scope.projects
    negotiating = next((s for s in stages if s.code == NEGOTIATING_STAGE), None)
    landed = milestone_stage(stages, Stage.Milestone.LANDED)
    conditions = {
        "negotiating": (open_q() & Q(stage__order__gte=negotiating.order)
                        if negotiating else Q(pk__in=[])),
        "signed": Q(signed_on__isnull=False),
        "landed": reached_q(landed),
    }
    per_company = projects.order_by().values("company_id").annotate(**{
        name: Max(Case(When(condition, then=Value(1)), default=Value(0),
                       output_field=IntegerField()))
        for name, condition in conditions.items()})
    flags_sql, flags_params = per_company.query.sql_with_params()
    sql = (
        f"WITH flags AS ({flags_sql}), covered AS ({_node_companies_sql()}) "
        "SELECT covered.node_id, COUNT(*), SUM(flags.negotiating), SUM(flags.signed), "
        "SUM(flags.landed) FROM covered JOIN flags ON flags.company_id = covered.company_id "
        "GROUP BY covered.node_id")
    with connections[per_company.db].cursor() as cursor:
        cursor.execute(sql, flags_params)
        counts = {row[0]: [int(n or 0) for n in row[1:]] for row in cursor.fetchall()}
    nodes = chain_nodes() if nodes is None else nodes
    leader_links = (CompanyChainLink.objects.filter(role=ChainRole.LEADER)
                    .filter(company__in=projects.values("company_id"))
                    .values_list("node_id", "node__parent_id", "company__name")
                    .order_by("company__name"))
    leaders: dict[int, list[str]] = {}
    for node_id, parent_id, name in leader_links:
        for key in {node_id, parent_id} - {None}:
            if name not in leaders.setdefault(key, []):
                leaders[key].append(name)
    figures = {}
    for node in nodes:
        targeted, negotiating_n, signed, landed_n = counts.get(node.pk, (0, 0, 0, 0))
        figures[node.pk] = ChainNodeFigures(
            node=node, targeted=targeted, negotiating=negotiating_n, signed=signed,
            landed=landed_n, leaders=leaders.get(node.pk, [])[:LEADERS_NAMED],
            leader_count=len(leaders.get(node.pk, [])),
            url=project_list_url({**params, "chain_node": node.code}))
    tops = []
    for node in nodes:
        if node.parent_id is None:
            tops.append(figures[node.pk])
        elif node.parent_id in figures:
            figures[node.parent_id].children.append(figures[node.pk])
    return tops


# --- The plan's targets ---------------------------------------------------------------------------
@dataclass
class PlanFigures:
    specialised_smes: int
    leading_firms: int
    scenarios: int
    scenarios_url: str | None
    expected_output_wan: Decimal
    signed_url: str | None


def plan_figures(*, user, periods: list[Period]) -> dict[Period, PlanFigures]:
    """The actuals behind the plan targets, for each period, in one query whatever the number
    of periods:
    - specialised SMEs: companies holding a 专精特新 SME or 小巨人 qualification with a project
      first signed in the period;
    - leading firms: companies that are a chain leader (链主) on some node, with a project
      first signed in the period;
    - application scenarios: projects first signed in the period whose company sits on the
      "application scenarios" node or under it;
    - industry output: Σ expected annual output of the projects first signed in the period."""
    if not periods:
        return {}
    projects = Project.objects.visible_to(user)
    companies = Company.objects.visible_to(user)
    # One pass over the projects first signed in any of the periods. Firms are counted as
    # distinct companies; `company IN (subquery)` is hashed once by PostgreSQL where a
    # correlated EXISTS per company took seconds at 100,000 companies (issue 8).
    specialised = Q(company__in=Qualification.objects.filter(kind__in=SPECIALISED_KINDS)
                    .values("company_id"))
    leader = Q(company__in=CompanyChainLink.objects.filter(role=ChainRole.LEADER)
               .values("company_id"))
    scenarios = ChainNode.objects.filter(code=SCENARIOS_NODE).first()
    scenario = on_chain_node_q(scenarios) if scenarios else Q(pk__in=[])
    signed_in_any = reduce(or_, (signed_q(period) for period in periods))
    if companies.query.where:  # today every role sees every company; the rule still rules
        signed_in_any &= Q(company__in=companies.values("pk"))
    sums = projects.filter(signed_in_any).aggregate(**{
        key: aggregate
        for i, period in enumerate(periods)
        for key, aggregate in (
            (f"sme_{i}", Count("company", distinct=True, filter=signed_q(period) & specialised)),
            (f"lead_{i}", Count("company", distinct=True, filter=signed_q(period) & leader)),
            (f"scen_{i}", Count("pk", filter=signed_q(period) & scenario)),
            (f"out_{i}", Sum("expected_output_wan", filter=signed_q(period))))
    })
    return {period: PlanFigures(
        specialised_smes=sums[f"sme_{i}"], leading_firms=sums[f"lead_{i}"],
        scenarios=sums[f"scen_{i}"],
        scenarios_url=project_list_url({**signed_params(period), "chain_node": SCENARIOS_NODE}),
        expected_output_wan=sums[f"out_{i}"] or ZERO,
        signed_url=project_list_url(signed_params(period)))
        for i, period in enumerate(periods)}


# --- One person's pipeline ------------------------------------------------------------------------
def due_projects(*, scope: ProjectScope, today: date, overdue: bool, limit: int = 10):
    """Open projects whose next step is due today (overdue=False) or already late."""
    condition = overdue_q(today) if overdue else due_on_q(today)
    return list(scope.projects
                .filter(condition)
                .select_related("company", "stage").order_by("next_step_on", "pk")[:limit])
