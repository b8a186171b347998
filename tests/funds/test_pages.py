"""The fund screens, through HTTP: what each role sees, the workflow driven from the pages,
refusals shown as messages, access, and query counts on the list pages."""

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from crm.core.dates import add_working_days
from funds import services, workflow
from funds.models import (
    Application,
    ApplicationDocument,
    Disbursement,
    State,
    Transition,
)
from tests.factories import CompanyFactory, UserFactory, make_programme, make_project
from tests.funds.helpers import backdate, past_publicity

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
TODAY = datetime.date.today()
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def english(client):
    """Assert on the English msgids: pages are Chinese unless the language cookie says not."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def people(make_user):
    return {"staff": make_user(Role.INVESTMENT_STAFF, full_name="王专员"),
            "reviewer": make_user(Role.FUND_REVIEWER, full_name="李审核"),
            "approver": make_user(Role.FUND_REVIEWER, full_name="赵审批"),
            "leader": make_user(Role.LEADER, full_name="张局长")}


def detail_url(application):
    return reverse("funds:application-detail", args=[application.pk])


def transition_url(application):
    return reverse("funds:application-transition", args=[application.pk])


def error_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def shown_errors(response) -> str:
    """The page's own text, where the flash messages are rendered."""
    from html import unescape

    return unescape(response.content.decode())


def draft(drafter, programme, *, amount="300000", company=None, project=None):
    application = services.application_create(
        by=drafter, programme=programme, requested_amount=Decimal(amount),
        company=company or (project.company if project else CompanyFactory()), project=project)
    services.document_add(application=application, by=drafter, name="营业执照",
                          file=SimpleUploadedFile("licence.pdf", PDF))
    return application


def to_review(application, drafter, reviewer):
    services.application_transition(application=application, to=State.SUBMITTED, by=drafter)
    for to in (State.ACCEPTED, State.UNDER_REVIEW):
        services.application_transition(application=application, to=to, by=reviewer)
    return application


def to_publicity(application, drafter, reviewer):
    """Reviewed three weeks ago (history moved back), and a publicity from then that is over."""
    to_review(application, drafter, reviewer)
    services.review_record(application=application, by=reviewer, decision="pass",
                           opinion="符合条件", score=88)
    backdate(application)
    start, end = past_publicity()
    services.application_transition(application=application, to=State.PUBLICITY, by=reviewer,
                                    publicity_start=start, publicity_end=end)
    return Application.objects.get(pk=application.pk)


def approve(application, drafter, reviewer, amount, approver=None):
    """Approved by someone who reviewed none of it (a fresh reviewer unless given)."""
    application = to_publicity(application, drafter, reviewer)
    approver = approver or UserFactory(roles=[Role.FUND_REVIEWER])
    return services.application_transition(application=application, to=State.APPROVED,
                                           by=approver, amount=Decimal(amount))


# --- Every page, every role -----------------------------------------------------------------
@pytest.mark.parametrize("role", ["leader", "reviewer", "staff"])
def test_every_page_renders_for_each_role(people, client_for, role):
    staff, reviewer = people["staff"], people["reviewer"]
    programme = make_programme()
    project = make_project(owner=staff)
    drafted = draft(staff, programme, project=project)
    under_review = draft(staff, programme)
    for to in (State.SUBMITTED, State.ACCEPTED, State.UNDER_REVIEW):
        services.application_transition(application=under_review, to=to,
                                        by=staff if to == State.SUBMITTED else reviewer)
    paying = approve(draft(staff, programme, project=project), staff, reviewer, "200000")
    paid = services.disbursement_plan(application=paying, by=reviewer, amount=Decimal("50000"),
                                      planned_on=TODAY)
    services.disbursement_plan(application=paying, by=reviewer, amount=Decimal("80000"),
                               planned_on=TODAY + 30 * DAY)
    services.disbursement_pay(disbursement=paid, by=reviewer, paid_on=TODAY)

    client = client_for(people[role])
    pages = [reverse("funds:programme-list"),
             reverse("funds:programme-detail", args=[programme.pk]),
             reverse("funds:application-list"),
             reverse("funds:application-list") + f"?programme={programme.pk}&state=disbursing",
             reverse("funds:application-list") + "?waiting_days=abc&state=nonsense&page=9",
             detail_url(drafted), detail_url(under_review), detail_url(paying)]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    create = client.get(reverse("funds:application-create"))
    assert create.status_code == (200 if role == "staff" else 403)

    # Each role is offered its own forms and nothing else.
    draft_page = client.get(detail_url(drafted)).context
    review_page = client.get(detail_url(under_review)).context
    money_page = client.get(detail_url(paying)).context
    assert (draft_page["document_form"] is not None) == (role == "staff")
    assert (review_page["review_form"] is not None) == (role == "reviewer")
    assert (money_page["plan_form"] is not None) == (role == "reviewer")
    assert (money_page["clawback_form"] is not None) == (role == "reviewer")
    pay_forms = [form for _tranche, form in money_page["tranches"] if form]
    assert len(pay_forms) == (1 if role == "reviewer" else 0)
    if role == "leader":
        assert not draft_page["moves"] and not review_page["moves"]


