"""Reads of the import: a user's jobs (each its uploader's alone), their problems for display,
and the sheets of the downloadable template."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..models import ImportJob
from .columns import ERROR, NOTICE, PROJECTS, columns_for


def import_job_get(*, user, pk: int) -> ImportJob:
    """A job is its uploader's alone: anybody else gets DoesNotExist (a 404)."""
    return ImportJob.objects.select_related("uploaded_by").get(pk=pk, uploaded_by=user)


def import_job_list(*, user, limit: int = 10) -> list[ImportJob]:
    return list(ImportJob.objects.filter(uploaded_by=user).order_by("-created_at")[:limit])


def import_problems(*, job: ImportJob) -> tuple[list[dict], list[dict]]:
    """(errors, notices) of a job, for display."""
    errors = [p for p in job.errors if p.get("level", ERROR) == ERROR]
    notices = [p for p in job.errors if p.get("level") == NOTICE]
    return errors, notices


def import_template_sheets(*, kind: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """The sheets of the downloadable template: the empty list with the Chinese headers
    (required ones marked *) first, as the importer reads the first sheet, then the guide."""
    columns = columns_for(kind)
    headers = [f"{c.header}*" if c.required else c.header for c in columns]
    guide = [
        [c.header, _("yes") if c.required else "", ", ".join(c.aliases), str(c.description)]
        for c in columns
    ]
    title = _("Projects") if kind == PROJECTS else _("Companies")
    return [
        (title, headers, []),
        (_("How to fill in"), [_("Column"), _("Required"), _("Also accepted"), _("Content")],
         guide),
    ]
