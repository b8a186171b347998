"""Spreadsheet import of companies and projects (.xlsx and .csv, Chinese or English headers).

The story, in three steps:

1. Upload (`import_job_create`, services.py): the file is stored on an ImportJob and held to
   the limits its zip directory shows (reading.precheck). A small file is checked inside the
   request; a file above `import_async_threshold_bytes()` is checked by a Celery task.
2. Dry run (`import_validate`, jobs.py): the file is read within limits no file can push past
   (reading.py) and every row is checked without writing anything (checking.py): required
   values, USCC, numbers (Decimal), dates, choices, reference data (industry, chain node,
   stage, owner), duplicates inside the file and against the database, stage gates, with the
   rules the rest of the application uses. A clean dry run keeps its checked rows next to the
   upload (kept.py).
3. Commit (`import_commit`, jobs.py): the job is claimed with a conditional UPDATE
   (VALIDATED → COMMITTING), so a double click or a redelivered task commits once. The kept
   rows are checked again against the database only (or, without them, the whole file read
   and checked again), then every row is written in ONE transaction (writing.py): projects
   through the same services as the forms, companies in bulk (crm.core.bulk). Any failure
   rolls back every row and marks the job FAILED with the row that failed.

Progress is published to the cache (progress.py); beat's sweep (`import_jobs_sweep`) marks
FAILED the jobs whose worker died. The modules, from the bottom: columns, parsing, reading,
checking, kept, progress, writing, jobs, tasks, services, selectors; none imports one above it.
This module re-exports what views, tasks, tests and the bench use.
"""

from .columns import COLUMNS, COLUMNS_BY_KEY, ERROR, NOTICE, CellError, Column, columns_for
from .jobs import import_commit, import_jobs_sweep, import_stale_seconds, import_validate
from .progress import import_progress
from .reading import FileRefused, Limits
from .selectors import import_job_get, import_job_list, import_problems, import_template_sheets
from .services import (
    import_async_threshold_bytes,
    import_async_threshold_rows,
    import_commit_request,
    import_job_create,
    import_runs_async,
)

__all__ = [
    "COLUMNS", "COLUMNS_BY_KEY", "ERROR", "NOTICE", "CellError", "Column", "FileRefused",
    "Limits", "columns_for", "import_async_threshold_bytes", "import_async_threshold_rows",
    "import_commit", "import_commit_request", "import_job_create", "import_job_get",
    "import_job_list", "import_jobs_sweep", "import_problems", "import_progress",
    "import_runs_async", "import_stale_seconds", "import_template_sheets", "import_validate",
]
