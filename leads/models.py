"""Target companies, investment projects, the stage pipeline and follow-ups.

Access is one rule per model, written as QuerySet.visible_to(user): lists, details, exports and
the API all start from it (selectors.py), so nothing hidden from a list can be read by id.
"""

import re
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from crm.accounts.models import User
from crm.accounts.roles import Role, user_roles
from crm.core.dates import Period, day_start
from crm.core.fields import HttpsURLField
from crm.core.models import BilingualNameMixin, FieldConstraintsMixin
from crm.org.models import NOT_PURSUING_KINDS, OrgUnit
from crm.org.scopes import Reach, reach_of

from .search import pinyin_initials
from .uscc import normalize_company_name

WAN = _("CNY 10k")  # 万元: the unit every investment figure is kept in

# Kept for migration 0001, which names the field class this way.
WebsiteField = HttpsURLField


# --- Reference data -----------------------------------------------------------------------------
class Industry(BilingualNameMixin, models.Model):
    """GB/T 4754-2017 national economic industry classification (门类, 大类, 中类)."""

    class Level(models.TextChoices):
        SECTION = "section", _("Section (门类)")
        DIVISION = "division", _("Division (大类)")
        GROUP = "group", _("Group (中类)")

    code = models.CharField(_("code"), max_length=4, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class ChainNode(BilingualNameMixin, models.Model):
    """A link (环节) of an industry chain; the Kunshan metaverse chain is loaded by migration."""

    class Position(models.TextChoices):
        UPSTREAM = "upstream", _("Upstream")
        MIDSTREAM = "midstream", _("Midstream")
        DOWNSTREAM = "downstream", _("Downstream")

    chain = models.CharField(_("chain"), max_length=40, default="metaverse")
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    position = models.CharField(_("position"), max_length=12, choices=Position.choices)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("chain node")
        verbose_name_plural = _("chain nodes")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Companies ----------------------------------------------------------------------------------
class SourceRegion(models.TextChoices):
    JJJ = "jjj", _("Beijing-Tianjin-Hebei")
    YRD = "yrd", _("Yangtze River Delta")
    PRD = "prd", _("Pearl River Delta")
    DOMESTIC = "domestic", _("Other domestic")
    OVERSEAS = "overseas", _("Overseas")


class CompanyQuerySet(models.QuerySet):
    def visible_to(self, user):
        # Every signed-in colleague sees every company, so a second person chasing the same
        # company (撞单) sees who already owns it. Project figures are guarded separately.
        if not getattr(user, "is_authenticated", False) or not user_roles(user):
            return self.none()
        return self

    def search(self, text: str):
        """Name contains, pinyin initials start with, or the USCC is, the text.

        Chinese has no case, so it is matched with a plain LIKE: the UPPER(name) of icontains
        made every scanned row cost 3.5× more (a two-character word has no trigram and must be
        scanned). Text with case is matched case-insensitively by regex. Both use the trigram
        index company_name_trgm from three characters up (migration 0005)."""
        text = (text or "").strip()
        if not text:
            return self
        contains = (Q(name__contains=text) if text.upper() == text.lower()
                    else Q(name__iregex=re.escape(text)))
        return self.filter(contains | Q(name_initials__startswith=text.lower())
                           | Q(uscc=text.upper()))


REGION_CODE_MESSAGE = _("A region code is the six digits of GB/T 2260, e.g. 320583.")


class Company(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"company_uscc_shape": "uscc",
                         "company_capital_non_negative": "registered_capital_wan",
                         "company_region_code_shape": "hq_region_code"}

    name = models.CharField(_("company name"), max_length=200)
    # The de-duplication key (DOMAIN.md): no spaces, punctuation or legal-form suffix.
    name_key = models.CharField(_("normalised name"), max_length=200, editable=False)
    # Pinyin initials of the name, so "ksyyz" finds 昆山元宇宙...
    name_initials = models.CharField(max_length=200, editable=False, blank=True)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, null=True, blank=True,
        help_text=_("18 characters, GB 32100-2015; empty until the company is registered."),
    )
    industry = models.ForeignKey(
        Industry, on_delete=models.PROTECT, null=True, blank=True, related_name="companies",
        verbose_name=_("industry (GB/T 4754-2017)"),
    )
    chain_nodes = models.ManyToManyField(
        ChainNode, through="CompanyChainLink", related_name="companies", blank=True
    )
    registered_capital_wan = models.DecimalField(
        _("registered capital (CNY 10k)"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    capital_currency = models.CharField(_("capital currency"), max_length=3, default="CNY")
    hq_region_code = models.CharField(
        _("headquarters region code"), max_length=6, blank=True,
        validators=[RegexValidator(r"^[0-9]{6}$", REGION_CODE_MESSAGE)],
        help_text=_("GB/T 2260 code of the headquarters, e.g. 110108."),
    )
    hq_region_name = models.CharField(_("headquarters region"), max_length=100, blank=True)
    source_region = models.CharField(
        _("source region"), max_length=10, choices=SourceRegion.choices, blank=True
    )
    website = HttpsURLField(_("website"), blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies", verbose_name=_("tags"))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["name_key", "name_initials"])

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["uscc"], name="company_uscc_unique",
                                    condition=Q(uscc__isnull=False)),
            models.UniqueConstraint(fields=["name_key"], name="company_name_key_unique"),
            models.CheckConstraint(
                condition=Q(uscc__isnull=True) | Q(uscc__regex=r"^[0-9A-Z]{18}$"),
                name="company_uscc_shape",
                violation_error_message=_("A credit code is 18 digits and capital letters."),
            ),
            models.CheckConstraint(
                condition=Q(registered_capital_wan__isnull=True)
                | Q(registered_capital_wan__gte=0),
                name="company_capital_non_negative",
                violation_error_message=_("The registered capital cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(hq_region_code="") | Q(hq_region_code__regex=r"^[0-9]{6}$"),
                name="company_region_code_shape",
                violation_error_message=REGION_CODE_MESSAGE,
            ),
        ]
        # The search (CompanyQuerySet.search, issue 8); migration 0005 says which is which.
        # The trigram index exists on PostgreSQL only (the SQLite demo has no GIN).
        indexes = [
            models.Index(fields=["source_region"]),
            models.Index(fields=["name_initials"], opclasses=["varchar_pattern_ops"],
                         name="company_initials_prefix"),
            models.Index(fields=["name", "id"], name="company_name_id"),
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="company_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name = self.name.strip()
        self.name_key = normalize_company_name(self.name)
        self.name_initials = pinyin_initials(self.name)
        if not self.uscc:
            self.uscc = None
        super().save(*args, **kwargs)


class ChainRole(models.TextChoices):
    LEADER = "leader", _("Chain leader")
    CORE = "core", _("Core supplier")
    UPSTREAM = "upstream", _("Upstream")
    MIDSTREAM = "midstream", _("Midstream")
    DOWNSTREAM = "downstream", _("Downstream")


class CompanyChainLink(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"chain_link_unique": "node"}

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="chain_links")
    node = models.ForeignKey(ChainNode, on_delete=models.PROTECT, related_name="company_links",
                             verbose_name=_("chain node"))
    role = models.CharField(_("role on the chain"), max_length=12, choices=ChainRole.choices)

    class Meta:
        verbose_name = _("chain position")
        verbose_name_plural = _("chain positions")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "node"], name="chain_link_unique",
                violation_error_message=_("The company is on this chain node already."))
        ]

    def __str__(self) -> str:
        return f"{self.node} · {self.get_role_display()}"


