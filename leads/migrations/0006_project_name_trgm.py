"""A pg_trgm GIN index on the project name, for ProjectQuerySet.search (the project list's
`q`, the lookups and the API), as company_name_trgm serves the company half of it. A rare word
searched over 200,000 projects otherwise scans them all (0.2-0.5 s at scale 100). PostgreSQL
only, like 0005: the SQLite demo runs the same migrations without it."""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

TRIGRAM_INDEX = GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="project_name_trgm")


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("leads", "Project"), TRIGRAM_INDEX)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX.name}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_company_search_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="project", index=TRIGRAM_INDEX)],
            database_operations=[migrations.RunPython(create_trigram_index, drop_trigram_index)],
        ),
    ]
