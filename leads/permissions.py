"""Who may do what with companies and projects. Reading is decided by the models'
visible_to(user) querysets; these predicates decide writing, on objects already visible. The
write services (leads/services.py) call them and refuse; templates use them only to hide
buttons a service would refuse.

- Investment staff create companies and projects, and edit and move the projects they own
  or collaborate on.
- The project's owner, a leader or an administrator hands a project to someone else or
  changes its team (a collaborator cannot take a project from its owner).
- Leaders read everything, including confidential projects; they do not edit deals.
- Administrators, park managers and fund reviewers read every non-confidential project.
- Once people belong to units, their memberships' data scopes decide instead (crm/org/scopes.py).
- Who may hold a project (own it or help on it) is leads.models.may_hold_projects.
"""

from crm.accounts.roles import Role, has_role


def can_create_company(user) -> bool:
    return has_role(user, Role.INVESTMENT_STAFF, Role.ADMINISTRATOR)


def can_edit_company(user, company) -> bool:
    return has_role(user, Role.INVESTMENT_STAFF, Role.ADMINISTRATOR)


def can_create_project(user) -> bool:
    return has_role(user, Role.INVESTMENT_STAFF)


def is_on_project_team(user, project) -> bool:
    if project.owner_id == user.pk:
        return True
    return project.collaborators.filter(pk=user.pk).exists()


def can_edit_project(user, project) -> bool:
    return has_role(user, Role.INVESTMENT_STAFF) and is_on_project_team(user, project)


can_move_project = can_edit_project
can_log_followup = can_edit_project


def can_reassign_project(user, project) -> bool:
    """Change the owner or the collaborators: the owner, a leader or an administrator."""
    if has_role(user, Role.LEADER, Role.ADMINISTRATOR):
        return True
    return has_role(user, Role.INVESTMENT_STAFF) and project.owner_id == user.pk


def can_import(user) -> bool:
    return has_role(user, Role.INVESTMENT_STAFF, Role.ADMINISTRATOR)
