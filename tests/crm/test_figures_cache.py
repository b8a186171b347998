"""Cached dashboard figures (crm/core/figures.py): a second visit costs a handful of queries,
and any committed write to what the figures count shows on the next visit; per-user keys keep
one user's figures from another; a cache outage degrades to computing every time."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from crm.core.figures import figures_changed
from crm.dashboards import selectors
from crm.dashboards.selectors import DashboardFilters
from leads import services
from leads.models import ChainNode, CompanyChainLink, LostReason, Project, Stage
from tests.factories import CompanyFactory, make_project

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
UNREACHABLE_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                 "LOCATION": "redis://127.0.0.1:1/0"}}


def dashboard(user):
    return selectors.leader_dashboard(user=user, filters=DashboardFilters.this_year(TODAY),
                                      today=TODAY)


def chain(user):
    return {n.node.code: n for n in selectors.chain_map(
        user=user, filters=DashboardFilters.this_year(TODAY))}


@pytest.fixture
def people(make_user):
    return make_user(Role.LEADER), make_user(Role.INVESTMENT_STAFF)


def test_second_visit_is_served_from_the_cache(people, client_for):
    leader, staff = people
    make_project(owner=staff)
    client = client_for(leader)
    url = reverse("dashboards:leader")
    with CaptureQueriesContext(connection) as cold:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        response = client.get(url)
    assert response.status_code == 200
    assert len(cold) >= 20  # the figures were computed
    assert len(warm) <= 8  # session, user, roles, unread count: no figure query
    # The page says when its figures were computed.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "figures computed at" in client.get(url).content.decode()


def test_a_committed_write_shows_on_the_next_visit(people, django_capture_on_commit_callbacks):
    leader, staff = people
    make_project(owner=staff)
    assert dashboard(leader).summary.open_count == 1
    assert dashboard(leader).summary.open_count == 1  # cached
    with django_capture_on_commit_callbacks(execute=True):
        project = make_project(owner=staff)
    assert dashboard(leader).summary.open_count == 2
    lost = Stage.objects.filter(kind=Stage.Kind.LOST).first()
    reason = LostReason.objects.first()
    with django_capture_on_commit_callbacks(execute=True):
        services.project_move_stage(project=project, to_stage=lost, by=staff, lost_reason=reason)
    figures = dashboard(leader)
    assert (figures.summary.open_count, figures.summary.lost_count) == (1, 1)


def test_writes_that_bypass_signals_invalidate_explicitly(people,
                                                         django_capture_on_commit_callbacks):
    leader, staff = people
    project = make_project(owner=staff)
    assert dashboard(leader).summary.open_count == 1
    # QuerySet.update sends no signal: the cached figures stand until told...
    Project.objects.filter(pk=project.pk).update(
        stage=Stage.objects.filter(kind=Stage.Kind.WON).order_by("order").first())
    assert dashboard(leader).summary.open_count == 1
    # ... which is what every bulk path does (project_milestones_refresh, imports, seeding).
    with django_capture_on_commit_callbacks(execute=True):
        figures_changed()
    assert dashboard(leader).summary.open_count == 0


def test_chain_map_is_cached_per_user_and_invalidated_by_a_new_link(
        people, make_user, django_capture_on_commit_callbacks):
    leader, staff = people
    other = make_user(Role.INVESTMENT_STAFF)
    node = ChainNode.objects.filter(parent__isnull=True).order_by("order").first()
    mine, theirs = CompanyFactory(), CompanyFactory()
    for company in (mine, theirs):
        CompanyChainLink.objects.create(company=company, node=node)
    make_project(owner=staff, company=mine)
    make_project(owner=other, company=theirs)
    assert chain(leader)[node.code].targeted == 2
    assert chain(staff)[node.code].targeted == 1  # the staff member's own key, own projects
    assert chain(leader)[node.code].targeted == 2
    newcomer = CompanyFactory()
    make_project(owner=staff, company=newcomer)
    with django_capture_on_commit_callbacks(execute=True):
        CompanyChainLink.objects.create(company=newcomer, node=node)
    assert chain(leader)[node.code].targeted == 3
    assert chain(staff)[node.code].targeted == 2


def test_figures_survive_a_cache_outage(people, client_for, django_capture_on_commit_callbacks):
    leader, staff = people
    make_project(owner=staff)
    with override_settings(CACHES=UNREACHABLE_REDIS):
        with django_capture_on_commit_callbacks(execute=True):
            make_project(owner=staff)  # the version bump fails quietly, the write stands
        assert Project.objects.count() == 2
        assert dashboard(leader).summary.open_count == 2
        client = client_for(leader)
        assert client.get(reverse("dashboards:leader")).status_code == 200
        assert client.get(reverse("dashboards:chain")).status_code == 200
