"""Pages of the spreadsheet import: upload, the job with its dry-run result and progress, the
commit button and the templates. The work is in leads.imports; these views parse, call, render.

Only users who may import (leads.permissions.can_import) get in; a job is shown to its
uploader only (anyone else gets a 404, not a hint that it exists).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.core.exceptions import ConflictError
from crm.core.exports import xlsx_response
from crm.core.uploads import validate_upload

from . import imports
from .models import ImportJob
from .permissions import can_create_project, can_import

IMPORT_EXTENSIONS = {"xlsx", "csv"}

# Badge colour per job status (crm/static/crm/css/app.css, section 10).
STATUS_BADGES = {
    ImportJob.Status.PENDING: "badge-grey",
    ImportJob.Status.VALIDATING: "badge-blue",
    ImportJob.Status.VALIDATED: "badge-blue",
    ImportJob.Status.INVALID: "badge-red",
    ImportJob.Status.COMMITTING: "badge-amber",
    ImportJob.Status.DONE: "badge-green",
    ImportJob.Status.FAILED: "badge-red",
}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("The file lists"), choices=ImportJob.Kind.choices,
        initial=ImportJob.Kind.COMPANIES, widget=forms.RadioSelect,
    )
    on_duplicate = forms.ChoiceField(
        label=gettext_lazy("When a company is already in the system"),
        choices=ImportJob.OnDuplicate.choices, initial=ImportJob.OnDuplicate.SKIP,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("Matched by USCC, else by name. Updating writes only the cells "
                               "filled in; empty cells keep what is stored."),
    )
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy(".xlsx or .csv (UTF-8 or GBK), headers in the first row, in "
                               "Chinese or English. Only the first sheet is read."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_file(self):
        upload = self.cleaned_data["file"]
        validate_upload(upload, allowed=IMPORT_EXTENSIONS)
        return upload

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if kind == ImportJob.Kind.PROJECTS and not can_create_project(self.user):
            raise forms.ValidationError(_("Only investment staff can import projects."))
        return kind


def _require_import(request: HttpRequest) -> None:
    if not can_import(request.user):
        raise PermissionDenied


def _job_or_404(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return imports.import_job_get(user=request.user, pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404


@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        job = imports.import_job_create(
            by=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"],
            on_duplicate=form.cleaned_data["on_duplicate"], language=get_language(),
        )
        return redirect("leads:import-detail", pk=job.pk)
    return render(request, "leads/import_form.html", {
        "form": form,
        "company_columns": imports.columns_for(ImportJob.Kind.COMPANIES),
        "project_columns": [
            c for c in imports.columns_for(ImportJob.Kind.PROJECTS) if c.projects_only
        ],
        "jobs": [(job, STATUS_BADGES.get(job.status, "badge-grey"))
                 for job in imports.import_job_list(user=request.user)],
    })


@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_import(request)
    job = _job_or_404(request, pk)
    errors, notices = imports.import_problems(job=job)
    progress = imports.import_progress(job=job)
    return render(request, "leads/import_detail.html", {
        "job": job,
        "progress": progress,
        "errors": errors,
        "notices": notices,
        "status_badge": STATUS_BADGES.get(progress["status"], "badge-grey"),
        "can_commit": job.status == ImportJob.Status.VALIDATED and not progress["active"],
    })


@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone, polled by htmx every second while the job works. When the job
    finishes, htmx is told to reload the page, which then shows the result."""
    _require_import(request)
    job = _job_or_404(request, pk)
    progress = imports.import_progress(job=job)
    response = render(request, "leads/_import_progress.html", {"job": job, "progress": progress})
    if getattr(request, "htmx", False) and not progress["active"]:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_import(request)
    job = _job_or_404(request, pk)
    try:
        job = imports.import_commit_request(job=job, language=get_language())
    except ConflictError as error:
        messages.error(request, error.message)
        return redirect("leads:import-detail", pk=job.pk)
    if job.status == ImportJob.Status.DONE:
        messages.success(request, _(
            "Imported: %(created)d created, %(updated)d updated, %(skipped)d skipped."
        ) % {"created": job.created_count, "updated": job.updated_count,
             "skipped": job.skipped_count})
    elif job.status in (ImportJob.Status.FAILED, ImportJob.Status.INVALID):
        messages.error(request, _("Nothing was imported; see the problems below."))
    else:
        messages.info(request, _("The import has started; this page follows its progress."))
    return redirect("leads:import-detail", pk=job.pk)


@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    _require_import(request)
    if kind not in ImportJob.Kind.values:
        raise Http404
    return xlsx_response(f"import-{kind}", imports.import_template_sheets(kind=kind))
