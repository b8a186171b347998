import pytest
from django.core.management import call_command

from crm.accounts.models import User
from crm.org.models import Membership, OrgUnit
from funds.models import Application, State
from leads.models import Company, FollowUp, Project, StageEvent
from parks.models import Assignment, Park, Unit


def _counts():
    return {model.__name__: model.objects.count() for model in (
        User, Company, Project, StageEvent, FollowUp, Park, Unit, Assignment, Application,
        OrgUnit, Membership)}


@pytest.mark.django_db
def test_seed_demo_builds_the_world_once_and_is_idempotent():
    call_command("seed_demo", verbosity=0)
    first = _counts()
    assert first["User"] >= 13 and first["Company"] >= 60 and first["Park"] >= 6
    assert first["Unit"] > 1000 and first["Assignment"] > 100
    assert {p.stage.code for p in Project.objects.select_related("stage")} >= {
        "lead", "negotiating", "signed", "landed", "producing", "lost"}
    assert set(Application.objects.values_list("state", flat=True)) == set(State.values)
    assert Park.objects.get(code="ks_yunkun").managers.exists()
    # The organisation of the Kunshan plan: the city with two districts and its parks, the
    # leading group with its six 专班, six departments; every project placed in a unit.
    kunshan = OrgUnit.objects.get(code="kunshan")
    below = OrgUnit.objects.below(kunshan)
    kinds = [unit.kind for unit in below]
    assert (kinds.count("district"), kinds.count("team"), kinds.count("department")) == (2, 6, 6)
    assert kinds.count("park") >= 2 and kinds.count("leading_group") == 1
    assert not Project.objects.filter(unit__isnull=True).exists()
    assert Project.objects.filter(team__kind="team").exists()
    assert Membership.objects.filter(user__username="sun.jianguo", unit=kunshan,
                                     role="head", scope="unit").exists()
    call_command("seed_demo", verbosity=0)
    assert _counts() == first
    # Every demo login works with the documented password.
    assert User.objects.get(username="zhang.wei").check_password("demo-2026")
