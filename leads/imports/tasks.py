"""The Celery tasks of an import: thin wrappers that load the job by id and run its step.

They live in the import package, beside the services that enqueue them, so that the services
can import them at module level without a cycle: services → tasks → jobs → the lower modules,
and nothing below imports back up. leads/tasks.py, the app's task module that Celery
discovers, re-exports them (the task names are explicit, so where they are defined does not
matter to a message in a queue).

Both are safe to run twice: the steps claim the job with a conditional UPDATE on its status
(see jobs.py), so a redelivered message finds nothing to do. They are not retried: a failure
is recorded on the job (FAILED, with the row), and the user decides.
"""

from celery import shared_task
from django.conf import settings
from django.utils import translation

from ..models import ImportJob
from .jobs import import_commit, import_validate


def _job(job_id: int) -> ImportJob | None:
    # A job deleted while its message waited in the queue: nothing to do.
    return ImportJob.objects.select_related("uploaded_by").filter(pk=job_id).first()


@shared_task(name="leads.import_validate_task")
def import_validate_task(job_id: int, language: str | None = None) -> None:
    """The dry run of a large file. `language` is the uploader's, so the problems are written
    in the language of the page that asked."""
    job = _job(job_id)
    if job is None:
        return
    with translation.override(language or settings.LANGUAGE_CODE):
        import_validate(job=job)


@shared_task(name="leads.import_commit_task")
def import_commit_task(job_id: int, language: str | None = None) -> None:
    """The commit of a large file; does nothing unless the job is still VALIDATED (a second
    delivery finds it COMMITTING or DONE)."""
    job = _job(job_id)
    if job is None or job.status != ImportJob.Status.VALIDATED:
        return
    with translation.override(language or settings.LANGUAGE_CODE):
        import_commit(job=job)
