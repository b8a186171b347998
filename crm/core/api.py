"""Shared pieces of the REST API: pagination and one error format.

Errors: 400 with field errors, 401/403 unauthenticated/forbidden, 404 for objects outside the
caller's reach (querysets are scoped, so they simply do not exist for the caller), 409 for
conflicts with the current state (ConflictError from a service).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import ConflictError


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


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
