"""One access rule per model: a project hidden from a user's list cannot be read by id through
the page, the export or the API, whatever the role."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.accounts.roles import Role
from tests.factories import CompanyFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    owner = make_user(Role.INVESTMENT_STAFF)
    colleague = make_user(Role.INVESTMENT_STAFF)
    collaborator = make_user(Role.INVESTMENT_STAFF)
    company = CompanyFactory(name="保密测试科技有限公司")
    secret = make_project(owner=owner, company=company, name="保密项目甲", confidential=True,
                          collaborators=[collaborator])
    public = make_project(owner=owner, name="公开项目乙")
    return {
        "owner": owner, "colleague": colleague, "collaborator": collaborator,
        "leader": make_user(Role.LEADER), "admin": make_user(Role.ADMINISTRATOR),
        "park_manager": make_user(Role.PARK_MANAGER),
        "fund_reviewer": make_user(Role.FUND_REVIEWER),
        "norole": make_user(), "secret": secret, "public": public, "company": company,
    }


# role -> (sees the confidential project, sees the other project, may edit)
EXPECTED = {
    "owner": (True, True, True),
    "collaborator": (True, False, True),
    "colleague": (False, False, False),
    "leader": (True, True, False),
    "admin": (False, True, False),
    "park_manager": (False, True, False),
    "fund_reviewer": (False, True, False),
    "norole": (False, False, False),
}


def _export_names(client):
    response = client.get(reverse("leads:project-export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}  # title, header


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_project_access_agrees_across_page_export_and_api(world, who, client, api_for):
    sees_secret, sees_public, may_edit = EXPECTED[who]
    user = world[who]
    client.force_login(user)
    api = api_for(user)
    for project, visible in ((world["secret"], sees_secret), (world["public"], sees_public)):
        listing = client.get(reverse("leads:project-list")).content.decode()
        assert (project.name in listing) is visible, f"{who} list {project.name}"
        detail = client.get(reverse("leads:project-detail", args=[project.pk]))
        assert detail.status_code == (200 if visible else 404), f"{who} detail"
        assert (project.name in _export_names(client)) is visible, f"{who} export"
        api_detail = api.get(f"/api/v1/projects/{project.pk}/")
        assert api_detail.status_code == (200 if visible else 404), f"{who} api detail"
        api_names = {p["name"] for p in api.get("/api/v1/projects/").json()["results"]}
        assert (project.name in api_names) is visible, f"{who} api list"
        followups = api.get(f"/api/v1/followups/?project={project.pk}")
        assert followups.status_code == 200
    edit = client.get(reverse("leads:project-edit", args=[world["secret"].pk]))
    assert edit.status_code == (200 if may_edit else 403 if sees_secret else 404)
    move = api.post(f"/api/v1/projects/{world['secret'].pk}/move/", {"stage": "screening"})
    assert move.status_code == (200 if may_edit else 403 if sees_secret else 404)


def test_companies_are_visible_to_all_staff_but_confidential_figures_are_not(world, client):
    client.force_login(world["colleague"])
    page = client.get(reverse("leads:company-detail", args=[world["company"].pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "保密测试科技有限公司" in html
    assert "保密项目甲" not in html
    assert "1 个保密项目未显示" in html or "confidential project is not shown" in html


def test_user_without_role_sees_no_companies(world, client):
    client.force_login(world["norole"])
    url = reverse("leads:company-detail", args=[world["company"].pk])
    assert client.get(url).status_code == 404


def test_agreement_download_follows_the_project_access_rule(world, client):
    from django.core.files.base import ContentFile

    world["secret"].agreement.save("agreement.pdf", ContentFile(b"%PDF-1.4 secret"))
    url = reverse("leads:project-agreement", args=[world["secret"].pk])
    client.force_login(world["owner"])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 secret"
    for outsider in ("colleague", "admin", "park_manager"):
        client.force_login(world[outsider])
        assert client.get(url).status_code == 404, outsider
    # No public media path exists to go around it.
    assert client.get("/media/" + world["secret"].agreement.name).status_code == 404