# --- The drafter's path ---------------------------------------------------------------------
def test_drafter_creates_uploads_and_submits_through_the_pages(people, client_for,
                                                               media_root):
    staff = people["staff"]
    programme = make_programme(required_documents=["营业执照", "项目可行性报告"])
    inactive = make_programme(name="已停止的政策", is_active=False)
    project = make_project(owner=staff)
    client = client_for(staff)

    form_page = client.get(reverse("funds:application-create") + f"?project={project.pk}")
    form = form_page.context["form"]
    assert form.initial["company"] == project.company_id
    assert inactive not in form.fields["programme"].queryset

    response = client.post(reverse("funds:application-create"), {
        "programme": programme.pk, "company": project.company_id, "project": project.pk,
        "title": "元宇宙场景应用补贴", "requested_amount": "350000.00"})
    application = Application.objects.get()
    assert response.status_code == 302 and response.url == detail_url(application)
    assert (application.state, application.created_by, application.requested_amount) == (
        State.DRAFT, staff, Decimal("350000.00"))

    page = client.get(detail_url(application))
    assert page.context["missing"] == ["营业执照", "项目可行性报告"]
    upload_url = reverse("funds:document-add", args=[application.pk])
    for name, filename in (("营业执照", "licence.pdf"), ("项目可行性报告", "report.pdf")):
        response = client.post(upload_url, {
            "name": name, "file": SimpleUploadedFile(filename, PDF, "application/pdf")})
        assert response.status_code == 302
    assert sorted(application.documents.values_list("name", flat=True)) == [
        "营业执照", "项目可行性报告"]
    page = client.get(detail_url(application))
    assert page.context["missing"] == []
    document = application.documents.first()
    download = reverse("funds:document-download", args=[application.pk, document.pk])
    assert download in page.content.decode()
    assert client.get(download).status_code == 200

    response = client.post(transition_url(application), {"to": State.SUBMITTED})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.SUBMITTED and application.submitted_at is not None
    assert list(application.transitions.values_list("to_state", flat=True)) == [
        State.DRAFT, State.SUBMITTED]


def test_create_form_shows_the_service_refusal_on_the_field(people, client_for):
    programme = make_programme(cap_per_company_yuan=Decimal("100000"))
    client = client_for(people["staff"])
    response = client.post(reverse("funds:application-create"), {
        "programme": programme.pk, "company": CompanyFactory().pk,
        "requested_amount": "150000"})
    assert response.status_code == 200
    assert "requested_amount" in response.context["form"].errors
    assert not Application.objects.exists()


