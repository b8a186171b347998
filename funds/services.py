"""Writes for fund applications. Every state change goes through _move(), which refuses any
(source, target) pair the workflow (workflow.py) does not declare, runs the move's guard and
effect and writes the Transition row. Who may act is checked first, by the predicates of
permissions.py, and refused with the reason (PermissionDenied: 403 on a page and in the API).

Money invariants: approved ≤ requested, ≤ the programme's per-company cap, and the sum
approved in a programme ≤ its budget (rules.require_amount_fits, the approval's guard, which
locks the programme row first: concurrent approvals queue up and the budget can never be
overspent). Paid ≤ approved is checked under a lock on the application row.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.exceptions import ConflictError
from crm.core.permissions import require
from crm.core.uploads import validate_upload
from leads.models import Project

from . import permissions, workflow
from .fulfilment import services as fulfilment_services
from .models import (
    Application,
    ApplicationDocument,
    Disbursement,
    Programme,
    Review,
    ReviewStep,
    State,
    Transition,
)

DOCUMENT_TYPES = {"pdf", "jpg", "jpeg", "png", "docx", "xlsx"}
# The declaration's state groups, under the names the views and tests know.
EDITABLE_STATES = workflow.EDITABLE_STATES
TRANCHE_STATES = workflow.TRANCHE_STATES  # tranches are planned and paid
CLAWBACK_STATES = workflow.CLAWBACK_STATES  # money was paid


def _illegal(source: str, target: str) -> ConflictError:
    labels = dict(State.choices)
    move = workflow.find_move(source, target)
    if move is not None and move.system:
        reason = (_("“%(to)s” follows from recording payments, not from a manual move.")
                  if move.event == workflow.PAYMENT else
                  _("“%(to)s” follows from recording a clawback, not from a manual move."))
    else:
        reason = _("An application that is “%(from)s” cannot become “%(to)s”.")
    return ConflictError(reason % {"from": labels.get(source, source),
                                   "to": labels.get(target, target)},
                         code="illegal_transition")


def _move(application: Application, *, to: str, by, system: bool = False, note: str = "",
          amount: Decimal | None = None, today: date | None = None,
          publicity_start: date | None = None,
          publicity_end: date | None = None) -> Transition:
    """The one door every state change goes through, on a locked application: the move must
    be declared (workflow.MOVES) and of the kind asked for (a person's or the system's), its
    reason given if it needs one, its guard must hold; then its effect applies and the
    Transition row is written. The caller has checked who may make it."""
    source = application.state
    move = workflow.find_move(source, to)
    if move is None or move.system != system:
        raise _illegal(source, to)
    if move.needs_note and not note.strip():
        raise ValidationError({"note": _("Give the reason; the company will be told.")})
    now = timezone.now()
    attempt = workflow.Attempt(application=application, by=by, now=now,
                               today=today or timezone.localdate(), note=note, amount=amount,
                               publicity_start=publicity_start, publicity_end=publicity_end)
    if move.guard is not None:
        move.guard(attempt)
    if move.effect is not None:
        move.effect(attempt)
    transition = Transition.objects.create(application=application, from_state=source,
                                           to_state=to, by=by, at=now, note=note,
                                           amount=amount)
    application.state = to
    application.state_changed_at = now
    application.save()
    return transition


# --- Who acts: the reasons a person is refused -------------------------------------------------
def _require_drafter(by, application: Application) -> None:
    require(permissions.is_drafter(by, application),
            _("Only the investment staff who drafted this application or work on its project "
              "can do this."))


def _require_independent_reviewer(by, application: Application) -> None:
    require(permissions.is_fund_reviewer(by), _("Only a fund reviewer can do this."))
    require(not permissions.has_stake(by, application),
            _("You drafted this application or work on its project, so you cannot review, "
              "approve, pay or claw it back."))


def _require_approver(by, application: Application) -> None:
    _require_independent_reviewer(by, application)
    require(permissions.can_approve(by, application),
            _("You recorded a review step of this application; another reviewer must approve "
              "it."))


def _require_actor(by, application: Application, actor: str) -> None:
    if actor == workflow.DRAFTER:
        _require_drafter(by, application)
    elif actor == workflow.REVIEWER:
        _require_independent_reviewer(by, application)
    elif actor == workflow.APPROVER:
        _require_approver(by, application)
    else:
        require(False)


def _lock(application: Application) -> Application:
    return (Application.objects.select_for_update(of=("self",))
            .select_related("programme", "project").get(pk=application.pk))


@transaction.atomic
def application_create(*, by, programme: Programme, company, requested_amount: Decimal,
                       project=None, title: str = "", today: date | None = None) -> Application:
    today = today or timezone.localdate()
    require(permissions.can_create_application(by),
            _("Only investment staff draft applications."))
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
    _require_drafter(by, application)
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
    _require_drafter(by, application)
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


@transaction.atomic
def application_transition(*, application: Application, to: str, by, note: str = "",
                           amount: Decimal | None = None, publicity_start: date | None = None,
                           publicity_end: date | None = None,
                           today: date | None = None) -> Application:
    """A person's move along the workflow (workflow.MOVES), or its refusal with the reason:
    ConflictError for a move that does not exist or whose guard fails, ValidationError naming
    the field to correct, PermissionDenied when `by` may not make it."""
    application = _lock(application)
    move = workflow.find_move(application.state, to)
    if move is None or move.system:
        raise _illegal(application.state, to)
    _require_actor(by, application, move.actor)
    _move(application, to=to, by=by, note=note, today=today,
          amount=amount if move.needs_amount else None,
          publicity_start=publicity_start if move.asks_publicity else None,
          publicity_end=publicity_end if move.asks_publicity else None)
    return application


@transaction.atomic
def review_record(*, application: Application, by, decision: str, opinion: str,
                  score: int | None = None) -> Review:
    """Record `by`'s opinion on the current review step; a pass moves to the next step. One
    reviewer records at most one step of an application (separation of duties)."""
    application = _lock(application)
    _require_independent_reviewer(by, application)
    if application.state != State.UNDER_REVIEW:
        raise ConflictError(_("Reviews are recorded while the application is under review."),
                            code="state")
    step = application.current_review_step
    if step is None:
        raise ConflictError(_("Every review step has been passed; start the publicity."),
                            code="state")
    if Review.objects.filter(application=application, step=step, reviewer=by).exists():
        raise ConflictError(_("You have already reviewed this step."), code="duplicate")
    require(not permissions.has_reviewed(by, application),
            _("You recorded another review step of this application; a different reviewer "
              "must record “%(step)s”.") % {"step": dict(ReviewStep.choices).get(step, step)})
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
    _require_independent_reviewer(by, application)
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
    return Project.objects.filter(pk=application.project_id).reached(milestone).exists()


@transaction.atomic
def disbursement_pay(*, disbursement: Disbursement, by, paid_on: date,
                     amount: Decimal | None = None) -> Disbursement:
    application = _lock(disbursement.application)
    disbursement = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
    _require_independent_reviewer(by, application)
    if disbursement.paid_amount is not None:
        raise ConflictError(_("This tranche has been paid already."), code="state")
    if application.state not in TRANCHE_STATES:
        raise ConflictError(_("Payments are made on approved applications."), code="state")
    if disbursement.milestone_id and not _milestone_reached(application,
                                                            disbursement.milestone):
        raise ConflictError(_("This tranche is paid when the project reaches “%(stage)s”.") %
                            {"stage": disbursement.milestone.name}, code="milestone")
    # An agreement in breach stops the project's payments until it is cured or a leader lets
    # this tranche through (fulfilment.services.payment_override_grant). Judged inside the
    # application's lock, so two payments tried at once are both refused.
    refusal = fulfilment_services.breach_refusal(application, timezone.localdate(), disbursement)
    if refusal:
        raise ConflictError(refusal, code="breach")
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
        _move(application, to=target, by=by, system=True, amount=amount,
              note=_("Tranche paid on %(day)s") % {"day": paid_on})
    return disbursement


@transaction.atomic
def clawback_record(*, application: Application, by, amount: Decimal, reason: str,
                    on: date | None = None) -> Disbursement:
    """Recover money already paid: a negative disbursement with its reason."""
    application = _lock(application)
    _require_independent_reviewer(by, application)
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
    _move(application, to=State.CLAWED_BACK, by=by, system=True, note=reason, amount=-amount)
    return clawback
