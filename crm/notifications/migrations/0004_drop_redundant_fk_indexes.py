"""Drop three foreign-key indexes that duplicate the leading column of another index (see the
fields' comments): each was one more index write for every reminder and delivery row the scan
and the delivery write. Only the indexes go; Django would otherwise drop and re-validate each
foreign-key constraint on the whole table to do it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = [  # (name, table, column), as Django named them in 0001
    ("notifications_delivery_reminder_id_ae4e84ea", "notifications_delivery", "reminder_id"),
    ("notifications_reminder_recipient_id_517ea2b6", "notifications_reminder", "recipient_id"),
    ("notifications_reminder_rule_id_59436d78", "notifications_reminder", "rule_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0003_https_url_fields"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"',
                                  reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")')
                for name, table, column in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="delivery", name="reminder",
                    field=models.ForeignKey(db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="deliveries",
                                            to="notifications.reminder"),
                ),
                migrations.AlterField(
                    model_name="reminder", name="recipient",
                    field=models.ForeignKey(db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="reminders",
                                            to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name="reminder", name="rule",
                    field=models.ForeignKey(db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="reminders",
                                            to="notifications.reminderrule"),
                ),
            ],
        ),
    ]
