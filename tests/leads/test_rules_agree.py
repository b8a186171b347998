"""One world, every door: for each of the leaders' flags, the dashboard's figure, the project
list's total under `?flag=`, the API's count and the reminders a scan raises name the same
projects (leads/models.py writes each rule once, leads/rules.py the flags and thresholds).
A threshold changed in its reminder rule moves all four together."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from crm.core.dates import day_start
from crm.dashboards import selectors as dashboards
from crm.dashboards.selectors import DashboardFilters
from crm.notifications import services as notifications
from crm.notifications.models import Reminder, ReminderRule
from leads.models import LostReason, Project, Stage
from leads.rules import Flag
from leads.services import project_move_stage
from tests.factories import make_project

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)

# Which reminder rule raises each flag's projects (DOMAIN.md's defaults, migration 0002):
# the 14-day rule reminds of every project silent 14 days or more (yellow and red alike).
FLAG_RULES = {
    Flag.OVERDUE: "next-step-due",
    Flag.YELLOW: "no-contact-14d",
    Flag.RED: "no-contact-30d",
    Flag.NOT_STARTED: "signed-not-started",
}


def _silent(project, *, contact_days=None, stage_days=None):
    """Last contacted `contact_days` ago, or never, in its stage since `stage_days` ago."""
    fields = {"last_contact_on": TODAY - contact_days * DAY if contact_days is not None
              else None, "next_step_on": TODAY + 30 * DAY}
    if stage_days is not None:
        fields["stage_entered_at"] = day_start(TODAY - stage_days * DAY)
    Project.objects.filter(pk=project.pk).update(**fields)
    return project


def _signed(owner, *, start_days_ago, then=None, confidential=False):
    project = make_project(owner=owner, stage_code="framework",
                           agreed=Decimal("5000"),
                           confidential=confidential)
    project.agreement.save("agreement.pdf", ContentFile(b"%PDF-1.4 test"))
    project_move_stage(project=project, to_stage=Stage.objects.get(code="signed"), by=owner)
    Project.objects.filter(pk=project.pk).update(
        contract_start_on=TODAY - start_days_ago * DAY)
    for code in then or ():
        project_move_stage(project=Project.objects.get(pk=project.pk),
                           to_stage=Stage.objects.get(code=code), by=owner,
                           lost_reason=LostReason.objects.first())
    return project


@pytest.fixture
def world(make_user):
    owner = make_user(Role.INVESTMENT_STAFF, full_name="张专员")
    other = make_user(Role.INVESTMENT_STAFF, full_name="李专员")
    leader = make_user(Role.LEADER, full_name="孙领导")
    expected = {flag: set() for flag in Flag.ALL}
    due_today = set()

    def add(flags, project):
        for flag in flags:
            expected[flag].add(project.pk)
        return project

    # Next steps: overdue (mine and a colleague's confidential one), due today, later.
    add([Flag.OVERDUE], make_project(owner=owner, next_step_on=TODAY - 3 * DAY))
    add([Flag.OVERDUE], make_project(owner=other, next_step_on=TODAY - DAY, confidential=True))
    due_today.add(make_project(owner=owner, next_step_on=TODAY).pk)
    make_project(owner=owner, next_step_on=TODAY + 5 * DAY)
    # Silence by the last contact: 13 days (nothing), 14 and 29 (yellow), 30 and 45 (red).
    _silent(make_project(owner=owner), contact_days=13)
    add([Flag.YELLOW], _silent(make_project(owner=owner), contact_days=14))
    add([Flag.YELLOW], _silent(make_project(owner=other), contact_days=29))
    add([Flag.RED], _silent(make_project(owner=owner), contact_days=30))
    add([Flag.RED], _silent(make_project(owner=other, confidential=True), contact_days=45))
    # Never contacted: silent since it entered its current stage.
    add([Flag.YELLOW], _silent(make_project(owner=owner), stage_days=20))
    add([Flag.RED], _silent(make_project(owner=owner), stage_days=31))
    _silent(make_project(owner=owner), stage_days=2)
    # A lost or won project is no longer silent: only open projects count.
    lost = _silent(make_project(owner=owner), contact_days=60)
    project_move_stage(project=lost, to_stage=Stage.objects.get(code="lost"), by=owner,
                       lost_reason=LostReason.objects.first())
    # Signed: past its start date and not started (also when shelved), started, not yet due,
    # lost after signing.
    add([Flag.NOT_STARTED], _signed(owner, start_days_ago=10))
    add([Flag.NOT_STARTED], _signed(other, start_days_ago=40, then=["shelved"],
                                    confidential=True))
    _signed(owner, start_days_ago=10, then=["registered", "landed", "started"])
    _signed(owner, start_days_ago=-20)
    _signed(owner, start_days_ago=50, then=["lost"])
    return {"owner": owner, "leader": leader, "expected": expected, "due_today": due_today}


def _dashboard_counts(user) -> dict[str, int]:
    dashboard = dashboards.leader_dashboard(user=user, filters=DashboardFilters.this_year(TODAY),
                                            today=TODAY)
    return {row.key: row.count for row in dashboard.summary.flags}


def _list_ids(client, flag) -> tuple[int, set[int]]:
    html = client.get(reverse("leads:project-list"), {"flag": flag}).content.decode()
    total = int(re.search(r'data-total="(\d+)"', html).group(1))
    ids = {int(pk) for pk in re.findall(r'href="/leads/projects/(\d+)/"', html)}
    return total, ids


def _api_ids(api, flag) -> tuple[int, set[int]]:
    data = api.get("/api/v1/projects/", {"flag": flag, "page_size": 200}).json()
    return data["count"], {row["id"] for row in data["results"]}


def _reminded(code) -> set[int]:
    rule = ReminderRule.objects.get(code=code)
    notifications.reminders_scan(today=TODAY, rules=[rule])
    return set(Reminder.objects.filter(rule=rule).values_list("object_id", flat=True))


def test_every_flag_counts_the_same_projects_through_every_door(world, client_for, api_for):
    leader, expected = world["leader"], world["expected"]
    figures = _dashboard_counts(leader)
    client, api = client_for(leader), api_for(leader)
    for flag in Flag.ALL:
        ids = expected[flag]
        assert figures[flag] == len(ids), flag
        assert _list_ids(client, flag) == (len(ids), ids), flag
        assert _api_ids(api, flag) == (len(ids), ids), flag
    # The reminders: the next-step rule fires on the day (due today too), the 14-day rule for
    # every project silent that long (yellow and red), the others exactly for their flag.
    assert _reminded(FLAG_RULES[Flag.OVERDUE]) == expected[Flag.OVERDUE] | world["due_today"]
    assert _reminded(FLAG_RULES[Flag.YELLOW]) == expected[Flag.YELLOW] | expected[Flag.RED]
    assert _reminded(FLAG_RULES[Flag.RED]) == expected[Flag.RED]
    assert _reminded(FLAG_RULES[Flag.NOT_STARTED]) == expected[Flag.NOT_STARTED]


def test_a_staff_member_counts_only_their_own_projects_at_every_door(world, client_for,
                                                                    api_for):
    owner = world["owner"]
    mine = set(Project.objects.filter(owner=owner).values_list("pk", flat=True))
    client, api = client_for(owner), api_for(owner)
    staff = dashboards.staff_dashboard(user=owner, today=TODAY)
    by_flag = {row.key: row.count for row in staff.summary.flags}
    for flag in Flag.ALL:
        ids = world["expected"][flag] & mine
        assert by_flag[flag] == len(ids), flag
        assert _list_ids(client, flag) == (len(ids), ids), flag
        assert _api_ids(api, flag) == (len(ids), ids), flag


def test_a_threshold_changed_in_its_rule_moves_every_door(world, client_for, api_for,
                                                          django_capture_on_commit_callbacks):
    """The administrator makes yellow start at 10 days: the project silent 13 days turns
    yellow on the dashboard, in the list, in the API and in the reminders."""
    leader = world["leader"]
    with django_capture_on_commit_callbacks(execute=True):
        ReminderRule.objects.filter(code="no-contact-14d").update(days=10)
        ReminderRule.objects.get(code="no-contact-14d").save()  # as the admin's form does
    quiet = Project.objects.get(last_contact_on=TODAY - 13 * DAY)
    yellow = world["expected"][Flag.YELLOW] | {quiet.pk}
    assert _dashboard_counts(leader)[Flag.YELLOW] == len(yellow)
    assert _list_ids(client_for(leader), Flag.YELLOW) == (len(yellow), yellow)
    assert _api_ids(api_for(leader), Flag.YELLOW) == (len(yellow), yellow)
    assert _reminded("no-contact-14d") == yellow | world["expected"][Flag.RED]
    html = client_for(leader).get(reverse("dashboards:leader")).content.decode()
    assert "10–29" in html  # the flag's label says the threshold it counts with
