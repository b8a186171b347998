"""The fulfilment API: agreements, obligations, actuals, the acceptance report and the leaders'
figures, against the figures worked out by hand in fulfilment_world; who sees what; the field
a refusal names; and the funds API's tranche payment stopped by a breach (also when two are
tried at once) until a leader overrides it for one tranche."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from crm.accounts.roles import Role
from crm.audit.models import AccessRecord
from funds import services as funds_services
from funds.fulfilment import services
from funds.fulfilment.models import (
    Acceptance,
    Actual,
    Agreement,
    ClawbackProposal,
    Metric,
    Obligation,
    PaymentOverride,
)
from funds.models import Disbursement, State
from tests.factories import make_programme

from .fulfilment_world import D, agreement_world, move, signed_project, staff_and_leader
from .test_fulfilment_rules import _paid_award, at
from .test_workflow import draft, to_publicity

pytestmark = pytest.mark.django_db
ACCEPTANCE_DAY = "2026-04-01"  # fixed, tax_per_mu and started have failed (fulfilment_world)


def english(api):
    """The reasons in English (the API answers in Chinese unless the language cookie says)."""
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return api


@pytest.fixture
def client_of(api_for):
    return lambda user: english(api_for(user))


def ids(response):
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


# --- Reading agreements and the acceptance report -----------------------------------------------
def test_agreement_reads_with_its_obligations(make_user, client_of):
    staff, _leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    api = client_of(staff)
    body = api.get(f"/api/v1/agreements/{agreement.pk}/").json()
    assert (body["project"], body["signed_on"], body["land_mu"], body["space_m2"],
            body["committed_investment"], body["fixed_asset_investment"], body["reporting"],
            body["grace_days"]) == (agreement.project_id, "2024-03-01", "50.00", None,
                                    "20000.00", "15000.00", "year", 90)
    nested = {row["id"]: row for row in body["obligations"]}
    assert set(nested) == {o.pk for o in ob.values()}
    # Today (after 2026-04-01) fixed assets stand at 7,000 of 9,000 past the grace: breached.
    fixed = nested[ob["fixed"].pk]
    assert (fixed["metric"], fixed["target"], fixed["due_on"], fixed["status"],
            fixed["actual"]) == ("fixed_asset_investment", "9000.00", "2025-12-31", "breached",
                                 "7000.00")
    assert (nested[ob["tax_per_mu"].pk]["applies_from"], nested[ob["jobs"].pk]["status"]) == (
        2025, "met")
    actuals = api.get("/api/v1/actuals/", {"agreement": agreement.pk}).json()["results"]
    assert [(a["period_start"], a["period_end"], a["investment"], a["fixed_asset_investment"],
             a["funds_arrived"], a["output_value"], a["tax"], a["jobs"]) for a in actuals] == [
        ("2024-01-01", "2024-12-31", "3000.00", "2500.00", "3000.00", "6000.00", "100.00", 50),
        ("2025-01-01", "2025-12-31", "5000.00", "4500.00", "4000.00", "10000.00", "400.00", 150)]


def test_obligation_filters(make_user, client_of):
    staff, _leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    other, other_ob = agreement_world(staff)
    api = client_of(staff)
    everything = ids(api.get("/api/v1/obligations/"))
    assert everything == {o.pk for o in [*ob.values(), *other_ob.values()]}
    assert ids(api.get("/api/v1/obligations/", {"agreement": agreement.pk})) == {
        o.pk for o in ob.values()}
    assert ids(api.get("/api/v1/obligations/", {"agreement": agreement.pk,
                                                "status": "met"})) == {ob["jobs"].pk}
    assert ids(api.get("/api/v1/obligations/", {"agreement": agreement.pk,
                                                "metric": ["jobs", "tax_per_mu"]})) == {
        ob["jobs"].pk, ob["tax_per_mu"].pk}
    # Due in 2025 (fixed and jobs, 2025-12-31); yearly ones have no due date.
    assert ids(api.get("/api/v1/obligations/", {
        "agreement": agreement.pk, "due_after": "2025-01-01",
        "due_before": "2025-12-31"})) == {ob["fixed"].pk, ob["jobs"].pk}
    assert ids(api.get("/api/v1/obligations/", {"agreement": agreement.pk,
                                                "due_after": "2026-01-01"})) == {
        ob["intensity"].pk}
    bad = api.get("/api/v1/obligations/", {"status": "late", "due_after": "yesterday"})
    assert bad.status_code == 400 and {"status", "due_after"} <= set(bad.json())


def test_acceptance_report_through_the_api(make_user, client_of):
    """The hand-computed figures of test_acceptance_verdict_and_remedy_amounts: paid 600,000 of
    an approved 1,000,000 元; on 2026-04-01 fixed (ratio 2,000 ÷ 9,000 = 0.2222), tax_per_mu
    (8 of 10 per mu, 0.2) and started (no stage reached) have failed. Proportional clawback
    600,000 × 0.2222 = 133,320.00, penalty 50,000.00, due back 183,320.00; 400,000.00
    withheld."""
    staff, leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    application = _paid_award(make_user, agreement, approved=D("1000000"), paid=D("600000"),
                              paid_on=datetime.date(2025, 6, 1))
    url = f"/api/v1/agreements/{agreement.pk}/acceptance/"
    response = client_of(staff).post(url, {"on": ACCEPTANCE_DAY}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["verdict"], body["due_back"], body["withheld"], body["acceptance"]) == (
        "fail", "183320.00", "400000.00", None)
    rows = {row["id"]: row for row in body["obligations"]}

    def row(name):
        r = rows[ob[name].pk]
        return (r["metric"], r["target"], r["actual"], r["shortfall"], r["shortfall_ratio"],
                r["status"], r["due"])

    assert row("fixed") == ("fixed_asset_investment", "9000.00", "7000.00", "2000.00",
                            "0.2222", "breached", True)
    assert row("tax_per_mu") == ("tax_per_mu", "10.00", "8.00", "2.00", "0.2000", "breached",
                                 True)
    assert rows[ob["tax_per_mu"].pk]["year"] == 2025
    assert row("started") == ("construction_started", None, None, "0.00", "1.0000",
                              "breached", True)
    assert row("jobs") == ("jobs", "120.00", "150.00", "0.00", "0.0000", "met", True)
    # 7,000 ÷ 50 = 140 per mu, due 2026-06-30: not yet due on 2026-04-01, so no verdict on it.
    assert row("intensity") == ("investment_intensity", "180.00", "140.00", "0.00", "0.0000",
                                "on_track", False)
    remedies = {r["kind"]: r for r in body["remedies"]}
    assert (remedies["proportional"]["triggered"], remedies["proportional"]["due_back"],
            remedies["proportional"]["obligation"]) == (True, "133320.00", ob["fixed"].pk)
    assert (remedies["penalty"]["triggered"], remedies["penalty"]["due_back"]) == (
        True, "50000.00")
    assert (remedies["withhold"]["triggered"], remedies["withhold"]["withheld"],
            remedies["withhold"]["due_back"]) == (True, "400000.00", "0.00")
    # Before anything was due the verdict passes, and computing records nothing.
    early = client_of(staff).post(url, {"on": "2024-06-01"}, format="json").json()
    assert (early["verdict"], early["due_back"], early["withheld"]) == ("pass", "0.00", "0.00")
    assert not Acceptance.objects.exists()

    # Confirming is a leader's, with a note.
    refused = client_of(staff).post(url, {"on": ACCEPTANCE_DAY, "confirm": True,
                                          "note": "核验"}, format="json")
    assert refused.status_code == 403
    assert "Only a leader confirms" in refused.json()["detail"]
    no_note = client_of(leader).post(url, {"on": ACCEPTANCE_DAY, "confirm": True},
                                     format="json")
    assert no_note.status_code == 400 and "note" in no_note.json()
    confirmed = client_of(leader).post(url, {"on": ACCEPTANCE_DAY, "confirm": True,
                                             "note": "达产验收未通过"}, format="json")
    assert confirmed.status_code == 201, confirmed.json()
    record = confirmed.json()["acceptance"]
    assert (record["verdict"], record["due_back"], record["withheld"], record["confirmed_by"],
            record["on"]) == ("fail", "183320.00", "400000.00", leader.pk, ACCEPTANCE_DAY)
    acceptance = Acceptance.objects.get()
    assert (acceptance.pk, acceptance.note, acceptance.due_back_yuan) == (
        record["id"], "达产验收未通过", D("183320.00"))
    proposal = ClawbackProposal.objects.get()
    assert (proposal.application_id, proposal.amount_yuan) == (application.pk, D("133320.00"))


# --- Access -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.INVESTMENT_STAFF, Role.PARK_MANAGER, Role.FUND_REVIEWER])
def test_a_confidential_projects_agreement_does_not_exist_off_its_team(make_user, client_of,
                                                                      role):
    staff, leader = staff_and_leader(make_user)
    secret, secret_ob = agreement_world(staff, project=signed_project(staff, confidential=True))
    open_agreement, open_ob = agreement_world(staff)
    secret_actual = Actual.objects.filter(agreement=secret).first()
    open_actual = Actual.objects.filter(agreement=open_agreement).first()
    outsider = client_of(make_user(role))
    listed = (ids(outsider.get("/api/v1/agreements/")), ids(outsider.get("/api/v1/obligations/")),
              ids(outsider.get("/api/v1/actuals/")),
              ids(outsider.get("/api/v1/agreements/", {"project": secret.project_id})),
              ids(outsider.get("/api/v1/obligations/", {"agreement": secret.pk})))
    assert secret.pk not in listed[0] and not listed[3]
    assert not {o.pk for o in secret_ob.values()} & listed[1] and not listed[4]
    assert secret_actual.pk not in listed[2]
    for url in (f"/api/v1/agreements/{secret.pk}/", f"/api/v1/obligations/{secret_ob['fixed'].pk}/",
                f"/api/v1/actuals/{secret_actual.pk}/"):
        assert outsider.get(url).status_code == 404, url
    acceptance = outsider.post(f"/api/v1/agreements/{secret.pk}/acceptance/",
                               {"on": ACCEPTANCE_DAY}, format="json")
    assert acceptance.status_code == 404
    # An outsider off the team of an open project: investment staff see only their team's;
    # park managers and fund reviewers read every agreement that is not confidential.
    expected = role != Role.INVESTMENT_STAFF
    assert (open_agreement.pk in listed[0]) == expected
    assert (open_ob["fixed"].pk in listed[1]) == expected
    assert (open_actual.pk in listed[2]) == expected
    assert (outsider.post(f"/api/v1/agreements/{open_agreement.pk}/acceptance/",
                          {"on": ACCEPTANCE_DAY}, format="json").status_code
            == (200 if expected else 404))
    # The team and the leaders read the confidential one, and each read is recorded.
    for reader in (staff, leader):
        assert secret.pk in ids(client_of(reader).get("/api/v1/agreements/"))
        assert client_of(reader).post(f"/api/v1/agreements/{secret.pk}/acceptance/",
                                      {"on": ACCEPTANCE_DAY}, format="json").status_code == 200
        assert AccessRecord.objects.filter(user=reader, object_id=secret.pk,
                                           content_type__model="agreement",
                                           action=AccessRecord.Action.API).count() == 2


# --- Writes and the fields a refusal names ------------------------------------------------------
def test_the_team_writes_through_the_services(make_user, client_of):
    staff, _leader = staff_and_leader(make_user)
    project = signed_project(staff)
    api = client_of(staff)
    created = api.post("/api/v1/agreements/", {
        "project": project.pk, "title": "投资协议", "parties": "昆山市人民政府；测试公司",
        "signed_on": "2025-03-01", "land_mu": "40", "committed_investment": "8000",
        "fixed_asset_investment": "6000", "grace_days": 30}, format="json")
    assert created.status_code == 201, created.json()
    agreement = Agreement.objects.get(pk=created.json()["id"])
    assert (agreement.created_by, agreement.committed_investment_wan, agreement.land_mu) == (
        staff, D("8000"), D("40"))
    obligation = api.post("/api/v1/obligations/", {
        "agreement": agreement.pk, "metric": "fixed_asset_investment", "target": "5000",
        "due_on": "2025-12-31"}, format="json")
    assert obligation.status_code == 201, obligation.json()
    # Nothing reported and 30 days' grace long past: breached, computed, never typed.
    assert (obligation.json()["status"], obligation.json()["actual"]) == ("breached", "0.00")
    actual = api.post("/api/v1/actuals/", {
        "agreement": agreement.pk, "period_start": "2025-01-01", "period_end": "2025-12-31",
        "investment": "5500", "fixed_asset_investment": "5000", "funds_arrived": "5500",
        "tax": "120", "jobs": 80}, format="json")
    assert actual.status_code == 201, actual.json()
    assert (actual.json()["recorded_by"], actual.json()["output_value"]) == (staff.pk, "0.00")
    # The actual met the obligation: the service refreshed the stored status.
    assert api.get(f"/api/v1/obligations/{obligation.json()['id']}/").json()["status"] == "met"
    # A partial update (the project stays) refreshes the statuses it may change.
    updated = api.patch(f"/api/v1/agreements/{agreement.pk}/", {
        "grace_days": 60, "title": "投资协议（修订）", "project": signed_project(staff).pk},
        format="json")
    assert updated.status_code == 200, updated.json()
    assert (updated.json()["title"], updated.json()["project"],
            updated.json()["obligations"][0]["status"]) == ("投资协议（修订）", project.pk, "met")
    assert api.put(f"/api/v1/agreements/{agreement.pk}/", {}, format="json").status_code == 405


def test_bad_input_is_400_naming_the_field(make_user, client_of):
    staff, leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    api = client_of(staff)

    def refused(url, data, field, method="post"):
        response = getattr(api, method)(url, data, format="json")
        assert response.status_code == 400, (url, data, response.json())
        assert field in response.json(), response.json()
        return response.json()[field]

    base = {"project": agreement.project_id, "title": "补充协议", "parties": "甲；乙",
            "signed_on": "2025-01-01", "committed_investment": "100"}
    # The model's check constraint, named as the API names the field.
    message = refused("/api/v1/agreements/", {**base, "fixed_asset_investment": "101"},
                      "fixed_asset_investment")
    assert "cannot exceed" in message[0]
    refused("/api/v1/agreements/", {**base, "signed_on": "9999-01-01"}, "signed_on")
    refused("/api/v1/agreements/", {**base, "committed_investment": "-1"},
            "committed_investment")
    # Somebody else's project does not exist for the caller.
    someone_elses = signed_project(make_user(Role.INVESTMENT_STAFF))
    refused("/api/v1/agreements/", {**base, "project": someone_elses.pk}, "project")
    refused(f"/api/v1/agreements/{agreement.pk}/", {"land_mu": None}, "land_mu",
            method="patch")  # obligations per mu need the land
    obligations = "/api/v1/obligations/"
    refused(obligations, {"agreement": agreement.pk, "metric": "tax", "target": "5"}, "due_on")
    refused(obligations, {"agreement": agreement.pk, "metric": "land_acquired", "target": "5",
                          "due_on": "2025-01-01"}, "target")
    refused(obligations, {"agreement": agreement.pk, "metric": "tax", "target": "5",
                          "applies_from": 0}, "applies_from")
    no_land = services.agreement_create(by=staff, project=agreement.project, title="补充协议",
                                        parties="甲；乙", signed_on=datetime.date(2025, 1, 1),
                                        committed_investment_wan=D("100"))
    refused(obligations, {"agreement": no_land.pk, "metric": "tax_per_mu", "target": "10",
                          "applies_from": 2026}, "metric")
    actuals = "/api/v1/actuals/"
    period = {"agreement": agreement.pk, "tax": "1"}
    refused(actuals, {**period, "period_start": "2026-01-01", "period_end": "2026-03-31"},
            "period_end")  # not a calendar year
    message = refused(actuals, {**period, "period_start": "2025-01-01",
                                "period_end": "2025-12-31"}, "period_start")
    assert "already recorded" in message[0]
    refused(actuals, {**period, "period_start": "2026-01-01", "period_end": "2026-12-31",
                      "investment": "10", "fixed_asset_investment": "11"},
            "fixed_asset_investment")
    url = f"/api/v1/agreements/{agreement.pk}/acceptance/"
    refused(url, {}, "on")
    refused(url, {"on": "1 April"}, "on")
    # A leader confirms only a day that has come.
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    response = client_of(leader).post(url, {"on": str(tomorrow), "confirm": True, "note": "x"},
                                      format="json")
    assert response.status_code == 400 and "on" in response.json()
    # A clash with the state is a 409, acting outside the team a 403.
    unsigned = signed_project(staff)
    type(unsigned).objects.filter(pk=unsigned.pk).update(signed_on=None)
    conflict = api.post("/api/v1/agreements/", {**base, "project": unsigned.pk}, format="json")
    assert conflict.status_code == 409 and conflict.json()["code"] == "not_signed"
    reviewer = client_of(make_user(Role.FUND_REVIEWER))  # reads the agreement, keeps nothing
    forbidden = reviewer.post(obligations, {"agreement": agreement.pk, "metric": "jobs",
                                            "target": "10", "due_on": "2027-01-01"},
                              format="json")
    assert forbidden.status_code == 403 and "Only the project's owner" in \
        forbidden.json()["detail"]
    assert Obligation.objects.filter(agreement=agreement).count() == len(ob)
    assert Agreement.objects.filter(project=agreement.project).count() == 2


# --- The leaders' figures -----------------------------------------------------------------------
def test_fulfilment_report(make_user, client_of):
    """fulfilment_world (signed 2024, confidential here) and a second agreement signed 2025.
    Today (after 2026-09-29, when intensity's grace ended) all five of the world's obligations
    are due: fixed, intensity, tax_per_mu and started breached, jobs met → 1 of 5, 20.0 %.
    The second agreement's milestone is met (stage reached): 1 of 1. Over all: 2 of 6, 33.3 %.
    资金到位率 (3,000 + 4,000) ÷ (20,000 + 10,000) = 23.3 %. Intensity 7,000 ÷ 50 = 140 per mu:
    between half the floor (90) and the floor (180). 投入产出比 500 万 = 5,000,000 元 of tax
    against 600,000 元 paid = 8.33."""
    staff, leader = staff_and_leader(make_user)
    project = signed_project(staff, confidential=True, name="绝密储能项目")
    agreement, _ob = agreement_world(staff, project=project)
    _paid_award(make_user, agreement, approved=D("1000000"), paid=D("600000"),
                paid_on=datetime.date(2025, 6, 1))
    other = signed_project(staff)
    second = services.agreement_create(by=staff, project=other, title="协议二", parties="甲；乙",
                                       signed_on=datetime.date(2025, 5, 1),
                                       committed_investment_wan=D("10000"))
    services.obligation_add(agreement=second, by=staff, metric=Metric.CONSTRUCTION_STARTED,
                            due_on=datetime.date(2025, 12, 31))
    for code in ("registered", "landed", "started"):
        move(other, code, staff, at=at(datetime.date(2025, 10, 1)))
    response = client_of(leader).get("/api/v1/reports/fulfilment/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["by_year"] == [{"year": 2024, "due": 5, "met": 1, "rate": "20.0"},
                               {"year": 2025, "due": 1, "met": 1, "rate": "100.0"}]
    assert (body["rate"], body["committed_wan"], body["arrived_wan"], body["arrival_rate"]) == (
        "33.3", "30000.00", "7000.00", "23.3")
    assert [b["count"] for b in body["intensity_bands"]] == [0, 1, 0]
    assert [(b["low"], b["high"]) for b in body["intensity_bands"]] == [
        ("0.00", "90.00"), ("90.00", "180.00"), ("180.00", None)]
    # Last year's tax per mu: 2024 100 ÷ 50 = 2, 2025 400 ÷ 50 = 8 (bands of 5 and 10).
    last_year = {2025: 2, 2026: 8}.get(datetime.date.today().year, 0)
    assert [b["count"] for b in body["tax_bands"]] == ([0, 1, 0] if last_year >= 5
                                                       else [1, 0, 0])
    assert (body["breached_count"], body["at_risk_count"]) == (1, 0)
    assert (body["incentives_paid_yuan"], body["tax_since_signing_wan"],
            body["return_ratio"]) == ("600000.00", "500.00", "8.33")
    top = body["projects"][0]
    # Leaders may open every project, so the confidential one is named.
    assert (top["project"], top["name"], top["incentives_paid_yuan"], top["return_ratio"]) == (
        project.pk, "绝密储能项目", "600000.00", "8.33")
    assert {p["project"]: p["return_ratio"] for p in body["projects"]}[other.pk] is None
    # The leaders' screens only, as the other reports.
    for role in (Role.INVESTMENT_STAFF, Role.PARK_MANAGER, Role.FUND_REVIEWER,
                 Role.ADMINISTRATOR):
        assert client_of(make_user(role)).get("/api/v1/reports/fulfilment/").status_code == 403


# --- A breach stops the tranches ----------------------------------------------------------------
def _approved_award(make_user, agreement, *, tranches):
    """An approved award for the agreement's (breached) project with planned, unpaid tranches,
    and the fund reviewer (no stake in it) who pays them."""
    people = {"staff": agreement.project.owner, "reviewer": make_user(Role.FUND_REVIEWER),
              "reviewer2": make_user(Role.FUND_REVIEWER),
              "approver": make_user(Role.FUND_REVIEWER)}
    programme = make_programme(budget_yuan=D("5000000"), cap_per_company_yuan=None)
    total = sum(tranches, Decimal("0"))
    application = to_publicity(people, draft(people, programme=programme,
                                             company=agreement.project.company,
                                             project=agreement.project, amount=str(total)))
    funds_services.application_transition(application=application, to=State.APPROVED,
                                          by=people["approver"], amount=total)
    planned = [funds_services.disbursement_plan(application=application, by=people["reviewer"],
                                                amount=amount, planned_on=datetime.date.today())
               for amount in tranches]
    return application, planned, people["reviewer"]


def pay(api, application, tranche):
    return api.post(f"/api/v1/fund-applications/{application.pk}/pay/",
                    {"disbursement": tranche.pk, "paid_on": str(datetime.date.today())},
                    format="json")


def override(api, application, tranche, reason="企业已提交整改方案，按会议纪要拨付"):
    return api.post(f"/api/v1/fund-applications/{application.pk}/breach-override/",
                    {"disbursement": tranche.pk, "reason": reason}, format="json")


def test_a_breached_projects_tranche_is_409_until_a_leader_overrides(make_user, client_of):
    staff, leader = staff_and_leader(make_user)
    agreement, _ob = agreement_world(staff, project=signed_project(staff, name="违约项目甲"))
    application, (tranche,), reviewer = _approved_award(make_user, agreement,
                                                        tranches=[D("200000")])
    refused = pay(client_of(reviewer), application, tranche)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "breach"
    assert "in breach of its agreement" in body["detail"]
    assert "Fixed-asset investment (CNY 10k, cumulative) (due 2025-12-31)" in body["detail"]
    assert "违约项目甲" not in body["detail"]  # obligations are named, never the project
    # Only a leader overrides, with a reason, for a tranche of this application.
    forbidden = override(client_of(reviewer), application, tranche)
    assert forbidden.status_code == 403 and "Only a leader" in forbidden.json()["detail"]
    assert "reason" in override(client_of(leader), application, tranche, reason="").json()
    elsewhere = client_of(leader).post(
        f"/api/v1/fund-applications/{application.pk}/breach-override/",
        {"disbursement": tranche.pk + 1000, "reason": "x"}, format="json")
    assert elsewhere.status_code == 400 and "disbursement" in elsewhere.json()
    granted = override(client_of(leader), application, tranche)
    assert granted.status_code == 201, granted.json()
    assert (granted.json()["disbursement"], granted.json()["by"]) == (tranche.pk, leader.pk)
    again = override(client_of(leader), application, tranche)
    assert again.status_code == 409 and again.json()["code"] == "duplicate"
    paid = pay(client_of(reviewer), application, tranche)
    assert paid.status_code == 200, paid.json()
    assert {d["id"]: d["paid_amount"] for d in paid.json()["disbursements"]}[tranche.pk] == \
        "200000.00"
    recorded = PaymentOverride.objects.get(disbursement=tranche)
    assert (recorded.by, recorded.reason) == (leader, "企业已提交整改方案，按会议纪要拨付")


@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_are_both_refused_then_an_override_pays_one(make_user, api_for):
    """Two reviewers pay the breached project's two tranches at the same moment: both are
    refused for the breach and nothing is paid. A leader's override through the API then lets
    one tranche through, and that one only."""
    staff, leader = staff_and_leader(make_user)
    agreement, _ob = agreement_world(staff)
    application, tranches, reviewer = _approved_award(make_user, agreement,
                                                      tranches=[D("100000"), D("150000")])
    second_reviewer = make_user(Role.FUND_REVIEWER)
    clients = [english(api_for(reviewer)), english(api_for(second_reviewer))]
    barrier = threading.Barrier(2)
    results, lock = [], threading.Lock()

    def attempt(i):
        try:
            barrier.wait()
            response = pay(clients[i], application, tranches[i])
            outcome = (response.status_code, response.json().get("code"))
        except Exception as error:  # noqa: BLE001
            outcome = repr(error)
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [(409, "breach"), (409, "breach")], results
    assert not Disbursement.objects.filter(application=application,
                                           paid_amount__isnull=False).exists()
    application.refresh_from_db()
    assert application.state == State.APPROVED

    granted = override(english(api_for(leader)), application, tranches[0])
    assert granted.status_code == 201, granted.json()
    assert pay(clients[0], application, tranches[0]).status_code == 200
    assert pay(clients[1], application, tranches[1]).json()["code"] == "breach"
    paid = dict(Disbursement.objects.filter(application=application)
                .values_list("pk", "paid_amount"))
    assert paid == {tranches[0].pk: D("100000.00"), tranches[1].pk: None}
    recorded = PaymentOverride.objects.get()
    assert (recorded.disbursement_id, recorded.by_id) == (tranches[0].pk, leader.pk)


# --- Query counts -------------------------------------------------------------------------------
# Queries per request, measured: the token and the roles, the caller's projects, the count and
# the page, the nested obligations, and the audit of the confidential rows read; the report's
# grouped figures (selectors.fulfilment_figures) and which of its projects the reader may open.
# Each includes one read of the reader's memberships (their data scope, crm/org/scopes.py).
QUERY_BUDGET = {"/api/v1/agreements/": 10, "/api/v1/obligations/": 8, "/api/v1/actuals/": 8,
                "/api/v1/reports/fulfilment/": 12}


def test_lists_and_report_take_the_same_queries_at_two_sizes(make_user, client_of):
    staff, leader = staff_and_leader(make_user)

    def counts():
        measured = {}
        for url in QUERY_BUDGET:
            api = client_of(leader if "reports" in url else staff)
            with CaptureQueriesContext(connection) as queries:
                response = api.get(url)
            assert response.status_code == 200
            measured[url] = len(queries)
        return measured

    agreement_world(staff, project=signed_project(staff, confidential=True))
    counts()  # warm the per-process caches (content types) first
    small = counts()
    for _n in range(3):
        agreement_world(staff, project=signed_project(staff, confidential=True))
        agreement_world(staff)
    assert Obligation.objects.count() == 35
    large = counts()
    assert large == small
    assert all(small[url] <= budget for url, budget in QUERY_BUDGET.items()), small
