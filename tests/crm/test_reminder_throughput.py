"""The batch delivery path (services.deliveries_send, tasks.deliveries_send_task): each delivery
of a batch goes out exactly once through real worker processes, one refused message is retried
without the rest of its batch, two workers draining the same batches never send one delivery
twice, and sending a batch costs the same queries whatever its size. Throughput itself is
measured in bench/reminders_bench.py, not here."""

import datetime
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.accounts.roles import Role
from crm.notifications import services
from crm.notifications.models import Delivery, Preference, Reminder, ReminderRule
from crm.notifications.tasks import deliveries_send_task
from tests.conftest import spawn_worker, stop_worker, wait_until
from tests.factories import UserFactory, make_project


def make_deliveries(count: int, recipients: list) -> list[int]:
    """`count` pending e-mail deliveries, spread over `recipients`, in one insert each."""
    rule = ReminderRule.objects.get(code="next-step-due")
    project = make_project(owner=recipients[0])
    content_type = ContentType.objects.get_for_model(project)
    today = timezone.localdate()
    reminders = Reminder.objects.bulk_create([
        Reminder(rule=rule, recipient=recipients[n % len(recipients)], content_type=content_type,
                 object_id=project.pk, due_on=today - datetime.timedelta(days=n),
                 severity="yellow", title=f"跟进到期 {n}", link=f"/leads/projects/{n}/",
                 fanned_out=True) for n in range(count)])
    deliveries = Delivery.objects.bulk_create(
        [Delivery(reminder=r, channel="email") for r in reminders])
    return [d.pk for d in deliveries]


def message_ids(mail_dir) -> list[str]:
    ids = []
    for path in mail_dir.iterdir():
        if not path.name.startswith("."):
            ids += re.findall(r"^Message-ID: <reminder-delivery-(\d+)@", path.read_text(),
                              flags=re.MULTILINE)
    return sorted(int(pk) for pk in ids)


def all_sent(ids) -> bool:
    return Delivery.objects.filter(pk__in=ids, status="sent").count() == len(ids)


# --- through real workers ------------------------------------------------------------------------
@pytest.fixture
def mail_dir(tmp_path):
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def worker_env(mail_dir):
    return {"EMAIL_FILE_PATH": str(mail_dir), "REMINDERS_RETRY_BACKOFF": "1,1,1,1",
            "EMAIL_BACKEND": "crm.notifications.testing.RefusingFileEmailBackend",
            "TEST_EMAIL_REFUSE_TO": "refused@example.gov.cn", "TEST_EMAIL_FAILURES": "1"}


@pytest.mark.worker
def test_batches_sent_by_a_real_worker_send_each_delivery_once(celery_worker_process, mail_dir):
    users = [UserFactory(roles=[Role.INVESTMENT_STAFF]) for _ in range(3)]
    ids = make_deliveries(services.DELIVERY_BATCH_SIZE + 50, users)  # two batches
    assert services.enqueue_deliveries(ids) == len(ids)
    assert wait_until(lambda: all_sent(ids), timeout=60)
    assert message_ids(mail_dir) == sorted(ids)  # distinct, one each, none missing
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.worker
def test_a_refused_message_is_retried_alone_and_the_rest_of_its_batch_is_sent(
        celery_worker_process, mail_dir):
    users = [UserFactory(roles=[Role.INVESTMENT_STAFF]) for _ in range(3)]
    refused = UserFactory(roles=[Role.INVESTMENT_STAFF], email="refused@example.gov.cn")
    ids = make_deliveries(12, [*users, refused])  # every fourth one is refused once
    refused_ids = set(Delivery.objects.filter(reminder__recipient=refused)
                      .values_list("pk", flat=True))
    services.enqueue_deliveries(ids)
    # The mail server refused the first of them once: that one waits for its retry, nothing
    # else of the batch is failed, lost or held back with it.
    others = [pk for pk in ids if pk not in refused_ids]
    assert wait_until(lambda: all_sent(others), timeout=30)
    assert wait_until(lambda: all_sent(ids), timeout=30)
    assert not Delivery.objects.filter(status="failed").exists()
    assert message_ids(mail_dir) == sorted(ids)
    attempts = dict(Delivery.objects.values_list("pk", "attempts"))
    assert sorted(attempts.values()) == [1] * (len(ids) - 1) + [2]
    assert [pk for pk, n in attempts.items() if n == 2][0] in refused_ids
    assert (mail_dir / ".refused").read_text() == "1"


