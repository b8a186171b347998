"""Small helpers every app's views share: pagination that keeps the filters, and turning a
service's refusal into form errors or a message."""

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse

from .exceptions import ConflictError

PAGE_SIZE = 25


def paginate(request, queryset, *, per_page: int = PAGE_SIZE):
    paginator = Paginator(queryset, per_page)
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()


def add_service_error(form, error: Exception) -> None:
    """Show a service's ValidationError on its fields, or a ConflictError on the form."""
    if isinstance(error, ConflictError):
        form.add_error(None, str(error.message))
        return
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return
    form.add_error(None, getattr(error, "messages", [str(error)]))


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def json_error(message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"detail": str(message)}, status=status,
                        json_dumps_params={"ensure_ascii": False})
