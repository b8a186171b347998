"""The robot webhook URL policy (crm/notifications/webhooks.py): only https URLs on an allowed
host whose every address is public are saved, from the page or the service; the sender checks
again at send time (a row written straight into the database included) and records a refusal
as a failed delivery, once; a redirect is a failure and is not followed; every webhook carries
its delivery's idempotency key, the same on a retry; a confidential project reaches a robot
only as its id and link."""

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.notifications import services, webhooks
from crm.notifications.models import Delivery, Preference, Reminder, ReminderRule
from tests.conftest import ROOT
from tests.factories import CompanyFactory, make_project

pytestmark = pytest.mark.django_db
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"


@pytest.fixture(autouse=True)
def _anytime(settings):
    settings.REMINDERS_OFFICE_HOURS_ONLY = False


class Robot:
    """A robot (or anything else) listening on 127.0.0.1. `answers` maps a path to
    (status, headers) for the next requests to it; otherwise 200 {"errcode": 0}. Every
    request is recorded."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: dict[str, list[tuple[int, dict]]] = {}
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                robot.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": json.loads(raw or b"{}")})
                queued = robot.answers.get(self.path.split("?", 1)[0])
                status, headers = queued.pop(0) if queued else (200, {})
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            do_GET = do_POST  # noqa: N815 (a followed redirect would arrive as a GET)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.origin = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [r["path"].split("?", 1)[0] for r in self.requests]


@pytest.fixture
def robot():
    robot = Robot()
    yield robot
    robot.server.shutdown()
    robot.server.server_close()


@pytest.fixture
def trusted_robot(robot, settings):
    """The local robot named as a trusted origin: the one way a test (or an intranet robot)
    gets past the https and public-address rules, and only for that exact origin."""
    settings.WEBHOOK_ALLOWED_HOSTS = [*settings.WEBHOOK_ALLOWED_HOSTS, robot.origin]
    return robot


def webhook_reminder(user, *, url, kind="wecom", **project_fields):
    """A due next-step reminder about a new project, with its webhook delivery (the scan's)."""
    # Written as a row, not through the service: the send-time tests need URLs the service
    # refuses, and the others do not depend on how the URL got there.
    Preference.objects.update_or_create(user=user, defaults={
        "email": False, "daily_digest": False, "webhook_kind": kind, "webhook_url": url})
    project = make_project(owner=user, next_step_on=timezone.localdate(), **project_fields)
    services.reminders_scan(rules=[ReminderRule.objects.get(code="next-step-due")])
    return project, Delivery.objects.get(channel="webhook", reminder__object_id=project.pk)


# --- at save time ----------------------------------------------------------------------------
BAD_URLS = {  # url: words of the reason the field error must give
    "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k": "Only https://",
    "ftp://qyapi.weixin.qq.com/robot": "Only https://",
    "https://evil.example.com/robot": "not an allowed robot host",
    "https://127.0.0.1:6379/": "not an allowed robot host",
    "https://qyapi.weixin.qq.com:6379/": "not an allowed robot host",
    "https://user:pw@qyapi.weixin.qq.com/": "user name or password",
    # Allowed by name (the fixture below), refused for where they lead.
    "https://localhost/robot": "a loopback address",
    "https://[::1]/robot": "a loopback address",
    "https://169.254.169.254/latest/meta-data/": "a link-local address",
    "https://10.0.0.8/robot": "a private address",
    "https://192.168.1.20/robot": "a private address",
    "https://224.0.0.1/robot": "a multicast address",
    "https://240.0.0.1/robot": "a reserved address",
    "https://100.64.0.1/robot": "a private address",  # carrier-grade NAT: not global
}


@pytest.fixture
def internal_hosts_allowed(settings):
    """Internal hosts on the allow-list, as a careless operator might put them: the address
    rule must still refuse them (real resolution: /etc/hosts and IP literals)."""
    settings.WEBHOOK_ALLOWED_HOSTS = [
        *settings.WEBHOOK_ALLOWED_HOSTS, "localhost", "::1", "169.254.169.254", "10.0.0.8",
        "192.168.1.20", "224.0.0.1", "240.0.0.1", "100.64.0.1"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_the_settings_page_refuses_a_bad_url_on_its_field(url, staff_user, client,
                                                          internal_hosts_allowed):
    client.force_login(staff_user)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("notifications:preferences"), {
        "email": "on", "webhook_kind": "wecom", "webhook_url": url})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["webhook_url"], errors
    assert any(BAD_URLS[url] in message for message in errors["webhook_url"]), errors
    assert BAD_URLS[url] in response.content.decode()
    assert not Preference.objects.filter(user=staff_user).exclude(webhook_url="").exists()


@pytest.mark.parametrize("url", BAD_URLS)
def test_the_service_refuses_a_bad_url_on_its_field(url, staff_user, internal_hosts_allowed):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.preference_update(user=staff_user, webhook_kind="wecom", webhook_url=url)
    assert any(BAD_URLS[url] in m for m in refused.value.message_dict["webhook_url"])
    assert Preference.objects.get(user=staff_user).webhook_url == ""


def test_the_allowed_hosts_are_saved(staff_user, client):
    client.force_login(staff_user)
    for url in (WECOM, "https://oapi.dingtalk.com/robot/send?access_token=t"):
        response = client.post(reverse("notifications:preferences"), {
            "email": "on", "webhook_kind": "wecom", "webhook_url": url})
        assert response.status_code == 302, response.context["form"].errors
        assert Preference.objects.get(user=staff_user).webhook_url == url


def test_every_address_of_the_host_is_checked(monkeypatch):
    """A name whose answers mix public and private addresses is refused: the connection could
    go to either. (The resolver is patched here only: this sandbox has no DNS, and no real
    robot host resolves to a private address.)"""
    answers = {"qyapi.weixin.qq.com": ["101.91.22.57", "10.9.8.7"],
               "oapi.dingtalk.com": ["203.119.205.1", "2408:4000::1"]}

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in answers[host]]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(webhooks.WebhookRefused, match="10.9.8.7"):
        webhooks.check(WECOM)
    with pytest.raises(ValidationError):
        webhooks.validate_webhook_url(WECOM)
    target = webhooks.check("https://oapi.dingtalk.com/robot/send?access_token=t")
    assert target.addresses == ("203.119.205.1", "2408:4000::1")
    assert target.path == "/robot/send?access_token=t"


