import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm.accounts.roles import Role
from crm.core.dates import add_working_days
from funds.models import Application
from tests.factories import CompanyFactory, make_programme, make_project
from tests.funds.helpers import backdate, past_publicity

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def setup(make_user, api_for):
    staff = make_user(Role.INVESTMENT_STAFF)
    reviewer = make_user(Role.FUND_REVIEWER)
    approver = make_user(Role.FUND_REVIEWER)  # reviews nothing: the duties stay apart
    programme = make_programme(budget_yuan=Decimal("500000"), cap_per_company_yuan=None,
                               review_steps=["first_review"])
    clients = {name: english(api_for(user)) for name, user in (
        ("as_staff", staff), ("as_reviewer", reviewer), ("as_approver", approver))}
    return {"staff": staff, "reviewer": reviewer, "approver": approver,
            "programme": programme, **clients}


def english(api):
    """The reasons in English (the API answers in Chinese unless the language cookie says)."""
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return api


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


def review(api, app_id, **extra):
    return api.post(f"/api/v1/fund-applications/{app_id}/review/",
                    {"decision": "pass", "opinion": "符合条件", "score": 88, **extra},
                    format="json")


def to_review(setup, app_id):
    assert move(setup["as_staff"], app_id, "submitted").status_code == 200
    for to in ("accepted", "under_review"):
        assert move(setup["as_reviewer"], app_id, to).status_code == 200


def through_publicity(setup, app_id):
    """Reviewed three weeks ago (history moved back), and a publicity from then that is over."""
    to_review(setup, app_id)
    response = review(setup["as_reviewer"], app_id)
    assert response.status_code == 200, response.json()
    backdate(Application.objects.get(pk=app_id))
    start, end = past_publicity()
    response = move(setup["as_reviewer"], app_id, "publicity", publicity_start=str(start),
                    publicity_end=str(end))
    assert response.status_code == 200, response.json()


def test_budget_overrun_and_illegal_transition_are_409(setup):
    first, second = create(setup), create(setup)
    assert move(setup["as_reviewer"], first, "approved", amount="1").status_code == 409
    through_publicity(setup, first)
    through_publicity(setup, second)
    ok = move(setup["as_approver"], first, "approved", amount="400000")
    assert ok.status_code == 200 and ok.json()["approved_amount"] == "400000.00"
    over = move(setup["as_approver"], second, "approved", amount="100000.01")
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
    refused = move(setup["as_staff"], app_id, "accepted")
    assert refused.status_code == 403 and "Only a fund reviewer" in refused.json()["detail"]
    bad = setup["as_staff"].post(f"/api/v1/fund-applications/{app_id}/documents/",
                                 {"name": "x", "file": SimpleUploadedFile("a.pdf", b"MZ\x00")},
                                 format="multipart")
    assert bad.status_code == 409  # submitted: no more uploads until a supplement is asked


def test_money_flow_through_the_api(setup):
    app_id = create(setup, amount="200000")
    through_publicity(setup, app_id)
    api = setup["as_reviewer"]
    assert move(setup["as_approver"], app_id, "approved", amount="200000").status_code == 200
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


# --- Publicity (公示) through the API ------------------------------------------------------------
def test_backdated_or_too_short_publicity_is_400_naming_the_field(setup):
    """The reproduced bug: a publicity typed a month before the review ended, two days long,
    then an approval at once. Each is refused with the field and the earliest date."""
    app_id = create(setup)
    to_review(setup, app_id)
    assert review(setup["as_reviewer"], app_id).status_code == 200
    today = timezone.localdate()
    api = setup["as_reviewer"]
    backdated = move(api, app_id, "publicity",
                     publicity_start=str(today - datetime.timedelta(days=31)),
                     publicity_end=str(today - datetime.timedelta(days=30)))
    assert backdated.status_code == 400
    assert list(backdated.json()) == ["publicity_start"]
    assert f"{today:%Y-%m-%d} at the earliest" in backdated.json()["publicity_start"][0]
    short = move(api, app_id, "publicity", publicity_start=str(today),
                 publicity_end=str(today + datetime.timedelta(days=1)))
    assert short.status_code == 400 and list(short.json()) == ["publicity_end"]
    earliest_end = add_working_days(today, 5)
    assert "at least 5 working days" in short.json()["publicity_end"][0]
    assert f"{earliest_end:%Y-%m-%d} at the earliest" in short.json()["publicity_end"][0]
    assert setup["as_staff"].get(f"/api/v1/fund-applications/{app_id}/").json()[
        "state"] == "under_review"

    ok = move(api, app_id, "publicity", publicity_start=str(today))
    assert ok.status_code == 200, ok.json()
    assert (ok.json()["publicity_start"], ok.json()["publicity_end"]) == (
        str(today), str(earliest_end))
    early = move(setup["as_approver"], app_id, "approved", amount="1000")
    assert early.status_code == 409 and early.json()["code"] == "publicity_running"
    assert str(earliest_end) in early.json()["detail"]