def test_upload_whose_content_is_not_its_extension_is_refused(people, english, client_for,
                                                              media_root):
    staff = people["staff"]
    application = services.application_create(
        by=staff, programme=make_programme(), company=CompanyFactory(),
        requested_amount=Decimal("100000"))
    client = client_for(staff)
    response = client.post(reverse("funds:document-add", args=[application.pk]), {
        "name": "营业执照",
        "file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00\x03\x00\x00\x00", "application/pdf")},
        follow=True)
    assert response.status_code == 200
    assert any("not a .pdf file" in message for message in error_messages(response))
    assert not ApplicationDocument.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_other_document_needs_its_name(people, english, client_for):
    staff = people["staff"]
    application = services.application_create(
        by=staff, programme=make_programme(), company=CompanyFactory(),
        requested_amount=Decimal("100000"))
    client = client_for(staff)
    url = reverse("funds:document-add", args=[application.pk])
    response = client.post(url, {"name": "__other__", "file": SimpleUploadedFile("a.pdf", PDF)},
                           follow=True)
    assert any("Name the document" in message for message in error_messages(response))
    client.post(url, {"name": "__other__", "other_name": "纳税证明",
                      "file": SimpleUploadedFile("a.pdf", PDF)})
    assert list(application.documents.values_list("name", flat=True)) == ["纳税证明"]


# --- The reviewer's path --------------------------------------------------------------------
def test_reviewer_takes_an_application_to_approval_through_the_pages(people, client_for):
    staff, reviewer = people["staff"], people["reviewer"]
    programme = make_programme(budget_yuan=Decimal("1000000"))
    application = draft(staff, programme, amount="400000")
    services.application_transition(application=application, to=State.SUBMITTED, by=staff)
    client = client_for(reviewer)

    def move(to, **data):
        page = client.get(detail_url(application))
        assert f'data-move="{to}"' in page.content.decode(), to
        response = client.post(transition_url(application), {"to": to, **data})
        assert response.status_code == 302 and not error_messages(response), to
        application.refresh_from_db()
        assert application.state == to

    move(State.ACCEPTED)
    move(State.UNDER_REVIEW)
    review_page = client.get(detail_url(application))
    assert review_page.context["current_step_label"] == str(programme.review_step_labels()[0])
    response = client.post(reverse("funds:review-add", args=[application.pk]), {
        "decision": "pass", "score": "90", "opinion": "材料齐全，符合条件"})
    assert response.status_code == 302 and not error_messages(response)
    assert application.reviews.get().reviewer == reviewer
    assert client.get(detail_url(application)).context["review_form"] is None
    backdate(application)  # reviewed three weeks ago, so a publicity from then is over
    start, end = past_publicity()
    move(State.PUBLICITY, publicity_start=str(start), publicity_end=str(end))
    assert application.publicity_end == end
    # The reviewer reviewed it: approving is another reviewer's duty, and no button offers it.
    assert 'data-move="approved"' not in client.get(detail_url(application)).content.decode()
    client = client_for(people["approver"])
    move(State.APPROVED, amount="300000")
    assert application.approved_amount == Decimal("300000")

    programme_page = client.get(reverse("funds:programme-detail", args=[programme.pk]))
    assert programme_page.context["figures"].approved == Decimal("300000")
    assert programme_page.context["figures"].remaining == Decimal("700000")
    assert 'data-figure="approved">30.00<' in programme_page.content.decode()
    list_page = client.get(reverse("funds:programme-list")).content.decode()
    assert "30.00" in list_page and "70.00" in list_page  # 万元


def test_approval_above_the_remaining_budget_is_refused_with_the_reason(people, english,
                                                                        client_for):
    staff, reviewer = people["staff"], people["reviewer"]
    programme = make_programme(budget_yuan=Decimal("1000000"), cap_per_company_yuan=None)
    approve(draft(staff, programme, amount="800000"), staff, reviewer, "800000")
    application = to_publicity(draft(staff, programme, amount="500000"), staff, reviewer)
    transitions = Transition.objects.count()

    response = client_for(people["approver"]).post(transition_url(application),
                                                   {"to": State.APPROVED, "amount": "300000"},
                                                   follow=True)
    assert response.status_code == 200
    [message] = error_messages(response)
    assert "would exceed the budget" in message and "200000" in message
    application.refresh_from_db()
    assert application.state == State.PUBLICITY and application.approved_amount is None
    assert Transition.objects.count() == transitions


