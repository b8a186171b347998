"""A confidential project's name never appears where its reader could not open the project:
the duplicate-company 409 (page and API), the unit page of a park manager, administrator or
reviewer, and the application pages of a fund reviewer. (The import's dry run, the admin and
the IM robots have tests of their own.)"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from funds import services as funds
from leads import services as leads
from parks import services as parks
from parks.models import Assignment
from tests.factories import make_programme, make_project, make_unit, system_admin

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
SECRET = "千帧8K全景影像制作中心项目"


@pytest.fixture
def world(make_user):
    owner = make_user(Role.INVESTMENT_STAFF, full_name="李娜")
    manager = make_user(Role.PARK_MANAGER)
    company = leads.company_create(by=owner, name="千帧影像科技有限公司",
                                   uscc="91110108551385082Q")
    project = make_project(owner=owner, company=company, name=SECRET, confidential=True)
    park = parks.park_create(by=system_admin(), code="cf", name="保密测试园", managers=[manager])
    unit = make_unit(park=park, code="C-1")
    # The booking services refuse a project the booker may not open, so a confidential
    # project's reservation comes from before that rule (or the admin): written directly.
    Assignment.objects.create(unit=unit, company=company, project=project, kind="reservation",
                              start=TODAY, end=TODAY + timedelta(days=90),
                              hold_until=TODAY + timedelta(days=14), area_m2=unit.gross_area_m2)
    programme = make_programme()
    application = funds.application_create(by=owner, programme=programme, company=company,
                                           project=project, requested_amount=Decimal("5000"))
    funds.document_add(application=application, by=owner, name="营业执照",
                       file=SimpleUploadedFile("l.pdf", b"%PDF-1.4\n"))
    return {"owner": owner, "manager": manager, "company": company, "project": project,
            "unit": unit, "application": application}


def test_the_duplicate_409_names_the_owner_not_the_project(world, make_user, api_for,
                                                           client_for):
    colleague = make_user(Role.INVESTMENT_STAFF)
    response = api_for(colleague).post("/api/v1/companies/", {
        "name": "另一个名字", "uscc": "91110108551385082Q"}, format="json")
    assert response.status_code == 409
    body = response.content.decode()
    assert "李娜" in body and SECRET not in body
    page = client_for(colleague).post(reverse("leads:company-create"), {
        "name": "千帧影像科技", "uscc": ""}).content.decode()
    assert "李娜" in page and SECRET not in page
    # The team itself, and leaders, read the project's name.
    response = api_for(world["owner"]).post("/api/v1/companies/", {
        "name": "又一个", "uscc": "91110108551385082Q"}, format="json")
    assert SECRET in response.content.decode()


@pytest.mark.parametrize("role", [Role.PARK_MANAGER, Role.ADMINISTRATOR, Role.FUND_REVIEWER])
def test_the_unit_page_shows_a_confidential_reservation_without_its_name(world, make_user,
                                                                        client_for, role):
    reader = world["manager"] if role == Role.PARK_MANAGER else make_user(role)
    html = client_for(reader).get(reverse("parks:unit-detail",
                                          args=[world["unit"].pk])).content.decode()
    assert world["company"].name in html  # the booking itself is visible
    assert SECRET not in html
    assert f"ID {world['project'].pk}" in html
    leader = client_for(make_user(Role.LEADER)).get(
        reverse("parks:unit-detail", args=[world["unit"].pk])).content.decode()
    assert SECRET in leader


def test_a_reviewer_reads_the_application_not_the_confidential_project(world, make_user,
                                                                      client_for):
    reviewer = client_for(make_user(Role.FUND_REVIEWER))
    listing = reviewer.get(reverse("funds:application-list")).content.decode()
    detail = reviewer.get(reverse("funds:application-detail",
                                  args=[world["application"].pk])).content.decode()
    for html in (listing, detail):
        assert world["company"].name in html and SECRET not in html
    assert reverse("leads:project-detail", args=[world["project"].pk]) not in detail
    owner_view = client_for(world["owner"]).get(
        reverse("funds:application-detail", args=[world["application"].pk])).content.decode()
    assert SECRET in owner_view
