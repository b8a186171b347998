"""Plan targets. Only the goal is typed in (by an administrator, on the settings screen); the
actual is always computed from the data (selectors.target_progress), so nobody can "update"
progress."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.core.models import FieldConstraintsMixin


class Metric(models.TextChoices):
    """The figures a target can be set on: each one is computable (selectors.METRICS says how)."""

    SPECIALISED_SMES = "specialised_smes", _("Specialised and sophisticated SMEs (companies)")
    LEADING_FIRMS = "leading_firms", _("Leading firms (chain leaders)")
    SCENARIOS = "scenarios", _("Application scenario projects")
    CARRIER_AREA = "carrier_area_m2", _("Carrier space (m²)")
    INDUSTRY_OUTPUT = "industry_output", _("Industry scale (CNY 100M)")


# Only the space in the parks' inventory has a place; the other metrics count the whole city.
SCOPED_METRICS = (Metric.CARRIER_AREA,)


class Target(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"target_years_ordered": "year_to", "target_value_positive": "value",
                         "target_scope_only_for_space": "park"}

    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    year_from = models.PositiveSmallIntegerField(
        _("from year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    year_to = models.PositiveSmallIntegerField(
        _("to year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text=_("Signings from 1 January of the first year to 31 December of this year "
                    "count towards the target."))
    value = models.DecimalField(
        _("target value"), max_digits=14, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("In the metric's unit: companies, projects, m², or CNY 100M (亿元) for the "
                    "industry scale."))
    park = models.ForeignKey(
        "parks.Park", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("park"), help_text=_("Carrier space only: count this park alone."))
    city = models.CharField(
        _("city"), max_length=40, blank=True,
        help_text=_("Carrier space only: count the parks of this city (as written on the park), "
                    "e.g. 昆山市. Empty: every park."))
    source = models.CharField(_("source"), max_length=200, blank=True,
                              help_text=_("The plan or document that sets the target."))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    # Who set or changed a goal, and from what: plan targets are what leaders are judged by.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-year_to", "order", "metric", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(year_to__gte=models.F("year_from")),
                                   name="target_years_ordered",
                                   violation_error_message=_("The last year cannot be before "
                                                             "the first.")),
            models.CheckConstraint(condition=Q(value__gt=0), name="target_value_positive",
                                   violation_error_message=_("A target is a positive figure.")),
            models.CheckConstraint(
                condition=Q(metric__in=SCOPED_METRICS) | (Q(park__isnull=True) & Q(city="")),
                name="target_scope_only_for_space",
                violation_error_message=_("Only a carrier space target is set per park or "
                                          "city.")),
        ]

    def __str__(self) -> str:
        years = (str(self.year_to) if self.year_from == self.year_to
                 else f"{self.year_from}–{self.year_to}")
        return f"{self.get_metric_display()} · {years}"

    @property
    def scope_label(self) -> str:
        if self.park_id:
            return str(self.park)
        return self.city
