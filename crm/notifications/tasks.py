from celery import shared_task
from django.apps import apps
from django.conf import settings

from . import services


@shared_task(name=services.SCAN_TASK)
def reminders_scan_task() -> int:
    return services.reminders_scan()


@shared_task(name=services.SCAN_RECORD_TASK)
def reminders_scan_record_task(model: str, pk: int) -> int:
    """A scan of one record's rules (a write may have made it due). Nothing if it is gone."""
    record = apps.get_model(model)._default_manager.filter(pk=pk).first()
    return services.reminders_scan(record=record) if record is not None else 0


@shared_task(name="notifications.deliveries_sweep_task")
def deliveries_sweep_task() -> int:
    return services.deliveries_sweep()


def _backoff(retries_so_far: int) -> int:
    backoff = settings.REMINDERS_RETRY_BACKOFF
    return backoff[min(retries_so_far, len(backoff) - 1)]


@shared_task(bind=True, name=services.SEND_TASK, max_retries=None)
def deliveries_send_task(self, delivery_ids: list[int]) -> dict:
    """Send a batch of deliveries. Safe to run any number of times, by any number of workers at
    once: the service claims the rows first. What failed transiently is retried, without the
    rest of the batch, after settings.REMINDERS_RETRY_BACKOFF (chosen by the attempts made, and
    every wait far below the broker's visibility timeout); the service caps the attempts. What
    the service had no time left for goes back to the queue at once."""
    outcome = services.deliveries_send(delivery_ids=delivery_ids)
    if outcome.released:
        services.enqueue_deliveries(outcome.released)
    if outcome.retry:
        raise self.retry(args=[outcome.retry],
                         countdown=_backoff(outcome.retry_attempts - 1))
    return {"sent": len(outcome.sent), "failed": len(outcome.failed),
            "skipped": len(outcome.skipped)}
