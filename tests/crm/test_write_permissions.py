"""Every write service, called directly with every role: each refusal comes from the service
itself (PermissionDenied), not only from a view or a form, and every role that should pass
passes. Each call runs in a savepoint that is rolled back, so all calls see the same world.

A service that refuses for another reason (a ValidationError or ConflictError about the data)
has let the actor through its permission check: that counts as allowed here."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from crm.accounts.roles import Role
from crm.core.exceptions import ConflictError
from funds import services as funds
from funds.models import State
from leads import services as leads
from leads.models import ChainNode, Stage
from parks import services as parks
from parks.models import Assignment, Park
from tests.factories import CompanyFactory, make_programme, make_project, make_unit, system_admin

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n%test\n"


class _Rollback(Exception):
    pass


def outcome(call) -> str:
    """"allowed" or "refused" (PermissionDenied), the call's writes rolled back either way."""
    try:
        with transaction.atomic():
            try:
                call()
            except PermissionDenied:
                return "refused"
            except (ValidationError, ConflictError):
                return "allowed"  # past the permission check, refused for the data
            raise _Rollback
    except _Rollback:
        return "allowed"


ROLES = ["owner", "outsider", "leader", "manager", "other_manager", "reviewer", "admin",
         "nobody"]


@pytest.fixture
def world(make_user):
    people = {
        "owner": make_user(Role.INVESTMENT_STAFF),
        "outsider": make_user(Role.INVESTMENT_STAFF),  # staff, not on the project's team
        "leader": make_user(Role.LEADER),
        "manager": make_user(Role.PARK_MANAGER),
        "other_manager": make_user(Role.PARK_MANAGER),
        "reviewer": make_user(Role.FUND_REVIEWER),
        "admin": make_user(Role.ADMINISTRATOR),
        "nobody": make_user(),
    }
    company = CompanyFactory()
    project = make_project(owner=people["owner"], company=company)
    park = parks.park_create(by=system_admin(), code="walk", name="巡检园区",
                             managers=[people["manager"]])
    other = parks.park_create(by=system_admin(), code="walk2", name="另一个园区",
                              managers=[people["other_manager"]])
    building = parks.building_create(by=system_admin(), park=park, code="A", name="A栋")
    unit = make_unit(park=park, building=building, floor_number=1, code="A-101")
    lease = parks.assignment_create(by=system_admin(), unit=unit, company=company,
                                    kind=Assignment.Kind.LEASE, start=TODAY,
                                    end=TODAY + timedelta(days=365))
    hold_unit = make_unit(park=park, code="A-102")
    hold = parks.assignment_create(by=system_admin(), unit=hold_unit, company=company,
                                   kind=Assignment.Kind.RESERVATION, start=TODAY,
                                   end=TODAY + timedelta(days=365))
    programme = make_programme(review_steps=["first_review"])
    draft = funds.application_create(by=people["owner"], programme=programme, company=company,
                                     project=project, requested_amount=Decimal("100000"))
    funds.document_add(application=draft, by=people["owner"], name="营业执照",
                       file=SimpleUploadedFile("licence.pdf", PDF))
    submitted = funds.application_create(by=people["owner"], programme=programme,
                                         company=company, project=project,
                                         requested_amount=Decimal("100000"))
    funds.document_add(application=submitted, by=people["owner"], name="营业执照",
                       file=SimpleUploadedFile("licence.pdf", PDF))
    funds.application_transition(application=submitted, to=State.SUBMITTED, by=people["owner"])
    in_review = funds.application_create(by=people["owner"], programme=programme,
                                         company=company, project=project,
                                         requested_amount=Decimal("100000"))
    funds.document_add(application=in_review, by=people["owner"], name="营业执照",
                       file=SimpleUploadedFile("licence.pdf", PDF))
    for step, actor in ((State.SUBMITTED, "owner"), (State.ACCEPTED, "reviewer"),
                        (State.UNDER_REVIEW, "reviewer")):
        funds.application_transition(application=in_review, to=step, by=people[actor])
    return {**people, "company": company, "project": project, "park": park, "other": other,
            "building": building, "unit": unit, "lease": lease, "hold": hold,
            "programme": programme, "draft": draft, "submitted": submitted,
            "in_review": in_review}


