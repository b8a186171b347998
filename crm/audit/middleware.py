from django.core.exceptions import PermissionDenied

from .services import record_denied


class DeniedAttemptMiddleware:
    """Every 403 a signed-in user gets, on a page or in the API, goes to the failed-
    authorisation log with the reason the service gave."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403 and getattr(request.user, "is_authenticated", False):
            reason = getattr(request, "_denied_reason", "")
            if not reason and hasattr(response, "data"):  # the API: DRF's error body
                reason = str((response.data or {}).get("detail", ""))
            record_denied(request, reason)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            request._denied_reason = str(exception)
        return None
