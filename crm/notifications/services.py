"""Reminders: scan, fan out, deliver.

1. reminders_scan() asks every active rule's evaluator what is due and inserts one Reminder
   per (rule, record, due date, recipient), ignoring rows that already exist: scanning twice
   creates nothing new. The Reminder row is the in-app inbox item.
2. reminders_fan_out() creates one Delivery per reminder and channel the recipient chose
   (unique per reminder and channel), then enqueues them (on commit) in office hours.
3. delivery_send() claims a delivery with a conditional UPDATE (pending → sending, or a stale
   "sending" whose worker died), sends, and marks it sent. A duplicate or redelivered task finds
   nothing to claim and sends nothing. A transient failure puts it back to pending for a bounded
   number of attempts, then it stays failed until an administrator retries it.
4. deliveries_sweep() re-enqueues what is pending (a broker outage after commit, a reminder
   created outside office hours) or stuck in "sending" past the claim timeout.
"""

import logging
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import channels, registry
from .models import Channel, Delivery, Preference, Reminder, ReminderRule

logger = logging.getLogger(__name__)

SCAN_BATCH_SIZE = 500
SWEEP_BATCH_SIZE = 1000
MAX_ATTEMPTS = 5  # then the delivery stays "failed" until an administrator retries it


def in_office_hours(moment: datetime | None = None) -> bool:
    """Reminders go out in office hours (Asia/Shanghai): people act on them at work."""
    if not settings.REMINDERS_OFFICE_HOURS_ONLY:
        return True
    moment = timezone.localtime(moment)
    start, end = settings.REMINDERS_OFFICE_HOURS
    if settings.REMINDERS_WEEKDAYS_ONLY and moment.weekday() >= 5:
        return False
    return time.fromisoformat(start) <= moment.time() < time.fromisoformat(end)


def add_working_days(day: date, days: int) -> date:
    """`days` working days after `day` (Monday to Friday; public holidays are not modelled)."""
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _insert(rule: ReminderRule, batch: list) -> int:
    if not batch:
        return 0
    before = Reminder.objects.filter(rule=rule).count()
    Reminder.objects.bulk_create(batch, ignore_conflicts=True, batch_size=SCAN_BATCH_SIZE)
    batch.clear()
    return Reminder.objects.filter(rule=rule).count() - before


def reminders_scan(*, today: date | None = None, rules=None) -> int:
    """Create the reminders that are due; returns how many are new."""
    today = today or timezone.localdate()
    created = 0
    rules = rules or ReminderRule.objects.filter(is_active=True)
    # Digests summarise the other reminders, so they run last.
    for rule in sorted(rules, key=lambda r: (r.kind.startswith("digest."), r.kind, r.pk)):
        kind = registry.rule_kind(rule.kind)
        if kind is None:
            logger.warning("reminder rule %s has unknown kind %s", rule.code, rule.kind)
            continue
        batch: list[Reminder] = []
        content_types: dict[type, ContentType] = {}
        for due in kind.evaluator(rule, today):
            model = type(due.record)
            content_type = content_types.get(model) or ContentType.objects.get_for_model(model)
            content_types[model] = content_type
            for recipient_id in dict.fromkeys(due.recipient_ids):
                batch.append(Reminder(
                    rule=rule, recipient_id=recipient_id, content_type=content_type,
                    object_id=due.record.pk, due_on=due.due_on, severity=rule.severity,
                    title=due.title[:200], body=due.body, link=due.link[:300]))
            if len(batch) >= SCAN_BATCH_SIZE:
                created += _insert(rule, batch)
        created += _insert(rule, batch)
    created_deliveries = reminders_fan_out()
    logger.info("reminder scan: %s new reminders, %s deliveries", created, created_deliveries)
    return created


def _channels_for(preference: Preference | None) -> list[str]:
    if preference is None:
        return [Channel.EMAIL]
    chosen = [Channel.EMAIL] if preference.email else []
    if preference.webhook_enabled:
        chosen.append(Channel.WEBHOOK)
    return chosen


def reminders_fan_out(*, batch_size: int = SCAN_BATCH_SIZE) -> int:
    """Create the deliveries of reminders that have none yet, in bounded batches."""
    total = 0
    while True:
        with transaction.atomic():
            reminders = list(
                Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(fanned_out=False)
                .select_related("recipient__notification_preference")[:batch_size])
            if not reminders:
                return total
            deliveries = []
            for reminder in reminders:
                preference = getattr(reminder.recipient, "notification_preference", None)
                if not reminder.recipient.is_active:
                    continue
                deliveries += [Delivery(reminder=reminder, channel=channel)
                               for channel in _channels_for(preference)]
            Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            Reminder.objects.filter(pk__in=[r.pk for r in reminders]).update(fanned_out=True)
            total += len(deliveries)
            if in_office_hours():
                ids = list(Delivery.objects.filter(
                    reminder__in=reminders, status=Delivery.Status.PENDING)
                    .values_list("pk", flat=True))
                transaction.on_commit(lambda ids=ids: enqueue_deliveries(ids), robust=True)


def enqueue_deliveries(ids) -> int:
    """Send delivery tasks to the broker. A broker outage is logged, not raised: the rows stay
    pending and the sweep enqueues them again once the broker is back."""
    from .tasks import delivery_send_task

    sent = 0
    for pk in ids:
        try:
            delivery_send_task.delay(pk)
            sent += 1
        except Exception:  # noqa: BLE001 (kombu raises several kinds when the broker is away)
            logger.warning("broker unavailable; delivery %s left for the sweep", pk)
            break
    return sent


def _claim(delivery_id: int) -> bool:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.REMINDERS_CLAIM_TIMEOUT)
    return bool(Delivery.objects.filter(pk=delivery_id).filter(
        Q(status=Delivery.Status.PENDING)
        | Q(status=Delivery.Status.SENDING, claimed_at__lt=stale)
    ).update(status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1))


def delivery_send(*, delivery_id: int) -> str:
    """Send one delivery at most once. Returns "sent", "skipped", "retry" or "failed"."""
    if not _claim(delivery_id):
        return "skipped"
    delivery = Delivery.objects.select_related(
        "reminder", "reminder__recipient", "reminder__recipient__notification_preference",
    ).get(pk=delivery_id)
    sender = channels.SENDERS[delivery.channel]
    try:
        sender(delivery=delivery, reminder=delivery.reminder, user=delivery.reminder.recipient)
    except channels.TransientDeliveryError as error:
        final = delivery.attempts >= MAX_ATTEMPTS
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.FAILED if final else Delivery.Status.PENDING,
            last_error=str(error)[:2000])
        return "failed" if final else "retry"
    except channels.PermanentDeliveryError as error:
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.FAILED, last_error=str(error)[:2000])
        return "failed"
    Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


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


def nudge_scan() -> None:
    """Ask a worker for a scan now (after a write that may make something due), on commit and
    without failing the request if the broker is down: the periodic scan catches up."""
    from .tasks import reminders_scan_task

    def send():
        try:
            reminders_scan_task.delay()
        except Exception:  # noqa: BLE001
            logger.warning("broker unavailable; the periodic scan will pick this up")

    transaction.on_commit(send, robust=True)
