"""Cached figures: the leaders' dashboards, kept until something they count changes.

At scale (200,000 projects) the leader dashboard is some thirty aggregate queries and costs
seconds; leaders open it far more often than the pipeline changes between two openings. So a
computed figure set is cached under a key built from the *versions of the apps it reads*:

- each app that figures may read registers a version (`track("leads")` in its
  AppConfig.ready()); every save or delete of one of its models bumps that app's version once
  the transaction has committed (and once at the write, for the writer's own transaction);
- each figure set names the apps it reads (`cached_figures(..., reads=("leads", ...))`), and
  its key holds their versions: a new reminder rule, a login or a park's new unit leave the
  pipeline figures where they were, while a stage move recomputes them.

Writes that bypass model signals (QuerySet.update, bulk_create, COPY) call
`figures_changed(app)` themselves. The key also holds the user (the access rule decides what
they count), the language (labels are rendered) and the parameters; TTL_SECONDS only bounds a
version bump that was lost (the cache was unreachable at that moment). Each cached set carries
the time it was computed, which the page shows.
"""

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone, translation

logger = logging.getLogger(__name__)

TTL_SECONDS = 15 * 60
_tracked: set[str] = set()


def track(app_label: str) -> None:
    """Give `app_label` a figures version: its models' writes invalidate the figure sets that
    read it. Called by each app in its AppConfig.ready()."""
    _tracked.add(app_label)


def tracked_apps() -> frozenset[str]:
    return frozenset(_tracked)


def _version_key(app_label: str) -> str:
    return f"figures:version:{app_label}"


def versions(apps: Iterable[str]) -> dict[str, int]:
    """The current version of each app, in one cache round trip (missing ones start at 1)."""
    apps = sorted(set(apps))
    unknown = set(apps) - _tracked
    if unknown:
        raise ValueError(f"figures read untracked apps: {sorted(unknown)}")
    keys = {_version_key(app): app for app in apps}
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, 1, timeout=None)
            found[key] = cache.get(key, 1)
    return {app: found[key] for key, app in keys.items()}


def reset_versions() -> None:
    """Start every tracked app on a version no earlier test or run has used (the tests'
    fixture: cached figures outlive a rolled-back transaction and the test database)."""
    cache.set_many({_version_key(app): int.from_bytes(os.urandom(6), "big")
                    for app in _tracked}, timeout=None)


def _bump(app_label: str) -> None:
    key = _version_key(app_label)
    try:
        try:
            cache.incr(key)
        except ValueError:  # no version yet (a cleared cache): start one
            cache.add(key, 1, timeout=None)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the write that succeeded
        logger.warning("could not invalidate cached figures of %s; they expire within %s s",
                       app_label, TTL_SECONDS, exc_info=True)


def figures_changed(*app_labels: str) -> None:
    """Invalidate the figure sets that read these apps (every tracked app when none is named)
    now, and again once the current transaction commits. The second bump is the one that
    matters to other requests: one that read the old rows between the two cannot have cached
    them under the final version. The first lets this transaction see its own writes (and
    tests, whose transactions never commit)."""
    labels = app_labels or tuple(_tracked)
    for label in labels:
        _bump(label)
    transaction.on_commit(lambda: [_bump(label) for label in labels])


def cached_figures(name: str, *, user, params: dict, reads: Iterable[str],
                   compute: Callable[[], Any]) -> Any:
    """compute(), or its cached result for this user, language, parameters and the versions
    of the apps it `reads`. The result gets `computed_at` when it takes attributes."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    try:
        stamp = ".".join(f"{app}{version}" for app, version in versions(reads).items())
        key = f"figures:{name}:{stamp}:{user.pk}:{translation.get_language()}:{digest}"
        found = cache.get(key)
    except ValueError:
        raise
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
    if sender._meta.app_label in _tracked:
        figures_changed(sender._meta.app_label)


def _m2m_written(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _model_written(sender)


def connect_signals() -> None:
    post_save.connect(_model_written, dispatch_uid="figures.saved")
    post_delete.connect(_model_written, dispatch_uid="figures.deleted")
    m2m_changed.connect(_m2m_written, dispatch_uid="figures.m2m")
