"""An installation upgraded to the organisation keeps working: when people already exist, one
default unit is made and every person belongs to it, with the data scope their role had before
units (investment staff their own and collaborating projects; everyone else everything the
role allows). Their projects land in it too (leads 0015). A fresh installation gets none: an
administrator builds the tree on /setup/org-units/, or the demo does."""

from django.db import migrations

STAFF = "investment_staff"


def load(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    OrgUnit = apps.get_model("org", "OrgUnit")
    Membership = apps.get_model("org", "Membership")
    if not User.objects.exists() or OrgUnit.objects.exists():
        return
    unit = OrgUnit.objects.create(code="default", name="本单位", name_en="Our organisation",
                                  kind="city", order=0)
    unit.path = f"/{unit.pk}/"
    unit.save(update_fields=["path"])
    for user in User.objects.all():
        staff = user.groups.filter(name=STAFF).exists() and not user.is_superuser
        Membership.objects.create(user=user, unit=unit, role="member",
                                  scope="own" if staff else "all")


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial"), ("accounts", "0002_create_role_groups")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
