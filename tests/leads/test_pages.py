import datetime

import pytest
from django.urls import reverse

from crm.accounts.roles import Role
from leads.models import Company, FollowUp, Project
from tests.factories import CompanyFactory, make_project

pytestmark = pytest.mark.django_db


def test_company_create_form_and_duplicate_message(make_user, client):
    owner = make_user(Role.INVESTMENT_STAFF, full_name="赵专员")
    existing = CompanyFactory(name="昆山视界科技有限公司")
    make_project(owner=owner, company=existing, name="视界项目")
    user = make_user(Role.INVESTMENT_STAFF)
    client.force_login(user)
    response = client.post(reverse("leads:company-create"), {
        "name": "昆山视界（科技）有限公司", "source_region": "yrd"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "昆山视界科技有限公司" in html and "赵专员" in html
    assert Company.objects.count() == 1
    response = client.post(reverse("leads:company-create"), {
        "name": "昆山新视野科技有限公司", "uscc": "91350100m000100y43", "industry": "",
        "chain_node": "", "chain_role": "", "tags_text": "元宇宙，重点"})
    company = Company.objects.get(name="昆山新视野科技有限公司")
    assert response.status_code == 302
    assert company.uscc == "91350100M000100Y43"
    assert sorted(t.name for t in company.tags.all()) == ["元宇宙", "重点"]


def test_company_form_names_the_uscc_field(staff_user, client):
    client.force_login(staff_user)
    response = client.post(reverse("leads:company-create"), {"name": "某公司",
                                                             "uscc": "91350100M000100Y4Z"})
    assert response.status_code == 200
    assert "uscc" in response.context["form"].errors
    assert not Company.objects.exists()


def test_project_create_move_and_followup_pages(staff_user, client):
    client.force_login(staff_user)
    company = CompanyFactory()
    today = datetime.date.today()
    response = client.post(reverse("leads:project-create"), {
        "company": company.pk, "name": "页面项目", "stage": Project._meta.get_field(
            "stage").related_model.objects.get(code="lead").pk,
        "funds_arrived_wan": "0", "next_step": "约见", "next_step_on": str(today)})
    assert response.status_code == 302, response.context["form"].errors
    project = Project.objects.get(name="页面项目")
    assert project.owner == staff_user
    response = client.post(reverse("leads:project-move", args=[project.pk]),
                           {"stage": "signed"}, follow=True)
    assert "协议" in response.content.decode() or "agreement" in response.content.decode()
    response = client.post(reverse("leads:project-move", args=[project.pk]),
                           {"stage": "screening", "note": "可以推进"}, follow=True)
    project.refresh_from_db()
    assert project.stage.code == "screening"
    response = client.post(reverse("leads:followup-create", args=[project.pk]), {
        "date": str(today), "kind": "phone", "summary": "电话沟通选址",
        "next_step": "发资料", "next_contact_on": str(today + datetime.timedelta(days=2)),
        "issue_description": "需要人才公寓", "issue_department": "人才办"})
    assert response.status_code == 302
    detail = client.get(reverse("leads:project-detail", args=[project.pk])).content.decode()
    assert "电话沟通选址" in detail and "需要人才公寓" in detail and "可以推进" in detail
    assert FollowUp.objects.get().issues.count() == 1


def test_board_move_answers_json_and_refuses_with_reason(staff_user, client):
    client.force_login(staff_user)
    project = make_project(owner=staff_user, stage_code="framework")
    url = reverse("leads:project-move", args=[project.pk])
    refused = client.post(url, {"stage": "signed"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 409 and refused.json()["detail"]
    moved = client.post(url, {"stage": "negotiating"}, HTTP_ACCEPT="application/json")
    assert moved.status_code == 200 and moved.json()["stage"] == "negotiating"


def test_list_filters_by_pinyin_initials_and_overdue(staff_user, client):
    client.force_login(staff_user)
    company = CompanyFactory(name="昆山元宇宙科技有限公司")
    make_project(owner=staff_user, company=company, name="元宇宙项目")
    late = make_project(owner=staff_user, name="逾期项目",
                        next_step_on=datetime.date.today() - datetime.timedelta(days=3))
    html = client.get(reverse("leads:project-list"), {"q": "ksyyz"}).content.decode()
    assert "元宇宙项目" in html and "逾期项目" not in html
    page = client.get(reverse("leads:project-list"), {"overdue": "true"})
    assert [p.pk for p in page.context["page"]] == [late.pk]


def _seed_projects(owner, count):
    companies = [CompanyFactory() for _ in range(count)]
    for company in companies:
        make_project(owner=owner, company=company, agreed=100)


@pytest.mark.parametrize("size", [10, 200])
def test_lists_and_board_run_constant_queries(size, staff_user, client, api_for,
                                              django_assert_max_num_queries):
    _seed_projects(staff_user, size)
    client.force_login(staff_user)
    api = api_for(staff_user)
    # Session, user, roles, then the page's own queries: the same ceiling at 10 and 200.
    with django_assert_max_num_queries(16):
        assert client.get(reverse("leads:project-list")).status_code == 200
    # The board has two more: the lost reasons its move menu offers, and the reader's
    # memberships (their data scope, crm/org/scopes.py), which the list's room absorbs.
    with django_assert_max_num_queries(18):
        assert client.get(reverse("leads:project-board")).status_code == 200
    with django_assert_max_num_queries(8):
        assert api.get("/api/v1/projects/").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("leads:company-list")).status_code == 200
