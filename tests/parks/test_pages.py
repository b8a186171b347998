"""The park-space pages, through HTTP as people use them: who may see and book what, the
inclusive last day people type against the exclusive end the database keeps, clashes shown
instead of written, the assignment actions, "find space", and constant query counts."""

import re
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from parks import services
from parks.models import Assignment, Floor, Unit
from parks.views import trend_chart
from tests.factories import CompanyFactory, make_project, make_unit, system_admin

pytestmark = pytest.mark.django_db

ONE_DAY = timedelta(days=1)


def iso(day: date) -> str:
    return day.isoformat()


def messages_of(response, level: str = "") -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)
            if not level or m.level_tag == level]


@pytest.fixture
def world(make_user):
    manager = make_user(Role.PARK_MANAGER, full_name="王园区")
    other_manager = make_user(Role.PARK_MANAGER, full_name="陈园区")
    park = services.park_create(by=system_admin(), code="gd", name="光电产业园", city="昆山市",
                                managers=[manager])
    other_park = services.park_create(code="sz", name="数字经济产业园", city="上饶市",
                                      by=system_admin(), managers=[other_manager])
    building = services.building_create(by=system_admin(), park=park, code="A", name="A栋 研发楼")
    other_building = services.building_create(by=system_admin(), park=other_park, code="B",
                                              name="B栋")
    unit = make_unit(park=park, building=building, floor_number=3, code="A-301", area="300",
                     list_rent=Decimal("2.00"), rent_unit="day", property_fee=Decimal("12"))
    neighbour = make_unit(park=park, building=building, floor_number=3, code="A-302",
                          area="180", list_rent=Decimal("60"), rent_unit="month")
    other_unit = make_unit(park=other_park, building=other_building, floor_number=1,
                           code="B-101", area="200")
    parcel = make_unit(park=park, code="L-01", use="land", area="20000")
    return SimpleNamespace(
        manager=manager, other_manager=other_manager, leader=make_user(Role.LEADER),
        staff=make_user(Role.INVESTMENT_STAFF), admin=make_user(Role.ADMINISTRATOR),
        park=park, other_park=other_park, building=building, unit=unit, neighbour=neighbour,
        other_unit=other_unit, parcel=parcel, company=CompanyFactory(name="昆山启明光电有限公司"),
        today=timezone.localdate(),
    )


def lease(unit, start, last_day, company=None, **kwargs):
    return services.assignment_create(unit=unit, company=company or CompanyFactory(),
                                      by=system_admin(), kind=kwargs.pop("kind", "lease"),
                                      start=start,
                                      end=last_day + ONE_DAY if last_day else None, **kwargs)


def booking_form(w, **overrides):
    data = {"kind": "lease", "company": w.company.pk, "project": "",
            "start": "2027-01-01", "last_day": "2027-12-31", "area_m2": "", "price": "2.00",
            "rent_free_last_day": "", "hold_until": "", "note": ""}
    data.update(overrides)
    return data


