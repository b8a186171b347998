"""Who a project's reminder goes to, written once for every app's rule kinds (leads' own and
funds.fulfilment's): the owner, and the leaders who may see the project (crm.org.scopes), so a
district's leader is not told about another district's project, nor anyone about a
confidential project they could not open."""

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.notifications.models import Recipients
from crm.org.scopes import Reach, reaches_of

Leaders = list[tuple[int, Reach | None]]


def project_leaders() -> Leaders:
    """The active leaders and their reach: read once per scan, applied to every project."""
    ids = list(User.objects.filter(groups__name=Role.LEADER, is_active=True)
               .values_list("pk", flat=True).distinct())
    reaches = reaches_of(ids, leads=True)
    return [(pk, reaches[pk]) for pk in ids]


def leaders_seeing(project, leaders: Leaders) -> tuple[int, ...]:
    # A leader in no unit sees every project, as before units (Reach None).
    return tuple(pk for pk, reach in leaders
                 if reach is None or reach.sees(unit_id=project.unit_id, team_id=project.team_id,
                                                confidential=project.confidential))


def project_recipients(rule, project, leaders: Leaders) -> tuple[int, ...]:
    if rule.recipients == Recipients.OWNER_AND_LEADERS:
        return (project.owner_id, *leaders_seeing(project, leaders))
    if rule.recipients == Recipients.LEADERS:
        return leaders_seeing(project, leaders)
    return (project.owner_id,)
