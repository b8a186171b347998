"""Reading the audit. Confidential reads are for leaders (they may open every record the log
names); the refused attempts are for administrators (the log names addresses and users, no
record). A record is named through its own model's access rule, so the log never shows a
name its reader could not open."""

from collections import defaultdict
from dataclasses import dataclass

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.accounts.roles import Role, has_role
from crm.core.filters import CrmFilterSet, DayFilter

from .models import AccessRecord, DeniedAttempt


class AccessRecordFilter(CrmFilterSet):
    user = django_filters.ModelChoiceFilter(label=_("Who"), queryset=User.objects.all())
    action = django_filters.ChoiceFilter(label=_("How"), choices=AccessRecord.Action.choices)
    date_from = DayFilter(label=_("From"), field_name="at__date", lookup_expr="gte")
    date_to = DayFilter(label=_("To"), field_name="at__date", lookup_expr="lte")

    class Meta:
        model = AccessRecord
        fields = ["user", "action", "date_from", "date_to"]


def access_list(*, user, filters=None) -> AccessRecordFilter:
    records = AccessRecord.objects.none()
    if has_role(user, Role.LEADER):
        records = AccessRecord.objects.select_related("user", "content_type")
    return AccessRecordFilter(filters or {}, queryset=records.order_by("-at", "-pk"))


def access_for(*, user, record, limit: int = 50) -> list[AccessRecord] | None:
    """The reads of one record, newest first, for its page: leaders only (None for others,
    whose page shows no such card)."""
    if not has_role(user, Role.LEADER):
        return None
    content_type = ContentType.objects.get_for_model(type(record))
    return list(AccessRecord.objects.filter(content_type=content_type, object_id=record.pk)
                .select_related("user")[:limit])


@dataclass
class Named:
    label: str
    url: str | None


def name_records(*, user, records) -> None:
    """Give each AccessRecord `.record_label` and `.record_url`, looking the records up per
    model through that model's visible_to(user): one query per model on the page."""
    wanted = defaultdict(set)
    for row in records:
        wanted[row.content_type_id].add(row.object_id)
    names: dict[tuple[int, int], Named] = {}
    for content_type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        objects = model._default_manager.filter(pk__in=ids)
        if hasattr(objects, "visible_to"):
            objects = objects.visible_to(user)
        for obj in objects:
            url = obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else None
            names[(content_type_id, obj.pk)] = Named(str(obj), url)
    for row in records:
        found = names.get((row.content_type_id, row.object_id))
        row.record_label = found.label if found else _("Record %(id)s") % {"id": row.object_id}
        row.record_url = found.url if found else None


def denied_list(*, user):
    if not has_role(user, Role.ADMINISTRATOR):
        return DeniedAttempt.objects.none()
    return DeniedAttempt.objects.select_related("user").order_by("-at", "-pk")
