"""Each default rule fires when it should and not before; scans are idempotent; a rule change
applies at the next scan; the inbox and the channels work."""

import datetime
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from crm.notifications import channels, services
from crm.notifications.models import Delivery, Preference, Reminder, ReminderRule
from funds import services as fund_services
from leads.models import Stage
from leads.services import project_move_stage
from parks import services as park_services
from tests.factories import CompanyFactory, make_programme, make_project, make_unit, system_admin

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 18)  # a Wednesday
D = datetime.timedelta


@pytest.fixture(autouse=True)
def _no_office_hours(settings):
    settings.REMINDERS_OFFICE_HOURS_ONLY = False


def scan(code, today=TODAY):
    rule = ReminderRule.objects.get(code=code)
    services.reminders_scan(today=today, rules=[rule])
    return list(Reminder.objects.filter(rule=rule).order_by("pk"))


def test_next_step_due_fires_on_the_day_not_before(staff_user):
    project = make_project(owner=staff_user, next_step_on=TODAY)
    assert scan("next-step-due", TODAY - D(days=1)) == []
    [reminder] = scan("next-step-due", TODAY)
    assert reminder.recipient == staff_user and reminder.due_on == TODAY
    assert reminder.link == reverse("leads:project-detail", args=[project.pk])


def _silent_project(owner, days):
    project = make_project(owner=owner)
    project.last_contact_on = TODAY - D(days=days)
    project.next_step_on = TODAY + D(days=30)
    project.save()
    return project


def test_no_contact_yellow_at_14_red_to_leaders_at_30(staff_user, leader_user):
    _silent_project(staff_user, 13)
    assert scan("no-contact-14d") == []
    quiet = _silent_project(staff_user, 14)
    [yellow] = scan("no-contact-14d")
    assert (yellow.object_id, yellow.severity, yellow.recipient) == (quiet.pk, "yellow",
                                                                      staff_user)
    assert scan("no-contact-30d") == []
    _silent_project(staff_user, 30)
    red = scan("no-contact-30d")
    assert {r.recipient for r in red} == {staff_user, leader_user}
    assert {r.severity for r in red} == {"red"}


def test_new_lead_unassessed_after_three_days(staff_user):
    project = make_project(owner=staff_user, next_step_on=TODAY + D(days=10))
    # Entered the lead stage two days ago (created, or imported with that date).
    type(project).objects.filter(pk=project.pk).update(
        stage_entered_at=timezone.make_aware(datetime.datetime.combine(TODAY - D(days=2),
                                                                       datetime.time(10))))
    assert scan("new-lead-3d") == []
    [reminder] = scan("new-lead-3d", TODAY + D(days=1))
    assert reminder.due_on == TODAY + D(days=1)
    project_move_stage(project=project, to_stage=Stage.objects.get(code="screening"),
                       by=staff_user)
    Reminder.objects.all().delete()
    assert scan("new-lead-3d", TODAY + D(days=5)) == []  # assessed: no longer a new lead


def test_signed_not_started_past_the_contract_date(staff_user, leader_user):
    project = make_project(owner=staff_user, stage_code="framework", agreed=Decimal("5000"))
    project.agreement.save("a.pdf", ContentFile(b"%PDF-1.4"))
    project.contract_start_on = TODAY
    project.save()
    project_move_stage(project=project, to_stage=Stage.objects.get(code="signed"),
                       by=staff_user)
    assert scan("signed-not-started", TODAY) == []
    reminders = scan("signed-not-started", TODAY + D(days=1))
    assert {r.recipient for r in reminders} == {staff_user, leader_user}
    for code in ("registered", "landed", "started"):
        project_move_stage(project=project, to_stage=Stage.objects.get(code=code),
                           by=staff_user)
    Reminder.objects.all().delete()
    assert scan("signed-not-started", TODAY + D(days=2)) == []


def test_hold_ending_and_lease_ending_go_to_the_parks_managers(make_user):
    manager = make_user(Role.PARK_MANAGER)
    unit = make_unit(area="100")
    unit.park.managers.add(manager)
    other_manager = make_user(Role.PARK_MANAGER)  # manages nothing here
    park_services.assignment_create(unit=unit, company=CompanyFactory(), kind="reservation",
                                    by=system_admin(), start=TODAY, end=TODAY + D(days=200),
                                    hold_until=TODAY + D(days=4))
    assert scan("hold-ending-3d") == []
    [hold] = scan("hold-ending-3d", TODAY + D(days=1))
    assert hold.recipient == manager
    lease_unit = make_unit(park=unit.park, area="50")
    park_services.assignment_create(unit=lease_unit, company=CompanyFactory(), kind="lease",
                                    by=system_admin(), start=TODAY - D(days=300),
                                    end=TODAY + D(days=92))
    # Last day is TODAY + 91: inside 90 days from TODAY + 1 on.
    assert scan("lease-ending-90d") == []
    [ninety] = scan("lease-ending-90d", TODAY + D(days=1))
    assert ninety.recipient == manager and other_manager not in {ninety.recipient}
    assert scan("lease-ending-30d", TODAY + D(days=60)) == []
    assert len(scan("lease-ending-30d", TODAY + D(days=61))) == 1


