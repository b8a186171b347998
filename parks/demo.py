"""Demo parks of the seed plans (云昆大厦, 昆山元宇宙产业园, 九龙湖, 红谷滩 ...) with buildings,
floors and units, then a mix of leases (some ending soon), reservations (some about to
expire) and vacancies. Deterministic and idempotent."""

from datetime import timedelta
from decimal import Decimal

from crm import demo_content as people
from crm.accounts.models import User
from crm.core.demo import SeedContext, register_seeder
from leads.models import Company, Project, Stage

from . import demo_content, services
from .models import Assignment, Building, Floor, Park, Unit, UnitUse

TENANT_NAMES = ["昆山华拓精密电子有限公司", "苏州云帆信息技术有限公司", "昆山启明光电科技有限公司",
                "江苏数智云图科技有限公司", "南昌赣江数字科技有限公司", "江西红谷创意文化有限公司",
                "上饶信江动漫有限公司", "鹰潭物联智造有限公司", "昆山智汇软件有限公司",
                "苏州星河互动娱乐有限公司", "南昌九州视听科技有限公司", "昆山巨擎机械有限公司"]
BACKGROUND_OCCUPANCY = 0.55  # share of units already let to existing tenants


@register_seeder("parks-inventory", order=10)
def seed_inventory(ctx: SeedContext) -> None:
    managers = {row["username"]: row.get("parks", []) for row in people.USERS
                if row["role"] == "park_manager"}
    for spec in demo_content.PARKS:
        park, created = Park.objects.get_or_create(code=spec["code"], defaults={
            "name": spec["name"], "city": spec["city"], "district": spec["district"],
            "address": spec["address"], "region_code": spec["region_code"]})
        for username, codes in managers.items():
            if spec["code"] in codes:
                park.managers.add(User.objects.get(username=username))
        if created:
            _seed_buildings(ctx, park, spec)
    ctx.shared["park_names"] = dict(Park.objects.values_list("code", "name"))


def _seed_buildings(ctx: SeedContext, park: Park, spec: dict) -> None:
    units = []
    for b in spec["buildings"]:
        building = Building.objects.create(park=park, code=b["code"], name=b["name"])
        low, high = b["unit_area_range"]
        for number in range(1, b["floors"] + 1):
            floor = Floor.objects.create(building=building, number=number, label=f"{number}F")
            for index in range(1, b["units_per_floor"] + 1):
                area = Decimal(ctx.rng.randint(low, high))
                units.append(Unit(
                    park=park, building=building, floor=floor, use=b["unit_use"],
                    code=f"{b['code']}-{number:02d}{index:02d}", gross_area_m2=area,
                    usable_area_m2=(area * Decimal("0.78")).quantize(Decimal("1")),
                    floor_height_m=Decimal(b["floor_height_m"]),
                    floor_load_kn_m2=Decimal(b["floor_load_kn"]), list_rent=Decimal(b["rent"]),
                    rent_unit=b["rent_unit"], property_fee=Decimal(b["property_fee"]),
                    # A few units are kept back (plant rooms, the park's own offices).
                    rentable=ctx.rng.random() > 0.03,
                ))
    for parcel in spec["land_parcels"]:
        units.append(Unit(park=park, code=parcel["code"], use=UnitUse.LAND,
                          gross_area_m2=Decimal(parcel["area_m2"])))
    Unit.objects.bulk_create(units, batch_size=1000)


@register_seeder("parks-assignments", order=30)
def seed_assignments(ctx: SeedContext) -> None:
    if Assignment.objects.exists():
        return
    today = ctx.today
    tenants = [Company.objects.get_or_create(
        name=name, defaults={"source_region": "domestic"})[0] for name in TENANT_NAMES]
    parks = {p.name: p for p in Park.objects.all()}
    # Each park's bookings are made by one of its managers (an administrator where it has none),
    # through the same services and permission checks as the pages.
    administrator = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    booker = {park.pk: park.managers.order_by("pk").first() or administrator
              for park in parks.values()}
    free = {p.pk: list(p.units.filter(rentable=True).exclude(use=UnitUse.LAND)
                       .order_by("code")) for p in parks.values()}
    for units in free.values():
        ctx.rng.shuffle(units)

    # Pipeline projects that have space get a lease or a reservation in their intended park.
    # Confidential projects are not booked by park managers, who may not open them.
    projects = (Project.objects.exclude(intended_park="").filter(confidential=False)
                .select_related("stage", "company").order_by("pk"))
    for project in projects:
        park = parks.get(project.intended_park)
        if park is None:
            continue
        pool = [u for u in free[park.pk] if u.use == project.space_use] or free[park.pk]
        if not pool:
            continue
        unit = pool[0]
        if project.stage.milestone in (Stage.Milestone.LANDED, Stage.Milestone.STARTED,
                                       Stage.Milestone.PRODUCING) or (
                project.stage.kind == Stage.Kind.WON and not project.stage.milestone
                and project.stage.code == "full_capacity"):
            start = today - timedelta(days=ctx.rng.randint(30, 400))
            services.assignment_create(
                by=booker[park.pk], unit=unit, company=project.company, project=project,
                kind="lease", start=start,
                end=start + timedelta(days=3 * 365), price=unit.list_rent,
                rent_free_until=start + timedelta(days=ctx.rng.choice([0, 90, 180, 500])) or None)
        elif project.stage.code in ("framework", "signed", "registered"):
            hold = today + timedelta(days=ctx.rng.choice([1, 2, 5, 12, 20]))
            services.assignment_create(
                by=booker[park.pk], unit=unit, company=project.company, project=project,
                kind="reservation",
                start=today, end=today + timedelta(days=365),
                hold_until=hold, note="意向园区预留")
        else:
            continue
        free[park.pk].remove(unit)

    # Existing tenants fill part of every park; some leases end within 90 days.
    for units in free.values():
        count = int(len(units) * BACKGROUND_OCCUPANCY)
        for number, unit in enumerate(units[:count]):
            tenant = tenants[number % len(tenants)]
            if number % 9 == 0:
                end = today + timedelta(days=ctx.rng.randint(5, 90))  # ending soon
            else:
                end = today + timedelta(days=ctx.rng.randint(120, 1200))
            start = end - timedelta(days=ctx.rng.choice([365, 730, 1095]))
            rent_free = start + timedelta(days=ctx.rng.choice([0, 0, 60, 90]))
            services.assignment_create(
                by=booker[unit.park_id], unit=unit, company=tenant, kind="lease", start=start,
                end=end,
                price=unit.list_rent, rent_free_until=rent_free if rent_free > start else None)
            # Its predecessor: an ended lease, so the trend has history.
            if number % 4 == 0:
                services.assignment_create(
                    by=booker[unit.park_id], unit=unit,
                    company=tenants[(number + 3) % len(tenants)], kind="lease",
                    start=start - timedelta(days=365), end=start, price=unit.list_rent,
                    status=Assignment.Status.ENDED)
    ctx.log(f"  {Assignment.objects.count()} assignments")
