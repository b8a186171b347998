"""No page shows a raw "---------" choice; filters say "All" (全部), forms "Choose…"
(请选择…), and a yes/no filter left empty says "All", not "Unknown". The searchable chips on
multiple choices are checked in a browser (tests/funds/test_fulfilment_browser.py)."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from crm.accounts.roles import Role

PAGES = [("leads:project-list", Role.INVESTMENT_STAFF), ("leads:project-board", Role.LEADER),
         ("leads:company-list", Role.INVESTMENT_STAFF), ("leads:project-create",
                                                         Role.INVESTMENT_STAFF),
         ("funds:application-list", Role.FUND_REVIEWER),
         ("fulfilment:obligation-list", Role.LEADER)]


@pytest.mark.parametrize(("url_name", "role"), PAGES)
def test_no_select_shows_django_dashes(client, make_user, url_name, role):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(make_user(role))
    response = client.get(reverse(url_name))
    html = response.content.decode()
    assert response.status_code == 200
    assert "---------" not in html
    assert ">未知<" not in html  # a null-boolean filter's empty choice
    # No filter invites a choice: left empty, each one means every value (plain choices too,
    # such as the stage kind, whose widget is built before the label is set).
    for filters in re.findall(r'<form class="filters".*?</form>', html, re.S):
        assert "请选择…" not in filters


def test_filters_say_all_and_forms_invite_a_choice(client, make_user):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(make_user(Role.INVESTMENT_STAFF))
    board = client.get(reverse("leads:project-list")).content.decode()
    assert re.search(r'<select name="owner"[^>]*>\s*<option value=""[^>]*>全部</option>', board)
    assert re.search(r'<select name="stage"[^>]*data-placeholder="全部"[^>]*multiple', board)
    assert re.search(r'<select name="stage_kind"[^>]*>\s*<option value=""[^>]*>全部</option>',
                     board)
    form = client.get(reverse("leads:project-create")).content.decode()
    assert re.search(r'<select name="channel"[^>]*>\s*<option value=""[^>]*>请选择…</option>',
                     form)
