from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from crm.core.tasks import clear_expired_sessions_task
from tests.conftest import wait_until


@pytest.mark.worker
def test_real_worker_runs_a_task_enqueued_on_commit(celery_worker_process):
    Session.objects.create(
        session_key="expired-session-key-000000000000",
        session_data="x",
        expire_date=timezone.now() - timedelta(days=1),
    )
    Session.objects.create(
        session_key="live-session-key-0000000000000000",
        session_data="x",
        expire_date=timezone.now() + timedelta(days=1),
    )
    with transaction.atomic():
        clear_expired_sessions_task.delay_on_commit()
        # Not sent yet: a worker must never look for rows that are not committed.
    assert wait_until(
        lambda: not Session.objects.filter(session_key__startswith="expired").exists()
    )
    assert Session.objects.filter(session_key__startswith="live").exists()
