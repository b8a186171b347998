"""Agreements (投资协议) and what they bind: obligations, incentives, remedies; the actuals a
project reports per period; confirmed acceptances; leaders' payment overrides and the clawbacks
a failed acceptance proposes.

Investment figures are 万元 (as on the project), incentive and remedy money is 元 (as in the
rest of funds); each field says which. Statuses are computed (rules.py), never typed: the
status kept on an obligation is the rule's answer for today, refreshed by the services that
change its inputs and by a daily task (dates move on), so the list filters on an index.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.accounts.roles import Role, user_roles
from crm.core.models import FieldConstraintsMixin
from leads.models import Project

WAN = {"max_digits": 14, "decimal_places": 2}  # 万元, as Project's figures
YUAN = {"max_digits": 16, "decimal_places": 2}  # 元, as funds' money
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]


class Metric(models.TextChoices):
    """What an obligation measures. Cumulative figures are reached by a due date; yearly ones
    are owed every calendar year from the year it applies from; milestones are met when the
    project reaches the matching stage (Stage.Milestone)."""

    FIXED_ASSET_INVESTMENT = ("fixed_asset_investment",
                              _("Fixed-asset investment (CNY 10k, cumulative)"))
    INVESTMENT_TOTAL = "investment_total", _("Total investment (CNY 10k, cumulative)")
    INVESTMENT_INTENSITY = "investment_intensity", _("Investment intensity (CNY 10k per mu)")
    OUTPUT_VALUE = "output_value", _("Output value (CNY 10k per year)")
    TAX = "tax", _("Tax (CNY 10k per year)")
    TAX_PER_MU = "tax_per_mu", _("Tax per mu (CNY 10k per mu per year)")
    JOBS = "jobs", _("Jobs")
    LAND_ACQUIRED = "land_acquired", _("Land acquired")
    CONSTRUCTION_STARTED = "construction_started", _("Construction started")
    COMPLETED = "completed", _("Construction completed")
    PRODUCTION_STARTED = "production_started", _("Production started")
    FULL_CAPACITY = "full_capacity", _("Full capacity reached")


# The kinds of metric, each listed once; rules.py computes each kind its own way.
CUMULATIVE_METRICS = (Metric.FIXED_ASSET_INVESTMENT, Metric.INVESTMENT_TOTAL,
                      Metric.INVESTMENT_INTENSITY, Metric.JOBS)
YEARLY_METRICS = (Metric.OUTPUT_VALUE, Metric.TAX, Metric.TAX_PER_MU)
MILESTONE_METRICS = (Metric.LAND_ACQUIRED, Metric.CONSTRUCTION_STARTED, Metric.COMPLETED,
                     Metric.PRODUCTION_STARTED, Metric.FULL_CAPACITY)
PER_MU_METRICS = (Metric.INVESTMENT_INTENSITY, Metric.TAX_PER_MU)


class Status(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    DUE_SOON = "due_soon", _("Due soon")
    MET = "met", _("Met")
    MISSED = "missed", _("Missed")
    BREACHED = "breached", _("Breached")


# The badge colour of each status (the traffic lights of the project page and the lists).
STATUS_BADGE = {Status.ON_TRACK: "blue", Status.DUE_SOON: "amber", Status.MET: "green",
                Status.MISSED: "orange", Status.BREACHED: "red"}
# Obligations whose date has come: the denominator of 履约率 (the share of due ones met).
DUE_STATUSES = (Status.MET, Status.MISSED, Status.BREACHED)
AT_RISK_STATUSES = (Status.DUE_SOON, Status.MISSED)


class AgreementQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The project's access rule (ProjectQuerySet.visible_to), for everyone who reads
        agreements; fund reviewers also read every non-confidential one (they check the
        incentives an agreement grants)."""
        roles = user_roles(user)
        if not roles:
            return self.none()
        projects = Project.objects.visible_to(user)
        if not projects.query.where:  # leaders: every project
            return self
        q = Q(project__in=projects.values("pk"))
        if Role.FUND_REVIEWER in roles:
            q |= Q(project__confidential=False)
        return self.filter(q)


