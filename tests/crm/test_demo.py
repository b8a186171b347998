import pytest
from django.core.management import call_command

from crm.accounts.models import User
from funds.models import Application, State
from leads.models import Company, FollowUp, Project, StageEvent
from parks.models import Assignment, Park, Unit


def _counts():
    return {model.__name__: model.objects.count() for model in (
        User, Company, Project, StageEvent, FollowUp, Park, Unit, Assignment, Application)}


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
    call_command("seed_demo", verbosity=0)
    assert _counts() == first
    # Every demo login works with the documented password.
    assert User.objects.get(username="zhang.wei").check_password("demo-2026")
