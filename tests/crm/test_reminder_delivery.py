"""Delivery through a real Celery worker process and the real Redis broker."""

import datetime
import re

import pytest
from django.db import transaction

from crm.notifications.models import Delivery, Reminder, ReminderRule
from crm.notifications.tasks import deliveries_send_task
from leads import services as lead_services
from tests.conftest import wait_until
from tests.factories import make_project

pytestmark = pytest.mark.worker


@pytest.fixture
def mail_dir(tmp_path):
    return tmp_path / "mail"


@pytest.fixture
def worker_env(mail_dir):
    mail_dir.mkdir()
    return {"EMAIL_FILE_PATH": str(mail_dir), "EMAIL_BACKEND":
            "crm.notifications.testing.FlakyFileEmailBackend", "TEST_EMAIL_FAILURES": "0",
            "REMINDERS_RETRY_BACKOFF": "1,1,1,1"}


def sent_message_ids(mail_dir) -> list[str]:
    ids = []
    for path in mail_dir.iterdir():
        if not path.name.startswith("."):
            ids += re.findall(r"^Message-ID: (.+)$", path.read_text(), flags=re.MULTILINE)
    return ids


def only_rule(code):
    ReminderRule.objects.exclude(code=code).update(is_active=False)


def test_due_followup_gives_one_inbox_item_and_one_email(celery_worker_process, staff_user,
                                                         mail_dir):
    only_rule("next-step-due")
    project = make_project(owner=staff_user, next_step_on=datetime.date.today()
                           + datetime.timedelta(days=9))
    # Logging a follow-up whose next contact is today makes the next step due; saving it
    # nudges a scan on commit, and the worker does the rest.
    lead_services.followup_create(project=project, by=staff_user, date=datetime.date.today(),
                                  kind="phone", summary="电话沟通", next_step="今天回访",
                                  next_contact_on=datetime.date.today())
    assert wait_until(lambda: Delivery.objects.filter(status="sent").exists(), timeout=40)
    assert wait_until(lambda: len(sent_message_ids(mail_dir)) == 1, timeout=10)
    assert Reminder.objects.filter(recipient=staff_user).count() == 1
    assert Delivery.objects.count() == 1


def test_scan_twice_and_five_enqueues_still_send_once(celery_worker_process, staff_user,
                                                      mail_dir, settings):
    settings.REMINDERS_OFFICE_HOURS_ONLY = False
    only_rule("next-step-due")
    make_project(owner=staff_user, next_step_on=datetime.date.today())
    from crm.notifications import services

    services.reminders_scan()
    services.reminders_scan()
    delivery = Delivery.objects.get()
    with transaction.atomic():
        for _ in range(5):
            deliveries_send_task.delay_on_commit([delivery.pk])
    assert wait_until(lambda: Delivery.objects.get().status == "sent", timeout=40)
    # Give the other four copies time to run (they find nothing to claim).
    wait_until(lambda: False, timeout=3)
    assert len(sent_message_ids(mail_dir)) == 1
    assert Reminder.objects.count() == 1 and Delivery.objects.get().attempts == 1


@pytest.fixture
def flaky_worker_env(worker_env):
    return {**worker_env, "TEST_EMAIL_FAILURES": "2"}


def test_smtp_failure_is_retried_and_delivered_once(transactional_db, staff_user, mail_dir,
                                                    flaky_worker_env, settings):
    from django.conf import settings as django_settings

    from crm.celery import app
    from crm.notifications import services
    from tests.conftest import spawn_worker, stop_worker

    settings.REMINDERS_OFFICE_HOURS_ONLY = False
    app.control.purge()
    worker = spawn_worker(broker=django_settings.CELERY_BROKER_URL, env_extra=flaky_worker_env,
                          name="flaky")
    try:
        only_rule("next-step-due")
        make_project(owner=staff_user, next_step_on=datetime.date.today())
        services.reminders_scan()
        assert wait_until(lambda: Delivery.objects.get().status == "sent", timeout=60)
        delivery = Delivery.objects.get()
        assert delivery.attempts == 3  # two refused connections, then delivered
        assert len(sent_message_ids(mail_dir)) == 1
        assert (mail_dir / ".attempts").read_text() == "3"
    finally:
        stop_worker(worker)