class Agreement(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"agreement_fixed_within_committed": "fixed_asset_investment_wan"}

    class Reporting(models.TextChoices):
        YEAR = "year", _("Yearly")
        QUARTER = "quarter", _("Quarterly")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="agreements",
                                verbose_name=_("project"))
    title = models.CharField(_("agreement title"), max_length=200)
    parties = models.CharField(_("parties"), max_length=300,
                               help_text=_("Who signed, e.g. 昆山市人民政府；某某科技有限公司."))
    signed_on = models.DateField(_("signed on"))
    document = models.FileField(_("signed document"), upload_to="agreements/%Y/", blank=True)
    land_mu = models.DecimalField(_("land (mu)"), max_digits=10, decimal_places=2, null=True,
                                  blank=True, validators=NOT_NEGATIVE)
    space_m2 = models.DecimalField(_("space leased (m²)"), max_digits=10, decimal_places=2,
                                   null=True, blank=True, validators=NOT_NEGATIVE)
    committed_investment_wan = models.DecimalField(_("committed total investment (CNY 10k)"),
                                                   **WAN, validators=NOT_NEGATIVE)
    fixed_asset_investment_wan = models.DecimalField(
        _("committed fixed-asset investment (CNY 10k)"), **WAN, null=True, blank=True,
        validators=NOT_NEGATIVE)
    reporting = models.CharField(_("actuals reported"), max_length=7,
                                 choices=Reporting.choices, default=Reporting.YEAR)
    grace_days = models.PositiveSmallIntegerField(
        _("grace period (days)"), default=0,
        help_text=_("A missed obligation is breached once this many days have passed after "
                    "its date."))
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-signed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fixed_asset_investment_wan__isnull=True)
                | Q(fixed_asset_investment_wan__lte=models.F("committed_investment_wan")),
                name="agreement_fixed_within_committed",
                violation_error_message=_("The fixed-asset investment is part of the total "
                                          "investment and cannot exceed it.")),
        ]
        indexes = [models.Index(fields=["project", "signed_on"]),
                   models.Index(fields=["signed_on"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("fulfilment:agreement-detail", args=[self.pk])


class Obligation(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"obligation_target_fits_metric": "target",
                         "obligation_date_fits_metric": "due_on"}

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE,
                                  related_name="obligations", verbose_name=_("agreement"))
    metric = models.CharField(_("metric"), max_length=25, choices=Metric.choices)
    target = models.DecimalField(_("target"), **WAN, null=True, blank=True,
                                 help_text=_("In the metric's unit; milestones have none."))
    due_on = models.DateField(_("due on"), null=True, blank=True,
                              help_text=_("Cumulative figures and milestones: the deadline."))
    applies_from = models.PositiveSmallIntegerField(
        _("owed every year from"), null=True, blank=True,
        help_text=_("Yearly figures (output, tax, tax per mu): the first calendar year."))
    evidence = models.CharField(_("evidence needed"), max_length=200, blank=True)
    # The rule's answer for today (rules.obligation_state), kept for the list's filters and the
    # figures; written only by services.obligations_refresh.
    status = models.CharField(_("status"), max_length=9, choices=Status.choices,
                              default=Status.ON_TRACK, editable=False)
    actual = models.DecimalField(_("actual"), **WAN, null=True, blank=True, editable=False)
    checked_on = models.DateField(_("status as of"), null=True, blank=True, editable=False)
    breached_on = models.DateField(_("breached on"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["status", "actual", "checked_on"])

    class Meta:
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        ordering = ["agreement", "due_on", "applies_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(metric__in=MILESTONE_METRICS) & Q(target__isnull=True))
                | (~Q(metric__in=MILESTONE_METRICS) & Q(target__gt=0)),
                name="obligation_target_fits_metric",
                violation_error_message=_("A figure needs a positive target; a milestone has "
                                          "none.")),
            models.CheckConstraint(
                condition=(Q(metric__in=YEARLY_METRICS) & Q(applies_from__isnull=False))
                | (~Q(metric__in=YEARLY_METRICS) & Q(due_on__isnull=False)),
                name="obligation_date_fits_metric",
                violation_error_message=_("A yearly figure needs the year it is owed from; "
                                          "any other obligation its due date.")),
        ]
        indexes = [models.Index(fields=["status", "due_on"]),
                   models.Index(fields=["metric", "status"]),
                   models.Index(fields=["due_on"])]

    def __str__(self) -> str:
        return self.get_metric_display()

    @property
    def is_milestone(self) -> bool:
        return self.metric in MILESTONE_METRICS

    @property
    def is_yearly(self) -> bool:
        return self.metric in YEARLY_METRICS

    @property
    def badge(self) -> str:
        return STATUS_BADGE[self.status]


class Incentive(models.Model):
    """What the city grants in return (优惠条款): money through a fund programme (and the
    application that pays it, once there is one), rent-free months, a land price."""

    class Kind(models.TextChoices):
        SUBSIDY = "subsidy", _("Subsidy or award")
        RENT_FREE = "rent_free", _("Rent-free months")
        LAND_PRICE = "land_price", _("Land price")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE,
                                  related_name="incentives", verbose_name=_("agreement"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    programme = models.ForeignKey("funds.Programme", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="incentives",
                                  verbose_name=_("programme"))
    application = models.ForeignKey("funds.Application", on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="incentives",
                                    verbose_name=_("application"))
    amount_yuan = models.DecimalField(_("amount (yuan)"), **YUAN, null=True, blank=True,
                                      validators=NOT_NEGATIVE)
    rent_free_months = models.PositiveSmallIntegerField(_("rent-free months"), null=True,
                                                        blank=True)
    land_price_yuan_per_mu = models.DecimalField(_("land price (yuan per mu)"), **YUAN,
                                                 null=True, blank=True,
                                                 validators=NOT_NEGATIVE)

    class Meta:
        verbose_name = _("incentive")
        verbose_name_plural = _("incentives")
        ordering = ["agreement", "pk"]
        indexes = [models.Index(fields=["application"])]

    def __str__(self) -> str:
        return self.description or self.get_kind_display()


class Remedy(FieldConstraintsMixin, models.Model):
    """What a breach costs (违约条款). An empty obligation means a failure of any obligation;
    an empty incentive means every incentive of the agreement."""

    CONSTRAINT_FIELDS = {"remedy_amount_or_rate": "amount_yuan"}

    class Kind(models.TextChoices):
        NONE = "none", _("None")
        WITHHOLD = "withhold", _("Withhold unpaid incentives")
        PROPORTIONAL_CLAWBACK = "proportional", _("Proportional clawback")
        FULL_CLAWBACK = "full_clawback", _("Full clawback")
        FIXED_PENALTY = "penalty", _("Fixed penalty")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="remedies",
                                  verbose_name=_("agreement"))
    kind = models.CharField(_("kind"), max_length=13, choices=Kind.choices)
    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="remedies", verbose_name=_("on failing"))
    incentive = models.ForeignKey(Incentive, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="remedies", verbose_name=_("incentive"))
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4, null=True,
                               blank=True, validators=NOT_NEGATIVE,
                               help_text=_("Proportional clawback: the share of the shortfall "
                                           "ratio clawed back (1 = all of it)."))
    amount_yuan = models.DecimalField(_("penalty (yuan)"), **YUAN, null=True, blank=True,
                                      validators=NOT_NEGATIVE)

    class Meta:
        verbose_name = _("remedy")
        verbose_name_plural = _("remedies")
        ordering = ["agreement", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="penalty") & Q(amount_yuan__gt=0))
                | (Q(kind="proportional") & Q(rate__gt=0))
                | Q(kind__in=["none", "withhold", "full_clawback"]),
                name="remedy_amount_or_rate",
                violation_error_message=_("A fixed penalty needs its amount, a proportional "
                                          "clawback its rate.")),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def claws_back(self) -> bool:
        return self.kind in (self.Kind.PROPORTIONAL_CLAWBACK, self.Kind.FULL_CLAWBACK)


