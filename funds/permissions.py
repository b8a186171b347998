from crm.accounts.roles import Role, has_role

from .workflow import DRAFTER, REVIEWER


def is_drafter(user, application) -> bool:
    """Investment staff who can see the application may act for the company."""
    return has_role(user, Role.INVESTMENT_STAFF)


def is_independent_reviewer(user, application) -> bool:
    """A fund reviewer who did not draft this application."""
    return has_role(user, Role.FUND_REVIEWER) and application.created_by_id != user.pk


def may_act_as(user, application, actor: str) -> bool:
    if actor == DRAFTER:
        return is_drafter(user, application)
    if actor == REVIEWER:
        return is_independent_reviewer(user, application)
    return False


def can_create_application(user) -> bool:
    return has_role(user, Role.INVESTMENT_STAFF)


def can_upload_documents(user, application) -> bool:
    return is_drafter(user, application)


def can_manage_money(user, application) -> bool:
    return is_independent_reviewer(user, application)
