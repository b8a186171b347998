"""Administrators' screens for the reference data the product runs on (issue 17): plan targets,
stages, lost reasons, reminder rules. Each app registers its lists in AppConfig.ready(), as it
registers its navigation entries, so the floor never imports an app.

A screen is a declaration, not code: the model, the form that edits a row, the columns its
list shows, and whether a row may be deleted or only switched off. The one write path for
every screen is `reference_save` / `reference_delete` below, which check the model permission
the role was granted (crm.accounts.roles.grant), validate the row as the admin would
(full_clean, so the constraints speak on their fields) and save it; django-simple-history
records who did it (its request middleware), and the figures' cache is invalidated by the
save like any other write (crm.core.figures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .permissions import require

# The navigation section the screens are listed under (after Audit, before Me).
ADMINISTRATION = gettext_lazy("Administration")


@dataclass(frozen=True)
class Column:
    """One column of a screen's list: a label and the attribute (or callable) giving its value.
    Choices show their label and booleans a yes/no badge (crm/setup/list.html)."""

    label: str
    value: str | Callable[[models.Model], object]
    numeric: bool = False

    @classmethod
    def field(cls, model: type[models.Model], name: str, *, numeric: bool = False,
              value: str | Callable | None = None) -> Column:
        """A column headed by the model field's own label (its verbose_name, translated like
        everywhere else the field shows), reading `value` (default: the field)."""
        return cls(model._meta.get_field(name).verbose_name, value or name, numeric)

    def of(self, row: models.Model):
        if callable(self.value):
            return self.value(row)
        display = getattr(row, f"get_{self.value}_display", None)
        return display() if display else getattr(row, self.value)


@dataclass(frozen=True)
class SetupScreen:
    key: str  # the URL's slug: /setup/<key>/
    title: str  # the list's name (plural)
    noun: str  # one row (singular), for "New …" and messages
    model: type[models.Model]
    form_class: type
    columns: tuple[Column, ...]
    description: str = ""
    icon: str = "settings"
    order: int = 100
    # Rows the product refers to (a stage, a lost reason, a rule) are switched off, not deleted:
    # their history and the records pointing at them stay whole.
    deletable: bool = False
    list_related: tuple[str, ...] = field(default_factory=tuple)
    # The rows in an order of their own (a tree read depth first), instead of the model's.
    list_rows: Callable[[], Iterable[models.Model]] | None = None

    @property
    def app_label(self) -> str:
        return self.model._meta.app_label

    def permission(self, action: str) -> str:
        return f"{self.app_label}.{action}_{self.model._meta.model_name}"

    def rows(self):
        """Reference lists are short (a dozen stages, a few dozen targets): shown whole, in the
        model's own order, with what the columns read joined in."""
        if self.list_rows is not None:
            return self.list_rows()
        return self.model._default_manager.select_related(*self.list_related)

    def row_label(self, row) -> str:
        return str(row)


@dataclass
class SetupRegistry:
    screens: dict[str, SetupScreen] = field(default_factory=dict)

    def register(self, screen: SetupScreen) -> None:
        """Add `screen`, and its entry in the administrators' section of the navigation."""
        from crm.accounts.roles import Role

        from .navigation import NavEntry, nav

        self.screens.setdefault(screen.key, screen)
        nav.register(NavEntry(ADMINISTRATION, screen.title, "setup:list",
                              frozenset({Role.ADMINISTRATOR}), screen.order, screen.icon,
                              url_kwargs=(("key", screen.key),)), section_order=85)

    def get(self, key: str) -> SetupScreen | None:
        return self.screens.get(key)

    def for_user(self, user) -> list[SetupScreen]:
        return sorted((s for s in self.screens.values() if can_view(user, s)),
                      key=lambda s: (s.order, s.key))


setup_screens = SetupRegistry()


# --- Who may do what: the model permissions each role was granted ------------------------------
def can_view(user, screen: SetupScreen) -> bool:
    return user.has_perm(screen.permission("view")) or user.has_perm(screen.permission("change"))


def can_add(user, screen: SetupScreen) -> bool:
    return user.has_perm(screen.permission("add"))


def can_change(user, screen: SetupScreen) -> bool:
    return user.has_perm(screen.permission("change"))


def can_delete(user, screen: SetupScreen) -> bool:
    return screen.deletable and user.has_perm(screen.permission("delete"))


# The refusals, shared by the write path below and the pages that offer its forms.
def require_add(user, screen: SetupScreen) -> None:
    require(can_add(user, screen), _("Only an administrator adds %(what)s.")
            % {"what": screen.title})


def require_change(user, screen: SetupScreen) -> None:
    require(can_change(user, screen), _("Only an administrator changes %(what)s.")
            % {"what": screen.title})


def require_delete(user, screen: SetupScreen) -> None:
    require(can_delete(user, screen), _("%(what)s cannot be deleted here.")
            % {"what": screen.title})


# --- The writes ---------------------------------------------------------------------------------
@transaction.atomic
def reference_save(*, screen: SetupScreen, by, instance: models.Model | None,
                   data: dict) -> models.Model:
    """Create (instance=None) or update one row of `screen` with the form's cleaned `data`."""
    if instance is None:
        require_add(by, screen)
        instance = screen.model()
    else:
        require_change(by, screen)
    for name, value in data.items():
        setattr(instance, name, value)
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        # full_clean checked the same constraints; only a concurrent save gets here.
        raise ValidationError(_("Someone saved a clashing %(what)s at the same moment: "
                                "reload and try again.") % {"what": screen.noun}) from error
    return instance


@transaction.atomic
def reference_delete(*, screen: SetupScreen, by, instance: models.Model) -> None:
    require_delete(by, screen)
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as error:
        raise ValidationError(_("“%(row)s” is still used by %(count)s records: switch it off "
                                "instead.") % {"row": screen.row_label(instance),
                                               "count": len(error.protected_objects)}) from error
