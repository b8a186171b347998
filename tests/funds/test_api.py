import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.accounts.roles import Role
from tests.factories import CompanyFactory, make_programme, make_project

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def setup(make_user, api_for):
    staff = make_user(Role.INVESTMENT_STAFF)
    reviewer = make_user(Role.FUND_REVIEWER)
    programme = make_programme(budget_yuan=Decimal("500000"), cap_per_company_yuan=None,
                               review_steps=["first_review"])
    return {"staff": staff, "reviewer": reviewer, "programme": programme,
            "as_staff": api_for(staff), "as_reviewer": api_for(reviewer)}


def create(setup, amount="400000", **extra):
    response = setup["as_staff"].post("/api/v1/fund-applications/", {
        "programme": setup["programme"].pk, "company": CompanyFactory().pk,
        "requested_amount": amount, **extra}, format="json")
    assert response.status_code == 201, response.json()
    app_id = response.json()["id"]
    upload = setup["as_staff"].post(f"/api/v1/fund-applications/{app_id}/documents/",
                                    {"name": "营业执照",
                                     "file": SimpleUploadedFile("l.pdf", PDF)},
                                    format="multipart")
    assert upload.status_code == 200, upload.json()
    return app_id


def move(api, app_id, to, **extra):
    return api.post(f"/api/v1/fund-applications/{app_id}/transition/", {"to": to, **extra},
                    format="json")


def through_publicity(setup, app_id):
    assert move(setup["as_staff"], app_id, "submitted").status_code == 200
    for to in ("accepted", "under_review"):
        assert move(setup["as_reviewer"], app_id, to).status_code == 200
    review = setup["as_reviewer"].post(f"/api/v1/fund-applications/{app_id}/review/",
                                       {"decision": "pass", "opinion": "符合条件", "score": 88},
                                       format="json")
    assert review.status_code == 200, review.json()
    past = datetime.date.today() - datetime.timedelta(days=8)
    response = move(setup["as_reviewer"], app_id, "publicity", publicity_start=str(past),
                    publicity_end=str(past + datetime.timedelta(days=5)))
    assert response.status_code == 200, response.json()


def test_budget_overrun_and_illegal_transition_are_409(setup):
    first, second = create(setup), create(setup)
    assert move(setup["as_reviewer"], first, "approved", amount="1").status_code == 409
    through_publicity(setup, first)
    through_publicity(setup, second)
    ok = move(setup["as_reviewer"], first, "approved", amount="400000")
    assert ok.status_code == 200 and ok.json()["approved_amount"] == "400000.00"
    over = move(setup["as_reviewer"], second, "approved", amount="100000.01")
    assert over.status_code == 409 and over.json()["code"] == "over_budget"
    programme = setup["as_staff"].get(f"/api/v1/fund-programmes/{setup['programme'].pk}/")
    assert programme.json()["approved_total"] == "400000.00"
    assert programme.json()["remaining"] == "100000.00"


def test_drafter_cannot_act_as_reviewer_and_mismatched_upload_is_400(setup):
    app_id = create(setup)
    bad = setup["as_staff"].post(f"/api/v1/fund-applications/{app_id}/documents/",
                                 {"name": "营业执照",
                                  "file": SimpleUploadedFile("a.pdf", b"MZ\x00")},
                                 format="multipart")
    assert bad.status_code == 400 and "file" in bad.json()
    assert move(setup["as_staff"], app_id, "submitted").status_code == 200
    assert move(setup["as_staff"], app_id, "accepted").status_code == 403
    bad = setup["as_staff"].post(f"/api/v1/fund-applications/{app_id}/documents/",
                                 {"name": "x", "file": SimpleUploadedFile("a.pdf", b"MZ\x00")},
                                 format="multipart")
    assert bad.status_code == 409  # submitted: no more uploads until a supplement is asked


def test_money_flow_through_the_api(setup):
    app_id = create(setup, amount="200000")
    through_publicity(setup, app_id)
    api = setup["as_reviewer"]
    assert move(api, app_id, "approved", amount="200000").status_code == 200
    planned = api.post(f"/api/v1/fund-applications/{app_id}/plan/",
                       {"amount": "200000", "planned_on": str(datetime.date.today())},
                       format="json").json()
    tranche = planned["disbursements"][0]["id"]
    paid = api.post(f"/api/v1/fund-applications/{app_id}/pay/",
                    {"disbursement": tranche, "paid_on": str(datetime.date.today())},
                    format="json")
    assert paid.json()["state"] == "disbursed"
    claw = api.post(f"/api/v1/fund-applications/{app_id}/clawback/",
                    {"amount": "250000", "reason": "x"}, format="json")
    assert claw.status_code == 409
    claw = api.post(f"/api/v1/fund-applications/{app_id}/clawback/",
                    {"amount": "50000", "reason": "未达产，追回部分补贴"}, format="json")
    assert claw.json()["state"] == "clawed_back"


@pytest.mark.parametrize("role,sees_confidential,sees_other", [
    (Role.LEADER, True, True), (Role.FUND_REVIEWER, True, True),
    (Role.ADMINISTRATOR, False, True), (Role.INVESTMENT_STAFF, False, False),
    (Role.PARK_MANAGER, False, False)])
def test_access_by_role(setup, make_user, api_for, role, sees_confidential, sees_other):
    owner = setup["staff"]
    secret_project = make_project(owner=owner, confidential=True)
    response = setup["as_staff"].post("/api/v1/fund-applications/", {
        "programme": setup["programme"].pk, "company": secret_project.company.pk,
        "project": secret_project.pk, "requested_amount": "1000"}, format="json")
    secret = response.json()["id"]
    other_owner = make_user(Role.INVESTMENT_STAFF)
    other = api_for(other_owner).post("/api/v1/fund-applications/", {
        "programme": setup["programme"].pk, "company": CompanyFactory().pk,
        "requested_amount": "1000"}, format="json").json()["id"]
    api = api_for(make_user(role))
    assert api.get(f"/api/v1/fund-applications/{secret}/").status_code == (
        200 if sees_confidential else 404)
    assert api.get(f"/api/v1/fund-applications/{other}/").status_code == (
        200 if sees_other else 404)
    listed = {a["id"] for a in api.get("/api/v1/fund-applications/").json()["results"]}
    assert (secret in listed) is sees_confidential and (other in listed) is sees_other
    # The owner always sees their own.
    assert setup["as_staff"].get(f"/api/v1/fund-applications/{secret}/").status_code == 200


def test_documents_download_only_for_those_who_see_the_application(setup, make_user, api_for,
                                                                    client):
    app_id = create(setup)
    detail = setup["as_staff"].get(f"/api/v1/fund-applications/{app_id}/").json()
    download = detail["documents"][0]["download"]
    client.force_login(setup["reviewer"])
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(make_user(Role.PARK_MANAGER))
    assert client.get(download).status_code == 404