# --- Every page renders -----------------------------------------------------------------------
@pytest.mark.parametrize("who", ["leader", "manager"])
def test_every_page_renders(world, who, client):
    w = world
    lease(w.unit, w.today - timedelta(days=100), w.today + timedelta(days=20), company=w.company,
          rent_free_until=w.today - timedelta(days=70))
    project = make_project(owner=w.staff, space_use="office", space_min_m2=Decimal("100"),
                           space_max_m2=Decimal("400"))
    client.force_login(getattr(w, who))
    urls = [
        reverse("parks:park-list"),
        reverse("parks:park-detail", args=[w.park.pk]),
        reverse("parks:building-detail", args=[w.building.pk]),
        reverse("parks:building-detail", args=[w.building.pk]) + "?on=2020-01-01",
        reverse("parks:unit-detail", args=[w.unit.pk]),
        reverse("parks:unit-detail", args=[w.parcel.pk]),
        reverse("parks:availability"),
        reverse("parks:availability") + f"?project={project.pk}",
        reverse("parks:occupancy"),
        reverse("parks:occupancy") + f"?on=2026-06-30&park={w.park.pk}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    html = client.get(reverse("parks:park-list")).content.decode()
    assert "光电产业园" in html and "王园区" in html
    detail = client.get(reverse("parks:park-detail", args=[w.park.pk])).content.decode()
    assert "L-01" in detail  # the land parcel
    assert w.company.name in detail  # its lease ends within 30 days
    grid = client.get(reverse("parks:building-detail", args=[w.building.pk])).content.decode()
    assert 'class="unit-cell unit-leased"' in grid and 'data-unit="A-301"' in grid
    assert 'class="unit-cell unit-vacant"' in grid and 'data-unit="A-302"' in grid
    past = client.get(reverse("parks:building-detail", args=[w.building.pk]) + "?on=2020-01-01")
    assert "unit-cell unit-leased" not in past.content.decode()
    unit_page = client.get(reverse("parks:unit-detail", args=[w.unit.pk]))
    assert unit_page.context["status"].code == "leased"
    # Only a manager of the park sees the booking form and the edit link.
    assert (unit_page.context["form"] is not None) == (who == "manager")
    edit = client.get(reverse("parks:unit-edit", args=[w.unit.pk]))
    assert edit.status_code == (200 if who == "manager" else 403)


def test_park_list_figures_come_from_one_report(world, client):
    w = world
    lease(w.unit, w.today - timedelta(days=10), w.today + timedelta(days=400))
    client.force_login(w.leader)
    response = client.get(reverse("parks:park-list"))
    figures = {park.code: row for park, row in response.context["rows"]}
    # 300 of 480 m² leased in 光电产业园 (the land parcel is not counted)
    assert figures["gd"].rentable == Decimal("480") and figures["gd"].leased == Decimal("300")
    assert figures["gd"].occupancy_rate == Decimal("62.5")
    assert figures["sz"].occupancy_rate == Decimal("0.0")
    assert response.context["total"].rentable == Decimal("680")


# --- Who may book and edit -------------------------------------------------------------------
def test_park_manager_cannot_book_or_edit_another_parks_unit(world, client):
    w = world
    client.force_login(w.manager)
    response = client.post(reverse("parks:assignment-create", args=[w.other_unit.pk]),
                           booking_form(w))
    assert response.status_code == 403
    response = client.post(reverse("parks:unit-edit", args=[w.other_unit.pk]),
                           {"code": "B-101", "use": "office", "gross_area_m2": "200",
                            "rent_unit": "day", "rentable": ""})
    assert response.status_code == 403
    assert client.get(reverse("parks:unit-edit", args=[w.other_unit.pk])).status_code == 403
    project = make_project(owner=w.staff, space_use="office")
    response = client.post(reverse("parks:reserve"), {
        "unit": w.other_unit.pk, "project": project.pk, "start": "2027-01-01",
        "last_day": "2027-12-31"})
    assert response.status_code == 403
    w.other_unit.refresh_from_db()
    assert w.other_unit.rentable and not Assignment.objects.exists()


def test_leader_and_staff_cannot_book(world, client):
    w = world
    for user in (w.leader, w.staff):
        client.force_login(user)
        response = client.post(reverse("parks:assignment-create", args=[w.unit.pk]),
                               booking_form(w))
        assert response.status_code == 403
    assert not Assignment.objects.exists()


def test_park_manager_books_own_unit_with_inclusive_last_day(world, client):
    w = world
    client.force_login(w.manager)
    response = client.post(reverse("parks:assignment-create", args=[w.unit.pk]), booking_form(
        w, rent_free_last_day="2027-03-31", note="三个月装修免租"))
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.unit, assignment.company, assignment.created_by) == (
        w.unit, w.company, w.manager)
    # Typed: 2027-01-01 to 2027-12-31 inclusive; stored half-open [2027-01-01, 2028-01-01).
    assert assignment.start == date(2027, 1, 1) and assignment.end == date(2028, 1, 1)
    assert assignment.rent_free_until == date(2027, 4, 1)
    assert assignment.area_m2 == Decimal("300") and assignment.price == Decimal("2.00")
    page = client.get(reverse("parks:unit-detail", args=[w.unit.pk])).content.decode()
    row = page[page.index(f'data-assignment="{assignment.pk}"', page.index('id="history"')):]
    row = row[:row.index("</tr>")]
    # Shown back as the same last days people typed, never the exclusive end.
    assert "2027-12-31" in row and "2027-03-31" in row
    assert "2028-01-01" not in row and "2027-04-01" not in row


