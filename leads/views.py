"""Pages for investment staff. Views parse input, call one selector or service, render."""

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.audit.models import AccessRecord
from crm.audit.selectors import access_for
from crm.audit.services import record_reads
from crm.core.downloads import file_download
from crm.core.exceptions import ConflictError
from crm.core.exports import about_export, exceeds_export_limit, export_limit, xlsx_response
from crm.core.panels import panels_for
from crm.core.views_helpers import (
    add_service_error,
    json_error,
    paginate,
    query_int,
    wants_json,
)

from . import exports, permissions, selectors, services
from .forms import (
    CompanyForm,
    ContactForm,
    FollowUpForm,
    MoveForm,
    ProjectForm,
    QualificationForm,
    TeamForm,
)
from .models import Company, Project, Stage


# --- Companies ----------------------------------------------------------------------------------
def company_list(request):
    filterset = selectors.company_list(user=request.user, filters=request.GET)
    page, querystring = paginate(request, filterset.qs)
    return render(request, "leads/company_list.html", {
        "filter": filterset, "page": page, "querystring": querystring,
        "can_create": permissions.can_create_company(request.user),
    })


def _too_many_to_export(request, queryset, list_url: str):
    """A redirect back to the list with the reason, when the filtered list is over the
    export limit; None when the export may go ahead."""
    if not exceeds_export_limit(queryset):
        return None
    messages.error(request, _("An export holds at most %(limit)s rows. Narrow the list with "
                              "the filters, then export again.")
                   % {"limit": intcomma(export_limit())})
    query = request.GET.urlencode()
    return redirect(f"{list_url}?{query}" if query else list_url)


def company_export(request):
    filterset = selectors.company_list(user=request.user, filters=request.GET)
    refused = _too_many_to_export(request, filterset.qs, reverse("leads:company-list"))
    if refused:
        return refused
    return xlsx_response("companies", exports.company_sheets(filterset.qs.iterator(2000)),
                         about_export(request, _("Companies"), filterset.form))


def company_detail(request, pk):
    page = selectors.company_page(user=request.user, pk=pk)
    company = page.company
    can_edit = permissions.can_edit_company(request.user, company)
    return render(request, "leads/company_detail.html", {
        "company": company,
        "projects": page.projects,
        "hidden_count": page.hidden_count,
        "chain_links": page.chain_links,
        "contacts": page.contacts,
        "qualifications": page.qualifications,
        "tags": page.tags,
        "can_edit": can_edit,
        "can_create_project": permissions.can_create_project(request.user),
        "panels": panels_for(request, company),
        "contact_form": ContactForm() if can_edit else None,
        "qualification_form": QualificationForm() if can_edit else None,
    })


def _company_form_view(request, *, company: Company | None):
    allowed = (permissions.can_edit_company(request.user, company) if company
               else permissions.can_create_company(request.user))
    if not allowed:
        raise PermissionDenied
    form = CompanyForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        try:
            if company:
                saved = services.company_update(company=company, by=request.user,
                                                **form.service_kwargs())
            else:
                saved = services.company_create(by=request.user, **form.service_kwargs())
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Company “%(name)s” saved.") % {"name": saved.name})
            return redirect("leads:company-detail", pk=saved.pk)
    return render(request, "leads/company_form.html", {"form": form, "company": company})


def company_create(request):
    return _company_form_view(request, company=None)


def company_edit(request, pk):
    return _company_form_view(request, company=selectors.company_get(user=request.user, pk=pk))


