"""Create the five role groups, so a fresh install has them before anyone seeds demo data.
Their permissions are synced after every migrate from what each app declares (roles.py)."""

from django.db import migrations

ROLE_NAMES = ["investment_staff", "park_manager", "leader", "fund_reviewer", "administrator"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