class Qualification(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"qualification_dates_ordered": "expires_on"}

    class Kind(models.TextChoices):
        INNOVATIVE_SME = "innovative_sme", _("Innovative SME")
        SPECIALISED_SME = "specialised_sme", _("Specialised and sophisticated SME")
        LITTLE_GIANT = "little_giant", _("Specialised 'little giant'")
        HIGH_TECH = "high_tech", _("High-tech enterprise")
        TECH_SME = "tech_sme", _("Technology-based SME")

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCIAL = "provincial", _("Provincial")
        MUNICIPAL = "municipal", _("Municipal")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(_("qualification"), max_length=20, choices=Kind.choices)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices, blank=True)
    certificate_no = models.CharField(_("certificate number"), max_length=60, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        ordering = ["kind"]
        indexes = [models.Index(fields=["kind", "expires_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(issued_on__isnull=True)
                | Q(expires_on__gte=models.F("issued_on")),
                name="qualification_dates_ordered",
                violation_error_message=_("A qualification cannot expire before it is issued."),
            )
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class Contact(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("full name"), max_length=60)
    title = models.CharField(_("job title"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]

    def __str__(self) -> str:
        return self.name


# --- Stages -------------------------------------------------------------------------------------
class Stage(BilingualNameMixin, FieldConstraintsMixin, models.Model):
    """A pipeline stage. Cities rename, reorder and add stages in the admin; the defaults of
    DOMAIN.md are loaded by migration. Gates and milestones are flags, not stage codes in code."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        HOLD = "hold", _("On hold")

    class Milestone(models.TextChoices):
        """What reaching the stage means for the leaders' figures (DOMAIN.md)."""

        NONE = "", _("—")
        SIGNED = "signed", _("Contract signed")
        REGISTERED = "registered", _("Registered")
        LANDED = "landed", _("Space or land secured")
        STARTED = "started", _("Construction started")
        PRODUCING = "producing", _("Producing")
        # Agreements' milestones (funds.fulfilment): 竣工 has no default stage; 达产 does.
        COMPLETED = "completed", _("Construction completed")
        FULL_CAPACITY = "full_capacity", _("At full capacity")

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices, default=Kind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("probability %"), default=0, validators=[MaxValueValidator(100)]
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    milestone = models.CharField(
        _("milestone"), max_length=13, choices=Milestone.choices, blank=True, default=""
    )
    requires_agreement = models.BooleanField(
        _("requires signed agreement"), default=False,
        help_text=_("Moving here needs the agreed investment and the signed agreement document."),
    )
    requires_uscc = models.BooleanField(
        _("requires USCC"), default=False,
        help_text=_("Moving here needs the company's unified social credit code."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()
    CONSTRAINT_FIELDS = {"stage_probability_0_100": "probability"}

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100),
                                   name="stage_probability_0_100",
                                   violation_error_message=_("A probability is 0 to 100 %."))
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_open(self) -> bool:
        return self.kind == self.Kind.OPEN

    @property
    def path_order(self) -> int | None:
        """The stage's order if it lies on the path (open and won stages; on hold and lost are
        side states), else None: what Project.reached_order keeps the maximum of."""
        return self.order if self.kind in PATH_KINDS else None


# The pipeline's path, in `order`: the kinds a project advances through (DOMAIN.md).
PATH_KINDS = (Stage.Kind.OPEN, Stage.Kind.WON)


class LostReason(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


# --- Projects -----------------------------------------------------------------------------------

class Channel(models.TextChoices):
    ROADSHOW = "roadshow", _("Roadshow")
    DELEGATION = "delegation", _("Delegation")
    INTERMEDIARY = "intermediary", _("Intermediary or referrer")
    ONLINE = "online", _("Online")
    WALKIN = "walkin", _("Walk-in")


class SpaceUse(models.TextChoices):
    OFFICE = "office", _("Office")
    RND = "rnd", _("R&D")
    FACTORY = "factory", _("Factory")
    WAREHOUSE = "warehouse", _("Warehouse")
    SHOP = "shop", _("Shop")
    LAND = "land", _("Land")


# Size bands of DOMAIN.md, in 万元 (1 亿 = 10,000 万元).
SIZE_BANDS = [
    ("3-10", _("300M–1B yuan"), Decimal("30000"), Decimal("100000")),
    ("10-20", _("1B–2B yuan"), Decimal("100000"), Decimal("200000")),
    ("20+", _("2B yuan and above"), Decimal("200000"), None),
]


# --- The pipeline's rules, each written once ---------------------------------------------------
# Q-builders, so a figure can count with them (Count(filter=...)) and a list can filter with
# them (the ProjectQuerySet methods below wrap each one). Filters, reports, dashboards,
# reminders, funds, lookups and the API all come here; leads/rules.py adds the thresholds and
# the leaders' flags built from these.
def open_q() -> Q:
    """On the pipeline now: a stage of kind open (not won, shelved or lost)."""
    return Q(stage__kind=Stage.Kind.OPEN)


def overdue_q(today: date) -> Q:
    """Open, with a next step planned before today."""
    return open_q() & Q(next_step_on__lt=today)


def due_on_q(day: date) -> Q:
    """Open, with the next step planned for `day`."""
    return open_q() & Q(next_step_on=day)


def silent_q(days: int, today: date) -> Q:
    """Nobody has been in contact for at least `days` days: the last contact, or (never
    contacted) the entry into the current stage, on or before today − days. A stage move is
    recorded work on the deal; a project imported with a stage date in the past is as silent as
    that date says."""
    cutoff = today - timedelta(days=days)
    return Q(last_contact_on__lte=cutoff) | Q(last_contact_on__isnull=True,
                                              stage_entered_at__lt=day_start(
                                                  cutoff + timedelta(days=1)))


def silent_since():
    """The day silent_q counts from, as an expression (the reminders' due date)."""
    return Coalesce("last_contact_on", TruncDate("stage_entered_at"))


def signed_q(period: Period) -> Q:
    """First signed within the period. signed_on is set once, at the first signing, so a
    project counts once whatever happens later (DOMAIN.md)."""
    return Q(signed_on__gte=period.start, signed_on__lte=period.end)


def entered_q(period: Period) -> Q:
    """Entered the pipeline within the period (its creation event; imports may date it back)."""
    start, end = period.bounds()
    return Q(entered_at__gte=start, entered_at__lt=end)


def reached_q(stage: Stage | None) -> Q:
    """Has ever entered `stage`, or a later stage of the path. For a path stage (open, won)
    the furthest one entered is kept on the row (Project.reached_order); a side stage (on
    hold, lost) is reached by an event into it."""
    if stage is None:
        return Q(pk__in=[])
    if stage.path_order is not None:
        return Q(reached_order__gte=stage.path_order)
    return Q(pk__in=StageEvent.objects.filter(to_stage=stage).values("project_id"))


def not_started_q(today: date, *, started: Stage | None, grace_days: int = 0) -> Q:
    """Signed, not lost, past its contractual start date (plus the grace days) and never at
    "construction started" (`started`, the first stage carrying that milestone). A shelved
    project is still bound by its agreement, so it counts too."""
    if started is None:
        return Q(pk__in=[])
    return (Q(signed_on__isnull=False,
              contract_start_on__lt=today - timedelta(days=grace_days))
            & ~Q(stage__kind=Stage.Kind.LOST) & ~reached_q(started))


def project_search_q(text: str) -> Q:
    """The project's name contains the text, or its company matches CompanyQuerySet.search
    (name, pinyin initials, credit code) as a subquery on the company's own indexes.
    Chinese is matched with a plain LIKE, as CompanyQuerySet.search explains; project names
    have a trigram index from three characters up (migration 0006)."""
    text = (text or "").strip()
    if not text:
        return Q()
    name = (Q(name__contains=text) if text.upper() == text.lower()
            else Q(name__iregex=re.escape(text)))
    return name | Q(company__in=Company.objects.search(text).values("pk"))


def chain_node_companies(node: ChainNode):
    """The ids of the companies that sit on the node or on one of its children: the one rule
    behind the company and project lists' chain_node filter and every figure by chain node."""
    return (CompanyChainLink.objects.filter(Q(node=node) | Q(node__parent=node))
            .values("company_id"))


def on_chain_node_q(node: ChainNode) -> Q:
    """Projects of chain_node_companies(node). As `company IN (...)`, PostgreSQL hashes the
    subquery once where a correlated EXISTS would run once per row."""
    return Q(company__in=chain_node_companies(node))


# Who may own or help on a project. Anyone else made collaborator would read the project (and
# its confidential figures) through the "involved" branch of ProjectQuerySet.visible_to, which
# is for the deal's team.
PROJECT_HOLDER_ROLES = (Role.INVESTMENT_STAFF, Role.LEADER)


def may_hold_projects(user) -> bool:
    """Active investment staff and leaders."""
    return bool(getattr(user, "is_active", False)
                and user_roles(user) & set(PROJECT_HOLDER_ROLES))


def project_holders():
    """The users may_hold_projects() admits, as a queryset (the forms' and the API's choices)."""
    return (User.objects.filter(is_active=True,
                                            groups__name__in=PROJECT_HOLDER_ROLES)
            .distinct().order_by("username"))


def _reach_q(reach: Reach, involved: Q) -> Q:
    """The filter form of crm.org.scopes.Reach.sees (the two are tested against each other)."""
    units = Q(unit_id__in=reach.unit_ids) | Q(team_id__in=reach.unit_ids)
    in_scope = Q() if reach.everything else units
    secret = Q(pk__in=[])
    if reach.leads:
        secret = Q(unit_id__in=reach.led_unit_ids) | Q(team_id__in=reach.led_unit_ids)
        if reach.everything:
            secret |= Q(unit__isnull=True)
    return involved | (in_scope & (Q(confidential=False) | secret))


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one access rule for projects (leads/permissions.py explains it)."""
        roles = user_roles(user)
        if not roles:
            return self.none()
        reach = reach_of(user, leads=Role.LEADER in roles)
        if reach is None and Role.LEADER in roles:
            return self
        # Owner, or collaborator on a project whose ids are read first (one short query: the
        # projects one person helps on). Ids as constants let PostgreSQL combine the owner
        # index and the primary key in one bitmap; a join to the many-to-many (duplicates)
        # or a subquery (a filter over every row) cost 50-250 ms at 200,000 projects (issue 8).
        collaborating = list(Project.collaborators.through.objects.filter(user=user)
                             .values_list("project_id", flat=True))
        involved = Q(owner=user) | Q(pk__in=collaborating)
        if reach is not None:
            return self.filter(_reach_q(reach, involved))
        if Role.INVESTMENT_STAFF in roles:
            return self.filter(involved)
        # Administrators, park managers and fund reviewers read every project that is not
        # confidential: space matching and fund review need them; deal secrets stay with the team.
        return self.filter(Q(confidential=False) | involved)

    def open(self):
        return self.filter(open_q())

    def overdue(self, today: date):
        return self.filter(overdue_q(today))

    def due_on(self, day: date):
        return self.filter(due_on_q(day))

    def silent_for(self, days: int, today: date):
        return self.filter(silent_q(days, today))

    def with_silent_since(self):
        return self.annotate(silent_since=silent_since())

    def signed_in(self, period: Period):
        return self.filter(signed_q(period))

    def entered_in(self, period: Period):
        return self.filter(entered_q(period))

    def reached(self, stage: Stage | None):
        return self.filter(reached_q(stage))

    def not_started(self, today: date, *, started: Stage | None, grace_days: int = 0):
        return self.filter(not_started_q(today, started=started, grace_days=grace_days))

    def search(self, text: str):
        return self.filter(project_search_q(text))


def project_readable(user, field: str = "project"):
    """An expression: may `user` open the project that `field` points at? The access rule of
    projects (ProjectQuerySet.visible_to), seen from a record that refers to one (an
    application, an assignment), so such a record's page names the project only to those who
    may open it (confidential_name() otherwise)."""
    projects = Project.objects.visible_to(user)
    if not projects.query.where:  # a leader: every project
        return models.Value(True, output_field=models.BooleanField())
    return models.ExpressionWrapper(Q(**{f"{field}__in": projects.values("pk")}),
                                    output_field=models.BooleanField())


def confidential_name(project) -> str:
    """How a project the reader may not open is named: by its id, never its name."""
    return _("Confidential project (ID %(id)s)") % {"id": project.pk}


class Project(FieldConstraintsMixin, models.Model):
    CONSTRAINT_FIELDS = {"project_space_range_ordered": "space_max_m2",
                         "project_funds_arrived_non_negative": "funds_arrived_wan"}

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="projects",
                                verbose_name=_("company"))
    name = models.CharField(_("project name"), max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="owned_projects", verbose_name=_("owner"))
    collaborators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                           related_name="collaborating_projects",
                                           verbose_name=_("collaborators"))
    channel = models.CharField(_("source channel"), max_length=15, choices=Channel.choices,
                               blank=True)
    referrer = models.CharField(_("referrer"), max_length=100, blank=True)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="projects",
                              verbose_name=_("stage"))
    stage_entered_at = models.DateTimeField(_("in stage since"))
    agreed_investment_wan = models.DecimalField(
        _("agreed investment (CNY 10k)"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    fixed_asset_wan = models.DecimalField(
        _("fixed-asset investment (CNY 10k)"), max_digits=14, decimal_places=2, null=True,
        blank=True, validators=[MinValueValidator(Decimal("0"))],
    )
    funds_arrived_wan = models.DecimalField(
        _("funds arrived (CNY 10k)"), max_digits=14, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    expected_output_wan = models.DecimalField(
        _("expected annual output (CNY 10k)"), max_digits=14, decimal_places=2, null=True,
        blank=True,
    )
    expected_tax_wan = models.DecimalField(
        _("expected annual tax (CNY 10k)"), max_digits=14, decimal_places=2, null=True,
        blank=True,
    )
    expected_jobs = models.PositiveIntegerField(_("expected jobs"), null=True, blank=True)
    space_use = models.CharField(_("space use"), max_length=10, choices=SpaceUse.choices,
                                 blank=True)
    space_min_m2 = models.DecimalField(_("space needed from (m²)"), max_digits=10,
                                       decimal_places=2, null=True, blank=True)
    space_max_m2 = models.DecimalField(_("space needed up to (m²)"), max_digits=10,
                                       decimal_places=2, null=True, blank=True)
    move_in_on = models.DateField(_("move-in date"), null=True, blank=True)
    intended_park = models.CharField(_("intended park"), max_length=100, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_on = models.DateField(_("next step date"), null=True, blank=True)
    last_contact_on = models.DateField(_("last contact"), null=True, blank=True)
    signed_on = models.DateField(
        _("first signed on"), null=True, blank=True,
        help_text=_("Set once, at the first signing: a project counts once (DOMAIN.md)."),
    )
    contract_start_on = models.DateField(_("contractual start date"), null=True, blank=True)
    agreement = models.FileField(_("signed agreement"), upload_to="agreements/%Y/", blank=True)
    lost_reason = models.ForeignKey(LostReason, on_delete=models.PROTECT, null=True, blank=True,
                                    verbose_name=_("lost reason"))
    confidential = models.BooleanField(_("confidential"), default=False)
    # Where in the organisation the project is pursued, and the 专班 that follows it, if one
    # does (issue 15). Empty: not placed yet (projects created before the organisation, or
    # whose owner belongs to no unit).
    unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="projects",
        verbose_name=pgettext_lazy("organisation", "unit"),
        limit_choices_to=~Q(kind__in=NOT_PURSUING_KINDS),
        help_text=_("Where the project is pursued: the city, a district, a park or the leading "
                    "group."))
    team = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, null=True, blank=True,
        related_name="team_projects", verbose_name=_("work team (专班)"),
        limit_choices_to={"kind": OrgUnit.Kind.TEAM},
        help_text=_("The 专班 that follows the project, if one does."))
    # Two facts the stage events already hold, kept on the row so the leaders' figures are
    # plain aggregates over projects instead of a correlated EXISTS over 700k events per
    # figure (issue 8: the dashboard took 27 s at 200k projects). leads.services writes them
    # with every event; leads.services.project_milestones_refresh recomputes them from the
    # events when stages are reordered.
    entered_at = models.DateTimeField(
        _("entered the pipeline"), null=True, blank=True, editable=False,
        help_text=_("When the project's creation event happened (imports may date it back)."))
    reached_order = models.PositiveIntegerField(
        _("furthest stage reached (order)"), null=True, blank=True, editable=False,
        help_text=_("The highest order among the path stages (open, won) it has ever entered."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["entered_at", "reached_order"])

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("investment project")
        verbose_name_plural = _("investment projects")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["stage", "-updated_at"]),
            models.Index(fields=["owner", "stage"]),
            models.Index(fields=["next_step_on"]),
            models.Index(fields=["last_contact_on"]),
            models.Index(fields=["signed_on"]),
            models.Index(fields=["agreed_investment_wan"]),
            models.Index(fields=["channel"]),
            models.Index(fields=["confidential"]),
            models.Index(fields=["-updated_at", "-id"]),
            models.Index(fields=["entered_at"]),
            models.Index(fields=["reached_order"]),
            # ProjectQuerySet.search (migration 0006; PostgreSQL only, as company_name_trgm).
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="project_name_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(space_min_m2__isnull=True) | Q(space_max_m2__isnull=True)
                | Q(space_max_m2__gte=models.F("space_min_m2")),
                name="project_space_range_ordered",
                violation_error_message=_("The largest area cannot be below the smallest."),
            ),
            models.CheckConstraint(condition=Q(funds_arrived_wan__gte=0),
                                   name="project_funds_arrived_non_negative",
                                   violation_error_message=_("Funds arrived cannot be negative.")),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("leads:project-detail", args=[self.pk])

    @property
    def size_band(self) -> str:
        amount = self.agreed_investment_wan
        if amount is None:
            return ""
        for _code, label, low, high in SIZE_BANDS:
            if amount >= low and (high is None or amount < high):
                return str(label)
        return ""


class StageEvent(models.Model):
    """One row per move: time in stage, the funnel and conversion are computed from these."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stage_events")
    from_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("from"))
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("to"))
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+", verbose_name=_("by"))
    note = models.TextField(_("note"), blank=True)
    lost_reason = models.ForeignKey(LostReason, on_delete=models.PROTECT, null=True, blank=True)
    # When the project entered from_stage (the previous event's time), so the time spent in a
    # stage is one row's difference, not a window over every event (leads/reports.py:
    # median_days_by_stage). Empty on the creation event.
    previous_at = models.DateTimeField(_("in the previous stage since"), null=True, blank=True,
                                       editable=False)

    class Meta:
        verbose_name = _("stage event")
        verbose_name_plural = _("stage events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["project", "at"]), models.Index(fields=["to_stage", "at"])]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.from_stage_id} → {self.to_stage_id}"


class TeamChange(models.Model):
    """A project handed to another owner or its collaborators changed (leads.services.
    project_reassign): who, when, from whom to whom, and why. Shown in the project's timeline;
    the row is the record the hardening issue asks for, beside the history table."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="team_changes")
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           related_name="+", verbose_name=_("by"))
    old_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("previous owner"))
    new_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("new owner"))
    # Names as they were, so the record reads the same after a user is renamed or removed.
    added = models.JSONField(_("collaborators added"), default=list, blank=True)
    removed = models.JSONField(_("collaborators removed"), default=list, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("team change")
        verbose_name_plural = _("team changes")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["project", "at"])]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.old_owner_id} → {self.new_owner_id}"


# --- Follow-ups ---------------------------------------------------------------------------------
class FollowUpQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(project__in=Project.objects.visible_to(user).values("pk"))


class FollowUp(models.Model):
    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone call")
        VISIT = "visit", _("We visited them")
        INBOUND_VISIT = "inbound_visit", _("They visited us")
        SITE_INSPECTION = "site_inspection", _("Site inspection")
        ONLINE = "online", _("Online meeting")
        SIGNING = "signing", _("Signing event")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="followups",
                                verbose_name=_("project"))
    date = models.DateField(_("date"))
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    our_participants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                              related_name="followups_attended",
                                              verbose_name=_("our participants"))
    leader_attended = models.BooleanField(_("a leader attended"), default=False)
    their_participants = models.CharField(_("their participants"), max_length=200, blank=True)
    summary = models.TextField(_("summary"))
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_contact_on = models.DateField(_("next contact date"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["project", "-date"]), models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class FollowUpIssue(models.Model):
    """An issue or commitment raised in a follow-up (诉求), tracked to its department."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("issue status", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="issues")
    description = models.CharField(_("issue raised"), max_length=300)
    department = models.CharField(_("responsible department"), max_length=60, blank=True)
    due_on = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.OPEN)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("issue raised")
        verbose_name_plural = _("issues raised")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return self.description


# --- Imports ------------------------------------------------------------------------------------
class ImportJob(models.Model):
    """An uploaded spreadsheet of companies or projects: validated in a dry run, then committed
    all-or-nothing. Large files run in a Celery task that updates `processed_rows`."""

    class Kind(models.TextChoices):
        COMPANIES = "companies", _("Companies")
        PROJECTS = "projects", _("Projects")

    class OnDuplicate(models.TextChoices):
        SKIP = "skip", _("Skip existing companies")
        UPDATE = "update", _("Update existing companies")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Checking")
        VALIDATED = "validated", _("Checked")
        INVALID = "invalid", _("Has errors")
        COMMITTING = "committing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    on_duplicate = models.CharField(_("when a company exists"), max_length=10,
                                    choices=OnDuplicate.choices, default=OnDuplicate.SKIP)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row", "column", "message"}]
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["uploaded_by", "-created_at"])]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(self.processed_rows * 100 / self.total_rows))