def test_a_trusted_origin_is_that_origin_only(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["http://127.0.0.1:8123"]
    assert webhooks.check("http://127.0.0.1:8123/robot").addresses == ("127.0.0.1",)
    for other in ("http://127.0.0.1:8124/robot", "https://127.0.0.1:8123/robot",
                  "http://127.0.0.1/robot", "http://localhost:8123/robot"):
        with pytest.raises(webhooks.WebhookRefused):
            webhooks.check(other)


def test_the_allow_list_comes_from_the_environment():
    def allowed(env_value):
        env = {**os.environ, "WEBHOOK_ALLOWED_HOSTS": env_value} if env_value is not None \
            else {k: v for k, v in os.environ.items() if k != "WEBHOOK_ALLOWED_HOSTS"}
        result = subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); from django.conf import "
             "settings; print(','.join(settings.WEBHOOK_ALLOWED_HOSTS))"],
            cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "crm.settings"},
            capture_output=True, text=True, timeout=60, check=True)
        return result.stdout.strip()

    assert allowed(None) == "qyapi.weixin.qq.com,oapi.dingtalk.com"
    assert allowed(" robots.example.cn , ,http://10.1.2.3:8080") == \
        "robots.example.cn,http://10.1.2.3:8080"


# --- at send time ----------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["loopback", "http://169.254.169.254/latest/meta-data/",
                                 "https://127.0.0.1:6379/", "ftp://qyapi.weixin.qq.com/x",
                                 "https://evil.example.com/robot"])
def test_the_sender_refuses_a_bad_url_written_into_the_database(url, staff_user, robot):
    if url == "loopback":  # a listening local server: the refusal, not a dead port, stops it
        url = f"{robot.origin}/robot"
    _, delivery = webhook_reminder(staff_user, url=url)
    assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 1
    assert delivery.last_error.startswith("webhook URL refused: ")
    # Failed for good: not claimed again, not retried by the sweep.
    assert services.delivery_send(delivery_id=delivery.pk) == "skipped"
    assert services.deliveries_sweep() == 0
    assert robot.requests == []


def test_the_sender_resolves_and_checks_the_addresses_again(staff_user, settings):
    """An allowed name that resolves inside is refused when sending, whatever was checked
    when it was saved: the send-time check is the one that counts."""
    from django.utils import translation

    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    _, delivery = webhook_reminder(staff_user, url="https://localhost/robot")
    with translation.override("en"):  # the reason is in the worker's language
        assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert "resolves to" in delivery.last_error and "loopback" in delivery.last_error


def test_a_redirect_is_a_failure_and_is_not_followed(staff_user, trusted_robot):
    trusted_robot.answers["/robot"] = [
        (302, {"Location": f"{trusted_robot.origin}/stolen"})]
    _, delivery = webhook_reminder(staff_user, url=f"{trusted_robot.origin}/robot")
    assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "HTTP 302" in delivery.last_error
    assert trusted_robot.paths() == ["/robot"]  # nothing reached /stolen
    for status in (301, 307, 308):
        trusted_robot.answers["/robot"] = [(status, {"Location": "http://169.254.169.254/"})]
        Delivery.objects.filter(pk=delivery.pk).update(status="pending", attempts=0)
        assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    assert trusted_robot.paths() == ["/robot"] * 4


