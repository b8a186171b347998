"""Demo agreements (投资协议) for the demo's signed projects, in the seeds' world: the tenants
of 昆山元宇宙产业园 and 云昆大厦 (and the Nanchang parks of the Jiangxi piece), with the
obligations such agreements carry (fixed-asset investment, at least 180 万元 of it per mu where
land is granted, 10 万元 of tax per mu a year from year N, jobs, the milestones), the
incentives they grant (linked to the demo's fund programmes and to the project's applications
where there is one), their remedies, and the actuals of the periods that have ended.

Everything is written through funds.fulfilment.services, as staff would, so the demo obeys the
same checks. Each signed project gets a storyline from how far it has come:

- producing or at full capacity: signed about 40 months ago, every due obligation met (one
  project's jobs fall short of a target that came due weeks ago: missed, within its grace);
- construction started: about 20 months ago, building; one production deadline weeks away
  (due soon);
- space or land secured: about 14 months ago; one construction deadline weeks away;
- signed or registered this year: deadlines ahead (some due soon, as a land hand-over within
  four months of signing comes round);
- one project that took land and neither built nor paid its tax: breached, a leader
  (sun.jianguo, 领导) has confirmed the failing acceptance, and the clawback of the subsidy it
  was paid is proposed to the fund reviewers.

The leads demo spreads every project's history over the last months, so a project producing
today signed this year. Agreements with years of actuals need older signings: `_age` moves a
signed project's history back (stage events, signing day, entry), as funds/demo.py backdates
its applications. Deterministic (no randomness beyond the world the other seeders built) and
idempotent: it runs once, when there is no agreement yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.base import ContentFile
from django.db.models import Sum

from crm.accounts.models import User
from crm.core.demo import SeedContext, register_seeder
from crm.core.figures import figures_changed
from leads.models import Project, Stage, StageEvent

from ..models import Application, Disbursement, Programme, State
from . import rules, selectors, services
from .models import Acceptance, Agreement, Metric, Remedy

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
LEADER = "sun.jianguo"
M2_PER_MU = Decimal("666.67")  # 1 亩 = 10000/15 m²
WAN = Decimal("0.01")
# Months between the signing and today, by storyline (see the module docstring).
AGE_MONTHS = {"performing": 40, "breach": 40, "building": 20, "landed": 14}
# A fixed-asset investment per mu the demo's land-based agreements commit to (万元/亩), so the
# land granted is the committed fixed assets ÷ this; every one is above the 180 floor.
COMMITTED_INTENSITY = (Decimal("240"), Decimal("260"), Decimal("300"))
# Cumulative share of the committed investment made by the end of the k-th calendar year
# from the signing (k = 0 the signing year), for a project that keeps its word.
INVESTMENT_CURVE = (Decimal("0.3"), Decimal("0.7"), Decimal("1.02"), Decimal("1.06"))
# Output, tax and jobs against the project's expected figures, k years after signing.
RAMP = (Decimal("0.2"), Decimal("0.6"), Decimal("1.0"), Decimal("1.05"))
EVIDENCE = {
    Metric.FIXED_ASSET_INVESTMENT: "固定资产投资发票及年度审计报告",
    Metric.INVESTMENT_TOTAL: "年度审计报告（实际到位投资）",
    Metric.INVESTMENT_INTENSITY: "审计报告及不动产权证书（用地面积）",
    Metric.TAX: "税务部门出具的完税证明",
    Metric.TAX_PER_MU: "税务部门出具的完税证明及用地面积",
    Metric.OUTPUT_VALUE: "统计部门年度产值报表",
    Metric.JOBS: "社保缴纳人员名单",
    Metric.LAND_ACQUIRED: "国有建设用地使用权出让合同、不动产权证书",
    Metric.CONSTRUCTION_STARTED: "建筑工程施工许可证",
    Metric.COMPLETED: "竣工验收备案表",
    Metric.PRODUCTION_STARTED: "投产（运营）证明、首批产品销售发票",
    Metric.FULL_CAPACITY: "达产验收申请及统计部门产值证明",
}
# Who signs for the city, by the park the project settles in (the seeds' parks).
GOVERNMENTS = (
    ("云昆", "昆山高新技术产业开发区管理委员会"),
    ("昆山", "昆山高新技术产业开发区管理委员会"),
    ("九龙湖", "南昌市红谷滩区人民政府"),
    ("红谷滩", "南昌市红谷滩区人民政府"),
    ("上饶", "上饶经济技术开发区管理委员会"),
    ("鹰潭", "鹰潭高新技术产业开发区管理委员会"),
)
LAND_PARKS = ("昆山元宇宙产业园", "南昌九龙湖元宇宙试验区")
# 工业用地出让价 (元/亩) in the demo's two land parks.
LAND_PRICE = {"昆山元宇宙产业园": Decimal("360000"), "南昌九龙湖元宇宙试验区": Decimal("220000")}
SUBSIDY_KINDS = (Programme.Kind.SUBSIDY, Programme.Kind.SPECIAL_FUND)
# Applications that hold out money: the ones neither refused, declined nor withdrawn.
NOT_GRANTED = (State.REFUSED, State.DECLINED, State.WITHDRAWN)


def _months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, 28))


def _wan(value: Decimal) -> Decimal:
    return Decimal(value).quantize(WAN, rounding=ROUND_HALF_UP)


@dataclass
class Plan:
    project: Project
    story: str
    land: bool
    applications: list  # (Application, paid net 元)
    short_jobs: bool = False  # its headcount falls short of a target that came due


@register_seeder("fulfilment", order=45)
def seed_fulfilment(ctx: SeedContext) -> None:
    if Agreement.objects.exists():
        return
    today = ctx.today
    projects = list(Project.objects.filter(signed_on__isnull=False, stage__kind=Stage.Kind.WON)
                    .select_related("stage", "company", "owner").order_by("signed_on", "pk"))
    if not projects:
        return
    plans = _plans(projects)
    for plan in plans:
        months = AGE_MONTHS.get(plan.story)
        if months:
            _age(plan.project, _months(today, -months))
    figures_changed("leads")  # the moves above were QuerySet updates
    leader = User.objects.filter(username=LEADER).first()
    flags = {"missed": False, "due_soon_building": False, "due_soon_landed": False,
             "passed": False, "skip_quarter": False}
    for plan in plans:
        agreement, obligations, incentives = _agreement(ctx, plan, flags)
        _actuals(plan, agreement, today, flags)
        _remedies(plan, agreement, obligations, incentives)
        if leader is None:
            continue
        if plan.story == "breach":
            services.acceptance_confirm(
                agreement=agreement, by=leader, on=today,
                note="经招商引资工作领导小组审议：企业取得土地后未按约开工，投资强度、亩均税收均未达"
                     "到协议约定，确认未通过达产验收，按协议第八条追回已拨付的扶持资金。")
        elif plan.story == "performing" and not flags["passed"]:
            verdict = selectors.verdict_for(agreement, today - timedelta(days=14))
            if verdict.passed:
                services.acceptance_confirm(
                    agreement=agreement, by=leader, on=today - timedelta(days=14),
                    note="经现场核查及统计、税务部门数据比对，各项约定指标均已达到，同意通过"
                         "达产验收。")
                flags["passed"] = True
    services.obligations_refresh(today=today)
    ctx.log(f"  {len(plans)} agreements, "
            f"{Acceptance.objects.filter(verdict=Acceptance.Verdict.FAIL).count()} failed "
            "acceptance")


# --- Who gets which storyline -------------------------------------------------------------------
def _is_land(project: Project) -> bool:
    return project.intended_park in LAND_PARKS and project.space_use in ("land", "factory")


def _applications(project_ids) -> dict[int, list]:
    paid = dict(Disbursement.objects.filter(application__project_id__in=project_ids,
                                            paid_amount__isnull=False)
                .values("application_id").annotate(t=Sum("paid_amount"))
                .values_list("application_id", "t"))
    found: dict[int, list] = {pk: [] for pk in project_ids}
    for application in (Application.objects.filter(project_id__in=project_ids)
                        .exclude(state__in=NOT_GRANTED).select_related("programme")
                        .order_by("pk")):
        found[application.project_id].append((application, paid.get(application.pk)
                                              or Decimal("0")))
    return found


def _plans(projects: list[Project]) -> list[Plan]:
    applications = _applications([p.pk for p in projects])
    # The breach: a project that was paid a subsidy and has not built, land-based first.
    def paid_subsidy(project):
        return any(a.programme.kind in SUBSIDY_KINDS and paid > 0
                   for a, paid in applications[project.pk])

    # Took its space or land and went no further, else the earliest stage; land-based first.
    preference = ("landed", "registered", "started", "signed")
    candidates = sorted((p for p in projects if paid_subsidy(p)), key=lambda p: (
        preference.index(p.stage.code) if p.stage.code in preference else len(preference),
        not _is_land(p), p.pk))
    breach = candidates[0].pk if candidates else None
    plans = []
    for project in projects:
        code = project.stage.code
        if project.pk == breach:
            story = "breach"
        elif code in ("producing", "full_capacity"):
            story = "performing"
        elif code == "started":
            story = "building"
        elif code == "landed":
            story = "landed"
        else:
            story = "recent"
        plans.append(Plan(project=project, story=story, land=_is_land(project) or (
            story == "breach" and project.intended_park in LAND_PARKS),
            applications=applications[project.pk]))
    return plans


def _age(project: Project, signed_on: date) -> None:
    """Move a signed project's history back so that it signed on `signed_on` (demo data only:
    the leads demo stamps its histories over the last months). Every stage event, the day it
    entered the pipeline and its contractual start move by the same span, so its stays, its
    order of stages and its milestones are the ones the leads demo built."""
    shift = project.signed_on - signed_on
    if shift <= timedelta(0):
        return
    for event in StageEvent.objects.filter(project=project):
        StageEvent.objects.filter(pk=event.pk).update(
            at=event.at - shift,
            previous_at=event.previous_at - shift if event.previous_at else None)
    Project.objects.filter(pk=project.pk).update(
        signed_on=project.signed_on - shift, stage_entered_at=project.stage_entered_at - shift,
        entered_at=project.entered_at - shift if project.entered_at else None,
        created_at=project.created_at - shift,
        contract_start_on=(project.contract_start_on - shift
                           if project.contract_start_on else None))
    project.refresh_from_db()


# --- The agreement and its clauses ----------------------------------------------------------
def _government(project: Project) -> str:
    for word, name in GOVERNMENTS:
        if word in project.intended_park:
            return name
    return "昆山市人民政府"


def _land_mu(project: Project) -> Decimal:
    fixed = project.fixed_asset_wan or project.agreed_investment_wan or Decimal("1000")
    intensity = COMMITTED_INTENSITY[project.pk % len(COMMITTED_INTENSITY)]
    return max(_wan(fixed / intensity).quantize(Decimal("1")), Decimal("10"))


def _agreement(ctx: SeedContext, plan: Plan, flags: dict):
    project, today, s = plan.project, ctx.today, plan.project.signed_on
    owner = project.owner
    committed = project.agreed_investment_wan or Decimal("5000")
    fixed = min(project.fixed_asset_wan or committed * Decimal("0.6"), committed)
    quarterly = plan.story == "recent" and not plan.land
    agreement = services.agreement_create(
        by=owner, project=project, title=f"{project.name}投资协议书",
        parties=f"{_government(project)}；{project.company.name}", signed_on=s,
        land_mu=_land_mu(project) if plan.land else None,
        space_m2=None if plan.land else project.space_max_m2,
        committed_investment_wan=committed, fixed_asset_investment_wan=fixed,
        reporting=Agreement.Reporting.QUARTER if quarterly else Agreement.Reporting.YEAR,
        grace_days=180 if plan.land else 90,
        note=f"项目落户{project.intended_park or '园区'}；"
             + ("以出让方式取得工业用地。" if plan.land else "租赁园区载体。"),
        document=ContentFile(MINIMAL_PDF, name=f"投资协议-{project.pk}.pdf"))
    expected_tax = project.expected_tax_wan or committed * Decimal("0.05")
    jobs = Decimal(project.expected_jobs or 50)
    ob = {}

    def add(key, metric, *, target=None, due_on=None, applies_from=None):
        ob[key] = services.obligation_add(agreement=agreement, by=owner, metric=metric,
                                          target=target, due_on=due_on,
                                          applies_from=applies_from, evidence=EVIDENCE[metric])

    if plan.land:
        add("land", Metric.LAND_ACQUIRED, due_on=_months(s, 4))
        construction = _months(s, 9 if plan.story in ("performing", "breach", "building")
                               else 18)
        if plan.story == "landed" and not flags["due_soon_landed"]:
            construction, flags["due_soon_landed"] = today + timedelta(days=25), True
        add("started", Metric.CONSTRUCTION_STARTED, due_on=construction)
        add("completed", Metric.COMPLETED, due_on=_months(s, 24))
        add("producing", Metric.PRODUCTION_STARTED, due_on=_production_due(plan, s, today,
                                                                           flags))
        add("fixed", Metric.FIXED_ASSET_INVESTMENT, target=_wan(fixed), due_on=_months(s, 30))
        add("intensity", Metric.INVESTMENT_INTENSITY,
            target=rules.INVESTMENT_INTENSITY_FLOOR_WAN_PER_MU, due_on=_months(s, 30))
        add("tax_per_mu", Metric.TAX_PER_MU, target=rules.TAX_PER_MU_FLOOR_WAN,
            applies_from=s.year + 2)
        add("jobs", Metric.JOBS, target=jobs, due_on=_jobs_due(plan, s, today, flags, 36))
        if plan.story == "performing":
            add("full", Metric.FULL_CAPACITY, due_on=_months(s, 46))
    else:
        # A tenant fits out and opens within months of signing; one that moves in later
        # (building, or space secured a while ago) has two years.
        add("producing", Metric.PRODUCTION_STARTED, due_on=_production_due(
            plan, s, today, flags, months=8 if plan.story in ("recent", "performing") else 24))
        add("investment", Metric.INVESTMENT_TOTAL, target=_wan(committed),
            due_on=_months(s, 24))
        add("tax", Metric.TAX, target=_wan(expected_tax * Decimal("0.6")),
            applies_from=s.year + 2)
        add("jobs", Metric.JOBS, target=jobs, due_on=_jobs_due(plan, s, today, flags, 24))
    incentives = _incentives(plan, agreement, fixed)
    return agreement, ob, incentives


def _production_due(plan: Plan, s: date, today: date, flags: dict, months: int = 30) -> date:
    if plan.story == "building" and not flags["due_soon_building"]:
        flags["due_soon_building"] = True
        return today + timedelta(days=20)
    if plan.story == "landed" and not plan.land and not flags["due_soon_landed"]:
        flags["due_soon_landed"] = True  # a tenant due to open within the month
        return today + timedelta(days=25)
    return _months(s, months)


def _jobs_due(plan: Plan, s: date, today: date, flags: dict, months: int) -> date:
    if plan.story == "performing" and not flags["missed"]:
        flags["missed"] = plan.short_jobs = True  # missed, within its grace (_actuals)
        return today - timedelta(days=40)
    return _months(s, months)


def _incentives(plan: Plan, agreement: Agreement, fixed: Decimal) -> list:
    """One incentive per application of the project that holds out money, a rent-free spell
    for a tenant, the land price for a land grant; a project with no application is promised
    its park's subsidy programme."""
    project, owner = plan.project, plan.project.owner
    made = []
    for application, _paid in plan.applications:
        kind = application.programme.kind
        description = (f"{application.programme.name}扶持资金" if kind in SUBSIDY_KINDS
                       else f"{application.programme.name}股权投资")
        made.append(services.incentive_add(
            agreement=agreement, by=owner, kind="subsidy", description=description,
            application=application,
            amount_yuan=application.approved_amount or application.requested_amount))
    if not plan.applications:
        code = "nc_vr_rnd_grant" if "南昌" in project.intended_park or "红谷滩" in (
            project.intended_park) else "ks_meta_special_fund"
        programme = Programme.objects.filter(code=code).first()
        if programme is not None:
            amount = min(_wan(fixed * 100), programme.cap_per_company_yuan
                         or programme.budget_yuan).quantize(Decimal("1"))
            made.append(services.incentive_add(
                agreement=agreement, by=owner, kind="subsidy", programme=programme,
                description=f"设备投资补助（{programme.name}）", amount_yuan=amount))
    if plan.land:
        price = LAND_PRICE.get(project.intended_park, Decimal("300000"))
        services.incentive_add(agreement=agreement, by=owner, kind="land_price",
                               description="工业用地按基准地价出让",
                               land_price_yuan_per_mu=price)
    else:
        months = 12 if "云昆" in project.intended_park else 6
        services.incentive_add(agreement=agreement, by=owner, kind="rent_free",
                               description=f"载体租金减免{months}个月",
                               programme=Programme.objects.filter(code="ks_rent_subsidy")
                               .first() if "云昆" in project.intended_park else None,
                               rent_free_months=months)
    return made


