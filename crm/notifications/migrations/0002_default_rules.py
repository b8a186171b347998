"""The default reminder rules of DOMAIN.md, as data. Administrators change thresholds,
severities and recipients, or switch rules off, in the admin; a change applies at the next
scan. The `kind` names a check registered by an app (leads, parks, funds) or by this app."""

from django.db import migrations

DEFAULT_RULES = [
    # code, name, kind, days, severity, recipients
    ("new-lead-3d", "新线索3天未研判", "leads.new_lead_unassessed", 3, "yellow", "owner"),
    ("next-step-due", "下一步计划到期", "leads.next_step_due", 0, "yellow", "owner"),
    ("no-contact-14d", "14天未联系（黄灯）", "leads.no_contact", 14, "yellow", "owner"),
    ("no-contact-30d", "30天未联系（红灯，报领导）", "leads.no_contact", 30, "red",
     "owner_leaders"),
    ("signed-not-started", "已签约逾期未开工（红灯）", "leads.signed_not_started", 0, "red",
     "owner_leaders"),
    ("hold-ending-3d", "预留3天内到期", "parks.hold_ending", 3, "yellow", "park_managers"),
    ("lease-ending-90d", "租约90天内到期", "parks.lease_ending", 90, "info", "park_managers"),
    ("lease-ending-30d", "租约30天内到期", "parks.lease_ending", 30, "yellow", "park_managers"),
    ("review-waiting-5wd", "申报待审超过5个工作日", "funds.review_waiting", 5, "yellow",
     "reviewers"),
    ("daily-digest", "每日待办汇总", "digest.daily", 0, "info", "self"),
    ("weekly-pipeline", "每周项目进展周报（领导）", "leads.weekly_pipeline", 0, "info", "leaders"),
]


def load(apps, schema_editor):
    ReminderRule = apps.get_model("notifications", "ReminderRule")
    for code, name, kind, days, severity, recipients in DEFAULT_RULES:
        ReminderRule.objects.get_or_create(code=code, defaults={
            "name": name, "kind": kind, "days": days, "severity": severity,
            "recipients": recipients})


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
