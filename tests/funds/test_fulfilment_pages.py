"""The fulfilment screens through HTTP: the project page's panel, the agreement page with its
acceptance report (page, print, .xlsx), the list and its export, against the figures worked
out by hand in fulfilment_world; who may read (the project's rule) and who may write (the
team, a leader, an independent reviewer); the funds side of a breach; query ceilings."""

import datetime
import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from crm.accounts.roles import Role
from crm.audit.models import AccessRecord
from funds import services as funds_services
from funds.fulfilment import services
from funds.fulfilment.models import (
    Acceptance,
    Actual,
    Agreement,
    ClawbackProposal,
    Incentive,
    Metric,
    PaymentOverride,
    Remedy,
    Status,
)
from funds.models import Disbursement, State
from parks.models import Assignment
from parks.services import assignment_create
from tests.factories import make_programme, make_unit, system_admin

from .fulfilment_world import PDF, D, agreement_world, signed_project
from .test_fulfilment_rules import _paid_award

pytestmark = pytest.mark.django_db

ON = datetime.date(2026, 4, 1)  # fulfilment_world: fixed and tax per mu breached, grace over


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def en(client):
    """Pages in English (the msgids), messages too."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield client


def login(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, name
    return match.group(1).strip()


def row(html: str, attribute: str, pk) -> str:
    """The <tr> with data-<attribute>="pk", as text without tags (first one only)."""
    match = re.search(rf'<tr data-{attribute}="{pk}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"{attribute}={pk}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def messages_of(response, level="error") -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == level]


def detail(agreement, **query) -> str:
    url = reverse("fulfilment:agreement-detail", args=[agreement.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def list_pks(response) -> set[int]:
    return {o.pk for o in response.context["page"]}


def sheet_rows(response, title=None, *, with_title=False):
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook[title] if title else workbook.worksheets[0]
    first = 1 if with_title else 2  # row 1 is the title row (what, by whom, which filters)
    return [list(r) for r in sheet.iter_rows(min_row=first, values_only=True)]


@pytest.fixture
def world(make_user):
    """fulfilment_world's agreement with 600,000 of a 1,000,000 元 award paid (2025-06-01)."""
    staff = make_user(Role.INVESTMENT_STAFF, full_name="王专员")
    agreement, ob = agreement_world(staff)
    application = _paid_award(make_user, agreement, approved=D("1000000"), paid=D("600000"),
                              paid_on=datetime.date(2025, 6, 1))
    return {"staff": staff, "agreement": agreement, "ob": ob, "application": application,
            "leader": make_user(Role.LEADER, full_name="张局长")}


# --- The project page -------------------------------------------------------------------------
def test_the_project_page_shows_its_agreements_with_traffic_lights(world, en, make_user):
    agreement, ob = world["agreement"], world["ob"]
    project_url = reverse("leads:project-detail", args=[agreement.project_id])
    html = text(login(en, world["staff"]).get(project_url))
    assert 'id="agreements"' in html
    assert reverse("fulfilment:agreement-detail", args=[agreement.pk]) in html
    # Today (after 2026-09-28) fixed, intensity, tax per mu and the milestone are breached;
    # jobs (150 of 120) is met.
    assert "Breached" in row(html, "obligation", ob["fixed"].pk)
    assert 'data-status="breached"' in html and 'data-status="met"' in html
    assert "Met" in row(html, "obligation", ob["jobs"].pk)
    assert "150" in row(html, "obligation", ob["jobs"].pk)
    assert 'id="add-agreement"' in html  # the team of a signed project adds agreements
    # A leader reads the panel, but adds nothing.
    html = text(login(en, world["leader"]).get(project_url))
    assert reverse("fulfilment:agreement-detail", args=[agreement.pk]) in html
    assert 'id="add-agreement"' not in html
    # An unsigned project of the team has no panel at all.
    from tests.factories import make_project

    lead = make_project(owner=world["staff"])
    html = text(login(en, world["staff"]).get(reverse("leads:project-detail", args=[lead.pk])))
    assert 'id="agreements"' not in html


