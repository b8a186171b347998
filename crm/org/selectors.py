"""Reads of the organisation. The tree is small, so it is read whole and ordered in Python."""

from .models import NOT_PURSUING_KINDS, Membership, OrgUnit


def unit_tree(queryset=None) -> list[OrgUnit]:
    """Every unit, depth first, siblings by their order then name: the order a tree is read in
    (a list ordered by `path` would put /1/10/ before /1/2/)."""
    units = list(OrgUnit.objects.select_related("parent") if queryset is None else queryset)
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    known = {unit.pk for unit in units}
    ordered: list[OrgUnit] = []

    def walk(parent_id):
        for unit in sorted(children.get(parent_id, []), key=lambda u: (u.order, u.name)):
            ordered.append(unit)
            walk(unit.pk)

    walk(None)
    for parent_id in children:  # a branch whose parent the queryset left out
        if parent_id is not None and parent_id not in known:
            walk(parent_id)
    return ordered


def tree_label(unit: OrgUnit) -> str:
    """A unit's name indented under its parent (ideographic spaces: one per level)."""
    return "　" * unit.depth + unit.label


def tree_choices(queryset, empty_label) -> list[tuple]:
    """Choices for a select of units, as the tree reads."""
    return [("", empty_label)] + [(unit.pk, tree_label(unit)) for unit in unit_tree(queryset)]


def home_unit(user) -> OrgUnit | None:
    """Where a person's new projects are pursued: the unit of their first membership where
    projects are pursued (not a 专班 or a department)."""
    membership = (Membership.objects.filter(user=user).select_related("unit")
                  .exclude(unit__kind__in=NOT_PURSUING_KINDS)
                  .order_by("pk").first())
    return membership.unit if membership else None