def _services(w):
    """Each write service with arguments that would succeed for an allowed actor."""
    node = ChainNode.objects.first()
    screening = Stage.objects.get(code="screening")
    return {
        # leads
        "company_create": (lambda by: leads.company_create(by=by, name="巡检新公司有限公司"),
                           {"owner", "outsider", "admin"}),
        "company_update": (lambda by: leads.company_update(company=w["company"], by=by,
                                                           notes="巡检"),
                           {"owner", "outsider", "admin"}),
        "contact_add": (lambda by: leads.contact_add(company=w["company"], by=by, name="王经理"),
                        {"owner", "outsider", "admin"}),
        "qualification_add": (lambda by: leads.qualification_add(
            company=w["company"], by=by, kind="high_tech"), {"owner", "outsider", "admin"}),
        "company_chain_links": (lambda by: leads.company_update(
            company=w["company"], by=by, chain_links=[(node, "core")]),
            {"owner", "outsider", "admin"}),
        "project_create": (lambda by: leads.project_create(
            by=by, company=w["company"], name="巡检项目", next_step="电话",
            next_step_on=TODAY + timedelta(days=3)), {"owner", "outsider"}),
        "project_update": (lambda by: leads.project_update(project=w["project"], by=by,
                                                           referrer="巡检"), {"owner"}),
        "project_reassign": (lambda by: leads.project_reassign(
            project=w["project"], by=by, collaborators=[w["outsider"]]),
            {"owner", "leader", "admin"}),
        "project_move_stage": (lambda by: leads.project_move_stage(
            project=w["project"], to_stage=screening, by=by), {"owner"}),
        "followup_create": (lambda by: leads.followup_create(
            project=w["project"], by=by, date=TODAY, kind="phone", summary="巡检电话"),
            {"owner"}),
        # parks
        "park_create": (lambda by: parks.park_create(by=by, code="new", name="新园区"),
                        {"admin"}),
        "building_create": (lambda by: parks.building_create(by=by, park=w["park"], code="B",
                                                             name="B栋"), {"manager", "admin"}),
        "unit_create": (lambda by: parks.unit_create(by=by, park=w["park"], code="N-1",
                                                     use="office",
                                                     gross_area_m2=Decimal("80")),
                        {"manager", "admin"}),
        "unit_update": (lambda by: parks.unit_update(unit=w["unit"], by=by,
                                                     list_rent=Decimal("3")),
                        {"manager", "admin"}),
        "assignment_create": (lambda by: parks.assignment_create(
            by=by, unit=make_unit(park=w["park"]), company=w["company"], kind="lease",
            start=TODAY, end=TODAY + timedelta(days=30)), {"manager", "admin"}),
        "assignment_end": (lambda by: parks.assignment_end(
            assignment=w["lease"], by=by, last_day=TODAY + timedelta(days=100)),
            {"manager", "admin"}),
        "assignment_terminate": (lambda by: parks.assignment_terminate(
            assignment=w["lease"], by=by), {"manager", "admin"}),
        "reservation_release": (lambda by: parks.reservation_release(
            assignment=w["hold"], by=by), {"manager", "admin"}),
        "reservation_convert": (lambda by: parks.reservation_convert(
            assignment=w["hold"], by=by, end=TODAY + timedelta(days=365)),
            {"manager", "admin"}),
        # funds
        "application_create": (lambda by: funds.application_create(
            by=by, programme=w["programme"], company=w["company"],
            requested_amount=Decimal("5000")), {"owner", "outsider"}),
        "application_update": (lambda by: funds.application_update(
            application=w["draft"], by=by, title="巡检"), {"owner"}),
        "document_add": (lambda by: funds.document_add(
            application=w["draft"], by=by, name="其他",
            file=SimpleUploadedFile("other.pdf", PDF)), {"owner"}),
        "submit": (lambda by: funds.application_transition(
            application=w["draft"], to=State.SUBMITTED, by=by), {"owner"}),
        "accept": (lambda by: funds.application_transition(
            application=w["submitted"], to=State.ACCEPTED, by=by), {"reviewer"}),
        "review_record": (lambda by: funds.review_record(
            application=w["in_review"], by=by, decision="pass", opinion="通过"),
            {"reviewer"}),
    }