def test_an_illegal_move_is_a_message_and_changes_nothing(people, english, client_for):
    staff = people["staff"]
    application = draft(staff, make_programme())
    response = client_for(people["reviewer"]).post(
        transition_url(application), {"to": State.APPROVED, "amount": "1"}, follow=True)
    assert any("cannot become" in message for message in error_messages(response))
    application.refresh_from_db()
    assert application.state == State.DRAFT


def test_publicity_ending_before_it_starts_is_refused_with_the_reason(people, english,
                                                                     client_for):
    """The service's rule, not a second one in the form: it names the earliest end."""
    staff, reviewer = people["staff"], people["reviewer"]
    application = to_review(draft(staff, make_programme()), staff, reviewer)
    services.review_record(application=application, by=reviewer, decision="pass",
                           opinion="符合条件")
    today = timezone.localdate()
    response = client_for(reviewer).post(transition_url(application), {
        "to": State.PUBLICITY, "publicity_start": str(today), "publicity_end": str(today - DAY)})
    # The page again with the dates as typed and the reason under the end (issue 17), not a
    # message above an emptied form.
    assert response.status_code == 400 and not error_messages(response)
    [form] = [form for _move, form in response.context["moves"] if form.is_bound]
    [message] = form.errors["publicity_end"]
    assert f"{add_working_days(today, 5):%Y-%m-%d} at the earliest" in message
    assert f'value="{today - DAY:%Y-%m-%d}"' in response.content.decode()
    application.refresh_from_db()
    assert application.state == State.UNDER_REVIEW and application.publicity_start is None


def test_the_drafter_who_is_also_a_reviewer_gets_no_reviewer_actions(make_user, english,
                                                                     client_for):
    both = make_user(Role.INVESTMENT_STAFF, Role.FUND_REVIEWER)
    application = draft(both, make_programme())
    services.application_transition(application=application, to=State.SUBMITTED, by=both)
    client = client_for(both)

    page = client.get(detail_url(application))
    targets = {move.target for move, _form in page.context["moves"]}
    assert targets == {State.WITHDRAWN}
    html = page.content.decode()
    for reviewer_move in (State.ACCEPTED, State.NEEDS_SUPPLEMENT, State.REFUSED):
        assert f'data-move="{reviewer_move}"' not in html

    response = client.post(transition_url(application), {"to": State.ACCEPTED})
    assert response.status_code == 403
    reason = ("You drafted this application or work on its project, so you cannot review, "
              "approve, pay or claw it back.")
    # The 403 page says why, in the product's frame.
    assert reason in shown_errors(response) and 'class="sidebar"' in shown_errors(response)
    application.refresh_from_db()
    assert application.state == State.SUBMITTED


