"""Leader dashboards and reports: every figure against values computed by hand from a small
world with dated histories, the drill-down links against the lists they open, access, empty
periods (a dash, never NaN), exports, the API, and a query ceiling at two data sizes.

The world lives two years back (Y = this year − 2), so "today" can be any day of the year:
projects created in the last weeks never fall into Y."""

import datetime
import io
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.accounts.roles import Role
from crm.core.dates import Period
from crm.core.figures import reset_versions
from crm.dashboards import selectors
from crm.dashboards.models import Metric, Target
from crm.dashboards.selectors import DashboardFilters
from funds.models import Application, Disbursement, State
from leads import services
from leads.models import (
    ChainNode,
    CompanyChainLink,
    Industry,
    LostReason,
    Project,
    Qualification,
    Stage,
)
from parks import services as park_services
from parks.models import Park
from tests.factories import CompanyFactory, make_programme, make_project, make_unit, system_admin

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
TODAY = timezone.localdate()
Y = TODAY.year - 2
PERIOD = Period.year(Y)
DAY = datetime.timedelta(days=1)
D = Decimal


def at(day: int) -> datetime.datetime:
    """Noon, `day` days after 1 January of Y (negative: the year before)."""
    return timezone.make_aware(datetime.datetime(Y, 1, 1, 12)) + datetime.timedelta(days=day)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def company(name, *, industry=None, region="yrd", nodes=(), qualifications=()):
    c = CompanyFactory(name=name, source_region=region,
                       industry=Industry.objects.get(code=industry) if industry else None)
    for code, role in nodes:
        CompanyChainLink.objects.create(company=c, node=ChainNode.objects.get(code=code),
                                        role=role)
    for kind in qualifications:
        Qualification.objects.create(company=c, kind=kind)
    return c


def history(owner, comp, path, *, agreed=None, lost_reason=None, **fields):
    """A project created at path[0] and moved along the rest: [(stage code, moment), ...]."""
    first, moment = path[0]
    project = make_project(owner=owner, company=comp, stage_code=first, agreed=agreed, at=moment,
                           **fields)
    if any(Stage.objects.get(code=code).requires_agreement for code, _ in path):
        project.agreement.save("a.pdf", ContentFile(PDF))
    for code, moment in path[1:]:
        stage = Stage.objects.get(code=code)
        services.project_move_stage(
            project=project, to_stage=stage, by=owner, at=moment,
            lost_reason=lost_reason if stage.kind == Stage.Kind.LOST else None)
    project.refresh_from_db()
    return project


def set_fields(project, **fields):
    Project.objects.filter(pk=project.pk).update(**fields)
    project.refresh_from_db()
    return project


@pytest.fixture
def world(make_user):
    leader = make_user(Role.LEADER, full_name="孙局长")
    a = make_user(Role.INVESTMENT_STAFF, full_name="张专员")
    b = make_user(Role.INVESTMENT_STAFF, full_name="李专员")
    admin = make_user(Role.ADMINISTRATOR, full_name="系统管理员")
    c = {
        1: company("一号显示科技有限公司", industry="39", region="yrd",
                   nodes=[("micro-oled", "leader")], qualifications=["specialised_sme"]),
        2: company("二号场景科技有限公司", industry="65", region="jjj",
                   nodes=[("industrial", "core")], qualifications=["little_giant"]),
        3: company("三号感知科技有限公司", nodes=[("sensing", "upstream")]),
        4: company("四号科技有限公司", qualifications=["innovative_sme"]),
        5: company("五号算力科技有限公司", industry="391", region="overseas",
                   nodes=[("display", "upstream"), ("computing", "leader")]),
        6: company("六号定位科技有限公司", nodes=[("slam", "downstream")]),
        7: company("七号微显科技有限公司", nodes=[("micro-led", "core")],
                   qualifications=["specialised_sme"]),
        8: company("八号网络科技有限公司", nodes=[("network", "upstream")]),
        9: company("九号科技有限公司"),
        10: company("十号光场科技有限公司", nodes=[("lightfield", "midstream")]),
    }
    other_city = LostReason.objects.get(code="other_city")
    now = timezone.now()
    p = {
        1: history(a, c[1], [("lead", at(9)), ("screening", at(19)), ("first_contact", at(39)),
                             ("site_visit", at(59)), ("negotiating", at(89)),
                             ("framework", at(99)), ("signed", at(129)),
                             ("registered", at(159)), ("landed", at(189)),
                             ("started", at(219))], agreed=D("50000")),
        2: history(a, c[2], [("lead", at(31)), ("screening", at(41)), ("negotiating", at(61)),
                             ("signed", at(155)), ("registered", at(181)), ("landed", at(211))],
                   agreed=D("150000")),
        3: history(b, c[3], [("lead", at(59)), ("screening", at(79)), ("first_contact", at(99)),
                             ("lost", at(129))], lost_reason=other_city),
        4: history(b, c[4], [("lead", at(90)), ("screening", at(120))], agreed=D("8000")),
        5: history(b, c[5], [("negotiating", at(120)), ("framework", at(165)),
                             ("signed", at(243))], agreed=D("250000")),
        6: history(a, c[6], [("lead", at(151))]),
        7: history(a, c[7], [("lead", at(-92)), ("signed", at(-17)), ("registered", at(14)),
                             ("landed", at(44)), ("started", at(74)), ("producing", at(104))],
                   agreed=D("20000")),
        8: history(b, c[8], [("lead", at(181)), ("shelved", at(212))], confidential=True),
        9: history(a, c[9], [("lead", now - 15 * DAY)]),
        10: history(a, c[10], [("negotiating", now - 5 * DAY)], agreed=D("12000")),
    }
    set_fields(p[1], funds_arrived_wan=D("20000"), expected_output_wan=D("300000"),
               contract_start_on=TODAY - 100 * DAY)
    set_fields(p[2], funds_arrived_wan=D("150000"), expected_output_wan=D("100000"),
               contract_start_on=TODAY + 30 * DAY)
    set_fields(p[5], contract_start_on=TODAY - 10 * DAY)
    set_fields(p[7], funds_arrived_wan=D("20000"))
    set_fields(p[4], last_contact_on=TODAY - 30 * DAY, next_step_on=TODAY - 3 * DAY)  # red
    set_fields(p[6], last_contact_on=TODAY - 14 * DAY, next_step_on=TODAY - DAY)  # yellow
    set_fields(p[9], next_step_on=TODAY)  # never contacted, entered 15 days ago: yellow
    set_fields(p[10], last_contact_on=TODAY - 2 * DAY)
    set_fields(p[8], next_step_on=TODAY - 5 * DAY)  # on hold: never overdue

    kunshan = Park.objects.create(code="ks", name="昆山元宇宙产业园", city="昆山市")
    nanchang = Park.objects.create(code="nc", name="南昌试验区", city="南昌市")
    leased = make_unit(park=kunshan, code="K1", area="1000")
    make_unit(park=kunshan, code="K2", area="500")
    make_unit(park=kunshan, code="K3", area="200", rentable=False)
    make_unit(park=kunshan, code="KL", area="5000", use="land")
    make_unit(park=nanchang, code="N1", area="300")
    park_services.assignment_create(by=system_admin(), unit=leased, company=c[1], kind="lease",
                                    start=datetime.date(Y, 1, 1), end=TODAY + 365 * DAY)

    programme = make_programme(year=Y, budget_yuan=D("1000000"),
                               cap_per_company_yuan=D("500000"))
    earlier = make_programme(year=Y - 1, budget_yuan=D("500000"),
                             cap_per_company_yuan=D("500000"))

    def application(prog, comp, state, requested, approved=None):
        return Application.objects.create(
            programme=prog, company=comp, state=state, requested_amount=D(requested),
            approved_amount=D(approved) if approved else None, state_changed_at=now,
            created_by=a)

    a1 = application(programme, c[1], State.APPROVED, "300000", "300000")
    Disbursement.objects.create(application=a1, planned_amount=D("300000"))
    a2 = application(programme, c[2], State.DISBURSED, "100000", "100000")
    Disbursement.objects.create(application=a2, planned_amount=D("100000"),
                                paid_amount=D("100000"), paid_on=TODAY)
    application(programme, c[3], State.SUBMITTED, "50000")
    application(earlier, c[5], State.APPROVED, "500000", "500000")

    Target.objects.all().delete()
    for metric, value, extra in [
        (Metric.SPECIALISED_SMES, "4", {}), (Metric.LEADING_FIRMS, "5", {}),
        (Metric.SCENARIOS, "2", {}), (Metric.INDUSTRY_OUTPUT, "80", {}),
        (Metric.CARRIER_AREA, "3000", {"city": "昆山市"}),
        (Metric.CARRIER_AREA, "1800", {}), (Metric.CARRIER_AREA, "600", {"park": nanchang}),
    ]:
        Target.objects.create(metric=metric, year_from=Y, year_to=Y, value=D(value), **extra)
    return {"leader": leader, "a": a, "b": b, "admin": admin, "c": c, "p": p,
            "kunshan": kunshan, "nanchang": nanchang, "programme": programme}


