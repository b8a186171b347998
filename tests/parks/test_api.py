from datetime import date

import pytest

from crm.accounts.roles import Role
from parks.models import Assignment, Park
from tests.factories import CompanyFactory, make_project, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def parks(make_user):
    mine = Park.objects.create(code="mine", name="我的园区")
    other = Park.objects.create(code="other", name="别人的园区")
    manager = make_user(Role.PARK_MANAGER)
    mine.managers.add(manager)
    return {"mine": mine, "other": other, "manager": manager,
            "unit": make_unit(park=mine, code="M1", area="120"),
            "other_unit": make_unit(park=other, code="O1", area="80")}


def test_overlap_is_409_naming_the_existing_assignment(parks, api_for):
    api = api_for(parks["manager"])
    company = CompanyFactory()
    body = {"unit": parks["unit"].pk, "company": company.pk, "kind": "lease",
            "start": "2027-01-01", "end": "2027-02-01"}
    first = api.post("/api/v1/assignments/", body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["last_day"] == "2027-01-31" and first.json()["area_m2"] == "120.00"
    clash = api.post("/api/v1/assignments/", {**body, "start": "2027-01-31",
                                              "end": "2027-03-01"}, format="json")
    assert clash.status_code == 409
    assert clash.json()["existing"]["id"] == first.json()["id"]
    back_to_back = api.post("/api/v1/assignments/", {**body, "start": "2027-02-01",
                                                     "end": "2027-03-01"}, format="json")
    assert back_to_back.status_code == 201


def test_park_manager_cannot_book_or_edit_another_park(parks, api_for):
    api = api_for(parks["manager"])
    response = api.post("/api/v1/assignments/", {
        "unit": parks["other_unit"].pk, "company": CompanyFactory().pk, "kind": "lease",
        "start": "2027-01-01", "end": "2027-02-01"}, format="json")
    assert response.status_code == 403
    assert api.patch(f"/api/v1/units/{parks['other_unit'].pk}/", {"rentable": False},
                     format="json").status_code == 403
    assert api.patch(f"/api/v1/units/{parks['unit'].pk}/", {"rentable": False},
                     format="json").status_code == 200
    assert not Assignment.objects.exists()


def test_leader_reads_all_but_cannot_book(parks, make_user, api_for):
    api = api_for(make_user(Role.LEADER))
    assert api.get("/api/v1/parks/").json()["count"] == 2
    assert api.get("/api/v1/units/").json()["count"] == 2
    response = api.post("/api/v1/assignments/", {
        "unit": parks["unit"].pk, "company": CompanyFactory().pk, "kind": "lease",
        "start": "2027-01-01", "end": "2027-02-01"}, format="json")
    assert response.status_code == 403


def test_available_units_and_occupancy_report(parks, api_for):
    api = api_for(parks["manager"])
    api.post("/api/v1/assignments/", {"unit": parks["unit"].pk, "company": CompanyFactory().pk,
                                      "kind": "lease", "start": "2027-01-01",
                                      "end": "2027-07-01"}, format="json")
    free = api.get("/api/v1/units/available/?start=2027-03-01&end=2027-04-01").json()
    assert [u["code"] for u in free["results"]] == ["O1"]
    free = api.get("/api/v1/units/available/?start=2027-07-01&end=2027-08-01"
                   f"&park={parks['mine'].pk}&min_area=100&max_area=150").json()
    assert [u["code"] for u in free["results"]] == ["M1"]
    bad = api.get("/api/v1/units/available/?start=2027-07-01&end=2027-06-01")
    assert bad.status_code == 400 and "end" in bad.json()
    report = api.get("/api/v1/reports/occupancy/?on=2027-03-01").json()
    assert report["total"]["rentable_m2"] == "200.00"
    assert report["total"]["leased_m2"] == "120.00"
    assert report["total"]["occupancy_rate"] == "60.0"


def test_reservation_convert_and_release_through_the_api(parks, make_user, api_for):
    api = api_for(parks["manager"])
    project = make_project(owner=make_user(Role.INVESTMENT_STAFF))
    today = date.today()
    hold = api.post("/api/v1/assignments/", {
        "unit": parks["unit"].pk, "company": project.company.pk, "project": project.pk,
        "kind": "reservation", "start": str(today), "end": "2030-01-01"}, format="json").json()
    assert hold["hold_until"]
    lease = api.post(f"/api/v1/assignments/{hold['id']}/convert/",
                     {"end": "2031-01-01"}, format="json")
    assert lease.status_code == 200, lease.json()
    assert lease.json()["converted_from"] == hold["id"] and lease.json()["kind"] == "lease"
    again = api.post(f"/api/v1/assignments/{hold['id']}/release/")
    assert again.status_code == 409


def test_staff_see_only_their_projects_assignments(parks, make_user, api_for):
    owner = make_user(Role.INVESTMENT_STAFF)
    project = make_project(owner=owner)
    api_for(parks["manager"]).post("/api/v1/assignments/", {
        "unit": parks["unit"].pk, "company": project.company.pk, "project": project.pk,
        "kind": "lease", "start": "2027-01-01", "end": "2027-02-01"}, format="json")
    assert api_for(owner).get("/api/v1/assignments/").json()["count"] == 1
    assert api_for(make_user(Role.INVESTMENT_STAFF)).get(
        "/api/v1/assignments/").json()["count"] == 0