def test_administrator_books_any_park(world, client):
    w = world
    client.force_login(w.admin)
    response = client.post(reverse("parks:assignment-create", args=[w.other_unit.pk]),
                           booking_form(w))
    assert response.status_code == 302
    assert Assignment.objects.get().unit == w.other_unit


def test_form_errors_are_shown_not_raised(world, client):
    w = world
    client.force_login(w.manager)
    response = client.post(reverse("parks:assignment-create", args=[w.unit.pk]),
                           booking_form(w, last_day="2026-12-31"))
    assert response.status_code == 400
    assert "last_day" in response.context["form"].errors
    response = client.post(reverse("parks:assignment-create", args=[w.unit.pk]),
                           booking_form(w, last_day=""))  # only a sale is open-ended
    assert response.status_code == 400 and "last_day" in response.context["form"].errors
    response = client.post(reverse("parks:assignment-create", args=[w.unit.pk]),
                           booking_form(w, area_m2="301"))  # the service's refusal, on its field
    assert response.status_code == 400 and "area_m2" in response.context["form"].errors
    assert not Assignment.objects.exists()
    response = client.post(reverse("parks:assignment-create", args=[w.unit.pk]),
                           booking_form(w, kind="sale", last_day="", price="3000000"))
    assert response.status_code == 302
    assert Assignment.objects.get().end is None


def test_overlapping_booking_names_the_existing_assignment_and_writes_nothing(world, client):
    w = world
    existing = lease(w.unit, date(2027, 6, 1), date(2028, 5, 31), company=w.company)
    client.force_login(w.manager)
    response = client.post(reverse("parks:assignment-create", args=[w.unit.pk]), booking_form(
        w, company=CompanyFactory().pk, start="2027-01-01", last_day="2027-06-01"))
    assert response.status_code == 400
    html = response.content.decode()
    assert f"#{existing.pk}" in html and w.company.name in html
    assert "2028-05-31" in html  # the clash is told by its last day too
    assert Assignment.objects.count() == 1
    # Back to back (the day after its last day) is fine.
    response = client.post(reverse("parks:assignment-create", args=[w.unit.pk]), booking_form(
        w, start="2028-06-01", last_day="2029-05-31"))
    assert response.status_code == 302 and Assignment.objects.count() == 2


def test_unit_edit_goes_through_the_service(world, client):
    w = world
    client.force_login(w.manager)
    url = reverse("parks:unit-edit", args=[w.unit.pk])
    form = {"code": "A-301", "use": "rnd", "gross_area_m2": "300", "usable_area_m2": "250",
            "floor_height_m": "4.5", "floor_load_kn_m2": "8", "list_rent": "2.10",
            "rent_unit": "day", "property_fee": "12", "rentable": ""}
    assert client.post(url, form).status_code == 302
    w.unit.refresh_from_db()
    assert not w.unit.rentable and w.unit.use == "rnd" and w.unit.list_rent == Decimal("2.10")
    # The model's rules come back onto the form: usable area above the gross area.
    response = client.post(url, {**form, "usable_area_m2": "400"})
    assert response.status_code == 200 and response.context["form"].errors
    # The code must stay unique in the park.
    response = client.post(url, {**form, "code": "A-302"})
    assert response.status_code == 200 and response.context["form"].errors
    w.unit.refresh_from_db()
    assert w.unit.code == "A-301" and w.unit.usable_area_m2 == Decimal("250")


