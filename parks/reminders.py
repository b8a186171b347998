"""Parks' reminder rule kinds: holds about to lapse and leases about to end, to the park's
managers."""

from collections import defaultdict
from datetime import date, timedelta

from django.urls import reverse
from django.utils.translation import gettext as _

from crm.notifications.registry import Due, register_rule_kind

from .models import Assignment, Park

CHUNK = 500


def _managers_by_park() -> dict[int, tuple[int, ...]]:
    managers = defaultdict(list)
    for park_id, user_id in Park.managers.through.objects.values_list("park_id", "user_id"):
        managers[park_id].append(user_id)
    return {park: tuple(users) for park, users in managers.items()}


@register_rule_kind("parks.hold_ending", "Reservation hold ending within N days")
def hold_ending(rule, today: date):
    managers = _managers_by_park()
    holds = (Assignment.objects.active().filter(
        kind=Assignment.Kind.RESERVATION, hold_until__gte=today,
        hold_until__lte=today + timedelta(days=rule.days))
        .select_related("unit", "company").order_by("pk"))
    for hold in holds.iterator(chunk_size=CHUNK):
        recipients = managers.get(hold.unit.park_id, ())
        if recipients:
            yield Due(record=hold, recipient_ids=recipients, due_on=hold.hold_until,
                      title=_("Reservation of %(unit)s for %(company)s ends on %(day)s") % {
                          "unit": hold.unit.code, "company": hold.company.name,
                          "day": hold.hold_until},
                      link=reverse("parks:unit-detail", args=[hold.unit_id]))


@register_rule_kind("parks.lease_ending", "Lease ending within N days")
def lease_ending(rule, today: date):
    managers = _managers_by_park()
    leases = (Assignment.objects.active().filter(
        kind=Assignment.Kind.LEASE, end__gt=today, end__lte=today + timedelta(days=rule.days + 1))
        .select_related("unit", "company").order_by("pk"))
    for lease in leases.iterator(chunk_size=CHUNK):
        recipients = managers.get(lease.unit.park_id, ())
        if recipients:
            # One reminder per threshold: due on the day the lease entered the window.
            yield Due(record=lease, recipient_ids=recipients,
                      due_on=lease.last_day - timedelta(days=rule.days),
                      title=_("Lease of %(unit)s (%(company)s) ends on %(day)s") % {
                          "unit": lease.unit.code, "company": lease.company.name,
                          "day": lease.last_day},
                      link=reverse("parks:unit-detail", args=[lease.unit_id]))
