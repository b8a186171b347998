"""Progress of a job, for the page's progress bar and for the sweep of jobs whose worker died.

The commit's own writes to the job row stay invisible to other connections until its
transaction commits, so progress is published to the Django cache (Redis in production, a
file cache under `make run`, one cache for web and worker alike): `import_progress` reads it
first, then the row. Each entry carries the moment it was published, which is when the job
last moved (`last_moved`, read by jobs.import_jobs_sweep).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from django.core.cache import cache

from ..models import ImportJob

logger = logging.getLogger(__name__)

# Progress is published every this many rows: often enough for a 1-second poll, rarely enough
# that the cache round trip does not show in the import time.
PROGRESS_EVERY = 200
# Long enough for the largest import; short enough that a crashed worker's stale entry expires.
PROGRESS_TTL_SECONDS = 6 * 60 * 60

ACTIVE_STATUSES = {ImportJob.Status.PENDING, ImportJob.Status.VALIDATING,
                   ImportJob.Status.COMMITTING}


def _key(job_pk: int) -> str:
    return f"leads:import:{job_pk}:progress"


def publish(job_pk: int, status: str, processed: int, total: int) -> None:
    try:
        cache.set(_key(job_pk), {"status": status, "processed": processed, "total": total,
                                 "at": time.time()}, PROGRESS_TTL_SECONDS)
    except Exception:  # a progress bar is not worth failing an import for
        logger.warning("import %s: cannot publish progress", job_pk, exc_info=True)


def forget(job_pk: int) -> None:
    try:
        cache.delete(_key(job_pk))
    except Exception:
        logger.warning("import %s: cannot clear progress", job_pk, exc_info=True)


def read(job_pk: int) -> dict | None:
    try:
        return cache.get(_key(job_pk))
    except Exception:
        logger.warning("import %s: cannot read progress", job_pk, exc_info=True)
        return None


def last_moved(entry: dict | None) -> datetime | None:
    """When the job last published progress, from its entry (None: no entry, or one written
    before entries carried the moment)."""
    if not entry or "at" not in entry:
        return None
    return datetime.fromtimestamp(entry["at"], tz=UTC)


class Progress:
    """The rows a step has done, published every PROGRESS_EVERY rows."""

    def __init__(self, job: ImportJob, status: str, total: int):
        self.job_pk = job.pk
        self.status = status
        self.total = total
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0:
            self.publish()

    def advance(self, rows: int) -> None:
        self.done += rows
        self.publish()

    def publish(self) -> None:
        publish(self.job_pk, self.status, self.done, max(self.total, self.done))


def import_progress(*, job: ImportJob) -> dict:
    """Where the job stands: the cache while a task is working (its transaction hides the row's
    updates), the row once it is finished. `active` says whether to keep polling."""
    status, processed, total = job.status, job.processed_rows, job.total_rows
    cached = None
    if job.status in ACTIVE_STATUSES or job.status == ImportJob.Status.VALIDATED:
        cached = read(job.pk)
    # A checked job shows the cache only once its commit is queued: the task has not claimed
    # the row yet, but the user has asked and must not be offered the button again.
    if cached and (job.status != ImportJob.Status.VALIDATED
                   or cached["status"] == ImportJob.Status.COMMITTING):
        status, processed, total = cached["status"], cached["processed"], cached["total"]
    percent = min(100, round(processed * 100 / total)) if total else 0
    if status in {ImportJob.Status.DONE, ImportJob.Status.VALIDATED, ImportJob.Status.INVALID}:
        percent = 100
    return {
        "status": status,
        "status_label": ImportJob.Status(status).label,
        "processed": processed,
        "total": total,
        "percent": percent,
        "active": status in ACTIVE_STATUSES,
    }
