"""Schemathesis exercises every operation of the OpenAPI schema with generated input and fails
on any 5xx or any response that does not match the schema. New endpoints join automatically."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from crm.accounts.roles import Role
from crm.wsgi import application
from tests.factories import UserFactory


@pytest.fixture
def api_schema(db):
    # Called through the real WSGI app, Django would close the test's connection at the end of
    # each request (the test transaction looks "unusable"); the test client avoids that the
    # same way: by not closing connections on request signals.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # An administrator sees everything, so every operation is reachable.
    user = UserFactory(roles=[Role.ADMINISTRATOR], is_staff=True, is_superuser=True)
    token = Token.objects.create(user=user)
    headers = {"Authorization": f"Token {token.key}"}
    loaded = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", application, headers=headers
    )
    loaded.config.headers = headers
    yield loaded
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_operation_matches_schema(case, api_schema):
    case.call_and_validate(
        headers=api_schema.config.headers,
        checks=[not_a_server_error, response_schema_conformance],
    )