def test_approval_after_a_correct_publicity_has_ended(setup):
    app_id = create(setup)
    through_publicity(setup, app_id)
    response = move(setup["as_approver"], app_id, "approved", amount="1000")
    assert response.status_code == 200 and response.json()["state"] == "approved"


# --- Separation of duties through the API -------------------------------------------------------
def test_duties_stay_apart_through_the_api(setup, make_user, api_for):
    reviewer2 = english(api_for(make_user(Role.FUND_REVIEWER)))
    setup["programme"].review_steps = ["first_review", "expert_review"]
    setup["programme"].save()
    app_id = create(setup)
    to_review(setup, app_id)
    assert review(setup["as_reviewer"], app_id).status_code == 200
    second = review(setup["as_reviewer"], app_id)
    assert second.status_code == 403
    assert "another review step" in second.json()["detail"]
    assert review(reviewer2, app_id).status_code == 200
    backdate(Application.objects.get(pk=app_id))
    start, end = past_publicity()
    assert move(setup["as_reviewer"], app_id, "publicity", publicity_start=str(start),
                publicity_end=str(end)).status_code == 200
    for reviewed in (setup["as_reviewer"], reviewer2):
        refused = move(reviewed, app_id, "approved", amount="1000")
        assert refused.status_code == 403
        assert "another reviewer must approve" in refused.json()["detail"]
    assert move(setup["as_approver"], app_id, "approved", amount="1000").status_code == 200


def test_a_small_office_may_let_a_reviewer_approve(setup):
    setup["programme"].approver_may_review = True
    setup["programme"].save()
    app_id = create(setup)
    through_publicity(setup, app_id)
    response = move(setup["as_reviewer"], app_id, "approved", amount="1000")
    assert response.status_code == 200, response.json()


def test_a_reviewer_on_the_projects_team_cannot_review_or_approve(setup, make_user, api_for):
    colleague = make_user(Role.INVESTMENT_STAFF, Role.FUND_REVIEWER)
    as_colleague = english(api_for(colleague))
    project = make_project(owner=setup["staff"], collaborators=[colleague])
    response = setup["as_staff"].post("/api/v1/fund-applications/", {
        "programme": setup["programme"].pk, "company": project.company.pk,
        "project": project.pk, "requested_amount": "1000"}, format="json")
    app_id = response.json()["id"]
    setup["as_staff"].post(f"/api/v1/fund-applications/{app_id}/documents/",
                           {"name": "营业执照", "file": SimpleUploadedFile("l.pdf", PDF)},
                           format="multipart")
    assert move(setup["as_staff"], app_id, "submitted").status_code == 200
    refused = move(as_colleague, app_id, "accepted")
    assert refused.status_code == 403 and "work on its project" in refused.json()["detail"]
    for to in ("accepted", "under_review"):
        assert move(setup["as_reviewer"], app_id, to).status_code == 200
    refused = review(as_colleague, app_id)
    assert refused.status_code == 403 and "work on its project" in refused.json()["detail"]
    assert review(setup["as_reviewer"], app_id).status_code == 200
    backdate(Application.objects.get(pk=app_id))
    start, end = past_publicity()
    assert move(setup["as_reviewer"], app_id, "publicity", publicity_start=str(start),
                publicity_end=str(end)).status_code == 200
    refused = move(as_colleague, app_id, "approved", amount="1000")
    assert refused.status_code == 403 and "work on its project" in refused.json()["detail"]


def test_a_system_move_by_hand_is_409(setup):
    app_id = create(setup)
    through_publicity(setup, app_id)
    assert move(setup["as_approver"], app_id, "approved", amount="1000").status_code == 200
    response = move(setup["as_reviewer"], app_id, "disbursed")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    assert "recording payments" in response.json()["detail"]
