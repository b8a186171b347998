import datetime

import pytest

from crm.accounts.roles import Role
from leads.models import Company, Project
from tests.factories import CompanyFactory, make_project

pytestmark = pytest.mark.django_db


def test_invalid_uscc_is_400_naming_the_field(staff_user, api_for):
    response = api_for(staff_user).post("/api/v1/companies/", {"name": "甲", "uscc": "123"},
                                        format="json")
    assert response.status_code == 400
    assert "uscc" in response.json()
    assert not Company.objects.exists()


def test_company_created_with_lower_case_uscc_and_chain(staff_user, api_for):
    response = api_for(staff_user).post(
        "/api/v1/companies/",
        {"name": "昆山光场科技有限公司", "uscc": " 91110108551385082q", "industry": "39",
         "chain_links": [{"node": "display", "role": "core"}], "source_region": "yrd"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["uscc"] == "91110108551385082Q"
    assert body["industry"] == "39"
    assert body["chain_links"] == [{"node": "display", "role": "core"}]


def test_duplicate_company_is_409_naming_the_existing_record(make_user, api_for):
    owner = make_user(Role.INVESTMENT_STAFF, full_name="李招商")
    existing = CompanyFactory(name="南昌元境科技有限公司")
    make_project(owner=owner, company=existing)
    response = api_for(make_user(Role.INVESTMENT_STAFF)).post(
        "/api/v1/companies/", {"name": "南昌元境科技有限责任公司"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["existing"] == {"id": existing.pk, "label": "南昌元境科技有限公司"}
    assert "李招商" in body["detail"]


def test_project_create_list_and_filters(staff_user, api_for):
    api = api_for(staff_user)
    company = CompanyFactory()
    response = api.post("/api/v1/projects/", {
        "company": company.pk, "name": "API项目", "agreed_investment": "12000.50",
        "next_step": "拜访", "next_step_on": str(datetime.date.today()),
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["stage"] == "lead" and body["owner"] == staff_user.pk
    assert body["agreed_investment"] == "12000.50"
    make_project(owner=staff_user, name="另一个", agreed=5)
    listed = api.get("/api/v1/projects/?amount_min=10000").json()
    assert [p["name"] for p in listed["results"]] == ["API项目"]
    assert api.get("/api/v1/projects/?stage=lead&q=API").json()["count"] == 1


def test_refused_move_is_409_with_the_reason(staff_user, api_for):
    project = make_project(owner=staff_user, stage_code="framework")
    response = api_for(staff_user).post(f"/api/v1/projects/{project.pk}/move/",
                                        {"stage": "signed"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "stage_gate"
    assert response.json()["detail"]
    project.refresh_from_db()
    assert project.stage.code == "framework"


def test_move_and_lost_reason(staff_user, api_for):
    project = make_project(owner=staff_user)
    api = api_for(staff_user)
    response = api.post(f"/api/v1/projects/{project.pk}/move/",
                        {"stage": "screening", "note": "ok"}, format="json")
    assert response.status_code == 200 and response.json()["stage"] == "screening"
    response = api.post(f"/api/v1/projects/{project.pk}/move/",
                        {"stage": "lost", "lost_reason": "funding"}, format="json")
    assert response.status_code == 200
    assert Project.objects.get(pk=project.pk).lost_reason.code == "funding"


def test_followups_api(staff_user, make_user, api_for):
    project = make_project(owner=staff_user)
    api = api_for(staff_user)
    today = datetime.date.today()
    response = api.post("/api/v1/followups/", {
        "project": project.pk, "date": str(today), "kind": "visit", "summary": "实地拜访",
        "next_contact_on": str(today + datetime.timedelta(days=3)),
        "issues": [{"description": "用电扩容", "department": "供电公司"}],
    }, format="json")
    assert response.status_code == 201, response.json()
    project.refresh_from_db()
    assert project.last_contact_on == today
    listed = api.get(f"/api/v1/followups/?project={project.pk}").json()
    assert listed["results"][0]["summary"] == "实地拜访"
    # Someone else's project does not exist for a colleague.
    other = api_for(make_user(Role.INVESTMENT_STAFF)).post("/api/v1/followups/", {
        "project": project.pk, "date": str(today), "kind": "phone", "summary": "x"},
        format="json")
    assert other.status_code == 400 and "project" in other.json()


def test_stages_are_read_only(staff_user, api_for):
    api = api_for(staff_user)
    stages = api.get("/api/v1/stages/").json()["results"]
    assert stages[0] == {**stages[0], "code": "lead", "name": "线索", "kind": "open"}
    assert api.get("/api/v1/stages/signed/").json()["kind"] == "won"
    assert api.post("/api/v1/stages/", {"code": "x"}).status_code == 405


def test_leader_cannot_create_projects(leader_user, api_for):
    response = api_for(leader_user).post("/api/v1/projects/", {
        "company": CompanyFactory().pk, "name": "x", "next_step": "y",
        "next_step_on": str(datetime.date.today())}, format="json")
    assert response.status_code == 403
