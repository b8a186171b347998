"""Data scopes (issue 15, item 2): what a person sees through their memberships, written once.

Each membership gives a reach:
- own: the projects the person owns or helps on (always seen, whatever else);
- team: the projects pursued in the unit, or followed by it when it is a 专班;
- unit: the same for the unit and every unit below it;
- all: every project.
A person's reach is the union of their memberships'. A confidential project is seen by its own
team (owner and collaborators) and by the leaders of its unit and of the units above it, within
their scope; a leader whose scope is "all" also sees the confidential projects placed in no
unit yet. Someone who belongs to no unit sees what their role saw before units existed
(`reach_of` returns None), so an installation keeps working until its organisation is set up.

`Reach` is applied in two forms that must agree: as a filter (leads.models.ProjectQuerySet
.visible_to, for every list, detail, export, API and dashboard figure) and as a predicate on one
project (`Reach.sees`, for choosing which leaders a reminder goes to). tests/crm/test_scopes.py
holds them to each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Membership, OrgUnit


@dataclass(frozen=True)
class Reach:
    everything: bool
    unit_ids: frozenset[int]  # projects pursued in, or followed by, these units
    leads: bool  # holds the leader role
    # A leader's units and those below them: where they see confidential projects.
    led_unit_ids: frozenset[int]

    def sees(self, *, unit_id: int | None, team_id: int | None, confidential: bool,
             involved: bool = False) -> bool:
        """Whether one project is seen (the predicate twin of visible_to's filter)."""
        if involved:
            return True
        in_scope = self.everything or unit_id in self.unit_ids or team_id in self.unit_ids
        if not in_scope:
            return False
        if not confidential:
            return True
        return self.leads and (unit_id in self.led_unit_ids or team_id in self.led_unit_ids
                               or (unit_id is None and self.everything))


def _below(unit_ids: set[int], units: list[tuple[int, str]]) -> set[int]:
    paths = [path for pk, path in units if pk in unit_ids]
    return {pk for pk, path in units if any(path.startswith(p) for p in paths)}


def reaches_of(user_ids, *, leads: bool) -> dict[int, Reach | None]:
    """The reach of each of `user_ids` (None for those in no unit), in two queries."""
    memberships: dict[int, list[tuple[int, str]]] = {}
    # No ordering: the model's (by the unit's path and the user's name) would join both tables
    # into a read that runs on every request.
    for user_id, unit_id, scope in Membership.objects.filter(user_id__in=list(user_ids)) \
            .order_by().values_list("user_id", "unit_id", "scope"):
        memberships.setdefault(user_id, []).append((unit_id, scope))
    units = list(OrgUnit.objects.values_list("pk", "path")) if memberships else []
    reaches: dict[int, Reach | None] = {}
    for user_id in user_ids:
        held = memberships.get(user_id)
        if not held:
            reaches[user_id] = None
            continue
        team = {unit for unit, scope in held if scope == Membership.Scope.TEAM}
        whole = {unit for unit, scope in held if scope == Membership.Scope.UNIT}
        reaches[user_id] = Reach(
            everything=any(scope == Membership.Scope.ALL for _unit, scope in held),
            unit_ids=frozenset(team | _below(whole, units)),
            leads=leads,
            led_unit_ids=frozenset(_below({unit for unit, _scope in held}, units))
            if leads else frozenset())
    return reaches


def reach_of(user, *, leads: bool) -> Reach | None:
    """`user`'s reach, or None when they belong to no unit. Cached on the user object for the
    request (two short queries: the memberships, and the tree's ids and paths)."""
    cached = getattr(user, "_reach_cache", False)
    if cached is False:
        cached = reaches_of([user.pk], leads=leads)[user.pk]
        user._reach_cache = cached
    return cached
