import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from crm.accounts.roles import Role
from crm.core.exceptions import ConflictError
from leads import services
from leads.models import Company, LostReason, Project, Stage, StageEvent
from tests.factories import CompanyFactory, make_project

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


def stage(code):
    return Stage.objects.get(code=code)


def test_default_stages_exist_without_demo_data():
    codes = list(Stage.objects.order_by("order").values_list("code", flat=True))
    assert codes[:7] == ["lead", "screening", "first_contact", "site_visit", "negotiating",
                         "framework", "signed"]
    assert {"shelved", "lost", "full_capacity"} <= set(codes)
    assert stage("signed").requires_agreement and stage("registered").requires_uscc
    assert LostReason.objects.filter(code="other_city").exists()


def test_company_uscc_is_normalised_and_validated(staff_user):
    company = services.company_create(by=staff_user, name="甲公司",
                                       uscc="  91110108551385082q ")
    assert company.uscc == "91110108551385082Q"
    with pytest.raises(ValidationError) as error:
        services.company_create(by=staff_user, name="乙公司", uscc="91350100M000100Y4Z")
    assert "uscc" in error.value.message_dict
    assert "3" in error.value.message_dict["uscc"][0]
    assert not Company.objects.filter(name="乙公司").exists()


def test_duplicate_uscc_is_refused_naming_record_and_owner(make_user):
    owner = make_user(Role.INVESTMENT_STAFF, full_name="王招商")
    company = services.company_create(by=owner, name="昆山灵境科技有限公司",
                                       uscc="91110108551385082Q")
    make_project(owner=owner, company=company, name="灵境项目")
    # A colleague who may not open the project is told whom to talk to, not what the deal is.
    other = make_user(Role.INVESTMENT_STAFF)
    with pytest.raises(ConflictError) as error:
        services.company_create(by=other, name="完全不同的名字", uscc="91110108551385082q")
    message = error.value.message
    assert "昆山灵境科技有限公司" in message and "王招商" in message
    assert "灵境项目" not in message
    assert error.value.existing == company
    # The project's own team reads its name.
    with pytest.raises(ConflictError) as error:
        services.company_create(by=owner, name="又一个名字", uscc="91110108551385082Q")
    assert "灵境项目" in error.value.message and "王招商" in error.value.message


@pytest.mark.parametrize("variant", ["昆山 灵境（科技）有限责任公司", "昆山灵境科技股份有限公司",
                                     "昆山灵境科技"])
def test_duplicate_normalised_name_is_refused(staff_user, variant):
    services.company_create(by=staff_user, name="昆山灵境科技有限公司")
    with pytest.raises(ConflictError):
        services.company_create(by=staff_user, name=variant)
    assert Company.objects.count() == 1


def test_database_refuses_duplicates_the_service_did_not_see(staff_user):
    services.company_create(by=staff_user, name="昆山灵境科技有限公司")
    with pytest.raises(IntegrityError), transaction.atomic():
        Company.objects.create(name="昆山灵境科技有限责任公司")


def test_project_needs_next_step_while_open(staff_user):
    with pytest.raises(ValidationError) as error:
        services.project_create(by=staff_user, company=CompanyFactory(), name="无下一步项目",
                                stage=stage("lead"))
    assert "next_step_on" in error.value.message_dict
    assert not Project.objects.exists()


def test_every_move_is_recorded(staff_user):
    project = make_project(owner=staff_user)
    services.project_move_stage(project=project, to_stage=stage("screening"), by=staff_user,
                                note="研判通过")
    events = list(StageEvent.objects.filter(project=project).order_by("at", "pk"))
    assert [(e.from_stage_id and e.from_stage.code, e.to_stage.code) for e in events] == [
        (None, "lead"), ("lead", "screening")]
    assert events[-1].by == staff_user and events[-1].note == "研判通过"
    project.refresh_from_db()
    assert project.stage.code == "screening"
    assert project.stage_entered_at == events[-1].at


