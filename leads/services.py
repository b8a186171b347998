"""Writes for companies, projects, stage moves and follow-ups. Keyword-only, atomic, validated;
a refused write raises PermissionDenied (the actor `by` may not do it: leads/permissions.py
decides, here and nowhere else), ValidationError (bad input, names the field) or ConflictError
(clashes with the current state: a duplicate, a gate), and leaves nothing half-written."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.exceptions import ConflictError
from crm.core.figures import figures_changed
from crm.core.permissions import require
from crm.notifications.services import nudge_scan
from crm.org.selectors import home_unit

from . import permissions
from .models import (
    PATH_KINDS,
    ChainNode,
    Company,
    CompanyChainLink,
    Contact,
    FollowUp,
    FollowUpIssue,
    LostReason,
    Project,
    Qualification,
    Stage,
    StageEvent,
    Tag,
    TeamChange,
    may_hold_projects,
)
from .uscc import normalize_company_name, normalize_uscc, validate_uscc

COMPANY_FIELDS = {
    "name", "uscc", "industry", "registered_capital_wan", "capital_currency", "hq_region_code",
    "hq_region_name", "source_region", "website", "notes",
}


# --- Companies ----------------------------------------------------------------------------------
COMPANY_WRITERS = _("Only investment staff and administrators add or edit companies.")


def _clean_name(name: str) -> str:
    """A name that normalises to nothing ("（）", "---") could never be told from another: the
    de-duplication key would be empty (the import refuses it the same way)."""
    if not normalize_company_name(name):
        raise ValidationError({"name": _(
            "Enter the company's name: “%(name)s” has no letters or characters to tell it "
            "by.") % {"name": (name or "").strip()}})
    return name.strip()


def company_find_duplicate(*, name: str, uscc: str | None, exclude_pk: int | None = None):
    """The existing company with the same USCC, else the same normalised name, or None."""
    others = Company.objects.all()
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    uscc = normalize_uscc(uscc)
    if uscc:
        found = others.filter(uscc=uscc).first()
        if found:
            return found
    key = normalize_company_name(name)
    return others.filter(name_key=key).first() if key else None


def chasing_text(company: Company, active: Project | None, *, reader_sees_project: bool) -> str:
    """The words of a duplicate (撞单): the company already in the system and, if someone is
    actively chasing it, who, so the reader knows whom to talk to. The project is named only
    to a reader who may open it: a confidential negotiation stays a "project" with an owner.
    The form, the API's 409 and the import's dry run all speak through this one function."""
    words = {"company": company.name, "uscc": company.uscc or "—"}
    if active is None:
        return _("This company is already in the system as “%(company)s” (USCC %(uscc)s).") % words
    if reader_sees_project:
        return _(
            "This company is already in the system as “%(company)s” (USCC %(uscc)s); its "
            "project “%(project)s” is being followed by %(owner)s."
        ) % {**words, "project": active.name, "owner": active.owner}
    return _(
        "This company is already in the system as “%(company)s” (USCC %(uscc)s); one of its "
        "projects is being followed by %(owner)s."
    ) % {**words, "owner": active.owner}


def duplicate_message(existing: Company, *, reader) -> str:
    """chasing_text() for one company, as `reader` may read it."""
    active = (existing.projects.open().select_related("owner")
              .order_by("-updated_at", "-pk").first())
    sees = active is not None and Project.objects.visible_to(reader).filter(
        pk=active.pk).exists()
    return chasing_text(existing, active, reader_sees_project=sees)


def _clean_uscc(value: str | None) -> str | None:
    value = normalize_uscc(value)
    if not value:
        return None
    try:
        validate_uscc(value)
    except ValidationError as error:
        raise ValidationError({"uscc": error.messages})
    return value


def _save_company(company: Company, *, by) -> Company:
    # Duplicates were looked for first (a 409 naming the company); the other constraints
    # (credit code shape, capital, region code) answer here, on their fields.
    company.full_clean(exclude=["name_key", "name_initials"], validate_unique=False)
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError:
        # Two people saving the same company at the same moment: the constraint decided.
        existing = company_find_duplicate(name=company.name, uscc=company.uscc,
                                          exclude_pk=company.pk)
        if existing is None:
            raise
        raise ConflictError(duplicate_message(existing, reader=by), existing=existing,
                            code="duplicate")
    return company


@transaction.atomic
def company_create(*, by, name: str, uscc: str | None = None,
                   chain_links: list[tuple[ChainNode, str]] | None = None,
                   contacts: list[dict] | None = None, tag_names: list[str] | None = None,
                   **fields) -> Company:
    require(permissions.can_create_company(by), COMPANY_WRITERS)
    unknown = set(fields) - COMPANY_FIELDS
    if unknown:
        raise TypeError(f"unknown company fields: {sorted(unknown)}")
    name = _clean_name(name)
    uscc = _clean_uscc(uscc)
    existing = company_find_duplicate(name=name, uscc=uscc)
    if existing:
        raise ConflictError(duplicate_message(existing, reader=by), existing=existing,
                            code="duplicate")
    company = _save_company(Company(name=name, uscc=uscc, created_by=by, **fields), by=by)
    for node, role in chain_links or []:
        CompanyChainLink.objects.create(company=company, node=node, role=role)
    for contact in contacts or []:
        contact_add(company=company, by=by, **contact)
    if tag_names:
        company.tags.set(_tags(tag_names))
    return company


def _tags(names: list[str]) -> list[Tag]:
    return [Tag.objects.get_or_create(name=name[:40])[0] for name in dict.fromkeys(names)]


@transaction.atomic
def company_update(*, company: Company, by, chain_links=None, tag_names=None,
                   **fields) -> Company:
    require(permissions.can_edit_company(by, company), COMPANY_WRITERS)
    unknown = set(fields) - COMPANY_FIELDS
    if unknown:
        raise TypeError(f"unknown company fields: {sorted(unknown)}")
    if "uscc" in fields:
        fields["uscc"] = _clean_uscc(fields["uscc"])
    if "name" in fields:
        fields["name"] = _clean_name(fields["name"])
    name = fields.get("name", company.name)
    uscc = fields.get("uscc", company.uscc)
    existing = company_find_duplicate(name=name, uscc=uscc, exclude_pk=company.pk)
    if existing:
        raise ConflictError(duplicate_message(existing, reader=by), existing=existing,
                            code="duplicate")
    for key, value in fields.items():
        setattr(company, key, value)
    _save_company(company, by=by)
    if chain_links is not None:
        company.chain_links.all().delete()
        for node, role in chain_links:
            CompanyChainLink.objects.create(company=company, node=node, role=role)
    if tag_names is not None:
        company.tags.set(_tags(tag_names))
    return company


def contact_add(*, company: Company, by, name: str, title: str = "", phone: str = "",
                email: str = "", is_primary: bool = False) -> Contact:
    require(permissions.can_edit_company(by, company), COMPANY_WRITERS)
    contact = Contact(company=company, name=name, title=title, phone=phone, email=email,
                      is_primary=is_primary)
    contact.full_clean()
    contact.save()
    return contact


def qualification_add(*, company: Company, by, kind: str, level: str = "",
                      certificate_no: str = "", issued_on: date | None = None,
                      expires_on: date | None = None) -> Qualification:
    require(permissions.can_edit_company(by, company), COMPANY_WRITERS)
    qualification = Qualification(company=company, kind=kind, level=level,
                                  certificate_no=certificate_no, issued_on=issued_on,
                                  expires_on=expires_on)
    qualification.full_clean()
    qualification.save()
    return qualification


# --- Projects -----------------------------------------------------------------------------------
PROJECT_FIELDS = {
    "name", "channel", "referrer", "agreed_investment_wan", "fixed_asset_wan",
    "funds_arrived_wan", "expected_output_wan", "expected_tax_wan", "expected_jobs", "space_use",
    "space_min_m2", "space_max_m2", "move_in_on", "intended_park", "next_step", "next_step_on",
    "contract_start_on", "agreement", "confidential", "unit", "team",
}


def first_stage() -> Stage:
    return Stage.objects.filter(is_active=True, kind=Stage.Kind.OPEN).order_by("order").first()


def _require_next_step(project: Project, stage: Stage) -> None:
    if stage.is_open and not (project.next_step and project.next_step_on):
        raise ValidationError({
            "next_step_on": _("An open project needs its next step and the date for it."),
        })


def _check_holders(*, owner=None, collaborators=()) -> None:
    """Owners and collaborators are people who may hold projects (may_hold_projects)."""
    if owner is not None and not may_hold_projects(owner):
        raise ValidationError({"owner": _(
            "%(user)s cannot own projects: only active investment staff and leaders can."
        ) % {"user": owner}})
    refused = [str(user) for user in collaborators if not may_hold_projects(user)]
    if refused:
        raise ValidationError({"collaborators": _(
            "%(users)s cannot work on projects: only active investment staff and leaders "
            "can.") % {"users": "、".join(refused)}})


@transaction.atomic
def project_create(*, by, company: Company, name: str, owner=None, stage: Stage | None = None,
                   collaborators=(), at: datetime | None = None, **fields) -> Project:
    require(permissions.can_create_project(by), _("Only investment staff create projects."))
    unknown = set(fields) - PROJECT_FIELDS
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    owner = owner or by
    _check_holders(owner=owner, collaborators=collaborators)
    stage = stage or first_stage()
    at = at or timezone.now()
    if fields.get("unit") is None:
        # Pursued where its owner works, until someone places it elsewhere.
        fields["unit"] = home_unit(owner)
    project = Project(company=company, name=name, owner=owner, stage=stage,
                      stage_entered_at=at, entered_at=at, reached_order=stage.path_order,
                      **fields)
    if stage.kind == Stage.Kind.WON and stage.milestone:
        # Imported or back-filled projects may start past signing; they still count once.
        project.signed_on = project.signed_on or timezone.localdate(at)
    project.full_clean()
    _require_next_step(project, stage)
    project.save()
    if collaborators:
        project.collaborators.set(collaborators)
    StageEvent.objects.create(project=project, from_stage=None, to_stage=stage, at=at, by=by,
                              note=_("Project created"))
    return project


@transaction.atomic
def project_update(*, project: Project, by, owner=None, collaborators=None, reason: str = "",
                   **fields) -> Project:
    """Edit a project's figures (its team: owner, leader or administrator only). A change of
    owner or collaborators goes through project_reassign, so a collaborator cannot take the
    project from its owner by editing it (the API's PATCH included)."""
    unknown = set(fields) - PROJECT_FIELDS
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    changes_team = (owner is not None and owner.pk != project.owner_id) or (
        collaborators is not None
        and {u.pk for u in collaborators} != set(project.collaborators.values_list("pk",
                                                                                  flat=True)))
    if fields:
        require(permissions.can_edit_project(by, project),
                _("Only the project's owner and collaborators (investment staff) edit it."))
        for key, value in fields.items():
            setattr(project, key, value)
        project.full_clean()
        _require_next_step(project, project.stage)
        project.save()
    if changes_team:
        project_reassign(project=project, by=by, owner=owner, collaborators=collaborators,
                         reason=reason)
    return project


@transaction.atomic
def project_reassign(*, project: Project, by, owner=None, collaborators=None,
                     reason: str = "") -> TeamChange | None:
    """Hand the project to another owner and/or set its collaborators, and record it. Allowed
    to the owner, a leader or an administrator. The project row is locked, so two handovers
    at once queue up and each records what it really changed. Returns the record, or None when
    nothing changed."""
    project = Project.objects.select_for_update(of=("self",)).select_related("owner").get(
        pk=project.pk)
    require(permissions.can_reassign_project(by, project),
            _("Only the project's owner, a leader or an administrator can change its owner "
              "or team."))
    _check_holders(owner=owner, collaborators=collaborators or ())
    old_owner = project.owner
    current = {user.pk: user for user in project.collaborators.all()}
    wanted = current if collaborators is None else {user.pk: user for user in collaborators}
    new_owner = owner or old_owner
    wanted.pop(new_owner.pk, None)  # the owner is not also a collaborator
    added = [wanted[pk] for pk in wanted if pk not in current]
    removed = [current[pk] for pk in current if pk not in wanted]
    if new_owner.pk == old_owner.pk and not added and not removed:
        return None
    if new_owner.pk != old_owner.pk:
        project.owner = new_owner
        project.save(update_fields=["owner", "updated_at"])
    project.collaborators.set(wanted.values())
    return TeamChange.objects.create(
        project=project, at=timezone.now(), by=by,
        old_owner=old_owner if new_owner.pk != old_owner.pk else None,
        new_owner=new_owner if new_owner.pk != old_owner.pk else None,
        added=[{"id": u.pk, "name": str(u)} for u in added],
        removed=[{"id": u.pk, "name": str(u)} for u in removed], reason=reason[:200])


def stage_gate_problems(project: Project, to_stage: Stage, *, lost_reason=None) -> list[str]:
    """Every reason the move is refused, in words a user can act on (empty: allowed)."""
    problems = []
    if to_stage.pk == project.stage_id:
        problems.append(_("The project is already at “%(stage)s”.") % {"stage": to_stage.label})
    if not to_stage.is_active:
        problems.append(_("The stage “%(stage)s” is no longer in use.") % {"stage": to_stage.label})
    if to_stage.kind == Stage.Kind.LOST and lost_reason is None:
        problems.append(_("Choose a reason to mark the project as lost."))
    if to_stage.requires_agreement:
        if not project.agreed_investment_wan:
            problems.append(
                _("“%(stage)s” needs the agreed investment amount.") % {"stage": to_stage.label}
            )
        if not project.agreement:
            problems.append(
                _("“%(stage)s” needs the signed agreement document uploaded.")
                % {"stage": to_stage.label}
            )
    if to_stage.requires_uscc and not project.company.uscc:
        problems.append(
            _("“%(stage)s” needs the company's unified social credit code.")
            % {"stage": to_stage.label}
        )
    if to_stage.is_open and not (project.next_step and project.next_step_on):
        problems.append(_("An open project needs its next step and the date for it."))
    return problems


@transaction.atomic
def project_move_stage(*, project: Project, to_stage: Stage, by, note: str = "",
                       lost_reason: LostReason | None = None, at: datetime | None = None,
                       next_step: str | None = None, next_step_on: date | None = None
                       ) -> StageEvent:
    """Move a project to another stage and record the move.

    The project row is locked first, so two people dragging the same card at once produce two
    orderly events, each with the right `from` stage, never a lost update.
    """
    require(permissions.can_move_project(by, project),
            _("Only the project's owner and collaborators (investment staff) move it."))
    project = (
        Project.objects.select_for_update(of=("self",)).select_related("company", "stage")
        .get(pk=project.pk)
    )
    if next_step is not None:
        project.next_step = next_step
    if next_step_on is not None:
        project.next_step_on = next_step_on
    problems = stage_gate_problems(project, to_stage, lost_reason=lost_reason)
    if problems:
        raise ConflictError(" ".join(problems), code="stage_gate")
    at = at or timezone.now()
    event = StageEvent.objects.create(
        project=project, from_stage=project.stage, previous_at=project.stage_entered_at,
        to_stage=to_stage, at=at, by=by, note=note,
        lost_reason=lost_reason if to_stage.kind == Stage.Kind.LOST else None,
    )
    project.stage = to_stage
    project.stage_entered_at = at
    if to_stage.path_order is not None:
        project.reached_order = max(project.reached_order or 0, to_stage.path_order)
    project.lost_reason = lost_reason if to_stage.kind == Stage.Kind.LOST else None
    if to_stage.milestone == Stage.Milestone.SIGNED and project.signed_on is None:
        project.signed_on = timezone.localdate(at)  # counted once, at the first signing
    project.save()
    return event


def project_milestones_refresh(*, projects=None) -> int:
    """Recompute Project.entered_at and reached_order from the stage events, in one UPDATE.

    The services keep both current with every event they write; this is for what changes
    their meaning behind the services' back: stages reordered or moved on or off the path in
    the admin, or events edited there (leads.signals calls it)."""
    projects = Project.objects.all() if projects is None else projects
    events = StageEvent.objects.filter(project=OuterRef("pk")).order_by()
    # QuerySet.update leaves updated_at alone (recomputing a figure is not an edit) and sends
    # no signal, so the cached dashboards are told here.
    figures_changed("leads")
    return projects.update(
        entered_at=Subquery(events.filter(from_stage__isnull=True)
                            .order_by("at", "pk").values("at")[:1]),
        reached_order=Subquery(events.filter(to_stage__kind__in=PATH_KINDS)
                               .values("project").annotate(top=Max("to_stage__order"))
                               .values("top")),
    )


# --- Follow-ups ---------------------------------------------------------------------------------
@transaction.atomic
def followup_create(*, project: Project, by, date: date, kind: str, summary: str,
                    our_participants=(), leader_attended: bool = False,
                    their_participants: str = "", next_step: str = "",
                    next_contact_on: date | None = None, issues: list[dict] | None = None
                    ) -> FollowUp:
    """Log a visit or call. The project keeps its last-contact date (for fast "not contacted in
    N days" queries) and takes the follow-up's next step and next contact date."""
    require(permissions.can_log_followup(by, project),
            _("Only the project's owner and collaborators (investment staff) log its "
              "follow-ups."))
    followup = FollowUp(project=project, date=date, kind=kind, summary=summary,
                        leader_attended=leader_attended, their_participants=their_participants,
                        next_step=next_step, next_contact_on=next_contact_on, created_by=by)
    followup.full_clean(exclude=["project"])
    if date > timezone.localdate():
        raise ValidationError({"date": _("A follow-up cannot be dated in the future.")})
    if next_contact_on and next_contact_on < date:
        raise ValidationError(
            {"next_contact_on": _("The next contact cannot be before this follow-up.")}
        )
    followup.save()
    participants = set(our_participants) | {by}
    followup.our_participants.set(participants)
    for issue in issues or []:
        item = FollowUpIssue(followup=followup, **issue)
        item.full_clean(exclude=["followup"])
        item.save()
    project = Project.objects.select_for_update(of=("self",)).get(pk=project.pk)
    if project.last_contact_on is None or date >= project.last_contact_on:
        project.last_contact_on = date
        if next_contact_on:
            project.next_step = next_step or project.next_step or summary[:200]
            project.next_step_on = next_contact_on
    project.save(update_fields=["last_contact_on", "next_step", "next_step_on", "updated_at"])
    # A next contact due today should reach the owner now, not at the next periodic scan: a
    # scan of this project's rules only.
    nudge_scan(record=project)
    return followup
