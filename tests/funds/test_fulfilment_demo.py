"""The demo's agreements (funds/fulfilment/demo.py): built by `seed_demo` through the services,
on PostgreSQL and on SQLite (`make run`), with every storyline the leaders' screens need (on
track, due soon, missed, breached, a failing acceptance a leader confirmed and the clawback it
proposes), statuses stored as the rules judge them, and nothing built twice."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.accounts.models import User
from funds.fulfilment import rules, selectors, services
from funds.fulfilment.models import (
    Acceptance,
    Actual,
    Agreement,
    ClawbackProposal,
    Incentive,
    Metric,
    Obligation,
    Status,
)
from leads.models import Project

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_seed_demo_builds_agreements_with_every_storyline():
    """One seeding (a minute on PostgreSQL) checked in three parts: the agreements, the
    breach and its clawback, the stored statuses and a second run that adds nothing."""
    call_command("seed_demo", verbosity=0)
    today = timezone.localdate()
    signed = Project.objects.filter(signed_on__isnull=False, stage__kind="won")
    agreements = Agreement.objects.select_related("project")
    # Every signed project of the demo has its agreement, signed on the project's signing day.
    assert agreements.count() == signed.count() > 10
    assert all(a.signed_on == a.project.signed_on for a in agreements)
    # In the seeds' world: the tenants of the Kunshan metaverse park and of Yunkun Tower.
    parks = {a.project.intended_park for a in agreements}
    assert {"昆山元宇宙产业园", "云昆大厦(昆山元宇宙总部基地)"} <= parks
    # Land is granted at an intensity above the floor; the floors are the obligations' targets.
    landed = agreements.filter(land_mu__gt=0)
    assert landed.exists()
    for agreement in landed:
        committed = agreement.fixed_asset_investment_wan / agreement.land_mu
        assert committed >= rules.INVESTMENT_INTENSITY_FLOOR_WAN_PER_MU
        targets = dict(agreement.obligations.filter(
            metric__in=[Metric.INVESTMENT_INTENSITY, Metric.TAX_PER_MU])
            .values_list("metric", "target"))
        assert targets == {Metric.INVESTMENT_INTENSITY: Decimal("180.00"),
                           Metric.TAX_PER_MU: Decimal("10.00")}
    # Actuals for past years, from the signing year on, never a period that has not ended.
    years = set(Actual.objects.values_list("period_start__year", flat=True))
    assert len(years) >= 3
    assert not Actual.objects.filter(period_end__gte=today).exists()
    # Incentives linked to the demo's programmes, and to the project's applications.
    assert Incentive.objects.filter(application__isnull=False).exists()
    assert not Incentive.objects.filter(kind="subsidy", programme__isnull=True).exists()
    statuses = set(Obligation.objects.values_list("status", flat=True))
    assert {Status.ON_TRACK, Status.DUE_SOON, Status.MET, Status.MISSED,
            Status.BREACHED} <= statuses
    _breach_and_clawback()
    _stored_statuses_and_once()


def _breach_and_clawback():
    leader = User.objects.get(username="sun.jianguo")
    [failed] = Acceptance.objects.filter(verdict=Acceptance.Verdict.FAIL)
    assert failed.confirmed_by == leader and failed.note
    breached = Obligation.objects.filter(agreement=failed.agreement, status=Status.BREACHED)
    assert breached.filter(metric=Metric.INVESTMENT_INTENSITY).exists()
    [proposal] = ClawbackProposal.objects.filter(acceptance=failed)
    assert proposal.status == ClawbackProposal.Status.PROPOSED
    assert proposal.application.project_id == failed.agreement.project_id
    # The amount is what the report implies: the intensity shortfall ratio × what was paid.
    verdict = selectors.verdict_for(failed.agreement, failed.on)
    assert not verdict.passed and verdict.clawbacks() == {
        proposal.application_id: proposal.amount_yuan}
    intensity = next(s for o, s, _due in verdict.rows if o.metric == Metric.INVESTMENT_INTENSITY)
    paid = next(m.paid for m in selectors.incentive_money(failed.agreement, failed.on)
                if m.application_id == proposal.application_id)
    assert proposal.amount_yuan == (paid * intensity.shortfall_ratio).quantize(Decimal("0.01"))
    # A passing acceptance too, and the breached project's tranches are held back.
    assert Acceptance.objects.filter(verdict=Acceptance.Verdict.PASS).exists()
    assert services.breach_refusal(proposal.application, timezone.localdate())


def _stored_statuses_and_once():
    counts = (Agreement.objects.count(), Obligation.objects.count(), Actual.objects.count(),
              Acceptance.objects.count(), ClawbackProposal.objects.count())
    # Stored statuses are what the rules say today: a refresh changes nothing.
    before = dict(Obligation.objects.values_list("pk", "status"))
    assert services.obligations_refresh() == []
    assert dict(Obligation.objects.values_list("pk", "status")) == before
    call_command("seed_demo", verbosity=0)
    assert (Agreement.objects.count(), Obligation.objects.count(), Actual.objects.count(),
            Acceptance.objects.count(), ClawbackProposal.objects.count()) == counts
    # The leaders' figures of the demo have something to say in every block.
    figures = selectors.fulfilment_figures(user=User.objects.get(username="sun.jianguo"))
    assert figures.rate is not None and figures.arrival_rate is not None
    assert figures.breached_count >= 1 and figures.at_risk_count >= 1
    assert sum(b["count"] for b in figures.intensity_bands) >= 1
    assert figures.return_ratio is not None and len(figures.by_year) >= 2


SQLITE_SCRIPT = """
from django.test import Client
from crm.accounts.models import User
from funds.fulfilment.models import Agreement, ClawbackProposal, Obligation
print("agreements", Agreement.objects.count())
print("breached", Obligation.objects.filter(status="breached").count())
print("proposed", ClawbackProposal.objects.filter(status="proposed").count())
client = Client()
client.force_login(User.objects.get(username="sun.jianguo"))
for url in ["/fulfilment/", "/dashboards/overview/", "/dashboards/overview/fulfilment/"]:
    print("status", url, client.get(url).status_code)
