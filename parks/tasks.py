from celery import shared_task

from . import services


@shared_task(name="parks.reservations_expire_task")
def reservations_expire_task() -> int:
    """Daily: close reservations whose hold ran out (idempotent: see the service)."""
    return services.reservations_expire()
