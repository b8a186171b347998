"""The admin obeys the product's access rules, history pages included (issue "Hardening").

Every ModelAdmin of a model with an access rule derives from AccessRuleAdmin (put it first,
before SimpleHistoryAdmin or django.contrib.auth's admins):

- Reading. get_queryset() goes through the model's ``visible_to(user)``, or, for a record that
  hangs off one (a review of an application), through its parent's: ``access_through``
  names the path. Superusers read everything. Every admin door starts from get_queryset():
  the changelist and its search, the change and delete pages, raw-id popups, and the
  autocomplete endpoint of any field pointing at the model (Django asks the target's admin
  for its queryset and search), so none of them can disagree with the product's pages.
- A record outside that queryset is a 404 everywhere, simple_history's pages included: the
  history list, a historical version and the POST that reverts to it. Django would redirect
  with "perhaps it was deleted" instead; a 404 is what the product's own pages answer.
  Only superusers still reach the history of a deleted record.
- Reverting needs the change permission on the live record (simple_history asks only for
  view), and writes only what the change form would write: every field outside the form
  keeps its live value, so a revert cannot bring back a stage, a state or a superuser flag
  that the change form keeps read-only.
- A foreign key to a record the reader may not open (the confidential project of an
  application a fund reviewer reads) is shown by the related admin's concealed_name()
  ("Confidential project (ID n)"), never by its name: changelist columns, list filters,
  change forms, historical versions, the history list's deltas and a raw-id box. A form
  offers only records the reader may open; a concealed value stays out of the form (it
  cannot be read, chosen or changed there) and keeps its value on save.
- Writing. may_change(user, obj) narrows the role's model permission to the objects the
  app's permissions.py allows (leaders read every deal and edit none; a park manager edits
  the parks they manage).

Limits, so a new admin does not rely on more than is here: concealment covers direct
foreign keys of the admin's model (list_display and list_filter entries naming one; not
``a__b`` paths, many-to-many fields, inlines or list_editable); search_fields must not reach
through a relation into text the reader may not see (a changelist search is an oracle).
"""

from django.contrib import admin
from django.contrib.admin.filters import RelatedFieldListFilter
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.utils.text import Truncator
from django.utils.translation import gettext as _

try:  # the history pages exist only where simple_history is installed
    from simple_history.template_utils import HistoricalRecordContextHelper
except ImportError:  # pragma: no cover
    HistoricalRecordContextHelper = None

# Per-request memo of "may this user open that record?", keyed by (model label, pk): a
# changelist page asks once per column for the whole page, the history list once per value.
_MEMO_ATTR = "_access_rule_memo"
# Set on the request while simple_history saves a revert: the live record it reverts.
_REVERT_ATTR = "_access_rule_revert_of"


def _memo(request) -> dict:
    memo = getattr(request, _MEMO_ATTR, None)
    if memo is None:
        memo = {}
        setattr(request, _MEMO_ATTR, memo)
    return memo


def _has_rule(model) -> bool:
    return hasattr(model._default_manager, "visible_to")


def readable(request, model, admin_site=admin.site):
    """The records of `model` that request.user may open: what the model's admin lists when it
    is an AccessRuleAdmin (so a rule declared by access_through counts too), else the model's
    visible_to(user); everything for superusers and for models without a rule."""
    model_admin = admin_site._registry.get(model)
    if isinstance(model_admin, AccessRuleAdmin):
        return model_admin.access_queryset(request)
    queryset = model._default_manager.all()
    if request.user.is_superuser or not _has_rule(model):
        return queryset
    return queryset.visible_to(request.user)


def is_guarded(model, admin_site=admin.site) -> bool:
    """Whether some reader may be refused records of `model`."""
    model_admin = admin_site._registry.get(model)
    if isinstance(model_admin, AccessRuleAdmin):
        return model_admin.has_access_rule
    return _has_rule(model)


def may_open(request, model, pks, admin_site=admin.site) -> dict:
    """{pk: whether request.user may open that record of `model`}, in at most one query for
    the pks not asked about earlier in this request."""
    pks = {pk for pk in pks if pk is not None}
    if request.user.is_superuser or not is_guarded(model, admin_site):
        return dict.fromkeys(pks, True)
    memo = _memo(request)
    label = model._meta.label_lower
    unknown = [pk for pk in pks if (label, pk) not in memo]
    if unknown:
        found = set(readable(request, model, admin_site).filter(pk__in=unknown)
                    .order_by().values_list("pk", flat=True))
        for pk in unknown:
            memo[(label, pk)] = pk in found
    return {pk: memo[(label, pk)] for pk in pks}


def concealed_name(model, pk, admin_site=admin.site) -> str:
    """How a record the reader may not open is named: by the words its own admin chooses
    (concealed_name()), by its id, never by its name."""
    model_admin = admin_site._registry.get(model)
    if isinstance(model_admin, AccessRuleAdmin):
        return model_admin.concealed_name(pk)
    return _("Restricted %(model)s (ID %(id)s)") % {"model": model._meta.verbose_name, "id": pk}


