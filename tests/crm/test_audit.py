"""Who viewed or exported each confidential project and application (when, what, from where)
is recorded, shown to leaders on the record's page and in a report; every refused attempt is
logged for administrators."""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.accounts.roles import Role
from crm.audit.models import AccessRecord, DeniedAttempt
from funds import services as funds
from tests.factories import make_programme, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    owner = make_user(Role.INVESTMENT_STAFF, full_name="李娜")
    leader = make_user(Role.LEADER, full_name="孙领导")
    secret = make_project(owner=owner, name="保密项目甲", confidential=True)
    secret.agreement.save("agreement.pdf", ContentFile(b"%PDF-1.4 test"))
    plain = make_project(owner=owner, name="公开项目乙")
    application = funds.application_create(by=owner, programme=make_programme(),
                                           company=secret.company, project=secret,
                                           requested_amount=Decimal("5000"))
    funds.document_add(application=application, by=owner, name="营业执照",
                       file=SimpleUploadedFile("l.pdf", b"%PDF-1.4\n"))
    return {"owner": owner, "leader": leader, "secret": secret, "plain": plain,
            "application": application}


def reads(**filters):
    return list(AccessRecord.objects.filter(**filters).order_by("pk")
                .values_list("user__username", "action", "object_id"))


def test_every_door_to_a_confidential_project_is_recorded(world, client_for, api_for):
    owner, secret, plain = world["owner"], world["secret"], world["plain"]
    client = client_for(owner)
    client.get(reverse("leads:project-detail", args=[secret.pk]), REMOTE_ADDR="10.1.2.3")
    client.get(reverse("leads:project-detail", args=[plain.pk]))
    client.get(reverse("leads:project-agreement", args=[secret.pk]))
    client.get(reverse("leads:project-export"))
    api = api_for(owner)
    api.get(f"/api/v1/projects/{secret.pk}/")
    api.get("/api/v1/projects/")
    name = owner.username
    assert reads() == [(name, "view", secret.pk), (name, "download", secret.pk),
                       (name, "export", secret.pk), (name, "api", secret.pk),
                       (name, "api", secret.pk)]
    assert AccessRecord.objects.order_by("pk").first().ip == "10.1.2.3"
    assert not AccessRecord.objects.filter(object_id=plain.pk).exists()


def test_reads_of_a_confidential_application_are_recorded(world, make_user, client_for,
                                                          api_for):
    reviewer = make_user(Role.FUND_REVIEWER)
    application = world["application"]
    client_for(reviewer).get(reverse("funds:application-detail", args=[application.pk]))
    document = application.documents.get()
    client_for(reviewer).get(reverse("funds:document-download",
                                     args=[application.pk, document.pk]))
    api_for(reviewer).get(f"/api/v1/fund-applications/{application.pk}/")
    assert [action for _user, action, _id in reads(user=reviewer)] == ["view", "download",
                                                                       "api"]


def test_leaders_see_the_record_on_its_page_and_in_the_report(world, client_for):
    owner, leader, secret = world["owner"], world["leader"], world["secret"]
    client_for(owner).get(reverse("leads:project-detail", args=[secret.pk]))
    page = client_for(leader).get(reverse("leads:project-detail", args=[secret.pk]))
    html = page.content.decode()
    assert 'id="access-record"' in html and "李娜" in html
    # The team reads the project but not who else read it.
    owner_page = client_for(owner).get(reverse("leads:project-detail", args=[secret.pk]))
    assert 'id="access-record"' not in owner_page.content.decode()
    report = client_for(leader).get(reverse("audit:access-list"), {"user": owner.pk})
    assert report.status_code == 200
    assert "保密项目甲" in report.content.decode()
    assert client_for(owner).get(reverse("audit:access-list")).status_code == 403


def test_refused_attempts_are_logged_for_administrators(world, make_user, client_for,
                                                        api_for):
    manager = make_user(Role.PARK_MANAGER)
    assert client_for(manager).get(reverse("dashboards:leader")).status_code == 403
    assert api_for(manager).get("/api/v1/reports/pipeline/").status_code == 403
    attempts = list(DeniedAttempt.objects.order_by("pk"))
    assert [(a.user, a.path) for a in attempts] == [
        (manager, reverse("dashboards:leader")), (manager, "/api/v1/reports/pipeline/")]
    assert all(a.reason for a in attempts)
    admin = make_user(Role.ADMINISTRATOR)
    listing = client_for(admin).get(reverse("audit:denied-list")).content.decode()
    assert reverse("dashboards:leader") in listing
    assert client_for(manager).get(reverse("audit:denied-list")).status_code == 403
