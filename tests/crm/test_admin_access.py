"""The admin gives the product's answer, history pages included (issue "Hardening").

A confidential project (with a follow-up, a fund application and a booking) owned by staff A
is walked through every admin door, by every role with admin access: the changelist and its
search, the raw-id popup, the change page, the history list, a historical version, the
autocomplete endpoint and a POST that reverts. Whoever may not open the project never reads
its name, gets 404 (or 403) on its pages and changes nothing; leaders and superusers read it.
Then the ways up: a non-superuser administrator cannot make anyone (themselves included) a
superuser, hand out raw permissions or edit a superuser, while a superuser can.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.admin.widgets import ManyToManyRawIdWidget
from django.contrib.auth.models import Group, Permission
from django.forms import MultiWidget
from django.urls import reverse

from crm.accounts.models import User
from crm.accounts.roles import Role
from funds.models import Application
from funds.services import application_create
from leads.models import FollowUp, Project
from leads.services import followup_create
from parks.models import Assignment, Park
from parks.services import assignment_create
from tests.factories import CompanyFactory, UserFactory, make_programme, make_project, make_unit

pytestmark = pytest.mark.django_db

SECRET = "绝密甲号总部基地项目"
PUBLIC = "公开乙号研发中心项目"
PERSONAS = ["administrator", "park_manager", "fund_reviewer", "staff_b", "leader", "superuser"]
# Who may open the confidential project (ProjectQuerySet.visible_to; superusers see all).
READS_SECRET = {"leader", "superuser"}


@pytest.fixture
def world(make_user):
    owner = make_user(Role.INVESTMENT_STAFF, is_staff=True)
    people = {
        "owner": owner,
        "administrator": make_user(Role.ADMINISTRATOR, is_staff=True),
        "park_manager": make_user(Role.PARK_MANAGER, is_staff=True),
        "fund_reviewer": make_user(Role.FUND_REVIEWER, is_staff=True),
        "staff_b": make_user(Role.INVESTMENT_STAFF, is_staff=True),
        "leader": make_user(Role.LEADER, is_staff=True),
        "superuser": make_user(is_staff=True, is_superuser=True),
    }
    company = CompanyFactory(name="甲号测试智能制造有限公司")
    secret = make_project(owner=owner, company=company, name=SECRET, confidential=True)
    # A second version of the project, so there is an older one to revert to.
    secret.next_step = "第二次洽谈"
    secret.save()
    public = make_project(owner=owner, name=PUBLIC)
    followup = followup_create(project=secret, by=owner, date=datetime.date.today(),
                               kind=FollowUp.Kind.VISIT, summary="洽谈总部选址")
    application = application_create(by=owner, programme=make_programme(), company=company,
                                     project=secret, requested_amount=Decimal("1000"),
                                     title="总部落户奖励")
    park = Park.objects.create(code="secret-park", name="甲号园区")
    park.managers.add(people["park_manager"])
    booker = make_user(Role.ADMINISTRATOR, Role.LEADER)  # may book and may see the project
    today = datetime.date.today()
    assignment = assignment_create(unit=make_unit(park=park), company=company, kind="lease",
                                   start=today, end=today + datetime.timedelta(days=365),
                                   by=booker)
    # Attached later, so the booking's history list has a "project" delta to conceal.
    assignment.project = secret
    assignment.save()
    return {**people, "secret": secret, "public": public, "followup": followup,
            "application": application, "assignment": assignment}


def _urls(app, model, obj):
    history = obj.history.order_by("history_date").first()
    return {
        "changelist": reverse(f"admin:{app}_{model}_changelist"),
        "change": reverse(f"admin:{app}_{model}_change", args=[obj.pk]),
        "history": reverse(f"admin:{app}_{model}_history", args=[obj.pk]),
        "version": reverse(f"admin:{app}_{model}_simple_history",
                           args=[obj.pk, history.history_id]),
    }


def _snapshot(model, pk):
    return (model.objects.filter(pk=pk).values().get(),
            model.history.filter(id=pk).count())


def _body(response) -> str:
    return response.content.decode() if hasattr(response, "content") else ""


def _names_by_id(body: str, project) -> bool:
    """The concealed name, "(ID n)" in English, "（ID n）" in Chinese."""
    return re.search(rf"[(（]ID {project.pk}[)）]", body) is not None


def _autocomplete(client, app_label, model_name, field_name, term):
    return client.get(reverse("admin:autocomplete"), {
        "app_label": app_label, "model_name": model_name, "field_name": field_name,
        "term": term})


# --- Records that hang on the confidential project ---------------------------------------------
# (app, model, fixture key, who may open the record itself)
RECORDS = [
    ("leads", "project", "secret", READS_SECRET),
    ("leads", "followup", "followup", READS_SECRET),
    ("funds", "application", "application", READS_SECRET | {"fund_reviewer"}),
    ("parks", "assignment", "assignment",
     READS_SECRET | {"administrator", "park_manager"}),
]
MODELS = {"project": Project, "followup": FollowUp, "application": Application,
          "assignment": Assignment}


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("app,model,key,readers", RECORDS, ids=[r[1] for r in RECORDS])
def test_the_admin_walk_keeps_the_confidential_project(world, client, who, app, model, key,
                                                       readers):
    obj = world[key]
    urls = _urls(app, model, obj)
    before = _snapshot(MODELS[model], obj.pk)
    client.force_login(world[who])
    reads_record = who in readers
    reads_name = who in READS_SECRET

    responses = {name: client.get(url) for name, url in urls.items()}
    responses["search"] = client.get(urls["changelist"], {"q": SECRET[:4]})
    responses["popup"] = client.get(reverse("admin:leads_project_changelist"),
                                    {"_to_field": "id", "_popup": "1"})
    for name, response in responses.items():
        assert response.status_code in (200, 403, 404), (name, response.status_code)
        if not reads_name:
            assert SECRET not in _body(response), f"{who} reads the name on {model} {name}"
    if reads_name:
        assert SECRET in _body(responses["change"]), f"{who} {model}"
        assert SECRET in _body(responses["popup"]), who
    for name in ("change", "history", "version"):
        status = responses[name].status_code
        if reads_record:
            assert status == 200, f"{who} {model} {name} -> {status}"
        else:
            assert status in (403, 404), f"{who} {model} {name} -> {status}"
    if reads_record and not reads_name:
        # A reader of the booking (or application) sees the project by its id only.
        # The booking got its project after its first version: its history list shows that
        # change; the application had its project from its first version on.
        pages = ("change", "history") if model == "assignment" else ("change", "version")
        for name in pages:
            assert _names_by_id(_body(responses[name]), world["secret"]), (who, model, name)
        assert _names_by_id(_body(responses["changelist"]), world["secret"]), (who, model)

    # A revert: 404/403 for whoever may not open the record or may not edit it, and it never
    # touches the project link of a record it may not open.
    revert = client.post(urls["version"], {"name": "篡改", "title": "篡改", "note": "篡改",
                                           "project": world["public"].pk,
                                           "summary": "篡改", "_save": "1"})
    if not reads_record:
        assert revert.status_code in (403, 404), f"{who} {model} revert {revert.status_code}"
    if who == "leader":
        assert revert.status_code == 403  # leaders read deals and edit none
    if who != "superuser":
        after = _snapshot(MODELS[model], obj.pk)
        if reads_record and revert.status_code == 302:
            # An allowed revert (a park booking an administrator may edit) keeps the link.
            assert after[0]["project_id"] == before[0]["project_id"]
        else:
            assert after == before, f"{who} changed {model} through a revert"
        if not reads_name:
            assert SECRET not in _body(revert)


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("app_label,model_name", [("parks", "assignment"), ("funds", "application"),
                                                  ("leads", "followup")])
def test_autocomplete_over_projects_goes_through_the_access_rule(world, client, who, app_label,
                                                                 model_name):
    client.force_login(world[who])
    response = _autocomplete(client, app_label, model_name, "project", SECRET[:4])
    assert response.status_code in (200, 403)
    found = response.status_code == 200 and any(
        item["text"] == SECRET for item in response.json()["results"])
    assert found is (who in READS_SECRET), who
    if who not in READS_SECRET:
        assert SECRET not in response.content.decode()
    # The public project is found by anyone the Project admin answers at all (staff B only
    # reads their own team's projects).
    public = _autocomplete(client, app_label, model_name, "project", PUBLIC[:4])
    if public.status_code == 200 and who != "staff_b":
        assert [r["text"] for r in public.json()["results"]] == [PUBLIC]


@pytest.mark.parametrize("who", ["administrator", "park_manager", "fund_reviewer"])
def test_list_filter_names_the_project_by_id_only(world, client, who):
    client.force_login(world[who])
    url = reverse("admin:parks_assignment_changelist" if who != "fund_reviewer"
                  else "admin:funds_application_changelist")
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert SECRET not in body
    assert f"project__id__exact={world['secret'].pk}" in body  # the filter offers it by id
    filtered = client.get(url, {"project__id__exact": world["secret"].pk})
    assert filtered.status_code == 200 and SECRET not in filtered.content.decode()


def test_a_raw_id_typed_in_never_names_the_project(world, client):
    """A form sent back with an error shows the raw-id box's record: not one the reader may
    not open."""
    client.force_login(world["administrator"])
    assignment = world["assignment"]
    url = reverse("admin:parks_assignment_change", args=[assignment.pk])
    response = client.post(url, {"unit": assignment.unit_id, "company": assignment.company_id,
                                 "converted_from": world["secret"].pk, "kind": "lease",
                                 "status": "active", "start": "", "area_m2": "x"})
    assert response.status_code == 200  # the form, with its errors
    assert SECRET not in response.content.decode()
    assert _snapshot(Assignment, assignment.pk)[0]["start"] == assignment.start


def test_leaders_read_the_admin_pages_but_edit_nothing(world, client):
    client.force_login(world["leader"])
    secret = world["secret"]
    page = client.get(reverse("admin:leads_project_change", args=[secret.pk]))
    assert page.status_code == 200 and SECRET in page.content.decode()
    assert 'name="name"' not in page.content.decode()  # read-only
    before = _snapshot(Project, secret.pk)
    post = client.post(reverse("admin:leads_project_change", args=[secret.pk]),
                       {"name": "篡改"})
    assert post.status_code == 403 and _snapshot(Project, secret.pk) == before


def _form_data(form) -> dict:
    """What a browser would post back for `form` as rendered."""
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        widget = field.widget
        if isinstance(widget, MultiWidget):
            parts = value if isinstance(value, list) else widget.decompress(value)
            for i, (sub, part) in enumerate(zip(widget.widgets, parts, strict=False)):
                data[f"{name}_{i}"] = sub.format_value(part) or ""
        elif value is None or value is False or field.disabled:
            continue
        elif value is True:
            data[name] = "on"
        elif isinstance(widget, ManyToManyRawIdWidget):
            data[name] = ",".join(str(v) for v in value)
        elif isinstance(value, (list, tuple)):
            data[name] = [str(v) for v in value]
        else:
            data[name] = str(value)
    return data


def test_a_superuser_reverts_a_confidential_project(world, client):
    client.force_login(world["superuser"])
    secret = world["secret"]
    first = secret.history.order_by("history_date").first()
    url = reverse("admin:leads_project_simple_history", args=[secret.pk, first.history_id])
    page = client.get(url)
    assert page.status_code == 200 and SECRET in page.content.decode()
    response = client.post(url, {**_form_data(page.context["adminform"].form), "_save": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]
    secret.refresh_from_db()
    assert secret.next_step == first.next_step != "第二次洽谈"


def test_a_revert_writes_only_what_the_change_form_would(world, client):
    """The owner may edit their project, but a revert cannot bring back a read-only field
    (the stage moves only through leads.services)."""
    secret = world["secret"]
    Project.objects.filter(pk=secret.pk).update(last_contact_on=datetime.date(2020, 1, 1))
    client.force_login(world["owner"])
    first = secret.history.order_by("history_date").first()
    url = reverse("admin:leads_project_simple_history", args=[secret.pk, first.history_id])
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, {**_form_data(page.context["adminform"].form), "_save": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]
    secret.refresh_from_db()
    assert secret.next_step == first.next_step  # the form's field went back
    assert secret.last_contact_on == datetime.date(2020, 1, 1)  # the read-only one did not


# --- No way up ---------------------------------------------------------------------------------
def _user_form(client, user):
    page = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert page.status_code == 200
    return page, _form_data(page.context["adminform"].form)


def _escalation(data, *, groups):
    permission = Permission.objects.get(codename="delete_user")
    return {**data, "is_superuser": "on", "user_permissions": [str(permission.pk)],
            "groups": [str(g.pk) for g in groups], "_save": "1"}


@pytest.mark.parametrize("target", ["self", "other"])
def test_an_administrator_cannot_make_anyone_a_superuser(make_user, client, target):
    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    other = make_user(Role.INVESTMENT_STAFF)
    user = administrator if target == "self" else other
    client.force_login(administrator)
    page, data = _user_form(client, user)
    html = page.content.decode()
    assert 'name="is_superuser"' not in html and 'name="user_permissions"' not in html
    leader, admins = Group.objects.get(name=Role.LEADER), Group.objects.get(name=Role.ADMINISTRATOR)
    custom = Group.objects.create(name="superuser-ish")
    groups_before = set(user.groups.values_list("name", flat=True))
    response = client.post(reverse("admin:accounts_user_change", args=[user.pk]),
                           _escalation(data, groups=[leader, admins, custom]))
    assert response.status_code in (200, 302, 403)
    user.refresh_from_db()
    assert not user.is_superuser
    assert not user.user_permissions.exists()
    groups_after = set(user.groups.values_list("name", flat=True))
    assert "superuser-ish" not in groups_after  # not a role: not offered, not accepted
    if target == "self":
        assert groups_after == groups_before  # no role of one's own choosing
    elif response.status_code == 302:
        assert Role.LEADER in groups_after  # administrators do manage roles


def test_a_crafted_superuser_flag_is_refused_on_save(make_user, client):
    """Behind the read-only field, save_model refuses too (an admin form subclass or a
    revert that slipped the field in would meet it)."""
    from django.contrib import admin
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from crm.accounts.admin import UserAdmin

    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    other = make_user(Role.INVESTMENT_STAFF)
    request = RequestFactory().post("/")
    request.user = administrator
    other.is_superuser = True
    with pytest.raises(PermissionDenied):
        UserAdmin(User, admin.site).save_model(request, other, form=None, change=True)
    other.refresh_from_db()
    assert not other.is_superuser


def test_an_administrator_cannot_touch_a_superuser(make_user, client):
    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    root = make_user(is_staff=True, is_superuser=True)
    client.force_login(administrator)
    page = client.get(reverse("admin:accounts_user_change", args=[root.pk]))
    assert page.status_code == 200 and 'name="username"' not in page.content.decode()
    post = client.post(reverse("admin:accounts_user_change", args=[root.pk]),
                       {"username": "renamed", "is_active": ""})
    assert post.status_code == 403
    password = client.post(reverse("admin:auth_user_password_change", args=[root.pk]),
                           {"password1": "Bad-pass-2026x", "password2": "Bad-pass-2026x"})
    assert password.status_code == 403
    root.refresh_from_db()
    assert root.username != "renamed" and root.is_active and root.check_password(
        "test-pass-2026")


def test_an_administrator_cannot_revert_a_user_to_superuser(make_user, client):
    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    demoted = UserFactory(is_staff=True, is_superuser=True)
    demoted.is_superuser = False
    demoted.save()  # a second version; the first had is_superuser=True
    client.force_login(administrator)
    first = demoted.history.order_by("history_date").first()
    assert first.is_superuser
    url = reverse("admin:accounts_user_simple_history", args=[demoted.pk, first.history_id])
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, {**_form_data(page.context["adminform"].form), "_save": "1"})
    assert response.status_code in (302, 403)
    demoted.refresh_from_db()
    assert not demoted.is_superuser


def test_an_administrator_cannot_give_a_role_more_permissions(make_user, client):
    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    group = Group.objects.get(name=Role.ADMINISTRATOR)
    before = set(group.permissions.values_list("pk", flat=True))
    client.force_login(administrator)
    url = reverse("admin:auth_group_change", args=[group.pk])
    assert client.get(url).status_code == 200  # read-only
    response = client.post(url, {"name": group.name, "permissions": [
        str(p) for p in Permission.objects.values_list("pk", flat=True)]})
    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before


def test_a_superuser_grants_superuser_and_permissions(make_user, client):
    root = make_user(is_staff=True, is_superuser=True)
    other = make_user(Role.INVESTMENT_STAFF)
    client.force_login(root)
    _page, data = _user_form(client, other)
    custom = Group.objects.create(name="auditors")
    response = client.post(reverse("admin:accounts_user_change", args=[other.pk]),
                           _escalation(data, groups=[custom]))
    assert response.status_code == 302, response.content.decode()[:3000]
    other.refresh_from_db()
    assert other.is_superuser
    assert other.user_permissions.filter(codename="delete_user").exists()
    assert other.groups.filter(name="auditors").exists()