# --- Actions on assignments -------------------------------------------------------------------
def test_end_an_active_lease_by_its_last_day(world, client):
    w = world
    current = lease(w.unit, w.today - timedelta(days=200), w.today + timedelta(days=300))
    client.force_login(w.manager)
    last_day = w.today + timedelta(days=29)
    response = client.post(reverse("parks:assignment-end", args=[current.pk]),
                           {"last_day": iso(last_day)})
    assert response.status_code == 302
    assert response.url == reverse("parks:unit-detail", args=[w.unit.pk])
    current.refresh_from_db()
    assert current.end == last_day + ONE_DAY and current.last_day == last_day
    assert iso(last_day) in " ".join(messages_of(response))
    # Ending in the past closes it for good.
    response = client.post(reverse("parks:assignment-end", args=[current.pk]),
                           {"last_day": iso(w.today - ONE_DAY)})
    current.refresh_from_db()
    assert current.status == "ended" and current.end == w.today


def test_release_a_reservation(world, client):
    w = world
    hold = lease(w.unit, w.today, w.today + timedelta(days=180), kind="reservation")
    client.force_login(w.manager)
    response = client.post(reverse("parks:reservation-release", args=[hold.pk]))
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.outcome == "released" and hold.status == "terminated"
    # A lease cannot be released: the refusal is a message, not an error page.
    current = lease(w.unit, w.today, w.today + timedelta(days=30))
    response = client.post(reverse("parks:reservation-release", args=[current.pk]))
    assert response.status_code == 302
    assert messages_of(response, "error")
    current.refresh_from_db()
    assert current.status == "active"


def test_convert_a_reservation_to_a_lease(world, client):
    w = world
    project = make_project(owner=w.staff, company=w.company, space_use="office")
    hold = lease(w.unit, w.today + timedelta(days=10), w.today + timedelta(days=200),
                 company=w.company, project=project, kind="reservation")
    client.force_login(w.manager)
    start, last_day = w.today + timedelta(days=10), date(w.today.year + 3, 12, 31)
    response = client.post(reverse("parks:reservation-convert", args=[hold.pk]), {
        "start": iso(start), "last_day": iso(last_day), "price": "1.90",
        "rent_free_last_day": iso(start + timedelta(days=89))})
    assert response.status_code == 302
    new_lease = Assignment.objects.get(kind="lease")
    hold.refresh_from_db()
    assert hold.outcome == "converted" and new_lease.converted_from == hold
    assert new_lease.project == project and new_lease.company == w.company
    assert new_lease.end == last_day + ONE_DAY
    assert new_lease.rent_free_until == start + timedelta(days=90)
    assert new_lease.price == Decimal("1.90")


def test_convert_into_a_clash_is_refused_and_keeps_the_reservation(world, client):
    w = world
    hold = lease(w.unit, w.today, w.today + timedelta(days=60), kind="reservation")
    later = lease(w.unit, w.today + timedelta(days=61), w.today + timedelta(days=400))
    client.force_login(w.manager)
    response = client.post(reverse("parks:reservation-convert", args=[hold.pk]), {
        "start": iso(w.today), "last_day": iso(w.today + timedelta(days=365))})
    assert response.status_code == 302
    assert any(f"#{later.pk}" in m for m in messages_of(response, "error"))
    hold.refresh_from_db()
    assert hold.status == "active" and hold.outcome == ""
    assert Assignment.objects.count() == 2


def test_terminate_and_its_confirmation(world, client):
    w = world
    mistake = lease(w.unit, w.today + timedelta(days=30), w.today + timedelta(days=395))
    client.force_login(w.manager)
    page = client.get(reverse("parks:unit-detail", args=[w.unit.pk])).content.decode()
    terminate_url = reverse("parks:assignment-terminate", args=[mistake.pk])
    form = page[page.index(f'action="{terminate_url}"'):]
    assert "data-confirm=" in form[:form.index("</form>")]
    response = client.post(terminate_url)
    assert response.status_code == 302
    mistake.refresh_from_db()
    assert mistake.status == "terminated"
    again = client.post(terminate_url)  # closed already: a message, not a 500
    assert again.status_code == 302 and messages_of(again, "error")


