"""The fulfilment reminders of issue 14, through the real scan (crm.notifications.services
.reminders_scan) and the default rules migration funds 0005 adds: a milestone due in 30 and 7
days, a milestone overdue, actuals not reported 15 days after a period, an obligation newly
breached. Each fires on its day and not before, for the right people, once per rule however
often the scan runs; a confidential project's reminder says it is confidential."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from crm.celery import app
from crm.notifications import channels
from crm.notifications.models import Reminder, ReminderRule
from crm.notifications.services import reminders_scan
from funds.fulfilment import services
from funds.fulfilment.models import Agreement, Metric, Obligation, Status

from .fulfilment_world import D, agreement_world, move, signed_project, staff_and_leader

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 18)
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _english_and_any_hour(settings):
    settings.REMINDERS_OFFICE_HOURS_ONLY = False
    with translation.override("en"):
        yield


def scan(code, today):
    """Scan one default rule on `today`; its reminders so far."""
    rule = ReminderRule.objects.get(code=code)
    reminders_scan(today=today, rules=[rule])
    return list(Reminder.objects.filter(rule=rule).order_by("pk"))


def agreement_for(staff, *, signed_on=datetime.date(2026, 1, 10), confidential=False,
                  reporting=Agreement.Reporting.YEAR, name=None):
    project = signed_project(staff, confidential=confidential, name=name)
    return services.agreement_create(by=staff, project=project, title="投资协议",
                                     parties="甲；乙", signed_on=signed_on,
                                     committed_investment_wan=D("5000"), reporting=reporting)


def milestone(agreement, staff, due_on, metric=Metric.PRODUCTION_STARTED):
    return services.obligation_add(agreement=agreement, by=staff, metric=metric, due_on=due_on)


def test_the_default_rules_are_there():
    rules = {r.code: (r.kind, r.days, r.severity, r.recipients)
             for r in ReminderRule.objects.filter(kind__startswith="fulfilment.")}
    assert rules == {
        "milestone-due-30d": ("fulfilment.milestone_due", 30, "info", "owner"),
        "milestone-due-7d": ("fulfilment.milestone_due", 7, "yellow", "owner"),
        "milestone-overdue": ("fulfilment.milestone_overdue", 0, "red", "owner_leaders"),
        "actuals-missing-15d": ("fulfilment.actuals_missing", 15, "yellow", "owner"),
        "obligation-breached": ("fulfilment.breached", 0, "red", "owner_leaders"),
    }


def test_a_milestone_due_in_30_and_in_7_days_reminds_its_owner_once_per_rule(make_user):
    staff, leader = staff_and_leader(make_user)
    agreement = agreement_for(staff, name="量产项目")
    due = TODAY + datetime.timedelta(days=30)
    obligation = milestone(agreement, staff, due)
    assert scan("milestone-due-30d", TODAY - DAY) == []  # 31 days away
    [thirty] = scan("milestone-due-30d", TODAY)
    assert (thirty.recipient, thirty.object_id, thirty.due_on, thirty.severity) == (
        staff, obligation.pk, TODAY, "info")
    assert thirty.title == f"Production started due on {due}: 量产项目"
    assert thirty.link == reverse("fulfilment:agreement-detail", args=[agreement.pk])
    assert not thirty.confidential
    # The next scans, the same day and the days after, add nothing to the 30-day rule.
    for day in (TODAY, TODAY + DAY, TODAY + datetime.timedelta(days=25)):
        assert scan("milestone-due-30d", day) == [thirty]
    assert scan("milestone-due-7d", TODAY + datetime.timedelta(days=22)) == []  # 8 days away
    [seven] = scan("milestone-due-7d", TODAY + datetime.timedelta(days=23))
    assert (seven.recipient, seven.due_on, seven.severity) == (
        staff, due - datetime.timedelta(days=7), "yellow")
    assert scan("milestone-due-7d", TODAY + datetime.timedelta(days=24)) == [seven]
    assert not Reminder.objects.filter(recipient=leader).exists()  # the owner's alone


def test_a_milestone_met_or_a_figure_is_not_a_milestone_reminder(make_user):
    staff, _leader = staff_and_leader(make_user)
    agreement = agreement_for(staff)
    due = TODAY + datetime.timedelta(days=5)
    started = milestone(agreement, staff, due, metric=Metric.CONSTRUCTION_STARTED)
    services.obligation_add(agreement=agreement, by=staff, metric=Metric.JOBS, target=D("10"),
                            due_on=due)
    for code in ("registered", "landed", "started"):  # reaching 开工 meets it
        move(agreement.project, code, staff, at=timezone.make_aware(
            datetime.datetime.combine(TODAY, datetime.time(10))))
    assert Obligation.objects.get(pk=started.pk).status == Status.MET
    assert scan("milestone-due-30d", TODAY) == []
    assert scan("milestone-due-7d", TODAY) == []
    assert scan("milestone-overdue", due + datetime.timedelta(days=3)) == []


def test_an_overdue_milestone_reminds_the_owner_and_the_leaders(make_user):
    staff, leader = staff_and_leader(make_user)
    agreement = agreement_for(staff, name="逾期项目")
    obligation = milestone(agreement, staff, TODAY, metric=Metric.LAND_ACQUIRED)
    assert scan("milestone-overdue", TODAY) == []  # due today: not overdue yet
    reminders = scan("milestone-overdue", TODAY + DAY)
    assert {r.recipient for r in reminders} == {staff, leader}
    assert {(r.object_id, r.due_on, r.severity) for r in reminders} == {
        (obligation.pk, TODAY + DAY, "red")}
    assert reminders[0].title == f"Land acquired overdue since {TODAY}: 逾期项目"
    assert scan("milestone-overdue", TODAY + datetime.timedelta(days=10)) == reminders


def test_actuals_not_reported_15_days_after_the_year_remind_the_owner(make_user):
    staff, leader = staff_and_leader(make_user)
    silent = agreement_for(staff, signed_on=datetime.date(2025, 3, 1), name="未报项目")
    reported = agreement_for(staff, signed_on=datetime.date(2025, 3, 1))
    services.actual_record(agreement=reported, by=staff,
                           period_start=datetime.date(2025, 1, 1),
                           period_end=datetime.date(2025, 12, 31), investment_wan=D("100"))
    # 2025 ended on 31 December; the 15 days run out on 15 January.
    assert scan("actuals-missing-15d", datetime.date(2026, 1, 14)) == []
    [reminder] = scan("actuals-missing-15d", datetime.date(2026, 1, 15))
    assert (reminder.object_id, reminder.recipient, reminder.due_on, reminder.severity) == (
        silent.pk, staff, datetime.date(2026, 1, 15), "yellow")
    assert reminder.title == "Actuals for 2025-01-01 – 2025-12-31 not reported: 未报项目"
    assert reminder.link == reverse("fulfilment:agreement-detail", args=[silent.pk])
    assert scan("actuals-missing-15d", datetime.date(2026, 3, 1)) == [reminder]
    # Once reported, the next year's scan has nothing to say about 2025 (nor about the
    # agreement signed in 2025 whose 2025 was reported all along).
    services.actual_record(agreement=silent, by=staff, period_start=datetime.date(2025, 1, 1),
                           period_end=datetime.date(2025, 12, 31), investment_wan=D("1"))
    Reminder.objects.all().delete()
    assert scan("actuals-missing-15d", datetime.date(2026, 12, 1)) == []
    # An agreement signed this year owes no earlier year.
    agreement_for(staff, signed_on=datetime.date(2026, 6, 1))
    assert scan("actuals-missing-15d", datetime.date(2026, 12, 1)) == []
    assert not Reminder.objects.filter(recipient=leader).exists()


def test_the_actuals_rule_tells_the_leaders_too_when_an_administrator_says_so(make_user):
    """Rules are data: recipients changed to "owner and leaders" reach the leaders (the scan
    once built the leaders of this kind as nobody, whatever the rule said)."""
    staff, leader = staff_and_leader(make_user)
    agreement_for(staff, signed_on=datetime.date(2025, 3, 1))
    ReminderRule.objects.filter(code="actuals-missing-15d").update(recipients="owner_leaders")
    reminders = scan("actuals-missing-15d", datetime.date(2026, 1, 15))
    assert {r.recipient for r in reminders} == {staff, leader}
    ReminderRule.objects.filter(code="actuals-missing-15d").update(recipients="leaders")
    Reminder.objects.all().delete()
    assert {r.recipient for r in scan("actuals-missing-15d", datetime.date(2026, 1, 15))} == {
        leader}


def test_actuals_of_a_quarterly_agreement_are_asked_for_each_quarter(make_user):
    staff, _leader = staff_and_leader(make_user)
    quarterly = agreement_for(staff, signed_on=datetime.date(2026, 2, 10),
                              reporting=Agreement.Reporting.QUARTER, name="季报项目")
    # Q4 2025 ended before the signing: nothing is owed for it.
    assert scan("actuals-missing-15d", datetime.date(2026, 4, 14)) == []
    [first] = scan("actuals-missing-15d", datetime.date(2026, 4, 15))
    assert (first.object_id, first.due_on) == (quarterly.pk, datetime.date(2026, 4, 15))
    assert first.title == "Actuals for 2026-01-01 – 2026-03-31 not reported: 季报项目"
    services.actual_record(agreement=quarterly, by=staff,
                           period_start=datetime.date(2026, 1, 1),
                           period_end=datetime.date(2026, 3, 31), tax_wan=D("3"))
    assert scan("actuals-missing-15d", datetime.date(2026, 5, 20)) == [first]  # Q1 reported
    assert scan("actuals-missing-15d", datetime.date(2026, 7, 14)) == [first]
    reminders = scan("actuals-missing-15d", datetime.date(2026, 7, 15))
    assert [(r.due_on, r.title) for r in reminders[1:]] == [
        (datetime.date(2026, 7, 15), "Actuals for 2026-04-01 – 2026-06-30 not reported: 季报项目")]
    services.actual_record(agreement=quarterly, by=staff,
                           period_start=datetime.date(2026, 4, 1),
                           period_end=datetime.date(2026, 6, 30), tax_wan=D("4"))
    assert len(scan("actuals-missing-15d", datetime.date(2026, 7, 20))) == 2  # nothing new
    # On the quarter's last day itself (a period ending "on or before" the day).
    assert len(scan("actuals-missing-15d", datetime.date(2026, 10, 15))) == 3


def test_the_actuals_scan_reads_a_fixed_number_of_queries(make_user):
    """The actuals a scan needs are read per batch of agreements, not one query each."""
    staff, _leader = staff_and_leader(make_user)
    rule = ReminderRule.objects.get(code="actuals-missing-15d")

    def queries_for_a_scan():
        Reminder.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            reminders_scan(today=datetime.date(2026, 1, 15), rules=[rule])
        return len(queries)

    agreement_for(staff, signed_on=datetime.date(2025, 3, 1))
    few = queries_for_a_scan()
    for _ in range(4):
        agreement_for(staff, signed_on=datetime.date(2025, 3, 1))
    assert queries_for_a_scan() == few
    assert Reminder.objects.filter(rule=rule).count() == 5


def test_a_newly_breached_obligation_reminds_the_owner_and_the_leaders(make_user):
    """fulfilment_world: `started` is breached from 2025-04-01, `fixed` and `tax_per_mu` from
    2026-04-01 (their 90 days' grace after 2025-12-31 run out)."""
    staff, leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    services.obligations_refresh(agreements=[agreement], today=datetime.date(2026, 3, 31))
    early = scan("obligation-breached", datetime.date(2026, 3, 31))
    assert {(r.object_id, r.recipient, r.due_on) for r in early} == {
        (ob["started"].pk, staff, datetime.date(2025, 4, 1)),
        (ob["started"].pk, leader, datetime.date(2025, 4, 1))}
    newly = services.obligations_refresh(agreements=[agreement],
                                         today=datetime.date(2026, 4, 1))
    assert set(newly) == {ob["fixed"].pk, ob["tax_per_mu"].pk}
    reminders = scan("obligation-breached", datetime.date(2026, 4, 1))
    assert {(r.object_id, r.recipient) for r in reminders[2:]} == {
        (ob["fixed"].pk, staff), (ob["fixed"].pk, leader),
        (ob["tax_per_mu"].pk, staff), (ob["tax_per_mu"].pk, leader)}
    assert {(r.due_on, r.severity) for r in reminders[2:]} == {(datetime.date(2026, 4, 1), "red")}
    fixed = next(r for r in reminders if r.object_id == ob["fixed"].pk)
    assert fixed.title.startswith("Agreement breached: Fixed-asset investment")
    assert fixed.body == "Due on 2025-12-31; the grace period has passed."
    assert scan("obligation-breached", datetime.date(2026, 4, 2)) == reminders  # once


def test_a_breach_found_by_a_refresh_is_reminded_at_once(make_user, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    """The refresh that finds a breach asks for a scan of that obligation when its
    transaction commits (notifications' targeted scan; run inline here as the worker would)."""
    staff, leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    services.obligations_refresh(agreements=[agreement], today=datetime.date(2026, 3, 31))
    Reminder.objects.all().delete()
    monkeypatch.setattr(app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        services.obligations_refresh(agreements=[agreement], today=datetime.date(2026, 4, 1))
    breached = Reminder.objects.filter(rule__code="obligation-breached")
    assert {(r.object_id, r.recipient) for r in breached} >= {
        (ob["fixed"].pk, staff), (ob["fixed"].pk, leader),
        (ob["tax_per_mu"].pk, staff), (ob["tax_per_mu"].pk, leader)}


def test_a_confidential_projects_reminders_are_flagged_confidential(make_user):
    staff, leader = staff_and_leader(make_user)
    secret = agreement_for(staff, signed_on=datetime.date(2025, 3, 1), confidential=True,
                           name="保密谈判项目")
    milestone(secret, staff, TODAY + datetime.timedelta(days=7))
    milestone(secret, staff, TODAY - datetime.timedelta(days=3), metric=Metric.LAND_ACQUIRED)
    plain = agreement_for(staff, signed_on=datetime.date(2025, 3, 1))
    milestone(plain, staff, TODAY - datetime.timedelta(days=3), metric=Metric.LAND_ACQUIRED)
    reminders = (scan("milestone-due-7d", TODAY) + scan("milestone-overdue", TODAY)
                 + scan("actuals-missing-15d", TODAY))
    def of_secret(reminder) -> bool:
        if reminder.rule.kind == "fulfilment.actuals_missing":  # an agreement's reminder
            return reminder.object_id == secret.pk
        return Obligation.objects.get(pk=reminder.object_id).agreement_id == secret.pk

    assert {(r.rule.code, of_secret(r), r.confidential) for r in reminders} == {
        ("milestone-due-7d", True, True), ("milestone-overdue", True, True),
        ("milestone-overdue", False, False), ("actuals-missing-15d", True, True),
        ("actuals-missing-15d", False, False)}
    # In the product (the inbox) the team reads the name; a group robot gets none of it.
    overdue = next(r for r in reminders if r.confidential and r.rule.code == "milestone-overdue")
    assert "保密谈判项目" in overdue.title
    payload = str(channels.webhook_payload("wecom", overdue))
    assert "保密谈判项目" not in payload
    # A breach of a confidential project too.
    secret_world, _ob = agreement_world(staff, project=signed_project(staff, confidential=True))
    services.obligations_refresh(agreements=[secret_world], today=datetime.date(2026, 4, 1))
    breached = scan("obligation-breached", datetime.date(2026, 4, 1))
    assert breached and all(r.confidential for r in breached)
    assert {r.recipient for r in breached} == {staff, leader}
