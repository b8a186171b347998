"""The organisation as a tree of units, and people's places in it.

A unit's `path` ("/1/4/9/": its ancestors' ids and its own) is kept by save(), so "this unit
and every unit below it" is one prefix match, and a move re-paths the branch it carries. The
tree is small (a city has tens of units), so the branch is re-pathed row by row, in the save's
transaction.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from crm.accounts.roles import user_roles
from crm.core.models import BilingualNameMixin, FieldConstraintsMixin


class OrgUnitQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The organisation is no secret among colleagues: everyone with a role reads the
        tree (a project form offers its units; a request names its department)."""
        return self if user_roles(user) else self.none()

    def active(self):
        return self.filter(is_active=True)

    def below(self, unit: "OrgUnit", *, include_self: bool = True):
        """`unit` and every unit under it, at any depth."""
        below = self.filter(path__startswith=unit.path)
        return below if include_self else below.exclude(pk=unit.pk)

    def teams(self):
        return self.filter(kind=OrgUnit.Kind.TEAM)

    def departments(self):
        return self.filter(kind=OrgUnit.Kind.DEPARTMENT)


class OrgUnit(BilingualNameMixin, FieldConstraintsMixin, models.Model):
    class Kind(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District or county")
        PARK = "park", _("Park")
        LEADING_GROUP = "leading_group", _("Leading group")
        TEAM = "team", _("Work team (专班)")
        DEPARTMENT = "department", _("Department")

    CONSTRAINT_FIELDS = {"orgunit_name_unique_in_parent": "name",
                         "orgunit_not_its_own_parent": "parent"}

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name=_("parent unit"))
    path = models.CharField(max_length=255, editable=False, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(excluded_fields=["path", "depth"])

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"],
                                    name="orgunit_name_unique_in_parent",
                                    violation_error_message=_("The parent unit already has a "
                                                              "unit of this name.")),
            models.CheckConstraint(condition=~Q(parent=F("pk")),
                                   name="orgunit_not_its_own_parent",
                                   violation_error_message=_("A unit cannot be its own "
                                                             "parent.")),
        ]

    def __str__(self) -> str:
        return self.label

    @transaction.atomic
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._repath()

    def clean(self):
        super().clean()
        # A unit cannot move under itself or one of its own units: the tree would close into
        # a ring and "below" would never end.
        if self.pk and self.parent_id and self.path \
                and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": _("A unit cannot be placed under itself or "
                                               "under one of its own units.")})

    def _repath(self) -> None:
        parent_path = self.parent.path if self.parent_id else "/"
        path, depth = f"{parent_path}{self.pk}/", parent_path.count("/") - 1
        if (path, depth) == (self.path, self.depth):
            return
        old = self.path
        OrgUnit.objects.filter(pk=self.pk).update(path=path, depth=depth)
        self.path, self.depth = path, depth
        if old:  # a move: the units below follow
            for child in OrgUnit.objects.filter(parent=self):
                child._repath()

    @property
    def ancestor_ids(self) -> list[int]:
        """The ids above this unit, the root first."""
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]


# 专班 and departments work across units: a project is pursued in a city, a district, a park or
# by the leading group, and may be followed by a 专班 (leads' Project.unit and Project.team).
NOT_PURSUING_KINDS = (OrgUnit.Kind.TEAM, OrgUnit.Kind.DEPARTMENT)


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Who belongs where, and what each one sees: for those who keep or lead the
        organisation (the view permission: administrators, leaders); everyone reads their own."""
        if not user_roles(user):
            return self.none()
        if user.has_perm("org.view_membership"):
            return self
        return self.filter(user=user)


class Membership(models.Model):
    """A person's place in a unit: their position there and the projects they see through it
    (the data scope; issue 15, item 2)."""

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        HEAD = "head", _("Head")

    class Scope(models.TextChoices):
        OWN = "own", _("Own and collaborating projects")
        TEAM = "team", _("The unit's or team's projects")
        UNIT = "unit", _("The unit and the units below it")
        ALL = "all", _("Everything")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships", verbose_name=_("user"))
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="memberships",
                             verbose_name=pgettext_lazy("organisation", "unit"))
    role = models.CharField(pgettext_lazy("membership", "position"), max_length=6,
                            choices=Role.choices, default=Role.MEMBER)
    scope = models.CharField(_("data scope"), max_length=4, choices=Scope.choices,
                             default=Scope.OWN)
    history = HistoricalRecords()

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["unit__path", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="membership_once_per_unit",
                                    violation_error_message=_("This person already belongs to "
                                                              "this unit.")),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit}"
