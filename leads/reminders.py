"""Leads' reminder rule kinds (DOMAIN.md defaults; thresholds live in the rule rows). Each
kind selects with the rules of leads/models.py, so a reminder is raised exactly for the
projects the dashboard's flag and the list's filter count (leads/rules.py)."""

from datetime import date, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.core.dates import Period
from crm.notifications.registry import Due, register_rule_kind

from .models import Project, Stage, due_on_q, overdue_q
from .recipients import project_leaders, project_recipients
from .rules import NEW_LEAD_KIND, NEXT_STEP_KIND, NO_CONTACT_KIND, NOT_STARTED_KIND, started_stage

CHUNK = 500
WEEKLY_PIPELINE_KIND = "leads.weekly_pipeline"


def _link(project) -> str:
    return reverse("leads:project-detail", args=[project.pk])


@register_rule_kind(NEXT_STEP_KIND, "Next-step date reached", model=Project)
def next_step_due(rule, today: date, records):
    leaders = project_leaders()
    projects = (records.filter(overdue_q(today) | due_on_q(today))
                .select_related("company").order_by("pk"))
    for project in projects.iterator(chunk_size=CHUNK):
        yield Due(record=project, recipient_ids=project_recipients(rule, project, leaders),
                  due_on=project.next_step_on, confidential=project.confidential,
                  title=_("Next step due: %(project)s") % {"project": project.name},
                  body=_("%(step)s (planned for %(day)s)") % {"step": project.next_step,
                                                             "day": project.next_step_on},
                  link=_link(project))


@register_rule_kind(NO_CONTACT_KIND, "Open project not contacted for N days", model=Project)
def no_contact(rule, today: date, records):
    """One reminder per silence: due on the day the silence reaches the threshold."""
    leaders = project_leaders()
    projects = (records.open().silent_for(rule.days, today).with_silent_since()
                .select_related("company").order_by("pk"))
    for project in projects.iterator(chunk_size=CHUNK):
        since = project.silent_since
        yield Due(record=project, recipient_ids=project_recipients(rule, project, leaders),
                  due_on=since + timedelta(days=rule.days), confidential=project.confidential,
                  title=_("No contact for %(days)s days: %(project)s") % {
                      "days": (today - since).days, "project": project.name},
                  body=_("Last contact: %(day)s. Company: %(company)s.") % {
                      "day": project.last_contact_on or "—", "company": project.company.name},
                  link=_link(project))


@register_rule_kind(NEW_LEAD_KIND, "New lead not assessed in N days", model=Project)
def new_lead_unassessed(rule, today: date, records):
    """Still in the first stage N days after entering it."""
    first = Stage.objects.filter(is_active=True).order_by("order").first()
    if first is None:
        return
    leaders = project_leaders()
    projects = (records.filter(stage=first)
                .annotate(entered_on=TruncDate("stage_entered_at"))
                .filter(entered_on__lte=today - timedelta(days=rule.days)).order_by("pk"))
    for project in projects.iterator(chunk_size=CHUNK):
        yield Due(record=project, recipient_ids=project_recipients(rule, project, leaders),
                  due_on=project.entered_on + timedelta(days=rule.days),
                  confidential=project.confidential,
                  title=_("Lead waiting for assessment: %(project)s") % {"project": project.name},
                  link=_link(project))


@register_rule_kind(NOT_STARTED_KIND, "Signed but not started past the contract date",
                    model=Project)
def signed_not_started(rule, today: date, records):
    leaders = project_leaders()
    projects = (records.not_started(today, started=started_stage(), grace_days=rule.days)
                .order_by("pk"))
    for project in projects.iterator(chunk_size=CHUNK):
        yield Due(record=project, recipient_ids=project_recipients(rule, project, leaders),
                  due_on=project.contract_start_on, confidential=project.confidential,
                  title=_("Signed but not started: %(project)s") % {"project": project.name},
                  body=_("Construction was due to start on %(day)s.") % {
                      "day": project.contract_start_on},
                  link=_link(project))


@register_rule_kind(WEEKLY_PIPELINE_KIND, "Weekly pipeline digest (Mondays)")
def weekly_pipeline(rule, today: date, records=None):
    """Mondays, to the leaders: open projects by stage (counts and amounts, no names), and the
    signings of the last seven days."""
    if today.weekday() != 0:
        return
    # Each leader's figures count the projects they may see (a district's leader, their
    # district's).
    for leader in User.objects.filter(pk__in=[pk for pk, _reach in project_leaders()]):
        projects = Project.objects.visible_to(leader)
        rows = (projects.open().values("stage__name", "stage__order")
                .annotate(n=Count("pk"), amount=Sum("agreed_investment_wan"))
                .order_by("stage__order"))
        lines = [f"· {row['stage__name']}: {row['n']} ({row['amount'] or 0} 万元)"
                 for row in rows]
        signed = projects.signed_in(Period(today - timedelta(days=6), today)).count()
        lines.append(_("Signed in the last 7 days: %(n)s") % {"n": signed})
        yield Due(record=leader, recipient_ids=(leader.pk,), due_on=today,
                  title=_("Weekly pipeline, week of %(day)s") % {"day": today},
                  body="\n".join(lines), link=reverse("leads:project-list"))
