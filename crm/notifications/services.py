"""Reminders: scan, fan out, deliver.

1. reminders_scan() asks every active rule's evaluator what is due and inserts one Reminder
   per (rule, record, due date, recipient), ignoring rows that already exist: scanning twice
   creates nothing new. The Reminder row is the in-app inbox item. Its deliveries are created
   in the same transaction.
2. Deliveries: one per reminder and channel the recipient chose (unique per reminder and
   channel), enqueued on commit in office hours, in batches of DELIVERY_BATCH_SIZE: one task
   per batch, not per delivery. reminders_fan_out() does this for reminders that have none yet
   (a scan that lost a race to another, or a reminder created elsewhere).
3. deliveries_send() claims a batch in one short transaction (pending → sending, or a stale
   "sending" whose worker died; rows another worker holds are skipped, not waited for), sends
   the e-mails over one mail connection, and marks each message "sent" with its own committed
   UPDATE the moment it went out. A duplicate or redelivered task finds nothing to claim among
   what was sent, and sends none of it again. A transient failure puts that delivery alone
   back to pending and retries it after a backoff, for a bounded number of attempts; then it
   stays failed until an administrator retries it. The others are unaffected.
4. deliveries_sweep() re-enqueues what is pending (a broker outage after commit, a reminder
   created outside office hours) or stuck in "sending" past the claim timeout.

At least once, and at most one repeat per crash: a worker that dies after handing a message
over and before its UPDATE commits leaves that one row "sending"; the sweep sends it again
after REMINDERS_CLAIM_TIMEOUT. Nothing on our side can close that last window (the mail server
or robot has the message; we have not recorded it), so the repeat carries the first send's
identity: the e-mail's Message-ID, which mail systems treat as one message, and the webhook's
idempotency key (channels.idempotency_key). Marking each message is one small UPDATE per
message, little beside a mail server's or robot's round trip; marking a batch's messages
together, as this did before, re-sent up to a second's worth of them after a SIGKILL
(tests/crm/test_reminder_faults.py).
"""

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F, Q, prefetch_related_objects
from django.utils import timezone

from crm.core.queue import enqueue, enqueue_on_commit

from . import channels, registry
from .models import Channel, Delivery, Preference, Reminder, ReminderRule

logger = logging.getLogger(__name__)

SCAN_BATCH_SIZE = 2000  # rows per insert and per transaction: fewer commits, bounded memory
SWEEP_BATCH_SIZE = 1000
MAX_ATTEMPTS = 5  # then the delivery stays "failed" until an administrator retries it
# Deliveries per task. Large enough that the per-task cost (a broker round trip, five queries,
# one SMTP handshake) is small beside the messages' own (about 0.3 ms each with the in-memory
# backend in bench/reminders_bench.py: 60 ms a batch). Small enough that a batch on a slow mail
# server (~50 ms a message: 10 s) stays far inside REMINDERS_CLAIM_TIMEOUT.
DELIVERY_BATCH_SIZE = 200
# The work this module leaves for a worker (crm/notifications/tasks.py; crm/core/queue.py
# explains why by name).
SEND_TASK = "notifications.deliveries_send_task"
SCAN_RECORD_TASK = "notifications.reminders_scan_record_task"
SCAN_TASK = "notifications.reminders_scan_task"
# Above this many records in one write, one scan of everything is cheaper than a task each (and
# keeps the worker's log readable): a refresh that breaches hundreds of obligations at once.
NUDGE_RECORDS_LIMIT = 20


def in_office_hours(moment: datetime | None = None) -> bool:
    """Reminders go out in office hours (Asia/Shanghai): people act on them at work."""
    if not settings.REMINDERS_OFFICE_HOURS_ONLY:
        return True
    moment = timezone.localtime(moment)
    start, end = settings.REMINDERS_OFFICE_HOURS
    if settings.REMINDERS_WEEKDAYS_ONLY and moment.weekday() >= 5:
        return False
    return clock_time.fromisoformat(start) <= moment.time() < clock_time.fromisoformat(end)