def test_actions_on_another_parks_assignment_are_refused(world, client):
    w = world
    theirs = lease(w.other_unit, w.today, w.today + timedelta(days=100))
    for user, expected in ((w.manager, 404), (w.leader, 403)):
        # A manager of another park cannot even read it; a leader reads but may not change it.
        client.force_login(user)
        for name, data in (("parks:assignment-end", {"last_day": iso(w.today)}),
                           ("parks:assignment-terminate", {})):
            assert client.post(reverse(name, args=[theirs.pk]), data).status_code == expected
    theirs.refresh_from_db()
    assert theirs.status == "active" and theirs.last_day == w.today + timedelta(days=100)


def test_actions_accept_post_only(world, client):
    w = world
    hold = lease(w.unit, w.today, w.today + timedelta(days=30), kind="reservation")
    client.force_login(w.manager)
    assert client.get(reverse("parks:assignment-terminate", args=[hold.pk])).status_code == 405
    assert client.get(reverse("parks:reserve")).status_code == 405


# --- Find space and match space --------------------------------------------------------------
def search(client, **params):
    return client.get(reverse("parks:availability"), params)


def found_codes(response) -> list[str]:
    return [unit.code for unit in response.context["page"]]


def test_availability_returns_units_free_for_the_whole_period(world, client):
    w = world
    partly = make_unit(park=w.park, code="A-303", area="250")
    back_to_back = make_unit(park=w.park, code="A-304", area="250")
    released = make_unit(park=w.park, code="A-305", area="250")
    # Leased for part of 2027: not free for the whole year.
    lease(partly, date(2027, 3, 1), date(2027, 4, 30))
    # Leased until the day before the search starts and again from the day after it ends.
    lease(back_to_back, date(2026, 1, 1), date(2026, 12, 31))
    lease(back_to_back, date(2028, 1, 1), date(2028, 12, 31))
    hold = lease(released, date(2027, 1, 1), date(2027, 12, 31), kind="reservation")
    services.assignment_terminate(by=system_admin(), assignment=hold)
    client.force_login(w.leader)
    codes = found_codes(search(client, start="2027-01-01", last_day="2027-12-31",
                               park=w.park.pk))
    assert "A-303" not in codes
    assert {"A-304", "A-305", "A-301", "A-302"} <= set(codes)
    assert "L-01" in codes  # land is space too; filter by use to leave it out
    # A period ending the day the next lease begins is not free.
    codes = found_codes(search(client, start="2027-06-01", last_day="2028-01-01"))
    assert "A-304" not in codes
    codes = found_codes(search(client, start="2027-01-01", last_day="2027-12-31",
                               park=w.park.pk, use="office", min_area="200", max_area="260"))
    assert codes == ["A-304", "A-305"]


def test_availability_compares_rent_per_month(world, client):
    w = world
    client.force_login(w.leader)
    # A-301 lists 2.00 yuan/m²·day (60.83 per month), A-302 60.00 per month.
    response = search(client, start="2027-01-01", last_day="2027-12-31", use="office")
    assert found_codes(response)[:2] == ["A-302", "A-301"]
    response = search(client, start="2027-01-01", last_day="2027-12-31", use="office",
                      max_monthly_rent="60.50")
    assert found_codes(response) == ["A-302"]
    assert "60.83" in search(client, start="2027-01-01", last_day="2027-12-31",
                             use="office").content.decode()


def test_unpriced_units_come_after_every_priced_one_and_rent_shows_once(world, client):
    w = world
    make_unit(park=w.park, code="A-399", area="150")  # no list rent: "on request"
    client.force_login(w.leader)
    response = search(client, start="2027-01-01", last_day="2027-12-31", use="office",
                      park=w.park.pk)
    assert found_codes(response) == ["A-302", "A-301", "A-399"]
    html = response.content.decode()
    # One rent column per month: a unit quoted per month shows its figure once, a unit quoted
    # per day its monthly figure with the listed one beneath.
    row = html[html.index('data-unit="A-302"'):html.index("</tr>", html.index('data-unit="A-302"'))]
    assert row.count("60.00") == 1
    row = html[html.index('data-unit="A-301"'):html.index("</tr>", html.index('data-unit="A-301"'))]
    assert "60.83" in row and "2.00" in row


