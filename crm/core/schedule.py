"""Periodic work, declared by the app that owns it (ARCHITECTURE.md: "Periodic work is
declared in the beat schedule in code"). Each app calls `every()` in its AppConfig.ready(),
which beat and a worker with -B run (Celery's Django fixup sets Django up before the scheduler
reads its schedule). The floor keeps only the registry: it never knows which app runs what."""

from crm.celery import app

_entries: dict[str, dict] = {}


def every(seconds: float, task: str, *, name: str) -> None:
    """Run the Celery task named `task` every `seconds` seconds."""
    _entries[name] = {"task": task, "schedule": seconds}
    app.conf.beat_schedule = dict(_entries)


def beat_schedule() -> dict[str, dict]:
    return dict(_entries)
