"""The admin reads agreements through the project's access rule, history pages included, and
writes none of them (statuses are computed by the services the product's pages call)."""

import pytest
from django.urls import reverse

from crm.accounts.roles import Role

from .fulfilment_world import agreement_world, signed_project

pytestmark = pytest.mark.django_db
SECRET = "绝密丙号总部基地项目"


@pytest.fixture
def world(make_user):
    staff = make_user(Role.INVESTMENT_STAFF, is_staff=True)
    project = signed_project(staff, confidential=True, name=SECRET)
    agreement, obligations = agreement_world(staff, project=project)
    return {"agreement": agreement, "obligation": obligations["fixed"],
            "administrator": make_user(Role.ADMINISTRATOR, is_staff=True),
            "leader": make_user(Role.LEADER, is_staff=True)}


def pages(world):
    agreement, obligation = world["agreement"], world["obligation"]
    return [reverse("admin:funds_agreement_change", args=[agreement.pk]),
            reverse("admin:funds_agreement_history", args=[agreement.pk]),
            reverse("admin:funds_obligation_change", args=[obligation.pk]),
            reverse("admin:funds_obligation_history", args=[obligation.pk])]


def test_an_administrator_never_reads_a_confidential_projects_agreement(client, world):
    client.force_login(world["administrator"])
    listing = client.get(reverse("admin:funds_agreement_changelist"))
    assert listing.status_code == 200
    assert SECRET not in listing.content.decode()
    assert "投资协议" not in listing.content.decode()
    for url in pages(world):
        assert client.get(url).status_code == 404, url


def test_a_leader_reads_it_and_nobody_edits_it_here(client, world):
    client.force_login(world["leader"])
    listing = client.get(reverse("admin:funds_agreement_changelist"))
    assert "投资协议" in listing.content.decode()
    for url in pages(world):
        assert client.get(url).status_code == 200, url
    change = reverse("admin:funds_agreement_change", args=[world["agreement"].pk])
    response = client.post(change, {"title": "改名", "grace_days": "9999"})
    assert response.status_code == 403
    world["agreement"].refresh_from_db()
    assert world["agreement"].grace_days == 90
    assert client.get(reverse("admin:funds_agreement_add")).status_code == 403