def dashboard(user, **filters):
    return selectors.leader_dashboard(
        user=user, filters=DashboardFilters(period=filters.pop("period", PERIOD), **filters),
        today=TODAY)


def by_key(rows):
    return {row.key: row for row in rows}


# --- Figures against the hand-computed world ------------------------------------------------------
def test_pipeline_now_by_stage(world):
    rows = by_key(dashboard(world["leader"]).by_stage)
    counts = {code: (row.count, row.amount_wan) for code, row in rows.items() if row.count}
    assert counts == {
        "lead": (2, 0), "screening": (1, D("8000")), "negotiating": (1, D("12000")),
        "signed": (1, D("250000")), "landed": (1, D("150000")), "started": (1, D("50000")),
        "producing": (1, D("20000")), "shelved": (1, 0), "lost": (1, 0),
    }
    assert rows["framework"].count == 0 and "full_capacity" in rows
    assert rows["negotiating"].url == reverse("leads:project-list") + "?stage=negotiating"


def test_headline_figures_and_flags(world):
    s = dashboard(world["leader"]).summary
    assert (s.open_count, s.open_amount_wan) == (4, D("20000"))  # p4, p6, p9, p10
    assert s.new_count == 7  # created in Y: p1–p6 and p8
    assert (s.signed_count, s.signed_amount_wan, s.signed_arrived_wan) == (
        3, D("450000"), D("170000"))
    assert s.due_today == 1 and s.lost_count == 1
    flags = {f.key: f.count for f in s.flags}
    # overdue: p4, p6 (p8 is on hold); yellow: p6 (14 days) and p9 (never contacted, 15 days);
    # red: p4 (30 days); not started: p5 (p1 started, p2's start date is ahead)
    assert flags == {"overdue": 2, "yellow": 2, "red": 1, "not_started": 1}
    assert (s.red_count, s.yellow_count, s.overdue_count) == (2, 2, 2)
    flagged = dashboard(world["leader"]).flagged
    assert {p.pk for p in flagged} == {world["p"][4].pk, world["p"][5].pk}


def test_funnel_and_conversion(world):
    funnel = dashboard(world["leader"]).funnel
    assert [f.stage.code for f in funnel] == ["lead", "screening", "first_contact", "site_visit",
                                              "negotiating", "framework", "signed"]
    # The cohort entered in Y: p1, p2, p3, p4, p5 (created at negotiating), p6, p8. p2 skipped
    # first contact, site visit and framework: reaching a later stage counts.
    assert [f.reached for f in funnel] == [7, 5, 4, 3, 3, 3, 3]
    assert [f.conversion for f in funnel] == [D("71.4"), D("80.0"), D("75.0"), D("100.0"),
                                              D("100.0"), D("100.0"), None]
    assert [f.share for f in funnel] == [D("100.0"), D("71.4"), D("57.1"), D("42.9"),
                                         D("42.9"), D("42.9"), D("42.9")]


