"""Reads on accounts."""

from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken


def token_list(*, user) -> QuerySet[AuthToken]:
    """`user`'s tokens that still work, newest first. Expired ones are left out: they
    authenticate nothing and are swept at the next login. (A token without expiry is not
    issued here, but knox would accept one, so it is listed and can be revoked.)"""
    return (AuthToken.objects.filter(user=user)
            .filter(Q(expiry__gt=timezone.now()) | Q(expiry__isnull=True))
            .only("digest", "token_key", "created", "expiry", "user_id")
            .order_by("-created"))
