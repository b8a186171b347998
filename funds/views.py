"""Fund screens: programmes and their budget figures, applications and their workflow.

Views parse input, call one selector or one service, and render. A service's refusal
(ValidationError, ConflictError) becomes a message naming the reason and the user lands back
on the application; a refusal of who acts (PermissionDenied: a role, a conflict of interest,
a duty already held) answers 403 with the application page and the service's reason as its
message. Which buttons and forms appear is decided by the same permissions and workflow
table the services check, so the page never offers what the service would refuse.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.audit.models import AccessRecord
from crm.audit.selectors import access_for
from crm.audit.services import record_reads
from crm.core.downloads import file_download
from crm.core.exceptions import ConflictError
from crm.core.numbers import format_money
from crm.core.views_helpers import add_service_error, attempt, error_text, paginate

from . import permissions, rules, selectors, services
from .forms import (
    ApplicationForm,
    BreachOverrideForm,
    ClawbackDismissForm,
    ClawbackForm,
    DocumentForm,
    ReviewForm,
    TranchePayForm,
    TranchePlanForm,
    TransitionForm,
)
from .fulfilment import selectors as fulfilment_selectors
from .fulfilment import services as fulfilment_services
from .fulfilment.models import ClawbackProposal
from .models import Disbursement, State


# --- Programmes ---------------------------------------------------------------------------------
def programme_list(request):
    page, querystring = paginate(request, selectors.programme_list(user=request.user))
    return render(request, "funds/programme_list.html", {
        "rows": [(programme, selectors.programme_figures(programme)) for programme in page],
        "page": page, "querystring": querystring,
    })


def programme_detail(request, pk):
    programme = selectors.programme_get(user=request.user, pk=pk)
    applications = selectors.application_list(user=request.user, filters={"programme": pk})
    page, querystring = paginate(request, applications.qs)
    return render(request, "funds/programme_detail.html", {
        "programme": programme,
        "figures": selectors.programme_figures(programme),
        "page": page, "querystring": querystring,
        "can_create": permissions.can_create_application(request.user),
    })


# --- Applications -------------------------------------------------------------------------------
def application_list(request):
    filterset = selectors.application_list(user=request.user, filters=request.GET)
    page, querystring = paginate(request, filterset.qs)
    return render(request, "funds/application_list.html", {
        "filter": filterset, "page": page, "querystring": querystring,
        "can_create": permissions.can_create_application(request.user),
    })


def application_create(request):
    if not permissions.can_create_application(request.user):
        raise PermissionDenied
    # Links from a company, project or programme page pre-fill the form.
    initial = {key: request.GET[key] for key in ("programme", "company", "project")
               if request.GET.get(key)}
    form = ApplicationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create(by=request.user, **form.service_kwargs())
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Application drafted. Upload the documents, then "
                                        "submit it."))
            return redirect("funds:application-detail", pk=application.pk)
    return render(request, "funds/application_form.html", {"form": form})


def _review_steps(application) -> list[tuple[str, str]]:
    """(label, "done" | "current" | "pending") for each of the programme's review steps."""
    index = application.review_step_index
    steps = []
    for position, label in enumerate(application.programme.review_step_labels()):
        if position < index:
            status = "done"
        elif position == index and application.state == State.UNDER_REVIEW:
            status = "current"
        else:
            status = "pending"
        steps.append((label, status))
    return steps


def application_detail(request, pk):
    return _render_application(request, pk)


