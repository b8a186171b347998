"""Who may do what with a fund application. Small predicates: the write services call them
and refuse with the reason (crm.core.permissions.require); templates use them only to hide
buttons the service would refuse.

- A *stake* in an application: having drafted it, or working on its project's team (owner or
  collaborator, as leads.permissions.is_on_project_team counts them). Whoever has a stake
  speaks for the company.
- The *drafter* (workflow.DRAFTER) is investment staff with a stake. They can see the
  application by construction (ApplicationQuerySet.visible_to shows staff what they drafted
  and their projects' applications), and only they submit, upload and withdraw: other staff
  who merely may read it do not act for the company.
- An *independent reviewer* (workflow.REVIEWER) is a fund reviewer with no stake. A user who
  holds both roles and has a stake counts as the drafter (a conflict of interest): they may
  not review, approve, pay or claw back.
- Separation of duties: one reviewer records at most one review step of an application, and
  the approver (workflow.APPROVER) is an independent reviewer who recorded none of them,
  unless the programme allows it (Programme.approver_may_review, for small offices).
"""

from crm.accounts.roles import Role, has_role
from leads.permissions import is_on_project_team

from .states import APPROVER, DRAFTER, REVIEWER


def has_stake(user, application) -> bool:
    """Drafted the application, or is on its project's team."""
    if application.created_by_id == user.pk:
        return True
    project = application.project
    return project is not None and is_on_project_team(user, project)


def is_fund_reviewer(user) -> bool:
    return has_role(user, Role.FUND_REVIEWER)


def is_drafter(user, application) -> bool:
    return has_role(user, Role.INVESTMENT_STAFF) and has_stake(user, application)


def is_independent_reviewer(user, application) -> bool:
    return is_fund_reviewer(user) and not has_stake(user, application)


def has_reviewed(user, application) -> bool:
    """Recorded a review (any step) of this application."""
    return application.reviews.filter(reviewer=user).exists()


def can_review_step(user, application) -> bool:
    """May record the current review step: independent, and no step of it recorded yet."""
    return is_independent_reviewer(user, application) and not has_reviewed(user, application)


def can_approve(user, application) -> bool:
    return is_independent_reviewer(user, application) and (
        application.programme.approver_may_review or not has_reviewed(user, application))


def may_act_as(user, application, actor: str) -> bool:
    if actor == DRAFTER:
        return is_drafter(user, application)
    if actor == REVIEWER:
        return is_independent_reviewer(user, application)
    if actor == APPROVER:
        return can_approve(user, application)
    return False  # SYSTEM moves follow from payments and clawbacks, never from a person


def can_create_application(user) -> bool:
    return has_role(user, Role.INVESTMENT_STAFF)


def can_upload_documents(user, application) -> bool:
    return is_drafter(user, application)


def can_manage_money(user, application) -> bool:
    """Plan and pay tranches, claw back, close: an independent reviewer."""
    return is_independent_reviewer(user, application)


def stakeholder_ids(application) -> set[int]:
    """Everyone with a stake, as ids (the reminder leaves them out of its reviewers). Reads
    the project's collaborators through .all(), so a prefetch serves a scan."""
    ids = {application.created_by_id}
    project = application.project
    if project is not None:
        ids.add(project.owner_id)
        ids.update(user.pk for user in project.collaborators.all())
    return ids
