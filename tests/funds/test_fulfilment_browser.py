"""The fulfilment screens in a real browser: the agreement page (figures, report, forms), the
list, the project page's panel, the print view and the funds side of a breach, each saved as a
screenshot under var/screenshots/ for a person to look at."""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.accounts.roles import Role
from funds.fulfilment import services
from tests.browser import ARTIFACTS, browser_page, login  # noqa: F401 (fixture)
from tests.factories import TEST_PASSWORD

from .fulfilment_world import D, agreement_world, signed_project
from .test_fulfilment_pages import _unpaid_tranche
from .test_fulfilment_rules import _paid_award

ON = "2026-04-01"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"fulfilment-{name}.png"), full_page=True)


@pytest.mark.browser
def test_the_agreement_page_the_list_and_the_breach_look_right(
        live_server, browser_page, make_user, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    staff = make_user(Role.INVESTMENT_STAFF, full_name="王专员")
    leader = make_user(Role.LEADER, full_name="张局长")
    project = signed_project(staff, name="元宇宙光学模组产业化项目")
    agreement, _ob = agreement_world(staff, project=project)
    awarded = _paid_award(make_user, agreement, approved=D("1000000"), paid=D("600000"),
                          paid_on=datetime.date(2025, 6, 1))
    services.acceptance_confirm(agreement=agreement, by=leader,
                                on=datetime.date.fromisoformat(ON), note="固定资产投资未达约定")
    application, _tranche, _reviewer = _unpaid_tranche(make_user, agreement)
    other = signed_project(staff, name="云昆大厦研发中心项目")
    second = services.agreement_create(by=staff, project=other, title="入驻协议",
                                       parties="园区管委会；某科技公司",
                                       signed_on=datetime.date(2026, 1, 5),
                                       committed_investment_wan=D("3000"),
                                       space_m2=D("2400"))
    services.obligation_add(agreement=second, by=staff, metric="jobs", target=D("80"),
                            due_on=datetime.date.today() + datetime.timedelta(days=20))
    services.obligation_add(agreement=second, by=staff, metric="investment_total",
                            target=D("2000"),
                            due_on=datetime.date.today() + datetime.timedelta(days=300))

    page = browser_page
    login(page, live_server, staff.username, TEST_PASSWORD)
    page.goto(live_server.url + reverse("fulfilment:agreement-detail", args=[agreement.pk])
              + f"?on={ON}")
    assert page.locator("[data-figure=intensity]").text_content().strip() == "140.00"
    assert page.locator("#total-due-back").text_content().strip() == "18.332"  # 万元
    assert page.locator("#actuals-charts .bar-row").count() == 4
    shot(page, "agreement")
    page.click("#add-actual summary")
    assert page.locator("#id_actual_period_start").is_visible()
    page.locator("#add-actual").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "fulfilment-actual-form.png"))

    page.goto(live_server.url + reverse("fulfilment:agreement-create") + f"?project={other.pk}")
    assert page.locator("#id_signed_on").is_visible()
    shot(page, "agreement-form")

    page.goto(live_server.url + reverse("fulfilment:obligation-list"))
    assert int(page.get_attribute(".page-subtitle[data-total]", "data-total")) == 7
    shot(page, "list")
    # The status filter is a searchable select with chips (tom-select), not a raw multi-select.
    assert "tomselected" in page.get_attribute("#id_status", "class")
    assert page.locator("#id_status-ts-control").is_visible()
    page.click("#id_status-ts-control")
    page.keyboard.type("违约" if page.locator("html").get_attribute("lang") == "zh-hans"
                       else "Breach")
    # The search narrows the choices to the one typed.
    expect(page.locator(".ts-dropdown .option")).to_have_count(1)
    page.locator(".ts-dropdown .option[data-value=breached]").click()
    assert page.locator(".ts-wrapper .item[data-value=breached]").count() == 1
    page.keyboard.press("Escape")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**/fulfilment/?*status=breached*")
    assert int(page.get_attribute(".page-subtitle[data-total]", "data-total")) == 4

    page.goto(live_server.url + reverse("leads:project-detail", args=[project.pk]))
    assert page.locator("#agreements [data-status=breached]").count() == 4
    page.locator("#agreements").scroll_into_view_if_needed()
    page.locator("#agreements").screenshot(path=str(ARTIFACTS / "fulfilment-panel.png"))

    page.goto(live_server.url + reverse("fulfilment:acceptance-print", args=[agreement.pk])
              + f"?on={ON}")
    page.emulate_media(media="print")
    shot(page, "print")
    page.emulate_media(media="screen")

    page.context.clear_cookies()
    login(page, live_server, leader.username, TEST_PASSWORD)
    page.goto(live_server.url + reverse("funds:application-detail", args=[application.pk]))
    assert page.locator("#breach").is_visible()
    assert page.locator("#overrides textarea").count() == 1
    shot(page, "application-breach")

    reviewer = make_user(Role.FUND_REVIEWER, full_name="李审核")
    page.context.clear_cookies()
    login(page, live_server, reviewer.username, TEST_PASSWORD)
    page.goto(live_server.url + reverse("funds:application-detail", args=[awarded.pk]))
    proposals = page.locator("#clawback-proposals")
    assert "13.332" in proposals.text_content()
    proposals.scroll_into_view_if_needed()
    proposals.screenshot(path=str(ARTIFACTS / "fulfilment-clawback-proposals.png"))
