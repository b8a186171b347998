"""Occupancy figures against values computed by hand."""

from datetime import date
from decimal import Decimal

import pytest

from crm.accounts.roles import Role
from parks import selectors, services
from parks.models import Building, Park
from tests.factories import CompanyFactory, make_unit, system_admin

D = date


@pytest.fixture
def park_world(db, make_user):
    park = Park.objects.create(code="p1", name="一号园")
    building = Building.objects.create(park=park, code="A", name="A栋")
    a = make_unit(park=park, building=building, floor_number=1, code="A101", area="100")
    b = make_unit(park=park, building=building, floor_number=1, code="A102", area="200")
    make_unit(park=park, building=building, floor_number=2, code="A201", area="300",
              rentable=False)
    make_unit(park=park, code="LAND-1", area="400", use="land")
    e = make_unit(park=park, building=building, floor_number=2, code="A202", area="50")
    company = CompanyFactory()
    # A: leased from Jan 1, rent-free until Apr 1; B: leased and paying; E: reserved.
    services.assignment_create(unit=a, company=company, kind="lease", start=D(2027, 1, 1),
                               by=system_admin(), end=D(2028, 1, 1), rent_free_until=D(2027, 4, 1))
    services.assignment_create(unit=b, company=company, kind="lease", start=D(2026, 6, 1),
                               by=system_admin(), end=D(2027, 6, 1))
    services.assignment_create(unit=e, company=company, kind="reservation", start=D(2027, 1, 1),
                               by=system_admin(), end=D(2027, 3, 1), hold_until=D(2027, 2, 28))
    return {"park": park, "user": make_user(Role.LEADER), "a": a, "b": b, "e": e}


def test_occupancy_on_a_date_matches_hand_computed_values(park_world):
    [row] = selectors.occupancy_report(user=park_world["user"], on=D(2027, 2, 1))
    assert row.rentable == Decimal("350")  # 100 + 200 + 50; the unrentable unit and land apart
    assert row.leased == Decimal("300")
    assert row.rent_paying == Decimal("200")  # A is in its rent-free fit-out period
    assert row.reserved == Decimal("50")
    assert row.vacant == Decimal("0")
    assert row.occupancy_rate == Decimal("85.7")  # 300 / 350
    assert row.rent_paying_rate == Decimal("57.1")  # 200 / 350
    assert [b.label for b in row.buildings] == ["A栋"]


def test_occupancy_after_rent_free_and_reservation_end(park_world):
    [row] = selectors.occupancy_report(user=park_world["user"], on=D(2027, 4, 1))
    assert (row.leased, row.rent_paying, row.reserved) == (Decimal("300"), Decimal("300"), 0)
    assert row.occupancy_rate == Decimal("85.7") and row.rent_paying_rate == Decimal("85.7")
    [row] = selectors.occupancy_report(user=park_world["user"], on=D(2027, 6, 1))
    assert row.leased == Decimal("100")  # B's lease ended on May 31 (end is exclusive)
    assert row.vacant == Decimal("250")


def test_ended_lease_still_counts_for_the_past(park_world):
    lease_a = park_world["a"].assignments.get()
    services.assignment_end(by=system_admin(), assignment=lease_a, last_day=D(2027, 2, 14))
    [row] = selectors.occupancy_report(user=park_world["user"], on=D(2027, 2, 1))
    assert row.leased == Decimal("300")
    [row] = selectors.occupancy_report(user=park_world["user"], on=D(2027, 2, 15))
    assert row.leased == Decimal("200")


def test_nothing_rentable_gives_no_rate_not_a_division_error(db, make_user):
    park = Park.objects.create(code="empty", name="空园区")
    make_unit(park=park, code="X", area="10", rentable=False)
    assert selectors.occupancy_report(user=make_user(Role.LEADER), on=D(2027, 1, 1)) == []
    total = selectors.occupancy_total([])
    assert total.occupancy_rate is None and total.rent_paying_rate is None


def test_unit_status_on_a_date(park_world):
    units = {u.code: u.status_code for u in park_world["park"].units.with_status_on(
        D(2027, 2, 1))}
    assert units == {"A101": "leased", "A102": "leased", "A201": "unrentable",
                     "LAND-1": "vacant", "A202": "reserved"}


def test_expiring_leases_and_trend(park_world):
    # B's last day is May 31: 31 days after Apr 30, 30 days after May 1.
    counts = selectors.expiring_counts(user=park_world["user"], on=D(2027, 4, 30))
    assert counts == {30: 0, 60: 1, 90: 1}
    assert selectors.expiring_counts(user=park_world["user"], on=D(2027, 5, 1))[30] == 1
    assert selectors.expiring_counts(user=park_world["user"], on=D(2027, 6, 1))[90] == 0
    trend = selectors.occupancy_trend(user=park_world["user"], on=D(2027, 2, 10), months=3)
    assert [t["month"] for t in trend] == ["2026-12", "2027-01", "2027-02"]
    assert [t["leased"] for t in trend] == [Decimal("200"), Decimal("300"), Decimal("300")]
    assert trend[0]["rate"] == Decimal("57.1")


def test_availability_is_free_for_the_whole_period(park_world):
    user = park_world["user"]
    found = {u.code for u in selectors.availability_search(
        user=user, start=D(2027, 6, 1), end=D(2027, 9, 1))}
    assert found == {"A102", "A202", "LAND-1"}  # A101 is leased; A201 is not rentable
    found = {u.code for u in selectors.availability_search(
        user=user, start=D(2027, 5, 1), end=D(2027, 9, 1), use="office")}
    assert found == {"A202"}  # B is still leased in May
    found = {u.code for u in selectors.availability_search(
        user=user, start=D(2027, 1, 1), end=D(2027, 2, 1), min_area=40, max_area=60)}
    assert found == set()  # E is reserved then


def test_the_occupancy_report_exports_what_the_page_shows(park_world, client):
    """The report's spreadsheet: its date and park in the title row, the park, its buildings
    and the total as numbers a reader can sum, and the rates as on the page."""
    import io

    from django.urls import reverse
    from openpyxl import load_workbook

    client.force_login(park_world["user"])
    query = {"on": "2027-02-01", "park": park_world["park"].pk}
    page = client.get(reverse("parks:occupancy"), query)
    assert reverse("parks:occupancy-export") in page.content.decode()
    response = client.get(reverse("parks:occupancy-export"), query)
    assert response.status_code == 200
    assert "occupancy-20270201" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert "2027-02-01" in rows[0][0] and "一号园" in rows[0][0]
    park_row, building_row, total_row = rows[2:]
    [report] = selectors.occupancy_report(user=park_world["user"], on=D(2027, 2, 1))
    assert park_row[:3] == ("一号园", "全部楼栋", report.units)
    assert park_row[3:] == (350, 300, 50, 0, 85.7, 57.1)
    assert building_row[:2] == ("一号园", "A栋")
    assert total_row[3] == 350 and total_row[7] == 85.7
    assert sheet.cell(row=3, column=4).number_format == "#,##0.00##"
