from celery import shared_task
from django.conf import settings

from . import services


@shared_task(name="notifications.reminders_scan_task")
def reminders_scan_task() -> int:
    return services.reminders_scan()


@shared_task(name="notifications.deliveries_sweep_task")
def deliveries_sweep_task() -> int:
    return services.deliveries_sweep()


@shared_task(bind=True, name="notifications.delivery_send_task", max_retries=None)
def delivery_send_task(self, delivery_id: int) -> str:
    """Send one delivery. Safe to run any number of times: the service claims the row first.
    Transient failures retry after settings.REMINDERS_RETRY_BACKOFF (bounded, and every wait
    far below the broker's visibility timeout); the service caps the attempts."""
    outcome = services.delivery_send(delivery_id=delivery_id)
    backoff = settings.REMINDERS_RETRY_BACKOFF
    if outcome == "retry":
        raise self.retry(countdown=backoff[min(self.request.retries, len(backoff) - 1)])
    return outcome
