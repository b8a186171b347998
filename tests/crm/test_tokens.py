"""API tokens (issue "Hardening" item 8): one per login, expiring, revocable by their owner and
by administrators, and revoked by any password change."""

from datetime import timedelta

import pytest
from django.contrib.auth.forms import PasswordChangeForm
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from crm.accounts.roles import Role
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def login(user, password=TEST_PASSWORD):
    return APIClient().post(reverse("api-token"), {"username": user.username,
                                                   "password": password}, format="json")


def me(token):
    return Client().get(reverse("api-me"), HTTP_AUTHORIZATION=f"Token {token}")


def test_every_login_issues_a_new_token_that_expires(staff_user, settings):
    settings.API_TOKEN_TTL_DAYS = 7
    first, second = login(staff_user), login(staff_user)
    assert first.status_code == second.status_code == 200
    assert set(first.json()) == {"token", "expiry"}
    assert first.json()["token"] != second.json()["token"]
    # Both work: a second client signing in does not sign the first out.
    assert me(first.json()["token"]).status_code == me(second.json()["token"]).status_code == 200
    tokens = AuthToken.objects.filter(user=staff_user)
    assert tokens.count() == 2
    for token in tokens:  # the configured TTL, and only a hash in the database
        assert timedelta(days=7) - timedelta(minutes=1) < token.expiry - timezone.now() \
            <= timedelta(days=7)
        assert token.digest not in (first.json()["token"], second.json()["token"])
    expiry = timezone.datetime.fromisoformat(first.json()["expiry"])
    assert abs(expiry - tokens.order_by("created").first().expiry) < timedelta(seconds=1)


def test_a_wrong_password_gets_no_token(staff_user):
    response = login(staff_user, "wrong")
    assert response.status_code == 400 and "token" not in response.json()
    assert not AuthToken.objects.exists()