def test_signing_needs_amount_and_agreement(staff_user):
    project = make_project(owner=staff_user, stage_code="framework")
    with pytest.raises(ConflictError) as error:
        services.project_move_stage(project=project, to_stage=stage("signed"), by=staff_user)
    assert "协议投资额" in error.value.message or "agreed investment" in error.value.message
    project.agreed_investment_wan = Decimal("50000")
    project.save()
    with pytest.raises(ConflictError) as error:
        services.project_move_stage(project=project, to_stage=stage("signed"), by=staff_user)
    assert "协议" in error.value.message or "agreement" in error.value.message
    project.agreement.save("a.pdf", ContentFile(PDF))
    services.project_move_stage(project=project, to_stage=stage("signed"), by=staff_user)
    project.refresh_from_db()
    assert project.stage.code == "signed"
    assert project.signed_on == datetime.date.today()
    assert StageEvent.objects.filter(project=project).count() == 2


def test_registration_needs_uscc(staff_user):
    company = CompanyFactory(uscc=None)
    project = make_project(owner=staff_user, company=company, stage_code="framework",
                           agreed=Decimal("1000"))
    project.agreement.save("a.pdf", ContentFile(PDF))
    services.project_move_stage(project=project, to_stage=stage("signed"), by=staff_user)
    with pytest.raises(ConflictError) as error:
        services.project_move_stage(project=project, to_stage=stage("registered"),
                                    by=staff_user)
    assert "信用代码" in error.value.message or "credit code" in error.value.message
    project.refresh_from_db()
    assert project.stage.code == "signed"
    company.uscc = "91110108551385082Q"
    company.save()
    services.project_move_stage(project=project, to_stage=stage("registered"), by=staff_user)


def test_lost_needs_a_reason(staff_user):
    project = make_project(owner=staff_user, stage_code="negotiating")
    with pytest.raises(ConflictError):
        services.project_move_stage(project=project, to_stage=stage("lost"), by=staff_user)
    reason = LostReason.objects.get(code="other_city")
    services.project_move_stage(project=project, to_stage=stage("lost"), by=staff_user,
                                lost_reason=reason)
    project.refresh_from_db()
    assert project.lost_reason == reason
    assert project.stage_events.last().lost_reason == reason


def test_moving_to_the_same_stage_is_refused(staff_user):
    project = make_project(owner=staff_user)
    with pytest.raises(ConflictError):
        services.project_move_stage(project=project, to_stage=stage("lead"), by=staff_user)


def test_signing_counts_once(staff_user):
    project = make_project(owner=staff_user, stage_code="framework", agreed=Decimal("100"))
    project.agreement.save("a.pdf", ContentFile(PDF))
    first = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC)
    services.project_move_stage(project=project, to_stage=stage("signed"), by=staff_user,
                                at=first)
    services.project_move_stage(project=project, to_stage=stage("shelved"), by=staff_user)
    services.project_move_stage(project=project, to_stage=stage("signed"), by=staff_user)
    project.refresh_from_db()
    assert project.signed_on == datetime.date(2026, 3, 1)


def test_followup_updates_last_contact_and_next_step(staff_user):
    project = make_project(owner=staff_user)
    today = datetime.date.today()
    services.followup_create(project=project, by=staff_user, date=today, kind="visit",
                             summary="上门拜访", next_step="发送选址方案",
                             next_contact_on=today + datetime.timedelta(days=5),
                             issues=[{"description": "人才公寓", "department": "人才办"}])
    project.refresh_from_db()
    assert project.last_contact_on == today
    assert project.next_step == "发送选址方案"
    assert project.next_step_on == today + datetime.timedelta(days=5)
    # An older follow-up logged late does not move the last contact back.
    services.followup_create(project=project, by=staff_user,
                             date=today - datetime.timedelta(days=10), kind="phone",
                             summary="补录电话")
    project.refresh_from_db()
    assert project.last_contact_on == today
    assert project.followups.first().issues.get().department == "人才办"


def test_followup_cannot_be_in_the_future(staff_user):
    project = make_project(owner=staff_user)
    with pytest.raises(ValidationError) as error:
        services.followup_create(project=project, by=staff_user,
                                 date=datetime.date.today() + datetime.timedelta(days=1),
                                 kind="phone", summary="x")
    assert "date" in error.value.message_dict
    assert not project.followups.exists()