def test_an_agreement_is_created_and_edited_through_its_pages(make_user, en):
    staff = make_user(Role.INVESTMENT_STAFF)
    project = signed_project(staff)
    client = login(en, staff)
    url = reverse("fulfilment:agreement-create") + f"?project={project.pk}"
    assert client.get(url).status_code == 200
    data = {"title": "投资协议", "parties": "昆山市人民政府；某公司", "signed_on": "2024-03-01",
            "land_mu": "50", "committed_investment_wan": "20000",
            "fixed_asset_investment_wan": "15000", "reporting": "year", "grace_days": "90"}
    # A "PDF" that is not one is refused by the service's check, on the field.
    fake = SimpleUploadedFile("协议.pdf", b"MZ this is not a pdf")
    response = client.post(url, {**data, "document": fake})
    assert response.status_code == 400 and "document" in response.context["form"].errors
    assert not Agreement.objects.exists()
    response = client.post(url, {**data, "document": SimpleUploadedFile("协议.pdf", PDF)})
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert (agreement.land_mu, agreement.committed_investment_wan) == (D("50"), D("20000"))
    # The document downloads through the agreement's access rule.
    download = client.get(reverse("fulfilment:agreement-document", args=[agreement.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    # Fixed assets above the total are refused with the constraint's reason.
    edit = reverse("fulfilment:agreement-edit", args=[agreement.pk])
    response = client.post(edit, {**data, "fixed_asset_investment_wan": "30000"})
    assert response.status_code == 400
    assert "cannot exceed" in text(response)
    response = client.post(edit, {**data, "grace_days": "30"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.grace_days == 30 and agreement.document  # the document stays
    # Someone not on the team may not create one (a leader reads, but keeps no agreements).
    leader = make_user(Role.LEADER)
    assert login(en, leader).get(url).status_code == 403
    assert client.get(reverse("fulfilment:agreement-create")).status_code == 400


# --- The agreement page and its acceptance report ---------------------------------------------
def test_the_agreement_page_shows_the_figures_worked_out_by_hand(world, en):
    """Key figures: 50 亩; 20,000 committed of which 15,000 fixed; funds arrived 3,000 + 4,000
    = 7,000 (35.0 % of 20,000); fixed assets 2,500 + 4,500 = 7,000, intensity 7,000 ÷ 50 = 140.
    The acceptance report on 2026-04-01 is test_fulfilment_rules' verdict: fixed short 2,000
    (22.22 %), tax per mu 8 of 10 (short 2, 20 %), jobs met; remedies 133,320.00 元 (600,000 ×
    0.2222) + 50,000.00 due back, 400,000.00 withheld (shown in 万元: 13.332, 5.00, 40.00)."""
    agreement, ob = world["agreement"], world["ob"]
    html = text(login(en, world["staff"]).get(detail(agreement, on=ON.isoformat())))
    assert figure(html, "land") == "50.00"
    assert figure(html, "committed") == "20,000.00"
    assert figure(html, "fixed-committed") == "15,000.00"
    assert figure(html, "arrived") == "7,000.00"
    assert figure(html, "arrival-rate") == "35.0%"
    assert figure(html, "fixed-so-far") == "7,000.00"
    assert figure(html, "intensity") == "140.00"
    assert figure(html, "grace") == "90"
    # Today's statuses with the actuals behind them.
    assert "7,000.00" in row(html, "obligation", ob["fixed"].pk)
    # The timeline of actuals, a chart of them, and the incentive's application.
    assert "2024-01-01 – 2024-12-31" in html and "2025-01-01 – 2025-12-31" in html
    assert 'id="actuals-charts"' in html and html.count('class="bar-row"') == 4
    application_url = reverse("funds:application-detail", args=[world["application"].pk])
    assert application_url in html
    # The acceptance report.
    assert 'data-verdict="fail"' in html
    report = html[html.index('id="report-obligations"'):]
    fixed = row(report, "obligation", ob["fixed"].pk)
    assert "9,000.00" in fixed and "7,000.00" in fixed and "2,000.00" in fixed
    assert "22.22%" in fixed and "Breached" in fixed
    tax = row(report, "obligation", ob["tax_per_mu"].pk)
    assert "10.00" in tax and "8.00" in tax and "2.00" in tax and "20.00%" in tax
    assert "Met" in row(report, "obligation", ob["jobs"].pk)
    remedies = html[html.index('id="report-remedies"'):]
    lines = {r.kind: r.pk for r in agreement.remedies.all()}
    assert "13.332" in row(remedies, "remedy", lines[Remedy.Kind.PROPORTIONAL_CLAWBACK])
    assert "5.00" in row(remedies, "remedy", lines[Remedy.Kind.FIXED_PENALTY])
    assert "40.00" in row(remedies, "remedy", lines[Remedy.Kind.WITHHOLD])
    assert re.search(r'id="total-due-back">18.332<', html)
    assert re.search(r'id="total-withheld">40.00<', html)
    # Before anything was due the verdict passes and costs nothing.
    early = text(en.get(detail(agreement, on="2024-06-01")))
    assert 'data-verdict="pass"' in early and re.search(r'id="total-due-back">0.00<', early)
    # A malformed day is a 400 that names it.
    assert en.get(detail(agreement, on="2026-13-45")).status_code == 400


def test_the_print_view_and_the_spreadsheet_carry_the_same_report(world, en):
    agreement, ob = world["agreement"], world["ob"]
    client = login(en, world["leader"])
    printed = client.get(reverse("fulfilment:acceptance-print", args=[agreement.pk])
                         + f"?on={ON.isoformat()}")
    html = text(printed)
    assert printed.status_code == 200 and "data-print" in html
    assert re.search(r'id="total-due-back">18.332<', html)
    assert re.search(r'id="total-withheld">40.00<', html)
    assert "22.22%" in row(html, "obligation", ob["fixed"].pk)

    export = client.get(reverse("fulfilment:acceptance-export", args=[agreement.pk])
                        + f"?on={ON.isoformat()}")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    summary = dict(sheet_rows(export, "Verdict")[1:])
    assert summary["Verdict"] == "Fail"
    assert Decimal(str(summary["Money due back (yuan)"])) == D("183320.00")
    assert Decimal(str(summary["Incentives withheld (yuan)"])) == D("400000.00")
    obligations = {r[0]: r for r in sheet_rows(export, "Obligations")[1:]}
    fixed = obligations[str(Metric(Metric.FIXED_ASSET_INVESTMENT).label)]
    assert Decimal(str(fixed[2])) == D("7000") and Decimal(str(fixed[6])) == D("2000")
    assert Decimal(str(fixed[7])) == D("0.2222")
    remedies = {r[0]: r for r in sheet_rows(export, "Remedies")[1:]}
    assert Decimal(str(remedies["Proportional clawback"][3])) == D("133320.00")
    assert Decimal(str(remedies["Withhold unpaid incentives"][4])) == D("400000.00")


def test_the_team_adds_clauses_and_actuals_with_evidence(make_user, en):
    staff = make_user(Role.INVESTMENT_STAFF)
    agreement, ob = agreement_world(staff)
    client = login(en, staff)
    base = reverse("fulfilment:agreement-detail", args=[agreement.pk])
    response = client.post(base + "obligations/new/", {
        "metric": Metric.OUTPUT_VALUE, "target": "10000", "applies_from": "2026"})
    assert response.status_code == 302
    # A yearly figure with no year comes back on its field, with the service's reason.
    response = client.post(base + "obligations/new/", {"metric": Metric.TAX, "target": "5"})
    assert response.status_code == 400
    assert response.context["obligation_form"].errors and response.context["open_form"] == \
        "obligation"
    response = client.post(base + "incentives/new/", {
        "kind": Incentive.Kind.RENT_FREE, "rent_free_months": "12", "description": "免租一年"})
    assert response.status_code == 302
    response = client.post(base + "remedies/new/", {"kind": Remedy.Kind.FULL_CLAWBACK,
                                                    "obligation": ob["started"].pk})
    assert response.status_code == 302
    # The 2026 actuals, with their evidence; the same period twice is refused.
    period = {"period_start": "2026-01-01", "period_end": "2026-12-31",
              "investment_wan": "1000", "fixed_asset_investment_wan": "1000",
              "funds_arrived_wan": "1000", "tax_wan": "300", "jobs": "160"}
    response = client.post(base + "actuals/new/", {
        **period, "evidence": SimpleUploadedFile("统计报表.pdf", PDF)})
    assert response.status_code == 302
    actual = Actual.objects.get(agreement=agreement, period_start=datetime.date(2026, 1, 1))
    assert actual.tax_wan == D("300") and actual.evidence
    response = client.post(base + "actuals/new/", period)
    assert response.status_code == 400 and "period_start" in response.context[
        "actual_form"].errors
    html = text(client.get(base))
    assert "免租一年" in html and "12 months" in html
    assert "Full clawback" in html
    evidence = reverse("fulfilment:actual-evidence", args=[agreement.pk, actual.pk])
    assert evidence in html
    download = client.get(evidence)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    # The next period offered is the one after the last reported.
    form = client.get(base).context["actual_form"]
    assert form.initial["period_start"] == datetime.date(2027, 1, 1)


def test_only_the_team_reports_actuals(world, en, make_user):
    agreement = world["agreement"]
    url = reverse("fulfilment:actual-add", args=[agreement.pk])
    period = {"period_start": "2026-01-01", "period_end": "2026-12-31", "tax_wan": "1"}
    reviewer = make_user(Role.FUND_REVIEWER)  # reads the agreement, is not on the team
    for outsider in (world["leader"], reviewer):
        client = login(en, outsider)
        page = client.get(detail(agreement))
        assert page.status_code == 200 and page.context.get("actual_form") is None
        assert client.post(url, period).status_code == 403
    stranger = make_user(Role.INVESTMENT_STAFF)  # may not even read it
    assert login(en, stranger).post(url, period).status_code == 404
    assert not Actual.objects.filter(period_start=datetime.date(2026, 1, 1)).exists()


def test_only_a_leader_confirms_and_the_clawback_is_proposed(world, en, make_user):
    agreement = world["agreement"]
    url = reverse("fulfilment:acceptance-confirm", args=[agreement.pk])
    data = {"on": ON.isoformat(), "note": "经现场核查，固定资产投资未达约定"}
    staff_page = login(en, world["staff"]).get(detail(agreement))
    assert staff_page.context["confirm_form"] is None
    assert en.post(url, data).status_code == 403
    reviewer = make_user(Role.FUND_REVIEWER)
    assert login(en, reviewer).post(url, data).status_code == 403
    assert not Acceptance.objects.exists()

    client = login(en, world["leader"])
    assert client.get(detail(agreement)).context["confirm_form"] is not None
    response = client.post(url, data)
    assert response.status_code == 302
    acceptance = Acceptance.objects.get()
    assert (acceptance.verdict, acceptance.on, acceptance.confirmed_by) == (
        Acceptance.Verdict.FAIL, ON, world["leader"])
    assert acceptance.due_back_yuan == D("183320.00")
    proposal = ClawbackProposal.objects.get()
    assert (proposal.application, proposal.amount_yuan) == (world["application"], D("133320.00"))
    html = text(client.get(detail(agreement, on=ON.isoformat())))
    confirmed = row(html, "acceptance", acceptance.pk)
    assert "张局长" in confirmed and "经现场核查" in confirmed and "13.332" in confirmed
    assert "Proposed" in confirmed
    # An empty note is refused with the reason, and nothing is confirmed.
    response = client.post(url, {"on": ON.isoformat(), "note": " "}, follow=True)
    assert messages_of(response) and Acceptance.objects.count() == 1


# --- Access -------------------------------------------------------------------------------------
def test_a_confidential_agreement_stays_with_its_team_and_leaders(make_user, en):
    staff = make_user(Role.INVESTMENT_STAFF)
    secret_project = signed_project(staff, confidential=True, name="绝密项目")
    secret, _ob = agreement_world(staff, project=secret_project)
    services.agreement_update(agreement=secret, by=staff,
                              document=SimpleUploadedFile("协议.pdf", PDF))
    open_project = signed_project(staff, name="公开项目")
    public, _ob = agreement_world(staff, project=open_project)
    urls = [detail(secret), detail(secret, on=ON.isoformat()),
            reverse("fulfilment:acceptance-print", args=[secret.pk]),
            reverse("fulfilment:acceptance-export", args=[secret.pk]),
            reverse("fulfilment:agreement-document", args=[secret.pk]),
            reverse("fulfilment:agreement-edit", args=[secret.pk])]
    other_staff = make_user(Role.INVESTMENT_STAFF)
    park_manager = make_user(Role.PARK_MANAGER)
    list_url = reverse("fulfilment:obligation-list")
    export_url = reverse("fulfilment:obligation-export")
    for outsider in (other_staff, park_manager):
        client = login(en, outsider)
        for url in urls:
            assert client.get(url).status_code == 404, (outsider, url)
        page = client.get(list_url)
        assert "绝密项目" not in text(page)
        assert not any(o.agreement_id == secret.pk for o in page.context["page"])
        assert "绝密项目" not in str(sheet_rows(client.get(export_url), with_title=True))
    # The park manager reads the public agreement (every non-confidential project); the
    # other staff member reads none.
    assert login(en, park_manager).get(detail(public)).status_code == 200
    assert "公开项目" in text(en.get(list_url))
    assert login(en, other_staff).get(detail(public)).status_code == 404
    # A leader reads it all, the list and the export included.
    leader = make_user(Role.LEADER)
    client = login(en, leader)
    for url in urls[:-1]:
        assert client.get(url).status_code == 200, url
    # Their reads of the confidential project's agreement are recorded, as the project's are.
    actions = set(AccessRecord.objects.filter(user=leader, object_id=secret_project.pk)
                  .values_list("action", flat=True))
    assert actions == {AccessRecord.Action.VIEW, AccessRecord.Action.EXPORT,
                       AccessRecord.Action.DOWNLOAD}
    assert "绝密项目" in text(client.get(list_url))
    assert "绝密项目" in str(sheet_rows(client.get(export_url)))


# --- The list -----------------------------------------------------------------------------------
def test_the_list_shows_the_figures_and_exports_them(world, en):
    agreement, ob = world["agreement"], world["ob"]
    client = login(en, world["staff"])
    response = client.get(reverse("fulfilment:obligation-list"))
    html = text(response)
    assert list_pks(response) == {o.pk for o in ob.values()}
    fixed = row(html, "obligation", ob["fixed"].pk)
    assert agreement.project.name in fixed and agreement.project.company.name in fixed
    assert "9,000.00" in fixed and "7,000.00" in fixed and "2025-12-31" in fixed
    assert "Breached" in fixed and "王专员" in fixed
    assert "Every year from 2025" in row(html, "obligation", ob["tax_per_mu"].pk)
    export = client.get(reverse("fulfilment:obligation-export") + "?metric=tax_per_mu")
    rows = sheet_rows(export)
    assert len(rows) == 2
    header, line = rows
    values = dict(zip(header, line, strict=True))
    assert values["Project"] == agreement.project.name
    assert Decimal(str(values["Target"])) == D("10") and Decimal(str(values["Actual"])) == D("8")
    assert values["Status"] == "Breached" and values["Due"] == "Every year from 2025"


def test_the_export_keeps_to_the_limit(world, en, settings):
    settings.EXPORT_MAX_ROWS = 3
    client = login(en, world["staff"])
    response = client.get(reverse("fulfilment:obligation-export"), follow=True)
    assert any("at most 3 rows" in m for m in messages_of(response))
    assert client.get(reverse("fulfilment:obligation-export") + "?status=met").status_code == 200


def test_the_list_filters(make_user, en):
    first_owner = make_user(Role.INVESTMENT_STAFF, full_name="甲专员")
    second_owner = make_user(Role.INVESTMENT_STAFF, full_name="乙专员")
    first, ob = agreement_world(first_owner)
    second_project = signed_project(second_owner)
    second = services.agreement_create(by=second_owner, project=second_project, title="协议二",
                                       parties="甲；乙", signed_on=datetime.date(2026, 1, 5),
                                       committed_investment_wan=D("5000"))
    today = datetime.date.today()
    later = services.obligation_add(agreement=second, by=second_owner,
                                    metric=Metric.INVESTMENT_TOTAL, target=D("3000"),
                                    due_on=today + datetime.timedelta(days=200))
    started = services.obligation_add(agreement=second, by=second_owner,
                                      metric=Metric.CONSTRUCTION_STARTED,
                                      due_on=today + datetime.timedelta(days=20))
    client = login(en, make_user(Role.LEADER))
    url = reverse("fulfilment:obligation-list")

    def pks(**params):
        return list_pks(client.get(url, params))

    assert pks() == {*[o.pk for o in ob.values()], later.pk, started.pk}
    # Status, as stored today: the world's figures and milestone are past their grace (today
    # is after 2026-09-28), jobs are met; the second agreement's milestone is due in 20 days.
    assert pks(status="met") == {ob["jobs"].pk}
    breached = {ob["fixed"].pk, ob["intensity"].pk, ob["tax_per_mu"].pk, ob["started"].pk}
    assert pks(status="breached") == breached
    assert pks(status="due_soon") == {started.pk}
    assert pks(status=["met", "on_track"]) == {ob["jobs"].pk, later.pk}
    assert pks(metric=Metric.CONSTRUCTION_STARTED) == {ob["started"].pk, started.pk}
    assert pks(owner=second_owner.pk) == {later.pk, started.pk}
    assert pks(due_after="2026-01-01") == {ob["intensity"].pk, later.pk, started.pk}
    assert pks(due_after="2026-01-01",
               due_before=(today + datetime.timedelta(days=100)).isoformat()) == {
        ob["intensity"].pk, started.pk}
    assert pks(due_before="2025-12-31") == {ob["fixed"].pk, ob["jobs"].pk, ob["started"].pk}
    assert pks(signed_year="2026") == {later.pk, started.pk}
    assert pks(agreement=first.pk) == {o.pk for o in ob.values()}
    # Park: the projects holding a unit of the park (an active lease).
    unit = make_unit()
    assignment_create(unit=unit, company=second_project.company, project=second_project,
                      kind=Assignment.Kind.LEASE, start=datetime.date(2026, 1, 1),
                      end=datetime.date(2029, 1, 1), by=system_admin())
    assert pks(park=unit.park_id) == {later.pk, started.pk}
    # The API's list extends the same filters: the same answer.
    api = client.get("/api/v1/obligations/", {"park": unit.park_id, "status": "due_soon"})
    assert {row["id"] for row in api.json()["results"]} == {started.pk}
    # A filter that makes no sense is an error on the form, not a crash.
    for nonsense in ({"status": "nonsense", "due_after": "x"},
                     {"signed_year": "1e40", "agreement": "9" * 30, "owner": "abc"}):
        response = client.get(url, nonsense)
        assert response.status_code == 200 and response.context["filter"].errors


# --- The funds side -----------------------------------------------------------------------------
def _unpaid_tranche(make_user, agreement):
    """An approved award of the world's project with one tranche planned and not paid."""
    from .test_workflow import draft, to_publicity

    people = {"staff": agreement.project.owner, "reviewer": make_user(Role.FUND_REVIEWER),
              "reviewer2": make_user(Role.FUND_REVIEWER),
              "approver": make_user(Role.FUND_REVIEWER)}
    programme = make_programme(budget_yuan=D("5000000"), cap_per_company_yuan=None)
    application = to_publicity(people, draft(people, programme=programme,
                                             company=agreement.project.company,
                                             project=agreement.project, amount="200000"))
    funds_services.application_transition(application=application, to=State.APPROVED,
                                          by=people["approver"], amount=D("200000"))
    tranche = funds_services.disbursement_plan(application=application, by=people["reviewer"],
                                               amount=D("80000"),
                                               planned_on=datetime.date.today())
    return application, tranche, people["reviewer"]


def test_a_breached_tranche_is_refused_on_the_page_until_a_leader_overrides(world, en,
                                                                           make_user):
    application, tranche, reviewer = _unpaid_tranche(make_user, world["agreement"])
    application_url = reverse("funds:application-detail", args=[application.pk])
    pay_url = reverse("funds:tranche-pay", args=[application.pk, tranche.pk])
    override_url = reverse("funds:tranche-override", args=[application.pk, tranche.pk])
    client = login(en, reviewer)
    html = text(client.get(application_url))
    assert 'id="breach"' in html and "in breach of its agreement" in html
    response = client.post(pay_url, {"paid_on": datetime.date.today().isoformat()},
                           follow=True)
    refusal = messages_of(response)
    assert refusal and "The project is in breach of its agreement" in refusal[0]
    assert "Fixed-asset investment" in refusal[0]
    tranche.refresh_from_db()
    assert tranche.paid_amount is None
    # Only a leader overrides, and only with a reason.
    assert client.post(override_url, {"reason": "x"}).status_code == 403
    leader = login(en, world["leader"])
    page = leader.get(application_url)
    assert [d.pk for d, form in page.context["overrides"] if form] == [tranche.pk]
    response = leader.post(override_url, {"reason": ""}, follow=True)
    assert messages_of(response)
    assert not PaymentOverride.objects.filter(disbursement=tranche).exists()
    response = leader.post(override_url, {"reason": "企业已提交整改方案，先行拨付"})
    assert response.status_code == 302
    override = PaymentOverride.objects.get(disbursement=tranche)
    assert override.by == world["leader"]
    html = text(leader.get(application_url))
    assert "Breach overridden by 张局长" in html and "企业已提交整改方案" in html
    # Now the reviewer's payment goes through.
    client = login(en, reviewer)
    response = client.post(pay_url, {"paid_on": datetime.date.today().isoformat()})
    assert response.status_code == 302 and not messages_of(response)
    tranche.refresh_from_db()
    assert tranche.paid_amount == D("80000")


def test_a_reviewer_records_or_dismisses_a_proposed_clawback(world, en, make_user):
    agreement, application = world["agreement"], world["application"]
    services.acceptance_confirm(agreement=agreement, by=world["leader"], on=ON,
                                note="验收未通过")
    proposal = ClawbackProposal.objects.get()
    application_url = reverse("funds:application-detail", args=[application.pk])
    record_url = reverse("funds:clawback-proposal-record", args=[application.pk, proposal.pk])
    # The leader and the project's team see the proposal but may not decide it.
    html = text(login(en, world["leader"]).get(application_url))
    assert "13.332" in row(html, "proposal", proposal.pk)
    assert record_url not in html
    assert en.post(record_url).status_code == 403
    reviewer = make_user(Role.FUND_REVIEWER)
    client = login(en, reviewer)
    html = text(client.get(application_url))
    assert record_url in html
    # Dismissing needs a note; then recording it claws the money back.
    dismiss_url = reverse("funds:clawback-proposal-dismiss", args=[application.pk,
                                                                   proposal.pk])
    response = client.post(dismiss_url, {"note": ""}, follow=True)
    assert messages_of(response)
    response = client.post(record_url)
    assert response.status_code == 302 and not messages_of(response)
    proposal.refresh_from_db()
    assert proposal.status == ClawbackProposal.Status.RECORDED
    assert proposal.clawback.paid_amount == D("-133320.00")
    application.refresh_from_db()
    assert application.state == State.CLAWED_BACK
    html = text(client.get(application_url))
    assert "Recorded" in row(html, "proposal", proposal.pk)
    response = client.post(record_url, follow=True)  # twice: refused, nothing more
    assert messages_of(response)
    assert Disbursement.objects.filter(application=application,
                                       kind=Disbursement.Kind.CLAWBACK).count() == 1
    # The agreement page lists the confirmation with its recorded proposal.
    html = text(login(en, world["leader"]).get(detail(agreement)))
    assert "Recorded" in html and "13.332" in html


# --- Query ceilings -----------------------------------------------------------------------------
# Session, user, roles and the inbox count, then the page's own reads: the same ceiling at
# both sizes (measured: list 9, agreement page 22, project page 19 for its owner), and the read
# of the reader's memberships (their data scope: crm/org/scopes.py).
LIST_MAX_QUERIES = 11
AGREEMENT_MAX_QUERIES = 23
PROJECT_MAX_QUERIES = 20


def _more_clauses(agreement, staff, n):
    for i in range(n):
        services.obligation_add(agreement=agreement, by=staff, metric=Metric.INVESTMENT_TOTAL,
                                target=D(1000 + i), due_on=datetime.date(2027, 1, 1 + i))
        services.incentive_add(agreement=agreement, by=staff, kind=Incentive.Kind.RENT_FREE,
                               rent_free_months=i + 1)
        services.remedy_add(agreement=agreement, by=staff, kind=Remedy.Kind.FIXED_PENALTY,
                            amount_yuan=D(1000 + i))
    for year in range(2026, 2026 + n // 2):
        services.actual_record(agreement=agreement, by=staff,
                               period_start=datetime.date(year, 1, 1),
                               period_end=datetime.date(year, 12, 31), tax_wan=D("1"),
                               evidence=SimpleUploadedFile("e.pdf", PDF))


@pytest.mark.parametrize("size", [1, 4])
def test_the_list_and_the_agreement_page_have_a_query_ceiling(size, make_user, client,
                                                             django_assert_max_num_queries):
    staff = make_user(Role.INVESTMENT_STAFF)
    leader = make_user(Role.LEADER)
    worlds = [agreement_world(staff) for _ in range(size)]
    agreement = worlds[0][0]
    _more_clauses(agreement, staff, 2 * size)
    for days in range(size):
        services.acceptance_confirm(agreement=agreement, by=leader,
                                    on=ON - datetime.timedelta(days=days), note="x")
    for user in (staff, leader):
        client.force_login(user)
        with django_assert_max_num_queries(LIST_MAX_QUERIES):
            assert client.get(reverse("fulfilment:obligation-list")).status_code == 200
        with django_assert_max_num_queries(LIST_MAX_QUERIES):
            assert client.get(reverse("fulfilment:obligation-list"),
                              {"status": Status.BREACHED, "owner": staff.pk}).status_code == 200
        with django_assert_max_num_queries(AGREEMENT_MAX_QUERIES):
            assert client.get(detail(agreement, on=ON.isoformat())).status_code == 200
        with django_assert_max_num_queries(PROJECT_MAX_QUERIES):
            project_url = reverse("leads:project-detail", args=[agreement.project_id])
            assert client.get(project_url).status_code == 200