def test_signed_breakdowns(world):
    signed = dashboard(world["leader"]).signed
    assert (signed.count, signed.amount_wan) == (3, D("450000"))
    months = {r.extra["month"].month: (r.count, r.amount_wan) for r in signed.by_month if r.count}
    expected_months = {
        world["p"][1].signed_on.month: (1, D("50000")),
        world["p"][2].signed_on.month: (1, D("150000")),
        world["p"][5].signed_on.month: (1, D("250000")),
    }
    assert months == expected_months and len(signed.by_month) == 12
    assert [(r.key, r.count, r.amount_wan) for r in signed.by_size_band] == [
        ("<3", 0, 0), ("3-10", 1, D("50000")), ("10-20", 1, D("150000")),
        ("20+", 1, D("250000"))]
    assert [(r.key, r.count, r.amount_wan) for r in signed.by_industry] == [
        ("C", 2, D("300000")), ("I", 1, D("150000"))]
    chain = {r.key: (r.count, r.amount_wan) for r in signed.by_chain_node if r.count}
    assert chain == {"display": (2, D("300000")), "computing": (1, D("250000")),
                     "scenarios": (1, D("150000"))}
    assert [(r.key, r.count) for r in signed.by_source_region] == [
        ("jjj", 1), ("yrd", 1), ("overseas", 1)]
    assert [(r.label, r.count, r.amount_wan) for r in signed.by_owner] == [
        ("李专员", 1, D("250000")), ("张专员", 2, D("200000"))]


def test_cohort_rates(world):
    cohorts = {c.year: c for c in dashboard(world["leader"]).cohorts}
    assert set(cohorts) == {Y - 1, Y}
    earlier, this = cohorts[Y - 1], cohorts[Y]
    assert (earlier.count, earlier.landed_rate, earlier.started_rate, earlier.producing_rate,
            earlier.arrival_rate) == (1, D("100.0"), D("100.0"), D("100.0"), D("100.0"))
    # Y: p1 (reached started), p2 (landed), p5 (signed only); 170,000 of 450,000 arrived.
    assert (this.count, this.reached) == (3, {"landed": 2, "started": 1, "producing": 0})
    assert (this.landed_rate, this.started_rate, this.producing_rate, this.arrival_rate) == (
        D("66.7"), D("33.3"), D("0.0"), D("37.8"))


def test_median_days_per_stage(world):
    durations = {x.stage.code: (x.stays, x.median_days)
                 for x in dashboard(world["leader"]).durations}
    assert durations == {
        "lead": (5, D("20.0")),  # 10, 10, 20, 30, 31 (p7's lead stay ended the year before)
        "screening": (3, D("20.0")),
        "first_contact": (2, D("25.0")),  # 20, 30
        "site_visit": (1, D("30.0")),
        "negotiating": (3, D("45.0")),  # 10, 94, 45
        "framework": (2, D("54.0")),  # 30, 78
        "signed": (3, D("30.0")),  # 30, 26, 31
        "registered": (3, D("30.0")),
        "landed": (2, D("30.0")),
        "started": (1, D("30.0")),
    }


def test_lost_reasons(world):
    [row] = dashboard(world["leader"]).lost_reasons
    assert (row.key, row.count) == ("other_city", 1)


def test_chain_map(world):
    nodes = {n.node.code: n for n in dashboard(world["leader"]).chain}
    c = world["c"]

    def figures(n):
        return (n.targeted, n.negotiating, n.signed, n.landed, n.leaders, n.is_weak)

    # display: c1 (micro-oled), c5 (display), c7 (micro-led), c10 (lightfield)
    assert figures(nodes["display"]) == (4, 1, 3, 2, [c[1].name], False)
    assert figures(nodes["computing"]) == (1, 0, 1, 0, [c[5].name], False)
    assert figures(nodes["scenarios"]) == (1, 0, 1, 1, [], False)
    assert figures(nodes["sensing"]) == (2, 0, 0, 0, [], True)
    assert figures(nodes["network"]) == (1, 0, 0, 0, [], True)
    assert figures(nodes["content"]) == (0, 0, 0, 0, [], True)
    children = {n.node.code: n for n in nodes["display"].children}
    assert figures(children["lightfield"]) == (1, 1, 0, 0, [], True)
    assert figures(children["micro-oled"]) == (1, 0, 1, 1, [c[1].name], False)
    assert set(nodes) == set(ChainNode.objects.filter(parent=None).values_list("code", flat=True))


def test_targets_progress(world):
    progress = {(t.target.metric, t.target.city, t.target.park_id): t
                for t in dashboard(world["leader"]).targets}
    expect = {
        (Metric.SPECIALISED_SMES, "", None): (D("2"), D("50.0")),  # c1, c2 (c7 signed in Y−1)
        (Metric.LEADING_FIRMS, "", None): (D("2"), D("40.0")),  # c1, c5
        (Metric.SCENARIOS, "", None): (D("1"), D("50.0")),  # p2
        (Metric.INDUSTRY_OUTPUT, "", None): (D("40.00"), D("50.0")),  # 300,000 + 100,000 万元
        (Metric.CARRIER_AREA, "昆山市", None): (D("1500"), D("50.0")),  # K1 + K2
        (Metric.CARRIER_AREA, "", None): (D("1800"), D("100.0")),
        (Metric.CARRIER_AREA, "", world["nanchang"].pk): (D("300"), D("50.0")),
    }
    assert {key: (t.actual, t.percent) for key, t in progress.items()} == expect


def test_occupancy_and_fund_budget(world):
    d = dashboard(world["leader"])
    assert d.occupancy.on == PERIOD.end
    assert (d.occupancy.total.rentable, d.occupancy.total.leased) == (D("1800"), D("1000"))
    assert d.occupancy.total.occupancy_rate == D("55.6")
    assert {r.label: r.occupancy_rate for r in d.occupancy.rows} == {
        "昆山元宇宙产业园": D("66.7"), "南昌试验区": D("0.0")}
    only = dashboard(world["leader"], park=world["kunshan"]).occupancy
    assert only.total.occupancy_rate == D("66.7")
    # The programme of Y: 400,000 of 1,000,000 committed, 100,000 paid (Y−1's is left out).
    assert (d.funds.budget, d.funds.approved, d.funds.paid) == (
        D("1000000"), D("400000"), D("100000"))
    assert (d.funds.approved_percent, d.funds.paid_percent) == (D("40.0"), D("10.0"))


def test_fund_budget_counts_an_approval_once_whatever_its_tranches(world):
    approved = Application.objects.get(state=State.APPROVED, programme=world["programme"])
    Disbursement.objects.filter(application=approved).update(planned_amount=D("150000"))
    Disbursement.objects.create(application=approved, planned_amount=D("150000"))
    assert dashboard(world["leader"]).funds.approved == D("400000")


