"""Odd parameters and odd input get a 4xx that names the parameter or field, never a 500
(each of these was a 500 once: the hardening issue's list)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from tests.factories import CompanyFactory, make_project, make_unit

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
HUGE = "9" * 40

LIST_PAGES = ["/leads/projects/", "/leads/companies/", "/funds/applications/",
              "/funds/programmes/", "/parks/available/", "/inbox/"]
LIST_APIS = ["/api/v1/projects/", "/api/v1/companies/", "/api/v1/followups/",
             "/api/v1/units/", "/api/v1/assignments/", "/api/v1/fund-applications/",
             "/api/v1/fund-programmes/", "/api/v1/parks/"]


@pytest.fixture
def staff(make_user):
    user = make_user(Role.INVESTMENT_STAFF)
    make_project(owner=user)
    return user


@pytest.mark.parametrize("page", [HUGE, "-1", "0", "abc", "1e9", "²"])
def test_a_huge_or_odd_page_number_is_never_a_server_error(staff, client_for, api_for, page):
    client, api = client_for(staff), api_for(staff)
    for url in LIST_PAGES:
        assert client.get(url, {"page": page}).status_code in (200, 302, 400, 404), url
    for url in LIST_APIS:
        response = api.get(url, {"page": page})
        assert response.status_code in (200, 400, 404), (url, response.status_code)
        if response.status_code != 200:
            assert "page" in response.content.decode().lower() or response.status_code == 404


@pytest.mark.parametrize("name", ["（）", "---", "   ", "·—·", "【】！"])
def test_a_company_name_that_normalises_to_nothing_is_a_field_error(staff, client_for,
                                                                    api_for, name):
    response = api_for(staff).post("/api/v1/companies/", {"name": name}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    response = client_for(staff).post(reverse("leads:company-create"), {"name": name})
    assert response.status_code == 200  # the form again, with the error on the name
    assert response.context["form"].errors["name"]


def test_an_assignment_without_end_or_with_end_null_is_a_field_error(make_user, api_for):
    manager = make_user(Role.PARK_MANAGER)
    unit = make_unit()
    unit.park.managers.add(manager)
    api = api_for(manager)
    company = CompanyFactory()
    base = {"unit": unit.pk, "company": company.pk, "kind": "lease",
            "start": TODAY.isoformat()}
    for body in (base, {**base, "end": None}):
        response = api.post("/api/v1/assignments/", body, format="json")
        assert response.status_code == 400, response.content
        assert "end" in response.json()
    lease = api.post("/api/v1/assignments/", {**base, "end": (TODAY + timedelta(days=30))
                                              .isoformat()}, format="json").json()
    response = api.post(f"/api/v1/assignments/{lease['id']}/convert/", {"end": None},
                        format="json")
    assert response.status_code in (400, 409) and "end" in response.content.decode()


@pytest.mark.parametrize("offset", ["abc", "-5", HUGE, "1.5"])
def test_board_load_more_with_a_bad_offset_is_a_400(staff, client_for, offset):
    response = client_for(staff).get(
        reverse("leads:project-board-more", args=["lead"]), {"offset": offset})
    assert response.status_code == 400
    assert "offset" in response.content.decode()


@pytest.mark.parametrize("project", ["²", "abc", HUGE, "-1"])
def test_find_space_with_an_odd_project_is_not_a_server_error(staff, client_for, project):
    response = client_for(staff).get(reverse("parks:availability"), {"project": project})
    assert response.status_code in (200, 400, 404)


@pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01", "2026-02-30", "abc"])
def test_occupancy_on_an_extreme_date_is_not_a_server_error(staff, client_for, api_for, on):
    response = client_for(staff).get(reverse("parks:occupancy"), {"on": on})
    assert response.status_code in (200, 400)
    response = api_for(staff).get("/api/v1/reports/occupancy/", {"on": on})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "on" in response.json()


def test_a_user_without_a_role_opening_any_dashboard(make_user, client_for):
    client = client_for(make_user())
    for name in ["home", "dashboards:leader", "dashboards:staff", "dashboards:parks",
                 "dashboards:reviews", "dashboards:chain", "dashboards:monthly-return",
                 "dashboards:leader-export"]:
        assert client.get(reverse(name)).status_code in (200, 403), name