def test_a_unit_opened_from_the_search_keeps_the_period_and_books_it(world, client):
    w = world
    project = make_project(owner=w.staff, company=w.company, name="近眼显示模组项目")
    client.force_login(w.manager)
    response = client.get(reverse("parks:availability"), {
        "start": "2027-01-01", "last_day": "2027-12-31", "use": "office", "project": project.pk})
    link = reverse("parks:unit-detail", args=[w.unit.pk])
    query = response.context["unit_query"]
    assert f'href="{link}?{query}"'.replace("&", "&amp;") in response.content.decode()
    page = client.get(f"{link}?{query}")
    html = page.content.decode()
    assert 'data-free="yes"' in html and "2027-01-01" in html and "2027-12-31" in html
    back = reverse("parks:availability") + "?" + page.context["searched"]["query"]
    assert back.replace("&", "&amp;") in html
    assert client.get(back).context["form"].cleaned_data["use"] == "office"
    form = page.context["form"]
    assert (form.initial["start"], form.initial["last_day"]) == (date(2027, 1, 1),
                                                                 date(2027, 12, 31))
    assert form.initial["kind"] == "reservation" and form.initial["project"] == project.pk
    # Taken meanwhile: the page says so instead of offering a period that is no longer free.
    lease(w.unit, date(2027, 6, 1), date(2027, 6, 30))
    assert 'data-free="no"' in client.get(f"{link}?{query}").content.decode()
    # A nonsense query is ignored: the page is the plain unit page.
    plain = client.get(f"{link}?start=2027-12-31&last_day=2027-01-01")
    assert plain.status_code == 200 and plain.context["searched"] is None


def test_availability_refuses_a_reversed_period(world, client):
    client.force_login(world.leader)
    response = search(client, start="2027-12-31", last_day="2027-01-01")
    assert response.status_code == 200
    assert "last_day" in response.context["form"].errors and response.context["page"] is None


def test_match_space_prefills_from_the_project_and_offers_reserve_per_park(world, client):
    w = world
    move_in = date(w.today.year + 1, 4, 24)
    project = make_project(owner=w.staff, company=w.company, name="近眼显示模组项目",
                           space_use="office", space_min_m2=Decimal("150"),
                           space_max_m2=Decimal("350"), move_in_on=move_in)
    client.force_login(w.manager)
    response = client.get(reverse("parks:availability"), {"project": project.pk})
    form = response.context["form"]
    assert form.cleaned_data["start"] == move_in
    assert form.cleaned_data["last_day"] == date(w.today.year + 2, 4, 23)  # one year, inclusive
    assert form.cleaned_data["use"] == "office"
    assert form.cleaned_data["min_area"] == Decimal("150")
    html = response.content.decode()
    assert "近眼显示模组项目" in html
    rows = {unit.code: unit.can_reserve for unit in response.context["page"]}
    # A-301 and A-302 (光电产业园, managed) may be reserved; B-101 is another manager's park.
    assert rows == {"A-301": True, "A-302": True, "B-101": False}
    assert html.count(f'action="{reverse("parks:reserve")}"') == 2
    # A leader sees the match but books nothing.
    client.force_login(w.leader)
    response = client.get(reverse("parks:availability"), {"project": project.pk})
    assert not any(unit.can_reserve for unit in response.context["page"])


def test_match_space_ignores_a_past_move_in_date(world, client):
    w = world
    project = make_project(owner=w.staff, space_use="office",
                           move_in_on=w.today - timedelta(days=100))
    client.force_login(w.manager)
    response = client.get(reverse("parks:availability"), {"project": project.pk})
    assert response.context["form"].cleaned_data["start"] == w.today