def test_every_webhook_carries_its_key_the_same_on_a_retry(staff_user, trusted_robot):
    trusted_robot.answers["/robot/send"] = [(502, {})]
    _, delivery = webhook_reminder(staff_user, kind="dingtalk",
                                   url=f"{trusted_robot.origin}/robot/send?access_token=t")
    Preference.objects.filter(user=staff_user).update(webhook_secret="SECtest")
    assert services.delivery_send(delivery_id=delivery.pk) == "retry"
    assert services.delivery_send(delivery_id=delivery.pk) == "sent"
    assert services.delivery_send(delivery_id=delivery.pk) == "skipped"
    first, second = trusted_robot.requests
    delivery.refresh_from_db()
    key = f"reminder-delivery-{delivery.pk}-{delivery.key}"
    assert first["body"]["idempotency_key"] == second["body"]["idempotency_key"] == key
    assert second["headers"]["Idempotency-Key"] == key
    assert "sign=" in second["path"] and "timestamp=" in second["path"]  # DingTalk's 加签
    assert second["body"]["msgtype"] == "markdown"
    # Another delivery, another key.
    _, other = webhook_reminder(staff_user, kind="dingtalk",
                                url=f"{trusted_robot.origin}/robot/send?access_token=t")
    assert services.delivery_send(delivery_id=other.pk) == "sent"
    assert trusted_robot.requests[-1]["body"]["idempotency_key"] != key


# --- confidential names ----------------------------------------------------------------------
def test_a_confidential_project_reaches_a_robot_as_its_id_and_link(staff_user, trusted_robot):
    company = CompanyFactory(name="绝密机器人有限公司")
    project, delivery = webhook_reminder(staff_user, url=f"{trusted_robot.origin}/robot",
                                         name="保密的芯片项目", company=company,
                                         confidential=True)
    assert Reminder.objects.get(pk=delivery.reminder_id).confidential
    assert services.delivery_send(delivery_id=delivery.pk) == "sent"
    [request] = trusted_robot.requests
    text = json.dumps(request["body"], ensure_ascii=False)
    assert "保密的芯片项目" not in text and "绝密机器人有限公司" not in text
    content = request["body"]["markdown"]["content"]
    assert f"(ID {project.pk})" in content or f"（ID {project.pk}）" in content
    link = django_settings.SITE_URL.rstrip("/") + reverse("leads:project-detail",
                                                          args=[project.pk])
    assert link in content
    assert "下一步计划到期" in content  # what is due, without what it is about


def test_a_confidential_dingtalk_title_is_its_id_too(staff_user, trusted_robot):
    project, delivery = webhook_reminder(staff_user, kind="dingtalk",
                                         url=f"{trusted_robot.origin}/robot",
                                         name="钉钉保密项目", confidential=True)
    assert services.delivery_send(delivery_id=delivery.pk) == "sent"
    markdown = trusted_robot.requests[0]["body"]["markdown"]
    assert "钉钉保密项目" not in markdown["title"] + markdown["text"]
    assert str(project.pk) in markdown["title"]


def test_a_public_project_keeps_its_name_and_email_keeps_a_confidential_name(
        staff_user, trusted_robot):
    _, delivery = webhook_reminder(staff_user, url=f"{trusted_robot.origin}/robot",
                                   name="公开的园区项目")
    assert services.delivery_send(delivery_id=delivery.pk) == "sent"
    assert "公开的园区项目" in trusted_robot.requests[0]["body"]["markdown"]["content"]
    # The e-mail goes to the named recipient, who may open the record: it keeps the name.
    Preference.objects.filter(user=staff_user).update(email=True, webhook_kind="",
                                                      webhook_url="")
    make_project(owner=staff_user, next_step_on=timezone.localdate(),
                 name="邮件里的保密项目", confidential=True)
    services.reminders_scan(rules=[ReminderRule.objects.get(code="next-step-due")])
    email = Delivery.objects.get(channel="email")
    assert services.delivery_send(delivery_id=email.pk) == "sent"
    assert "邮件里的保密项目" in mail.outbox[-1].subject


def test_the_daily_digest_names_a_confidential_item_by_its_id(staff_user, trusted_robot):
    project, _ = webhook_reminder(staff_user, url=f"{trusted_robot.origin}/robot",
                                  name="摘要里的保密项目", confidential=True)
    make_project(owner=staff_user, next_step_on=timezone.localdate(), name="摘要里的公开项目")
    services.reminders_scan(rules=[ReminderRule.objects.get(code="next-step-due")])
    Preference.objects.filter(user=staff_user).update(daily_digest=True)
    services.reminders_scan(rules=[ReminderRule.objects.get(code="daily-digest")])
    digest = Delivery.objects.get(channel="webhook", reminder__rule__code="daily-digest")
    assert services.delivery_send(delivery_id=digest.pk) == "sent"
    content = trusted_robot.requests[-1]["body"]["markdown"]["content"]
    assert "摘要里的保密项目" not in content and str(project.pk) in content
    assert "摘要里的公开项目" in content
