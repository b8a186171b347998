from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from crm.core import backups


class Command(BaseCommand):
    help = ("Back up the PostgreSQL database (pg_dump custom format) and the uploaded "
            "documents into one verifiable archive, var/backups/crm-YYYYmmdd-HHMMSS.tar "
            "(crm/core/backups.py).")
    # A backup must run even when an unrelated system check fails.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--dir", dest="directory", type=Path, default=None,
                            help="where to write the archive (default: var/backups)")

    def handle(self, *args, directory: Path | None, **options):
        try:
            result = backups.backup_create(
                database=backups.Database.from_settings(settings.DATABASES["default"]),
                media_root=Path(settings.MEDIA_ROOT),
                directory=directory or Path(settings.VAR_DIR) / "backups",
                log=self.stdout.write)
        except backups.BackupError as error:
            raise CommandError(str(error))
        self.stdout.write(self.style.SUCCESS(
            _("Backup written: %(path)s (%(size)s; %(tables)s tables, %(rows)s rows, "
              "%(documents)s documents)")
            % {"path": result.path, "size": filesizeformat(result.size), "tables": result.tables,
               "rows": result.rows, "documents": result.documents}))
