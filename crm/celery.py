"""The Celery app. Tasks subclass DjangoTask so `task.delay_on_commit(...)` enqueues only
after the surrounding transaction commits: a worker never looks for a row that is not there yet."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
