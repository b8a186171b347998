"""The fulfilment reminders of issue 14, as rules administrators tune (notifications 0002 holds
the others): milestones due in 30 and 7 days and overdue, actuals 15 days late, a breach."""

from django.db import migrations

RULES = [
    # code, name, kind, days, severity, recipients
    ("milestone-due-30d", "履约节点30天内到期", "fulfilment.milestone_due", 30, "info", "owner"),
    ("milestone-due-7d", "履约节点7天内到期", "fulfilment.milestone_due", 7, "yellow", "owner"),
    ("milestone-overdue", "履约节点逾期（红灯，报领导）", "fulfilment.milestone_overdue", 0, "red",
     "owner_leaders"),
    ("actuals-missing-15d", "履约数据期满15天未报", "fulfilment.actuals_missing", 15, "yellow",
     "owner"),
    ("obligation-breached", "协议违约（报领导）", "fulfilment.breached", 0, "red",
     "owner_leaders"),
]


def load(apps, schema_editor):
    ReminderRule = apps.get_model("notifications", "ReminderRule")
    for code, name, kind, days, severity, recipients in RULES:
        ReminderRule.objects.get_or_create(code=code, defaults={
            "name": name, "kind": kind, "days": days, "severity": severity,
            "recipients": recipients})


def unload(apps, schema_editor):
    ReminderRule = apps.get_model("notifications", "ReminderRule")
    ReminderRule.objects.filter(code__in=[row[0] for row in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0004_fulfilment"),
        ("notifications", "0002_default_rules"),
    ]

    operations = [migrations.RunPython(load, unload)]
