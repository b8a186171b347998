"""Small helpers every app's views share: pagination that keeps the filters, and turning a
service's refusal into form errors or a message."""

import contextlib

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils.translation import gettext as _

from .exceptions import BadParameter, ConflictError
from .pagination import InvalidCursor, InvalidPage, ListPage, paginate_queryset

PAGE_SIZE = 25


def paginate(request, queryset, *, per_page: int = PAGE_SIZE) -> tuple[ListPage, str]:
    """The requested page of `queryset` (crm.core.pagination: keyset cursors for next/previous,
    ?page=N for the first pages, an estimated total on long lists), and the list's filters as
    a query string. A link that no longer fits the list (an edited cursor, a page past the end)
    shows the first or the last page rather than an error: it came from a bookmark or a hand."""
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("cursor", None)
    querystring = params.urlencode()
    cursor_invalid = False
    try:
        page = paginate_queryset(queryset, request.GET, per_page=per_page)
    except InvalidCursor:
        cursor_invalid = True
        page = paginate_queryset(queryset, {}, per_page=per_page)
    except InvalidPage:
        page = paginate_queryset(queryset, {}, per_page=per_page)
        last = page.num_pages
        if request.GET.get("page", "").isdigit() and last > 1:
            # An estimated total may overshoot the end: then stay on the first page.
            with contextlib.suppress(InvalidPage):
                page = paginate_queryset(queryset, {"page": last}, per_page=per_page)
    page.cursor_invalid = cursor_invalid

    def link(extra: dict | None) -> str | None:
        if extra is None:
            return None
        query = params.copy()
        query.update(extra)
        return query.urlencode()

    page.next_query = link(page.next_params)
    page.previous_query = link(page.previous_params)
    page.numbered_links = [(number, link({} if number == 1 else {"page": number}))
                           for number in page.numbered_pages()]
    return page, querystring


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


# Ids and counts in query strings: ASCII digits only ("²".isdigit() is True), and small
# enough for any database's integer (a 40-digit page number overflowed a bigint).
MAX_QUERY_INT = 10**12


def parse_pk(value: str | None) -> int | None:
    """A primary key from a query string, or None when it is not one."""
    ok = value and value.isascii() and value.isdigit() and int(value) <= MAX_QUERY_INT
    return int(value) if ok else None


def query_int(params, name: str, *, default: int = 0, minimum: int = 0,
              maximum: int = MAX_QUERY_INT) -> int:
    """The whole number `params[name]`, or BadParameter (a 400 naming it)."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 13 \
            and minimum <= int(raw) <= maximum:
        return int(raw)
    raise BadParameter(name, _("“%(name)s” must be a whole number from %(low)s to %(high)s.")
                       % {"name": name, "low": minimum, "high": maximum})


def error_text(error: Exception) -> str:
    """A service's refusal as one line a person can read."""
    if isinstance(error, ConflictError):
        return str(error.message)
    return " ".join(str(message) for message in getattr(error, "messages", [str(error)]))


def attempt(request, service, *, success, **kwargs):
    """Call `service(by=request.user, **kwargs)`: its refusal (a clash, a rule) becomes an
    error message with the reason and None is returned; on success the message `success`
    (a text, or a function of the result) is shown and the result returned. PermissionDenied
    is not caught: acting outside one's role is a 403, not a message."""
    try:
        result = service(by=request.user, **kwargs)
    except (ConflictError, ValidationError) as error:
        messages.error(request, error_text(error))
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def json_error(message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"detail": str(message)}, status=status,
                        json_dumps_params={"ensure_ascii": False})
