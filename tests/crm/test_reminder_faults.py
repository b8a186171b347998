"""Fault tests. Each starts its own Redis on another port, so the shared one is never
disturbed, and drives separate worker (and web) processes."""

import datetime
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.notifications.models import Delivery, Preference, Reminder, ReminderRule
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


class SlowRobot:
    """A group robot on 127.0.0.1 that takes DELAY seconds to answer (a slow IM
    server, so a worker can be killed in the middle of a webhook too) and records every
    payload it received."""

    DELAY = 0.05

    def __init__(self):
        self.payloads: list[dict] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(robot.DELAY)
                robot.payloads.append({"body": body, "key": self.headers["Idempotency-Key"]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_robot():
    robot = SlowRobot()
    yield robot
    robot.stop()


def test_killed_workers_resend_at_most_the_message_in_flight(own_redis, tmp_path, staff_user,
                                                             slow_robot):
    """Two workers are SIGKILLed in the middle of the same batches of e-mails and webhooks,
    at a moment chosen at random. Each delivery is marked sent the moment it goes out, so each
    kill re-sends at most the one message it had in flight: at most two repeats in all, each
    carrying its delivery's Message-ID or idempotency key."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    rule = ReminderRule.objects.get(code="next-step-due")
    project = make_project(owner=staff_user)
    # Written as a row: the local robot is on the allow-list of the worker's environment only.
    Preference.objects.create(user=staff_user, email=True, webhook_kind="wecom",
                              webhook_url=f"{slow_robot.origin}/cgi-bin/webhook/send?key=k")
    content_type = ContentType.objects.get_for_model(project)
    today = timezone.localdate()
    reminders = Reminder.objects.bulk_create([
        Reminder(rule=rule, recipient=staff_user, content_type=content_type,
                 object_id=project.pk, due_on=today - datetime.timedelta(days=n),
                 severity="yellow", title=f"提醒 {n}", fanned_out=True) for n in range(100)])
    # E-mails and webhooks interleaved, so a kill may catch either in flight.
    Delivery.objects.bulk_create([Delivery(reminder=r, channel=channel) for r in reminders
                                  for channel in ("email", "webhook")])
    keys = {f"reminder-delivery-{pk}-{key}"
            for pk, key in Delivery.objects.filter(channel="webhook").values_list("pk", "key")}
    env = {"EMAIL_FILE_PATH": str(mail_dir),
           "EMAIL_BACKEND": "crm.notifications.testing.SlowFileEmailBackend",
           "TEST_EMAIL_DELAY": "0.05", "REMINDERS_CLAIM_TIMEOUT": "3",
           "CELERY_VISIBILITY_TIMEOUT": "5", "REMINDERS_OFFICE_HOURS_ONLY": "0",
           "WEBHOOK_ALLOWED_HOSTS": slow_robot.origin}
    sweep_env = {"CELERY_BROKER_URL": own_redis.url, "REMINDERS_OFFICE_HOURS_ONLY": "0",
                 "REMINDERS_CLAIM_TIMEOUT": "3"}
    rng = random.Random()
    workers = []

    def sent():
        return Delivery.objects.filter(status="sent").count()

    def went_out():
        return len(_message_ids(mail_dir)) + len(slow_robot.payloads)

    try:
        _manage("from crm.notifications.services import deliveries_sweep; deliveries_sweep()",
                sweep_env)
        # The first worker is killed after 50 messages went out, the second (which takes
        # over the first's batch once its claim is stale) after 120, the third finishes.
        for round_, (name, target) in enumerate((("doomed", 50), ("doomed-too", 120),
                                                 ("survivor", None))):
            workers.append(spawn_worker(broker=own_redis.url, env_extra=env, name=name))
            if round_:
                time.sleep(3.5)  # past the claim timeout: the killed worker's claim is stale
                _manage("from crm.notifications.services import deliveries_sweep; "
                        "deliveries_sweep()", sweep_env)
            if name == "survivor":
                break
            # Kill by what has gone out (mail written, robot answered), not by what is marked
            # sent: a kill timed on the marks would always land just after one.
            assert wait_until(lambda target=target: went_out() >= target, timeout=60,
                              interval=0.005), went_out()
            time.sleep(rng.uniform(0, 0.05))  # anywhere in the next message's 50 ms
            workers[-1].send_signal(signal.SIGKILL)
            workers[-1].wait(timeout=10)
            assert sent() < 200
        assert wait_until(lambda: sent() == 200, timeout=120), sent()
        assert not Delivery.objects.exclude(status="sent").exists()
        ids = _message_ids(mail_dir)
        received = [payload["body"]["idempotency_key"] for payload in slow_robot.payloads]
        assert len(set(ids)) == 100 and set(received) == keys
        # Each payload's key is its delivery's, in the body and the header alike.
        assert all(p["key"] == p["body"]["idempotency_key"] for p in slow_robot.payloads)
        repeats = (len(ids) - 100) + (len(received) - 100)
        assert repeats <= 2, (len(ids), len(received))
    finally:
        for worker in workers:
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
