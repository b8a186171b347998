"""Scan and deliver N due reminders with two Celery worker processes.

A bench rule kind ("bench.project_due", registered here, in this process only) reports N
projects as due, one reminder each for its owner. The scan (reminders_scan: insert + fan-out to
one e-mail Delivery each) runs here; then every pending delivery is enqueued to Redis (in
batches of services.DELIVERY_BATCH_SIZE, as the app does) and two `celery worker --concurrency 1`
processes send them with the locmem e-mail backend. Done when no delivery is pending or sending;
then every Delivery must be "sent", with attempts = 1 (sent once).

end_to_end_s is scan + enqueue + delivery: the time from "rules evaluated" to "last message
sent" with workers already running, as in production (their start-up is not counted).
"""

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULE_CODE = "bench-project-due"
TIMEOUT_S = 1800


def run(*, count: int, env: dict) -> dict:
    import django

    os.environ.update({"REMINDERS_OFFICE_HOURS_ONLY": "0",
                       "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"})
    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from crm.notifications import registry, services
    from crm.notifications.models import Delivery, Reminder, ReminderRule
    from leads.models import Project

    settings.REMINDERS_OFFICE_HOURS_ONLY = False
    today = timezone.localdate()

    @registry.register_rule_kind("bench.project_due", "Bench: project due")
    def evaluate(rule, day):
        projects = Project.objects.only("pk", "owner_id", "name").order_by("pk")[:count]
        for project in projects.iterator(chunk_size=2000):  # as registry.py asks of evaluators
            yield registry.Due(record=project, recipient_ids=(project.owner_id,), due_on=day,
                               title=f"跟进到期：{project.name}", link=f"/leads/projects/"
                                                                       f"{project.pk}/")

    Reminder.objects.filter(rule__code=RULE_CODE).delete()
    rule, _ = ReminderRule.objects.update_or_create(code=RULE_CODE, defaults={
        "name": "bench", "kind": "bench.project_due", "recipients": "owner", "is_active": True})
    # Only the bench rule: the app's own rules would add their reminders to the count.
    started = time.perf_counter()
    created = services.reminders_scan(today=today, rules=[rule])
    scanned = time.perf_counter() - started
    ids = list(Delivery.objects.filter(reminder__rule=rule, status=Delivery.Status.PENDING)
               .order_by("pk").values_list("pk", flat=True))
    worker_env = {**env, "REMINDERS_OFFICE_HOURS_ONLY": "0",
                  "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    redis_db = env.get("REDIS_URL", "redis://127.0.0.1:6379/9")
    worker_env["CELERY_BROKER_URL"] = redis_db
    subprocess.run([sys.executable, "-m", "celery", "-A", "crm", "purge", "-f"], cwd=ROOT,
                   env=worker_env, capture_output=True)
    # The workers' CPU time (start-up included) tells the code's cost apart from a busy machine.
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "--concurrency", "1",
         "--loglevel", "WARNING", "-n", f"bench{number}@%h", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for number in range(2)]
    try:
        time.sleep(4)  # the workers connect
        started = time.perf_counter()
        enqueued = services.enqueue_deliveries(ids)
        enqueue_s = time.perf_counter() - started
        unsent = Delivery.objects.filter(reminder__rule=rule, status__in=[
            Delivery.Status.PENDING, Delivery.Status.SENDING])
        # exists(), not count(): a count of 100,000 rows twice a second took a quarter of one of
        # the machine's two cores away from the workers being measured.
        while time.perf_counter() - started < TIMEOUT_S and unsent.exists():
            time.sleep(0.5)
        delivered = time.perf_counter() - started
        remaining = unsent.count()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (cpu_after.ru_utime + cpu_after.ru_stime
                  - cpu_before.ru_utime - cpu_before.ru_stime)
    deliveries = Delivery.objects.filter(reminder__rule=rule)
    sent = deliveries.filter(status=Delivery.Status.SENT).count()
    twice = deliveries.filter(attempts__gt=1).count()
    result = {
        "reminders": created, "deliveries": len(ids), "workers": 2, "enqueued": enqueued,
        "scan_s": round(scanned, 2), "scanned_per_s": round(created / scanned) if scanned else 0,
        "enqueue_s": round(enqueue_s, 2), "deliver_s": round(delivered, 2),
        "delivered_per_s": round(sent / delivered) if delivered else 0,
        "end_to_end_s": round(scanned + delivered, 2), "worker_cpu_s": round(worker_cpu, 1),
        "worker_cpu_ms_per_delivery": round(worker_cpu * 1000 / sent, 3) if sent else None,
        "sent": sent,
        "not_sent": len(ids) - sent, "duplicates": twice, "timed_out": bool(remaining),
    }
    print(f"  reminders: {result}", flush=True)
    return result
