"""Integrity lives in database constraints, with a friendly check first, on its field: the
forms and the API refuse what the importer refuses, and say so under the field, never with a
constraint's name."""

import pytest
from django.apps import apps
from django.db.models import CheckConstraint, UniqueConstraint
from django.urls import reverse
from django.utils.translation import gettext

from crm.accounts.roles import Role
from crm.core.models import FieldConstraintsMixin
from tests.factories import make_project

pytestmark = pytest.mark.django_db
PRODUCT_APPS = {"leads", "parks", "funds", "dashboards", "notifications", "accounts"}


def test_every_constraint_speaks_on_a_field_in_words():
    """A constraint added without its field and message fails here, not in front of a user."""
    missing = []
    for model in apps.get_models():
        if model._meta.app_label not in PRODUCT_APPS or model.__name__.startswith("Historical"):
            continue
        for constraint in model._meta.constraints:
            if not isinstance(constraint, CheckConstraint | UniqueConstraint):
                continue
            single_field_unique = (isinstance(constraint, UniqueConstraint)
                                   and len(constraint.fields) == 1)
            if single_field_unique:
                continue  # Django reports these on their field already
            if model._meta.app_label in ("notifications",):
                continue  # written by the scan alone, never typed into a form
            mapped = (issubclass(model, FieldConstraintsMixin)
                      and constraint.name in model.CONSTRAINT_FIELDS)
            default = constraint.default_violation_error_message
            worded = constraint.violation_error_message != default
            if not (mapped and worded):
                missing.append(f"{model._meta.label}.{constraint.name}")
    assert not missing


def test_the_company_form_and_api_refuse_what_the_import_refuses(make_user, client_for, api_for):
    staff = make_user(Role.INVESTMENT_STAFF)
    response = client_for(staff).post(reverse("leads:company-create"), {
        "name": "负资本测试有限公司", "registered_capital_wan": "-500", "hq_region_code": "ABC"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "registered_capital_wan" in errors and "hq_region_code" in errors
    assert "company_" not in response.content.decode()  # no constraint name on the page
    response = api_for(staff).post("/api/v1/companies/", {
        "name": "负资本测试有限公司", "registered_capital_wan": "-500",
        "hq_region_code": "ABC"}, format="json")
    assert response.status_code == 400
    assert {"registered_capital_wan", "hq_region_code"} <= set(response.json())


def test_a_reversed_space_range_is_an_error_on_its_field(make_user, client_for):
    staff = make_user(Role.INVESTMENT_STAFF)
    project = make_project(owner=staff)
    response = client_for(staff).post(reverse("leads:project-edit", args=[project.pk]), {
        "name": project.name, "next_step": "电话", "next_step_on": "2030-01-01",
        "space_min_m2": "5000", "space_max_m2": "100", "funds_arrived_wan": "0"})
    assert response.status_code == 200
    form = response.context["form"]
    # The constraint's own words, in the page's language (Chinese first).
    assert form.errors["space_max_m2"] == [
        gettext("The largest area cannot be below the smallest.")]
    assert form.errors["space_max_m2"] == ["需求面积上限不能低于下限。"]
    html = response.content.decode()
    assert "project_space_range_ordered" not in html
