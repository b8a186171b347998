"""The company and project search selects (crm/core/widgets.py, leads/views_lookup.py): form
pages that no longer grow with the number of companies and projects (issue 8), lookups that
find by name, pinyin initials and credit code within the user's view, and forms that still
validate against everything the user may see and nothing else."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from crm.accounts.roles import Role
from funds.forms import ApplicationForm
from funds.models import Application
from leads.models import Company, Project, Stage
from leads.views_lookup import LOOKUP_LIMIT
from parks import services as park_services
from parks.models import Assignment
from tests.browser import ARTIFACTS, browser_page, login  # noqa: F401 (fixture)
from tests.factories import (
    TEST_PASSWORD,
    CompanyFactory,
    make_programme,
    make_project,
    make_unit,
    system_admin,
)

pytestmark = pytest.mark.django_db

OPTION = re.compile(r"<option\b[^>]*>", re.S)


def options(html: str, select_id: str) -> list[tuple[str, str]]:
    """(value, label) of the options of the select with this id, or of a lookup fragment."""
    if select_id:
        start = html.index(f'id="{select_id}"')
        html = html[start:html.index("</select>", start)]
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', html)


def lookup(client, name: str, **params) -> list[tuple[str, str]]:
    response = client.get(reverse(f"leads:lookup-{name}"), params)
    assert response.status_code == 200
    return options(response.content.decode(), "")


@pytest.fixture
def park_world(make_user):
    manager = make_user(Role.PARK_MANAGER)
    park = park_services.park_create(by=system_admin(), code="gd", name="光电产业园",
                                     managers=[manager])
    return manager, make_unit(park=park, code="A-301", area="300")


def _more_companies_and_projects(owner, n: int, *, batch: str) -> None:
    """n companies with a project each, in bulk (the services would take long for 300)."""
    companies = Company.objects.bulk_create(
        Company(name=f"批量{batch}{i}号企业", name_key=f"批量{batch}{i}号",
                name_initials=f"pl{batch}{i}")
        for i in range(n))
    lead, now = Stage.objects.get(code="lead"), timezone.now()
    Project.objects.bulk_create(
        Project(company=company, name=f"批量项目{batch}{i}", owner=owner, stage=lead,
                stage_entered_at=now, entered_at=now, next_step="回访",
                next_step_on=now.date())
        for i, company in enumerate(companies))


# --- Page size ---------------------------------------------------------------------------------
def test_form_pages_do_not_grow_with_the_companies_and_projects(make_user, client, park_world):
    staff, reviewer = make_user(Role.INVESTMENT_STAFF), make_user(Role.FUND_REVIEWER)
    manager, unit = park_world
    project = make_project(owner=staff)
    make_programme()
    pages = [
        (staff, reverse("leads:project-create")),
        (staff, reverse("leads:project-create") + f"?company={project.company_id}"),
        (staff, reverse("funds:application-create")),
        (staff, reverse("funds:application-create") + f"?project={project.pk}"),
        (reviewer, reverse("funds:application-list")),
        (reviewer, reverse("funds:application-list") + f"?company={project.company_id}"),
        (manager, reverse("parks:unit-detail", args=[unit.pk])),
    ]

    def measure():
        figures = []
        for user, url in pages:
            client.force_login(user)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, url
            figures.append((url, len(OPTION.findall(response.content.decode())),
                            len(queries)))
        return figures

    _more_companies_and_projects(staff, 4, batch="a")
    small = measure()
    _more_companies_and_projects(staff, 300, batch="b")
    assert Company.objects.count() > 300 and Project.objects.count() > 300
    assert measure() == small


def test_form_renders_only_the_chosen_company_and_project(staff_user, client):
    project = make_project(owner=staff_user, name="元宇宙展厅")
    CompanyFactory.create_batch(3)
    client.force_login(staff_user)
    html = client.get(reverse("funds:application-create"), {"project": project.pk}) \
        .content.decode()
    # An optional choice keeps its empty option to clear it; a required one needs none.
    assert options(html, "id_company") == [(str(project.company_id), project.company.name)]
    assert options(html, "id_project") == [
        ("", "请选择…"), (str(project.pk), f"元宇宙展厅（{project.company.name}）")]
    # The search box: labelled, asking the lookup, filling the select.
    assert re.search(r'id="id_company_search"[^>]*\saria-label="[^"]+"', html)
    assert f'hx-get="{reverse("leads:lookup-projects")}"' in html
    assert 'hx-target="#id_project"' in html
    assert 'hx-trigger="input changed delay:300ms, search, refresh"' in html

    empty = client.get(reverse("leads:project-create")).content.decode()
    [(value, hint)] = options(empty, "id_company")
    assert value == "" and hint  # the hint, before anything is chosen


# --- Lookups -----------------------------------------------------------------------------------
def test_company_lookup_finds_by_name_initials_and_credit_code(staff_user, client):
    target = CompanyFactory(name="昆山元宇宙科技有限公司")
    CompanyFactory(name="苏州光电有限公司")
    client.force_login(staff_user)
    expected = (str(target.pk), target.name)
    for query in ("元宇宙", "ksyyz", "KSYYZ", target.uscc, target.uscc.lower()):
        found = lookup(client, "companies", q=query)
        assert found[0][0] == "" and expected in found[1:], query
        assert len(found) == 2, query  # the status line and the one match
    status = lookup(client, "companies", q="不存在的名字")
    assert [value for value, _label in status] == [""]
    # An empty query answers with the hint alone, or the hint and the current choice.
    assert [v for v, _ in lookup(client, "companies", q="")] == [""]
    kept = lookup(client, "companies", q="光电", selected=target.pk)
    assert kept[1] == expected and len(kept) == 3


def test_lookups_return_at_most_twenty_in_order(staff_user, client):
    for i in range(LOOKUP_LIMIT + 5):
        company = CompanyFactory(name=f"昆山测试第{i:02d}科技有限公司")
        make_project(owner=staff_user, company=company, name=f"测试项目{i:02d}")
    client.force_login(staff_user)
    companies = lookup(client, "companies", q="测试第")[1:]
    assert len(companies) == LOOKUP_LIMIT
    assert [label for _v, label in companies] == sorted(label for _v, label in companies)
    projects = lookup(client, "projects", q="测试项目")[1:]
    assert len(projects) == LOOKUP_LIMIT
    assert projects[0][1].startswith("测试项目24（")  # the most recently updated first


def test_project_lookup_offers_only_what_the_user_may_see(make_user, client):
    staff, colleague = make_user(Role.INVESTMENT_STAFF), make_user(Role.INVESTMENT_STAFF)
    manager, leader = make_user(Role.PARK_MANAGER), make_user(Role.LEADER)
    company = CompanyFactory(name="昆山视界科技有限公司")
    own = make_project(owner=staff, company=company, name="视界一期")
    shared = make_project(owner=colleague, company=company, name="视界二期",
                          collaborators=[staff])
    others = make_project(owner=colleague, company=company, name="视界三期")
    secret = make_project(owner=colleague, company=company, name="视界四期", confidential=True)

    def seen(user, **params):
        client.force_login(user)
        return {int(v) for v, _label in lookup(client, "projects", **params) if v}

    everything = {own.pk, shared.pk, others.pk, secret.pk}
    # Staff: own and collaborating projects only (Project.objects.visible_to).
    assert seen(staff, q="视界") == {own.pk, shared.pk}
    # A park manager: every project that is not confidential.
    assert seen(manager, q="kssj") == {own.pk, shared.pk, others.pk}
    assert seen(leader, q="视界") == everything
    # A hidden project passed as the current choice is not echoed back either.
    assert secret.pk not in seen(manager, q="视界", selected=secret.pk)
    assert secret.pk not in seen(manager, q="", company=company.pk, selected=secret.pk)


def test_project_lookup_narrowed_by_company(staff_user, client):
    first = CompanyFactory(name="昆山甲科技有限公司")
    second = CompanyFactory(name="昆山乙科技有限公司")
    a = make_project(owner=staff_user, company=first, name="智能制造项目")
    b = make_project(owner=staff_user, company=second, name="智能制造项目")
    client.force_login(staff_user)
    both = lookup(client, "projects", q="智能制造")
    assert {v for v, _ in both if v} == {str(a.pk), str(b.pk)}
    # The label names the company: two projects of the same name stay apart.
    assert (str(a.pk), "智能制造项目（昆山甲科技有限公司）") in both
    assert [v for v, _ in lookup(client, "projects", q="智能制造", company=first.pk) if v] == [
        str(a.pk)]
    # A company and no text: that company's projects; the current choice of another company
    # is dropped (the project must belong to the company).
    assert [v for v, _ in lookup(client, "projects", company=second.pk, selected=a.pk) if v] \
        == [str(b.pk)]
    assert [v for v, _ in lookup(client, "projects", q="")] == [""]
    assert lookup(client, "projects", q="", company="x")[0][0] == ""  # a bad id is ignored


# --- Validation still uses the whole visible queryset ------------------------------------------
def test_a_company_or_project_the_user_may_not_see_is_an_invalid_choice(make_user, client,
                                                                          park_world):
    staff, colleague = make_user(Role.INVESTMENT_STAFF), make_user(Role.INVESTMENT_STAFF)
    manager, unit = park_world
    secret = make_project(owner=colleague, confidential=True)
    company = CompanyFactory()
    programme = make_programme()
    client.force_login(staff)

    response = client.post(reverse("funds:application-create"), {
        "programme": programme.pk, "company": secret.company_id, "project": secret.pk,
        "requested_amount": "1000"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["project"]
    # Without a choice of it, the hidden project is not rendered back either.
    assert str(secret.name) not in response.content.decode()

    response = client.post(reverse("leads:project-create"), {
        "company": 999999, "name": "不存在的企业", "stage": Stage.objects.get(code="lead").pk,
        "funds_arrived_wan": "0", "next_step": "约见", "next_step_on": "2030-01-01"})
    assert response.status_code == 200 and "company" in response.context["form"].errors

    client.force_login(manager)
    response = client.post(reverse("parks:assignment-create", args=[unit.pk]), {
        "kind": "lease", "company": company.pk, "project": secret.pk, "start": "2030-01-01",
        "last_day": "2030-12-31"})
    assert response.status_code == 400 and "project" in response.context["form"].errors
    assert not Assignment.objects.exists()

    # Someone with no role sees no company at all: any company is refused.
    form = ApplicationForm({"programme": programme.pk, "company": company.pk,
                            "requested_amount": "1000"}, user=make_user())
    assert "company" in form.errors


# --- Creating through the forms still works ---------------------------------------------------
def test_create_project_application_and_assignment_through_the_forms(make_user, client,
                                                                      park_world):
    staff = make_user(Role.INVESTMENT_STAFF)
    manager, unit = park_world
    company = CompanyFactory(name="昆山新视野科技有限公司")
    client.force_login(staff)

    page = client.get(reverse("leads:project-create"), {"company": company.pk}).content.decode()
    assert options(page, "id_company") == [(str(company.pk), company.name)]
    response = client.post(reverse("leads:project-create"), {
        "company": company.pk, "name": "新视野光学项目",
        "stage": Stage.objects.get(code="lead").pk, "funds_arrived_wan": "0",
        "next_step": "约见", "next_step_on": "2030-01-01"})
    assert response.status_code == 302, response.context["form"].errors
    project = Project.objects.get(name="新视野光学项目")
    assert project.company == company

    programme = make_programme()
    response = client.post(reverse("funds:application-create"), {
        "programme": programme.pk, "company": company.pk, "project": project.pk,
        "title": "光学补贴", "requested_amount": "350000.00"})
    assert response.status_code == 302
    application = Application.objects.get()
    assert (application.company, application.project, application.requested_amount) == (
        company, project, Decimal("350000.00"))

    client.force_login(manager)
    response = client.post(reverse("parks:assignment-create", args=[unit.pk]), {
        "kind": "lease", "company": company.pk, "project": project.pk,
        "start": "2030-01-01", "last_day": "2030-12-31", "price": "2.00"})
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.company, assignment.project) == (company, project)


def test_application_list_keeps_the_company_filter(make_user, client):
    reviewer, staff = make_user(Role.FUND_REVIEWER), make_user(Role.INVESTMENT_STAFF)
    mine = CompanyFactory(name="昆山筛选甲有限公司")
    other = CompanyFactory(name="昆山筛选乙有限公司")
    programme = make_programme()
    client.force_login(staff)
    for company in (mine, other):
        client.post(reverse("funds:application-create"), {
            "programme": programme.pk, "company": company.pk, "requested_amount": "1000"})
    assert Application.objects.count() == 2
    client.force_login(reviewer)
    response = client.get(reverse("funds:application-list"), {"company": mine.pk})
    assert [a.company for a in response.context["page"]] == [mine]
    # The filter form carries the choice on (the next filter or page keeps it).
    html = response.content.decode()
    form = html[html.index('<form class="filters"'):]
    assert options(form, "id_company") == [("", "全部"), (str(mine.pk), mine.name)]


# --- In the browser ---------------------------------------------------------------------------
@pytest.mark.browser
def test_search_select_in_the_browser(live_server, browser_page, make_user):  # noqa: F811
    staff = make_user(Role.INVESTMENT_STAFF)
    target = CompanyFactory(name="昆山元宇宙科技有限公司")
    CompanyFactory(name="苏州光电有限公司")
    project = make_project(owner=staff, company=target, name="元宇宙展厅")
    make_programme()
    page = browser_page
    login(page, live_server, staff.username, TEST_PASSWORD)
    page.goto(live_server.url + reverse("funds:application-create"))

    # Type pinyin initials; Enter searches at once instead of submitting the form.
    page.fill("#id_company_search", "ksyyz")
    page.press("#id_company_search", "Enter")
    # Locator waits, not wait_for_function: the page's CSP forbids the eval that one needs.
    expect(page.locator("#id_company option")).to_have_count(2)
    assert page.url.endswith(reverse("funds:application-create"))
    assert page.input_value("#id_company") == ""  # a search never chooses by itself
    # The keyboard: down into the select, down to the match.
    page.press("#id_company_search", "ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#id_company") == str(target.pk)
    # Choosing the company lists its projects in the project select.
    expect(page.locator(f"#id_project option[value='{project.pk}']")).to_have_count(1)
    page.select_option("#id_project", str(project.pk))
    page.screenshot(path=str(live_server_artifact("search_select_application.png")))
    assert page.get_attribute("#id_company_search", "aria-label")


def live_server_artifact(name: str):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
