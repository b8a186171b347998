"""Reads for park space: inventory, availability, unit status and occupancy. Figures are
computed in SQL (one aggregate per report, whatever the number of units)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Sum,
    Value,
    When,
)
from django.shortcuts import get_object_or_404

from leads.models import project_readable

from .models import Assignment, Building, Floor, Park, RentUnit, Unit, UnitUse, covering

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))
AREA = DecimalField(max_digits=14, decimal_places=2)
EXPIRY_WINDOWS = (30, 60, 90)  # days; DOMAIN.md: leases expiring in 30/60/90 days
DAYS_PER_MONTH = Decimal("365") / Decimal("12")


def park_list(*, user):
    return Park.objects.visible_to(user).filter(is_active=True).prefetch_related("managers")


def park_get(*, user, pk: int) -> Park:
    return get_object_or_404(Park.objects.visible_to(user).prefetch_related("managers"), pk=pk)


def building_get(*, user, pk: int) -> Building:
    return get_object_or_404(
        Building.objects.filter(park__in=Park.objects.visible_to(user)).select_related("park"),
        pk=pk,
    )


def building_grid(*, building: Building, on: date) -> list[Floor]:
    """Floors (top first) with their units, each annotated with its status on `on`."""
    units = Unit.objects.with_status_on(on).order_by("code")
    return list(building.floors.order_by("-number").prefetch_related(
        Prefetch("units", queryset=units)))


def building_list(*, park: Park):
    return park.buildings.order_by("code")


def land_parcels(*, park: Park, on: date) -> list[Unit]:
    """The park's land parcels with their status on `on` (one query)."""
    return list(Unit.objects.filter(park=park, use=UnitUse.LAND).with_status_on(on)
                .order_by("code"))


def unit_status_on(*, unit: Unit, on: date) -> str:
    """A unit's status on `on`, derived from every assignment, including those the user may
    not read: an investment officer still needs to know the unit is taken."""
    return (Unit.objects.filter(pk=unit.pk).with_status_on(on)
            .values_list("status_code", flat=True).get())


def unit_get(*, user, pk: int) -> Unit:
    return get_object_or_404(
        Unit.objects.visible_to(user).select_related("park", "building", "floor"), pk=pk)


def unit_assignments(*, user, unit: Unit):
    return (assignment_list(user=user).filter(unit=unit)
            .select_related("converted_from"))


def assignment_list(*, user):
    """Assignments `user` may read; `project_readable` says whether they may open the project
    (a park manager reads the bookings of a confidential project without its name)."""
    return (Assignment.objects.visible_to(user)
            .select_related("unit", "unit__park", "company", "project")
            .annotate(project_readable=project_readable(user))
            .order_by("-start", "-pk"))


def assignment_get(*, user, pk: int) -> Assignment:
    return get_object_or_404(assignment_list(user=user), pk=pk)


def _monthly_rent():
    """List rent as 元/m²·month in SQL, so units quoted per day and per month compare."""
    return Case(
        When(rent_unit=RentUnit.PER_DAY, then=ExpressionWrapper(
            F("list_rent") * DAYS_PER_MONTH, output_field=AREA)),
        default=F("list_rent"), output_field=AREA,
    )


def unit_free_between(*, unit, start: date, end: date | None) -> bool:
    """Is the unit free for the whole period [start, end)? The search's own rule."""
    return Unit.objects.filter(pk=unit.pk).free_between(start, end).exists()


def availability_search(*, user, start: date, end: date | None = None, park=None, use: str = "",
                        min_area=None, max_area=None, max_monthly_rent=None):
    """Rentable units free for the whole period [start, end), cheapest first."""
    units = (Unit.objects.visible_to(user).free_between(start, end)
             .select_related("park", "building", "floor")
             .annotate(monthly_rent=_monthly_rent()))
    if park:
        units = units.filter(park=park)
    if use:
        units = units.filter(use=use)
    if min_area:
        units = units.filter(gross_area_m2__gte=min_area)
    if max_area:
        units = units.filter(gross_area_m2__lte=max_area)
    if max_monthly_rent:
        units = units.filter(monthly_rent__lte=max_monthly_rent)
    # Unpriced units ("rent on request") after every priced one, not first as NULLs sort.
    return units.order_by(F("monthly_rent").asc(nulls_last=True), "gross_area_m2", "pk")