# --- Scope, access and empty periods --------------------------------------------------------------
def test_industry_and_owner_narrow_every_project_figure(world):
    for code in ("C", "39"):
        industry = Industry.objects.get(code=code)
        d = dashboard(world["leader"], industry=industry)
        assert (d.summary.signed_count, d.summary.signed_amount_wan) == (2, D("300000"))
        [row] = d.signed.by_industry
        assert row.key == "C" and f"industry={code}" in row.url
    d = dashboard(world["leader"], owner=world["a"])
    assert d.summary.signed_count == 2 and d.summary.open_count == 3
    assert [r.label for r in d.signed.by_owner] == ["张专员"]


def test_figures_count_only_what_the_user_may_see(world):
    admin = dashboard(world["admin"])  # administrators do not see others' confidential projects
    assert by_key(admin.by_stage)["shelved"].count == 0
    assert {n.node.code: n.targeted for n in admin.chain}["network"] == 0
    staff = dashboard(world["b"])
    assert {r.key: r.count for r in staff.by_stage if r.count} == {
        "screening": 1, "signed": 1, "shelved": 1, "lost": 1}
    assert staff.summary.new_count == 4


def test_empty_period_shows_dashes_not_nan(world, client_for):
    empty = Period.year(2001)
    d = dashboard(world["leader"], period=empty)
    assert d.summary.signed_count == 0 and d.summary.new_count == 0
    assert all(f.reached == 0 and f.conversion is None for f in d.funnel)
    assert d.durations == [] and d.cohorts == []
    assert d.funds.approved_percent is None and d.signed_arrival_rate is None
    html = client_for(world["leader"]).get(
        reverse("dashboards:leader"), {"date_from": "2001-01-01", "date_to": "2001-12-31"}
    ).content.decode()
    assert "NaN" not in html and "None" not in html
    assert "—" in html


def test_rates_of_an_empty_world_are_null_in_the_api(make_user, api_for):
    Target.objects.all().delete()
    Target.objects.create(metric=Metric.SCENARIOS, year_from=Y, year_to=Y, value=D("5"))
    api = api_for(make_user(Role.LEADER))
    data = api.get("/api/v1/reports/pipeline/").json()
    assert data["funds"]["approved_percent"] is None and data["cohorts"] == []
    assert data["occupancy"]["occupancy_rate"] is None
    assert all(step["conversion"] is None for step in data["funnel"])
    [target] = api.get("/api/v1/reports/targets/").json()["targets"]
    assert (target["actual"], target["percent"]) == ("0.00", "0.0")


# --- Drill-down: every linked figure equals its list ---------------------------------------------
class LinkedFigures(HTMLParser):
    """Every <a href="/leads/projects/?..." data-count="N"> of a page."""

    def __init__(self):
        super().__init__()
        self.links, self.unscoped = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        href = attrs.get("href") or ""
        if tag == "a" and href.startswith("/leads/projects/?") and "data-count" in attrs:
            self.links.append((href.replace("&amp;", "&"), int(attrs["data-count"])))
            if "data-unscoped" in attrs:  # a plan target: the whole city, whatever the filters
                self.unscoped.append(self.links[-1])


def list_total(client, url) -> int:
    html = client.get(url).content.decode()
    return int(re.search(r'data-total="(\d+)"', html).group(1))


def test_every_linked_figure_equals_the_list_behind_it(world, client_for):
    client = client_for(world["leader"])
    params = {"date_from": PERIOD.start.isoformat(), "date_to": PERIOD.end.isoformat()}
    parser = LinkedFigures()
    parser.feed(client.get(reverse("dashboards:leader"), params).content.decode())
    assert len(parser.links) > 25
    for url, count in parser.links:
        assert list_total(client, url) == count, url


def test_links_under_an_industry_and_an_owner(world, client_for):
    client = client_for(world["leader"])
    parser = LinkedFigures()
    parser.feed(client.get(reverse("dashboards:leader"), {
        "date_from": PERIOD.start.isoformat(), "date_to": PERIOD.end.isoformat(),
        "industry": "C", "owner": world["b"].pk}).content.decode())
    assert parser.links
    for url, count in parser.links:
        assert list_total(client, url) == count, url
        if (url, count) not in parser.unscoped:
            assert "industry=C" in url and f"owner={world['b'].pk}" in url


def test_staff_dashboard_links_equal_their_lists(world, client_for):
    client = client_for(world["a"])
    html = client.get(reverse("home")).content.decode()
    assert "张专员" in html  # the personal dashboard greets its owner
    parser = LinkedFigures()
    parser.feed(html)
    assert len(parser.links) >= 5
    for url, count in parser.links:
        assert f"owner={world['a'].pk}" in url
        assert list_total(client, url) == count, url
    d = selectors.staff_dashboard(user=world["a"], today=TODAY)
    assert (d.summary.open_count, d.summary.overdue_count, d.summary.due_today) == (3, 1, 1)
    assert [p.pk for p in d.due_today] == [world["p"][9].pk]
    assert [p.pk for p in d.overdue] == [world["p"][6].pk]


# --- Role home pages ---------------------------------------------------------------------------
def test_home_shows_the_dashboard_of_the_role(world, make_user, client_for, english):
    manager = make_user(Role.PARK_MANAGER, full_name="王园区")
    world["kunshan"].managers.add(manager)
    reviewer = make_user(Role.FUND_REVIEWER, full_name="赵审核")
    expected = [(world["leader"], "dashboards/leader.html"),
                # Administrators keep the system; the leaders' figures are for leaders.
                (world["admin"], "crm/home.html"),
                (world["a"], "dashboards/staff.html"),
                (manager, "dashboards/parks.html"),
                (reviewer, "dashboards/reviews.html"),
                (make_user(), "crm/home.html")]
    for user, template in expected:
        response = client_for(user).get(reverse("home"))
        assert response.status_code == 200
        assert template in [t.name for t in response.templates], user
    assert client_for(world["a"]).get(reverse("dashboards:parks")).status_code == 403


@pytest.mark.parametrize("name", ["dashboards:leader", "dashboards:leader-export",
                                  "dashboards:monthly-return", "dashboards:chain",
                                  "report-pipeline", "report-targets", "report-chain"])
def test_leader_screens_answer_403_to_every_other_role(world, make_user, client_for, name):
    """The overview, its export, the monthly return, the chain map and their API count
    confidential projects: only leaders get them, and the navigation offers them to no one
    else."""
    others = [make_user(role) for role in Role.values if role != Role.LEADER]
    others.append(make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True))
    url = reverse(name)
    assert client_for(world["leader"]).get(url).status_code == 200
    for user in others:
        client = client_for(user)
        assert client.get(url).status_code == 403, (user, url)
        if not name.startswith("report-"):
            assert f'href="{url}"' not in client.get(reverse("home")).content.decode()


