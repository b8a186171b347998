"""Shared pieces of the REST API: pagination and one error format.

Errors: 400 with field errors, 401/403 unauthenticated/forbidden, 404 for objects outside the
caller's reach (querysets are scoped, so they simply do not exist for the caller), 409 for
conflicts with the current state (ConflictError from a service).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import BadParameter, ConflictError
from .pagination import InvalidCursor, InvalidPage, paginate_queryset


class StandardPagination(PageNumberPagination):
    """crm.core.pagination behind DRF: `next`/`previous` carry a keyset cursor, `?page=N` still
    works (OFFSET), and `count` is exact up to a cap and the planner's estimate above it, as
    `count_is_estimate` says. An edited or stale cursor is a 400, a page past the end a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_param = "cursor"
    template = None  # the browsable API's numbered controls would need exact page counts

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        try:
            self.page = paginate_queryset(queryset, request.query_params, per_page=page_size)
        except InvalidCursor:
            raise DRFValidationError(
                {self.cursor_query_param: [_("Invalid cursor: follow the next and previous "
                                             "links as given.")]}) from None
        except InvalidPage:
            raise NotFound(self.invalid_page_message) from None
        return list(self.page)

    def _link(self, params: dict | None) -> str | None:
        if params is None:
            return None
        url = self.request.build_absolute_uri()
        url = remove_query_param(remove_query_param(url, self.page_query_param),
                                 self.cursor_query_param)
        for key, value in params.items():
            url = replace_query_param(url, key, value)
        return url

    def get_next_link(self):
        return self._link(self.page.next_params)

    def get_previous_link(self):
        return self._link(self.page.previous_params)

    def get_paginated_response(self, data):
        return Response({
            "count": self.page.count,
            "count_is_estimate": self.page.count_is_estimate,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_is_estimate"] = {
            "type": "boolean", "example": False,
            "description": "True when count is the database's estimate (long lists), not an "
                           "exact figure.",
        }
        response["properties"]["next"]["example"] = "http://api.example.org/accounts/?cursor=eyJr"
        return response

    def get_schema_operation_parameters(self, view):
        return [*super().get_schema_operation_parameters(view), {
            "name": self.cursor_query_param, "required": False, "in": "query",
            "description": "Opaque position from a response's next or previous link.",
            "schema": {"type": "string"},
        }]


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict with the current state."
    default_code = "conflict"


def conflict_payload(exc: ConflictError) -> dict:
    payload = {"detail": str(exc.message), "code": exc.code}
    existing = exc.existing
    if existing is not None:
        payload["existing"] = {"id": existing.pk, "label": str(existing)}
    return payload


def exception_handler(exc, context):
    if isinstance(exc, BadParameter):
        return Response({exc.name: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        return Response(conflict_payload(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = DRFValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied) and str(exc):
        # Keep the service's reason ("you drafted this application ...") in the 403.
        exc = PermissionDenied(detail=str(exc))
    return drf_exception_handler(exc, context)