@require_POST
def contact_add(request, pk):
    company = selectors.company_get(user=request.user, pk=pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        services.contact_add(company=company, by=request.user, **form.cleaned_data)
        messages.success(request, _("Contact added."))
    else:
        messages.error(request, _("The contact was not saved: %(errors)s")
                       % {"errors": form.errors.as_text()})
    return redirect("leads:company-detail", pk=company.pk)


@require_POST
def qualification_add(request, pk):
    company = selectors.company_get(user=request.user, pk=pk)
    form = QualificationForm(request.POST)
    if form.is_valid():
        try:
            services.qualification_add(company=company, by=request.user, **form.cleaned_data)
            messages.success(request, _("Qualification added."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, _("The qualification was not saved: %(errors)s")
                       % {"errors": form.errors.as_text()})
    return redirect("leads:company-detail", pk=company.pk)


# --- Projects -----------------------------------------------------------------------------------
def project_list(request):
    filterset = selectors.project_list(user=request.user, filters=request.GET)
    page, querystring = paginate(request, filterset.qs)
    return render(request, "leads/project_list.html", {
        "filter": filterset, "page": page, "querystring": querystring,
        "can_create": permissions.can_create_project(request.user),
    })


def project_export(request):
    filterset = selectors.project_list(user=request.user, filters=request.GET)
    refused = _too_many_to_export(request, filterset.qs, reverse("leads:project-list"))
    if refused:
        return refused
    confidential = filterset.qs.filter(confidential=True).values_list("pk", flat=True)
    record_reads(request, [(Project, pk) for pk in confidential],
                 action=AccessRecord.Action.EXPORT)
    return xlsx_response("projects", exports.project_sheets(filterset.qs.iterator(2000)),
                         about_export(request, _("Projects"), filterset.form))


def _render_project(request, project, *, followup_form=None, team_form=None,
                    status: int = 200):
    """The project page; the forms shown are those the services would accept from this user
    (the predicates of leads/permissions.py hide the rest)."""
    can_edit = permissions.can_edit_project(request.user, project)
    can_change_team = permissions.can_reassign_project(request.user, project)
    if project.confidential and request.method == "GET":
        record_reads(request, [project], action=AccessRecord.Action.VIEW)
    return render(request, "leads/project_detail.html", {
        "project": project,
        "timeline": selectors.project_timeline(project=project),
        "can_edit": can_edit,
        "move_form": MoveForm(initial={"next_step": project.next_step,
                                       "next_step_on": project.next_step_on})
        if can_edit else None,
        "followup_form": (followup_form or FollowUpForm()) if can_edit else None,
        "team_form": (team_form or TeamForm(initial={
            "owner": project.owner, "collaborators": list(project.collaborators.all())}))
        if can_change_team else None,
        "access": access_for(user=request.user, record=project) if project.confidential
        else None,
        "panels": panels_for(request, project),
    }, status=status)


def project_detail(request, pk):
    return _render_project(request, selectors.project_get(user=request.user, pk=pk))


@require_POST
def project_team(request, pk):
    """Hand the project over or change its collaborators; the service decides who may."""
    project = selectors.project_get(user=request.user, pk=pk)
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            change = services.project_reassign(project=project, by=request.user,
                                               **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The project's team is updated.") if change
                             else _("Nothing changed."))
            return redirect(reverse("leads:project-detail", args=[pk]) + "#timeline")
    return _render_project(request, project, team_form=form, status=400)


def project_agreement(request, pk):
    project = selectors.project_get(user=request.user, pk=pk)
    if project.confidential and project.agreement:
        record_reads(request, [project], action=AccessRecord.Action.DOWNLOAD)
    return file_download(project.agreement)


def _project_form_view(request, *, project=None):
    allowed = (permissions.can_edit_project(request.user, project) if project
               else permissions.can_create_project(request.user))
    if not allowed:
        raise PermissionDenied
    initial = {}
    if project is None and request.GET.get("company"):
        initial["company"] = request.GET["company"]
    form = ProjectForm(request.POST or None, request.FILES or None, instance=project,
                       initial=initial, can_change_team=project is None
                       or permissions.can_reassign_project(request.user, project))
    if request.method == "POST" and form.is_valid():
        try:
            if project:
                saved = services.project_update(project=project, by=request.user,
                                                **form.service_kwargs())
            else:
                saved = services.project_create(by=request.user, **form.service_kwargs())
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Project “%(name)s” saved.") % {"name": saved.name})
            return redirect("leads:project-detail", pk=saved.pk)
    return render(request, "leads/project_form.html", {"form": form, "project": project})


def project_create(request):
    return _project_form_view(request)


def project_edit(request, pk):
    return _project_form_view(request, project=selectors.project_get(user=request.user, pk=pk))


@require_POST
def project_move(request, pk):
    """Move a project (detail page form, or a card dropped on the board, which asks for JSON
    and snaps the card back with the reason on a 409)."""
    project = selectors.project_get(user=request.user, pk=pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        if wants_json(request):
            return json_error(message, status=400)
        messages.error(request, message)
        return redirect("leads:project-detail", pk=pk)
    data = form.cleaned_data
    try:
        event = services.project_move_stage(
            project=project, to_stage=data["stage"], by=request.user, note=data["note"],
            lost_reason=data["lost_reason"], next_step=data["next_step"] or None,
            next_step_on=data["next_step_on"],
        )
    except PermissionDenied as error:
        if wants_json(request):
            return json_error(str(error) or _("You cannot move this project."), status=403)
        raise
    except ConflictError as error:
        if wants_json(request):
            return json_error(error.message, status=409)
        messages.error(request, error.message)
        return redirect("leads:project-detail", pk=pk)
    if wants_json(request):
        return JsonResponse({"stage": event.to_stage.code, "project": project.pk})
    messages.success(request, _("Moved to “%(stage)s”.") % {"stage": event.to_stage.label})
    return redirect("leads:project-detail", pk=pk)


@require_POST
def followup_create(request, pk):
    project = selectors.project_get(user=request.user, pk=pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.followup_create(project=project, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Follow-up recorded."))
            return redirect(reverse("leads:project-detail", args=[pk]) + "#timeline")
    return _render_project(request, project, followup_form=form, status=400)


def project_board(request):
    columns = selectors.kanban_columns(user=request.user, filters=request.GET)
    filterset = selectors.project_list(user=request.user, filters=request.GET)
    return render(request, "leads/project_board.html", {
        "columns": columns, "filter": filterset, "move_form": MoveForm(auto_id="move_%s"),
        "querystring": request.GET.urlencode(),
        "per_column": selectors.KANBAN_CARDS_PER_COLUMN,
    })


def project_board_more(request, stage):
    stage = get_object_or_404(Stage, code=stage)
    offset = query_int(request.GET, "offset")
    cards = selectors.kanban_column_page(user=request.user, stage=stage, filters=request.GET,
                                         offset=offset)
    params = request.GET.copy()
    params["offset"] = offset + len(cards)
    return render(request, "leads/_board_cards.html", {
        "cards": cards, "stage": stage,
        "more_query": params.urlencode() if len(cards) == selectors.KANBAN_CARDS_PER_COLUMN
        else None,
    })


