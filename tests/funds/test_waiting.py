"""Waiting long is one QuerySet method (ApplicationQuerySet.waiting_review) with one
threshold (the active funds.review_waiting reminder rule's days): the list filter, the API,
the reminders and the review dashboard name the same applications."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from crm.core.dates import day_start, working_days_back
from crm.dashboards.selectors import review_queue
from crm.notifications.models import Reminder, ReminderRule
from crm.notifications.services import reminders_scan
from funds import rules, services
from funds.models import Application, State
from tests.factories import CompanyFactory, make_programme

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def _no_office_hours(settings):
    settings.REMINDERS_OFFICE_HOURS_ONLY = False


@pytest.fixture
def people(make_user):
    return {"staff": make_user(Role.INVESTMENT_STAFF), "reviewer": make_user(Role.FUND_REVIEWER)}


def waiting(people, state: str, working_days: int, *, today: datetime.date) -> Application:
    """An application in `state` since the latest day from which `working_days` working days
    have passed by `today` (10:00 that day)."""
    staff, reviewer = people["staff"], people["reviewer"]
    application = services.application_create(
        by=staff, programme=make_programme(), company=CompanyFactory(),
        requested_amount=Decimal("1000"))
    services.document_add(application=application, by=staff, name="营业执照",
                          file=SimpleUploadedFile("l.pdf", PDF))
    path = {State.DRAFT: [], State.SUBMITTED: [State.SUBMITTED],
            State.ACCEPTED: [State.SUBMITTED, State.ACCEPTED],
            State.UNDER_REVIEW: [State.SUBMITTED, State.ACCEPTED, State.UNDER_REVIEW]}[state]
    for to in path:
        services.application_transition(application=application, to=to,
                                        by=staff if to == State.SUBMITTED else reviewer)
    since = day_start(working_days_back(today, working_days)) + datetime.timedelta(hours=10)
    Application.objects.filter(pk=application.pk).update(state_changed_at=since)
    return application


def test_the_filter_the_api_the_reminders_and_the_dashboard_agree(people, client_for,
                                                                  api_for):
    today = timezone.localdate()  # the page, the API and the dashboard's default
    reviewer = people["reviewer"]
    by_days = {days: waiting(people, state, days, today=today) for days, state in (
        (3, State.SUBMITTED), (5, State.ACCEPTED), (6, State.UNDER_REVIEW),
        (10, State.SUBMITTED))}
    waiting(people, State.DRAFT, 10, today=today)  # waiting on the drafter, not a reviewer
    expected = {by_days[5].pk, by_days[6].pk, by_days[10].pk}

    assert set(Application.objects.waiting_review(5, today).values_list("pk", flat=True)) == (
        expected)

    page = client_for(reviewer).get(reverse("funds:application-list"), {"waiting_days": "5"})
    assert {application.pk for application in page.context["page"]} == expected
    assert 'data-total="3"' in page.content.decode()

    api = api_for(reviewer).get("/api/v1/fund-applications/", {"waiting_days": "5"}).json()
    assert {row["id"] for row in api["results"]} == expected and api["count"] == 3

    rule = ReminderRule.objects.get(code="review-waiting-5wd")
    reminders_scan(today=today, rules=[rule])
    reminded = Reminder.objects.filter(rule=rule)
    assert set(reminded.values_list("object_id", flat=True)) == expected
    assert set(reminded.values_list("recipient", flat=True)) == {reviewer.pk}

    queue = review_queue(user=reviewer, today=today)
    assert (queue.count, queue.waiting_long) == (4, 3)
    assert "waiting_days=5" in queue.waiting_long_url
    listed = client_for(reviewer).get(queue.waiting_long_url)
    assert {application.pk for application in listed.context["page"]} == expected


def test_the_dashboard_reads_the_active_rules_threshold(people):
    today = timezone.localdate()
    for days in (3, 5, 6, 10):
        waiting(people, State.SUBMITTED, days, today=today)
    rule = ReminderRule.objects.get(code="review-waiting-5wd")
    rule.days = 6
    rule.save()
    queue = review_queue(user=people["reviewer"], today=today)
    assert queue.waiting_long == 2 and "waiting_days=6" in queue.waiting_long_url
    ReminderRule.objects.filter(kind=rules.REVIEW_WAITING_KIND).update(is_active=False)
    assert rules.review_waiting_days() == rules.REVIEW_WAITING_DAYS == 5
    assert review_queue(user=people["reviewer"], today=today).waiting_long == 3


def test_working_days_skip_the_weekend(people):
    """Arrived on Friday 13 November 2026: five working days have passed on Friday 20, not on
    Thursday 19, whatever the calendar days say."""
    application = waiting(people, State.SUBMITTED, 0, today=datetime.date(2026, 11, 13))
    for today, waits in ((datetime.date(2026, 11, 19), False),
                         (datetime.date(2026, 11, 20), True)):
        found = Application.objects.waiting_review(5, today).filter(pk=application.pk).exists()
        assert found is waits, today
