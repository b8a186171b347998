"""Fulfilment screens: the list of obligations, the agreement page (clauses, actuals, the
acceptance report, its print view and spreadsheet, the leader's confirmation) and the forms
that keep an agreement.

Views parse input, call one selector or one service, and render. Reading goes through
selectors (Agreement.objects.visible_to: the project's access rule), so an agreement a reader
may not open is a 404 on every door, documents included. Writing goes through services, which
decide who may (the project's team keeps agreements and actuals, a leader confirms): acting
outside one's role is their PermissionDenied, a 403; a refused input (a bad period, a document
that is not what it says) comes back on the form with the service's reason.
"""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.audit.models import AccessRecord
from crm.audit.services import record_reads
from crm.core.charts import bar_list
from crm.core.downloads import file_download
from crm.core.exceptions import BadParameter, ConflictError
from crm.core.exports import about_export, exceeds_export_limit, export_limit, xlsx_response
from crm.core.numbers import format_money
from crm.core.views_helpers import add_service_error, attempt, paginate, parse_pk
from leads import selectors as leads_selectors
from leads.models import Project

from . import exports, selectors, services
from .forms import (
    AcceptanceConfirmForm,
    AcceptanceDateForm,
    ActualForm,
    AgreementForm,
    IncentiveForm,
    ObligationForm,
    RemedyForm,
)
from .models import STATUS_BADGE, Agreement, Status


def _record(request, project, action) -> None:
    """Reads of a confidential project's agreement are recorded, as the project's own are."""
    if project.confidential:
        record_reads(request, [project], action=action)


def _on(request) -> date:
    """?on=YYYY-MM-DD, the acceptance report's day (empty: today); a malformed one is a 400
    that names it."""
    form = AcceptanceDateForm(request.GET)
    if not form.is_valid():
        raise BadParameter("on", " ".join(form.errors["on"]))
    return form.cleaned_data["on"] or timezone.localdate()


def _status(status: str) -> dict:
    return {"status": status, "badge": STATUS_BADGE[status], "label": Status(status).label}


def _report_rows(verdict) -> list[dict]:
    return [{"obligation": obligation, "state": state, "due": due, **_status(state.status),
             "ratio_pct": (state.shortfall_ratio * 100).quantize(Decimal("0.01"))}
            for obligation, state, due in verdict.rows]


def _period_label(actual, agreement) -> str:
    if agreement.reporting == Agreement.Reporting.QUARTER:
        return f"{actual.period_start.year} Q{(actual.period_start.month - 1) // 3 + 1}"
    return str(actual.period_start.year)


def _charts(page) -> dict:
    """Investment and tax per period as bars (crm.core.charts.bar_list, drawn by app.css's
    .bar-list): the timeline's shape at a glance."""
    if not page.actuals:
        return {}
    rows = [SimpleNamespace(label=_period_label(a, page.agreement), investment=a.investment_wan,
                            tax=a.tax_wan) for a in page.actuals]
    return {
        "investment_bars": bar_list(rows, value=lambda r: r.investment,
                                    caption=lambda r: format_money(r.investment)),
        "tax_bars": bar_list(rows, value=lambda r: r.tax, caption=lambda r: format_money(r.tax)),
    }


# --- The list -----------------------------------------------------------------------------------
def obligation_list(request):
    filterset = selectors.obligation_list(user=request.user, filters=request.GET)
    page, querystring = paginate(request, filterset.qs)
    return render(request, "fulfilment/obligation_list.html", {
        "filter": filterset, "page": page, "querystring": querystring,
    })


def obligation_export(request):
    filterset = selectors.obligation_list(user=request.user, filters=request.GET)
    queryset = filterset.qs
    if exceeds_export_limit(queryset):
        messages.error(request, _("An export holds at most %(limit)s rows. Narrow the list with "
                                  "the filters, then export again.")
                       % {"limit": intcomma(export_limit())})
        query = request.GET.urlencode()
        url = reverse("fulfilment:obligation-list")
        return redirect(f"{url}?{query}" if query else url)
    confidential = (queryset.filter(agreement__project__confidential=True).order_by()
                    .values_list("agreement__project_id", flat=True).distinct())
    record_reads(request, [(Project, pk) for pk in confidential],
                 action=AccessRecord.Action.EXPORT)
    return xlsx_response("obligations", exports.obligation_sheets(queryset.iterator(2000)),
                         about_export(request, _("Obligations"), filterset.form))


