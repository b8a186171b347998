from .models import AccessRecord
from .services import record_reads


class AuditedReadsMixin:
    """A DRF viewset whose GETs record the confidential records they return, as the pages
    do: each one read by id, and each one on a page of the list. The viewset says which
    records are confidential (is_confidential)."""

    def is_confidential(self, obj) -> bool:
        raise NotImplementedError

    def get_object(self):
        obj = super().get_object()
        if self.request.method == "GET" and self.is_confidential(obj):
            record_reads(self.request, [obj], action=AccessRecord.Action.API)
        return obj

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        rows = page if page is not None else []
        confidential = [obj for obj in rows if self.is_confidential(obj)]
        if confidential:
            record_reads(self.request, confidential, action=AccessRecord.Action.API)
        return page
