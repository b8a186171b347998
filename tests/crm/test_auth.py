import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm.accounts.roles import Role, role_labels
from tests.factories import TEST_PASSWORD


@pytest.mark.django_db
def test_role_groups_exist_with_exact_names_and_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"investment_staff", "park_manager", "leader", "fund_reviewer", "administrator"} <= names
    admin_perms = Group.objects.get(name="administrator").permissions.values_list(
        "codename", flat=True
    )
    assert "change_user" in admin_perms


@pytest.mark.django_db
def test_role_labels_are_translated(make_user):
    user = make_user(Role.INVESTMENT_STAFF, Role.LEADER)
    with translation.override("zh-hans"):
        assert role_labels(user) == ["招商专员", "领导"]
    user = type(user).objects.get(pk=user.pk)
    with translation.override("en"):
        assert role_labels(user) == ["Investment staff", "Leader"]


@pytest.mark.django_db
def test_login_then_home_then_logout(client, staff_user):
    page = client.get(reverse("login"))
    assert "登录" in page.content.decode()
    response = client.post(
        reverse("login"), {"username": staff_user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert staff_user.full_name in home.content.decode()
    assert "招商专员" in home.content.decode()
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_login_is_locked_after_ten_failures(client, staff_user):
    for _ in range(10):
        response = client.post(
            reverse("login"), {"username": staff_user.username, "password": "wrong"}
        )
    response = client.post(
        reverse("login"), {"username": staff_user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    # Another user from the same address is not locked out by a colleague's typos.
    other = type(staff_user).objects.create_user("other", password=TEST_PASSWORD)
    response = client.post(
        reverse("login"), {"username": other.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_csrf_is_enforced_on_login():
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_token_endpoint_and_token_auth(client, staff_user):
    bad = client.post(reverse("api-token"), {"username": staff_user.username, "password": "no"})
    assert bad.status_code == 400
    response = client.post(
        reverse("api-token"), {"username": staff_user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    me = Client().get(reverse("api-me"), HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["username"] == staff_user.username
    assert me.json()["roles"] == ["investment_staff"]


@pytest.mark.django_db
def test_session_auth_works_for_the_api(client_for, leader_user):
    response = client_for(leader_user).get(reverse("api-me"))
    assert response.status_code == 200 and response.json()["roles"] == ["leader"]


@pytest.mark.django_db
def test_api_docs_served_without_cdn(client_for, leader_user):
    client = client_for(leader_user)
    docs = client.get(reverse("api-docs")).content.decode()
    assert "cdn." not in docs and "unpkg" not in docs and "jsdelivr" not in docs
    assert "/static/drf_spectacular_sidecar/" in docs
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200


@pytest.mark.django_db
def test_pages_reference_no_outside_host(client_for, staff_user):
    html = client_for(staff_user).get(reverse("home")).content.decode()
    assert "http://" not in html and "https://" not in html
    assert "/static/vendor/htmx/htmx.min.js" in html


@pytest.mark.django_db
def test_language_switch_to_english(client_for, staff_user):
    client = client_for(staff_user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Sign out" in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_user_changes_are_recorded_in_history(client_for, admin_user, staff_user):
    client = client_for(admin_user)
    url = reverse("admin:accounts_user_change", args=[staff_user.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        {
            "username": staff_user.username,
            "full_name": "新名字",
            "groups": [],
            "user_permissions": [],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "last_login_0": "",
            "last_login_1": "",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = staff_user.history.first()
    assert latest.full_name == "新名字"
    assert latest.history_user == admin_user
