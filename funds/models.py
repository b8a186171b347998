"""Fund and subsidy programmes (资金/政策), applications, reviews and disbursements.

Money is Decimal yuan (元) throughout. The workflow (states and who may move an application
between them) is declared once, in workflow.py; every move is a Transition row.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.accounts.roles import Role, user_roles
from crm.core.dates import day_start, working_days_back
from crm.core.models import FieldConstraintsMixin
from leads.models import Project

from . import states
from .states import State

MONEY = {"max_digits": 16, "decimal_places": 2}


class ReviewStep(models.TextChoices):
    FIRST_REVIEW = "first_review", _("First review")
    SECOND_REVIEW = "second_review", _("Second review")
    EXPERT_REVIEW = "expert_review", _("Expert review")
    SITE_CHECK = "site_check", _("Site check")


class Programme(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"programme_window_ordered": "window_end",
                         "programme_cap_within_budget": "cap_per_company_yuan",
                         "programme_publicity_at_least_a_day": "publicity_working_days"}

    class Kind(models.TextChoices):
        SUBSIDY = "subsidy", _("Subsidy")
        SPECIAL_FUND = "special_fund", _("Special fund")
        MOTHER_FUND = "mother_fund", _("Equity: mother fund")
        SUB_FUND = "sub_fund", _("Equity: sub-fund")
        DIRECT_INVESTMENT = "direct_investment", _("Equity: direct investment")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    department = models.CharField(_("issuing department"), max_length=100)
    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    budget_yuan = models.DecimalField(_("total budget (yuan)"), **MONEY,
                                      validators=[MinValueValidator(Decimal("0"))])
    cap_per_company_yuan = models.DecimalField(_("cap per company (yuan)"), **MONEY, null=True,
                                               blank=True)
    window_start = models.DateField(_("applications open"))
    window_end = models.DateField(_("applications close"))
    required_documents = models.JSONField(_("required documents"), default=list, blank=True)
    review_steps = models.JSONField(
        _("review steps"), default=list, blank=True,
        help_text=_("Ordered codes: first_review, second_review, expert_review, site_check."),
    )
    publicity_working_days = models.PositiveSmallIntegerField(
        _("publicity period (working days)"), default=5,
        validators=[MinValueValidator(1)],
        help_text=_("The publicity (公示) lasts at least this many working days; its end "
                    "defaults to the start plus this period."))
    approver_may_review = models.BooleanField(
        _("the approver may have reviewed"), default=False,
        help_text=_("For small offices with few reviewers: the approver may be one who "
                    "recorded a review step. The drafter never may."))
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["-year", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gte=models.F("window_start")),
                                   name="programme_window_ordered",
                                   violation_error_message=_("Applications cannot close before "
                                                             "they open.")),
            models.CheckConstraint(
                condition=Q(cap_per_company_yuan__isnull=True)
                | Q(cap_per_company_yuan__lte=models.F("budget_yuan")),
                name="programme_cap_within_budget",
                violation_error_message=_("The cap per company cannot exceed the budget.")),
            models.CheckConstraint(condition=Q(publicity_working_days__gte=1),
                                   name="programme_publicity_at_least_a_day",
                                   violation_error_message=_("The publicity lasts at least one "
                                                             "working day.")),
        ]

    def __str__(self) -> str:
        return self.name

    def review_step_labels(self) -> list[str]:
        labels = dict(ReviewStep.choices)
        return [str(labels.get(step, step)) for step in self.review_steps]


# The declaration of the states (states.py) is the one source of the states and their groups;
# these names stay importable from here (the dashboards and the tests read them).
COMMITTED_STATES = states.COMMITTED_STATES  # approved amounts count against the budget
WAITING_STATES = states.WAITING_STATES  # waiting for a reviewer


class ApplicationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Leaders and fund reviewers read all; investment staff the applications they drafted
        or that belong to projects they may see; administrators everything that is not tied to
        a confidential project; nobody else."""
        roles = user_roles(user)
        if not roles:
            return self.none()
        if roles & {Role.LEADER, Role.FUND_REVIEWER}:
            return self
        q = Q(pk__in=[])
        if Role.ADMINISTRATOR in roles:
            q |= Q(project__isnull=True) | Q(project__confidential=False)
        if Role.INVESTMENT_STAFF in roles:
            visible_projects = Project.objects.visible_to(user)
            q |= Q(created_by=user) | Q(project__in=visible_projects.values("pk"))
            q |= Q(project__isnull=True, company__in=visible_projects.values("company"))
        return self.filter(pk__in=Application.objects.filter(q).values("pk"))

    def waiting_review(self, days: int, today: date):
        """Waiting on a reviewer (the declaration's "waiting on") and unchanged for `days`
        working days as of `today`: an application that arrived on a Friday has waited 5
        working days on the next Friday (crm.core.dates.add_working_days). The one rule
        behind the list's ?waiting_days=, the funds.review_waiting reminder and the review
        dashboard's "waiting long"; working_days_back turns it into a moment SQL compares."""
        cutoff = working_days_back(today, max(int(days), 0))
        return self.filter(state__in=WAITING_STATES,
                           state_changed_at__lt=day_start(cutoff + timedelta(days=1)))


def confidential_application_name(application) -> str:
    """How an application of a confidential project is named where its reader may not open it
    (a group chat's robot): by its id, never its title or company."""
    return _("Confidential application (ID %(id)s)") % {"id": application.pk}


