"""Login lockouts key on the real client behind a trusted reverse proxy, and on REMOTE_ADDR
(whatever X-Forwarded-For claims) without one (issue "Hardening", item 9)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD

PROXY = "10.0.0.2"  # the office's nginx, as the app sees it
OFFICE_A = "203.0.113.10"
OFFICE_B = "198.51.100.20"
FAILURE_LIMIT = 10  # AXES_FAILURE_LIMIT's default (settings)


def _login(username, password, **meta):
    # A fresh client each time: a lockout must not depend on a cookie the attacker can drop.
    return Client().post(reverse("login"), {"username": username, "password": password}, **meta)


def _fail_ten_times(username, **meta):
    for _ in range(FAILURE_LIMIT - 1):
        assert _login(username, "wrong", **meta).status_code == 200
    # The tenth failure is answered with the lockout itself.
    assert _login(username, "wrong", **meta).status_code == 429


@pytest.mark.django_db
def test_behind_one_proxy_only_the_failing_client_is_locked_out(settings, staff_user):
    settings.TRUSTED_PROXY_COUNT = 1
    # nginx appends the address it saw, so the last entry is the client.
    _fail_ten_times(staff_user.username, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=OFFICE_A)

    locked = _login(staff_user.username, TEST_PASSWORD,
                    REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=OFFICE_A)
    assert locked.status_code == 429
    # The same user, through the same proxy, from another office signs in.
    elsewhere = _login(staff_user.username, TEST_PASSWORD,
                       REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=OFFICE_B)
    assert elsewhere.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {OFFICE_A}


@pytest.mark.django_db
def test_behind_one_proxy_a_forged_left_entry_does_not_dodge_the_lockout(settings, staff_user):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(FAILURE_LIMIT):
        # The client's own X-Forwarded-For claim, to which nginx appended the real address.
        _login(staff_user.username, "wrong",
               REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {OFFICE_A}")
    locked = _login(staff_user.username, TEST_PASSWORD,
                    REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {OFFICE_A}")
    assert locked.status_code == 429


@pytest.mark.django_db
def test_without_a_proxy_a_forged_forwarded_for_is_ignored(settings, staff_user):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(FAILURE_LIMIT):
        _login(staff_user.username, "wrong",
               REMOTE_ADDR=OFFICE_A, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    locked = _login(staff_user.username, TEST_PASSWORD,
                    REMOTE_ADDR=OFFICE_A, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert locked.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {OFFICE_A}
    # Another address is not locked out: the lock is on (username, address).
    assert _login(staff_user.username, TEST_PASSWORD, REMOTE_ADDR=OFFICE_B).status_code == 302


def test_the_proxy_count_comes_from_the_environment():
    code = "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"
    root = Path(__file__).resolve().parents[2]
    for env_value, expected in ((None, "0"), ("2", "2")):
        env = {k: v for k, v in os.environ.items() if k != "TRUSTED_PROXY_COUNT"}
        if env_value is not None:
            env["TRUSTED_PROXY_COUNT"] = env_value
        result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=root,
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.stdout.strip().splitlines()[-1] == expected, result.stderr