@pytest.fixture
def slow_worker_env(mail_dir):
    # A slow mail server, so both workers are in the middle of a batch at the same time.
    return {"EMAIL_FILE_PATH": str(mail_dir), "TEST_EMAIL_DELAY": "0.005",
            "EMAIL_BACKEND": "crm.notifications.testing.SlowFileEmailBackend"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_the_same_batches_never_send_a_delivery_twice(mail_dir,
                                                                          slow_worker_env):
    from django.conf import settings

    from crm.celery import app

    users = [UserFactory(roles=[Role.INVESTMENT_STAFF]) for _ in range(3)]
    ids = make_deliveries(300, users)
    app.control.purge()
    workers = [spawn_worker(broker=settings.CELERY_BROKER_URL, env_extra=slow_worker_env,
                            name=f"drain{n}") for n in range(2)]
    try:
        # The same deliveries three times over, in overlapping batches, as a sweep racing a
        # fan-out and a redelivered task would enqueue them.
        for start in (0, 50, 100):
            deliveries_send_task.delay(ids[start:start + 200])
        services.enqueue_deliveries(ids)
        services.enqueue_deliveries(list(reversed(ids)))
        assert wait_until(lambda: all_sent(ids), timeout=90)
        wait_until(lambda: False, timeout=2)  # the remaining copies find nothing to claim
    finally:
        for worker in workers:
            stop_worker(worker)
    assert message_ids(mail_dir) == sorted(ids)
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    # Both workers did send (each task logs what it sent): the race was real.
    for worker in workers:
        sent = [int(n) for n in re.findall(r"'sent': (\d+)", worker.log_path.read_text())]
        assert sum(sent) > 0, worker.log_path.read_text()[-2000:]


# --- in process ----------------------------------------------------------------------------------
@pytest.fixture
def opened_connections(monkeypatch):
    opened = []
    original = LocmemBackend.open

    def open_(self):
        opened.append(self)
        return original(self)

    monkeypatch.setattr(LocmemBackend, "open", open_)
    return opened


@pytest.mark.django_db
def test_sending_a_batch_costs_one_query_per_message_and_a_fixed_few(settings,
                                                                    opened_connections):
    users = [UserFactory(roles=[Role.INVESTMENT_STAFF]) for _ in range(3)]
    Preference.objects.create(user=users[1], email=True, daily_digest=False)
    small, large = make_deliveries(5, users), make_deliveries(60, users)
    counts = []
    for ids in (small, large):
        with CaptureQueriesContext(connection) as queries:
            outcome = services.deliveries_send(delivery_ids=ids)
        assert sorted(outcome.sent) == sorted(ids)
        counts.append(len(queries))
    # Claim (select, recipients, preferences, update, in a savepoint here), then one UPDATE
    # per message marking it sent the moment it went out: a worker killed mid-batch re-sends
    # at most the message in flight (tests/crm/test_reminder_faults.py). Nothing else grows.
    fixed = [count - len(ids) for count, ids in zip(counts, (small, large), strict=True)]
    assert fixed[0] == fixed[1] <= 6, counts
    assert len(mail.outbox) == 65
    assert len(opened_connections) == 2  # one mail connection per batch, not per message
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}


@pytest.mark.django_db
def test_a_batch_out_of_time_releases_the_rest_unsent(settings):
    settings.REMINDERS_CLAIM_TIMEOUT = 0  # no time budget at all: one message, then release
    users = [UserFactory(roles=[Role.INVESTMENT_STAFF])]
    ids = make_deliveries(4, users)
    outcome = services.deliveries_send(delivery_ids=ids)
    assert outcome.sent == [min(ids)] and sorted(outcome.released) == sorted(ids)[1:]
    assert len(mail.outbox) == 1
    released = Delivery.objects.filter(pk__in=outcome.released)
    assert set(released.values_list("status", "attempts", "claimed_at")) == {
        ("pending", 0, None)}
