"""Volume data for benchmarks (`seed_demo --scale N`, N > 1): 50×N units in new buildings of
the demo parks and 500×N assignments, written in bulk after the demo world (see
leads/volume.py for why not through the services).

Each unit gets a back-to-back chain of periods, newest last, so no two periods of a unit
overlap (the exclusion constraint would refuse them): past leases are ended, the current one
is an active lease or reservation, and some units are left vacant today. Deterministic.
"""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from crm.core.bulk import analyze, bulk_write, reserve_ids
from crm.core.demo import SeedContext, register_seeder
from leads.models import Company
from leads.volume import volume_scale

from .models import Assignment, Building, Floor, Park, Unit

UNITS_PER_SCALE = 50
ASSIGNMENTS_PER_SCALE = 500
FLOORS_PER_BUILDING = 10
UNITS_PER_FLOOR = 10
USES = [("office", 3.2, 2.5), ("rnd", 2.1, 2.8), ("factory", 0.9, 24.0), ("warehouse", 0.7, 18.0)]


@register_seeder("parks-volume", order=60)
def seed_parks_volume(ctx: SeedContext) -> None:
    scale = volume_scale(ctx)
    if scale <= 1 or Building.objects.filter(code__startswith="V").exists():
        return
    rng = ctx.rng
    today = ctx.today
    parks = list(Park.objects.order_by("code"))
    n_units = UNITS_PER_SCALE * scale
    per_building = FLOORS_PER_BUILDING * UNITS_PER_FLOOR
    units = []
    for b in range((n_units + per_building - 1) // per_building):
        park = parks[b % len(parks)]
        building = Building.objects.create(park=park, code=f"V{b + 1:03d}",
                                           name=f"{b + 1}号楼（扩展）")
        use, rent, height = USES[b % len(USES)]
        floors = Floor.objects.bulk_create(
            [Floor(building=building, number=n, label=f"{n}F")
             for n in range(1, FLOORS_PER_BUILDING + 1)])
        for floor in floors:
            for index in range(1, UNITS_PER_FLOOR + 1):
                if len(units) >= n_units:
                    break
                area = Decimal(rng.randint(80, 2400))
                units.append(Unit(
                    park=park, building=building, floor=floor, use=use,
                    code=f"V{b + 1:03d}-{floor.number:02d}{index:02d}", gross_area_m2=area,
                    usable_area_m2=(area * Decimal("0.78")).quantize(Decimal("1")),
                    floor_height_m=Decimal(str(height)), floor_load_kn_m2=Decimal("5.00"),
                    list_rent=Decimal(str(rent)), rent_unit="day",
                    property_fee=Decimal("6.00"), rentable=rng.random() > 0.03))
    units = Unit.objects.bulk_create(units, batch_size=2000)

    companies = ctx.shared.get("volume_company_ids") or list(
        Company.objects.values_list("pk", flat=True))
    low, high = ctx.shared.get("volume_project_range", (None, None))
    n_assignments = ASSIGNMENTS_PER_SCALE * scale
    per_unit, extra = divmod(n_assignments, len(units))
    first = reserve_ids(Assignment, n_assignments)
    rows = []
    pk = first
    for number, unit in enumerate(units):
        count = per_unit + (1 if number < extra else 0)
        # The newest period ends between 60 days ago (vacant now) and 3 years ahead.
        end = today + timedelta(days=rng.randint(-60, 1100))
        chain = []
        for _step in range(count):
            length = rng.choice([180, 365, 730])
            start = end - timedelta(days=length)
            chain.append((start, end))
            end = start - timedelta(days=rng.choice([0, 0, 15, 40]))
        for step, (start, end) in enumerate(reversed(chain)):
            newest = step == count - 1
            current = newest and end > today
            reservation = current and rng.random() < 0.15
            project = rng.randint(low, high) if low and rng.random() < 0.5 else None
            created = start - timedelta(days=rng.randint(5, 40))
            created_at = datetime.combine(created, time(9, 0), tzinfo=UTC)
            rows.append((
                pk, unit.pk, rng.choice(companies), project,
                "reservation" if reservation else "lease",
                "active" if current else "ended", "", start, end,
                today + timedelta(days=rng.randint(1, 20)) if reservation else None,
                unit.gross_area_m2, unit.list_rent,
                start + timedelta(days=90) if rng.random() < 0.3 else None, None,
                "", None, created_at, created_at))
            pk += 1
    bulk_write(Assignment, [
        "id", "unit_id", "company_id", "project_id", "kind", "status", "outcome", "start", "end",
        "hold_until", "area_m2", "price", "rent_free_until", "converted_from_id", "note",
        "created_by_id", "created_at", "updated_at"], rows)
    analyze("parks_unit", "parks_assignment", "parks_building", "parks_floor")
    ctx.log(f"  volume: {len(units)} units, {len(rows)} assignments")

