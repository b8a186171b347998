"""Production mode passes Django's deployment checklist; the models match their migrations."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "crm.example.gov.cn",
    "DEBUG": "0",
}


def test_check_deploy_has_zero_warnings_in_production_mode():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_extra=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_responses_carry_the_content_security_policy():
    # check --deploy does not look for a CSP, so ask a production-mode app for a response.
    code = (
        "from django.test import Client\n"
        "r = Client().get('/api/schema/', HTTP_HOST='crm.example.gov.cn', secure=True)\n"
        "print(r.status_code)\n"
        "print(r['Content-Security-Policy'])\n"
        "print(r['Permissions-Policy'])\n"
        "print(r['Strict-Transport-Security'])\n"
    )
    result = _manage("shell", "--no-imports", "-c", code, env_extra=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    status, csp, permissions, hsts = result.stdout.strip().splitlines()[-4:]
    assert status in {"401", "403"}  # anonymous, and still under the policy
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1] \
        .split(";")[0]
    assert "camera=()" in permissions
    assert "max-age=" in hsts


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_ENV"] = "production"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_models_have_their_migrations():
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
