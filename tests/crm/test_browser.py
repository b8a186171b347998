import pytest
from django.urls import reverse

from tests.browser import browser_page  # noqa: F401 (fixture)
from tests.factories import TEST_PASSWORD


@pytest.mark.browser
def test_user_logs_in_and_sees_home(live_server, browser_page, staff_user):  # noqa: F811
    page = browser_page
    page.goto(live_server.url + reverse("home"))
    assert "/accounts/login/" in page.url
    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    assert staff_user.full_name in page.text_content("h1")
    assert page.locator(".sidebar").is_visible()