def test_match_space_hides_confidential_projects(world, client):
    w = world
    secret = make_project(owner=w.staff, space_use="office", confidential=True)
    client.force_login(w.manager)
    assert client.get(reverse("parks:availability"),
                      {"project": secret.pk}).status_code == 404


def test_reserve_creates_a_reservation_with_the_default_hold(world, client):
    w = world
    project = make_project(owner=w.staff, company=w.company, space_use="office")
    client.force_login(w.manager)
    start = w.today + timedelta(days=7)
    response = client.post(reverse("parks:reserve"), {
        "unit": w.unit.pk, "project": project.pk, "start": iso(start),
        "last_day": iso(start + timedelta(days=364)), "back": f"project={project.pk}"})
    assert response.status_code == 302
    assert response.url == reverse("parks:unit-detail", args=[w.unit.pk])
    hold = Assignment.objects.get()
    assert (hold.kind, hold.project, hold.company, hold.status) == (
        "reservation", project, w.company, "active")
    assert hold.end == start + timedelta(days=365)
    assert hold.hold_until == w.today + timedelta(days=services.RESERVATION_HOLD_DAYS)
    assert iso(hold.hold_until) in " ".join(messages_of(response))


def test_reserve_clash_goes_back_to_the_search_with_the_reason(world, client):
    w = world
    taken = lease(w.unit, w.today, w.today + timedelta(days=100))
    project = make_project(owner=w.staff, space_use="office")
    client.force_login(w.manager)
    back = f"project={project.pk}&start={iso(w.today)}&last_day={iso(w.today)}"
    response = client.post(reverse("parks:reserve"), {
        "unit": w.unit.pk, "project": project.pk, "start": iso(w.today),
        "last_day": iso(w.today + timedelta(days=30)), "back": back})
    assert response.status_code == 302
    assert response.url.startswith(reverse("parks:availability") + "?")
    assert f"project={project.pk}" in response.url
    assert any(f"#{taken.pk}" in m for m in messages_of(response, "error"))
    assert Assignment.objects.count() == 1


# --- Occupancy --------------------------------------------------------------------------------
def test_occupancy_report_rows_totals_and_trend(world, client):
    w = world
    lease(w.unit, w.today - timedelta(days=400), w.today + timedelta(days=45),
          rent_free_until=w.today + ONE_DAY)
    lease(w.other_unit, w.today - timedelta(days=10), w.today + timedelta(days=15))
    lease(w.neighbour, w.today, w.today + timedelta(days=60), kind="reservation")
    client.force_login(w.leader)
    response = client.get(reverse("parks:occupancy"))
    assert response.status_code == 200
    total = response.context["total"]
    assert total.rentable == Decimal("680") and total.leased == Decimal("500")
    assert total.reserved == Decimal("180") and total.vacant == Decimal("0")
    assert total.rent_paying == Decimal("200")  # A-301 is still rent-free today
    assert response.context["expiring_counts"] == {30: 1, 60: 2, 90: 2}
    html = response.content.decode()
    assert "73.5%" in html and "29.4%" in html  # 出租率 500/680, 计租率 200/680
    assert html.count('<g class="column"') == 12 and 'id="trend-chart"' in html
    # Filtered by park, on a past date when nothing was leased yet: "—" never a division error.
    response = client.get(reverse("parks:occupancy"), {"park": w.other_park.pk,
                                                       "on": "2020-01-01"})
    assert response.status_code == 200
    assert [row.label for row in response.context["rows"]] == ["数字经济产业园"]
    assert response.context["total"].leased == Decimal("0")


