"""The database guarantee behind "never double-book": no two ACTIVE assignments of one unit
whose [start, end) periods overlap (a NULL end is open-ended, as for a sale).

PostgreSQL only (btree_gist + an exclusion constraint). It is written as SQL rather than in
Model.Meta so the same migrations run on the SQLite demo database, where the service
serialises bookings instead (an IMMEDIATE transaction takes the write lock up front).
"""

from django.db import migrations

CONSTRAINT = "assignment_no_overlap_active"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"""
        ALTER TABLE parks_assignment ADD CONSTRAINT {CONSTRAINT}
        EXCLUDE USING gist (unit_id WITH =, daterange(start, "end", '[)') WITH &&)
        WHERE (status = 'active')
        """
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE parks_assignment DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("parks", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
