"""Pages of the actuals import: upload, the dry run with its problems and the commit button,
the commit, the template. The work is in funds.fulfilment.imports; these views parse, call,
render. A checked file is its uploader's alone: anybody else's token is a 404."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.core.exceptions import ConflictError
from crm.core.exports import xlsx_response
from crm.core.views_helpers import add_service_error, parse_pk

from . import imports


class ActualsImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))
    agreement = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "The statistics office's report (统计局报表) as .xlsx (or .csv), headers in the "
            "first row, at most %(size)s. Only the first sheet is read.") % {
            "size": filesizeformat(imports.max_upload_bytes())}


def _upload_or_404(request: HttpRequest, token: str) -> imports.Upload:
    upload = imports.actuals_upload_get(by=request.user, token=token)
    if upload is None:
        raise Http404
    return upload


@require_http_methods(["GET", "POST"])
def actuals_import(request: HttpRequest) -> HttpResponse:
    imports.require_may_import(request.user)
    initial = {"agreement": parse_pk(request.GET.get("agreement"))}
    form = ActualsImportForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            upload = imports.actuals_upload(by=request.user, upload=form.cleaned_data["file"],
                                            agreement_id=form.cleaned_data["agreement"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return redirect("fulfilment:actuals-import-check", token=upload.token)
    return render(request, "fulfilment/actuals_import.html", {
        "form": form, "columns": imports.COLUMNS, "max_rows": imports.max_rows()})


@require_GET
def actuals_import_check(request: HttpRequest, token: str) -> HttpResponse:
    upload = _upload_or_404(request, token)
    checked = imports.actuals_check(by=request.user, upload=upload)
    return _checked_page(request, checked)


def _checked_page(request: HttpRequest, checked: imports.Checked) -> HttpResponse:
    return render(request, "fulfilment/actuals_import_check.html", {
        "checked": checked, "upload": checked.upload, "errors": checked.errors,
        "notices": checked.notices, "figure_headers": [
            imports.COLUMNS_BY_KEY[name].header for name in imports.FIGURES],
        "can_commit": bool(checked.rows) and not checked.errors})


@require_POST
def actuals_import_commit(request: HttpRequest, token: str) -> HttpResponse:
    upload = _upload_or_404(request, token)
    try:
        committed = imports.actuals_commit(by=request.user, upload=upload)
    except ConflictError as error:
        messages.error(request, error.message)
        return redirect("fulfilment:actuals-import")
    if not committed.done:
        messages.error(request, _("Nothing was imported; see the problems below."))
        return _checked_page(request, committed.checked)
    messages.success(request, _(
        "Imported the actuals of %(periods)d periods for %(agreements)d agreements.") % {
        "periods": len(committed.actuals), "agreements": committed.checked.agreements})
    agreement = imports.return_agreement(user=request.user, upload=upload)
    if agreement is not None:
        return redirect(agreement)
    return redirect("fulfilment:obligation-list")


@require_GET
def actuals_import_template(request: HttpRequest) -> HttpResponse:
    imports.require_may_import(request.user)
    return xlsx_response("actuals-import", imports.template_sheets())
