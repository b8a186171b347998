"""Leads' reminder rule kinds (DOMAIN.md defaults; thresholds live in the rule rows)."""

from datetime import date, timedelta

from django.db.models import Q
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.notifications.models import Recipients
from crm.notifications.registry import Due, register_rule_kind

from .models import Project, Stage

CHUNK = 500


def _leader_ids() -> tuple[int, ...]:
    return tuple(User.objects.filter(groups__name=Role.LEADER, is_active=True)
                 .values_list("pk", flat=True))


def _recipients(rule, project, leaders) -> tuple[int, ...]:
    if rule.recipients == Recipients.OWNER_AND_LEADERS:
        return (project.owner_id, *leaders)
    if rule.recipients == Recipients.LEADERS:
        return leaders
    return (project.owner_id,)


def _link(project) -> str:
    return reverse("leads:project-detail", args=[project.pk])


@register_rule_kind("leads.next_step_due", "Next-step date reached")
def next_step_due(rule, today: date):
    leaders = _leader_ids()
    projects = (Project.objects.open().filter(next_step_on__lte=today)
                .select_related("company").order_by("pk"))
    for project in projects.iterator(chunk_size=CHUNK):
        yield Due(record=project, recipient_ids=_recipients(rule, project, leaders),
                  due_on=project.next_step_on,
                  title=_("Next step due: %(project)s") % {"project": project.name},
                  body=_("%(step)s (planned for %(day)s)") % {"step": project.next_step,
                                                             "day": project.next_step_on},
                  link=_link(project))


@register_rule_kind("leads.no_contact", "Open project not contacted for N days")
def no_contact(rule, today: date):
    """One reminder per silence: due on the day the silence reaches the threshold."""
    leaders = _leader_ids()
    cutoff = today - timedelta(days=rule.days)
    projects = (Project.objects.open()
                .annotate(last_touch=Coalesce("last_contact_on", TruncDate("created_at")))
                .filter(last_touch__lte=cutoff).select_related("company").order_by("pk"))
    for project in projects.iterator(chunk_size=CHUNK):
        yield Due(record=project, recipient_ids=_recipients(rule, project, leaders),
                  due_on=project.last_touch + timedelta(days=rule.days),
                  title=_("No contact for %(days)s days: %(project)s") % {
                      "days": (today - project.last_touch).days, "project": project.name},
                  body=_("Last contact: %(day)s. Company: %(company)s.") % {
                      "day": project.last_touch, "company": project.company.name},
                  link=_link(project))


@register_rule_kind("leads.new_lead_unassessed", "New lead not assessed in N days")
def new_lead_unassessed(rule, today: date):
    first = Stage.objects.filter(is_active=True).order_by("order").first()
    if first is None:
        return
    leaders = _leader_ids()
    projects = (Project.objects.filter(stage=first)
                .annotate(created_on=TruncDate("created_at"))
                .filter(created_on__lte=today - timedelta(days=rule.days)).order_by("pk"))
    for project in projects.iterator(chunk_size=CHUNK):
        yield Due(record=project, recipient_ids=_recipients(rule, project, leaders),
                  due_on=project.created_on + timedelta(days=rule.days),
                  title=_("Lead waiting for assessment: %(project)s") % {"project": project.name},
                  link=_link(project))


@register_rule_kind("leads.signed_not_started", "Signed but not started past the contract date")
def signed_not_started(rule, today: date):
    started = Stage.objects.filter(milestone=Stage.Milestone.STARTED).first()
    if started is None:
        return
    leaders = _leader_ids()
    projects = (Project.objects.filter(signed_on__isnull=False,
                                       contract_start_on__lt=today - timedelta(days=rule.days))
                .exclude(stage__kind__in=[Stage.Kind.LOST])
                .filter(Q(stage__order__lt=started.order) | ~Q(stage__kind=Stage.Kind.WON))
                .order_by("pk"))
    for project in projects.iterator(chunk_size=CHUNK):
        yield Due(record=project, recipient_ids=_recipients(rule, project, leaders),
                  due_on=project.contract_start_on,
                  title=_("Signed but not started: %(project)s") % {"project": project.name},
                  body=_("Construction was due to start on %(day)s.") % {
                      "day": project.contract_start_on},
                  link=_link(project))


@register_rule_kind("leads.weekly_pipeline", "Weekly pipeline digest (Mondays)")
def weekly_pipeline(rule, today: date):
    if today.weekday() != 0:
        return
    from django.db.models import Count, Sum

    from crm.accounts.models import User as Leader

    rows = (Project.objects.open().values("stage__name", "stage__order")
            .annotate(n=Count("pk"), amount=Sum("agreed_investment_wan"))
            .order_by("stage__order"))
    lines = [f"· {row['stage__name']}: {row['n']} ({row['amount'] or 0} 万元)" for row in rows]
    week_ago = today - timedelta(days=7)
    signed = Project.objects.filter(signed_on__gt=week_ago, signed_on__lte=today).count()
    lines.append(_("Signed in the last 7 days: %(n)s") % {"n": signed})
    for leader in Leader.objects.filter(pk__in=_leader_ids()):
        yield Due(record=leader, recipient_ids=(leader.pk,), due_on=today,
                  title=_("Weekly pipeline, week of %(day)s") % {"day": today},
                  body="\n".join(lines), link=reverse("leads:project-list"))