def _insert(rule: ReminderRule, batch: list) -> tuple[int, int]:
    """Insert the batch's new reminders with their deliveries, in one transaction; returns how
    many reminders and deliveries were created. The lookup of existing keys (on the natural
    key's index) keeps a daily re-scan from writing anything. New reminders are inserted as
    fanned out, with their deliveries beside them: each row is written once, not inserted and
    then updated (an update rewrites all of the reminder's indexes)."""
    if not batch:
        return 0, 0
    existing = set(Reminder.objects.filter(
        rule=rule, content_type_id__in={r.content_type_id for r in batch},
        object_id__in={r.object_id for r in batch},
    ).values_list("content_type_id", "object_id", "due_on", "recipient_id"))
    new = []
    for reminder in batch:
        key = (reminder.content_type_id, reminder.object_id, reminder.due_on,
               reminder.recipient_id)
        if key not in existing:
            existing.add(key)  # an evaluator may yield one record twice
            new.append(reminder)
    batch.clear()
    if not new:
        return 0, 0
    with transaction.atomic():
        try:
            with transaction.atomic():
                for reminder in new:
                    reminder.fanned_out = True
                Reminder.objects.bulk_create(new, batch_size=SCAN_BATCH_SIZE)
        except IntegrityError:
            # A scan running beside this one inserted some of them first: the unique constraint
            # decides which rows exist, and reminders_fan_out() gives them their deliveries.
            # (The count may then include the other scan's rows; the rows are right.)
            for reminder in new:
                reminder.pk, reminder.fanned_out = None, False
            Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=SCAN_BATCH_SIZE)
            return len(new), 0
        return len(new), _deliveries_create([(r.pk, r.recipient_id) for r in new], fresh=True)


def reminders_scan(*, today: date | None = None, rules=None, record=None) -> int:
    """Create the reminders that are due, and their deliveries; returns how many are new.
    With `record` (a model instance), only the rules of the kinds that watch its model, and
    only for it: what a write to one project may have made due, without a scan of everything."""
    today = today or timezone.localdate()
    created = created_deliveries = 0
    rules = rules or ReminderRule.objects.filter(is_active=True)
    records = None
    if record is not None:
        watching = {kind.kind for kind in registry.kinds_for(type(record))}
        rules = [rule for rule in rules if rule.kind in watching]
        records = type(record)._default_manager.filter(pk=record.pk)
    # Digests summarise the other reminders, so they run last.
    for rule in sorted(rules, key=lambda r: (r.kind.startswith("digest."), r.kind, r.pk)):
        kind = registry.rule_kind(rule.kind)
        if kind is None:
            logger.warning("reminder rule %s has unknown kind %s", rule.code, rule.kind)
            continue
        batch: list[Reminder] = []
        content_types: dict[type, ContentType] = {}
        for due in kind.evaluate(rule, today, records):
            model = type(due.record)
            content_type = content_types.get(model) or ContentType.objects.get_for_model(model)
            content_types[model] = content_type
            for recipient_id in dict.fromkeys(due.recipient_ids):
                batch.append(Reminder(
                    rule=rule, recipient_id=recipient_id, content_type=content_type,
                    object_id=due.record.pk, due_on=due.due_on, severity=rule.severity,
                    title=due.title[:200], body=due.body, link=due.link[:300],
                    confidential=due.confidential))
            if len(batch) >= SCAN_BATCH_SIZE:
                reminders, deliveries = _insert(rule, batch)
                created, created_deliveries = created + reminders, created_deliveries + deliveries
        reminders, deliveries = _insert(rule, batch)
        created, created_deliveries = created + reminders, created_deliveries + deliveries
    # Reminders left without deliveries: a race between two scans, or created elsewhere.
    created_deliveries += reminders_fan_out()
    logger.info("reminder scan: %s new reminders, %s deliveries", created, created_deliveries)
    return created


