"""A leader opens the dashboard, clicks figures and lands on lists whose totals equal them."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.base import ContentFile

from crm.accounts.roles import Role
from leads import services
from leads.models import Stage
from tests.browser import ARTIFACTS, browser_page, login  # noqa: F401 (fixture)
from tests.factories import TEST_PASSWORD, make_project

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def total_of_list(page) -> int:
    page.wait_for_selector(".page-subtitle[data-total]")
    return int(page.get_attribute(".page-subtitle[data-total]", "data-total"))


@pytest.mark.browser
def test_leader_clicks_figures_and_lands_on_lists_of_that_size(
        live_server, browser_page, make_user, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"  # the agreements below stay out of var/media
    if not Stage.objects.exists():  # a transactional test emptied the reference rows
        importlib.import_module("leads.migrations.0002_reference_data").load(apps, None)
    leader = make_user(Role.LEADER, full_name="孙局长")
    staff = make_user(Role.INVESTMENT_STAFF, full_name="张专员")
    signed = Stage.objects.get(code="signed")
    for i in range(3):  # signed today: inside the default period (this year)
        project = make_project(owner=staff, stage_code="framework", agreed=Decimal(40000 + i))
        project.agreement.save("a.pdf", ContentFile(PDF))
        services.project_move_stage(project=project, to_stage=signed, by=staff)
    for _ in range(4):
        make_project(owner=staff, stage_code="negotiating")
    make_project(owner=staff, stage_code="lead")

    page = browser_page
    login(page, live_server, leader.username, TEST_PASSWORD)
    assert page.locator("#pipeline svg").is_visible()

    kpi = page.locator("[data-figure=signed]")
    figure = int(kpi.locator(".kpi-value").text_content())
    assert figure == 3
    kpi.click()
    page.wait_for_url("**/leads/projects/?*")
    assert total_of_list(page) == figure

    page.go_back()
    bar = page.locator("#pipeline a.chart-link[href*='stage=negotiating']")
    figure = int(bar.get_attribute("data-count"))
    assert figure == 4
    bar.click()
    page.wait_for_url("**/leads/projects/?stage=negotiating")
    assert total_of_list(page) == figure

    page.go_back()
    page.wait_for_selector("#chain .chain-node")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "leader-dashboard.png"), full_page=True)


SECTIONS = """() => [...document.querySelectorAll("[data-collapsible-sections] section.card")]
  .map((card) => ({id: card.id,
                   expanded: card.querySelector(".card-toggle")?.getAttribute("aria-expanded"),
                   body: [...card.children].filter((c) => !c.matches(".card-header"))
                       .some((c) => c.getBoundingClientRect().height > 0)}))"""


@pytest.mark.browser
def test_on_a_phone_the_leader_dashboard_opens_as_a_list_of_sections(
        live_server, browser_page, make_user):  # noqa: F811
    leader = make_user(Role.LEADER)
    make_project(owner=make_user(Role.INVESTMENT_STAFF), stage_code="negotiating")
    page = browser_page
    login(page, live_server, leader.username, TEST_PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/dashboards/overview/")
    page.wait_for_selector("#fulfilment .card-toggle")  # the block htmx loads is set up too
    phone = page.evaluate(SECTIONS)
    assert len(phone) >= 15
    assert all(s["expanded"] == "false" and not s["body"] for s in phone), phone
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3500, height  # 8,400 px with every section open

    page.click("#targets .card-toggle")
    opened = {s["id"]: s for s in page.evaluate(SECTIONS)}
    assert opened["targets"]["expanded"] == "true" and opened["targets"]["body"]
    assert not opened["pipeline"]["body"]

    page.emulate_media(media="print")  # a printout has every section
    assert all(s["body"] for s in page.evaluate(SECTIONS))
    page.emulate_media(media="screen")

    page.set_viewport_size({"width": 1440, "height": 900})  # a desk: everything open
    page.goto(live_server.url + "/dashboards/overview/")
    page.wait_for_selector("#fulfilment .card-toggle")
    assert all(s["expanded"] == "true" and s["body"] for s in page.evaluate(SECTIONS))
