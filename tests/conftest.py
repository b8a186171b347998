import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.accounts.roles import Role

from .factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def make_user(db):
    def make(*roles: str, **kwargs):
        return UserFactory(roles=list(roles), **kwargs)

    return make


@pytest.fixture
def staff_user(make_user):
    return make_user(Role.INVESTMENT_STAFF)


@pytest.fixture
def leader_user(make_user):
    return make_user(Role.LEADER)


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)


@pytest.fixture
def client_for(client):
    """A page client signed in as `user` (force_login skips django-axes on purpose)."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    """An API client authenticated with `user`'s token, the way an outside client would be."""

    def make(user):
        api = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    return make


def _database_url_for_subprocess() -> str:
    db = connection.settings_dict
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    """Start a real `celery worker` process against the real Redis broker and the test
    database; yield it; stop it. Tests using it must commit (transactional_db) so the worker,
    a separate connection, sees their rows."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.fail("set REDIS_URL: the worker tests need the real Redis broker (make test does)")
    from crm.celery import app

    app.control.purge()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_subprocess(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    log_path = ROOT / "var" / "test-worker.log"
    log = open(log_path, "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early: {log_path.read_text()[-2000:]}")
        if "ready." in log_path.read_text():
            break
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"worker did not become ready: {log_path.read_text()[-2000:]}")
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.2):
    """Poll `predicate` until it returns a truthy value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