def test_trend_chart_geometry():
    trend = [{"month": "2025-12", "rate": Decimal("50.0"), "leased": Decimal("50"),
              "rentable": Decimal("100")},
             {"month": "2026-01", "rate": None, "leased": Decimal("0"),
              "rentable": Decimal("0")},
             {"month": "2026-02", "rate": Decimal("100.0"), "leased": Decimal("100"),
              "rentable": Decimal("100")}]
    svg = str(trend_chart(trend))
    bars = [tuple(float(v) for v in match) for match in re.findall(
        r'<rect class="bar" x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', svg)]
    (x_half, y_half, half), (x_empty, _y, empty), (x_full, y_full, full) = bars
    assert full == pytest.approx(2 * half) and empty == 0  # the axis is 0-100 %
    assert y_half + half == pytest.approx(y_full + full)  # every column stands on the axis
    assert x_half < x_empty < x_full
    assert ">50.0%<" in svg and ">—<" in svg and ">100.0%<" in svg
    # Months numbered, the year under the first column and under January.
    years = re.findall(r'text-anchor="middle">(20\d\d)</text>', svg)
    assert years == ["2025", "2026"]


# --- Query counts -----------------------------------------------------------------------------
def _many_units(size: int, manager):
    """One park, building and floor with `size` units (bulk), a few leases and a hold."""
    park = services.park_create(by=system_admin(), code=f"bulk{size}", name="批量园区",
                                managers=[manager])
    building = services.building_create(by=system_admin(), park=park, code="M", name="M栋")
    floor = Floor.objects.create(building=building, number=1, label="1F")
    Unit.objects.bulk_create([
        Unit(park=park, building=building, floor=floor, code=f"M-{i:04d}", use="office",
             gross_area_m2=Decimal(100 + i % 200), list_rent=Decimal("1.50"))
        for i in range(size)])
    units = list(Unit.objects.filter(park=park).order_by("code")[:4])
    today = timezone.localdate()
    for unit in units[:3]:
        lease(unit, today - timedelta(days=30), today + timedelta(days=40))
    lease(units[3], today, today + timedelta(days=90), kind="reservation")
    return park


# Measured 9 (session, user, roles, the project and its collaborators, the park choices, count,
# page, the managed parks) and 12 (session, user, roles, park choices and the chosen park, the
# report's three, the expiring count and list, the trend's two); a little room for the floor;
# and the read of the reader's memberships (their data scope: crm/org/scopes.py).
AVAILABILITY_MAX_QUERIES = 12
OCCUPANCY_MAX_QUERIES = 14


@pytest.mark.parametrize("size", [10, 500])
def test_availability_and_occupancy_query_counts_do_not_grow(
        size, make_user, client, django_assert_max_num_queries):
    manager = make_user(Role.PARK_MANAGER)
    park = _many_units(size, manager)
    staff = make_user(Role.INVESTMENT_STAFF)
    project = make_project(owner=staff, space_use="office", space_min_m2=Decimal("50"))
    client.force_login(manager)
    client.get(reverse("parks:park-list"))  # warm the session outside the measured requests
    with django_assert_max_num_queries(AVAILABILITY_MAX_QUERIES):
        response = client.get(reverse("parks:availability"), {"project": project.pk})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == size - 4
    assert all(unit.can_reserve for unit in response.context["page"])
    with django_assert_max_num_queries(OCCUPANCY_MAX_QUERIES):
        response = client.get(reverse("parks:occupancy"), {"park": park.pk})
    assert response.status_code == 200 and response.context["total"].units == size
    with django_assert_max_num_queries(OCCUPANCY_MAX_QUERIES):
        assert client.get(reverse("parks:occupancy")).status_code == 200


def test_query_counts_are_the_same_at_both_sizes(make_user, client):
    """The ceiling above could hide growth below it; here the two sizes must match exactly."""
    manager = make_user(Role.PARK_MANAGER)
    staff = make_user(Role.INVESTMENT_STAFF)
    project = make_project(owner=staff, space_use="office")
    client.force_login(manager)
    counts = []
    for size in (10, 500):
        park = _many_units(size, manager)
        client.get(reverse("parks:park-list"))
        row = []
        for url, params in ((reverse("parks:availability"), {"project": project.pk}),
                            (reverse("parks:occupancy"), {"park": park.pk}),
                            (reverse("parks:building-detail",
                                     args=[park.buildings.get().pk]), {})):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, params).status_code == 200
            row.append(len(queries))
        counts.append(row)
    assert counts[0] == counts[1], counts
