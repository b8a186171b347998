"""Indexes for the company search (CompanyQuerySet.search: name contains, pinyin-initials prefix,
USCC exact) and the company list's order (issue 8, 100k companies).

- company_name_id (name, id): the list's ORDER BY name, id walked in order, so a page (and a
  keyset cursor) stops after its rows instead of sorting every match.
- company_initials_prefix: name_initials with varchar_pattern_ops, so LIKE 'szhtyx%' is an
  index range under any collation (a default btree serves LIKE only under the C collation; it
  replaces the plain index, which served nothing the new one does not).
- company_name_trgm: a pg_trgm GIN index on name, so a contains search of three characters or
  more ("元宇宙") reads the few matching rows instead of scanning 100k. It serves LIKE (how
  CompanyFilter searches Chinese, which has no case) and case-insensitive regex (Latin names);
  pg_trgm folds case itself. pg_trgm does extract trigrams from Chinese text (checked under
  C.UTF-8: show_trgm('元宇宙') gives four). A two-character search ("科技") has no trigram; the
  planner then walks company_name_id, which finds common words quickly.

PostgreSQL only for the trigram index (extension + GIN): written as a state operation plus SQL
run on PostgreSQL, so the same migrations run on the SQLite demo, as parks 0002 does.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations, models

TRIGRAM_INDEX = GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="company_name_trgm")


def create_extension(apps, schema_editor):
    # Needs the right to create extensions: the database owner will do on PostgreSQL 13+, as
    # pg_trgm is a trusted extension. (Django's TrigramExtension is not used: undoing it
    # queries pg_extension even on SQLite.)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def drop_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP EXTENSION IF EXISTS pg_trgm")


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("leads", "Company"), TRIGRAM_INDEX)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX.name}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0004_project_entered_reached")]

    operations = [
        migrations.RunPython(create_extension, drop_extension),
        migrations.RemoveIndex(model_name="company", name="leads_compa_name_in_5c9f71_idx"),
        migrations.AddIndex(
            model_name="company",
            index=models.Index(fields=["name_initials"], opclasses=["varchar_pattern_ops"],
                               name="company_initials_prefix"),
        ),
        migrations.AddIndex(
            model_name="company",
            index=models.Index(fields=["name", "id"], name="company_name_id"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="company", index=TRIGRAM_INDEX)],
            database_operations=[migrations.RunPython(create_trigram_index, drop_trigram_index)],
        ),
    ]
