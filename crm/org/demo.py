from crm.accounts.models import User
from crm.core.demo import SeedContext, register_seeder

from . import demo_content
from .models import Membership, OrgUnit


@register_seeder("org", order=5)
def seed_org(ctx: SeedContext) -> None:
    """The units and the demo users' memberships (after the users, before the projects, which
    are pursued in their owner's unit)."""
    units: dict[str, OrgUnit] = {}
    for order, (code, name, name_en, kind, parent) in enumerate(demo_content.UNITS):
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            unit = OrgUnit(code=code, name=name, name_en=name_en, kind=kind,
                           parent=units.get(parent), order=order)
            unit.full_clean()
            unit.save()
        units[code] = unit
    users = {u.username: u for u in User.objects.filter(
        username__in={row[0] for row in demo_content.MEMBERSHIPS})}
    for username, code, role, scope in demo_content.MEMBERSHIPS:
        if username in users:
            Membership.objects.get_or_create(user=users[username], unit=units[code],
                                             defaults={"role": role, "scope": scope})
    ctx.shared["org_units"] = units


@register_seeder("org-teams", order=21)
def seed_project_teams(ctx: SeedContext) -> None:
    """A 专班 follows the projects of its members (after the projects are seeded)."""
    from leads.models import Project

    for membership in Membership.objects.filter(unit__kind=OrgUnit.Kind.TEAM):
        Project.objects.filter(owner=membership.user_id, team__isnull=True).update(
            team=membership.unit)
