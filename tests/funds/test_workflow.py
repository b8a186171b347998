"""The application workflow and its money rules, through the services."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.utils import timezone, translation

from crm.accounts.roles import Role
from crm.core.exceptions import ConflictError
from funds import rules, services, workflow
from funds.models import Application, Review, State, Transition
from leads.models import Stage
from tests.factories import CompanyFactory, make_programme, make_project
from tests.funds.helpers import backdate, past_publicity

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
TODAY = datetime.date.today()


@pytest.fixture(autouse=True)
def english():
    """Assert on the English msgids (the default language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def people(make_user):
    """The drafter, two reviewers (one per review step) and the approver, who reviewed
    nothing: the separation of duties the services enforce."""
    return {"staff": make_user(Role.INVESTMENT_STAFF),
            "reviewer": make_user(Role.FUND_REVIEWER),
            "reviewer2": make_user(Role.FUND_REVIEWER),
            "approver": make_user(Role.FUND_REVIEWER)}


def draft(people, programme=None, amount="300000", **kwargs):
    programme = programme or make_programme()
    application = services.application_create(
        by=people["staff"], programme=programme, company=kwargs.pop("company", None)
        or CompanyFactory(), requested_amount=Decimal(amount), **kwargs)
    services.document_add(application=application, by=people["staff"], name="营业执照",
                          file=SimpleUploadedFile("licence.pdf", PDF))
    return application


def to_publicity(people, application):
    """Through the review (one reviewer per step) to a publicity that is over: the history is
    moved back three weeks first, since a publicity starts no earlier than its review ended."""
    r = people["reviewer"]
    for to in (State.SUBMITTED, State.ACCEPTED, State.UNDER_REVIEW):
        who = people["staff"] if to == State.SUBMITTED else r
        services.application_transition(application=application, to=to, by=who)
    step_reviewers = [r, people["reviewer2"]]
    for number, step in enumerate(application.programme.review_steps):
        services.review_record(application=application, by=step_reviewers[number],
                               decision="pass", opinion=f"{step} ok", score=85)
    backdate(application)
    start, end = past_publicity()
    services.application_transition(application=application, to=State.PUBLICITY, by=r,
                                    publicity_start=start, publicity_end=end)
    return application


def test_full_legal_path_records_every_transition(people):
    application = to_publicity(people, draft(people))
    r = people["reviewer"]
    services.application_transition(application=application, to=State.APPROVED,
                                    by=people["approver"], amount=Decimal("250000"))
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
        services.application_transition(application=application, to=State.APPROVED,
                                        by=people["approver"], amount=Decimal("1000"))
    assert error.value.code == "publicity_running"


def test_amount_rules(people):
    r = people["approver"]
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
    services.application_transition(application=application, to=State.APPROVED,
                                    by=people["approver"], amount=Decimal("100000"))
    with pytest.raises(ConflictError):
        services.disbursement_plan(application=application, by=r, amount=Decimal("100000.01"),
                                   planned_on=TODAY)
    tranche = services.disbursement_plan(application=application, by=r,
                                         amount=Decimal("60000"), planned_on=TODAY,
                                         milestone=Stage.objects.get(code="started"))
    with pytest.raises(ConflictError) as error:
        services.disbursement_pay(disbursement=tranche, by=r, paid_on=TODAY)
    assert error.value.code == "milestone"
    # Once the project has reached the stage (leads' ProjectQuerySet.reached), it is paid.
    started = Stage.objects.get(code="started")
    type(project).objects.filter(pk=project.pk).update(reached_order=started.path_order)
    services.disbursement_pay(disbursement=tranche, by=r, paid_on=TODAY)
    assert Application.objects.get(pk=application.pk).state == State.DISBURSING
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
    reviewers = [make_user(Role.FUND_REVIEWER) for _ in range(8)]  # the approvers
    people = {"staff": make_user(Role.INVESTMENT_STAFF), "reviewer": make_user(Role.FUND_REVIEWER),
              "reviewer2": make_user(Role.FUND_REVIEWER)}
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
    assert rules.committed_total(programme) == Decimal("900000")


# --- The declaration is the workflow ------------------------------------------------------------
def test_the_declaration_is_consistent_and_gives_the_state_groups():
    assert workflow.declaration_errors() == []
    assert set(workflow.STATES) == set(State.values)
    assert workflow.COMMITTED_STATES == (State.APPROVED, State.DISBURSING, State.DISBURSED,
                                         State.CLOSED, State.CLAWED_BACK)
    assert workflow.WAITING_STATES == (State.SUBMITTED, State.ACCEPTED, State.UNDER_REVIEW)
    assert workflow.EDITABLE_STATES == (State.DRAFT, State.NEEDS_SUPPLEMENT)
    assert workflow.TRANCHE_STATES == (State.APPROVED, State.DISBURSING)
    assert workflow.CLAWBACK_STATES == (State.DISBURSING, State.DISBURSED, State.CLOSED)
    # The names other modules import are the declaration's.
    from funds import models

    assert models.COMMITTED_STATES is workflow.COMMITTED_STATES
    assert models.WAITING_STATES is workflow.WAITING_STATES
    assert services.TRANCHE_STATES is workflow.TRANCHE_STATES


def test_move_refuses_a_pair_the_declaration_does_not_have(people):
    application = draft(people)
    transitions = Transition.objects.count()
    with pytest.raises(ConflictError) as error:
        services._move(application, to=State.APPROVED, by=people["approver"],
                       amount=Decimal("1"))
    assert error.value.code == "illegal_transition"
    assert "cannot become" in error.value.message
    assert Transition.objects.count() == transitions
    assert Application.objects.get(pk=application.pk).state == State.DRAFT


def test_system_moves_are_declared_and_only_the_system_makes_them(people):
    application = to_publicity(people, draft(people))
    services.application_transition(application=application, to=State.APPROVED,
                                    by=people["approver"], amount=Decimal("100000"))
    application.refresh_from_db()
    # By hand, through the service: refused with what it follows from.
    with pytest.raises(ConflictError) as error:
        services.application_transition(application=application, to=State.DISBURSED,
                                        by=people["reviewer"])
    assert error.value.code == "illegal_transition"
    assert "recording payments" in error.value.message
    # _move refuses a system pair asked for as a person's move, and a person's move asked for
    # as the system's.
    with pytest.raises(ConflictError):
        services._move(application, to=State.DISBURSING, by=people["reviewer"])
    with pytest.raises(ConflictError):
        services._move(application, to=State.CLOSED, by=people["reviewer"], system=True)
    # An undeclared system pair (approved → clawed back: nothing was paid) is refused too.
    with pytest.raises(ConflictError):
        services._move(application, to=State.CLAWED_BACK, by=people["reviewer"], system=True)
    assert Application.objects.get(pk=application.pk).state == State.APPROVED
    services._move(application, to=State.DISBURSING, by=people["reviewer"], system=True)
    assert Application.objects.get(pk=application.pk).state == State.DISBURSING


# --- Publicity (公示) ---------------------------------------------------------------------------
def _under_review_on(people, day: datetime.date, programme=None):
    """An application whose (only) review step was passed on `day`."""
    application = draft(people, programme)
    r = people["reviewer"]
    services.application_transition(application=application, to=State.SUBMITTED,
                                    by=people["staff"])
    for to in (State.ACCEPTED, State.UNDER_REVIEW):
        services.application_transition(application=application, to=to, by=r)
    services.review_record(application=application, by=r, decision="pass", opinion="ok")
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    Application.objects.filter(pk=application.pk).update(state_changed_at=moment,
                                                         submitted_at=moment)
    Review.objects.filter(application=application).update(at=moment)
    return application


def test_the_reproduced_bug_backdated_short_publicity_then_instant_approval(people):
    """Submitted and reviewed on 2026-12-02; the reviewer typed 2026-11-01 to 2026-11-02 and
    approved at once. Both dates are refused, each naming its field and the earliest date."""
    day = datetime.date(2026, 12, 2)  # a Wednesday
    application = _under_review_on(people, day)
    r = people["reviewer"]
    with pytest.raises(ValidationError) as error:
        services.application_transition(
            application=application, to=State.PUBLICITY, by=r, today=day,
            publicity_start=datetime.date(2026, 11, 1), publicity_end=datetime.date(2026, 11, 2))
    assert list(error.value.message_dict) == ["publicity_start"]
    assert "2026-12-02" in error.value.message_dict["publicity_start"][0]
    # Starting on the right day but two days long: five working days from Wed 2 is Wed 9.
    with pytest.raises(ValidationError) as error:
        services.application_transition(
            application=application, to=State.PUBLICITY, by=r, today=day,
            publicity_start=day, publicity_end=datetime.date(2026, 12, 3))
    assert list(error.value.message_dict) == ["publicity_end"]
    assert "2026-12-09" in error.value.message_dict["publicity_end"][0]
    assert Application.objects.get(pk=application.pk).state == State.UNDER_REVIEW

    # No end given: start + the programme's 5 working days.
    services.application_transition(application=application, to=State.PUBLICITY, by=r,
                                    today=day, publicity_start=day)
    application.refresh_from_db()
    assert (application.publicity_start, application.publicity_end) == (
        day, datetime.date(2026, 12, 9))
    for today in (day, datetime.date(2026, 12, 9)):  # the last day still runs
        with pytest.raises(ConflictError) as error:
            services.application_transition(application=application, to=State.APPROVED,
                                            by=people["approver"], amount=Decimal("1000"),
                                            today=today)
        assert error.value.code == "publicity_running" and "2026-12-09" in error.value.message
    services.application_transition(application=application, to=State.APPROVED,
                                    by=people["approver"], amount=Decimal("1000"),
                                    today=datetime.date(2026, 12, 10))
    assert Application.objects.get(pk=application.pk).state == State.APPROVED


def test_the_programme_sets_the_publicity_period_in_working_days(people):
    day = datetime.date(2026, 12, 4)  # a Friday
    programme = make_programme(publicity_working_days=10)
    application = _under_review_on(people, day, programme)
    services.application_transition(application=application, to=State.PUBLICITY,
                                    by=people["reviewer"], today=day)
    application.refresh_from_db()
    # Ten working days from Friday 4 December: Friday 18 (two weekends skipped).
    assert (application.publicity_start, application.publicity_end) == (
        day, datetime.date(2026, 12, 18))


# --- Separation of duties -----------------------------------------------------------------------
def _under_review(people, programme):
    application = draft(people, programme)
    services.application_transition(application=application, to=State.SUBMITTED,
                                    by=people["staff"])
    for to in (State.ACCEPTED, State.UNDER_REVIEW):
        services.application_transition(application=application, to=to, by=people["reviewer"])
    return application


def test_one_reviewer_records_one_step_and_the_approver_reviewed_none(people):
    programme = make_programme(review_steps=["first_review", "expert_review"])
    application = _under_review(people, programme)
    r = people["reviewer"]
    services.review_record(application=application, by=r, decision="pass", opinion="初审通过")
    with pytest.raises(PermissionDenied) as error:
        services.review_record(application=application, by=r, decision="pass",
                               opinion="专家评审也由我来")
    assert "another review step" in str(error.value) and "Expert review" in str(error.value)
    services.review_record(application=application, by=people["reviewer2"], decision="pass",
                           opinion="专家评审通过")
    backdate(application)
    start, end = past_publicity()
    services.application_transition(application=application, to=State.PUBLICITY, by=r,
                                    publicity_start=start, publicity_end=end)
    for reviewed in (r, people["reviewer2"]):
        with pytest.raises(PermissionDenied) as error:
            services.application_transition(application=application, to=State.APPROVED,
                                            by=reviewed, amount=Decimal("1000"))
        assert "another reviewer must approve" in str(error.value)
    services.application_transition(application=application, to=State.APPROVED,
                                    by=people["approver"], amount=Decimal("1000"))
    assert Application.objects.get(pk=application.pk).state == State.APPROVED


def test_a_small_office_lets_the_approver_have_reviewed_but_never_the_drafter(make_user):
    both = make_user(Role.INVESTMENT_STAFF, Role.FUND_REVIEWER)
    reviewer = make_user(Role.FUND_REVIEWER)
    people = {"staff": both, "reviewer": reviewer, "reviewer2": reviewer}
    programme = make_programme(approver_may_review=True)
    application = to_publicity(people, draft(people, programme))
    with pytest.raises(PermissionDenied) as error:
        services.application_transition(application=application, to=State.APPROVED, by=both,
                                        amount=Decimal("1000"))
    assert "drafted this application" in str(error.value)
    services.application_transition(application=application, to=State.APPROVED, by=reviewer,
                                    amount=Decimal("1000"))
    assert Application.objects.get(pk=application.pk).state == State.APPROVED


def test_a_reviewer_on_the_projects_team_counts_as_the_drafter(make_user):
    owner = make_user(Role.INVESTMENT_STAFF)
    colleague = make_user(Role.INVESTMENT_STAFF, Role.FUND_REVIEWER)
    reviewer, approver = make_user(Role.FUND_REVIEWER), make_user(Role.FUND_REVIEWER)
    project = make_project(owner=owner, collaborators=[colleague])
    people = {"staff": owner, "reviewer": reviewer, "reviewer2": reviewer}
    application = draft(people, company=project.company, project=project)
    services.application_transition(application=application, to=State.SUBMITTED, by=owner)
    with pytest.raises(PermissionDenied) as error:
        services.application_transition(application=application, to=State.ACCEPTED,
                                        by=colleague)
    assert "work on its project" in str(error.value)
    # As the drafter, the collaborator may act for the company: withdraw, for one.
    other = draft(people, company=project.company, project=project)
    services.application_transition(application=other, to=State.WITHDRAWN, by=colleague)

    for to in (State.ACCEPTED, State.UNDER_REVIEW):
        services.application_transition(application=application, to=to, by=reviewer)
    with pytest.raises(PermissionDenied):
        services.review_record(application=application, by=colleague, decision="pass",
                               opinion="同事的项目")
    services.review_record(application=application, by=reviewer, decision="pass", opinion="ok")
    backdate(application)
    start, end = past_publicity()
    services.application_transition(application=application, to=State.PUBLICITY, by=reviewer,
                                    publicity_start=start, publicity_end=end)
    with pytest.raises(PermissionDenied):
        services.application_transition(application=application, to=State.APPROVED,
                                        by=colleague, amount=Decimal("1000"))
    services.application_transition(application=application, to=State.APPROVED, by=approver,
                                    amount=Decimal("1000"))
    with pytest.raises(PermissionDenied):
        services.disbursement_plan(application=application, by=colleague,
                                   amount=Decimal("1000"), planned_on=TODAY)
    tranche = services.disbursement_plan(application=application, by=reviewer,
                                         amount=Decimal("1000"), planned_on=TODAY)
    with pytest.raises(PermissionDenied):
        services.disbursement_pay(disbursement=tranche, by=colleague, paid_on=TODAY)
    services.disbursement_pay(disbursement=tranche, by=reviewer, paid_on=TODAY)
    with pytest.raises(PermissionDenied):
        services.clawback_record(application=application, by=colleague, amount=Decimal("10"),
                                 reason="x")


def test_staff_who_only_may_read_an_application_do_not_act_for_the_company(people, make_user):
    application = draft(people)
    bystander = make_user(Role.INVESTMENT_STAFF)
    with pytest.raises(PermissionDenied) as error:
        services.application_transition(application=application, to=State.SUBMITTED,
                                        by=bystander)
    assert "drafted this application or work on its project" in str(error.value)
    with pytest.raises(PermissionDenied):
        services.document_add(application=application, by=bystander, name="营业执照",
                              file=SimpleUploadedFile("licence.pdf", PDF))
