import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crm.core import backups


class Command(BaseCommand):
    help = ("Restore an archive written by `backup` into PostgreSQL and MEDIA_ROOT, then verify "
            "every table's row count and every document's checksum against its manifest.")
    # The target may be empty or at another migration state: no check may touch it first.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="a crm-YYYYmmdd-HHMMSS.tar")
        parser.add_argument(
            "--database-url", default=None,
            help="target database (default: $RESTORE_DATABASE_URL, else DATABASE_URL). Prefer "
                 "the environment variable: a password on a command line shows in ps.")
        parser.add_argument("--media-root", type=Path, default=None,
                            help="where the documents go (default: $RESTORE_MEDIA_ROOT, else "
                                 "MEDIA_ROOT)")
        parser.add_argument("--force", action="store_true",
                            help="overwrite a database that is not empty, and differing documents")

    def handle(self, *args, archive: Path, database_url: str | None, media_root: Path | None,
               force: bool, **options):
        url = database_url or os.environ.get("RESTORE_DATABASE_URL")
        media_root = media_root or os.environ.get("RESTORE_MEDIA_ROOT") or settings.MEDIA_ROOT
        try:
            database = (backups.Database.from_url(url) if url else
                        backups.Database.from_settings(settings.DATABASES["default"]))
            result = backups.backup_restore(archive=archive, database=database,
                                            media_root=Path(media_root), force=force,
                                            work_dir=Path(settings.VAR_DIR),
                                            log=self.stdout.write)
        except backups.BackupError as error:
            raise CommandError(str(error))
        for note in result.notes:
            self.stdout.write(self.style.WARNING(note))
        self.stdout.write(self.style.SUCCESS(
            _("Restored %(archive)s into %(db)s and %(root)s: %(tables)s tables, %(rows)s rows "
              "and %(documents)s documents, every one matching the manifest.")
            % {"archive": archive, "db": result.database, "root": media_root,
               "tables": result.tables, "rows": result.rows, "documents": result.documents}))