# --- Occupancy -------------------------------------------------------------------------------
@dataclass
class OccupancyRow:
    label: str
    park_id: int
    building_id: int | None
    rentable: Decimal = Decimal("0")
    leased: Decimal = Decimal("0")
    rent_paying: Decimal = Decimal("0")
    reserved: Decimal = Decimal("0")
    units: int = 0
    buildings: list = field(default_factory=list)

    @property
    def vacant(self) -> Decimal:
        return max(Decimal("0"), self.rentable - self.leased - self.reserved)

    @property
    def occupancy_rate(self) -> Decimal | None:
        """出租率 = leased area ÷ rentable area (None when nothing is rentable: shown as —)."""
        return _rate(self.leased, self.rentable)

    @property
    def rent_paying_rate(self) -> Decimal | None:
        """计租率 = rent-paying area ÷ rentable area (rent-free periods excluded)."""
        return _rate(self.rent_paying, self.rentable)


def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part * 100 / whole).quantize(Decimal("0.1"))


def _occupancy_units(*, user, park=None):
    """Building units (land parcels are reported apart) counted in the occupancy figures."""
    units = Unit.objects.visible_to(user).filter(rentable=True).exclude(use=UnitUse.LAND)
    if park:
        units = units.filter(park=park)
    return units


def _occupancy_figures(*, user, on: date, park=None) -> list[dict]:
    """Per (park, building): rentable area and units, and the leased, rent-paying and reserved
    area on `on`.

    Three grouped queries (the units; the assignments covering `on`; the units held but not
    occupied) instead of four correlated subqueries for every unit (100 ms for 6k units, issue
    8). Each is a plain hash join: in WHERE, PostgreSQL turns EXISTS into a semi or anti join,
    where a correlated subquery in an aggregate would run once per row (and its estimated cost
    alone switched on the JIT compiler, 60 ms). A unit counts as reserved once, however many
    holds it has, and only while nothing occupies it."""
    units = _occupancy_units(user=user, park=park)
    zero = Decimal("0")
    by_building = {
        (row["park_id"], row["building_id"]): {**row, "leased": zero, "paying": zero,
                                               "reserved": zero}
        for row in units.order_by()
        .values("park_id", "building_id", "park__name", "building__name")
        .annotate(rentable=Sum("gross_area_m2"), units=Count("pk"))
    }
    covering_on = Assignment.objects.occupying_on(on)
    occupying = covering_on.filter(kind__in=Assignment.OCCUPYING_KINDS)
    areas = (
        occupying.filter(unit__in=units.values("pk")).order_by()
        .values("unit__park_id", "unit__building_id")
        .annotate(
            leased=Sum("area_m2"),
            paying=Sum("area_m2", filter=Q(kind=Assignment.Kind.LEASE) & (
                Q(rent_free_until__isnull=True) | Q(rent_free_until__lte=on))),
        )
    )
    for row in areas:
        figures = by_building.get((row["unit__park_id"], row["unit__building_id"]))
        if figures is not None:
            figures.update(leased=row["leased"] or zero, paying=row["paying"] or zero)
    held = (
        units.filter(Exists(covering_on.filter(unit=OuterRef("pk"),
                                               kind__in=Assignment.HOLDING_KINDS)))
        .exclude(Exists(occupying.filter(unit=OuterRef("pk"))))
        .order_by().values("park_id", "building_id").annotate(reserved=Sum("gross_area_m2"))
    )
    for row in held:
        by_building[(row["park_id"], row["building_id"])]["reserved"] = row["reserved"] or zero
    return list(by_building.values())


