"""Work left for a Celery worker, named by its task and sent once the transaction commits.

A service names the work it leaves behind ("notifications.deliveries_send_task"); the app's
tasks.py defines that task as a thin wrapper that calls back into the service. Naming the task
instead of importing it keeps each services module and its tasks module from importing each
other (ARCHITECTURE.md: tasks are thin, services hold the logic). Sending after the commit
(ARCHITECTURE.md: "enqueue with transaction.on_commit") means a worker never looks for a row
that is not there yet, and a rolled-back write leaves no work behind.
"""

import logging
from functools import partial

from django.db import transaction

from crm.celery import app

logger = logging.getLogger(__name__)


def enqueue(task: str, *args, **kwargs) -> None:
    """Send the task now. Raises if the broker is unreachable (callers that can live without
    it use enqueue_on_commit, which logs instead). Under CELERY_TASK_ALWAYS_EAGER the task runs
    here, as .delay() would."""
    if app.conf.task_always_eager:
        app.loader.import_default_modules()  # the worker's autodiscovery, for the registry
        app.tasks[task].apply(args=args, kwargs=kwargs, throw=True)
        return
    app.send_task(task, args=args, kwargs=kwargs)


def _send_quietly(task: str, args, kwargs) -> None:
    try:
        enqueue(task, *args, **kwargs)
    except Exception:  # noqa: BLE001 (kombu raises several kinds when the broker is away)
        logger.warning("broker unavailable: %s%r not sent; the periodic sweep catches up",
                       task, args)


def enqueue_on_commit(task: str, *args, **kwargs) -> None:
    """Send the task once the current transaction commits (at once outside one). A broker
    outage is logged, not raised: the write that succeeded stands, and the work is found again
    by the periodic job that sweeps for it (every task sent this way must have one)."""
    transaction.on_commit(partial(_send_quietly, task, args, kwargs), robust=True)
