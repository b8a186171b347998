"""Fault tests. Each starts its own Redis on another port, so the shared one is never
disturbed, and drives separate worker (and web) processes."""

import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.notifications.models import Delivery, Reminder, ReminderRule
from tests.conftest import ROOT, _database_url_for_subprocess, spawn_worker, stop_worker, wait_until
from tests.factories import TEST_PASSWORD, make_project

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A throwaway redis-server on a free loopback port, in a temporary directory."""

    def __init__(self, workdir):
        self.port = _free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(self._ping, timeout=10), "redis did not start"

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    if not os.path.exists(REDIS_SERVER):
        pytest.fail("redis-server is needed for the fault tests")
    redis = OwnRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


def _manage(code: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT,
                   env={**os.environ, "DATABASE_URL": _database_url_for_subprocess(), **env},
                   check=True, capture_output=True, timeout=120)


def _message_ids(mail_dir) -> list[str]:
    ids = []
    for path in mail_dir.iterdir():
        if not path.name.startswith("."):
            ids += re.findall(r"^Message-ID: (.+)$", path.read_text(), flags=re.MULTILINE)
    return ids


def test_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(own_redis, tmp_path,
                                                                       staff_user):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    rule = ReminderRule.objects.get(code="next-step-due")
    project = make_project(owner=staff_user)
    content_type = ContentType.objects.get_for_model(project)
    today = timezone.localdate()
    reminders = Reminder.objects.bulk_create([
        Reminder(rule=rule, recipient=staff_user, content_type=content_type,
                 object_id=project.pk, due_on=today - datetime.timedelta(days=n),
                 severity="yellow", title=f"提醒 {n}", fanned_out=True) for n in range(200)])
    Delivery.objects.bulk_create([Delivery(reminder=r, channel="email") for r in reminders])
    env = {"EMAIL_FILE_PATH": str(mail_dir),
           "EMAIL_BACKEND": "crm.notifications.testing.SlowFileEmailBackend",
           "TEST_EMAIL_DELAY": "0.05", "REMINDERS_CLAIM_TIMEOUT": "3",
           "CELERY_VISIBILITY_TIMEOUT": "5", "REMINDERS_OFFICE_HOURS_ONLY": "0"}
    first = spawn_worker(broker=own_redis.url, env_extra=env, name="doomed")
    second = None
    try:
        _manage("from crm.notifications.services import deliveries_sweep; deliveries_sweep()",
                {"CELERY_BROKER_URL": own_redis.url, "REMINDERS_OFFICE_HOURS_ONLY": "0"})

        def sent():
            return Delivery.objects.filter(status="sent").count()

        assert wait_until(lambda: sent() >= 60, timeout=60, interval=0.005)
        # Kill right after a delivery was marked sent: the worker is claiming the next one or
        # waiting on the slow mail server, the moment a real crash would most likely hit.
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = sent()
        assert 60 <= killed_at < 200, killed_at
        second = spawn_worker(broker=own_redis.url, env_extra=env, name="survivor")
        time.sleep(3.5)  # past the claim timeout: the killed worker's claim is now stale
        _manage("from crm.notifications.services import deliveries_sweep; deliveries_sweep()",
                {"CELERY_BROKER_URL": own_redis.url, "REMINDERS_OFFICE_HOURS_ONLY": "0",
                 "REMINDERS_CLAIM_TIMEOUT": "3"})
        assert wait_until(lambda: sent() == 200, timeout=120), sent()
        ids = _message_ids(mail_dir)
        assert len(ids) == 200 and len(set(ids)) == 200
        assert not Delivery.objects.exclude(status="sent").exists()
    finally:
        for worker in (first, second):
            if worker is not None:
                stop_worker(worker)


def test_followup_saved_while_redis_is_down_is_delivered_when_it_returns(own_redis, tmp_path,
                                                                           staff_user):
    """The web process keeps working without the broker; the reminder goes out once Redis is
    back (beat's scan and sweep catch up)."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    ReminderRule.objects.exclude(code="next-step-due").update(is_active=False)
    project = make_project(owner=staff_user, next_step_on=timezone.localdate()
                           + datetime.timedelta(days=9))
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _database_url_for_subprocess(),
           "CELERY_BROKER_URL": own_redis.url, "REMINDERS_OFFICE_HOURS_ONLY": "0",
           "EMAIL_FILE_PATH": str(mail_dir), "PYTHONUNBUFFERED": "1",
           "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    web = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}",
                            "--noreload"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    worker = None
    try:
        import json
        import urllib.request

        def call(path, data=None, token=None):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", method="POST" if data else "GET",
                data=json.dumps(data).encode() if data else None,
                headers={"Content-Type": "application/json",
                         **({"Authorization": f"Token {token}"} if token else {})})
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())

        def web_up():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False

        assert wait_until(web_up, timeout=30)
        _, body = call("/api/v1/auth/token/", {"username": staff_user.username,
                                               "password": TEST_PASSWORD})
        token = body["token"]
        own_redis.stop()
        status, created = call("/api/v1/followups/", {
            "project": project.pk, "date": str(timezone.localdate()), "kind": "phone",
            "summary": "Redis 停机时记录", "next_contact_on": str(timezone.localdate())},
            token=token)
        assert status == 201 and created["summary"] == "Redis 停机时记录"
        assert not Delivery.objects.exists()
        own_redis.start()  # same port
        worker = spawn_worker(broker=own_redis.url, name="after-outage", beat=True, env_extra={
            "EMAIL_FILE_PATH": str(mail_dir), "REMINDERS_SCAN_INTERVAL": "2",
            "REMINDERS_SWEEP_INTERVAL": "2"})
        assert wait_until(lambda: Delivery.objects.filter(status="sent").exists(), timeout=60)
        wait_until(lambda: False, timeout=4)  # a few more beats: still one
        assert Reminder.objects.filter(rule__code="next-step-due").count() == 1
        assert len(_message_ids(mail_dir)) == 1
    finally:
        web.terminate()
        web.wait(timeout=10)
        if worker is not None:
            stop_worker(worker)
