"""Obligation statuses, per-mu figures, the acceptance verdict and remedy amounts, 履约率,
资金到位率 and 投入产出比, against figures worked out by hand (fulfilment_world's docstring)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from crm.core.exceptions import ConflictError
from funds.fulfilment import selectors, services
from funds.fulfilment.models import Agreement, Incentive, Metric, Obligation, Status

from .fulfilment_world import D, agreement_world, move, signed_project, staff_and_leader

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def states_on(agreement, day):
    agreement = Agreement.objects.prefetch_related("obligations", "actuals").get(pk=agreement.pk)
    return {o.pk: s for o, s in selectors.obligation_states(agreement, day)}


def at(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))


@pytest.mark.parametrize("day, fixed, tax", [
    (datetime.date(2025, 6, 1), Status.ON_TRACK, Status.ON_TRACK),
    (datetime.date(2025, 12, 1), Status.DUE_SOON, Status.DUE_SOON),
    (datetime.date(2026, 1, 15), Status.MISSED, Status.MISSED),
    (datetime.date(2026, 3, 31), Status.MISSED, Status.MISSED),  # the last day of grace
    (datetime.date(2026, 4, 1), Status.BREACHED, Status.BREACHED),
])
def test_statuses_before_due_within_grace_and_breached(make_user, day, fixed, tax):
    staff, _leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    states = states_on(agreement, day)
    # On 2025-06-01 the 2025 actuals have not ended, so fixed assets stand at 2,500.
    assert states[ob["fixed"].pk].status == fixed
    assert states[ob["tax_per_mu"].pk].status == tax


def test_figures_shortfalls_and_breach_day(make_user):
    staff, _leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    states = states_on(agreement, datetime.date(2026, 4, 1))
    fixed = states[ob["fixed"].pk]
    assert (fixed.actual, fixed.shortfall, fixed.shortfall_ratio) == (D("7000"), D("2000"),
                                                                     D("0.2222"))
    assert fixed.breached_on == datetime.date(2026, 4, 1)
    intensity = states_on(agreement, datetime.date(2026, 7, 1))[ob["intensity"].pk]
    assert (intensity.actual, intensity.shortfall) == (D("140.00"), D("40.00"))
    tax = states[ob["tax_per_mu"].pk]
    assert (tax.year, tax.actual, tax.shortfall, tax.shortfall_ratio) == (
        2025, D("8.00"), D("2.00"), D("0.2000"))
    assert states[ob["jobs"].pk].status == Status.MET
    assert states[ob["jobs"].pk].actual == D("150")


def test_a_milestone_follows_the_stage_event_with_no_typing(make_user):
    staff, _leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    started = ob["started"]
    assert states_on(agreement, datetime.date(2025, 1, 10))[started.pk].status == Status.MISSED
    assert states_on(agreement, datetime.date(2025, 4, 1))[started.pk].status == Status.BREACHED
    # The project reaches 开工 (through registration and land): the event's day meets it.
    project = agreement.project
    for code in ("registered", "landed", "started"):
        move(project, code, staff, at=at(datetime.date(2024, 11, 20)))
    state = states_on(agreement, datetime.date(2025, 4, 1))[started.pk]
    assert (state.status, state.met_on) == (Status.MET, datetime.date(2024, 11, 20))
    # The stored status (today's) followed the move as well.
    assert Obligation.objects.get(pk=started.pk).status == Status.MET
    # Reaching a later stage also meets "completed", which no default stage carries.
    completed = services.obligation_add(agreement=agreement, by=staff,
                                        metric=Metric.COMPLETED,
                                        due_on=datetime.date(2025, 12, 31))
    assert Obligation.objects.get(pk=completed.pk).status != Status.MET
    move(project, "producing", staff, at=at(datetime.date(2025, 9, 1)))
    assert states_on(agreement, datetime.date(2025, 12, 31))[completed.pk].met_on == \
        datetime.date(2025, 9, 1)


def test_acceptance_verdict_and_remedy_amounts(make_user):
    """Paid 600,000 of an approved 1,000,000 元 award. On 2026-04-01 `fixed` (ratio 0.2222)
    and `tax_per_mu` have failed, and `started` (no stage reached) too:
    - proportional clawback on `fixed`: 600,000 × 0.2222 × 1 = 133,320.00
    - fixed penalty on `tax_per_mu`: 50,000.00; money due back 183,320.00
    - withholding on any failure: 1,000,000 − 600,000 = 400,000.00 not paid."""
    staff, _leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    from funds.models import Disbursement

    application = _paid_award(make_user, agreement, approved=D("1000000"), paid=D("600000"),
                              paid_on=datetime.date(2025, 6, 1))
    verdict = selectors.verdict_for(agreement, datetime.date(2026, 4, 1))
    assert not verdict.passed
    failed = {o.pk for o, _s in verdict.shortfalls}
    assert failed == {ob["fixed"].pk, ob["tax_per_mu"].pk, ob["started"].pk}
    lines = {line.remedy.kind: line for line in verdict.remedies}
    assert lines["proportional"].due_back == D("133320.00")
    assert lines["penalty"].due_back == D("50000.00")
    assert lines["withhold"].withheld == D("400000.00")
    assert verdict.due_back == D("183320.00")
    assert verdict.clawbacks() == {application.pk: D("133320.00")}
    # Before anything was due (2024-06-01) nothing has failed: the verdict passes.
    early = selectors.verdict_for(agreement, datetime.date(2024, 6, 1))
    assert early.passed and early.due_back == 0
    assert Disbursement.objects.filter(application=application).count() == 1


def test_full_clawback_never_exceeds_what_was_paid(make_user):
    staff, _leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    _paid_award(make_user, agreement, approved=D("500000"), paid=D("300000"),
                paid_on=datetime.date(2025, 6, 1))
    services.remedy_add(agreement=agreement, by=staff, kind="full_clawback",
                        obligation=ob["started"])
    verdict = selectors.verdict_for(agreement, datetime.date(2026, 4, 1))
    # 300,000 × 0.2222 = 66,660 by the proportional clause, the rest (233,340) by the full
    # one: the application gets back what it was paid, not more.
    assert sum(verdict.clawbacks().values()) == D("300000.00")


def test_fulfilment_rate_arrival_rate_and_return_ratio(make_user):
    """Two agreements, today's statuses. The world's (signed 2024): fixed, tax_per_mu and
    started failed, jobs met; intensity (due 2026-06-30) has come due too when today is past
    it. A second agreement signed 2025 has one milestone met (started, reached).
    资金到位率: (3,000 + 4,000) ÷ (20,000 + 10,000) = 23.3 %. 投入产出比: tax 500 万 =
    5,000,000 元 against 600,000 paid = 8.33."""
    staff, leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
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
    today = timezone.localdate()
    states = states_on(agreement, today)
    due = [s for s in states.values() if s.status in (Status.MET, Status.MISSED,
                                                       Status.BREACHED)]
    figures = selectors.fulfilment_figures(user=leader)
    by_year = {row["year"]: row for row in figures.by_year}
    assert by_year[2024]["due"] == len(due)
    assert by_year[2024]["met"] == 1  # jobs
    assert (by_year[2025]["due"], by_year[2025]["met"], by_year[2025]["rate"]) == (1, 1, D("100.0"))
    assert figures.arrival_rate == D("23.3")
    assert figures.incentives_paid_yuan == D("600000")
    assert figures.tax_since_signing_wan == D("500")
    assert figures.return_ratio == D("8.33")
    assert figures.breached_count == 1  # one project in breach
    # Investment staff who are not on either project count nothing.
    stranger = make_user("investment_staff")
    assert selectors.fulfilment_figures(user=stranger).by_year == []


def test_bad_input_is_refused_with_the_field(make_user):
    staff, _leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    with pytest.raises(ValidationError) as error:
        services.obligation_add(agreement=agreement, by=staff, metric=Metric.TAX, target=D("5"))
    assert "due_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.obligation_add(agreement=agreement, by=staff, metric=Metric.LAND_ACQUIRED,
                                target=D("5"), due_on=datetime.date(2025, 1, 1))
    assert "target" in error.value.message_dict
    with pytest.raises(ValidationError) as error:  # a period that is not a calendar year
        services.actual_record(agreement=agreement, by=staff,
                               period_start=datetime.date(2026, 1, 1),
                               period_end=datetime.date(2026, 3, 31), tax_wan=D("1"))
    assert "period_end" in error.value.message_dict
    with pytest.raises(ValidationError) as error:  # the same period twice
        services.actual_record(agreement=agreement, by=staff,
                               period_start=datetime.date(2025, 1, 1),
                               period_end=datetime.date(2025, 12, 31), tax_wan=D("1"))
    assert "period_start" in error.value.message_dict
    unsigned = signed_project(staff)
    type(unsigned).objects.filter(pk=unsigned.pk).update(signed_on=None)
    unsigned.refresh_from_db()
    with pytest.raises(ConflictError):
        services.agreement_create(by=staff, project=unsigned, title="x", parties="x",
                                  signed_on=datetime.date(2025, 1, 1),
                                  committed_investment_wan=D("1"))
    no_land = services.agreement_create(by=staff, project=agreement.project, title="补充协议",
                                        parties="甲；乙", signed_on=datetime.date(2025, 1, 1),
                                        committed_investment_wan=D("100"))
    with pytest.raises(ValidationError) as error:
        services.obligation_add(agreement=no_land, by=staff, metric=Metric.TAX_PER_MU,
                                target=D("10"), applies_from=2026)
    assert "metric" in error.value.message_dict
    assert Incentive.objects.count() == 0


def _paid_award(make_user, agreement, *, approved, paid, paid_on):
    """An approved award for the agreement's project, `paid` of it paid on `paid_on`, tied to
    the agreement as an incentive (through the real funds workflow)."""
    from funds import services as funds_services
    from funds.models import State

    from .test_workflow import draft, to_publicity

    staff = agreement.project.owner
    people = {"staff": staff, "reviewer": make_user("fund_reviewer"),
              "reviewer2": make_user("fund_reviewer"), "approver": make_user("fund_reviewer")}
    from tests.factories import make_programme

    programme = make_programme(budget_yuan=D("5000000"), cap_per_company_yuan=None)
    application = to_publicity(people, draft(people, programme=programme,
                                             company=agreement.project.company,
                                             project=agreement.project, amount=str(approved)))
    funds_services.application_transition(application=application, to=State.APPROVED,
                                          by=people["approver"], amount=approved)
    tranche = funds_services.disbursement_plan(application=application, by=people["reviewer"],
                                               amount=paid, planned_on=paid_on)
    # The world is in breach today, so the payment (recorded after the fact) needs a leader.
    services.payment_override_grant(disbursement=tranche, by=make_user("leader"),
                                    reason="按原协议补录已拨付资金")
    funds_services.disbursement_pay(disbursement=tranche, by=people["reviewer"],
                                    paid_on=paid_on)
    services.incentive_add(agreement=agreement, by=staff, kind=Incentive.Kind.SUBSIDY,
                           application=application, amount_yuan=approved)
    return application
