"""Data scopes (issue 15, item 2): what each person sees through their memberships, on a small
tree with sibling districts, a parent city, a 专班 and a department, confidential projects
included. The expected sets are written by hand; every door must give them: the project list,
the detail page, the export, the API, the leader dashboard's figure, and which leaders a
reminder goes to (crm.org.scopes.Reach.sees, the predicate twin of visible_to)."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.accounts.roles import Role
from crm.org.models import Membership, OrgUnit
from crm.org.scopes import reach_of
from leads.models import Project
from leads.recipients import leaders_seeing, project_leaders
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def unit(code, kind, parent=None):
    created = OrgUnit(code=code, name=code, kind=kind, parent=parent)
    created.full_clean()
    created.save()
    return created


@pytest.fixture
def world(make_user):
    city = unit("city", "city")
    east = unit("east", "district", city)
    west = unit("west", "district", city)
    group = unit("group", "leading_group", city)
    team = unit("team", "team", group)
    dept = unit("dept", "department", city)

    def member(role, where, scope, position="member"):
        person = make_user(role)
        Membership.objects.create(user=person, unit=where, scope=scope, role=position)
        return person

    people = {
        "east_own": member(Role.INVESTMENT_STAFF, east, "own"),
        "east_team": member(Role.INVESTMENT_STAFF, east, "team"),
        "west_leader": member(Role.LEADER, west, "unit", "head"),
        "city_leader": member(Role.LEADER, city, "unit", "head"),
        "team_member": member(Role.INVESTMENT_STAFF, team, "team"),
        "dept_user": member(Role.INVESTMENT_STAFF, dept, "team"),
        "reviewer_all": member(Role.FUND_REVIEWER, city, "all"),
        "legacy_leader": make_user(Role.LEADER),  # in no unit: sees what leaders always saw
    }
    other = make_user(Role.INVESTMENT_STAFF)  # owns the projects nobody above is on
    projects = {
        "own": make_project(owner=people["east_own"], unit=east),
        "east": make_project(owner=other, unit=east),
        "east_secret": make_project(owner=other, unit=east, confidential=True),
        "west": make_project(owner=other, unit=west),
        "west_secret": make_project(owner=other, unit=west, confidential=True),
        "east_team": make_project(owner=other, unit=east, team=team),
        "team_secret": make_project(owner=other, unit=west, team=team, confidential=True),
        "nowhere": make_project(owner=other),  # its owner is in no unit
    }
    assert projects["nowhere"].unit is None
    return people, projects


# Who sees what, by hand.
EXPECTED = {
    "east_own": {"own"},
    "east_team": {"own", "east", "east_team"},
    "west_leader": {"west", "west_secret", "team_secret"},
    "city_leader": {"own", "east", "east_secret", "west", "west_secret", "east_team",
                    "team_secret"},
    "team_member": {"east_team"},
    "dept_user": set(),
    "reviewer_all": {"own", "east", "west", "east_team", "nowhere"},
    "legacy_leader": {"own", "east", "east_secret", "west", "west_secret", "east_team",
                      "team_secret", "nowhere"},
}


def _names(projects, ids) -> set[str]:
    by_id = {project.pk: name for name, project in projects.items()}
    return {by_id[pk] for pk in ids if pk in by_id}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_every_door_agrees_on_who_sees_which_project(world, who, client, api_for):
    people, projects = world
    person = people[who]
    expected = EXPECTED[who]
    assert _names(projects, Project.objects.visible_to(person).values_list("pk", flat=True)) \
        == expected

    client.force_login(person)
    listed = client.get(reverse("leads:project-list"))
    assert int(listed.context["page"].count) == len(expected)
    for name, project in projects.items():
        detail = client.get(reverse("leads:project-detail", args=[project.pk]))
        assert detail.status_code == (200 if name in expected else 404), (who, name)

    api_ids = [row["id"] for row in api_for(person).get("/api/v1/projects/").json()["results"]]
    assert _names(projects, api_ids) == expected

    export = client.get(reverse("leads:project-export"))
    sheet = load_workbook(io.BytesIO(export.content)).active
    exported = {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert exported == {projects[name].name for name in expected}

    # The predicate the reminders use says the same for every project.
    reach = reach_of(person, leads=person.groups.filter(name=Role.LEADER).exists())
    if reach is not None:
        for name, project in projects.items():
            involved = project.owner_id == person.pk
            assert reach.sees(unit_id=project.unit_id, team_id=project.team_id,
                              confidential=project.confidential, involved=involved) \
                == (name in expected), (who, name)


@pytest.mark.parametrize("who", ["west_leader", "city_leader", "legacy_leader"])
def test_a_leader_s_dashboard_counts_what_they_see(world, who, client):
    people, projects = world
    client.force_login(people[who])
    page = client.get(reverse("dashboards:leader"))
    assert page.context["d"].summary.open_count == len(EXPECTED[who])


def test_reminders_go_to_the_leaders_who_may_see_the_project(world):
    people, projects = world
    leaders = project_leaders()
    by_id = {person.pk: name for name, person in people.items()}
    for name, project in projects.items():
        told = {by_id[pk] for pk in leaders_seeing(project, leaders)}
        assert told == {who for who in ("west_leader", "city_leader", "legacy_leader")
                        if name in EXPECTED[who]}, name


def test_without_units_everyone_sees_what_their_role_saw(make_user):
    staff, other, leader = (make_user(Role.INVESTMENT_STAFF), make_user(Role.INVESTMENT_STAFF),
                            make_user(Role.PARK_MANAGER))
    mine = make_project(owner=staff)
    theirs = make_project(owner=other)
    secret = make_project(owner=other, confidential=True)
    assert set(Project.objects.visible_to(staff)) == {mine}
    assert set(Project.objects.visible_to(leader)) == {mine, theirs}
    assert secret not in Project.objects.visible_to(leader)


@pytest.mark.parametrize("size", [3, 30])
def test_a_scoped_list_takes_a_constant_number_of_queries(make_user, client, size,
                                                          django_assert_max_num_queries):
    city = unit("city", "city")
    east = unit("east", "district", city)
    leader = make_user(Role.LEADER)
    Membership.objects.create(user=leader, unit=city, scope="unit", role="head")
    owner = make_user(Role.INVESTMENT_STAFF)
    for _ in range(size):
        make_project(owner=owner, unit=east)
    client.force_login(leader)
    # The project list's ceiling (tests/leads/test_pages.py) and the reach's two reads.
    with django_assert_max_num_queries(18):
        response = client.get(reverse("leads:project-list"))
    assert response.context["page"].count == size