def test_an_expired_token_is_refused(staff_user):
    token = login(staff_user).json()["token"]
    AuthToken.objects.filter(user=staff_user).update(expiry=timezone.now() - timedelta(seconds=1))
    response = me(token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.filter(user=staff_user).exists()  # and swept


def test_expired_tokens_are_swept_at_the_next_login(staff_user):
    login(staff_user)
    AuthToken.objects.filter(user=staff_user).update(expiry=timezone.now() - timedelta(days=1))
    fresh = login(staff_user).json()["token"]
    assert AuthToken.objects.filter(user=staff_user).count() == 1
    assert me(fresh).status_code == 200


def test_a_token_with_undecodable_bytes_is_a_401_not_a_500(client):
    response = client.get(reverse("api-me"), HTTP_AUTHORIZATION="Token caf\u00e9")
    assert response.status_code == 401


def test_a_user_lists_and_revokes_their_own_tokens(staff_user):
    kept, revoked = login(staff_user).json()["token"], login(staff_user).json()["token"]
    api = APIClient(HTTP_AUTHORIZATION=f"Token {kept}")
    listed = api.get(reverse("api-token-list"))
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert {r["token_key"] for r in rows} == {kept[:15], revoked[:15]}
    assert {r["token_key"]: r["current"] for r in rows} == {kept[:15]: True, revoked[:15]: False}
    assert all(len(r["token_key"]) == 15 for r in rows)  # a prefix, never the token
    response = api.delete(reverse("api-token-revoke", args=[revoked[:15]]))
    assert response.status_code == 204
    assert me(revoked).status_code == 401
    assert me(kept).status_code == 200
    again = api.delete(reverse("api-token-revoke", args=[revoked[:15]]))
    assert again.status_code == 404


def test_a_user_cannot_revoke_another_users_token(make_user):
    alice, bob = make_user(Role.INVESTMENT_STAFF), make_user(Role.INVESTMENT_STAFF)
    alices = login(alice).json()["token"]
    bobs = login(bob).json()["token"]
    api = APIClient(HTTP_AUTHORIZATION=f"Token {bobs}")
    assert alices[:15] not in {r["token_key"]
                               for r in api.get(reverse("api-token-list")).json()["results"]}
    assert api.delete(reverse("api-token-revoke", args=[alices[:15]])).status_code == 404
    page = Client()
    page.force_login(bob)
    page.post(reverse("accounts:token-revoke", args=[alices[:15]]))
    assert me(alices).status_code == 200


def test_the_tokens_page_lists_and_revokes(staff_user, client_for):
    token = login(staff_user).json()["token"]
    client = client_for(staff_user)
    page = client.get(reverse("accounts:tokens"))
    html = page.content.decode()
    assert page.status_code == 200 and token[:15] in html and token not in html
    assert reverse("accounts:tokens") in html  # reachable from the menu ("Me")
    response = client.post(reverse("accounts:token-revoke", args=[token[:15]]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:tokens")
    assert me(token).status_code == 401
    assert client.get(reverse("accounts:token-revoke", args=["x"])).status_code == 405


def test_the_tokens_page_needs_a_sign_in(client):
    response = client.get(reverse("accounts:tokens"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_set_password_and_save_revokes_every_token(staff_user):
    tokens = [login(staff_user).json()["token"] for _ in range(2)]
    staff_user.set_password("New-pass-2026x")
    staff_user.save()
    assert all(me(t).status_code == 401 for t in tokens)
    assert not AuthToken.objects.filter(user=staff_user).exists()
    assert me(login(staff_user, "New-pass-2026x").json()["token"]).status_code == 200


def test_saving_without_a_new_password_keeps_tokens(staff_user):
    token = login(staff_user).json()["token"]
    staff_user.full_name = "改名"
    staff_user.save()
    # A login re-checks the password (and may re-hash it): not a change.
    assert staff_user.check_password(TEST_PASSWORD)
    assert me(token).status_code == 200


def test_the_password_change_form_revokes_tokens(staff_user):
    token = login(staff_user).json()["token"]
    form = PasswordChangeForm(staff_user, {"old_password": TEST_PASSWORD,
                                           "new_password1": "New-pass-2026x",
                                           "new_password2": "New-pass-2026x"})
    assert form.is_valid(), form.errors
    form.save()
    assert me(token).status_code == 401


def test_the_admin_password_page_revokes_tokens(make_user, client):
    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    staff = make_user(Role.INVESTMENT_STAFF)
    token = login(staff).json()["token"]
    client.force_login(administrator)
    response = client.post(reverse("admin:auth_user_password_change", args=[staff.pk]),
                           {"password1": "New-pass-2026x", "password2": "New-pass-2026x",
                            "usable_password": "true"})
    assert response.status_code == 302
    assert me(token).status_code == 401


def test_disabling_the_password_revokes_tokens(staff_user):
    token = login(staff_user).json()["token"]
    staff_user.set_unusable_password()
    staff_user.save()
    assert me(token).status_code == 401


def test_an_administrator_revokes_any_users_token_in_the_admin(make_user, client):
    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    staff = make_user(Role.INVESTMENT_STAFF)
    token = login(staff).json()["token"]
    row = AuthToken.objects.get(user=staff)
    client.force_login(administrator)
    listed = client.get(reverse("admin:knox_authtoken_changelist"))
    assert listed.status_code == 200 and row.token_key in listed.content.decode()
    assert client.get(reverse("admin:knox_authtoken_add")).status_code == 403
    response = client.post(reverse("admin:knox_authtoken_delete", args=[row.pk]),
                           {"post": "yes"})
    assert response.status_code == 302
    assert me(token).status_code == 401


def test_an_administrator_revokes_a_users_tokens_from_the_user_list(make_user, client):
    administrator = make_user(Role.ADMINISTRATOR, is_staff=True)
    staff, root = make_user(Role.INVESTMENT_STAFF), make_user(is_superuser=True, is_staff=True)
    staffs, roots = login(staff).json()["token"], login(root).json()["token"]
    client.force_login(administrator)
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "revoke_api_tokens",
                            "_selected_action": [staff.pk, root.pk]})
    assert response.status_code == 302
    assert me(staffs).status_code == 401
    assert me(roots).status_code == 200  # a superuser's tokens are a superuser's business


def test_other_roles_cannot_revoke_in_the_admin(make_user, client):
    leader = make_user(Role.LEADER, is_staff=True)
    staff = make_user(Role.INVESTMENT_STAFF)
    token = login(staff).json()["token"]
    row = AuthToken.objects.get(user=staff)
    client.force_login(leader)
    response = client.post(reverse("admin:knox_authtoken_delete", args=[row.pk]),
                           {"post": "yes"})
    assert response.status_code == 403
    assert me(token).status_code == 200