def related_label(request, field, obj, admin_site=admin.site):
    """What a reader sees for `obj`'s foreign key `field`: the related record's name, its
    concealed name, or None (no related record)."""
    pk = getattr(obj, field.attname)
    if pk is None:
        return None
    model = field.related_model
    if may_open(request, model, [pk], admin_site)[pk]:
        return str(getattr(obj, field.name))
    return concealed_name(model, pk, admin_site)


def _concealing_display(request, field, admin_site):
    """A readonly_fields / list_display callable for `field` that never shows a name the
    reader may not see. Named after the field, so the page's CSS class and help text stay.
    One per request and field: Django matches the callables of get_fields() and
    get_readonly_fields() by identity."""
    key = ("display", field.model._meta.label_lower, field.name)
    memo = _memo(request)
    if key not in memo:
        def display(obj):
            return related_label(request, field, obj, admin_site)

        display.__name__ = field.name
        display.short_description = field.verbose_name
        display.admin_order_field = field.name
        memo[key] = display
    return memo[key]


class ReadableRelatedFieldListFilter(RelatedFieldListFilter):
    """A list filter on a foreign key that offers the related records this changelist's rows
    refer to (as Django's RelatedOnlyFieldListFilter does, instead of every project there is),
    naming those the reader may not open by their concealed name."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model
        present = (model_admin.get_queryset(request).order_by()
                   .exclude(**{f"{self.field_path}__isnull": True})
                   .values_list(f"{self.field_path}__pk", flat=True).distinct())
        ordering = self.field_admin_ordering(field, request, model_admin) or ()
        opened = readable(request, related, model_admin.admin_site).filter(pk__in=present)
        choices = [(obj.pk, str(obj)) for obj in opened.order_by(*ordering)]
        shown = {pk for pk, _label in choices}
        choices += [(pk, concealed_name(related, pk, model_admin.admin_site))
                    for pk in sorted(set(present) - shown)]
        return choices


class ReadableRawIdWidget(ForeignKeyRawIdWidget):
    """The raw-id box names the record it holds; a typed-in id of a record the reader may not
    open (a form sent back with an error) must not reveal that record's name."""

    def __init__(self, rel, admin_site, *, request, attrs=None, using=None):
        self.request = request
        super().__init__(rel, admin_site, attrs=attrs, using=using)

    def label_and_url_for_value(self, value):
        model = self.rel.model
        try:
            pk = model._meta.pk.to_python(value)
        except (ValueError, ValidationError):
            return "", ""
        if not may_open(self.request, model, [pk], self.admin_site)[pk]:
            return Truncator(concealed_name(model, pk, self.admin_site)).words(14), ""
        return super().label_and_url_for_value(value)


if HistoricalRecordContextHelper is not None:
    class ConcealingHistoryContextHelper(HistoricalRecordContextHelper):
        """The history list's "changes" column, with foreign keys to records the reader may
        not open shown by their concealed name."""

        def __init__(self, model, historical_record, *, request, admin_site, **kwargs):
            self.request = request
            self.admin_site = admin_site
            super().__init__(model, historical_record, **kwargs)

        def prepare_delta_change_value(self, change, value):
            field = self.model._meta.get_field(change.field)
            if (isinstance(field, models.ForeignKey) and value is not None
                    and is_guarded(field.related_model, self.admin_site)):
                pk = getattr(value, "pk", value)  # an object, a DeletedObject or a bare id
                if pk is None:
                    # simple-history reports an empty foreign key as DeletedObject(pk=None).
                    return "—"
                if not may_open(self.request, field.related_model, [pk], self.admin_site)[pk]:
                    return concealed_name(field.related_model, pk, self.admin_site)
            return super().prepare_delta_change_value(change, value)


