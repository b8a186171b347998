"""On a phone the project and company lists read as a card per row: each figure on a line under
its column's name, no header row to scroll sideways to. On a desk they stay tables."""

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


def test_lists_are_cards_on_a_phone_and_tables_on_a_desk(
        browser_page, live_server, make_user):  # noqa: F811 (the fixture)
    staff = make_user(Role.INVESTMENT_STAFF)
    make_project(owner=staff, name="卡片布局项目")
    login(browser_page, live_server, staff.username, TEST_PASSWORD)
    for url in (reverse("leads:project-list"), reverse("leads:company-list")):
        browser_page.set_viewport_size({"width": 390, "height": 844})
        browser_page.goto(live_server.url + url)
        phone = browser_page.evaluate(LAYOUT)
        assert phone["row"] == "block" and phone["head"] <= 1, (url, phone)
        assert phone["label"] not in ("none", "normal", '""'), (url, phone)  # its column's name
        browser_page.set_viewport_size({"width": 1440, "height": 900})
        browser_page.goto(live_server.url + url)
        desk = browser_page.evaluate(LAYOUT)
        assert desk["row"] == "table-row" and desk["head"] > 20 and desk["label"] in (
            "none", "normal"), (url, desk)