def test_review_waiting_over_five_working_days(make_user):
    staff = make_user(Role.INVESTMENT_STAFF)
    reviewer = make_user(Role.FUND_REVIEWER)
    application = fund_services.application_create(
        by=staff, programme=make_programme(required_documents=[]), company=CompanyFactory(),
        requested_amount=Decimal("1000"), today=TODAY)
    fund_services.application_transition(application=application, to="submitted", by=staff)
    submitted = timezone.make_aware(datetime.datetime(2026, 11, 13, 9))  # a Friday
    type(application).objects.filter(pk=application.pk).update(state_changed_at=submitted)
    # Five working days after Friday 13 is Friday 20 (the weekend does not count).
    assert scan("review-waiting-5wd", datetime.date(2026, 11, 19)) == []
    [reminder] = scan("review-waiting-5wd", datetime.date(2026, 11, 20))
    assert reminder.recipient == reviewer


def test_scanning_twice_creates_nothing_new(staff_user):
    make_project(owner=staff_user, next_step_on=TODAY)
    assert services.reminders_scan(today=TODAY) > 0
    before = (Reminder.objects.count(), Delivery.objects.count())
    assert services.reminders_scan(today=TODAY) == 0
    assert (Reminder.objects.count(), Delivery.objects.count()) == before


def test_a_rule_change_takes_effect_on_the_next_scan(staff_user):
    _silent_project(staff_user, 7)
    assert scan("no-contact-14d") == []
    ReminderRule.objects.filter(code="no-contact-14d").update(days=5)
    assert len(scan("no-contact-14d")) == 1
    ReminderRule.objects.filter(code="next-step-due").update(is_active=False)
    make_project(owner=staff_user, next_step_on=TODAY)
    services.reminders_scan(today=TODAY)
    assert not Reminder.objects.filter(rule__code="next-step-due").exists()


def test_daily_digest_summarises_what_is_due(staff_user):
    make_project(owner=staff_user, next_step_on=TODAY, name="周报项目")
    services.reminders_scan(today=TODAY)
    digest = Reminder.objects.get(rule__code="daily-digest")
    assert digest.recipient == staff_user and "周报项目" in digest.body


def test_channels_follow_preferences_and_email_is_sent_once(staff_user):
    Preference.objects.create(user=staff_user, email=True)
    make_project(owner=staff_user, next_step_on=TODAY)
    services.reminders_scan(today=TODAY, rules=[ReminderRule.objects.get(code="next-step-due")])
    delivery = Delivery.objects.get()
    assert delivery.channel == "email"
    for _ in range(3):
        services.delivery_send(delivery_id=delivery.pk)
    assert len(mail.outbox) == 1
    assert f"reminder-delivery-{delivery.pk}@" in mail.outbox[0].extra_headers["Message-ID"]
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 1


def test_no_email_when_the_user_turned_it_off(staff_user):
    Preference.objects.create(user=staff_user, email=False)
    make_project(owner=staff_user, next_step_on=TODAY)
    services.reminders_scan(today=TODAY)
    assert Reminder.objects.filter(recipient=staff_user).exists()  # the inbox still has it
    assert not Delivery.objects.exists()


def test_dingtalk_signature_matches_the_documented_algorithm():
    url = channels.dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=x",
                                       "SECabc", now_ms=1577262236757)
    # HMAC-SHA256("1577262236757\nSECabc", key "SECabc"), base64, URL-encoded.
    import base64
    import hashlib
    import hmac
    import urllib.parse

    expected = urllib.parse.quote_plus(base64.b64encode(hmac.new(
        b"SECabc", b"1577262236757\nSECabc", hashlib.sha256).digest()))
    assert url.endswith(f"&timestamp=1577262236757&sign={expected}")


