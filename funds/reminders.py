"""Funds' reminder rule kind: applications waiting for review more than N working days."""

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.notifications.registry import Due, register_rule_kind
from crm.notifications.services import add_working_days

from .models import WAITING_STATES, Application

CHUNK = 500


@register_rule_kind("funds.review_waiting", "Application waiting for review over N working days")
def review_waiting(rule, today: date):
    reviewers = tuple(User.objects.filter(groups__name=Role.FUND_REVIEWER, is_active=True)
                      .values_list("pk", flat=True))
    if not reviewers:
        return
    applications = (Application.objects.filter(state__in=WAITING_STATES)
                    .select_related("company", "programme").order_by("pk"))
    for application in applications.iterator(chunk_size=CHUNK):
        since = timezone.localdate(application.state_changed_at)
        due_on = add_working_days(since, rule.days)
        if due_on > today:
            continue
        # The drafter is never asked to review their own application.
        recipients = tuple(r for r in reviewers if r != application.created_by_id)
        yield Due(record=application, recipient_ids=recipients, due_on=due_on,
                  title=_("Waiting for review since %(day)s: %(application)s") % {
                      "day": since, "application": application},
                  body=_("State: %(state)s") % {"state": application.get_state_display()},
                  link=reverse("funds:application-detail", args=[application.pk]))