def test_park_manager_dashboard(world, make_user):
    manager = make_user(Role.PARK_MANAGER)
    world["kunshan"].managers.add(manager)
    d = selectors.park_manager_dashboard(user=manager, today=TODAY)
    assert [p.code for p in d.parks] == ["ks"]
    assert (d.occupancy.total.rentable, d.occupancy.total.vacant) == (D("1500"), D("500"))
    assert d.occupancy.total.occupancy_rate == D("66.7")
    assert d.expiring_counts == {30: 0, 60: 0, 90: 0}  # the lease ends in a year
    lease = world["kunshan"].units.get(code="K1").assignments.get()
    park_services.assignment_end(by=system_admin(), assignment=lease, last_day=TODAY + 45 * DAY)
    d = selectors.park_manager_dashboard(user=manager, today=TODAY)
    assert d.expiring_counts == {30: 0, 60: 1, 90: 1}


def test_review_queue(world, make_user):
    reviewer = make_user(Role.FUND_REVIEWER)
    q = selectors.review_queue(user=reviewer)
    assert q.count == 1 and q.waiting_long == 0
    Application.objects.filter(state=State.SUBMITTED).update(
        state_changed_at=timezone.now() - 8 * DAY)
    assert selectors.review_queue(user=reviewer).waiting_long == 1


# --- Targets ----------------------------------------------------------------------------------
def test_default_targets_come_from_the_kunshan_plan():
    targets = {t.metric: t for t in Target.objects.all()}
    assert {m: t.value for m, t in targets.items()} == {
        Metric.SPECIALISED_SMES: D("100"), Metric.LEADING_FIRMS: D("5"),
        Metric.SCENARIOS: D("15"), Metric.CARRIER_AREA: D("300000"),
        Metric.INDUSTRY_OUTPUT: D("1000")}
    assert all((t.year_from, t.year_to) == (2022, 2025) for t in targets.values())
    assert targets[Metric.CARRIER_AREA].city == "昆山市"


def test_a_scope_is_only_for_carrier_space(world):
    from django.core.exceptions import ValidationError

    target = Target(metric=Metric.SCENARIOS, year_from=Y, year_to=Y, value=D("3"), city="昆山市")
    with pytest.raises(ValidationError):
        target.full_clean()


def test_targets_are_set_in_the_admin(admin_user, client_for):
    client = client_for(admin_user)
    url = reverse("admin:dashboards_target_changelist")
    assert client.get(url).status_code == 200
    response = client.post(reverse("admin:dashboards_target_add"), {
        "metric": Metric.LEADING_FIRMS, "year_from": Y, "year_to": Y + 1, "value": "7",
        "park": "", "city": "", "source": "测试规划", "order": "0"})
    assert response.status_code == 302
    target = Target.objects.get(source="测试规划")
    assert (target.value, target.year_to) == (D("7"), Y + 1)


# --- Exports ------------------------------------------------------------------------------------
def test_dashboard_export_has_one_sheet_per_block(world, client_for, english):
    response = client_for(world["leader"]).get(reverse("dashboards:leader-export"), {
        "date_from": PERIOD.start.isoformat(), "date_to": PERIOD.end.isoformat()})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Summary", "Pipeline by stage", "Funnel", "Signed by month", "Signed by size band",
        "Signed by industry", "Signed by chain node", "Signed by source region",
        "Signed by owner", "Cohorts", "Days in stage", "Lost reasons", "Flags", "Targets",
        "Chain map", "Park occupancy", "Fund budget"]
    funnel = list(book["Funnel"].iter_rows(min_row=3, values_only=True))
    assert [r[1] for r in funnel] == [7, 5, 4, 3, 3, 3, 3] and funnel[-1][3] == "—"
    cohorts = {r[0]: r for r in book["Cohorts"].iter_rows(min_row=3, values_only=True)}
    assert cohorts[Y][1:3] == (3, 450000) and cohorts[Y][5] == 66.7


def test_monthly_return(world, client_for, english):
    month = world["p"][2].signed_on
    response = client_for(world["leader"]).get(reverse("dashboards:monthly-return"),
                                               {"month": month.strftime("%Y-%m")})
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Monthly return", "By stage", "By month", "By size band", "By industry",
        "By chain node", "By source region", "By owner", "Cohorts"]
    bands = {r[0]: r[1:] for r in book["By size band"].iter_rows(min_row=3, values_only=True)}
    signed_before = 1 if world["p"][1].signed_on < month else 0
    assert bands["1B–2B yuan"] == (1, 150000, 1, 150000)
    assert bands["300M–1B yuan"][2] == signed_before
    months = list(book["By month"].iter_rows(min_row=3, values_only=True))
    assert len(months) == month.month and months[-1][1] >= 1
    # It goes to the office printer: A4, as wide as the page, the title and header on every
    # page, numbered (issue 17, item 12).
    for sheet in book:
        assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4  # "9", as openpyxl names it
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.print_title_rows == "$1:$2"
        assert sheet.oddFooter.center.text == "&P / &N"
    assert book["Cohorts"].page_setup.orientation == "landscape"


# --- API ----------------------------------------------------------------------------------------
def test_api_reports_match_the_dashboard(world, api_for):
    api = api_for(world["leader"])
    params = {"date_from": PERIOD.start.isoformat(), "date_to": PERIOD.end.isoformat()}
    data = api.get("/api/v1/reports/pipeline/", params).json()
    assert data["summary"]["signed_count"] == 3 and data["summary"]["signed_amount_wan"] == (
        "450000.00")
    assert [s["reached"] for s in data["funnel"]] == [7, 5, 4, 3, 3, 3, 3]
    assert data["funnel"][0]["conversion"] == "71.4" and data["funnel"][-1]["conversion"] is None
    cohort = {c["year"]: c for c in data["cohorts"]}[Y]
    assert (cohort["landed_rate"], cohort["funds_arrival_rate"]) == ("66.7", "37.8")
    assert {m["stage"]: m["median_days"] for m in data["median_days"]}["negotiating"] == "45.0"
    assert data["occupancy"]["occupancy_rate"] == "55.6" and data["funds"]["approved_percent"] \
        == "40.0"
    targets = api.get("/api/v1/reports/targets/").json()["targets"]
    assert {(t["metric"], t["actual"], t["percent"]) for t in targets if t["metric"] in (
        "scenarios", "leading_firms")} == {("scenarios", "1.00", "50.0"),
                                          ("leading_firms", "2.00", "40.0")}
    nodes = {n["code"]: n for n in api.get("/api/v1/reports/chain/").json()["nodes"]}
    assert (nodes["display"]["targeted"], nodes["display"]["weak"]) == (4, False)
    assert nodes["sensing"]["weak"] is True


