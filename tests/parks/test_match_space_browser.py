"""Match space, end to end in Chromium: a park manager opens "find space" for a project, sees the
search filled in from the project's space need, reserves a unit with one click and lands on the
unit page showing the reservation."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from parks import services
from parks.models import Assignment
from tests.browser import browser_page, login  # noqa: F401 (fixture)
from tests.factories import TEST_PASSWORD, CompanyFactory, make_project, make_unit, system_admin


@pytest.mark.browser
def test_park_manager_reserves_a_matching_unit_for_a_project(
    live_server, browser_page, make_user  # noqa: F811
):
    manager = make_user(Role.PARK_MANAGER, full_name="王园区")
    staff = make_user(Role.INVESTMENT_STAFF)
    park = services.park_create(by=system_admin(), code="gd", name="光电产业园", managers=[manager])
    building = services.building_create(by=system_admin(), park=park, code="A", name="A栋 研发楼")
    make_unit(park=park, building=building, floor_number=2, code="A-201", area="120")  # too small
    fit = make_unit(park=park, building=building, floor_number=3, code="A-301", area="520",
                    list_rent=Decimal("1.80"), rent_unit="day")
    company = CompanyFactory(name="昆山近眼显示科技有限公司")
    next_year = timezone.localdate().year + 1
    move_in, last_day = date(next_year, 5, 20), date(next_year + 1, 5, 19)  # a year, inclusive
    project = make_project(owner=staff, company=company, name="近眼显示光学模组项目",
                           space_use="office", space_min_m2=Decimal("400"),
                           space_max_m2=Decimal("800"), move_in_on=move_in)

    page = browser_page
    login(page, live_server, manager.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}{reverse('parks:availability')}?project={project.pk}")

    # The search is filled in from the project's space need, and the banner names the project.
    assert "近眼显示光学模组项目" in page.text_content("#project-banner")
    assert page.input_value("#id_start") == move_in.isoformat()
    assert page.input_value("#id_last_day") == last_day.isoformat()
    assert page.input_value("#id_use") == "office"
    assert page.input_value("#id_min_area") == "400.00"
    assert page.input_value("#id_max_area") == "800.00"
    assert page.locator('#results tr[data-unit="A-201"]').count() == 0

    page.click('#results tr[data-unit="A-301"] form[action$="/reserve/"] button[type=submit]')
    page.wait_for_url(f"{live_server.url}{reverse('parks:unit-detail', args=[fit.pk])}")

    reservation = Assignment.objects.get(unit=fit)
    assert reservation.kind == Assignment.Kind.RESERVATION
    assert reservation.project == project and reservation.company == company
    assert reservation.start == move_in and reservation.last_day == last_day
    assert reservation.status == Assignment.Status.ACTIVE
    row = page.locator(f'#history tr[data-assignment="{reservation.pk}"]')
    assert row.count() == 1
    assert "近眼显示光学模组项目" in row.text_content()
    assert last_day.isoformat() in row.text_content()
    assert reservation.hold_until.isoformat() in page.text_content(".message-success")
    page.screenshot(path="var/screenshots/match_space_reserved.png", full_page=True)
