"""Project.entered_at and reached_order (what the leaders' figures count from) are kept by
the services with every stage event, survive side states, follow a reordering of the stages,
and equal what a recompute from the events gives; StageEvent.previous_at times each stay."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from leads import services
from leads.models import LostReason, Project, Stage, StageEvent
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def stage(code):
    return Stage.objects.get(code=code)


def moved(project, code, by, **kwargs):
    services.project_move_stage(project=project, to_stage=stage(code), by=by,
                                next_step="回访", next_step_on=timezone.localdate(), **kwargs)
    project.refresh_from_db()
    return project


@pytest.fixture
def staff(make_user):
    return make_user(Role.INVESTMENT_STAFF)


def test_services_keep_entered_and_reached(staff):
    project = make_project(owner=staff, stage_code="lead")
    created = StageEvent.objects.get(project=project, from_stage__isnull=True)
    assert project.entered_at == created.at
    assert project.reached_order == stage("lead").order
    moved(project, "negotiating", staff)
    assert project.reached_order == stage("negotiating").order
    # A side state (lost) is off the path: the furthest stage reached stays.
    moved(project, "lost", staff, lost_reason=LostReason.objects.first())
    assert project.reached_order == stage("negotiating").order
    # Going back to an earlier stage does not forget how far the project got.
    moved(project, "lead", staff)
    assert project.reached_order == stage("negotiating").order


def test_previous_at_times_each_stay(staff):
    start = timezone.now() - datetime.timedelta(days=30)
    project = make_project(owner=staff, stage_code="lead")
    Project.objects.filter(pk=project.pk).update(stage_entered_at=start)
    project.refresh_from_db()
    moved(project, "first_contact", staff)
    event = StageEvent.objects.get(project=project, to_stage__code="first_contact")
    assert event.previous_at == start
    assert event.from_stage.code == "lead"


def test_recompute_from_events_equals_what_the_services_kept(staff):
    projects = [make_project(owner=staff, stage_code="lead") for _ in range(3)]
    moved(projects[0], "negotiating", staff)
    moved(projects[1], "lost", staff, lost_reason=LostReason.objects.first())
    kept = list(Project.objects.order_by("pk").values_list("pk", "entered_at", "reached_order"))
    Project.objects.update(entered_at=None, reached_order=None)
    assert services.project_milestones_refresh() == 3
    assert list(Project.objects.order_by("pk")
                .values_list("pk", "entered_at", "reached_order")) == kept


def test_reordering_stages_recomputes_reached(staff, client_for, make_user,
                                             django_capture_on_commit_callbacks):
    project = moved(make_project(owner=staff, stage_code="lead"), "first_contact", staff)
    contacted, negotiating = stage("first_contact"), stage("negotiating")
    leader = make_user(Role.LEADER)
    listed = reverse("leads:project-list") + "?reached=negotiating"
    assert project.name not in client_for(leader).get(listed).content.decode()
    # An administrator moves "first_contact" after "negotiating" on the path.
    with django_capture_on_commit_callbacks(execute=True):
        contacted.order = negotiating.order + 1
        contacted.save()
    project.refresh_from_db()
    assert project.reached_order == negotiating.order + 1
    assert project.name in client_for(leader).get(listed).content.decode()
