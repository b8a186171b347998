from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task(name="crm.core.clear_expired_sessions_task")
def clear_expired_sessions_task() -> int:
    """Delete expired sessions (the database session store never does it by itself).
    Idempotent: a second run finds nothing to delete."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