def test_api_refuses_bad_filters(world, api_for, client):
    api = api_for(world["leader"])
    assert api.get("/api/v1/reports/pipeline/", {"date_from": "2026-13-01"}).status_code == 400
    assert api.get("/api/v1/reports/pipeline/", {"date_from": "2020-01-01",
                                                 "date_to": "2019-01-01"}).status_code == 400
    assert api.get("/api/v1/reports/chain/", {"industry": "ZZ"}).status_code == 400
    assert client.get("/api/v1/reports/targets/").status_code == 401


# --- Query counts -------------------------------------------------------------------------------
# Measured: the leader dashboard 31 queries (36 with every filter set: their lookups and the
# owner filter's accepted users), the pipeline API 32, the personal dashboards 9–10, whatever
# the number of projects. A little room for the floor's context processors.
DASHBOARD_QUERY_CEILING = 40
API_QUERY_CEILING = 35
PERSONAL_QUERY_CEILING = 14

STAGE_PATHS = [
    ["lead"], ["lead", "screening"], ["lead", "first_contact", "site_visit"],
    ["lead", "negotiating", "framework"], ["negotiating", "signed", "registered", "landed"],
    ["lead", "signed", "landed", "started"], ["lead", "screening", "lost"],
    ["lead", "shelved"],
]


def build(n: int, owner, other):
    nodes = list(ChainNode.objects.all())
    reason = LostReason.objects.first()
    for i in range(n):
        comp = company(f"规模测试{i}号有限公司", industry=["39", "65", "391"][i % 3],
                       nodes=[(nodes[i % len(nodes)].code, ["leader", "core"][i % 2])],
                       qualifications=["specialised_sme"] if i % 4 == 0 else [])
        path = STAGE_PATHS[i % len(STAGE_PATHS)]
        history(owner if i % 2 else other, comp,
                [(code, at(10 + 20 * k + i % 7)) for k, code in enumerate(path)],
                agreed=D(str(10000 * (i % 30 + 1))), lost_reason=reason)


