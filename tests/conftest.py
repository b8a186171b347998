import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from crm.accounts.roles import Role
from crm.accounts.services import token_issue

from .factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request):
    """Transactional tests end by emptying every table, including the rows data migrations
    loaded (stages, industries, chain nodes, lost reasons). Reload them, idempotently, at the
    start of each such test so test order never matters."""
    if not ({"transactional_db", "live_server", "celery_worker_process"}
            & set(request.fixturenames)):
        marker = request.node.get_closest_marker("django_db")
        if not (marker and marker.kwargs.get("transaction")):
            return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    importlib.import_module("leads.migrations.0002_reference_data").load(apps, None)
    importlib.import_module("crm.notifications.migrations.0002_default_rules").load(apps, None)
    from crm.accounts.roles import sync_role_permissions

    sync_role_permissions()


@pytest.fixture(autouse=True)
def _fresh_figure_cache():
    """Cached dashboard figures (crm/core/figures.py) live in Redis, which outlives a test's
    rolled-back transaction and the test database itself: start every test on a version no
    earlier test or run has used. (Not cache.clear(): the Celery broker may share the db.)"""
    from crm.core.figures import reset_versions

    reset_versions()


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
        _instance, token = token_issue(user=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
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
def worker_env():
    """Extra environment for the worker process; override in a test module to change it."""
    return {}


def spawn_worker(*, broker: str, env_extra: dict | None = None, name: str = "test",
                 beat: bool = False) -> subprocess.Popen:
    """Start `celery worker` as a separate process on the test database and wait until it
    is ready. The caller stops it (stop_worker) or kills it."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_subprocess(),
        "CELERY_BROKER_URL": broker,
        "PYTHONUNBUFFERED": "1",
        "REMINDERS_OFFICE_HOURS_ONLY": "0",
        **(env_extra or {}),
    }
    log_path = ROOT / "var" / f"test-worker-{name}-{os.getpid()}.log"
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "w")  # noqa: SIM115 (the process owns it; closed with the process)
    command = [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo",
               "--without-gossip", "--without-mingle", "--loglevel=INFO",
               "-n", f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h"]
    if beat:
        command += ["-B", "-s", str(ROOT / "var" / f"beat-{name}-{os.getpid()}")]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log_path
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early: {log_path.read_text()[-3000:]}")
        if "ready." in log_path.read_text():
            return process
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"worker did not become ready: {log_path.read_text()[-3000:]}")


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def celery_worker_process(transactional_db, worker_env):
    """A real `celery worker` process against the real Redis broker and the test database.
    Tests using it must commit (transactional_db) so the worker, a separate connection, sees
    their rows."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.fail("set REDIS_URL: the worker tests need the real Redis broker (make test does)")
    from crm.celery import app

    app.control.purge()
    process = spawn_worker(broker=settings.CELERY_BROKER_URL, env_extra=worker_env)
    yield process
    stop_worker(process)


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.2):
    """Poll `predicate` until it returns a truthy value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
