"""Funds' reminder rule kind: applications waiting for review `rule.days` working days. It
selects with ApplicationQuerySet.waiting_review, the rule the list's ?waiting_days= filter
and the review dashboard count with, so a reminder is raised for exactly the applications
they show."""

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core.dates import add_working_days
from crm.notifications.registry import Due, register_rule_kind

from . import permissions
from .models import Application
from .rules import REVIEW_WAITING_KIND

CHUNK = 500


@register_rule_kind(REVIEW_WAITING_KIND, "Application waiting for review over N working days",
                    model=Application)
def review_waiting(rule, today: date, records):
    reviewers = tuple(User.objects.filter(groups__name=Role.FUND_REVIEWER, is_active=True)
                      .values_list("pk", flat=True))
    if not reviewers:
        return
    applications = (records.waiting_review(rule.days, today)
                    .select_related("company", "programme", "project")
                    .prefetch_related("project__collaborators").order_by("pk"))
    for application in applications.iterator(chunk_size=CHUNK):
        since = timezone.localdate(application.state_changed_at)
        # Nobody with a stake in it (its drafter, its project's team) is asked to review it.
        stake = permissions.stakeholder_ids(application)
        project = application.project
        yield Due(record=application, recipient_ids=tuple(r for r in reviewers if r not in stake),
                  due_on=add_working_days(since, rule.days),
                  confidential=bool(project and project.confidential),
                  title=_("Waiting for review since %(day)s: %(application)s") % {
                      "day": since, "application": application},
                  body=_("State: %(state)s") % {"state": application.get_state_display()},
                  link=reverse("funds:application-detail", args=[application.pk]))
