"""On a phone the lists read as a card per row: each figure on a line under its column's name, no
header row to scroll sideways to. On a desk they stay tables."""

import pytest
from django.urls import reverse

from crm.accounts.roles import Role
from tests.browser import browser_page, login  # noqa: F401 (fixture)
from tests.factories import TEST_PASSWORD, make_project

pytestmark = pytest.mark.browser

LAYOUT = """() => {
  const row = document.querySelector(".table-cards tbody tr");
  const owner = row.querySelector("td[data-label]");
  return {row: getComputedStyle(row).display, head: document.querySelector(".table-cards thead")
          .getBoundingClientRect().height, label: getComputedStyle(owner, "::before").content};
}"""


def _assert_cards_on_a_phone_and_tables_on_a_desk(page, live_server, urls):
    for url in urls:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server.url + url)
        phone = page.evaluate(LAYOUT)
        assert phone["row"] == "block" and phone["head"] <= 1, (url, phone)
        assert phone["label"] not in ("none", "normal", '""'), (url, phone)  # its column's name
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(live_server.url + url)
        desk = page.evaluate(LAYOUT)
        assert desk["row"] == "table-row" and desk["head"] > 20 and desk["label"] in (
            "none", "normal"), (url, desk)


def test_lists_are_cards_on_a_phone_and_tables_on_a_desk(
        browser_page, live_server, make_user):  # noqa: F811 (the fixture)
    staff = make_user(Role.INVESTMENT_STAFF)
    make_project(owner=staff, name="卡片布局项目")
    login(browser_page, live_server, staff.username, TEST_PASSWORD)
    _assert_cards_on_a_phone_and_tables_on_a_desk(browser_page, live_server, [
        reverse("leads:project-list"), reverse("leads:company-list")])


def test_the_other_lists_are_cards_on_a_phone_too(
        browser_page, live_server, make_user):  # noqa: F811 (the fixture)
    from tests.factories import make_programme, make_unit
    from tests.funds.fulfilment_world import agreement_world

    leader = make_user(Role.LEADER)
    staff = make_user(Role.INVESTMENT_STAFF)
    make_unit(code="A-101")
    make_programme()
    agreement_world(staff)
    login(browser_page, live_server, leader.username, TEST_PASSWORD)
    _assert_cards_on_a_phone_and_tables_on_a_desk(browser_page, live_server, [
        reverse("parks:park-list"), reverse("parks:availability"),
        reverse("funds:programme-list"), reverse("fulfilment:obligation-list")])
