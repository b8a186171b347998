"""Writes for park space. The booking services lock the unit row before checking for a clash,
so concurrent bookings of one unit queue up and the second sees the first; PostgreSQL's
exclusion constraint stays the final guarantee (an IntegrityError becomes the same 409).

Every write takes its actor `by` and asks parks/permissions.py first: a park's managers (and
administrators) keep its inventory and book its units. reservations_expire is the system's own
job (beat), made by nobody."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.exceptions import ConflictError
from crm.core.permissions import require
from leads.models import Project

from . import permissions
from .models import Assignment, Building, Floor, Park, Unit, overlapping

MANAGERS_ONLY = _("Only the park's managers and administrators change its space.")

RESERVATION_HOLD_DAYS = 14  # default hold of a one-click reservation ("match space")


def _clash_message(clash: Assignment) -> str:
    return _(
        "Unit %(unit)s is already taken from %(start)s to %(last)s by %(company)s "
        "(%(kind)s #%(id)s)."
    ) % {"unit": clash.unit.code, "start": clash.start, "last": clash.last_day or "…",
         "company": clash.company.name, "kind": clash.get_kind_display(), "id": clash.pk}


def find_clash(*, unit: Unit, start: date, end: date | None, exclude_pk=None):
    clashes = (Assignment.objects.active().filter(unit=unit).filter(overlapping(start, end))
               .select_related("company", "unit").order_by("start"))
    if exclude_pk:
        clashes = clashes.exclude(pk=exclude_pk)
    return clashes.first()


def _lock_unit(unit: Unit) -> Unit:
    # On PostgreSQL this row lock queues concurrent bookings of the same unit. SQLite has no
    # row locks; there the IMMEDIATE transaction (settings) already holds the database's
    # single write lock from the start of the atomic block.
    return Unit.objects.select_for_update().select_related("park").get(pk=unit.pk)


def _save_active(assignment: Assignment) -> Assignment:
    clash = find_clash(unit=assignment.unit, start=assignment.start, end=assignment.end,
                       exclude_pk=assignment.pk)
    if clash:
        raise ConflictError(_clash_message(clash), existing=clash, code="overlap")
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        clash = find_clash(unit=assignment.unit, start=assignment.start, end=assignment.end,
                           exclude_pk=assignment.pk)
        if clash is None:
            raise
        raise ConflictError(_clash_message(clash), existing=clash, code="overlap")
    return assignment


@transaction.atomic
def assignment_create(*, unit: Unit, company, kind: str, start: date,
                      end: date | None = None, by, project=None, area_m2: Decimal | None = None,
                      price: Decimal | None = None, rent_free_until: date | None = None,
                      hold_until: date | None = None, note: str = "",
                      status: str = Assignment.Status.ACTIVE,
                      converted_from: Assignment | None = None) -> Assignment:
    """Book a unit for [start, end). `end` is exclusive (the first free day)."""
    require(permissions.can_book_unit(by, unit), MANAGERS_ONLY)
    if end is None and kind != Assignment.Kind.SALE:
        # The database's only_sales_are_open_ended says the same; this says it on the field.
        raise ValidationError({"end": _("Only a sale may be open-ended: give the last day.")})
    unit = _lock_unit(unit)
    if project is not None and project.company_id != company.pk:
        raise ValidationError({"project": _("The project belongs to another company.")})
    if project is not None and not Project.objects.visible_to(by).filter(pk=project.pk).exists():
        # A project the booker may not open does not exist for them (it may be confidential).
        raise ValidationError({"project": _("No such project.")})
    if not unit.rentable:
        raise ValidationError({"unit": _("Unit %(unit)s is not rentable.") % {"unit": unit.code}})
    if kind == Assignment.Kind.RESERVATION and hold_until is None:
        hold_until = min(start, timezone.localdate()) + timedelta(days=RESERVATION_HOLD_DAYS)
    assignment = Assignment(
        unit=unit, company=company, project=project, kind=kind, start=start, end=end,
        area_m2=area_m2 or unit.gross_area_m2, price=price, rent_free_until=rent_free_until,
        hold_until=hold_until, note=note, status=status, created_by=by,
        converted_from=converted_from,
    )
    assignment.full_clean(validate_constraints=False, validate_unique=False)
    if end is not None and end <= start:
        raise ValidationError({"end": _("The period must end after it starts.")})
    if area_m2 and area_m2 > unit.gross_area_m2:
        raise ValidationError({"area_m2": _("The area is larger than the unit (%(area)s m²).")
                               % {"area": unit.gross_area_m2}})
    if status == Assignment.Status.ACTIVE:
        return _save_active(assignment)
    assignment.save()
    return assignment


@transaction.atomic
def assignment_activate(*, assignment: Assignment, by) -> Assignment:
    """Draft -> active, with the same clash check as a new booking."""
    require(permissions.can_change_assignment(by, assignment), MANAGERS_ONLY)
    _lock_unit(assignment.unit)
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.status != Assignment.Status.DRAFT:
        raise ConflictError(_("Only a draft can be activated."), code="state")
    assignment.status = Assignment.Status.ACTIVE
    return _save_active(assignment)


def _close(assignment: Assignment, *, on: date, outcome: str = "") -> Assignment:
    """Stop an assignment from `on` (the first free day). A period that has not started is
    terminated (it never happened); one that ends today or earlier becomes ended; a future end
    keeps it active with the shorter period, so the unit stays protected until then."""
    if on <= assignment.start:
        assignment.status = Assignment.Status.TERMINATED
    else:
        if assignment.end is None or on < assignment.end:
            assignment.end = on
        if assignment.end <= timezone.localdate() + timedelta(days=1):
            assignment.status = Assignment.Status.ENDED
    assignment.outcome = outcome
    assignment.save()
    return assignment


def _locked_active(assignment: Assignment) -> Assignment:
    _lock_unit(assignment.unit)
    locked = Assignment.objects.select_for_update().select_related("unit").get(pk=assignment.pk)
    if locked.status != Assignment.Status.ACTIVE:
        raise ConflictError(
            _("This assignment is %(status)s already.") % {"status": locked.get_status_display()},
            code="state")
    return locked


@transaction.atomic
def assignment_end(*, assignment: Assignment, last_day: date, by) -> Assignment:
    """End a lease (or anything active) after `last_day`; the unit is free from the next day."""
    require(permissions.can_change_assignment(by, assignment), MANAGERS_ONLY)
    assignment = _locked_active(assignment)
    return _close(assignment, on=last_day + timedelta(days=1))


@transaction.atomic
def assignment_terminate(*, assignment: Assignment, by) -> Assignment:
    """Cancel an assignment entered by mistake or called off before it started."""
    require(permissions.can_change_assignment(by, assignment), MANAGERS_ONLY)
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.status in (Assignment.Status.ENDED, Assignment.Status.TERMINATED):
        raise ConflictError(_("This assignment is closed already."), code="state")
    assignment.status = Assignment.Status.TERMINATED
    assignment.save()
    return assignment


@transaction.atomic
def reservation_release(*, assignment: Assignment, by) -> Assignment:
    require(permissions.can_change_assignment(by, assignment), MANAGERS_ONLY)
    assignment = _locked_active(assignment)
    if assignment.kind not in Assignment.HOLDING_KINDS:
        raise ConflictError(_("Only a reservation or intent can be released."), code="state")
    return _close(assignment, on=max(timezone.localdate(), assignment.start),
                  outcome=Assignment.Outcome.RELEASED)


@transaction.atomic
def reservation_convert(*, assignment: Assignment, by, start: date | None = None,
                        end: date, price: Decimal | None = None,
                        rent_free_until: date | None = None, kind: str = Assignment.Kind.LEASE
                        ) -> Assignment:
    """Turn a reservation into a lease (or sale). The reservation is kept, closed with the
    outcome "converted", and the lease points back to it: the history stays readable."""
    require(permissions.can_change_assignment(by, assignment), MANAGERS_ONLY)
    reservation = _locked_active(assignment)
    if reservation.kind not in Assignment.HOLDING_KINDS:
        raise ConflictError(_("Only a reservation or intent can be converted."), code="state")
    start = start or reservation.start
    # The hold ends where the lease begins (a hold that had not started yet is closed as never
    # having happened); if the lease starts later, the unit stays held until then.
    _close(reservation, on=start, outcome=Assignment.Outcome.CONVERTED)
    return assignment_create(
        unit=reservation.unit, company=reservation.company, project=reservation.project,
        kind=kind, start=start, end=end, by=by, area_m2=reservation.area_m2, price=price,
        rent_free_until=rent_free_until, converted_from=reservation,
    )


def reservations_expire(*, today: date | None = None, batch_size: int = 500) -> int:
    """Close reservations whose hold has run out. Walks in bounded batches; each row is
    claimed with a conditional UPDATE, so two runs at once never expire a row twice."""
    today = today or timezone.localdate()
    expired = 0
    while True:
        ids = list(
            Assignment.objects.filter(status=Assignment.Status.ACTIVE,
                                      kind=Assignment.Kind.RESERVATION, hold_until__lt=today)
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return expired
        for pk in ids:
            with transaction.atomic():
                row = (Assignment.objects.select_for_update(skip_locked=True)
                       .filter(pk=pk, status=Assignment.Status.ACTIVE).first())
                if row is None:
                    continue
                _close(row, on=row.hold_until + timedelta(days=1),
                       outcome=Assignment.Outcome.EXPIRED)
                expired += 1


# --- Inventory ----------------------------------------------------------------------------------
def park_create(*, by, code: str, name: str, managers=(), **fields) -> Park:
    require(permissions.can_create_park(by), _("Only administrators add parks."))
    park = Park(code=code, name=name, **fields)
    park.full_clean()
    park.save()
    if managers:
        park.managers.set(managers)
    return park


def building_create(*, by, park: Park, code: str, name: str) -> Building:
    require(permissions.can_manage_park(by, park), MANAGERS_ONLY)
    building = Building(park=park, code=code, name=name)
    building.full_clean()
    building.save()
    return building


def _check_building(park: Park, building: Building | None) -> None:
    """A unit's building is one of its own park's (a unit cannot be moved into another
    park's building, by the API's PATCH or any other door)."""
    if building is not None and building.park_id != park.pk:
        raise ValidationError({"building": _("“%(building)s” is a building of another park.")
                               % {"building": building.name}})


@transaction.atomic
def unit_create(*, by, park: Park, code: str, use: str, gross_area_m2: Decimal,
                building: Building | None = None, floor_number: int | None = None,
                **fields) -> Unit:
    require(permissions.can_manage_park(by, park), MANAGERS_ONLY)
    _check_building(park, building)
    floor = None
    if building is not None and floor_number is not None:
        floor, _created = Floor.objects.get_or_create(
            building=building, number=floor_number, defaults={"label": f"{floor_number}F"})
    unit = Unit(park=park, building=building, floor=floor, code=code, use=use,
                gross_area_m2=gross_area_m2, **fields)
    unit.full_clean()
    unit.save()
    return unit


@transaction.atomic
def unit_update(*, unit: Unit, by, **fields) -> Unit:
    require(permissions.can_manage_park(by, unit.park), MANAGERS_ONLY)
    park = fields.get("park", unit.park)
    if park.pk != unit.park_id:
        require(permissions.can_manage_park(by, park), MANAGERS_ONLY)
    building = fields.get("building", unit.building)
    _check_building(park, building)
    if "building" in fields and building is not None and unit.floor_id \
            and unit.floor.building_id != building.pk:
        fields["floor"] = None  # the old floor belongs to the old building
    for key, value in fields.items():
        setattr(unit, key, value)
    unit.full_clean()
    unit.save()
    return unit