# --- Agreements ---------------------------------------------------------------------------------
def _render_agreement(request, pk, *, bound: dict | None = None, status: int = 200):
    """The agreement page. The forms shown are those the services would accept from this
    reader; a refused one comes back bound, with its errors, and open."""
    on = _on(request)
    page = selectors.agreement_page(user=request.user, pk=pk, on=on)
    agreement, project = page.agreement, page.agreement.project
    if request.method == "GET":
        _record(request, project, AccessRecord.Action.VIEW)
    bound = bound or {}
    can_keep = services.can_keep_agreements(request.user, project)
    can_confirm = services.can_confirm_acceptance(request.user)
    forms = {}
    if can_keep:
        forms = {
            "obligation_form": bound.get("obligation") or ObligationForm(),
            "incentive_form": bound.get("incentive") or IncentiveForm(
                agreement=agreement, user=request.user),
            "remedy_form": bound.get("remedy") or RemedyForm(agreement=agreement),
            "actual_form": bound.get("actual") or ActualForm(agreement=agreement,
                                                             actuals=page.actuals),
        }
    today = timezone.localdate()
    confirm_form = None
    if can_confirm and on <= today:
        confirm_form = bound.get("confirm") or AcceptanceConfirmForm(initial={"on": on})
    obligations = [{"obligation": o, **_status(o.status)} for o in agreement.obligations.all()]
    return render(request, "fulfilment/agreement_detail.html", {
        "agreement": agreement, "project": project, "page": page, "on": on, "today": today,
        "verdict": page.verdict, "report_rows": _report_rows(page.verdict),
        "obligations": obligations, "can_keep": can_keep, "confirm_form": confirm_form,
        "date_form": AcceptanceDateForm(initial={"on": on}),
        "open_form": next(iter(bound), None), **forms, **_charts(page),
    }, status=status)


def agreement_detail(request, pk):
    return _render_agreement(request, pk)


def _agreement_form_view(request, *, project, agreement: Agreement | None = None):
    if not services.can_keep_agreements(request.user, project):
        raise PermissionDenied
    form = AgreementForm(request.POST or None, request.FILES or None, instance=agreement)
    if request.method == "POST" and form.is_valid():
        try:
            if agreement:
                saved = services.agreement_update(agreement=agreement, by=request.user,
                                                  **form.service_kwargs())
            else:
                saved = services.agreement_create(project=project, by=request.user,
                                                  **form.service_kwargs())
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Agreement “%(title)s” saved.") % {"title": saved.title})
            return redirect("fulfilment:agreement-detail", pk=saved.pk)
    return render(request, "fulfilment/agreement_form.html", {
        "form": form, "agreement": agreement, "project": project,
    }, status=400 if form.errors else 200)


def agreement_create(request):
    pk = parse_pk(request.GET.get("project"))
    if pk is None:
        raise BadParameter("project", _("Open this page from a project: ?project=<id>."))
    project = leads_selectors.project_get(user=request.user, pk=pk)
    return _agreement_form_view(request, project=project)


def agreement_edit(request, pk):
    agreement = selectors.agreement_get(user=request.user, pk=pk)
    return _agreement_form_view(request, project=agreement.project, agreement=agreement)


def agreement_document(request, pk):
    agreement = selectors.agreement_get(user=request.user, pk=pk)
    if agreement.document:
        _record(request, agreement.project, AccessRecord.Action.DOWNLOAD)
    return file_download(agreement.document)


def actual_evidence(request, pk, actual):
    agreement = selectors.agreement_get(user=request.user, pk=pk)
    stored = get_object_or_404(agreement.actuals.all(), pk=actual)
    if stored.evidence:
        _record(request, agreement.project, AccessRecord.Action.DOWNLOAD)
    return file_download(stored.evidence)


