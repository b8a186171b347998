"""Hardening of the delivery channels: the webhook URL policy as the field's validator
(crm/notifications/webhooks.py), an idempotency key per delivery, and the confidential flag a
reminder's evaluator gives."""

import uuid

from django.db import migrations, models

import crm.core.fields
import crm.notifications.webhooks


def fresh_keys(apps, schema_editor):
    """AddField gives every existing row the same default uuid; each needs its own."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("UPDATE notifications_delivery SET key = gen_random_uuid()")
        return
    Delivery = apps.get_model("notifications", "Delivery")
    for pk in Delivery.objects.values_list("pk", flat=True).iterator():
        Delivery.objects.filter(pk=pk).update(key=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0004_drop_redundant_fk_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="key",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.RunPython(fresh_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddField(
            model_name="reminder",
            name="confidential",
            field=models.BooleanField(default=False, verbose_name="confidential"),
        ),
        migrations.AlterField(
            model_name="preference",
            name="webhook_url",
            field=crm.core.fields.HttpsURLField(
                blank=True, help_text="The https:// address of a WeCom or DingTalk group robot.",
                max_length=500, validators=[crm.notifications.webhooks.validate_webhook_url],
                verbose_name="robot webhook URL"),
        ),
    ]