def _channels_for(preference: Preference | None) -> list[str]:
    if preference is None:
        return [Channel.EMAIL]
    chosen = [Channel.EMAIL] if preference.email else []
    if preference.webhook_enabled:
        chosen.append(Channel.WEBHOOK)
    return chosen


def _deliveries_create(reminders: list[tuple[int, int]], *, fresh: bool = False) -> int:
    """Create the deliveries of (reminder id, recipient id) pairs, one per channel the recipient
    chose, inside the caller's transaction, and enqueue them when it commits (in office hours).
    The few recipients' preferences are read once: a scan of 100,000 reminders has a handful of
    recipients, not 100,000. `fresh`: the reminders were inserted in this transaction, so none
    can have a delivery yet and the insert itself returns the new ids."""
    recipient_ids = {recipient_id for _, recipient_id in reminders}
    active = set(get_user_model().objects.filter(pk__in=recipient_ids, is_active=True)
                 .values_list("pk", flat=True))
    preferences = {p.user_id: p for p in Preference.objects.filter(user_id__in=active)}
    channels_of = {user_id: _channels_for(preferences.get(user_id)) for user_id in active}
    deliveries = [Delivery(reminder_id=reminder_id, channel=channel)
                  for reminder_id, recipient_id in reminders
                  for channel in channels_of.get(recipient_id, ())]
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=not fresh,
                                 batch_size=SCAN_BATCH_SIZE)
    if deliveries and in_office_hours():
        if fresh:
            ids = [delivery.pk for delivery in deliveries]
        else:  # ignore_conflicts returns no ids
            ids = list(Delivery.objects.filter(
                reminder_id__in=[reminder_id for reminder_id, _ in reminders],
                status=Delivery.Status.PENDING).order_by("pk").values_list("pk", flat=True))
        transaction.on_commit(lambda: enqueue_deliveries(ids), robust=True)
    return len(deliveries)


def reminders_fan_out(*, batch_size: int = SCAN_BATCH_SIZE) -> int:
    """Create the deliveries of reminders that have none yet, in bounded batches."""
    total = 0
    while True:
        with transaction.atomic():
            reminders = list(
                Reminder.objects.select_for_update(skip_locked=True)
                .filter(fanned_out=False).values_list("pk", "recipient_id")[:batch_size])
            if not reminders:
                return total
            total += _deliveries_create(reminders)
            Reminder.objects.filter(pk__in=[pk for pk, _ in reminders]).update(fanned_out=True)


def enqueue_deliveries(ids) -> int:
    """Send delivery tasks to the broker, one per DELIVERY_BATCH_SIZE ids; returns how many
    deliveries were enqueued. A broker outage is logged, not raised: the rows stay pending and
    the sweep enqueues them again once the broker is back."""
    ids = list(ids)
    sent = 0
    for start in range(0, len(ids), DELIVERY_BATCH_SIZE):
        batch = ids[start:start + DELIVERY_BATCH_SIZE]
        try:
            enqueue(SEND_TASK, batch)
            sent += len(batch)
        except Exception:  # noqa: BLE001 (kombu raises several kinds when the broker is away)
            logger.warning("broker unavailable; %s deliveries left for the sweep",
                           len(ids) - start)
            break
    return sent


def _claim(delivery_ids, now: datetime) -> list[Delivery]:
    """Claim what is claimable among `delivery_ids`, with everything sending needs, in one
    short transaction committed before anything is sent (so a crash leaves "sending" behind
    for the sweep). Rows another worker is claiming right now are skipped, not waited for: it
    will send them. `now` is the claim's token: only this claim may mark the rows afterwards."""
    stale = now - timedelta(seconds=settings.REMINDERS_CLAIM_TIMEOUT)
    with transaction.atomic():
        deliveries = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=delivery_ids)
            .filter(Q(status=Delivery.Status.PENDING)
                    | Q(status=Delivery.Status.SENDING, claimed_at__lt=stale))
            .select_related("reminder__rule")  # the rule's name: confidential robot messages
            .order_by("pk"))
        # A batch has a handful of recipients: load each (and its preferences) once, not once
        # per delivery as a join would.
        prefetch_related_objects([d.reminder for d in deliveries],
                                 "recipient__notification_preference")
        if deliveries:
            Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
                status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    for delivery in deliveries:
        delivery.status, delivery.claimed_at = Delivery.Status.SENDING, now
        delivery.attempts += 1
    return deliveries


