"""Existing projects land in the default unit org 0002 made (when it made one)."""

from django.db import migrations


def place(apps, schema_editor):
    OrgUnit = apps.get_model("org", "OrgUnit")
    Project = apps.get_model("leads", "Project")
    unit = OrgUnit.objects.filter(code="default").first()
    if unit is not None:
        Project.objects.filter(unit__isnull=True).update(unit=unit)


class Migration(migrations.Migration):
    dependencies = [("leads", "0014_project_unit_team"), ("org", "0002_default_unit")]

    operations = [migrations.RunPython(place, migrations.RunPython.noop)]