def _remedies(plan: Plan, agreement: Agreement, ob: dict, incentives: list) -> None:
    owner = plan.project.owner
    subsidies = [i for i in incentives if i.application_id is None
                 or i.application.programme.kind in SUBSIDY_KINDS]
    if plan.land:
        for incentive in subsidies:
            services.remedy_add(agreement=agreement, by=owner,
                                kind=Remedy.Kind.PROPORTIONAL_CLAWBACK,
                                obligation=ob["intensity"], incentive=incentive,
                                rate=Decimal("1"))
        services.remedy_add(agreement=agreement, by=owner, kind=Remedy.Kind.FIXED_PENALTY,
                            obligation=ob["started"], amount_yuan=Decimal("500000"))
    else:
        for incentive in subsidies:
            services.remedy_add(agreement=agreement, by=owner,
                                kind=Remedy.Kind.PROPORTIONAL_CLAWBACK, obligation=ob["tax"],
                                incentive=incentive, rate=Decimal("1"))
    services.remedy_add(agreement=agreement, by=owner, kind=Remedy.Kind.WITHHOLD)


# --- Actuals ------------------------------------------------------------------------------------
def _periods(agreement: Agreement, today: date) -> list[tuple[date, date, int]]:
    """The reporting periods that have ended, from the one the agreement was signed in:
    (start, end, k) with k the calendar year counted from the signing year."""
    s = agreement.signed_on
    periods = []
    if agreement.reporting == Agreement.Reporting.YEAR:
        for year in range(s.year, today.year):
            periods.append((date(year, 1, 1), date(year, 12, 31), year - s.year))
        return periods
    start = date(s.year, 3 * ((s.month - 1) // 3) + 1, 1)
    while True:
        end = _months(start, 3) - timedelta(days=1)
        if end >= today:
            return periods
        periods.append((start, end, start.year - s.year))
        start = _months(start, 3)


def _actuals(plan: Plan, agreement: Agreement, today: date, flags: dict) -> None:
    project, owner = plan.project, plan.project.owner
    periods = _periods(agreement, today)
    if agreement.reporting == Agreement.Reporting.QUARTER and periods and not flags[
            "skip_quarter"]:
        flags["skip_quarter"] = True  # the last quarter is not reported yet: a reminder
        periods = periods[:-1]
    committed = agreement.committed_investment_wan
    fixed_share = (agreement.fixed_asset_investment_wan or committed) / committed
    # How much of its word the project keeps: the breach builds little and pays little tax.
    keeps = {"breach": Decimal("0.3")}.get(plan.story, Decimal("1"))
    tax_keeps = {"breach": Decimal("0.1")}.get(plan.story, Decimal("1"))
    per_year = Decimal("4") if agreement.reporting == Agreement.Reporting.QUARTER else 1
    producing = plan.story in ("performing", "breach")
    done = Decimal("0")
    for start, end, k in periods:
        curve = INVESTMENT_CURVE[min(k, len(INVESTMENT_CURVE) - 1)] * keeps
        if per_year == 1:
            investment = max(_wan(committed * curve) - done, Decimal("0"))
        else:
            investment = _wan(committed * INVESTMENT_CURVE[0] / per_year)
        done += investment
        ramp = RAMP[min(k, len(RAMP) - 1)] if producing else RAMP[0] / 2
        tax = _wan((project.expected_tax_wan or Decimal("0")) * ramp * tax_keeps / per_year)
        output = _wan((project.expected_output_wan or Decimal("0")) * ramp * tax_keeps
                      / per_year)
        jobs = int((project.expected_jobs or 50) * min(Decimal("0.4") + Decimal("0.3") * k,
                                                       Decimal("1")))
        if plan.short_jobs:
            jobs = int(jobs * Decimal("0.85"))
        services.actual_record(
            agreement=agreement, by=owner, period_start=start, period_end=end,
            investment_wan=investment, fixed_asset_investment_wan=_wan(investment * fixed_share),
            funds_arrived_wan=_wan(investment * Decimal("0.95")), output_value_wan=output,
            tax_wan=tax, jobs=jobs, note="据统计部门年报" if per_year == 1 else "季度快报")
