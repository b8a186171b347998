"""Celery tasks of the leads app: thin wrappers that load rows by id and call a service.

The import's dry run and commit are defined beside the services that enqueue them
(leads/imports/tasks.py explains why) and re-exported here, the module Celery discovers.
"""

from celery import shared_task

from .imports import import_jobs_sweep
from .imports.tasks import import_commit_task, import_validate_task

__all__ = ["import_commit_task", "import_jobs_sweep_task", "import_validate_task"]


@shared_task(name="leads.import_jobs_sweep_task")
def import_jobs_sweep_task() -> int:
    """Beat's sweep of import jobs whose worker died (leads.imports.jobs.import_jobs_sweep);
    safe to run twice: each job is claimed with a conditional UPDATE."""
    return import_jobs_sweep()