def occupancy_report(*, user, on: date, park=None) -> list[OccupancyRow]:
    """Per park, with its buildings: rentable, leased, rent-paying, reserved and vacant area,
    出租率 and 计租率 on `on`, in three grouped queries (the names come with the units)."""
    rows = _occupancy_figures(user=user, on=on, park=park)
    parks: dict[int, OccupancyRow] = {}
    for row in rows:
        park_row = parks.setdefault(row["park_id"], OccupancyRow(
            label=row["park__name"], park_id=row["park_id"], building_id=None))
        building = OccupancyRow(
            label=row["building__name"] or "—", park_id=row["park_id"],
            building_id=row["building_id"], rentable=row["rentable"] or Decimal("0"),
            leased=row["leased"] or Decimal("0"), rent_paying=row["paying"] or Decimal("0"),
            reserved=row["reserved"] or Decimal("0"), units=row["units"] or 0,
        )
        park_row.buildings.append(building)
        for attr in ("rentable", "leased", "rent_paying", "reserved", "units"):
            setattr(park_row, attr, getattr(park_row, attr) + getattr(building, attr))
    result = sorted(parks.values(), key=lambda r: r.label)
    for park_row in result:
        park_row.buildings.sort(key=lambda b: b.label)
    return result


def occupancy_total(rows: list[OccupancyRow]) -> OccupancyRow:
    total = OccupancyRow(label="", park_id=0, building_id=None)
    for row in rows:
        for attr in ("rentable", "leased", "rent_paying", "reserved", "units"):
            setattr(total, attr, getattr(total, attr) + getattr(row, attr))
    return total


def expiring_leases(*, user, on: date, within: int = 90, park=None):
    """Active leases whose last day falls within `within` days after `on`."""
    leases = (Assignment.objects.visible_to(user).active()
              .filter(kind=Assignment.Kind.LEASE, end__gt=on,
                      end__lte=on + timedelta(days=within + 1))
              .select_related("unit", "unit__park", "company").order_by("end", "pk"))
    if park:
        leases = leases.filter(unit__park=park)
    return leases


def expiring_counts(*, user, on: date, park=None) -> dict[int, int]:
    """How many leases end within 30, 60 and 90 days, in one query."""
    leases = expiring_leases(user=user, on=on, within=max(EXPIRY_WINDOWS), park=park)
    sums = leases.aggregate(**{
        f"d{days}": Sum(Case(When(end__lte=on + timedelta(days=days + 1), then=Value(1)),
                             default=Value(0)))
        for days in EXPIRY_WINDOWS
    })
    return {days: sums[f"d{days}"] or 0 for days in EXPIRY_WINDOWS}


def month_ends(on: date, months: int) -> list[date]:
    ends, year, month = [], on.year, on.month
    for _ in range(months):
        first_of_next = date(year + (month == 12), month % 12 + 1, 1)
        ends.append(min(first_of_next - timedelta(days=1), on))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(ends))


def occupancy_trend(*, user, on: date, months: int = 12, park=None) -> list[dict]:
    """出租率 at each month end over the last `months` months: one query for the leased area
    at every month end (conditional sums), one for the rentable area."""
    days = month_ends(on, months)
    # Occupancy is a property of the inventory: count every lease, as occupancy_report does,
    # whoever may read the individual assignments.
    leases = (Assignment.objects
              .filter(status__in=Assignment.COUNTING_STATUSES,
                      kind__in=Assignment.OCCUPYING_KINDS, unit__rentable=True)
              .exclude(unit__use=UnitUse.LAND))
    units = Unit.objects.visible_to(user).filter(rentable=True).exclude(use=UnitUse.LAND)
    if park:
        leases = leases.filter(unit__park=park)
        units = units.filter(park=park)
    sums = leases.aggregate(**{
        f"m{i}": Sum(Case(When(covering(day), then=F("area_m2")), default=ZERO,
                          output_field=AREA))
        for i, day in enumerate(days)
    })
    rentable = units.aggregate(total=Sum("gross_area_m2"))["total"] or Decimal("0")
    return [{"month": day.strftime("%Y-%m"), "leased": sums[f"m{i}"] or Decimal("0"),
             "rentable": rentable, "rate": _rate(sums[f"m{i}"] or Decimal("0"), rentable)}
            for i, day in enumerate(days)]