@dataclass
class BatchOutcome:
    """What deliveries_send() did with each id it was given."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)  # transient failure: send again after backoff
    released: list[int] = field(default_factory=list)  # not tried (time budget): enqueue again
    skipped: list[int] = field(default_factory=list)  # not claimable: sent, or someone else's
    retry_attempts: int = 0  # the most attempts among `retry`, to choose the backoff

    def of(self, delivery_id: int) -> str:
        for outcome in ("sent", "failed", "retry", "released"):
            if delivery_id in getattr(self, outcome):
                return outcome
        return "skipped"


def _mine(ids, now: datetime):
    return Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENDING, claimed_at=now)


def deliveries_send(*, delivery_ids) -> BatchOutcome:
    """Send a batch of deliveries, each at most once per claim (see the module docstring).

    Four queries claim and load whatever the batch's size (deliveries with their reminders,
    then the few recipients and their preferences, then the claim); then one UPDATE per
    message sent, committed at once, so that a crash re-sends at most the message in flight
    (module docstring), and one per failure. The batch stops taking new messages after half
    of REMINDERS_CLAIM_TIMEOUT and releases the rest, so its claim never goes stale (and is
    re-claimed by another worker) while it is still sending; one message's own timeout
    (EMAIL_TIMEOUT, WEBHOOK_TIMEOUT_SECONDS) must fit in the other half."""
    now = timezone.now()
    outcome = BatchOutcome()
    deliveries = _claim(delivery_ids, now)
    claimed = {d.pk for d in deliveries}
    outcome.skipped = [pk for pk in delivery_ids if pk not in claimed]
    if not deliveries:
        return outcome
    started = time.monotonic()
    budget = settings.REMINDERS_CLAIM_TIMEOUT / 2
    errors: dict[int, tuple[str, bool]] = {}  # id → (error, final)
    email_connection = None
    email_error: channels.TransientDeliveryError | None = None
    try:
        for index, delivery in enumerate(deliveries):
            if index and time.monotonic() - started > budget:
                outcome.released = [d.pk for d in deliveries[index:]]
                break
            try:
                if delivery.channel == Channel.EMAIL and email_connection is None:
                    if email_error is not None:
                        raise email_error  # the server was unreachable a moment ago
                    try:
                        email_connection = channels.email_connection()
                    except channels.TransientDeliveryError as error:
                        email_error = error
                        raise
                channels.SENDERS[delivery.channel](
                    delivery=delivery, reminder=delivery.reminder,
                    user=delivery.reminder.recipient, connection=email_connection)
            except channels.PermanentDeliveryError as error:
                errors[delivery.pk] = (str(error)[:2000], True)
                outcome.failed.append(delivery.pk)
                continue
            except Exception as error:  # noqa: BLE001
                # Transient by default, including the unforeseen (a header the mail library
                # rejects): one bad message must not hold up the rest of its batch, and
                # MAX_ATTEMPTS still ends its retries.
                if not isinstance(error, channels.TransientDeliveryError):
                    logger.exception("delivery %s: unexpected error", delivery.pk)
                final = delivery.attempts >= MAX_ATTEMPTS
                errors[delivery.pk] = (str(error)[:2000], final)
                (outcome.failed if final else outcome.retry).append(delivery.pk)
                if not final:
                    outcome.retry_attempts = max(outcome.retry_attempts, delivery.attempts)
                if delivery.channel == Channel.EMAIL and email_connection is not None:
                    # The session may be broken: the next message opens a fresh one.
                    channels.close_quietly(email_connection)
                    email_connection = None
                continue
            # At once, before the next message: its own autocommitted UPDATE (module
            # docstring). If the database is gone this raises, and what was not marked stays
            # "sending" for the sweep.
            _mark_sent(delivery.pk, now, outcome)
    finally:
        channels.close_quietly(email_connection)
    for pk, (error, final) in errors.items():
        _mine([pk], now).update(
            status=Delivery.Status.FAILED if final else Delivery.Status.PENDING, last_error=error)
    if outcome.released:
        _mine(outcome.released, now).update(
            status=Delivery.Status.PENDING, claimed_at=None, attempts=F("attempts") - 1)
    return outcome


def _mark_sent(pk: int, now: datetime, outcome: BatchOutcome) -> None:
    _mine([pk], now).update(status=Delivery.Status.SENT, sent_at=timezone.now(), last_error="")
    outcome.sent.append(pk)


def delivery_send(*, delivery_id: int) -> str:
    """Send one delivery at most once. Returns "sent", "skipped", "retry" or "failed"."""
    return deliveries_send(delivery_ids=[delivery_id]).of(delivery_id)


def deliveries_sweep(*, batch_size: int = SWEEP_BATCH_SIZE) -> int:
    """Re-enqueue pending deliveries and those stuck in "sending" past the claim timeout."""
    if not in_office_hours():
        return 0
    stale = timezone.now() - timedelta(seconds=settings.REMINDERS_CLAIM_TIMEOUT)
    ids = list(Delivery.objects.filter(
        Q(status=Delivery.Status.PENDING)
        | Q(status=Delivery.Status.SENDING, claimed_at__lt=stale)
    ).order_by("pk").values_list("pk", flat=True)[:batch_size])
    return enqueue_deliveries(ids)


@transaction.atomic
def delivery_retry(*, delivery: Delivery) -> Delivery:
    """An administrator's retry of a failed delivery: a fresh set of attempts."""
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
        status=Delivery.Status.PENDING, attempts=0)
    transaction.on_commit(lambda: enqueue_deliveries([delivery.pk]), robust=True)
    delivery.refresh_from_db()
    return delivery