class _Robot(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.received.append({"path": self.path, "body": body})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

    def log_message(self, *args):
        pass


def test_webhook_retries_a_5xx_and_signs_dingtalk(staff_user, settings):
    server = HTTPServer(("127.0.0.1", 0), _Robot)
    # A local robot: an exact origin on the allow-list is trusted (an on-site WeCom server).
    settings.WEBHOOK_ALLOWED_HOSTS = [f"http://127.0.0.1:{server.server_port}"]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Robot.answers[:] = [502]
    _Robot.received.clear()
    try:
        Preference.objects.create(
            user=staff_user, email=False, webhook_kind="dingtalk", webhook_secret="SECtest",
            webhook_url=f"http://127.0.0.1:{server.server_port}/robot/send?access_token=t")
        make_project(owner=staff_user, next_step_on=TODAY, name="钉钉项目")
        services.reminders_scan(today=TODAY,
                                rules=[ReminderRule.objects.get(code="next-step-due")])
        delivery = Delivery.objects.get(channel="webhook")
        assert services.delivery_send(delivery_id=delivery.pk) == "retry"
        assert services.delivery_send(delivery_id=delivery.pk) == "sent"
        assert services.delivery_send(delivery_id=delivery.pk) == "skipped"
        [call] = _Robot.received
        assert "sign=" in call["path"] and "timestamp=" in call["path"]
        assert call["body"]["msgtype"] == "markdown" and "钉钉项目" in call["body"]["markdown"][
            "text"]
    finally:
        server.shutdown()


def test_inbox_shows_unread_count_and_marks_read(staff_user, client):
    make_project(owner=staff_user, next_step_on=TODAY, name="收件箱项目")
    services.reminders_scan(today=TODAY)
    client.force_login(staff_user)
    unread = Reminder.objects.filter(recipient=staff_user, read_at__isnull=True).count()
    home = client.get("/").content.decode()
    assert f'id="unread-count">{unread}<' in home
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "收件箱项目" in page
    reminder = Reminder.objects.filter(recipient=staff_user).first()
    client.post(reverse("notifications:mark-read", args=[reminder.pk]))
    reminder.refresh_from_db()
    assert reminder.read_at is not None
    client.post(reverse("notifications:mark-all-read"))
    assert not Reminder.objects.filter(recipient=staff_user, read_at__isnull=True).exists()
    assert 'id="unread-count"' not in client.get("/").content.decode()


def test_preferences_page(staff_user, client):
    client.force_login(staff_user)
    response = client.post(reverse("notifications:preferences"), {
        "email": "on", "daily_digest": "on", "webhook_kind": "wecom", "webhook_url": ""})
    assert response.status_code == 200 and "webhook_url" in response.context["form"].errors
    client.post(reverse("notifications:preferences"), {
        "email": "on", "webhook_kind": "wecom", "language": "en",
        "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"})
    preference = Preference.objects.get(user=staff_user)
    assert preference.webhook_enabled and not preference.daily_digest
    assert preference.language == "en"  # e-mails in English from now on


def test_office_hours(settings):
    settings.REMINDERS_OFFICE_HOURS_ONLY = True
    tz = timezone.get_current_timezone()
    assert services.in_office_hours(datetime.datetime(2026, 11, 18, 9, 0, tzinfo=tz))
    assert not services.in_office_hours(datetime.datetime(2026, 11, 18, 20, 0, tzinfo=tz))
    assert not services.in_office_hours(datetime.datetime(2026, 11, 21, 10, 0, tzinfo=tz))


def test_weekly_pipeline_digest_goes_to_leaders_on_mondays(staff_user, leader_user):
    make_project(owner=staff_user, name="周报统计项目", next_step_on=TODAY + D(days=20))
    assert scan("weekly-pipeline", datetime.date(2026, 11, 22)) == []  # a Sunday
    [digest] = scan("weekly-pipeline", datetime.date(2026, 11, 23))  # a Monday
    assert digest.recipient == leader_user
    assert "线索" in digest.body  # the open stages with their counts


@pytest.mark.parametrize(("language", "due", "why", "button"), [
    ("", "到期：", "提醒规则", "打开记录"),
    ("en", "Due: ", "You receive this because of the reminder rule", "Open the record")])
def test_a_reminder_email_has_a_real_body_in_html_and_text_in_the_users_language(
        staff_user, language, due, why, button):
    """What is due and when, the record and a link to it, why the user got it (the rule and
    whom it tells), in HTML with a plain-text part, in the language the user chose."""
    Preference.objects.create(user=staff_user, email=True, language=language)
    project = make_project(owner=staff_user, next_step_on=TODAY, name="邮件测试项目")
    services.reminders_scan(today=TODAY, rules=[ReminderRule.objects.get(code="next-step-due")])
    delivery = Delivery.objects.get()
    services.delivery_send(delivery_id=delivery.pk)
    [message] = mail.outbox
    text = message.body
    [(html, mime)] = message.alternatives
    assert mime == "text/html"
    link = f"/leads/projects/{project.pk}/"
    for part in (text, html):
        assert "邮件测试项目" in part and TODAY.isoformat() in part
        assert due in part and why in part and link in part
        assert reverse("notifications:preferences") in part
    assert button in html and "<a href=" in html and "<a " not in text
    assert 'lang="%s"' % (language or "zh-hans") in html
    assert "邮件测试项目" in message.subject