def test_money_through_the_pages(people, english, client_for):
    staff, reviewer = people["staff"], people["reviewer"]
    programme = make_programme()
    application = approve(draft(staff, programme), staff, reviewer, "100000")
    other = approve(draft(staff, programme), staff, reviewer, "100000")
    foreign = services.disbursement_plan(application=other, by=reviewer,
                                         amount=Decimal("1000"), planned_on=TODAY)
    client = client_for(reviewer)

    response = client.post(reverse("funds:tranche-plan", args=[application.pk]),
                           {"amount": "150000", "planned_on": str(TODAY)}, follow=True)
    assert any("100000" in message for message in error_messages(response))
    for amount in ("60000", "40000"):
        client.post(reverse("funds:tranche-plan", args=[application.pk]),
                    {"amount": amount, "planned_on": str(TODAY)})
    first, second = application.disbursements.order_by("pk")

    # A tranche of another application cannot be paid through this one.
    response = client.post(reverse("funds:tranche-pay", args=[application.pk, foreign.pk]),
                           {"paid_on": str(TODAY)})
    assert response.status_code == 404
    for tranche in (first, second):
        response = client.post(reverse("funds:tranche-pay", args=[application.pk, tranche.pk]),
                               {"paid_on": str(TODAY)})
        assert response.status_code == 302 and not error_messages(response)
    application.refresh_from_db()
    assert application.state == State.DISBURSED

    response = client.post(reverse("funds:clawback", args=[application.pk]),
                           {"amount": "20000", "reason": "未按期投产"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.CLAWED_BACK
    clawback = application.disbursements.get(kind=Disbursement.Kind.CLAWBACK)
    assert clawback.paid_amount == Decimal("-20000")
    page = client.get(detail_url(application))
    assert page.context["paid_total"] == Decimal("80000")
    assert "未按期投产" in page.content.decode()

    # The leader reads the money but may not move it.
    leader = client_for(people["leader"])
    assert leader.post(reverse("funds:clawback", args=[other.pk]),
                       {"amount": "1", "reason": "x"}).status_code == 403


def test_programme_figures_count_an_approval_once_whatever_its_tranches(people, client_for):
    staff, reviewer = people["staff"], people["reviewer"]
    programme = make_programme()
    application = approve(draft(staff, programme), staff, reviewer, "100000")
    for amount in ("30000", "30000"):
        tranche = services.disbursement_plan(application=application, by=reviewer,
                                             amount=Decimal(amount), planned_on=TODAY)
        services.disbursement_pay(disbursement=tranche, by=reviewer, paid_on=TODAY)
    page = client_for(people["leader"]).get(reverse("funds:programme-detail",
                                                    args=[programme.pk]))
    figures = page.context["figures"]
    assert (figures.approved, figures.paid) == (Decimal("100000"), Decimal("60000"))


# --- Lists ----------------------------------------------------------------------------------
def test_waiting_longer_than_filter_returns_only_old_waiting_applications(people, client_for):
    staff, reviewer = people["staff"], people["reviewer"]
    programme = make_programme()
    old_submitted, recent_submitted, old_draft, old_review = (
        draft(staff, programme) for _ in range(4))
    for application in (old_submitted, recent_submitted, old_review):
        services.application_transition(application=application, to=State.SUBMITTED, by=staff)
    for to in (State.ACCEPTED, State.UNDER_REVIEW):
        services.application_transition(application=old_review, to=to, by=reviewer)
    ten_days_ago = timezone.now() - 10 * DAY
    Application.objects.filter(pk__in=[old_submitted.pk, old_draft.pk, old_review.pk]).update(
        state_changed_at=ten_days_ago)

    response = client_for(reviewer).get(reverse("funds:application-list"),
                                        {"waiting_days": "5"})
    assert response.status_code == 200
    shown = {application.pk for application in response.context["page"]}
    assert shown == {old_submitted.pk, old_review.pk}


def _applications(n: int, *, staff):
    """n applications over n // 5 programmes, each with its own company and drafter's name,
    every third with a project, some approved and partly paid."""
    programmes = [make_programme(budget_yuan=Decimal("100000000"), cap_per_company_yuan=None)
                  for _ in range(max(1, n // 5))]
    now = timezone.now()
    rows = []
    for i in range(n):
        company = CompanyFactory()
        project = make_project(owner=staff, company=company) if i % 3 == 0 else None
        approved = i % 2 == 0
        rows.append(Application(
            programme=programmes[i % len(programmes)], company=company, project=project,
            title=f"申请{i}", requested_amount=Decimal("100000"),
            approved_amount=Decimal("50000") if approved else None,
            state=State.DISBURSING if approved else State.SUBMITTED,
            state_changed_at=now - i * DAY, created_by=staff))
    Application.objects.bulk_create(rows)
    Disbursement.objects.bulk_create(
        Disbursement(application=application, planned_amount=Decimal("10000"),
                     paid_amount=Decimal("10000"), paid_on=TODAY, planned_on=TODAY)
        for application in Application.objects.filter(state=State.DISBURSING))


# Measured 8 and 6 (session, user, roles, the inbox badge, count, rows; the application
# filter adds its programme and company choices), plus two spare for the shared page frame.
# The same ceiling holds at 5 and 60 applications: a query per row would add 5 to 25.
QUERY_CEILINGS = {"funds:application-list": 10, "funds:programme-list": 8}


@pytest.mark.parametrize("n", [5, 60])
@pytest.mark.parametrize("url_name", ["funds:application-list", "funds:programme-list"])
def test_list_pages_have_a_query_ceiling(people, client_for, django_assert_max_num_queries,
                                         n, url_name):
    _applications(n, staff=people["staff"])
    client = client_for(people["leader"])
    with django_assert_max_num_queries(QUERY_CEILINGS[url_name]):
        response = client.get(reverse(url_name))
    assert response.status_code == 200
    expected_rows = min(n, 25) if url_name == "funds:application-list" else max(1, n // 5)
    assert len(response.context["page"].object_list) == expected_rows


# --- Access ---------------------------------------------------------------------------------
def test_an_application_of_a_confidential_project_stays_with_its_team(people, make_user,
                                                                      admin_user, client_for):
    staff = people["staff"]
    secret = make_project(owner=staff, confidential=True)
    application = draft(staff, make_programme(), project=secret)
    unrelated = make_user(Role.INVESTMENT_STAFF)

    assert client_for(admin_user).get(detail_url(application)).status_code == 404
    assert client_for(unrelated).get(detail_url(application)).status_code == 404
    assert client_for(unrelated).post(transition_url(application),
                                      {"to": State.WITHDRAWN}).status_code == 404
    listed = client_for(unrelated).get(reverse("funds:application-list")).context["page"]
    assert application not in listed.object_list
    assert client_for(people["leader"]).get(detail_url(application)).status_code == 200
    assert client_for(staff).get(detail_url(application)).status_code == 200


# --- Publicity (公示) and duties, through the pages ---------------------------------------------
def test_backdated_or_short_publicity_is_refused_on_the_page(people, english, client_for):
    """The reproduced bug through the page: a publicity typed a month before the review ended
    and two days long, then an approval at once. Refused with the reasons; the right one passes
    and approval waits for its end."""
    staff, reviewer = people["staff"], people["reviewer"]
    application = to_review(draft(staff, make_programme()), staff, reviewer)
    services.review_record(application=application, by=reviewer, decision="pass",
                           opinion="符合条件")
    today = timezone.localdate()
    client = client_for(reviewer)

    def refusal(response, field):
        """The refused move's form, shown again (issue 17): its one error, on `field`."""
        assert response.status_code == 400 and not error_messages(response)
        [form] = [form for _move, form in response.context["moves"] if form.is_bound]
        assert list(form.errors) == [field]
        [message] = form.errors[field]
        assert message in shown_errors(response)
        return message

    response = client.post(transition_url(application), {
        "to": State.PUBLICITY, "publicity_start": str(today - 31 * DAY),
        "publicity_end": str(today - 30 * DAY)})
    message = refusal(response, "publicity_start")
    assert "cannot start before the review it follows ended" in message
    assert f"{today:%Y-%m-%d} at the earliest" in message
    response = client.post(transition_url(application), {
        "to": State.PUBLICITY, "publicity_start": str(today),
        "publicity_end": str(today + DAY)})
    message = refusal(response, "publicity_end")
    earliest_end = add_working_days(today, 5)
    assert "at least 5 working days" in message
    assert f"{earliest_end:%Y-%m-%d} at the earliest" in message
    application.refresh_from_db()
    assert application.state == State.UNDER_REVIEW

    # The form proposes the shortest window the rule allows; sending it passes.
    page = client.get(detail_url(application))
    [form] = [form for move, form in page.context["moves"] if move.target == State.PUBLICITY]
    assert (form.initial["publicity_start"], form.initial["publicity_end"]) == (
        today, earliest_end)
    response = client.post(transition_url(application), {
        "to": State.PUBLICITY, "publicity_start": str(today)}, follow=True)
    assert not error_messages(response)
    application.refresh_from_db()
    assert (application.state, application.publicity_end) == (State.PUBLICITY, earliest_end)

    response = client_for(people["approver"]).post(
        transition_url(application), {"to": State.APPROVED, "amount": "1000"}, follow=True)
    [message] = error_messages(response)
    assert f"runs until {earliest_end:%Y-%m-%d}" in message
    application.refresh_from_db()
    assert application.state == State.PUBLICITY and application.approved_amount is None


def test_duties_stay_apart_on_the_pages(people, english, client_for, make_user):
    staff, reviewer = people["staff"], people["reviewer"]
    programme = make_programme(review_steps=["first_review", "expert_review"])
    application = to_review(draft(staff, programme), staff, reviewer)
    client = client_for(reviewer)
    review_url = reverse("funds:review-add", args=[application.pk])
    client.post(review_url, {"decision": "pass", "opinion": "初审通过"})
    assert client.get(detail_url(application)).context["review_form"] is None
    response = client.post(review_url, {"decision": "pass", "opinion": "专家评审也由我来"})
    assert response.status_code == 403
    assert "a different reviewer must record “Expert review”" in shown_errors(response)
    assert application.reviews.count() == 1

    services.review_record(application=application, by=make_user(Role.FUND_REVIEWER),
                           decision="pass", opinion="专家评审通过")
    backdate(application)
    start, end = past_publicity()
    services.application_transition(application=application, to=State.PUBLICITY, by=reviewer,
                                    publicity_start=start, publicity_end=end)
    response = client.post(transition_url(application), {"to": State.APPROVED, "amount": "1"})
    assert response.status_code == 403
    assert "another reviewer must approve it" in shown_errors(response)
    application.refresh_from_db()
    assert application.state == State.PUBLICITY
    approver_page = client_for(people["approver"]).get(detail_url(application))
    assert 'data-move="approved"' in approver_page.content.decode()


def test_a_reviewer_on_the_projects_team_gets_no_review_or_approval(people, english,
                                                                   client_for, make_user):
    staff, reviewer = people["staff"], people["reviewer"]
    colleague = make_user(Role.INVESTMENT_STAFF, Role.FUND_REVIEWER)
    project = make_project(owner=staff, collaborators=[colleague])
    application = to_review(draft(staff, make_programme(), project=project), staff, reviewer)
    client = client_for(colleague)
    page = client.get(detail_url(application))
    assert page.context["review_form"] is None
    assert {move.target for move, _form in page.context["moves"]} == {State.WITHDRAWN}
    response = client.post(reverse("funds:review-add", args=[application.pk]),
                           {"decision": "pass", "opinion": "同事的项目"})
    assert response.status_code == 403
    assert "work on its project" in shown_errors(response)

    services.review_record(application=application, by=reviewer, decision="pass",
                           opinion="ok")
    backdate(application)
    start, end = past_publicity()
    services.application_transition(application=application, to=State.PUBLICITY, by=reviewer,
                                    publicity_start=start, publicity_end=end)
    response = client.post(transition_url(application), {"to": State.APPROVED, "amount": "1"})
    assert response.status_code == 403 and "work on its project" in shown_errors(response)
    application.refresh_from_db()
    assert application.state == State.PUBLICITY


def test_the_declaration_colours_the_badges(people, client_for, monkeypatch):
    staff, reviewer = people["staff"], people["reviewer"]
    programme = make_programme()
    submitted = draft(staff, programme)
    services.application_transition(application=submitted, to=State.SUBMITTED, by=staff)
    approve(draft(staff, programme), staff, reviewer, "1000")
    client = client_for(people["leader"])
    html = client.get(reverse("funds:application-list")).content.decode()
    assert 'class="badge badge-blue" data-state="submitted"' in html
    assert 'class="badge badge-green" data-state="approved"' in html
    # Change the declaration, and the badge follows: the template holds no colour of its own.
    monkeypatch.setitem(workflow.STATES, State.SUBMITTED,
                        dataclasses.replace(workflow.STATES[State.SUBMITTED], badge="purple"))
    html = client.get(reverse("funds:application-list")).content.decode()
    assert 'class="badge badge-purple" data-state="submitted"' in html
    assert 'class="badge badge-green" data-state="approved"' in html
