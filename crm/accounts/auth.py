"""API token authentication: django-rest-knox's, with two changes (issue "Hardening" item 8).

knox stores only a hash of each token, gives every login its own token and honours an expiry;
the header stays `Authorization: Token <token>` (REST_KNOX's AUTH_HEADER_PREFIX).
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeError:
            # knox decodes without a guard, so a header in Latin-1 was a 500; DRF's own token
            # class answers 401 here too.
            raise exceptions.AuthenticationFailed(
                _("Invalid token header. Token string should not contain invalid characters.")
            )
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        # knox walks every token of the user on every request to delete the expired ones: with
        # a token per login, a script that logs in on each run would make each call slower.
        # Here a request looks at its own token only; services.token_issue() sweeps the rest.
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describe the scheme in the schema the way DRF's TokenAuthentication was described, so
    clients generated from it keep sending `Authorization: Token <token>`."""

    target_class = "crm.accounts.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _('Token-based authentication with required prefix "%s"')
            % self.target.authenticate_header(None),
        }
