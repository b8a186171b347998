"""Writing the audit: reads of confidential records (the apps call record_reads wherever a
confidential record is opened, exported, downloaded or read through the API) and refused
attempts (the middleware). One insert per call, however many records an export holds."""

from django.contrib.contenttypes.models import ContentType

from crm.core.http import client_ip

from .models import AccessRecord, DeniedAttempt

PATH_MAX = 300
REASON_MAX = 300


def record_reads(request, records, *, action: str) -> int:
    """Record that request.user read `records` (model instances, or (model, pk) pairs) in
    `action`. The caller passes only the confidential ones."""
    rows = []
    content_types: dict[type, ContentType] = {}
    for record in records:
        model, pk = record if isinstance(record, tuple) else (type(record), record.pk)
        content_type = content_types.get(model) or ContentType.objects.get_for_model(model)
        content_types[model] = content_type
        rows.append(AccessRecord(user=request.user, action=action, content_type=content_type,
                                 object_id=pk, path=request.get_full_path()[:PATH_MAX],
                                 ip=client_ip(request)))
    AccessRecord.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def record_denied(request, reason: str = "") -> DeniedAttempt:
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    return DeniedAttempt.objects.create(
        user=user, method=request.method[:8], path=request.get_full_path()[:PATH_MAX],
        reason=str(reason)[:REASON_MAX], ip=client_ip(request))
