"""Writes on accounts: API tokens (issue "Hardening" item 8)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken


@transaction.atomic
def token_issue(*, user) -> tuple[AuthToken, str]:
    """A new token for `user`, valid for settings.API_TOKEN_TTL_DAYS. Returns the row and the
    token itself, which exists only in this return value: the database keeps its hash.

    Each login issues its own token, so a client that logs in on every run leaves expired
    rows behind; they are swept here (the one moment we touch the user's tokens anyway)
    rather than on every request, which is what knox would do."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user,
                                    expiry=timedelta(days=settings.API_TOKEN_TTL_DAYS))


def token_revoke(*, user, token_key: str) -> int:
    """Revoke `user`'s token that starts with `token_key` (what the token list shows).
    Only the user's own tokens match, so another user's key revokes nothing. Returns how
    many were revoked: 0 or, practically always, 1."""
    deleted, _by_model = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    return deleted


def tokens_revoke_all(*, user) -> int:
    """Revoke every API token of `user`: on a password change, or by an administrator."""
    deleted, _by_model = AuthToken.objects.filter(user=user).delete()
    return deleted

