"""The steps of a job, run in the request for a small file or by a Celery task for a large
one (leads/imports/tasks.py): the dry run, the commit, and the sweep of jobs whose worker died.

Every step claims the job with a conditional UPDATE on its status, so a task delivered twice,
a double click or a sweep racing a late worker changes the job once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.figures import figures_changed

from ..models import ImportJob
from . import checking, kept, progress, writing
from .columns import ERROR
from .progress import Progress

logger = logging.getLogger(__name__)

# A job checking or importing whose progress has not moved for this long has lost its worker
# (killed, out of memory, redeployed): the sweep marks it failed. Progress is published every
# 200 rows, which even a project import (6 ms a row) passes in seconds; the longest silent
# step, calamine reading 100,000 rows, takes some 10 s. Setting: IMPORT_STALE_SECONDS.
IMPORT_STALE_SECONDS = 15 * 60
# Jobs looked at per sweep: stuck jobs are few; a bound keeps one run short whatever happens.
SWEEP_BATCH = 500


def import_stale_seconds() -> int:
    return int(getattr(settings, "IMPORT_STALE_SECONDS", IMPORT_STALE_SECONDS))


def import_validate(*, job: ImportJob) -> list[dict]:
    """The dry run: check every row, write nothing but the job's status and problems.

    Claims the job with a conditional UPDATE (PENDING or VALIDATING → VALIDATING): a task
    delivered twice checks the file twice, harmlessly, and a job already checked, committing,
    done or swept as failed is left alone. Returns the blocking errors.
    """
    Status = ImportJob.Status
    claimed = ImportJob.objects.filter(
        pk=job.pk, status__in=[Status.PENDING, Status.VALIDATING]
    ).update(status=Status.VALIDATING, processed_rows=0)
    if not claimed:
        job.refresh_from_db()
        return [p for p in job.errors if p.get("level", ERROR) == ERROR]
    progress.publish(job.pk, Status.VALIDATING, 0, 0)
    try:
        checked = checking.check(job, progress=Progress(job, Status.VALIDATING, 0))
    except Exception:
        logger.exception("import %s: dry run failed", job.pk)
        fail(job, _("The file could not be checked because of an unexpected error; nothing "
                    "was imported."))
        return job.errors
    errors = checked.errors
    total = len(checked.rows)
    if not errors:
        kept.keep(job, checked)  # before VALIDATED: a commit may start at once
    ImportJob.objects.filter(pk=job.pk, status=Status.VALIDATING).update(
        status=Status.INVALID if errors else Status.VALIDATED,
        errors=checked.problems, total_rows=total, processed_rows=total,
    )
    progress.forget(job.pk)
    job.refresh_from_db()
    return errors


def import_commit(*, job: ImportJob) -> ImportJob:
    """Write a checked job, all rows or none.

    1. Claim: a conditional UPDATE VALIDATED → COMMITTING, committed on its own, so the page
       shows "importing" at once and a second call (double click, redelivered task) finds
       nothing to claim and returns.
    2. Check again what may have changed since the dry run: the rows the dry run kept
       (kept.py) are looked up again in the database (duplicates, references, owners, stage
       gates) without reading the file; without them, or if the upload changed, the file is
       read and checked again in full. Any error: status INVALID with the new problems,
       nothing written.
    3. Write every row in one transaction (writing.py). The first refusal (a service rule, a
       constraint, a database error) rolls back every row already written in this
       transaction, and the job is marked FAILED with the row and column that failed.
    """
    Status = ImportJob.Status
    claimed = ImportJob.objects.filter(pk=job.pk, status=Status.VALIDATED).update(
        status=Status.COMMITTING, processed_rows=0
    )
    job.refresh_from_db()
    if not claimed:
        return job
    steps = Progress(job, Status.COMMITTING, job.total_rows)
    steps.publish()
    try:
        rows = kept.load(job)
        checked = kept.recheck(job, rows) if rows is not None else checking.check(job)
        del rows  # the rows are in `checked` now; the decoded JSON need not stay in memory
        if checked.errors:
            ImportJob.objects.filter(pk=job.pk).update(
                status=Status.INVALID, errors=checked.problems, processed_rows=0
            )
            kept.forget(job)
            progress.forget(job.pk)
            job.refresh_from_db()
            return job
        steps.total = len(checked.rows)
        with transaction.atomic():
            counts = writing.write(job, checked, steps)
            # The bulk writes send no post_save, which is what invalidates the dashboards'
            # cached figures; this does it once, when the transaction commits.
            figures_changed()
    except writing.RowFailure as failure:
        _fail(job, [failure.problem])
        return job
    except Exception:
        logger.exception("import %s: commit failed", job.pk)
        fail(job, _("The import stopped because of an unexpected error; nothing was "
                    "imported."))
        return job
    created, updated, skipped = counts
    # Unconditional: if a sweep took this job for dead meanwhile, the rows are written all
    # the same, and the job says so.
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.DONE, created_count=created, updated_count=updated, skipped_count=skipped,
        processed_rows=len(checked.rows), total_rows=len(checked.rows),
        finished_at=timezone.now(), errors=checked.problems,
    )
    kept.forget(job)
    progress.forget(job.pk)
    job.refresh_from_db()
    return job


def fail(job: ImportJob, message: str) -> None:
    """Mark the job FAILED with one problem that concerns the whole file."""
    _fail(job, [{"row": None, "column": "", "level": ERROR, "message": message}])


def _fail(job: ImportJob, problems: list[dict]) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, errors=problems, finished_at=timezone.now()
    )
    kept.forget(job)
    progress.forget(job.pk)
    job.refresh_from_db()


def import_jobs_sweep(*, now: datetime | None = None) -> int:
    """Mark FAILED the jobs whose worker died: checking or importing, their progress not
    moved for import_stale_seconds(). A worker killed mid-step (out of memory, a deploy, the
    file that killed it before the limits in reading.py) leaves its job in that status, and
    the page would poll it forever. An import whose worker died wrote nothing: its
    transaction died with it.

    Last moved: the moment of the job's last published progress, or, without one, its
    creation. Each job is claimed with a conditional UPDATE on the status it was seen in, so
    a job that finished meanwhile is left alone. (A commit asked for and never picked up
    stays VALIDATED: the page offers the button again when its queued mark expires, and the
    claim keeps a late message from committing twice.)
    Returns the number of jobs marked failed. Run by beat (leads.import_jobs_sweep_task).
    """
    Status = ImportJob.Status
    now = now or timezone.now()
    timeout = timedelta(seconds=import_stale_seconds())
    messages = {
        Status.VALIDATING: _("The check of this file stopped unexpectedly and nothing was "
                             "imported. Upload the file again."),
        Status.COMMITTING: _("The import of this file stopped unexpectedly and nothing was "
                             "imported. Upload the file again."),
    }
    candidates = (ImportJob.objects
                  .filter(status__in=list(messages), created_at__lt=now - timeout)
                  .order_by("pk").only("pk", "status", "created_at", "file")[:SWEEP_BATCH])
    marked = 0
    for job in candidates:
        entry = progress.read(job.pk)
        moved = progress.last_moved(entry) or job.created_at
        if now - moved < timeout:
            continue
        problem = {"row": None, "column": "", "level": ERROR, "message": messages[job.status]}
        if ImportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=Status.FAILED, errors=[problem], finished_at=now
        ):
            logger.warning("import %s: %s for %s, marked failed", job.pk, job.status,
                           now - moved)
            kept.forget(job)
            progress.forget(job.pk)
            marked += 1
    return marked