class Actual(FieldConstraintsMixin, models.Model):
    """What the project reported for one period (a year or a quarter), 万元 and headcount."""

    CONSTRAINT_FIELDS = {"actual_period_ordered": "period_end",
                         "one_actual_per_period": "period_start"}

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="actuals",
                                  verbose_name=_("agreement"))
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    investment_wan = models.DecimalField(_("investment made (CNY 10k)"), **WAN,
                                         default=Decimal("0"), validators=NOT_NEGATIVE)
    fixed_asset_investment_wan = models.DecimalField(
        _("of which fixed assets (CNY 10k)"), **WAN, default=Decimal("0"), validators=NOT_NEGATIVE)
    funds_arrived_wan = models.DecimalField(_("funds arrived (CNY 10k)"), **WAN,
                                            default=Decimal("0"), validators=NOT_NEGATIVE)
    output_value_wan = models.DecimalField(_("output value (CNY 10k)"), **WAN,
                                           default=Decimal("0"), validators=NOT_NEGATIVE)
    tax_wan = models.DecimalField(_("tax paid (CNY 10k)"), **WAN, default=Decimal("0"),
                                  validators=NOT_NEGATIVE)
    jobs = models.PositiveIntegerField(_("jobs at period end"), null=True, blank=True)
    evidence = models.FileField(_("evidence"), upload_to="actuals/%Y/", blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("actual")
        verbose_name_plural = _("actuals")
        ordering = ["agreement", "period_start"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                   name="actual_period_ordered",
                                   violation_error_message=_("A period cannot end before it "
                                                             "starts.")),
            models.UniqueConstraint(fields=["agreement", "period_start"],
                                    name="one_actual_per_period",
                                    violation_error_message=_("Actuals for this period are "
                                                              "already recorded.")),
        ]

    def __str__(self) -> str:
        return f"{self.period_start} – {self.period_end}"


