"""Who may do what with companies and projects. Reading is decided by the models'
visible_to(user) querysets; these functions decide writing, on objects already visible.

- Investment staff create companies and projects, and edit and move the projects they own
  or collaborate on.
- Leaders read everything, including confidential projects; they do not edit deals.
- Administrators, park managers and fund reviewers read every non-confidential project.
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


def can_import(user) -> bool:
    return has_role(user, Role.INVESTMENT_STAFF, Role.ADMINISTRATOR)
