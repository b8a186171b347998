"""Cached figures: the leaders' dashboards, kept until anything they count changes.

At scale (200,000 projects) the leader dashboard is some thirty aggregate queries and costs
seconds; leaders open it far more often than the pipeline changes between two openings. So a
computed figure set is cached under a key holding a *version*, and every save or delete of a
model in the apps the figures read (FIGURE_APPS) bumps the version once its transaction has
committed (and once at the write, for the writer's own transaction): the next request
computes afresh. Writes that bypass model signals
(QuerySet.update, bulk_create) call figures_changed() themselves. The key also holds the user
(the access rule decides what they count), the language (labels are rendered) and the
parameters; TTL_SECONDS only bounds a version bump that was lost (the cache was unreachable at
that moment). Each cached set carries the time it was computed, which the page shows.
"""

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone, translation

logger = logging.getLogger(__name__)

FIGURE_APPS = frozenset({"leads", "parks", "funds", "dashboards", "accounts"})
VERSION_KEY = "figures:version"
TTL_SECONDS = 15 * 60


def figures_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def _bump() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet (a cleared cache): start one
            cache.add(VERSION_KEY, 1, timeout=None)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the write that succeeded
        logger.warning("could not invalidate cached figures; they expire within %s s",
                       TTL_SECONDS, exc_info=True)


def figures_changed() -> None:
    """Invalidate every cached figure set now and again once the current transaction commits.
    The second bump is the one that matters to other requests: one that read the old rows
    between the two cannot have cached them under the final version. The first lets this
    transaction see its own writes (and tests, whose transactions never commit)."""
    _bump()
    transaction.on_commit(_bump)


def cached_figures(name: str, *, user, params: dict, compute: Callable[[], Any]) -> Any:
    """compute(), or its cached result for this user, language, parameters and version.
    The result gets `computed_at` when it is an object that takes attributes."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    try:
        key = (f"figures:{figures_version()}:{name}:{user.pk}:"
               f"{translation.get_language()}:{digest}")
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - no cache: compute every time, as before caching
        logger.warning("figure cache unavailable", exc_info=True)
        return _stamped(compute())
    if found is not None:
        return found
    result = _stamped(compute())
    try:
        cache.set(key, result, TTL_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("could not cache figures %s", name, exc_info=True)
    return result


class FigureList(list):
    """A list of figures that can carry its computed_at."""

    computed_at = None


def _stamped(result):
    with contextlib.suppress(AttributeError):  # a value that takes no attributes
        result.computed_at = timezone.now()
    return result


def _model_written(sender, **kwargs) -> None:
    if kwargs.get("raw"):
        return  # fixtures loading
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return  # a login changes no figure
    if sender._meta.app_label in FIGURE_APPS:
        figures_changed()


def _m2m_written(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _model_written(sender)


def connect_signals() -> None:
    post_save.connect(_model_written, dispatch_uid="figures.saved")
    post_delete.connect(_model_written, dispatch_uid="figures.deleted")
    m2m_changed.connect(_m2m_written, dispatch_uid="figures.m2m")