def test_every_write_service_refuses_whoever_may_not_act(world):
    mismatches = []
    for name, (call, allowed) in _services(world).items():
        for role in ROLES:
            expected = "allowed" if role in allowed else "refused"
            got = outcome(lambda call=call, role=role: call(world[role]))
            if got != expected:
                mismatches.append((name, role, expected, got))
    assert not mismatches


def test_a_park_manager_cannot_be_made_owner_or_collaborator(world):
    """Whoever adds them: owners and collaborators are people who may hold projects."""
    manager, owner = world["manager"], world["owner"]
    with pytest.raises(ValidationError) as error:
        leads.project_create(by=owner, company=world["company"], name="不该成立",
                             owner=manager, next_step="电话", next_step_on=date.max)
    assert "owner" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        leads.project_reassign(project=world["project"], by=world["admin"],
                               collaborators=[manager])
    assert "collaborators" in error.value.message_dict
    assert not world["project"].collaborators.exists()
    assert not Park.objects.filter(pk=world["park"].pk, managers=owner).exists()


def test_no_door_makes_a_park_manager_owner_or_collaborator(world, client_for, api_for):
    manager, owner, project = world["manager"], world["owner"], world["project"]
    api = api_for(owner)
    response = api.post("/api/v1/projects/", {
        "company": world["company"].pk, "name": "API 项目", "owner": manager.pk,
        "next_step": "电话", "next_step_on": (TODAY + timedelta(days=2)).isoformat()},
        format="json")
    assert response.status_code == 400 and "owner" in response.json()
    response = api.patch(f"/api/v1/projects/{project.pk}/",
                         {"collaborators": [manager.pk]}, format="json")
    assert response.status_code == 400 and "collaborators" in response.json()
    client = client_for(owner)
    page = client.get(f"/leads/projects/{project.pk}/").content.decode()
    assert f'value="{manager.pk}"' not in page.split('id="team"')[1].split("</form>")[0]
    response = client.post(f"/leads/projects/{project.pk}/team/",
                           {"owner": owner.pk, "collaborators": [manager.pk]})
    assert response.status_code == 400
    project.refresh_from_db()
    assert project.owner == owner and not project.collaborators.exists()


def test_a_collaborator_cannot_take_the_project_from_its_owner(world, make_user, api_for,
                                                               client_for):
    """The reproduced mass assignment: PATCH {"owner": me, "collaborators": []}."""
    owner, project = world["owner"], world["project"]
    helper = make_user(Role.INVESTMENT_STAFF)
    leads.project_reassign(project=project, by=owner, collaborators=[helper])
    response = api_for(helper).patch(f"/api/v1/projects/{project.pk}/",
                                     {"owner": helper.pk, "collaborators": []}, format="json")
    assert response.status_code == 403
    assert "负责人" in response.json()["detail"]  # names who may: the owner (负责人)
    response = client_for(helper).post(f"/leads/projects/{project.pk}/team/",
                                       {"owner": helper.pk, "reason": "我来跟"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.owner == owner and list(project.collaborators.all()) == [helper]
    # The owner hands it over: recorded, with who and why, in the timeline.
    response = client_for(owner).post(f"/leads/projects/{project.pk}/team/",
                                      {"owner": helper.pk, "reason": "调岗交接"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.owner == helper
    added, change = project.team_changes.all()
    assert added.added == [{"id": helper.pk, "name": str(helper)}]
    assert (change.by, change.old_owner, change.new_owner, change.reason) == (
        owner, owner, helper, "调岗交接")
    assert "调岗交接" in client_for(helper).get(f"/leads/projects/{project.pk}/").content.decode()