class Application(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"application_requested_positive": "requested_amount",
                         "application_approved_within_requested": "approved_amount",
                         "application_publicity_ordered": "publicity_end"}

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT,
                                  related_name="applications", verbose_name=_("programme"))
    company = models.ForeignKey("leads.Company", on_delete=models.PROTECT,
                                related_name="fund_applications", verbose_name=_("company"))
    project = models.ForeignKey("leads.Project", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="fund_applications",
                                verbose_name=_("project"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    requested_amount = models.DecimalField(_("requested amount (yuan)"), **MONEY,
                                           validators=[MinValueValidator(Decimal("0.01"))])
    approved_amount = models.DecimalField(_("approved amount (yuan)"), **MONEY, null=True,
                                          blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices,
                             default=State.DRAFT)
    review_step_index = models.PositiveSmallIntegerField(default=0)
    publicity_start = models.DateField(_("publicity from"), null=True, blank=True)
    publicity_end = models.DateField(_("publicity until"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    state_changed_at = models.DateTimeField(_("in this state since"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("drafted by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-state_changed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(requested_amount__gt=0),
                                   name="application_requested_positive",
                                   violation_error_message=_("The requested amount must be "
                                                             "positive.")),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | (Q(approved_amount__gte=0)
                   & Q(approved_amount__lte=models.F("requested_amount"))),
                name="application_approved_within_requested",
                violation_error_message=_("The approved amount is between 0 and the amount "
                                          "requested.")),
            models.CheckConstraint(
                condition=Q(publicity_end__isnull=True)
                | Q(publicity_end__gte=models.F("publicity_start")),
                name="application_publicity_ordered",
                violation_error_message=_("The publicity cannot end before it starts.")),
        ]
        indexes = [
            models.Index(fields=["programme", "state"]),
            models.Index(fields=["state", "state_changed_at"]),
            models.Index(fields=["company"]),
            models.Index(fields=["requested_amount"]),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.company} · {self.programme}"

    def get_absolute_url(self) -> str:
        return reverse("funds:application-detail", args=[self.pk])

    @property
    def state_info(self) -> states.StateInfo:
        """What the declaration says about the current state (badge, editable, waiting on)."""
        return states.STATES[self.state]

    @property
    def is_confidential(self) -> bool:
        """Tied to a confidential project: its reads are recorded (crm/audit)."""
        return self.project_id is not None and self.project.confidential

    @property
    def current_review_step(self) -> str | None:
        steps = self.programme.review_steps
        return steps[self.review_step_index] if self.review_step_index < len(steps) else None


class ApplicationDocument(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="documents")
    name = models.CharField(_("document"), max_length=100)
    file = models.FileField(_("file"), upload_to="fund-documents/%Y/%m/")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["name", "-uploaded_at"]

    def __str__(self) -> str:
        return self.name


class Transition(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="transitions")
    from_state = models.CharField(max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=State.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True)
    amount = models.DecimalField(**MONEY, null=True, blank=True)

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["application", "at"])]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class Review(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"one_review_per_step_and_reviewer": "step",
                         "review_score_0_100": "score"}

    class Decision(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="reviews")
    step = models.CharField(_("step"), max_length=20, choices=ReviewStep.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="fund_reviews", verbose_name=_("reviewer"))
    opinion = models.TextField(_("opinion"))
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True,
                                             validators=[MaxValueValidator(100)])
    decision = models.CharField(_("decision"), max_length=6, choices=Decision.choices)
    at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["application", "step", "reviewer"],
                                    name="one_review_per_step_and_reviewer",
                                    violation_error_message=_("You have already reviewed this "
                                                              "step.")),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=100),
                                   name="review_score_0_100",
                                   violation_error_message=_("A score is 0 to 100.")),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} · {self.get_decision_display()}"


class Disbursement(FieldConstraintsMixin, models.Model):
    """A tranche (planned, then paid) or a clawback (a negative paid amount with a reason)."""

    class Kind(models.TextChoices):
        TRANCHE = "tranche", _("Tranche")
        CLAWBACK = "clawback", _("Clawback")

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="disbursements")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices,
                            default=Kind.TRANCHE)
    planned_amount = models.DecimalField(_("planned amount (yuan)"), **MONEY)
    planned_on = models.DateField(_("planned on"), null=True, blank=True)
    milestone = models.ForeignKey(
        "leads.Stage", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("paid when the project reaches"),
    )
    paid_amount = models.DecimalField(_("paid amount (yuan)"), **MONEY, null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()
    CONSTRAINT_FIELDS = {"disbursement_sign_matches_kind": "planned_amount",
                         "clawback_has_reason": "reason"}

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["planned_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="tranche") & Q(planned_amount__gt=0)
                           & (Q(paid_amount__isnull=True) | Q(paid_amount__gt=0)))
                | (Q(kind="clawback") & Q(planned_amount__lt=0) & Q(paid_amount__lt=0)),
                name="disbursement_sign_matches_kind",
                violation_error_message=_("A tranche is a positive amount, a clawback a "
                                          "negative one.")),
            models.CheckConstraint(condition=~Q(kind="clawback") | ~Q(reason=""),
                                   name="clawback_has_reason",
                                   violation_error_message=_("A clawback needs its reason.")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.planned_amount}"


# The fulfilment models (履约) are funds' too; they are kept with their code in fulfilment/.
from .fulfilment.models import (  # noqa: E402, F401
    Acceptance,
    Actual,
    Agreement,
    ClawbackProposal,
    Incentive,
    Obligation,
    PaymentOverride,
    Remedy,
)
