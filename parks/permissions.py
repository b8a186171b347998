"""Writing park space: a park's own managers (and administrators). Everyone with a role reads
the inventory; assignments are read per AssignmentQuerySet.visible_to."""

from crm.accounts.roles import Role, has_role


def can_create_park(user) -> bool:
    return has_role(user, Role.ADMINISTRATOR)


def can_manage_park(user, park) -> bool:
    if has_role(user, Role.ADMINISTRATOR):
        return True
    if not has_role(user, Role.PARK_MANAGER):
        return False
    return park.managers.filter(pk=user.pk).exists()


def can_book_unit(user, unit) -> bool:
    return can_manage_park(user, unit.park)


def can_change_assignment(user, assignment) -> bool:
    return can_manage_park(user, assignment.unit.park)


def bookable_park_ids(user) -> set[int] | None:
    """Ids of the parks whose units `user` may book (None: every park), in at most one query:
    the same rule as can_book_unit, for pages that would otherwise ask it once per row."""
    if has_role(user, Role.ADMINISTRATOR):
        return None
    if not has_role(user, Role.PARK_MANAGER):
        return set()
    return set(user.managed_parks.values_list("pk", flat=True))