"""


def test_the_demo_agreements_build_on_sqlite(tmp_path):
    """`make run`: SQLite, a file cache, no Redis."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(CRM_VAR_DIR=str(tmp_path), DEBUG="1", DJANGO_SETTINGS_MODULE="crm.settings")

    def manage(*args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--no-input", "-v", "0")
    manage("seed_demo")
    out = manage("shell", "-c", SQLITE_SCRIPT)
    values = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert values["agreements"] > 10 and values["breached"] >= 1 and values["proposed"] == 1
    statuses = [line.split() for line in out.splitlines() if line.startswith("status ")]
    assert statuses and all(code == "200" for _s, _url, code in statuses), statuses


@pytest.mark.django_db
def test_volume_agreements_are_judged_as_the_service_judges_them():
    """`seed_demo --scale 2`: an agreement for every signed volume project, bulk-written with
    the statuses the rules give today, which services.obligations_refresh then confirms."""
    call_command("seed_demo", scale=2, verbosity=0)
    volume = Agreement.objects.filter(title__startswith="[V]")
    signed = Project.objects.filter(signed_on__isnull=False)
    assert volume.exists()
    assert not signed.filter(agreements__isnull=True).exists()
    assert Obligation.objects.filter(agreement__in=volume).count() >= 4 * volume.count()
    # Years of actuals for the projects that have come furthest, never a period not ended.
    spans = {a.pk: set(a.actuals.values_list("period_start__year", flat=True))
             for a in volume.filter(project__stage__code="full_capacity")[:20]}
    assert max(len(years) for years in spans.values()) >= 3
    assert not Actual.objects.filter(period_end__gte=timezone.localdate()).exists()
    before = dict(Obligation.objects.values_list("pk", "status"))
    assert set(before.values()) == set(Status.values)
    assert services.obligations_refresh() == []
    assert dict(Obligation.objects.values_list("pk", "status")) == before
    # The figures read them: every signed project counts in the leaders' figures.
    figures = selectors.fulfilment_figures(user=User.objects.get(username="sun.jianguo"))
    assert {r["year"] for r in figures.by_year} >= {timezone.localdate().year - 3}