def reminder_mark_read(*, user, reminder_id: int | None = None) -> int:
    reminders = Reminder.objects.for_user(user).unread()
    if reminder_id is not None:
        reminders = reminders.filter(pk=reminder_id)
    return reminders.update(read_at=timezone.now())


def preference_for(user) -> Preference:
    return Preference.objects.get_or_create(user=user)[0]


def preference_update(*, user, **fields) -> Preference:
    preference = preference_for(user)
    for key, value in fields.items():
        setattr(preference, key, value)
    preference.full_clean()
    preference.save()
    return preference


# Set by nudges_batched(): inside it, nudges are counted here instead of sent.
_batched_nudges: ContextVar[list | None] = ContextVar("batched_nudges", default=None)


def nudge_scan(*, record) -> None:
    """Ask a worker to scan `record`'s rules now (after a write that may make it due), on
    commit and without failing the request if the broker is down: the periodic scan catches
    up. Inside nudges_batched(), the request is only noted."""
    batch = _batched_nudges.get()
    if batch is not None:
        batch.append(record.pk)
        return
    enqueue_on_commit(SCAN_RECORD_TASK, record._meta.label_lower, record.pk)


def nudge_scans(records) -> None:
    """nudge_scan() for each of `records`, or, beyond NUDGE_RECORDS_LIMIT, one full scan."""
    records = list(records)
    if len(records) > NUDGE_RECORDS_LIMIT:
        enqueue_on_commit(SCAN_TASK)
        return
    for record in records:
        nudge_scan(record=record)


@contextmanager
def nudges_batched():
    """For bulk writers (the demo seeder): the writes inside ask for one full scan at the end,
    instead of one task per record written (the demo queued 180 of them, and the worker's log
    scrolled with empty scans for a minute)."""
    token = _batched_nudges.set([])
    try:
        yield
        wanted = bool(_batched_nudges.get())
    finally:
        _batched_nudges.reset(token)
    if wanted:
        enqueue_on_commit(SCAN_TASK)
