"""The administrators' settings screens (issue 17, item 4): plan targets, stages, lost reasons and
reminder rules are kept in the product's own pages, through one write path that checks the
role's model permissions, validates like the admin and records who changed what."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.accounts.roles import Role
from crm.dashboards.models import Metric, Target
from crm.notifications.models import ReminderRule, Severity
from leads.models import LostReason, Stage
from leads.rules import NO_CONTACT_KIND, Thresholds

pytestmark = pytest.mark.django_db

SCREENS = ["targets", "stages", "lost-reasons", "reminder-rules"]


@pytest.fixture
def administrator(make_user):
    # A member of the administrators' group, not a superuser: what the role was granted decides.
    return make_user(Role.ADMINISTRATOR)


def _target(**fields) -> Target:
    values = {"metric": Metric.SCENARIOS, "year_from": 2026, "year_to": 2026,
              "value": Decimal("4"), "source": "年度工作目标"} | fields
    return Target.objects.create(**values)


def test_an_administrator_reaches_every_screen_from_the_navigation(client_for, administrator):
    client = client_for(administrator)
    index = client.get(reverse("setup:index"))
    assert index.status_code == 200
    html = index.content.decode()
    for key in SCREENS:
        url = reverse("setup:list", kwargs={"key": key})
        assert f'href="{url}"' in html  # the sidebar and the index both link it
        page = client.get(url)
        assert page.status_code == 200, key
        assert 'id="setup-table"' in page.content.decode()
    # The plan targets entry no longer sends anyone into the Django admin.
    assert "/admin/dashboards/target/" not in html


def test_the_stage_list_shows_every_stage_in_order(client_for, administrator):
    html = client_for(administrator).get(reverse("setup:list", kwargs={"key": "stages"})) \
        .content.decode()
    rows = [html.index(f'data-row="{stage.pk}"') for stage in Stage.objects.order_by("order")]
    assert rows == sorted(rows) and len(rows) >= 10


@pytest.mark.parametrize("count", [3, 30])
def test_lists_take_a_constant_number_of_queries(client_for, administrator, count,
                                                 django_assert_max_num_queries):
    from parks.models import Park

    park = Park.objects.create(name="昆山高新区元宇宙产业园", code="ks-meta", city="昆山市")
    before = Target.objects.count()  # the plans' targets a migration loads
    for year in range(count):
        _target(metric=Metric.CARRIER_AREA, park=park, year_from=2000 + year,
                year_to=2000 + year)
    client = client_for(administrator)
    client.get(reverse("setup:list", kwargs={"key": "targets"}))  # session, permissions warm
    with django_assert_max_num_queries(12):
        response = client.get(reverse("setup:list", kwargs={"key": "targets"}))
    assert response.content.decode().count("data-row=") == before + count


def test_an_administrator_sets_a_target_and_the_dashboard_counts_against_it(
        client_for, administrator, leader_user):
    client = client_for(administrator)
    response = client.post(reverse("setup:create", kwargs={"key": "targets"}), {
        "metric": Metric.SCENARIOS, "year_from": 2026, "year_to": 2026, "value": "7",
        "source": "年度工作目标", "order": 1, "city": "", "park": ""})
    assert response.status_code == 302
    target = Target.objects.get(source="年度工作目标", metric=Metric.SCENARIOS, value=7)
    assert target.value == Decimal("7")
    # Who set it is on record.
    assert target.history.get().history_user == administrator
    leader_page = client_for(leader_user).get(reverse("dashboards:leader")).content.decode()
    assert 'data-figure="target-scenarios"' in leader_page
    assert "/ 7 " in leader_page


def test_a_refused_target_names_its_field_and_writes_nothing(client_for, administrator):
    before = Target.objects.count()
    response = client_for(administrator).post(
        reverse("setup:create", kwargs={"key": "targets"}), {
            "metric": Metric.SCENARIOS, "year_from": 2026, "year_to": 2025, "value": "7",
            "order": 0, "city": "昆山市", "park": ""})
    assert response.status_code == 200
    form = response.context["form"]
    assert "year_to" in form.errors  # the constraint's message, on its field
    assert "park" in form.errors  # only carrier space is set per park or city
    assert 'class="error-summary"' in response.content.decode()
    assert Target.objects.count() == before


def test_a_target_is_edited_and_deleted(client_for, administrator):
    target = _target()
    client = client_for(administrator)
    edit = reverse("setup:edit", kwargs={"key": "targets", "pk": target.pk})
    page = client.get(edit)
    assert reverse("setup:delete", kwargs={"key": "targets", "pk": target.pk}) \
        in page.content.decode()
    client.post(edit, {"metric": Metric.SCENARIOS, "year_from": 2026, "year_to": 2027,
                       "value": "9", "order": 0, "city": "", "park": "", "source": ""})
    target.refresh_from_db()
    assert (target.year_to, target.value) == (2027, Decimal("9"))
    response = client.post(reverse("setup:delete", kwargs={"key": "targets", "pk": target.pk}))
    assert response.status_code == 302
    assert not Target.objects.filter(pk=target.pk).exists()
    assert Target.history.filter(id=target.pk, history_type="-").exists()


def test_a_stage_is_renamed_but_keeps_its_code(client_for, administrator):
    stage = Stage.objects.get(code="site_visit")
    response = client_for(administrator).post(
        reverse("setup:edit", kwargs={"key": "stages", "pk": stage.pk}), {
            "code": "hacked", "name": "实地踏勘", "name_en": "Site tour", "kind": stage.kind,
            "order": stage.order, "probability": 40, "milestone": stage.milestone,
            "is_active": "on"})
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.code, stage.name, stage.probability) == ("site_visit", "实地踏勘", 40)
    assert stage.history.first().history_user == administrator


def test_a_stage_probability_over_100_is_refused_on_its_field(client_for, administrator):
    stage = Stage.objects.get(code="site_visit")
    response = client_for(administrator).post(
        reverse("setup:edit", kwargs={"key": "stages", "pk": stage.pk}), {
            "name": stage.name, "kind": stage.kind, "order": stage.order,
            "probability": 120, "milestone": "", "is_active": "on"})
    assert response.status_code == 200
    assert "probability" in response.context["form"].errors
    stage.refresh_from_db()
    assert stage.probability != 120


def test_stages_are_switched_off_not_deleted(client_for, administrator):
    stage = Stage.objects.get(code="site_visit")
    client = client_for(administrator)
    page = client.get(reverse("setup:edit", kwargs={"key": "stages", "pk": stage.pk}))
    assert "/delete/" not in page.content.decode()
    response = client.post(reverse("setup:delete", kwargs={"key": "stages", "pk": stage.pk}))
    assert response.status_code == 403
    assert Stage.objects.filter(pk=stage.pk).exists()


def test_a_lost_reason_with_a_taken_code_is_refused(client_for, administrator):
    taken = LostReason.objects.first()
    response = client_for(administrator).post(
        reverse("setup:create", kwargs={"key": "lost-reasons"}),
        {"code": taken.code, "name": "另一个原因", "order": 5, "is_active": "on"})
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert not LostReason.objects.filter(name="另一个原因").exists()
    created = client_for(administrator).post(
        reverse("setup:create", kwargs={"key": "lost-reasons"}),
        {"code": "policy_change", "name": "政策变化", "order": 5, "is_active": "on"})
    assert created.status_code == 302
    assert LostReason.objects.get(code="policy_change").name == "政策变化"


def test_a_reminder_rule_s_days_move_the_dashboards_thresholds(client_for, administrator):
    rule = ReminderRule.objects.get(kind=NO_CONTACT_KIND, severity=Severity.YELLOW)
    response = client_for(administrator).post(
        reverse("setup:edit", kwargs={"key": "reminder-rules", "pk": rule.pk}), {
            "code": "changed", "kind": "other", "name": rule.name, "days": 10,
            "severity": rule.severity, "recipients": rule.recipients, "is_active": "on"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.code, rule.kind, rule.days) != ("changed", "other", 10)
    assert rule.days == 10 and rule.kind == NO_CONTACT_KIND
    assert Thresholds.current().silent_yellow_days == 10


def test_a_new_reminder_rule_checks_a_registered_kind(client_for, administrator):
    client = client_for(administrator)
    refused = client.post(reverse("setup:create", kwargs={"key": "reminder-rules"}), {
        "code": "made_up", "kind": "nothing.registered", "name": "?", "days": 3,
        "severity": Severity.YELLOW, "recipients": "owner", "is_active": "on"})
    assert "kind" in refused.context["form"].errors
    assert not ReminderRule.objects.filter(code="made_up").exists()


@pytest.mark.parametrize("role", [Role.INVESTMENT_STAFF, Role.PARK_MANAGER, Role.FUND_REVIEWER])
def test_other_roles_neither_see_nor_write_the_settings(client_for, make_user, role):
    before = Target.objects.count()
    client = client_for(make_user(role))
    assert "/setup/" not in client.get(reverse("home"), follow=True).content.decode()
    for key in SCREENS:
        assert client.get(reverse("setup:list", kwargs={"key": key})).status_code == 403
        assert client.post(reverse("setup:create", kwargs={"key": key}), {}).status_code == 403
    assert client.get(reverse("setup:index")).status_code == 403
    assert client.post(reverse("setup:create", kwargs={"key": "targets"}), {
        "metric": Metric.SCENARIOS, "year_from": 2026, "year_to": 2026, "value": "7",
        "order": 0}).status_code == 403
    assert Target.objects.count() == before


def test_a_leader_reads_the_targets_but_cannot_change_them(client_for, leader_user):
    target = _target()
    client = client_for(leader_user)
    page = client.get(reverse("setup:list", kwargs={"key": "targets"}))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-row="{target.pk}"' in html
    assert reverse("setup:create", kwargs={"key": "targets"}) not in html
    assert client.post(reverse("setup:edit", kwargs={"key": "targets", "pk": target.pk}), {
        "metric": Metric.SCENARIOS, "year_from": 2026, "year_to": 2026, "value": "1",
        "order": 0}).status_code == 403
    target.refresh_from_db()
    assert target.value == Decimal("4")


def test_an_unknown_screen_is_a_404(client_for, administrator):
    assert client_for(administrator).get("/setup/nothing/").status_code == 404


def test_the_write_service_refuses_without_the_permission(make_user):
    from django.core.exceptions import PermissionDenied

    from crm.core.setup_screens import reference_save, setup_screens

    with pytest.raises(PermissionDenied):
        reference_save(screen=setup_screens.get("lost-reasons"), by=make_user(Role.LEADER),
                       instance=None, data={"code": "x", "name": "x"})
    assert not LostReason.objects.filter(code="x").exists()
