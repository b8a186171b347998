"""The import's entry points from a page: upload a file (import_job_create) and ask for its
commit (import_commit_request). Each runs its step here for a small file, or enqueues its
task for a large one, after the request's transaction commits (delay_on_commit).

The tasks are imported at module level: they live in leads/imports/tasks.py and import only
the steps below them (jobs.py), never this module, so there is no cycle to hide.
"""

from __future__ import annotations

import os
import uuid

from django.conf import settings
from django.utils.translation import gettext as _

from crm.core.exceptions import ConflictError
from crm.core.permissions import require

from ..models import ImportJob
from ..permissions import can_create_project, can_import
from . import progress, reading
from .columns import ERROR, PROJECTS
from .jobs import import_commit, import_validate
from .tasks import import_commit_task, import_validate_task

# Files up to this size are checked and committed inside the web request: a few thousand rows
# take a second or two. Larger files go to Celery so no request waits on them. Overridable
# with the LEADS_IMPORT_ASYNC_THRESHOLD_BYTES setting (read at call time, so tests and the
# worker process agree on it through the environment-driven settings).
IMPORT_ASYNC_THRESHOLD_BYTES = 200 * 1024
# Checking is fast (3,000 rows in 0.5 s) but project rows are written one by one through the
# services at about 6 ms a row, and a compressed .xlsx of 200 KB holds some 6,000 rows. So a
# commit of more rows than this (about 3 s) goes to Celery whatever the file's size. Companies
# are written in bulk (tens of thousands a second) but share the rule, which users know.
# Setting: LEADS_IMPORT_ASYNC_THRESHOLD_ROWS.
IMPORT_ASYNC_THRESHOLD_ROWS = 500


def import_async_threshold_bytes() -> int:
    return int(getattr(settings, "LEADS_IMPORT_ASYNC_THRESHOLD_BYTES",
                       IMPORT_ASYNC_THRESHOLD_BYTES))


def import_async_threshold_rows() -> int:
    return int(getattr(settings, "LEADS_IMPORT_ASYNC_THRESHOLD_ROWS",
                       IMPORT_ASYNC_THRESHOLD_ROWS))


def import_runs_async(*, job: ImportJob, rows: int | None = None) -> bool:
    """Whether a step runs in Celery rather than in the request: any step of a file above the
    bytes threshold, and a commit of more rows than the rows threshold."""
    if job.file.size > import_async_threshold_bytes():
        return True
    return rows is not None and rows > import_async_threshold_rows()


def _require_may_import(user, kind: str) -> None:
    require(can_import(user), _("Only investment staff and administrators can import."))
    if kind == PROJECTS:
        # Administrators may import companies; projects are made by those who may create
        # them by hand.
        require(can_create_project(user), _("Only investment staff can import projects."))


def import_job_create(*, by, kind: str, upload, on_duplicate: str,
                      language: str | None = None) -> ImportJob:
    """Store an uploaded file (already checked by crm.core.uploads.validate_upload) as a new
    job and start its dry run: inside this call for a small file, in a Celery task enqueued
    after commit for a large one.

    A file beyond the limits its zip directory and the head of its sheet already show
    (reading.precheck, milliseconds) is refused here, whatever its size: the job ends
    INVALID with the limit named, and no worker ever opens it.

    Deliberately not one transaction: the job row is saved first, so a dry run that crashes
    still leaves a job the user can see, marked FAILED.
    """
    _require_may_import(by, kind)
    extension = os.path.splitext(upload.name)[1].lower()
    job = ImportJob(kind=kind, on_duplicate=on_duplicate, uploaded_by=by,
                    original_name=os.path.basename(upload.name)[:200])
    # A generated file name: the original may be long, Chinese or hostile; it is kept in
    # original_name for display.
    job.file.save(f"{kind}-{uuid.uuid4().hex}{extension}", upload, save=False)
    job.full_clean()
    job.save()
    try:
        reading.precheck(job)
    except reading.FileRefused as refusal:
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PENDING).update(
            status=ImportJob.Status.INVALID,
            errors=[{"row": refusal.row, "column": refusal.column, "level": ERROR,
                     "message": refusal.message}],
        )
        job.refresh_from_db()
        return job
    if import_runs_async(job=job):
        import_validate_task.delay_on_commit(job.pk, language=language)
    else:
        import_validate(job=job)
    return job


def import_commit_request(*, job: ImportJob, language: str | None = None) -> ImportJob:
    """The user's "import" click: commit a checked job here (small file) or in a Celery task
    (large file). A second click while the task waits in the queue is refused; a second task
    would anyway find the job claimed and do nothing. The uploader must still be allowed to
    import what the file holds (a role may have been taken away since the upload)."""
    _require_may_import(job.uploaded_by, job.kind)
    queued = progress.import_progress(job=job)["status"] == ImportJob.Status.COMMITTING
    if job.status != ImportJob.Status.VALIDATED or queued:
        raise ConflictError(
            _("This import cannot be started: it is “%(status)s”.")
            % {"status": ImportJob.Status(ImportJob.Status.COMMITTING if queued
                                          else job.status).label},
            code="import_state",
        )
    if import_runs_async(job=job, rows=job.total_rows):
        progress.publish(job.pk, ImportJob.Status.COMMITTING, 0, job.total_rows)
        import_commit_task.delay_on_commit(job.pk, language=language)
        return job
    return import_commit(job=job)