class AccessRuleAdmin(admin.ModelAdmin):
    """See the module docstring. Declare ``access_through`` for a model without visible_to
    that hangs off one, ``may_change`` for the object-level write rule, ``concealed_name``
    for how a record of this model is named to those who may not open it."""

    # "application" or "building__park": the path to the record whose visible_to decides.
    access_through: str | None = None

    # --- reading --------------------------------------------------------------------------
    @property
    def has_access_rule(self) -> bool:
        return bool(self.access_through) or _has_rule(self.model)

    def _parent_model(self):
        model = self.model
        for part in self.access_through.split("__"):
            model = model._meta.get_field(part).related_model
        return model

    def access_queryset(self, request, queryset=None):
        """`queryset` (the model's default one) narrowed to what request.user may open."""
        if queryset is None:
            queryset = self.model._default_manager.get_queryset()
        user = request.user
        if user.is_superuser:
            return queryset
        if self.access_through:
            parents = readable(request, self._parent_model(), self.admin_site)
            return queryset.filter(**{f"{self.access_through}__in": parents.values("pk")})
        if hasattr(queryset, "visible_to"):
            return queryset.visible_to(user)
        return queryset

    def get_queryset(self, request):
        return self.access_queryset(request, super().get_queryset(request))

    def concealed_name(self, pk) -> str:
        return _("Restricted %(model)s (ID %(id)s)") % {
            "model": self.model._meta.verbose_name, "id": pk}

    def _find(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request)
        field = self.model._meta.pk if from_field is None else self.model._meta.get_field(
            from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (self.model.DoesNotExist, ValidationError, ValueError):
            return None

    def get_object(self, request, object_id, from_field=None):
        obj = self._find(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such record."))
        return obj

    # --- writing --------------------------------------------------------------------------
    def may_change(self, user, obj) -> bool:
        """The app's object-level write rule (its permissions.py predicate)."""
        return True

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if allowed and obj is not None and not request.user.is_superuser:
            return bool(self.may_change(request.user, obj))
        return allowed

    # --- foreign keys to records the reader may not open ----------------------------------
    def _guarded_foreign_keys(self):
        return [field for field in self.model._meta.concrete_fields
                if isinstance(field, models.ForeignKey)
                and is_guarded(field.related_model, self.admin_site)]

    def _concealed_fields(self, request, obj):
        """The guarded foreign keys of `obj` whose current value the reader may not open."""
        if obj is None or request.user.is_superuser:
            return []
        hidden = []
        for field in self._guarded_foreign_keys():
            pk = getattr(obj, field.attname)
            if pk is not None and not may_open(request, field.related_model, [pk],
                                               self.admin_site)[pk]:
                hidden.append(field)
        return hidden

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        exclude += [f.name for f in self._concealed_fields(request, obj) if f.name not in exclude]
        return exclude

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        for field in self._concealed_fields(request, obj):
            display = _concealing_display(request, field, self.admin_site)
            if field.name in readonly:
                readonly[readonly.index(field.name)] = display
            else:
                readonly.append(display)
        return readonly

    def get_fields(self, request, obj=None):
        # A concealed field is excluded from the form but may be named in `fields`.
        concealed = {f.name for f in self._concealed_fields(request, obj)}
        return [f for f in super().get_fields(request, obj) if f not in concealed]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        guarded = (not request.user.is_superuser
                   and is_guarded(db_field.related_model, self.admin_site))
        if guarded:
            if "widget" not in kwargs and db_field.name in self.raw_id_fields:
                kwargs["widget"] = ReadableRawIdWidget(db_field.remote_field, self.admin_site,
                                                       request=request,
                                                       using=kwargs.get("using"))
            if "queryset" not in kwargs:
                # (Not `a or b`: the truth of a queryset would run it.)
                queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
                if queryset is None:
                    queryset = db_field.related_model._default_manager.all()
                kwargs["queryset"] = queryset.filter(pk__in=readable(
                    request, db_field.related_model, self.admin_site).values("pk"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _guarded_column(self, name):
        if not isinstance(name, str) or name in (self.list_editable or ()):
            return None
        for field in self._guarded_foreign_keys():
            if field.name == name:
                return field
        return None

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if request.user.is_superuser:
            return columns
        return [_concealing_display(request, field, self.admin_site)
                if (field := self._guarded_column(name)) else name for name in columns]

    def get_list_filter(self, request):
        return [(name, ReadableRelatedFieldListFilter) if self._guarded_column(name) else name
                for name in super().get_list_filter(request)]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if not request.user.is_superuser:
            # One query per concealing column for the whole page, not one per row.
            fields = [field for name in super().get_list_display(request)
                      if (field := self._guarded_column(name))]
            rows = list(changelist.result_list) if fields else []
            for field in fields:
                may_open(request, field.related_model,
                         [getattr(row, field.attname) for row in rows], self.admin_site)
        return changelist

    # --- simple_history's pages -----------------------------------------------------------
    def get_historical_record_context_helper(self, request, historical_record):
        return ConcealingHistoryContextHelper(self.model, historical_record, request=request,
                                              admin_site=self.admin_site)

    def history_view(self, request, object_id, extra_context=None):
        if self._find(request, unquote(object_id)) is None and not request.user.is_superuser:
            # simple_history would fall back to the latest historical version.
            raise Http404(_("No such record."))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        live = self._find(request, unquote(object_id))
        if live is None:
            if not request.user.is_superuser:
                raise Http404(_("No such record."))
            # A superuser may still read (and restore) the versions of a deleted record.
            return super().history_form_view(request, object_id, version_id, extra_context)
        if request.method == "POST":
            if self.revert_disabled(request, live) or not self.has_change_permission(request,
                                                                                    live):
                raise PermissionDenied
            setattr(request, _REVERT_ATTR, live)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request, obj, form, change):
        live = getattr(request, _REVERT_ATTR, None)
        if live is not None and change and live.pk == obj.pk:
            # A revert saves the whole old version; keep what the form did not offer.
            for field in self.model._meta.concrete_fields:
                if not field.primary_key and field.name not in form.fields:
                    setattr(obj, field.attname, getattr(live, field.attname))
        super().save_model(request, obj, form, change)
