"""The organisation (issue 15, item 1): units as a tree kept on the administrators' settings
screens and the API, people's memberships with a position and a data scope, projects placed in
a unit and a 专班, and an upgraded installation whose people and projects land in a default
unit."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.accounts.roles import Role
from crm.org.models import Membership, OrgUnit
from leads.models import Project
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def unit(code, kind="district", parent=None, **fields) -> OrgUnit:
    created = OrgUnit(code=code, name=fields.pop("name", code), kind=kind, parent=parent,
                      **fields)
    created.full_clean()
    created.save()
    return created


@pytest.fixture
def tree():
    city = unit("city", "city", name="昆山市")
    east = unit("east", parent=city, name="高新区", order=1)
    west = unit("west", parent=city, name="花桥", order=2)
    park = unit("park", "park", parent=east, name="元宇宙产业园")
    group = unit("group", "leading_group", parent=city, name="领导小组", order=3)
    team = unit("team", "team", parent=group, name="工业元宇宙专班")
    dept = unit("dept", "department", parent=city, name="商务局", order=4)
    return {"city": city, "east": east, "west": west, "park": park, "group": group,
            "team": team, "dept": dept}


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR)


def test_a_unit_knows_its_place_and_what_lies_below(tree):
    city, east, park = tree["city"], tree["east"], tree["park"]
    assert (city.path, city.depth) == (f"/{city.pk}/", 0)
    assert (park.path, park.depth) == (f"/{city.pk}/{east.pk}/{park.pk}/", 2)
    assert park.ancestor_ids == [city.pk, east.pk]
    assert set(OrgUnit.objects.below(east)) == {east, park}
    assert set(OrgUnit.objects.below(city)) == set(tree.values())
    assert park not in OrgUnit.objects.below(tree["west"])


def test_moving_a_unit_carries_its_branch(tree):
    east, west, park = tree["east"], tree["west"], tree["park"]
    east.parent = west
    east.full_clean()
    east.save()
    park.refresh_from_db()
    assert park.path == f"/{tree['city'].pk}/{west.pk}/{east.pk}/{park.pk}/"
    assert park.depth == 3
    assert set(OrgUnit.objects.below(west)) == {west, east, park}


def test_a_unit_cannot_go_under_itself(tree):
    east = tree["east"]
    east.parent = tree["park"]  # its own child
    with pytest.raises(ValidationError) as refused:
        east.full_clean()
    assert "parent" in refused.value.message_dict
    sibling = OrgUnit(code="east-2", name="高新区", kind="district", parent=tree["city"])
    with pytest.raises(ValidationError) as duplicate:
        sibling.full_clean()
    assert "name" in duplicate.value.message_dict


def test_the_settings_screen_shows_the_tree_and_keeps_it(client_for, administrator, tree):
    client = client_for(administrator)
    page = client.get(reverse("setup:list", kwargs={"key": "org-units"}))
    html = page.content.decode()
    order = [html.index(f'data-row="{tree[k].pk}"') for k in
             ("city", "east", "park", "west", "group", "team")]
    assert order == sorted(order)  # depth first, as a tree reads
    response = client.post(reverse("setup:create", kwargs={"key": "org-units"}), {
        "code": "dept-tax", "name": "税务局", "kind": "department",
        "parent": tree["city"].pk, "order": 9, "is_active": "on"})
    assert response.status_code == 302
    created = OrgUnit.objects.get(code="dept-tax")
    assert created.parent == tree["city"] and created.path.endswith(f"/{created.pk}/")
    assert created.history.get().history_user == administrator
    # The parent offered on a unit's form leaves out the unit and its own branch.
    form = client.get(reverse("setup:edit", kwargs={"key": "org-units", "pk": tree["east"].pk}))
    choices = {value for value, _label in form.context["form"].fields["parent"].choices}
    assert tree["park"].pk not in choices and tree["east"].pk not in choices
    assert tree["west"].pk in choices


def test_a_unit_in_use_is_not_deleted(client_for, administrator, tree):
    client = client_for(administrator)
    response = client.post(reverse("setup:delete", kwargs={"key": "org-units",
                                                           "pk": tree["east"].pk}), follow=True)
    assert OrgUnit.objects.filter(pk=tree["east"].pk).exists()
    assert "switch it off" in response.content.decode() or "停用" in response.content.decode()
    client.post(reverse("setup:delete", kwargs={"key": "org-units", "pk": tree["park"].pk}))
    assert not OrgUnit.objects.filter(pk=tree["park"].pk).exists()


def test_memberships_are_kept_on_their_screen(client_for, administrator, make_user, tree):
    person = make_user(Role.INVESTMENT_STAFF)
    client = client_for(administrator)
    url = reverse("setup:create", kwargs={"key": "memberships"})
    data = {"user": person.pk, "unit": tree["east"].pk, "role": "member", "scope": "own"}
    assert client.post(url, data).status_code == 302
    assert Membership.objects.get(user=person).unit == tree["east"]
    again = client.post(url, data)
    assert again.status_code == 200 and again.context["form"].errors
    assert Membership.objects.filter(user=person).count() == 1


def test_other_roles_cannot_change_the_organisation(client_for, make_user, tree):
    staff = client_for(make_user(Role.INVESTMENT_STAFF))
    assert staff.get(reverse("setup:list", kwargs={"key": "org-units"})).status_code == 403
    assert staff.post(reverse("setup:create", kwargs={"key": "org-units"}), {
        "code": "x", "name": "x", "kind": "city"}).status_code == 403
    assert not OrgUnit.objects.filter(code="x").exists()


def test_the_api_lists_and_keeps_units(api_for, administrator, make_user, tree):
    api = api_for(administrator)
    listed = api.get("/api/v1/org-units/")
    assert listed.status_code == 200
    rows = {row["code"]: row for row in listed.json()["results"]}
    assert rows["park"]["parent"] == tree["east"].pk and rows["park"]["kind"] == "park"
    assert rows["park"]["name"] == "元宇宙产业园"
    created = api.post("/api/v1/org-units/", {"code": "north", "name": "北区",
                                              "kind": "district", "parent": tree["city"].pk},
                       format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["path"] == f"/{tree['city'].pk}/{created.json()['id']}/"
    refused = api.post("/api/v1/org-units/", {"code": "north-2", "name": "北区",
                                              "kind": "district", "parent": tree["city"].pk},
                       format="json")
    assert refused.status_code == 400 and "name" in refused.json()
    in_use = api.delete(f"/api/v1/org-units/{tree['east'].pk}/")
    assert in_use.status_code == 409
    staff = api_for(make_user(Role.INVESTMENT_STAFF))
    assert staff.get("/api/v1/org-units/").status_code == 200  # the tree is no secret
    assert staff.post("/api/v1/org-units/", {"code": "s", "name": "s", "kind": "city"},
                      format="json").status_code == 403


def test_the_api_shows_memberships_to_those_who_keep_them(api_for, administrator, make_user,
                                                           tree):
    staff = make_user(Role.INVESTMENT_STAFF)
    other = make_user(Role.INVESTMENT_STAFF)
    Membership.objects.create(user=staff, unit=tree["east"], role="member", scope="own")
    Membership.objects.create(user=other, unit=tree["west"], role="head", scope="unit")
    everyone = api_for(administrator).get("/api/v1/memberships/").json()["results"]
    assert {(m["user"], m["unit"], m["role"], m["scope"]) for m in everyone} == {
        (staff.pk, tree["east"].pk, "member", "own"), (other.pk, tree["west"].pk, "head", "unit")}
    own = api_for(staff).get("/api/v1/memberships/").json()["results"]
    assert [m["user"] for m in own] == [staff.pk]


def test_a_project_is_pursued_where_its_owner_works(make_user, tree):
    staff = make_user(Role.INVESTMENT_STAFF)
    Membership.objects.create(user=staff, unit=tree["team"], role="member", scope="team")
    Membership.objects.create(user=staff, unit=tree["east"], role="member", scope="own")
    project = make_project(owner=staff)
    assert project.unit == tree["east"]  # a 专班 is not where a project is pursued
    project.team = tree["team"]
    project.full_clean()
    project.team = tree["dept"]  # only a 专班 follows a project
    with pytest.raises(ValidationError) as refused:
        project.full_clean()
    assert "team" in refused.value.message_dict
    project.team, project.unit = None, tree["team"]
    with pytest.raises(ValidationError) as refused:
        project.full_clean()
    assert "unit" in refused.value.message_dict


def test_the_project_api_carries_unit_and_team(api_for, make_user, tree):
    staff = make_user(Role.INVESTMENT_STAFF)
    project = make_project(owner=staff)
    response = api_for(staff).patch(f"/api/v1/projects/{project.pk}/",
                                    {"unit": tree["west"].pk, "team": tree["team"].pk},
                                    format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["unit"], response.json()["team"]) == (tree["west"].pk,
                                                                  tree["team"].pk)
    project.refresh_from_db()
    assert (project.unit, project.team) == (tree["west"], tree["team"])


def test_an_upgrade_places_everyone_in_a_default_unit_with_their_old_view(make_user):
    """org 0002 and leads 0015 on a database that has people and projects but no units."""
    staff = make_user(Role.INVESTMENT_STAFF)
    leader = make_user(Role.LEADER)
    project = make_project(owner=staff)
    assert project.unit is None  # the owner belongs to no unit yet
    importlib.import_module("crm.org.migrations.0002_default_unit").load(apps, None)
    importlib.import_module("leads.migrations.0015_projects_in_default_unit").place(apps, None)
    default = OrgUnit.objects.get(code="default")
    assert Membership.objects.get(user=staff).scope == "own"  # own and collaborating, as before
    assert Membership.objects.get(user=leader).scope == "all"
    assert Project.objects.get(pk=project.pk).unit == default
    # Run again (or with units already there) it adds nothing.
    importlib.import_module("crm.org.migrations.0002_default_unit").load(apps, None)
    assert OrgUnit.objects.count() == 1 and Membership.objects.filter(user=staff).count() == 1


def test_the_project_form_offers_units_as_a_tree(client_for, make_user, tree):
    staff = make_user(Role.INVESTMENT_STAFF)
    form = client_for(staff).get(reverse("leads:project-create")).context["form"]
    units = [(value, label) for value, label in form.fields["unit"].choices if value]
    assert [value for value, _label in units] == [tree[k].pk for k in
                                                  ("city", "east", "park", "west", "group")]
    assert dict(units)[tree["park"].pk] == "　　元宇宙产业园"  # under its district
    teams = [value for value, _label in form.fields["team"].choices if value]
    assert teams == [tree["team"].pk]  # only a 专班 follows a project
