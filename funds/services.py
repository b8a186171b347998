"""Writes for fund applications. Every state change goes through _move(), which writes the
Transition row; the workflow table (workflow.py) says which moves exist and who makes them.

Money invariants: approved ≤ requested, ≤ the programme's per-company cap, and the sum
approved in a programme ≤ its budget. Approval locks the programme row (SELECT ... FOR
UPDATE) before summing, so two reviewers approving at the same moment queue up and the second
sees the first's amount: the budget can never be overspent. Paid ≤ approved is checked under a
lock on the application row.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.exceptions import ConflictError
from crm.core.uploads import validate_upload

from . import permissions, workflow
from .models import (
    COMMITTED_STATES,
    Application,
    ApplicationDocument,
    Disbursement,
    Programme,
    Review,
    State,
    Transition,
)

DOCUMENT_TYPES = {"pdf", "jpg", "jpeg", "png", "docx", "xlsx"}
EDITABLE_STATES = (State.DRAFT, State.NEEDS_SUPPLEMENT)
TRANCHE_STATES = (State.APPROVED, State.DISBURSING)  # tranches are planned and paid
CLAWBACK_STATES = (State.DISBURSING, State.DISBURSED, State.CLOSED)  # money was paid


def _move(application: Application, *, to: str, by, note: str = "",
          amount: Decimal | None = None) -> Transition:
    now = timezone.now()
    transition = Transition.objects.create(application=application, from_state=application.state,
                                           to_state=to, by=by, at=now, note=note, amount=amount)
    application.state = to
    application.state_changed_at = now
    if to == State.SUBMITTED and application.submitted_at is None:
        application.submitted_at = now
    application.save()
    return transition


def _lock(application: Application) -> Application:
    return (Application.objects.select_for_update(of=("self",))
            .select_related("programme", "project").get(pk=application.pk))


@transaction.atomic
def application_create(*, by, programme: Programme, company, requested_amount: Decimal,
                       project=None, title: str = "", today: date | None = None) -> Application:
    today = today or timezone.localdate()
    if not permissions.can_create_application(by):
        raise PermissionDenied
    if project is not None and project.company_id != company.pk:
        raise ValidationError({"project": _("The project belongs to another company.")})
    if not programme.is_active or not (programme.window_start <= today <= programme.window_end):
        raise ValidationError({"programme": _(
            "“%(programme)s” accepts applications from %(start)s to %(end)s.") % {
            "programme": programme.name, "start": programme.window_start,
            "end": programme.window_end}})
    cap = programme.cap_per_company_yuan
    if cap is not None and requested_amount > cap:
        raise ValidationError({"requested_amount": _(
            "The programme pays at most %(cap)s yuan per company.") % {"cap": cap}})
    application = Application(programme=programme, company=company, project=project,
                              title=title, requested_amount=requested_amount, created_by=by,
                              state=State.DRAFT, state_changed_at=timezone.now())
    application.full_clean()
    application.save()
    Transition.objects.create(application=application, from_state="", to_state=State.DRAFT,
                              by=by, at=application.state_changed_at)
    return application


@transaction.atomic
def application_update(*, application: Application, by, **fields) -> Application:
    application = _lock(application)
    if application.state not in EDITABLE_STATES:
        raise ConflictError(_("Only a draft or an application sent back for a supplement can "
                              "be edited."), code="state")
    for key, value in fields.items():
        setattr(application, key, value)
    application.full_clean()
    application.save()
    return application


@transaction.atomic
def document_add(*, application: Application, by, name: str, file) -> ApplicationDocument:
    if not permissions.can_upload_documents(by, application):
        raise PermissionDenied
    if application.state not in EDITABLE_STATES:
        raise ConflictError(_("Documents can be added while the application is a draft or "
                              "needs a supplement."), code="state")
    try:
        validate_upload(file, allowed=DOCUMENT_TYPES)
    except ValidationError as error:
        raise ValidationError({"file": error.messages})
    document = ApplicationDocument(application=application, name=name, file=file,
                                   uploaded_by=by)
    document.full_clean(exclude=["file"])
    document.save()
    return document


def missing_documents(application: Application) -> list[str]:
    present = set(application.documents.values_list("name", flat=True))
    return [name for name in application.programme.required_documents if name not in present]


def committed_total(programme: Programme, *, exclude_pk=None) -> Decimal:
    applications = programme.applications.filter(state__in=COMMITTED_STATES)
    if exclude_pk:
        applications = applications.exclude(pk=exclude_pk)
    return applications.aggregate(total=Sum("approved_amount"))["total"] or Decimal("0")


def _check_approval(application: Application, amount: Decimal | None) -> None:
    """The money rules, with the programme row locked by the caller."""
    if amount is None:
        raise ValidationError({"amount": _("Enter the approved amount.")})
    if amount <= 0:
        raise ValidationError({"amount": _("The approved amount must be positive.")})
    if amount > application.requested_amount:
        raise ConflictError(_("The approved amount %(amount)s exceeds the requested "
                              "%(requested)s.") % {"amount": amount,
                                                   "requested": application.requested_amount},
                            code="over_requested")
    programme = application.programme
    cap = programme.cap_per_company_yuan
    if cap is not None:
        company_total = (programme.applications
                         .filter(company=application.company, state__in=COMMITTED_STATES)
                         .exclude(pk=application.pk)
                         .aggregate(total=Sum("approved_amount"))["total"] or Decimal("0"))
        if company_total + amount > cap:
            raise ConflictError(_("This company would receive %(total)s yuan from the "
                                  "programme; the cap is %(cap)s.") % {
                "total": company_total + amount, "cap": cap}, code="over_cap")
    used = committed_total(programme, exclude_pk=application.pk)
    if used + amount > programme.budget_yuan:
        raise ConflictError(_("Approving %(amount)s would exceed the budget: %(used)s of "
                              "%(budget)s yuan is already approved, %(left)s remains.") % {
            "amount": amount, "used": used, "budget": programme.budget_yuan,
            "left": programme.budget_yuan - used}, code="over_budget")


@transaction.atomic
def application_transition(*, application: Application, to: str, by, note: str = "",
                           amount: Decimal | None = None, publicity_start: date | None = None,
                           publicity_end: date | None = None) -> Application:
    """Move an application along the workflow, or refuse with the reason (ConflictError)."""
    application = _lock(application)
    source = application.state
    move = workflow.find_move(source, to)
    if move is None:
        labels = dict(State.choices)
        if (source, to) in workflow.SYSTEM_MOVES:
            reason = _("“%(to)s” follows from recording payments, not from a manual move.")
        else:
            reason = _("An application that is “%(from)s” cannot become “%(to)s”.")
        raise ConflictError(reason % {"from": labels.get(source, source),
                                      "to": labels.get(to, to)}, code="illegal_transition")
    if not permissions.may_act_as(by, application, move.actor):
        if move.actor == workflow.REVIEWER and application.created_by_id == by.pk:
            raise PermissionDenied(_("You drafted this application, so you cannot review it."))
        raise PermissionDenied
    if move.needs_note and not note.strip():
        raise ValidationError({"note": _("Give the reason; the company will be told.")})
    today = timezone.localdate()
    if to == State.SUBMITTED:
        missing = missing_documents(application)
        if missing:
            raise ConflictError(_("Missing documents: %(names)s.") % {
                "names": "、".join(missing)}, code="missing_documents")
    elif to == State.UNDER_REVIEW:
        application.review_step_index = 0
    elif to == State.PUBLICITY:
        pending = application.current_review_step
        if pending is not None:
            from .models import ReviewStep

            raise ConflictError(_("The review step “%(step)s” has not been passed yet.") % {
                "step": dict(ReviewStep.choices).get(pending, pending)}, code="review_pending")
        application.publicity_start = publicity_start or today
        application.publicity_end = publicity_end or (
            application.publicity_start + timedelta(days=workflow.PUBLICITY_DAYS))
        if application.publicity_end < application.publicity_start:
            raise ValidationError({"publicity_end": _("The publicity cannot end before it "
                                                      "starts.")})
    elif to == State.APPROVED:
        if application.publicity_end and application.publicity_end >= today:
            raise ConflictError(_("The publicity period runs until %(end)s; approve after it "
                                  "ends.") % {"end": application.publicity_end},
                                code="publicity_running")
        # Lock the programme: concurrent approvals of the same programme queue up here.
        Programme.objects.select_for_update().get(pk=application.programme_id)
        _check_approval(application, amount)
        application.approved_amount = amount
    _move(application, to=to, by=by, note=note, amount=amount if to == State.APPROVED else None)
    return application


@transaction.atomic
def review_record(*, application: Application, by, decision: str, opinion: str,
                  score: int | None = None) -> Review:
    application = _lock(application)
    if not permissions.is_independent_reviewer(by, application):
        if application.created_by_id == by.pk:
            raise PermissionDenied(_("You drafted this application, so you cannot review it."))
        raise PermissionDenied
    if application.state != State.UNDER_REVIEW:
        raise ConflictError(_("Reviews are recorded while the application is under review."),
                            code="state")
    step = application.current_review_step
    if step is None:
        raise ConflictError(_("Every review step has been passed; start the publicity."),
                            code="state")
    if Review.objects.filter(application=application, step=step, reviewer=by).exists():
        raise ConflictError(_("You have already reviewed this step."), code="duplicate")
    review = Review(application=application, step=step, reviewer=by, opinion=opinion,
                    score=score, decision=decision)
    review.full_clean()
    review.save()
    if decision == Review.Decision.PASS:
        application.review_step_index += 1
        application.save(update_fields=["review_step_index"])
    return review


def paid_total(application: Application) -> Decimal:
    return (application.disbursements.filter(paid_amount__isnull=False)
            .aggregate(total=Sum("paid_amount"))["total"] or Decimal("0"))


@transaction.atomic
def disbursement_plan(*, application: Application, by, amount: Decimal, planned_on: date,
                      milestone=None) -> Disbursement:
    application = _lock(application)
    if not permissions.can_manage_money(by, application):
        raise PermissionDenied
    if application.state not in TRANCHE_STATES:
        raise ConflictError(_("Tranches are planned once the application is approved."),
                            code="state")
    planned = (application.disbursements.filter(kind=Disbursement.Kind.TRANCHE)
               .aggregate(total=Sum("planned_amount"))["total"] or Decimal("0"))
    if amount <= 0 or planned + amount > application.approved_amount:
        raise ConflictError(_("Tranches would total %(total)s yuan; %(approved)s was "
                              "approved.") % {"total": planned + amount,
                                              "approved": application.approved_amount},
                            code="over_approved")
    if milestone is not None and application.project_id is None:
        raise ValidationError({"milestone": _("Only an application with a project can tie a "
                                              "tranche to a project stage.")})
    return Disbursement.objects.create(application=application, planned_amount=amount,
                                       planned_on=planned_on, milestone=milestone,
                                       created_by=by)


def _milestone_reached(application: Application, milestone) -> bool:
    from leads.models import StageEvent

    return StageEvent.objects.filter(project_id=application.project_id,
                                     to_stage__order__gte=milestone.order,
                                     to_stage__kind=milestone.kind).exists()


@transaction.atomic
def disbursement_pay(*, disbursement: Disbursement, by, paid_on: date,
                     amount: Decimal | None = None) -> Disbursement:
    application = _lock(disbursement.application)
    disbursement = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
    if not permissions.can_manage_money(by, application):
        raise PermissionDenied
    if disbursement.paid_amount is not None:
        raise ConflictError(_("This tranche has been paid already."), code="state")
    if application.state not in TRANCHE_STATES:
        raise ConflictError(_("Payments are made on approved applications."), code="state")
    if disbursement.milestone_id and not _milestone_reached(application,
                                                            disbursement.milestone):
        raise ConflictError(_("This tranche is paid when the project reaches “%(stage)s”.") %
                            {"stage": disbursement.milestone.name}, code="milestone")
    amount = amount if amount is not None else disbursement.planned_amount
    total = paid_total(application) + amount
    if amount <= 0 or total > application.approved_amount:
        raise ConflictError(_("Paying %(amount)s would bring payments to %(total)s yuan; "
                              "%(approved)s was approved.") % {
            "amount": amount, "total": total, "approved": application.approved_amount},
            code="over_approved")
    disbursement.paid_amount = amount
    disbursement.paid_on = paid_on
    disbursement.save()
    target = State.DISBURSED if total == application.approved_amount else State.DISBURSING
    if application.state != target:
        _move(application, to=target, by=by, amount=amount,
              note=_("Tranche paid on %(day)s") % {"day": paid_on})
    return disbursement


@transaction.atomic
def clawback_record(*, application: Application, by, amount: Decimal, reason: str,
                    on: date | None = None) -> Disbursement:
    """Recover money already paid: a negative disbursement with its reason."""
    application = _lock(application)
    if not permissions.can_manage_money(by, application):
        raise PermissionDenied
    if application.state not in CLAWBACK_STATES:
        raise ConflictError(_("Only money that was paid can be clawed back."), code="state")
    if not reason.strip():
        raise ValidationError({"reason": _("A clawback needs its reason.")})
    paid = paid_total(application)
    if amount <= 0 or amount > paid:
        raise ConflictError(_("At most %(paid)s yuan can be clawed back.") % {"paid": paid},
                            code="over_paid")
    on = on or timezone.localdate()
    clawback = Disbursement.objects.create(
        application=application, kind=Disbursement.Kind.CLAWBACK, planned_amount=-amount,
        planned_on=on, paid_amount=-amount, paid_on=on, reason=reason, created_by=by)
    _move(application, to=State.CLAWED_BACK, by=by, note=reason, amount=-amount)
    return clawback
