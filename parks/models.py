"""Park space: parks, buildings, floors, units (and land parcels), and the assignments of units
to companies. The invariant that matters most: never two active assignments of one unit whose
periods overlap. PostgreSQL enforces it with an exclusion constraint (migration 0002); the
service checks first (for a friendly message) under a lock on the unit row.

Periods are half-open [start, end): `end` is the first day the unit is free again, so
back-to-back assignments ([Jan 1, Feb 1) then [Feb 1, Mar 1)) never overlap. People type and
read the last day (inclusive) on every screen and export; the forms convert.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.accounts.roles import Role, user_roles
from crm.core.models import FieldConstraintsMixin

POSITIVE = [MinValueValidator(Decimal("0.01"))]


class ParkQuerySet(models.QuerySet):
    def visible_to(self, user):
        # Space is not secret: everyone with a role may read the inventory; editing is limited
        # to the park's managers (permissions.py).
        return self if user_roles(user) else self.none()

    def managed_by(self, user):
        return self.filter(managers=user)


class Park(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    city = models.CharField(_("city"), max_length=40, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    region_code = models.CharField(_("region code (GB/T 2260)"), max_length=6, blank=True)
    managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                      related_name="managed_parks", verbose_name=_("managers"))
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    objects = ParkQuerySet.as_manager()

    class Meta:
        verbose_name = _("park")
        verbose_name_plural = _("parks")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Building(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"building_code_unique_in_park": "code"}

    park = models.ForeignKey(Park, on_delete=models.PROTECT, related_name="buildings",
                             verbose_name=_("park"))
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["park", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["park", "code"], name="building_code_unique_in_park",
                violation_error_message=_("The park has a building with this code already."))
        ]

    def __str__(self) -> str:
        return self.name


class Floor(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"floor_unique_in_building": "number"}

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="floors")
    number = models.SmallIntegerField(_("floor"), help_text=_("Negative for basements."))
    label = models.CharField(_("label"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("floor")
        verbose_name_plural = _("floors")
        ordering = ["building", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "number"], name="floor_unique_in_building",
                violation_error_message=_("The building has this floor already."))
        ]

    def __str__(self) -> str:
        return self.label or f"{self.number}F"


class UnitUse(models.TextChoices):
    OFFICE = "office", _("Office")
    RND = "rnd", _("R&D")
    FACTORY = "factory", _("Factory")
    WAREHOUSE = "warehouse", _("Warehouse")
    SHOP = "shop", _("Shop")
    LAND = "land", _("Land parcel")


class RentUnit(models.TextChoices):
    PER_DAY = "day", _("yuan/m²·day")
    PER_MONTH = "month", _("yuan/m²·month")


class UnitStatus(models.TextChoices):
    LEASED = "leased", _("Leased")
    RESERVED = "reserved", _("Reserved")
    VACANT = "vacant", _("Vacant")
    UNRENTABLE = "unrentable", _("Not rentable")


def overlapping(start: date, end: date | None, prefix: str = "") -> Q:
    """Assignments whose [start, end) overlaps [start, end); a missing end is open-ended.
    Written with plain comparisons so SQLite (the demo) answers the same as PostgreSQL."""
    p = prefix
    q = Q(**{f"{p}end__isnull": True}) | Q(**{f"{p}end__gt": start})
    if end is not None:
        q &= Q(**{f"{p}start__lt": end})
    return q


def covering(on: date, prefix: str = "") -> Q:
    return overlapping(on, on + timedelta(days=1), prefix)


class UnitQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(park__in=Park.objects.visible_to(user))

    def free_between(self, start: date, end: date | None):
        busy = Assignment.objects.filter(unit=OuterRef("pk"), status=Assignment.Status.ACTIVE) \
            .filter(overlapping(start, end))
        return self.filter(rentable=True).exclude(Exists(busy))

    def with_status_on(self, on: date):
        """Annotate `status_code` (leased/reserved/vacant/unrentable) on a date, in SQL."""
        active = Assignment.objects.filter(unit=OuterRef("pk")).occupying_on(on)
        return self.annotate(
            _leased=Exists(active.filter(kind__in=Assignment.OCCUPYING_KINDS)),
            _held=Exists(active.filter(kind__in=Assignment.HOLDING_KINDS)),
        ).annotate(
            status_code=models.Case(
                models.When(rentable=False, then=models.Value(UnitStatus.UNRENTABLE)),
                models.When(_leased=True, then=models.Value(UnitStatus.LEASED)),
                models.When(_held=True, then=models.Value(UnitStatus.RESERVED)),
                default=models.Value(UnitStatus.VACANT),
                output_field=models.CharField(),
            )
        )


class Unit(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"unit_code_unique_in_park": "code", "unit_area_positive": "gross_area_m2",
                         "unit_usable_within_gross": "usable_area_m2"}

    park = models.ForeignKey(Park, on_delete=models.PROTECT, related_name="units",
                             verbose_name=_("park"))
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="units", verbose_name=_("building"))
    floor = models.ForeignKey(Floor, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="units", verbose_name=_("floor"))
    code = models.CharField(_("unit code"), max_length=30)
    use = models.CharField(_("use"), max_length=10, choices=UnitUse.choices)
    gross_area_m2 = models.DecimalField(_("gross area (m²)"), max_digits=10, decimal_places=2,
                                        validators=POSITIVE)
    usable_area_m2 = models.DecimalField(_("usable area (m²)"), max_digits=10, decimal_places=2,
                                         null=True, blank=True, validators=POSITIVE)
    floor_height_m = models.DecimalField(_("floor height (m)"), max_digits=5, decimal_places=2,
                                         null=True, blank=True)
    floor_load_kn_m2 = models.DecimalField(_("floor load (kN/m²)"), max_digits=6,
                                           decimal_places=2, null=True, blank=True)
    list_rent = models.DecimalField(_("list rent"), max_digits=10, decimal_places=2, null=True,
                                    blank=True)
    rent_unit = models.CharField(_("rent unit"), max_length=5, choices=RentUnit.choices,
                                 default=RentUnit.PER_DAY)
    property_fee = models.DecimalField(_("property fee (yuan/m²·month)"), max_digits=8,
                                       decimal_places=2, null=True, blank=True)
    rentable = models.BooleanField(_("rentable"), default=True)
    history = HistoricalRecords()

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["park", "building", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["park", "code"], name="unit_code_unique_in_park",
                violation_error_message=_("The park has a unit with this code already.")),
            models.CheckConstraint(condition=Q(gross_area_m2__gt=0), name="unit_area_positive",
                                   violation_error_message=_("The area must be positive.")),
            models.CheckConstraint(
                condition=Q(usable_area_m2__isnull=True)
                | Q(usable_area_m2__lte=models.F("gross_area_m2")),
                name="unit_usable_within_gross",
                violation_error_message=_("The usable area cannot exceed the gross area."),
            ),
        ]
        indexes = [
            models.Index(fields=["park", "use", "gross_area_m2"]),
            models.Index(fields=["use", "rentable"]),
        ]

    def __str__(self) -> str:
        # The park by its name (a reader knows 昆山元宇宙产业园, not its code ks_yunkun).
        return f"{self.park.name} · {self.code}" if self.park_id else self.code

    @property
    def monthly_rent_per_m2(self) -> Decimal | None:
        """List rent as 元/m²·month, so units quoted per day and per month compare."""
        if self.list_rent is None:
            return None
        if self.rent_unit == RentUnit.PER_DAY:
            return (self.list_rent * Decimal("365") / Decimal("12")).quantize(Decimal("0.01"))
        return self.list_rent


class AssignmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        roles = user_roles(user)
        if not roles:
            return self.none()
        if roles & {Role.LEADER, Role.ADMINISTRATOR, Role.FUND_REVIEWER}:
            return self
        q = Q(pk__in=[])
        if Role.PARK_MANAGER in roles:
            q |= Q(unit__park__managers=user)
        if Role.INVESTMENT_STAFF in roles:
            from leads.models import Project

            q |= Q(project__in=Project.objects.visible_to(user).values("pk"))
        return self.filter(pk__in=Assignment.objects.filter(q).values("pk"))

    def active(self):
        return self.filter(status=Assignment.Status.ACTIVE)

    def occupying_on(self, day: date):
        """Assignments that held the unit on `day`: active ones, and ended ones (whose end was
        cut to the day they really ended), so past dates report what really happened."""
        return self.filter(status__in=Assignment.COUNTING_STATUSES).filter(covering(day))


class Assignment(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"assignment_end_after_start": "end",
                         "assignment_area_positive": "area_m2",
                         "reservation_has_hold_until": "hold_until",
                         "only_sales_are_open_ended": "end"}

    class Kind(models.TextChoices):
        RESERVATION = "reservation", _("Reservation")
        INTENT = "intent", _("Letter of intent")
        LEASE = "lease", _("Lease")
        SALE = "sale", _("Sale")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        TERMINATED = "terminated", _("Terminated")

    class Outcome(models.TextChoices):
        """How a reservation ended."""

        NONE = "", _("—")
        CONVERTED = "converted", _("Converted to a lease")
        RELEASED = "released", _("Released")
        EXPIRED = "expired", _("Expired")

    OCCUPYING_KINDS = (Kind.LEASE, Kind.SALE)
    COUNTING_STATUSES = (Status.ACTIVE, Status.ENDED)
    HOLDING_KINDS = (Kind.RESERVATION, Kind.INTENT)

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments",
                             verbose_name=_("unit"))
    company = models.ForeignKey("leads.Company", on_delete=models.PROTECT,
                                related_name="space_assignments", verbose_name=_("company"))
    project = models.ForeignKey("leads.Project", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="space_assignments",
                                verbose_name=_("project"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.ACTIVE)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True,
                               default="")
    start = models.DateField(_("start"))
    end = models.DateField(
        _("end (exclusive)"), null=True, blank=True,
        help_text=_("The first day the unit is free again; empty for a sale."),
    )
    hold_until = models.DateField(_("hold until"), null=True, blank=True,
                                  help_text=_("A reservation expires after this day."))
    area_m2 = models.DecimalField(_("area (m²)"), max_digits=10, decimal_places=2,
                                  validators=POSITIVE)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True,
                                blank=True, help_text=_("Rent per m² in the unit's rent unit, "
                                                        "or the total sale price in yuan."))
    rent_free_until = models.DateField(
        _("rent-free until (exclusive)"), null=True, blank=True,
        help_text=_("Fit-out period: no rent is due before this day."),
    )
    converted_from = models.OneToOneField("self", on_delete=models.PROTECT, null=True,
                                          blank=True, related_name="converted_to")
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["-start", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gt=models.F("start")),
                                   name="assignment_end_after_start",
                                   violation_error_message=_("The period must end after it "
                                                             "starts.")),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="assignment_area_positive",
                                   violation_error_message=_("The area must be positive.")),
            models.CheckConstraint(
                condition=~Q(kind="reservation") | Q(hold_until__isnull=False),
                name="reservation_has_hold_until",
                violation_error_message=_("A reservation needs the day its hold ends."),
            ),
            models.CheckConstraint(condition=Q(end__isnull=False) | Q(kind="sale"),
                                   name="only_sales_are_open_ended",
                                   violation_error_message=_("Only a sale may be open-ended: "
                                                             "give the last day.")),
            # The no-overlap exclusion constraint is PostgreSQL-only: see migration 0002.
        ]
        indexes = [
            models.Index(fields=["unit", "status", "start"]),
            models.Index(fields=["status", "kind", "end"]),
            models.Index(fields=["status", "hold_until"]),
            models.Index(fields=["company"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.unit} {self.start}–{self.last_day or '…'}"

    @property
    def last_day(self) -> date | None:
        """The last day of the period, as people write it (inclusive)."""
        return self.end - timedelta(days=1) if self.end else None
