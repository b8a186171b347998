"""Fulfilment's reminder kinds (rules as data: the rows in notifications' ReminderRule, which
migration funds 0005 adds). Each selects with the statuses the rules keep on the obligations,
so a reminder is raised for exactly what the fulfilment list shows.

- fulfilment.milestone_due: a milestone not met whose deadline is `days` away (30 and 7);
- fulfilment.milestone_overdue: a milestone past its deadline, not met (owner, then leaders);
- fulfilment.actuals_missing: a reporting period ended `days` ago with no actuals (owner);
- fulfilment.breached: an obligation newly breached (owner and leaders).
"""

from datetime import date, timedelta

from django.urls import reverse
from django.utils.translation import gettext as _

from crm.notifications.models import Recipients
from crm.notifications.registry import Due, register_rule_kind
from leads.recipients import project_leaders, project_recipients

from .models import MILESTONE_METRICS, Actual, Agreement, Obligation, Status

CHUNK = 500
MILESTONE_DUE_KIND = "fulfilment.milestone_due"
MILESTONE_OVERDUE_KIND = "fulfilment.milestone_overdue"
ACTUALS_MISSING_KIND = "fulfilment.actuals_missing"
BREACHED_KIND = "fulfilment.breached"


def _obligations(records):
    return (records.select_related("agreement", "agreement__project")
            .order_by("pk"))


def _due(rule, obligation, due_on, title, leaders, body=""):
    project = obligation.agreement.project
    return Due(record=obligation, recipient_ids=project_recipients(rule, project, leaders),
               due_on=due_on, confidential=project.confidential, title=title, body=body,
               link=reverse("fulfilment:agreement-detail", args=[obligation.agreement_id]))


@register_rule_kind(MILESTONE_DUE_KIND, "Agreement milestone due in N days", model=Obligation)
def milestone_due(rule, today: date, records):
    leaders = project_leaders()
    horizon = today + timedelta(days=rule.days)
    obligations = _obligations(records.filter(metric__in=MILESTONE_METRICS,
                                              due_on__gte=today, due_on__lte=horizon)
                               .exclude(status=Status.MET))
    for obligation in obligations.iterator(chunk_size=CHUNK):
        yield _due(rule, obligation, obligation.due_on - timedelta(days=rule.days),
                   _("%(milestone)s due on %(day)s: %(project)s") % {
                       "milestone": obligation.get_metric_display(), "day": obligation.due_on,
                       "project": obligation.agreement.project.name}, leaders)


@register_rule_kind(MILESTONE_OVERDUE_KIND, "Agreement milestone overdue", model=Obligation)
def milestone_overdue(rule, today: date, records):
    leaders = project_leaders()
    obligations = _obligations(records.filter(metric__in=MILESTONE_METRICS,
                                              due_on__lt=today - timedelta(days=rule.days))
                               .exclude(status=Status.MET))
    for obligation in obligations.iterator(chunk_size=CHUNK):
        yield _due(rule, obligation, obligation.due_on + timedelta(days=1 + rule.days),
                   _("%(milestone)s overdue since %(day)s: %(project)s") % {
                       "milestone": obligation.get_metric_display(), "day": obligation.due_on,
                       "project": obligation.agreement.project.name}, leaders)


@register_rule_kind(BREACHED_KIND, "Agreement obligation breached", model=Obligation)
def obligation_breached(rule, today: date, records):
    leaders = project_leaders()
    obligations = _obligations(records.filter(status=Status.BREACHED,
                                              breached_on__lte=today))
    for obligation in obligations.iterator(chunk_size=CHUNK):
        yield _due(rule, obligation, obligation.breached_on,
                   _("Agreement breached: %(obligation)s, %(project)s") % {
                       "obligation": obligation.get_metric_display(),
                       "project": obligation.agreement.project.name}, leaders,
                   body=_("Due on %(day)s; the grace period has passed.") % {
                       "day": obligation.due_on or obligation.breached_on})


def last_ended_period(agreement: Agreement, day: date) -> tuple[date, date] | None:
    """The reporting period (year or quarter) that ended last on or before `day`, from the
    agreement's signing on; None when none has ended yet."""
    if agreement.reporting == Agreement.Reporting.YEAR:
        year = day.year if day >= date(day.year, 12, 31) else day.year - 1
        if year < agreement.signed_on.year:
            return None
        return date(year, 1, 1), date(year, 12, 31)
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    following = date(first.year + 1, 1, 1) if first.month == 10 else date(first.year,
                                                                          first.month + 3, 1)
    if day != following - timedelta(days=1):  # the quarter has not ended: the one before
        following = first
        first = date(first.year - 1, 10, 1) if first.month == 1 else date(first.year,
                                                                            first.month - 3, 1)
    end = following - timedelta(days=1)
    if end < agreement.signed_on:
        return None
    return first, end


@register_rule_kind(ACTUALS_MISSING_KIND, "Actuals not reported N days after a period",
                    model=Agreement)
def actuals_missing(rule, today: date, records):
    """One reminder per missing period: due `days` after the period ended. The actuals of a
    batch of agreements are looked up in one query (not one per agreement: a daily scan walks
    every agreement)."""
    agreements = records.select_related("project").order_by("pk")
    cutoff = today - timedelta(days=rule.days)
    # The default rule tells the owner; an administrator may add the leaders (rules are data).
    leaders = project_leaders() if rule.recipients != Recipients.OWNER else []
    batch: list[tuple[Agreement, date, date]] = []
    for agreement in agreements.iterator(chunk_size=CHUNK):
        period = last_ended_period(agreement, cutoff)
        if period is not None:
            batch.append((agreement, *period))
        if len(batch) >= CHUNK:
            yield from _missing(rule, batch, leaders)
            batch = []
    yield from _missing(rule, batch, leaders)


def _missing(rule, batch: list[tuple[Agreement, date, date]], leaders):
    if not batch:
        return
    reported = set(Actual.objects.filter(agreement_id__in=[a.pk for a, _s, _e in batch],
                                         period_start__in={start for _a, start, _e in batch})
                   .values_list("agreement_id", "period_start"))
    for agreement, start, end in batch:
        if (agreement.pk, start) in reported:
            continue
        project = agreement.project
        yield Due(record=agreement, recipient_ids=project_recipients(rule, project, leaders),
                  due_on=end + timedelta(days=rule.days), confidential=project.confidential,
                  title=_("Actuals for %(start)s – %(end)s not reported: %(project)s") % {
                      "start": start, "end": end, "project": project.name},
                  link=reverse("fulfilment:agreement-detail", args=[agreement.pk]))