@pytest.mark.parametrize("size", [5, 80])
def test_dashboards_run_a_constant_number_of_queries(size, make_user, client_for,
                                                     django_assert_max_num_queries):
    leader = make_user(Role.LEADER)
    staff = make_user(Role.INVESTMENT_STAFF)
    manager = make_user(Role.PARK_MANAGER)
    build(size, staff, make_user(Role.INVESTMENT_STAFF))
    park = Park.objects.create(code="q", name="测试园", city="昆山市")
    park.managers.add(manager)
    for i in range(size // 5 + 1):
        make_unit(park=park, code=f"Q{i}", area="100")
    params = {"date_from": PERIOD.start.isoformat(), "date_to": PERIOD.end.isoformat(),
              "industry": "C", "owner": staff.pk}
    # Every request is measured cold: the figure cache is emptied before it (a cache hit would
    # count a handful of queries and hide an N+1 in the figures).
    requests = [  # (user, url, parameters, ceiling, its figures are cached)
        (leader, reverse("dashboards:leader"), params, DASHBOARD_QUERY_CEILING, True),
        (leader, reverse("dashboards:leader"), {}, DASHBOARD_QUERY_CEILING, True),
        (leader, "/api/v1/reports/pipeline/", params, API_QUERY_CEILING, True),
        (leader, "/api/v1/reports/chain/", {}, API_QUERY_CEILING, True),
        (staff, reverse("dashboards:staff"), {}, PERSONAL_QUERY_CEILING, True),
        (manager, reverse("dashboards:parks"), {}, PERSONAL_QUERY_CEILING, False),
    ]
    for user, url, query, ceiling, cached in requests:
        client = client_for(user)
        reset_versions()
        with CaptureQueriesContext(connection) as cold:
            assert client.get(url, query).status_code == 200
        assert len(cold) <= ceiling, (url, len(cold))
        if cached:  # the figures were computed, not read from the cache
            with CaptureQueriesContext(connection) as warm:
                assert client.get(url, query).status_code == 200
            assert len(warm) < len(cold), (url, len(warm), len(cold))


# --- Fulfilment of agreements (履约) on the leader dashboard and in the monthly return ---------
# A world relative to this year, so the statuses hold whatever the day: Y0 = this year − 2.
#
# Agreement 1 (project F1, owner a), signed 1 March Y0, 50 亩, committed 20,000 万 (15,000 of
# it fixed assets), no grace period; actuals Y0: investment 3,000 (fixed 2,500), arrived 3,000,
# tax 100, jobs 50; Y0+1: 5,000 (4,500), arrived 4,000, tax 400, jobs 150.
#   fixed assets 9,000 by 31 Dec Y0+1: 7,000 → breached
#   intensity 180 by 30 Jun Y0+1: 7,000 ÷ 50 = 140 → breached (band 90–180)
#   tax per mu 10 a year from Y0+1: 400 ÷ 50 = 8 → breached (band 5–10)
#   jobs 120 by 31 Dec Y0+1: 150 → met
#   construction started by 31 Dec Y0: no stage event → breached
#   paid 100,000 元 of incentives; tax since signing 500 万 = 5,000,000 元 → 50.00
# Agreement 2 (project F2, confidential, owner a), signed 60 days ago, committed 8,000 万, no
# land, 30 days' grace, no actuals, nothing paid:
#   total investment 10,000 due in 10 days → due soon
#   production started, due 5 days ago → missed (within grace)
#   jobs 50 due in 200 days, tax 100 a year from next year → on track
# So: due 5 + 1 = 6, met 1 → 16.7 %; by signing year Y0: 1 of 5 = 20.0 %, the other 0.0 %;
# arrived 7,000 ÷ committed 28,000 = 25.0 %; breached 4 obligations of 1 project; due soon 1,
# missed 1, both of F2: 1 project at risk; 投入产出比 5,000,000 ÷ 100,000 = 50.00.
Y0 = TODAY.year - 2


def fulfilment_world(owner, *, name="履约一号项目", confidential_name="履约二号保密项目"):
    from funds.fulfilment import services as fs
    from funds.fulfilment.models import Metric as M
    from tests.funds.fulfilment_world import signed_project

    p1 = signed_project(owner, name=name)
    a1 = fs.agreement_create(
        by=owner, project=p1, title="投资协议一", parties="昆山市人民政府；一号公司",
        signed_on=datetime.date(Y0, 3, 1), land_mu=D("50"), committed_investment_wan=D("20000"),
        fixed_asset_investment_wan=D("15000"), grace_days=0)
    for metric, target, due_on, applies_from in (
            (M.FIXED_ASSET_INVESTMENT, "9000", datetime.date(Y0 + 1, 12, 31), None),
            (M.INVESTMENT_INTENSITY, "180", datetime.date(Y0 + 1, 6, 30), None),
            (M.TAX_PER_MU, "10", None, Y0 + 1),
            (M.JOBS, "120", datetime.date(Y0 + 1, 12, 31), None),
            (M.CONSTRUCTION_STARTED, None, datetime.date(Y0, 12, 31), None)):
        fs.obligation_add(agreement=a1, by=owner, metric=metric,
                          target=D(target) if target else None, due_on=due_on,
                          applies_from=applies_from)
    for year, inv, fixed, arrived, tax, jobs in ((Y0, 3000, 2500, 3000, 100, 50),
                                                 (Y0 + 1, 5000, 4500, 4000, 400, 150)):
        fs.actual_record(agreement=a1, by=owner, period_start=datetime.date(year, 1, 1),
                         period_end=datetime.date(year, 12, 31), investment_wan=D(inv),
                         fixed_asset_investment_wan=D(fixed), funds_arrived_wan=D(arrived),
                         tax_wan=D(tax), jobs=jobs)
    programme = make_programme(code=f"ff-{p1.pk}")
    application = Application.objects.create(
        programme=programme, company=p1.company, project=p1, state=State.DISBURSED,
        requested_amount=D("100000"), approved_amount=D("100000"),
        state_changed_at=timezone.now(), created_by=owner)
    Disbursement.objects.create(application=application, planned_amount=D("100000"),
                                paid_amount=D("100000"), paid_on=TODAY)
    fs.incentive_add(agreement=a1, by=owner, kind="subsidy", application=application,
                     amount_yuan=D("100000"))
    p2 = signed_project(owner, name=confidential_name, confidential=True)
    a2 = fs.agreement_create(
        by=owner, project=p2, title="投资协议二", parties="昆山市人民政府；二号公司",
        signed_on=TODAY - datetime.timedelta(days=60), committed_investment_wan=D("8000"),
        grace_days=30)
    for metric, target, due_on, applies_from in (
            (M.INVESTMENT_TOTAL, "10000", TODAY + datetime.timedelta(days=10), None),
            (M.PRODUCTION_STARTED, None, TODAY - datetime.timedelta(days=5), None),
            (M.JOBS, "50", TODAY + datetime.timedelta(days=200), None),
            (M.TAX, "100", None, TODAY.year + 1)):
        fs.obligation_add(agreement=a2, by=owner, metric=metric,
                          target=D(target) if target else None, due_on=due_on,
                          applies_from=applies_from)
    return {"p1": p1, "p2": p2, "a1": a1, "a2": a2}


@pytest.fixture
def agreements(make_user):
    leader = make_user(Role.LEADER)
    owner = make_user(Role.INVESTMENT_STAFF, full_name="履约专员")
    return {"leader": leader, "owner": owner, **fulfilment_world(owner)}


def test_fulfilment_figures_against_the_hand_computed_agreements(agreements):
    f = selectors.fulfilment_block(user=agreements["leader"], today=TODAY)
    x = f.figures
    year2 = agreements["a2"].signed_on.year
    assert (x.rate, f.due.count, f.met.count) == (D("16.7"), 6, 1)
    assert {r["year"]: (r["due"], r["met"], r["rate"]) for r in f.by_year} == {
        Y0: (5, 1, D("20.0")), year2: (1, 0, D("0.0"))}
    assert (x.committed_wan, x.arrived_wan, x.arrival_rate) == (D("28000"), D("7000"),
                                                                D("25.0"))
    assert [b["count"] for b in f.intensity_bands] == [0, 1, 0]
    assert [b["count"] for b in f.tax_bands] == [0, 1, 0]
    assert [b["width"] for b in f.tax_bands] == [0, 100, 0]
    assert (f.breached.count, x.breached_count) == (4, 1)
    assert (f.due_soon.count, f.missed.count, f.at_risk_projects) == (1, 1, 1)
    assert (x.incentives_paid_yuan, x.tax_since_signing_wan, x.return_ratio) == (
        D("100000"), D("500"), D("50.00"))
    p1, p2 = agreements["p1"], agreements["p2"]
    assert [(r.project_id, r.breached, r.at_risk) for r in f.watch] == [(p1.pk, 4, 0),
                                                                       (p2.pk, 0, 2)]
    returns = {r.project_id: (r.paid_yuan, r.tax_wan, r.ratio) for r in f.returns}
    assert returns == {p1.pk: (D("100000"), D("500"), D("50.00")), p2.pk: (0, 0, None)}


def test_every_fulfilment_figure_links_to_the_list_it_counts(agreements, client_for):
    """Each count on the block carries the fulfilment list that shows exactly those
    obligations (the list's own total), by status and by year of signing."""
    client = client_for(agreements["leader"])
    html = client.get(reverse("dashboards:leader-fulfilment"), HTTP_HX_REQUEST="true"
                      ).content.decode()
    links = re.findall(r'<a href="(/fulfilment/\?[^"]*)" data-count="(\d+)"', html)
    assert len(links) >= 9
    for url, count in links:
        assert list_total(client, url.replace("&amp;", "&")) == int(count), url
    assert 'href="/fulfilment/?status=breached" data-count="4"' in html
    assert "status=due_soon" in html and "status=missed" in html
    assert f"signed_year={Y0}&amp;status=met" in html


def test_the_leader_dashboard_loads_the_fulfilment_block(agreements, client_for, english):
    client = client_for(agreements["leader"])
    page = client.get(reverse("dashboards:leader")).content.decode()
    url = reverse("dashboards:leader-fulfilment")
    assert f'hx-get="{url}"' in page and f'href="{url}"' in page
    block = client.get(url, HTTP_HX_REQUEST="true")
    assert [t.name for t in block.templates][0] == "dashboards/_fulfilment.html"
    text = block.content.decode()
    assert "16.7%" in text and "25.0%" in text and "50.00" in text
    # Leaders may open every project: the confidential one is named to them, and linked.
    assert "履约二号保密项目" in text
    assert reverse("leads:project-detail", args=[agreements["p2"].pk]) in text
    # Without htmx, a page of its own.
    full = client.get(url)
    assert "dashboards/fulfilment.html" in [t.name for t in full.templates]
    assert "NaN" not in text and "None" not in text


def test_fulfilment_names_only_projects_the_reader_may_open(agreements, make_user):
    """The block is the leaders'; its selector answers anyone by the project's access rule:
    a confidential project's agreement counts for no one off its team, and is never named."""
    p2 = agreements["p2"]
    for role in (Role.FUND_REVIEWER, Role.ADMINISTRATOR, Role.PARK_MANAGER):
        block = selectors.fulfilment_block(user=make_user(role), today=TODAY)
        names = {r.name for r in block.watch} | {r.name for r in block.returns}
        assert "履约二号保密项目" not in names
        assert p2.pk not in {r.project_id for r in block.watch}
        assert (block.due.count, block.missed.count) == (5, 0)
    colleague = make_user(Role.INVESTMENT_STAFF)
    assert selectors.fulfilment_block(user=colleague, today=TODAY).watch == []
    own = selectors.fulfilment_block(user=agreements["owner"], today=TODAY)
    assert "履约二号保密项目" in {r.name for r in own.watch}


def test_fulfilment_screens_are_the_leaders(agreements, make_user, client_for):
    url = reverse("dashboards:leader-fulfilment")
    for role in Role.values:
        if role != Role.LEADER:
            assert client_for(make_user(role)).get(url).status_code == 403, role


def test_empty_world_shows_no_fulfilment_sheets_and_dashes(make_user, client_for):
    leader = make_user(Role.LEADER)
    block = selectors.fulfilment_block(user=leader, today=TODAY)
    assert not block.has_agreements and block.figures.rate is None
    html = client_for(leader).get(reverse("dashboards:leader-fulfilment"),
                                  HTTP_HX_REQUEST="true").content.decode()
    assert "NaN" not in html and "None" not in html


def test_monthly_return_and_export_carry_the_fulfilment_figures(agreements, client_for,
                                                                english):
    client = client_for(agreements["leader"])
    book = load_workbook(io.BytesIO(client.get(reverse("dashboards:monthly-return")).content))
    assert book.sheetnames[-5:] == ["Fulfilment by signing year", "Investment intensity",
                                    "Tax per mu", "Breached and at risk",
                                    "Return on incentives"]
    cover = {r[0]: r[1] for r in book["Monthly return"].iter_rows(min_row=3, values_only=True)}
    assert cover["Fulfilment rate (due obligations met) (%)"] == 16.7
    assert cover["Funds arrival rate (arrived ÷ committed) (%)"] == 25
    assert cover["Projects in breach (projects)"] == 1
    assert cover["Projects at risk (due soon or missed) (projects)"] == 1
    assert cover["Tax returned per yuan of incentives (yuan)"] == 50
    years = {r[0]: r[1:] for r in book["Fulfilment by signing year"].iter_rows(
        min_row=3, values_only=True)}
    assert years[Y0] == (5, 1, 20)
    bands = list(book["Tax per mu"].iter_rows(min_row=3, values_only=True))
    assert bands == [("0 – 5", 0), ("5 – 10", 1), ("≥ 10", 0)]
    watch = list(book["Breached and at risk"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[2], r[3]) for r in watch] == [("履约一号项目", 4, 0),
                                                  ("履约二号保密项目", 0, 2)]
    returns = {r[0]: r[1:] for r in book["Return on incentives"].iter_rows(
        min_row=3, values_only=True)}
    assert returns["履约一号项目"] == (100000, 500, 50)
    dashboard = load_workbook(io.BytesIO(client.get(reverse("dashboards:leader-export")).content))
    assert "Return on incentives" in dashboard.sheetnames
    summary = {r[0]: r[1] for r in dashboard["Summary"].iter_rows(min_row=3, values_only=True)}
    assert summary["Fulfilment rate (due obligations met)"] == 16.7


# Measured: the fulfilment block 16 queries cold (the figures, the status counts, the watch
# list, its names and its total, the session and the user), whatever the number of agreements; the
# leader dashboard page does not grow with them (the block loads on its own).
FULFILMENT_QUERY_CEILING = 18


def _cold_and_warm(client, url, headers) -> tuple[int, int]:
    reset_versions()
    with CaptureQueriesContext(connection) as cold:
        assert client.get(url, **headers).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(url, **headers).status_code == 200
    return len(cold), len(warm)


def test_fulfilment_block_runs_a_constant_number_of_queries(make_user, client_for):
    """Measured at one agreement pair and at nine: the same queries, cold, and fewer warm."""
    leader = make_user(Role.LEADER)
    owner = make_user(Role.INVESTMENT_STAFF)
    client = client_for(leader)
    pages = (("block", reverse("dashboards:leader-fulfilment"), {"HTTP_HX_REQUEST": "true"},
              FULFILMENT_QUERY_CEILING),
             ("page", reverse("dashboards:leader"), {}, DASHBOARD_QUERY_CEILING))
    measured, worlds = {}, 0
    for size in (1, 9):
        while worlds < size:
            fulfilment_world(owner, name=f"规模履约{worlds}号",
                             confidential_name=f"规模保密{worlds}号")
            worlds += 1
        for name, url, headers, ceiling in pages:
            cold, warm = _cold_and_warm(client, url, headers)
            assert cold <= ceiling and warm < cold, (name, size, cold, warm)
            measured[(name, size)] = cold
        block = selectors.fulfilment_block(user=leader, today=TODAY)
        assert block.breached.count == 4 * size and len(block.watch) == min(2 * size, 10)
    assert measured[("block", 1)] == measured[("block", 9)], measured
    assert measured[("page", 1)] == measured[("page", 9)], measured