class Acceptance(models.Model):
    """A leader's confirmation of the acceptance report (达产验收) for one date: the verdict,
    the figures as they stood (a snapshot: later actuals do not rewrite a confirmed verdict)."""

    class Verdict(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT,
                                  related_name="acceptances", verbose_name=_("agreement"))
    on = models.DateField(_("as of"))
    verdict = models.CharField(_("verdict"), max_length=4, choices=Verdict.choices)
    report = models.JSONField(_("report"), default=dict)
    due_back_yuan = models.DecimalField(_("money due back (yuan)"), **YUAN,
                                        default=Decimal("0"))
    withheld_yuan = models.DecimalField(_("incentives withheld (yuan)"), **YUAN,
                                        default=Decimal("0"))
    note = models.TextField(_("note"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"))

    class Meta:
        verbose_name = _("acceptance")
        verbose_name_plural = _("acceptances")
        ordering = ["-confirmed_at", "-pk"]
        indexes = [models.Index(fields=["agreement", "on"])]

    def __str__(self) -> str:
        return f"{self.agreement} · {self.on} · {self.get_verdict_display()}"


class PaymentOverride(models.Model):
    """A leader lets one tranche be paid although the project is in breach, with the reason."""

    disbursement = models.OneToOneField("funds.Disbursement", on_delete=models.CASCADE,
                                        related_name="override")
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                           verbose_name=_("by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment override")
        verbose_name_plural = _("payment overrides")

    def __str__(self) -> str:
        return f"{self.disbursement_id}: {self.reason[:40]}"


class ClawbackProposal(FieldConstraintsMixin, models.Model):
    """A clawback a confirmed failing acceptance implies, drafted for a fund reviewer to record
    (funds.services.clawback_record) or dismiss with a reason."""

    CONSTRAINT_FIELDS = {"clawback_proposal_positive": "amount_yuan"}

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        RECORDED = "recorded", _("Recorded")
        DISMISSED = "dismissed", _("Dismissed")

    acceptance = models.ForeignKey(Acceptance, on_delete=models.PROTECT,
                                   related_name="proposals")
    application = models.ForeignKey("funds.Application", on_delete=models.PROTECT,
                                    related_name="clawback_proposals",
                                    verbose_name=_("application"))
    amount_yuan = models.DecimalField(_("amount (yuan)"), **YUAN)
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=9, choices=Status.choices,
                              default=Status.PROPOSED)
    clawback = models.OneToOneField("funds.Disbursement", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="proposal")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("clawback proposal")
        verbose_name_plural = _("clawback proposals")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_yuan__gt=0),
                                   name="clawback_proposal_positive",
                                   violation_error_message=_("A clawback is a positive "
                                                             "amount.")),
        ]
        indexes = [models.Index(fields=["application", "status"])]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.amount_yuan}"