def _render_application(request, pk, *, refused=None, status: int = 200):
    """The application page; `refused`, a move's form sent and refused, replaces that move's
    empty form (with what was typed and the errors under the fields)."""
    user = request.user
    application = selectors.application_get(user=user, pk=pk)
    if application.is_confidential:
        record_reads(request, [application], action=AccessRecord.Action.VIEW)
    state = application.state
    today = timezone.localdate()

    missing = rules.missing_documents(application)
    can_upload = (application.state_info.editable
                  and permissions.can_upload_documents(user, application))

    reviews = list(application.reviews.select_related("reviewer"))
    step = application.current_review_step
    # One step per reviewer: once they recorded one, the form would only be refused.
    can_review = (state == State.UNDER_REVIEW and step is not None
                  and permissions.can_review_step(user, application))

    manages_money = permissions.can_manage_money(user, application)
    can_pay = manages_money and state in services.TRANCHE_STATES
    disbursements = list(application.disbursements.select_related("milestone", "override__by"))
    unpaid = [d for d in disbursements
              if d.kind == Disbursement.Kind.TRANCHE and d.paid_amount is None]
    # The payment guard's own answer (fulfilment.services.breach_refusal), shown before anyone
    # tries: a leader may let a tranche through, with the reason.
    breach = fulfilment_services.breach_refusal(application, today) if unpaid else None
    can_override = breach is not None and fulfilment_services.can_override_breach(user)
    tranches = [
        (disbursement,
         TranchePayForm(auto_id=f"id_pay{disbursement.pk}_%s", initial={"paid_on": today},
                        planned=disbursement.planned_amount)
         if can_pay and disbursement in unpaid else None)
        for disbursement in disbursements
    ]
    # For a leader, each unpaid tranche held by the breach: its override, or the form for one.
    overrides = [
        (disbursement, None if hasattr(disbursement, "override")
         else BreachOverrideForm(auto_id=f"id_override{disbursement.pk}_%s"))
        for disbursement in unpaid] if can_override else []

    return render(request, "funds/application_detail.html", {
        "application": application,
        "programme": application.programme,
        "paid_total": selectors.application_paid_total(application),
        "documents": application.documents.select_related("uploaded_by"),
        "checklist": [(name, name not in missing)
                      for name in application.programme.required_documents],
        "missing": missing,
        "document_form": DocumentForm(required_documents=application.programme.required_documents,
                                      missing=missing) if can_upload else None,
        "review_steps": _review_steps(application),
        "current_step_label": dict(zip(application.programme.review_steps,
                                       application.programme.review_step_labels(),
                                       strict=True)).get(step),
        "reviews": reviews,
        "review_form": ReviewForm() if can_review else None,
        "transitions": application.transitions.select_related("by"),
        "tranches": tranches,
        "plan_form": TranchePlanForm(with_milestone=application.project_id is not None,
                                     initial={"planned_on": today})
        if can_pay else None,
        "clawback_form": (ClawbackForm() if manages_money and state in services.CLAWBACK_STATES
                          else None),
        "moves": [(move, refused if refused is not None and refused["to"].value() == move.target
                   else TransitionForm.for_move(move, application=application, today=today))
                  for move in selectors.available_moves(user=user, application=application)],
        "access": (access_for(user=user, record=application)
                   if application.is_confidential else None),
        "breach": breach, "overrides": overrides,
        **_clawback_proposals(user, application, manages_money),
    }, status=status)


def _clawback_proposals(user, application, manages_money: bool) -> dict:
    """The clawbacks failed acceptances propose for this application, each with the agreement
    it came from when the reader may open it, and for an independent reviewer the forms to
    record or dismiss the ones still proposed."""
    proposals = list(application.clawback_proposals.select_related(
        "acceptance", "decided_by", "clawback"))
    agreement_ids = {p.acceptance.agreement_id for p in proposals}
    readable = set(fulfilment_selectors.agreement_queryset(user=user)
                   .filter(pk__in=agreement_ids).values_list("pk", flat=True)) \
        if agreement_ids else set()
    return {
        "clawback_proposals": [
            (proposal, proposal.acceptance.agreement_id in readable,
             ClawbackDismissForm(auto_id=f"id_dismiss{proposal.pk}_%s")
             if manages_money and proposal.status == ClawbackProposal.Status.PROPOSED else None)
            for proposal in proposals],
    }


# --- Actions (POST, then back to the application) ----------------------------------------------
def _back(application):
    return redirect("funds:application-detail", pk=application.pk)


def _refuse_form(request, form) -> None:
    errors = "; ".join(f"{form[name].label}: {' '.join(errors_)}" if name in form.fields
                       else " ".join(errors_) for name, errors_ in form.errors.items())
    messages.error(request, _("Nothing was saved: %(errors)s") % {"errors": errors})


def _act(request, application, form, service, /, *, success, **kwargs):
    """The form checked, then the service, then back to the application with the outcome as a
    message. An invalid form saves nothing and says why, field by field; acting outside one's
    role or duty is the service's PermissionDenied: a 403 page with the reason."""
    if not form.is_valid():
        _refuse_form(request, form)
        return _back(application)
    inputs = form.service_kwargs() if hasattr(form, "service_kwargs") else form.cleaned_data
    attempt(request, service, success=success, **kwargs, **inputs)
    return _back(application)


