"""Schemathesis exercises every operation of the OpenAPI schema with generated input and fails
on any 5xx or any response that does not match the schema. New endpoints join automatically.

It runs once per role, because what a request may reach (and so which code answers it) depends
on who asks: an administrator (a superuser, who reaches every operation), investment staff who
see only their own projects, and a park manager bounded by the parks they manage. Each role
gets records of its own first, so lists and reports serialise real rows, not empty pages.
The number of requests per role is printed at the end of the run."""

import collections
import datetime

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from crm.accounts.roles import Role
from crm.accounts.services import token_issue
from crm.wsgi import application
from tests.factories import CompanyFactory, UserFactory, make_programme, make_project, make_unit

# Generated examples per operation and role (the fuzzing phase). Schemathesis's coverage phase
# adds boundary and invalid values of every parameter on top: some 6,500 requests over the 52
# operations, whoever asks, since it is mostly validation (400s). So it runs for the
# administrator only, who reaches every operation, and the other roles spend their time on
# generated requests that reach their own rows. Measured on the 2-core machine: about 12,000
# requests in five minutes; the count is printed at the end of the run.
MAX_EXAMPLES = 40

ROLES = {
    "administrator": {"roles": [Role.ADMINISTRATOR], "is_staff": True, "is_superuser": True},
    "investment_staff": {"roles": [Role.INVESTMENT_STAFF]},
    "park_manager": {"roles": [Role.PARK_MANAGER]},
}

requests_made: collections.Counter = collections.Counter()


def _records_for(user, role: str) -> None:
    """Something of the user's own to read, and someone else's that they must not."""
    from parks.models import Park

    other = UserFactory(roles=[Role.INVESTMENT_STAFF])
    make_project(owner=other, confidential=True)
    if role == "park_manager":
        park = Park.objects.create(code=f"park-{user.pk}", name="测试管理园区")
        park.managers.add(user)
        make_unit(park=park)
    else:
        make_unit()
    owner = user if role == "investment_staff" else other
    make_project(owner=owner, company=CompanyFactory(),
                 next_step_on=datetime.date.today() - datetime.timedelta(days=3))
    make_project(owner=owner, stage_code="signed", agreed=100)
    make_programme()


@pytest.fixture(params=list(ROLES))
def api_schema(request, db):
    # Called through the real WSGI app, Django would close the test's connection at the end of
    # each request (the test transaction looks "unusable"); the test client avoids that the
    # same way: by not closing connections on request signals.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    role = request.param
    user = UserFactory(**ROLES[role])
    _records_for(user, role)
    _instance, token = token_issue(user=user)
    headers = {"Authorization": f"Token {token}"}
    loaded = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", application, headers=headers
    )
    loaded.config.headers = headers
    if role != "administrator":
        loaded.config.phases.coverage.enabled = False
    loaded.role = role
    yield loaded
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def _report_request_count(request):
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or not requests_made:
        return
    with capture.global_and_fixture_disabled():  # else the line is swallowed with the output
        reporter.write_line(
            "schemathesis requests: " + ", ".join(f"{r} {n}" for r, n in requests_made.items())
            + f"; total {sum(requests_made.values())}")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_api_operation_matches_schema(case, api_schema):
    requests_made[api_schema.role] += 1
    case.call_and_validate(
        headers=api_schema.config.headers,
        checks=[not_a_server_error, response_schema_conformance],
    )
