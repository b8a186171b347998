from celery import shared_task

from . import services


@shared_task(name="fulfilment.obligations_refresh_task")
def obligations_refresh_task() -> int:
    """Daily: judge every obligation again, since dates move on (a deadline passes, a grace
    period ends). Idempotent: it stores what the rules say today. Returns the newly breached."""
    return len(services.obligations_refresh())
