"""The application workflow and its money rules, through the services."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from crm.accounts.roles import Role
from crm.core.exceptions import ConflictError
from funds import services
from funds.models import Application, State, Transition
from leads.models import Stage
from tests.factories import CompanyFactory, make_programme, make_project

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
TODAY = datetime.date.today()


@pytest.fixture
def people(make_user):
    return {"staff": make_user(Role.INVESTMENT_STAFF),
            "reviewer": make_user(Role.FUND_REVIEWER),
            "reviewer2": make_user(Role.FUND_REVIEWER)}


def draft(people, programme=None, amount="300000", **kwargs):
    programme = programme or make_programme()
    application = services.application_create(
        by=people["staff"], programme=programme, company=kwargs.pop("company", None)
        or CompanyFactory(), requested_amount=Decimal(amount), **kwargs)
    services.document_add(application=application, by=people["staff"], name="营业执照",
                          file=SimpleUploadedFile("licence.pdf", PDF))
    return application


def to_publicity(people, application):
    r = people["reviewer"]
    for to in (State.SUBMITTED, State.ACCEPTED, State.UNDER_REVIEW):
        who = people["staff"] if to == State.SUBMITTED else r
        services.application_transition(application=application, to=to, by=who)
    for step in application.programme.review_steps:
        services.review_record(application=application, by=r, decision="pass",
                               opinion=f"{step} ok", score=85)
    services.application_transition(
        application=application, to=State.PUBLICITY, by=r,
        publicity_start=TODAY - datetime.timedelta(days=10),
        publicity_end=TODAY - datetime.timedelta(days=3))
    return application


def test_full_legal_path_records_every_transition(people):
    application = to_publicity(people, draft(people))
    r = people["reviewer"]
    services.application_transition(application=application, to=State.APPROVED, by=r,
                                    amount=Decimal("250000"))
    tranche1 = services.disbursement_plan(application=application, by=r,
                                          amount=Decimal("100000"), planned_on=TODAY)
    tranche2 = services.disbursement_plan(application=application, by=r,
                                          amount=Decimal("150000"), planned_on=TODAY)
    services.disbursement_pay(disbursement=tranche1, by=r, paid_on=TODAY)
    assert Application.objects.get(pk=application.pk).state == State.DISBURSING
    services.disbursement_pay(disbursement=tranche2, by=r, paid_on=TODAY)
    assert Application.objects.get(pk=application.pk).state == State.DISBURSED
    services.application_transition(application=application, to=State.CLOSED, by=r)
    services.clawback_record(application=application, by=r, amount=Decimal("50000"),
                             reason="企业迁出，按协议追回")
    states = list(Transition.objects.filter(application=application).order_by("at", "pk")
                  .values_list("from_state", "to_state"))
    assert states == [
        ("", "draft"), ("draft", "submitted"), ("submitted", "accepted"),
        ("accepted", "under_review"), ("under_review", "publicity"),
        ("publicity", "approved"), ("approved", "disbursing"), ("disbursing", "disbursed"),
        ("disbursed", "closed"), ("closed", "clawed_back")]
    assert services.paid_total(application) == Decimal("200000")


def test_supplement_refusal_decline_and_withdraw_paths(people):
    r, staff = people["reviewer"], people["staff"]
    a = draft(people)
    services.application_transition(application=a, to=State.SUBMITTED, by=staff)
    services.application_transition(application=a, to=State.NEEDS_SUPPLEMENT, by=r,
                                    note="营业执照不清晰")
    services.application_transition(application=a, to=State.SUBMITTED, by=staff)
    services.application_transition(application=a, to=State.REFUSED, by=r, note="不符合条件")
    b = draft(people)
    services.application_transition(application=b, to=State.WITHDRAWN, by=staff)
    c = to_publicity(people, draft(people))
    services.application_transition(application=c, to=State.DECLINED, by=r, note="公示有异议")
    assert [Application.objects.get(pk=x.pk).state for x in (a, b, c)] == [
        "refused", "withdrawn", "declined"]


@pytest.mark.parametrize("source,target", [
    ("draft", "approved"), ("draft", "accepted"), ("submitted", "publicity"),
    ("submitted", "disbursed"), ("draft", "closed")])
def test_illegal_transitions_are_refused_with_a_reason(people, source, target):
    application = draft(people)
    if source == "submitted":
        services.application_transition(application=application, to=State.SUBMITTED,
                                        by=people["staff"])
    with pytest.raises(ConflictError) as error:
        services.application_transition(application=application, to=target,
                                        by=people["reviewer"], amount=Decimal("1"))
    assert error.value.code == "illegal_transition"
    assert Application.objects.get(pk=application.pk).state == source


def test_submit_needs_required_documents(people):
    application = services.application_create(
        by=people["staff"], programme=make_programme(required_documents=["营业执照", "审计报告"]),
        company=CompanyFactory(), requested_amount=Decimal("1000"))
    with pytest.raises(ConflictError) as error:
        services.application_transition(application=application, to=State.SUBMITTED,
                                        by=people["staff"])
    assert "营业执照" in error.value.message and "审计报告" in error.value.message


def test_publicity_needs_every_review_step_and_approval_waits_for_it_to_end(people):
    r = people["reviewer"]
    programme = make_programme(review_steps=["first_review", "expert_review"])
    application = draft(people, programme)
    services.application_transition(application=application, to=State.SUBMITTED,
                                    by=people["staff"])
    services.application_transition(application=application, to=State.ACCEPTED, by=r)
    services.application_transition(application=application, to=State.UNDER_REVIEW, by=r)
    services.review_record(application=application, by=r, decision="pass", opinion="ok")
    with pytest.raises(ConflictError):
        services.application_transition(application=application, to=State.PUBLICITY, by=r)
    services.review_record(application=application, by=people["reviewer2"], decision="pass",
                           opinion="专家评审通过", score=90)
    services.application_transition(application=application, to=State.PUBLICITY, by=r)
    with pytest.raises(ConflictError) as error:
        services.application_transition(application=application, to=State.APPROVED, by=r,
                                        amount=Decimal("1000"))
    assert error.value.code == "publicity_running"


def test_amount_rules(people):
    r = people["reviewer"]
    programme = make_programme(budget_yuan=Decimal("600000"),
                               cap_per_company_yuan=Decimal("400000"))
    company = CompanyFactory()
    first = to_publicity(people, draft(people, programme, amount="300000", company=company))
    with pytest.raises(ConflictError) as error:
        services.application_transition(application=first, to=State.APPROVED, by=r,
                                        amount=Decimal("300000.01"))
    assert error.value.code == "over_requested"
    services.application_transition(application=first, to=State.APPROVED, by=r,
                                    amount=Decimal("300000"))
    second = to_publicity(people, draft(people, programme, amount="200000", company=company))
    with pytest.raises(ConflictError) as error:
        services.application_transition(application=second, to=State.APPROVED, by=r,
                                        amount=Decimal("150000"))
    assert error.value.code == "over_cap"  # 300k + 150k > the 400k cap per company
    with pytest.raises(ValidationError):
        services.application_create(by=people["staff"], programme=programme,
                                    company=company, requested_amount=Decimal("400000.01"))
    third = to_publicity(people, draft(people, programme, amount="350000"))
    with pytest.raises(ConflictError) as error:
        services.application_transition(application=third, to=State.APPROVED, by=r,
                                        amount=Decimal("350000"))
    assert error.value.code == "over_budget" and "300000" in error.value.message


def test_paid_never_exceeds_approved_and_milestones_gate_payment(people, make_user):
    r = people["reviewer"]
    project = make_project(owner=people["staff"])
    application = to_publicity(people, draft(people, company=project.company, project=project))
    services.application_transition(application=application, to=State.APPROVED, by=r,
                                    amount=Decimal("100000"))
    with pytest.raises(ConflictError):
        services.disbursement_plan(application=application, by=r, amount=Decimal("100000.01"),
                                   planned_on=TODAY)
    tranche = services.disbursement_plan(application=application, by=r,
                                         amount=Decimal("60000"), planned_on=TODAY,
                                         milestone=Stage.objects.get(code="started"))
    with pytest.raises(ConflictError) as error:
        services.disbursement_pay(disbursement=tranche, by=r, paid_on=TODAY)
    assert error.value.code == "milestone"
    with pytest.raises(ConflictError):
        services.disbursement_pay(disbursement=services.disbursement_plan(
            application=application, by=r, amount=Decimal("40000"), planned_on=TODAY),
            by=r, paid_on=TODAY, amount=Decimal("100000.01"))


def test_reviewer_cannot_review_their_own_application(make_user):
    both = make_user(Role.INVESTMENT_STAFF, Role.FUND_REVIEWER)
    people = {"staff": both, "reviewer": make_user(Role.FUND_REVIEWER)}
    application = draft(people)
    services.application_transition(application=application, to=State.SUBMITTED, by=both)
    with pytest.raises(PermissionDenied):
        services.application_transition(application=application, to=State.ACCEPTED, by=both)
    services.application_transition(application=application, to=State.ACCEPTED,
                                    by=people["reviewer"])
    services.application_transition(application=application, to=State.UNDER_REVIEW,
                                    by=people["reviewer"])
    with pytest.raises(PermissionDenied):
        services.review_record(application=application, by=both, decision="pass",
                               opinion="自己审自己")


def test_upload_content_must_match_extension(people):
    application = services.application_create(
        by=people["staff"], programme=make_programme(), company=CompanyFactory(),
        requested_amount=Decimal("1000"))
    with pytest.raises(ValidationError) as error:
        services.document_add(application=application, by=people["staff"], name="营业执照",
                              file=SimpleUploadedFile("licence.pdf", b"MZ\x90\x00binary"))
    assert "file" in error.value.message_dict
    assert not application.documents.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_exceed_the_budget(make_user):
    """Eight reviewers approve eight 300k applications of a 1M programme at the same moment:
    exactly three fit, the rest are refused, and the approved total stays within budget."""
    reviewers = [make_user(Role.FUND_REVIEWER) for _ in range(8)]
    people = {"staff": make_user(Role.INVESTMENT_STAFF), "reviewer": reviewers[0]}
    programme = make_programme(budget_yuan=Decimal("1000000"), cap_per_company_yuan=None)
    applications = [to_publicity(people, draft(people, programme)) for _ in range(8)]
    barrier = threading.Barrier(8)
    results, lock = [], threading.Lock()

    def approve(i):
        try:
            barrier.wait()
            services.application_transition(application=applications[i], to=State.APPROVED,
                                            by=reviewers[i], amount=Decimal("300000"))
            outcome = "approved"
        except ConflictError as error:
            outcome = error.code
        except Exception as error:  # noqa: BLE001
            outcome = repr(error)
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["approved"] * 3 + ["over_budget"] * 5, results
    assert services.committed_total(programme) == Decimal("900000")