def _write(request, pk, key: str, make_form, service, *, success: str, anchor: str):
    """Check the form, call the service on the agreement, and go back to its section; a
    refused input re-renders the page with the form's errors."""
    agreement = selectors.agreement_get(user=request.user, pk=pk)
    form = make_form(agreement)
    if form.is_valid():
        data = form.service_kwargs() if hasattr(form, "service_kwargs") else form.cleaned_data
        try:
            service(agreement=agreement, by=request.user, **data)
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, success)
            return redirect(reverse("fulfilment:agreement-detail", args=[pk]) + f"#{anchor}")
    return _render_agreement(request, pk, bound={key: form}, status=400)


@require_POST
def obligation_add(request, pk):
    return _write(request, pk, "obligation", lambda a: ObligationForm(request.POST),
                  services.obligation_add, success=_("Obligation added."),
                  anchor="obligations")


@require_POST
def incentive_add(request, pk):
    return _write(request, pk, "incentive",
                  lambda a: IncentiveForm(request.POST, agreement=a, user=request.user),
                  services.incentive_add, success=_("Incentive added."), anchor="incentives")


@require_POST
def remedy_add(request, pk):
    return _write(request, pk, "remedy", lambda a: RemedyForm(request.POST, agreement=a),
                  services.remedy_add, success=_("Remedy added."), anchor="remedies")


@require_POST
def actual_add(request, pk):
    return _write(request, pk, "actual",
                  lambda a: ActualForm(request.POST, request.FILES),
                  services.actual_record, success=_("Actuals recorded."), anchor="actuals")


# --- Acceptance ---------------------------------------------------------------------------------
def acceptance_print(request, pk):
    on = _on(request)
    agreement, verdict = selectors.acceptance_report(user=request.user, agreement_id=pk, on=on)
    _record(request, agreement.project, AccessRecord.Action.VIEW)
    return render(request, "fulfilment/acceptance_print.html", {
        "agreement": agreement, "project": agreement.project, "on": on, "verdict": verdict,
        "report_rows": _report_rows(verdict), "printed_at": timezone.localtime(),
    })


def acceptance_export(request, pk):
    on = _on(request)
    agreement, verdict = selectors.acceptance_report(user=request.user, agreement_id=pk, on=on)
    _record(request, agreement.project, AccessRecord.Action.EXPORT)
    return xlsx_response(f"acceptance-{agreement.pk}-{on:%Y%m%d}",
                         exports.acceptance_sheets(agreement, verdict),
                         about_export(request, _("Acceptance report: %(agreement)s")
                                      % {"agreement": agreement.title},
                                      extra=[(_("As of"), on.isoformat())]))


@require_POST
def acceptance_confirm(request, pk):
    """A leader confirms the report for a day, with a note; back to the confirmations."""
    agreement = selectors.agreement_get(user=request.user, pk=pk)
    form = AcceptanceConfirmForm(request.POST)
    back = reverse("fulfilment:agreement-detail", args=[pk])
    if not form.is_valid():
        errors = "; ".join(" ".join(e) for e in form.errors.values())
        messages.error(request, _("Nothing was confirmed: %(errors)s") % {"errors": errors})
        return redirect(back + "#acceptance")
    on = form.cleaned_data["on"]

    def confirmed(acceptance) -> str:
        text = _("Acceptance as of %(day)s confirmed: %(verdict)s.") % {
            "day": on.isoformat(), "verdict": acceptance.get_verdict_display()}
        proposals = acceptance.proposals.count()
        if proposals:
            text += " " + _("%(n)s clawback(s) proposed to the fund reviewers.") % {
                "n": proposals}
        return text

    acceptance = attempt(request, services.acceptance_confirm, success=confirmed,
                         agreement=agreement, on=on, note=form.cleaned_data["note"])
    anchor = "#acceptances" if acceptance else "#acceptance"
    return redirect(f"{back}?on={on.isoformat()}{anchor}")
