"""List exports stream a write-only workbook and refuse, with the reason, a list over the
export limit (at 200,000 projects an unbounded export took minutes and gigabytes)."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.accounts.roles import Role
from tests.factories import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def leader_client(make_user, client_for):
    return client_for(make_user(Role.LEADER))


def test_an_export_over_the_limit_is_refused_with_the_reason(settings, make_user,
                                                              leader_client):
    settings.EXPORT_MAX_ROWS = 3
    staff = make_user(Role.INVESTMENT_STAFF)
    for _ in range(4):
        make_project(owner=staff, stage_code="lead")
    response = leader_client.get(reverse("leads:project-export"), {"stage": "lead"},
                                 follow=True)
    assert response.redirect_chain[-1][0] == reverse("leads:project-list") + "?stage=lead"
    assert "单次导出最多 3 条" in response.content.decode()


def test_an_export_within_the_limit_holds_every_row(settings, make_user, leader_client):
    settings.EXPORT_MAX_ROWS = 3
    staff = make_user(Role.INVESTMENT_STAFF)
    names = {make_project(owner=staff, stage_code="lead").name for _ in range(3)}
    make_project(owner=staff, stage_code="negotiating")
    response = leader_client.get(reverse("leads:project-export"), {"stage": "lead"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 5  # the title, the header and three projects
    assert {row[0] for row in rows[2:]} == names
    # The title row says what was exported, by whom and with which filters (in Chinese here).
    assert rows[0][0].startswith("项目") and "阶段：线索" in rows[0][0]
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref == f"A2:N{len(rows)}"
    assert sheet["A1"].font.bold and sheet["A2"].font.bold


def test_company_export_obeys_the_same_limit(settings, leader_client):
    from tests.factories import CompanyFactory

    settings.EXPORT_MAX_ROWS = 2
    for _ in range(3):
        CompanyFactory()
    response = leader_client.get(reverse("leads:company-export"))
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:company-list")