@require_POST
def application_transition(request, pk):
    application = selectors.application_get(user=request.user, pk=pk)

    def success(moved):
        return _("The application is now “%(state)s”.") % {"state": moved.get_state_display()}

    move = next((move for move in selectors.available_moves(user=request.user,
                                                            application=application)
                 if move.target == request.POST.get("to")), None)
    form = (TransitionForm.for_move(move, application=application, data=request.POST)
            if move is not None else None)
    if form is None or not form.visible_fields():
        # A button without inputs, or a move not offered (the service says why not).
        return _act(request, application, TransitionForm(request.POST),
                    services.application_transition, application=application, success=success)
    # A move with inputs (a reason, an amount, the publicity dates): a refusal keeps what was
    # typed and puts each error under its field, instead of a message above an empty form.
    if form.is_valid():
        try:
            moved = services.application_transition(by=request.user, application=application,
                                                    **form.service_kwargs())
        except ConflictError as error:
            messages.error(request, error_text(error))
            return _back(application)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, success(moved))
            return _back(application)
    return _render_application(request, pk, refused=form, status=400)


def document_download(request, pk, document):
    application = selectors.application_get(user=request.user, pk=pk)
    stored = get_object_or_404(application.documents, pk=document)
    if application.is_confidential:
        record_reads(request, [application], action=AccessRecord.Action.DOWNLOAD)
    return file_download(stored.file)


@require_POST
def document_add(request, pk):
    application = selectors.application_get(user=request.user, pk=pk)
    form = DocumentForm(request.POST, request.FILES,
                        required_documents=application.programme.required_documents)
    return _act(request, application, form, services.document_add, application=application,
                success=lambda document: _("“%(name)s” uploaded.") % {"name": document.name})


@require_POST
def review_add(request, pk):
    application = selectors.application_get(user=request.user, pk=pk)
    return _act(request, application, ReviewForm(request.POST), services.review_record,
                application=application,
                success=lambda review: _("Review of “%(step)s” recorded.") % {
                    "step": review.get_step_display()})


@require_POST
def tranche_plan(request, pk):
    application = selectors.application_get(user=request.user, pk=pk)
    form = TranchePlanForm(request.POST, with_milestone=application.project_id is not None)
    return _act(request, application, form, services.disbursement_plan,
                application=application, success=_("Tranche planned."))


@require_POST
def tranche_pay(request, pk, tranche):
    application = selectors.application_get(user=request.user, pk=pk)
    # Only a tranche of this application: a pk from another one is a 404, not a payment.
    disbursement = get_object_or_404(application.disbursements.select_related("milestone"),
                                     pk=tranche, kind=Disbursement.Kind.TRANCHE)
    return _act(request, application, TranchePayForm(request.POST), services.disbursement_pay,
                disbursement=disbursement, success=_("Payment recorded."))


@require_POST
def clawback(request, pk):
    application = selectors.application_get(user=request.user, pk=pk)
    return _act(request, application, ClawbackForm(request.POST), services.clawback_record,
                application=application, success=_("Clawback recorded."))


@require_POST
def tranche_override(request, pk, tranche):
    """A leader lets one unpaid tranche of a project in breach be paid (the reason kept)."""
    application = selectors.application_get(user=request.user, pk=pk)
    disbursement = get_object_or_404(application.disbursements, pk=tranche,
                                     kind=Disbursement.Kind.TRANCHE)
    return _act(request, application, BreachOverrideForm(request.POST),
                fulfilment_services.payment_override_grant, disbursement=disbursement,
                success=_("Override recorded: this tranche may be paid despite the breach."))


def _proposal(application, pk) -> ClawbackProposal:
    return get_object_or_404(application.clawback_proposals, pk=pk)


@require_POST
def clawback_proposal_record(request, pk, proposal):
    application = selectors.application_get(user=request.user, pk=pk)
    attempt(request, fulfilment_services.clawback_proposal_record,
            proposal=_proposal(application, proposal),
            success=lambda p: _("Clawback of %(amount)s recorded.") % {
                "amount": format_money(p.amount_yuan, unit="yuan")})
    return _back(application)


@require_POST
def clawback_proposal_dismiss(request, pk, proposal):
    application = selectors.application_get(user=request.user, pk=pk)
    return _act(request, application, ClawbackDismissForm(request.POST),
                fulfilment_services.clawback_proposal_dismiss,
                proposal=_proposal(application, proposal),
                success=_("Proposed clawback dismissed."))
