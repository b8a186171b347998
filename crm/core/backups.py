"""Backups of a PostgreSQL installation: the database and the uploaded documents in one file
that can check itself, and the restore that checks it (`make backup`, `make restore`).

One archive per run, `crm-YYYYmmdd-HHMMSS.tar` (office time), an uncompressed tar holding

    database.pgdump   `pg_dump --format=custom`; restorable on its own with pg_restore
    media/<path>      every file under MEDIA_ROOT, byte for byte, at its path
    manifest.json     what a restore verifies against (written last, see `_manifest`)

Why one file and not a directory of two: a backup is then one object to copy off the machine,
rotate by age and delete; it cannot be half-copied or lose its manifest on the way; and it
appears under its final name by a single rename only once complete, so cron jobs, rsync and
retention scripts never see a partial one (they ignore the hidden `.crm-*.partial`). Why a plain
tar: the custom-format dump is compressed already and office documents (PDF, docx, xlsx, jpg)
are too, so gzip would spend CPU for almost nothing, and `tar tf` / `tar xf ... media/<path>`
lists it or pulls one document out by hand on any server. The documents are members of the
archive rather than a tar inside the tar for that same reason.

Consistency. The row counts in the manifest are taken in the very snapshot pg_dump dumps
(`pg_export_snapshot()` handed to `pg_dump --snapshot`), so they describe the dump exactly even
while the office keeps working; the counting transaction also holds the tables' share locks
until pg_dump is done, so no migration can change them half-way. The documents are read after
the dump: a document's file is written before its row commits, so every file the dump refers
to exists by then (one uploaded during the backup may be archived without its row: harmless).

Secrets. Connection settings reach pg_dump and pg_restore as libpq environment variables
(PGPASSWORD, ...), never on a command line that `ps` or make's echo would show, and no message
carries the password. The archive holds personal data and password hashes: it is created 0600
in a directory created 0700.

Restore order: refuse a non-empty target (unless forced), verify every byte of the archive
against the manifest before touching anything (a damaged or altered archive restores nothing),
pg_restore in one transaction (a failure leaves the target as it was), write the documents
(each to a temporary name, then renamed), and finally compare the restored database and files
with the manifest: every table's row count and every document's checksum.
"""

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import dj_database_url
import psycopg2
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2 import sql

from crm.core.figures import figures_changed

FORMAT = 1  # manifest["format"]; a restore refuses an archive whose format it does not know
KIND = "crm-backup"
MANIFEST_NAME = "manifest.json"
DUMP_NAME = "database.pgdump"
MEDIA_PREFIX = "media/"
CHUNK = 1024 * 1024
# OPTIONS keys of a Django PostgreSQL DATABASES entry that mean the same to libpq's tools.
LIBPQ_OPTIONS = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                 "sslkey": "PGSSLKEY", "sslcrl": "PGSSLCRL",
                 "connect_timeout": "PGCONNECT_TIMEOUT"}
# Every ordinary and partitioned table outside the system schemas, except those an extension
# owns (CREATE EXTENSION recreates them; pg_dump does not dump their rows).
TABLES_SQL = """
    SELECT n.nspname, c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e')
     ORDER BY 1, 2
"""


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


class VerificationError(BackupError):
    """The archive, or what was restored from it, differs from the manifest."""

    def __init__(self, heading: str, differences: list[str]):
        self.differences = differences
        super().__init__("\n".join([heading, *(f"  - {line}" for line in differences)]))


def _quiet(message: str) -> None:
    pass


# --- Where the database is ---------------------------------------------------------------------
@dataclass(frozen=True)
class Database:
    """Connection settings of one PostgreSQL database. str() is safe to print: no password."""

    name: str
    user: str = ""
    password: str = field(default="", repr=False)
    host: str = ""
    port: str = ""
    options: tuple[tuple[str, str], ...] = ()  # libpq keywords from LIBPQ_OPTIONS

    @classmethod
    def from_settings(cls, entry: dict) -> "Database":
        engine = entry.get("ENGINE", "")
        if engine.endswith("sqlite3"):
            raise BackupError(_("backups are for PostgreSQL; the SQLite demo is a file under "
                                "var/"))
        if "postgresql" not in engine and "postgis" not in engine:
            raise BackupError(_("backups are for PostgreSQL; this database uses %(engine)s.")
                              % {"engine": engine})
        options = tuple((key, str(value)) for key, value in (entry.get("OPTIONS") or {}).items()
                        if key in LIBPQ_OPTIONS)
        return cls(name=entry["NAME"], user=entry.get("USER") or "",
                   password=entry.get("PASSWORD") or "", host=entry.get("HOST") or "",
                   port=str(entry.get("PORT") or ""), options=options)

    @classmethod
    def from_url(cls, url: str) -> "Database":
        try:
            entry = dj_database_url.parse(url)
        except Exception:  # noqa: BLE001 - its message may quote the URL, password and all
            raise BackupError(_("The restore database URL is not a database URL (expected "
                                "postgres://user@host:5432/name)."))
        return cls.from_settings(entry)

    def __str__(self) -> str:
        where = self.host or "local socket"
        return f"{self.name} ({where}{':' + self.port if self.port else ''})"

    def tool_env(self, application: str) -> dict[str, str]:
        """The environment for pg_dump/pg_restore. Unset settings fall back to libpq's own
        environment variables, exactly as Django's connection (also libpq) does."""
        env = dict(os.environ, PGDATABASE=self.name, PGAPPNAME=application)
        for key, value in (("PGUSER", self.user), ("PGPASSWORD", self.password),
                           ("PGHOST", self.host), ("PGPORT", self.port)):
            if value:
                env[key] = value
        env.update({LIBPQ_OPTIONS[key]: value for key, value in self.options})
        return env

    def connect(self, application: str):
        params = {"dbname": self.name, "user": self.user, "password": self.password,
                  "host": self.host, "port": self.port, **dict(self.options)}
        try:
            return psycopg2.connect(application_name=application,
                                    **{key: value for key, value in params.items() if value})
        except psycopg2.Error as error:
            raise BackupError(_("Cannot connect to the database %(db)s: %(error)s")
                              % {"db": self, "error": self.scrub(str(error).strip())})

    def scrub(self, text: str) -> str:
        """Outside messages (libpq, pg_dump) never print the password; this makes sure."""
        return text.replace(self.password, "***") if self.password else text

    @property
    def dbname_arg(self) -> str:
        # As a conninfo string, so no database name is ever taken for an option or a conninfo;
        # host, port and user still come from tool_env().
        escaped = self.name.replace("\\", "\\\\").replace("'", "\\'")
        return f"--dbname=dbname='{escaped}'"


def _tool(name: str) -> str:
    bindir = os.environ.get("PG_BINDIR")
    path = str(Path(bindir) / name) if bindir else shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        raise BackupError(_("%(tool)s was not found: install the PostgreSQL client tools of the "
                            "server's major version (Debian: postgresql-client), or set "
                            "PG_BINDIR to their directory.") % {"tool": name})
    return path


def _run_tool(database: Database, name: str, *args: str, application: str) -> str:
    done = subprocess.run([_tool(name), "--no-password", *args], capture_output=True, text=True,
                          env=database.tool_env(application))
    if done.returncode != 0:
        raise BackupError(_("%(tool)s failed on %(db)s: %(error)s")
                          % {"tool": name, "db": database,
                             "error": database.scrub(done.stderr.strip()[-3000:])})
    return done.stdout


def _table_names(cursor) -> list[tuple[str, str]]:
    cursor.execute(TABLES_SQL)
    return cursor.fetchall()


def _table_counts(cursor) -> dict[str, int]:
    counts = {}
    for schema, table in _table_names(cursor):
        cursor.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema),
                                                                    sql.Identifier(table)))
        counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


# --- Files -------------------------------------------------------------------------------------
class _Hashing:
    """A reader that hashes what passes through it (tarfile pulls the bytes)."""

    def __init__(self, source):
        self.source = source
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _sha256_stream(source, sink=None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest(), size


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as source:
        return _sha256_stream(source)[0]


def _media_files(root: Path, *, exclude: list[Path]) -> Iterator[tuple[str, Path]]:
    """(path relative to MEDIA_ROOT, file) for every regular file under it, sorted. Symlinked
    directories and files are followed (an office may keep its documents on another disk and
    link them in); each directory is walked once, so a link loop ends."""
    if not root.is_dir():
        return
    excluded = {path.resolve() for path in exclude}
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        stat = os.stat(dirpath)
        if (stat.st_dev, stat.st_ino) in seen or Path(dirpath).resolve() in excluded:
            dirnames[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        dirnames.sort()
        for filename in sorted(filenames):
            path = Path(dirpath, filename)
            if path.is_file():  # follows a link; sockets, fifos and dangling links are skipped
                yield path.relative_to(root).as_posix(), path


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> dict:
    with open(path, "rb") as source:
        size = os.fstat(source.fileno()).st_size
        info = tarfile.TarInfo(arcname)
        info.size, info.mtime, info.mode = size, int(os.fstat(source.fileno()).st_mtime), 0o600
        reader = _Hashing(source)
        try:
            tar.addfile(info, reader)
        except OSError as error:  # tarfile: "unexpected end of data" when the file shrank
            raise BackupError(_("%(name)s changed while it was being backed up (%(error)s); run "
                                "the backup again.") % {"name": path, "error": error})
    return {"sha256": reader.digest.hexdigest(), "size": size}


def _safe_relative(name: str) -> bool:
    path = PurePosixPath(name)
    return (bool(name) and "\x00" not in name and not path.is_absolute()
            and all(part not in ("", ".", "..") for part in name.split("/")))


# --- Backup ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    tables: int
    rows: int
    documents: int


def _free_name(directory: Path, stem: str) -> Path:
    for n in range(1, 100):
        name = f"{stem}.tar" if n == 1 else f"{stem}-{n}.tar"
        if not (directory / name).exists() and not (directory / f".{name}.partial").exists():
            return directory / name
    raise BackupError(_("Too many backups named %(stem)s in %(dir)s.")
                      % {"stem": stem, "dir": directory})


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _dump(database: Database, path: Path) -> dict:
    """pg_dump into `path`, and what the manifest says of the same snapshot."""
    connection = database.connect("crm-backup")
    try:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version'), "
                           "to_regclass('django_migrations') IS NOT NULL")
            snapshot, server_version, has_migrations = cursor.fetchone()
            tables = _table_counts(cursor)
            migrations: dict[str, list[str]] = {}
            if has_migrations:
                cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, id")
                for app, name in cursor.fetchall():
                    migrations.setdefault(app, []).append(name)
        # The snapshot lives as long as this transaction: it stays open until pg_dump is done.
        _run_tool(database, "pg_dump", "--format=custom", f"--snapshot={snapshot}",
                  f"--file={path}", database.dbname_arg, application="crm-backup")
    finally:
        with contextlib.suppress(psycopg2.Error):
            connection.rollback()
        connection.close()
    # --version must come alone (no --no-password), and needs no connection.
    version = subprocess.run([_tool("pg_dump"), "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    return {"tables": tables, "migrations": migrations, "server_version": server_version,
            "pg_dump": version}


def backup_create(*, database: Database, media_root: Path, directory: Path,
                  log: Callable[[str], None] = _quiet, now=None) -> BackupResult:
    """Write one archive (module docstring) into `directory` and return where it is.

    Written as a hidden `.crm-...tar.partial`, flushed to disk and only then renamed: the
    archive's final name exists only for a complete archive. Any failure removes the partial
    file and the temporary dump."""
    directory = Path(directory)
    media_root = Path(media_root)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = now or timezone.now()
    final = _free_name(directory, "crm-" + timezone.localtime(now).strftime("%Y%m%d-%H%M%S"))
    partial = directory / f".{final.name}.partial"
    # The dump waits beside the archive (same disk, which has room for the archive anyway)
    # rather than in /tmp, often a small tmpfs.
    work = Path(tempfile.mkdtemp(prefix=".crm-backup-", dir=directory))
    try:
        log(_("Dumping the database %(db)s…") % {"db": database})
        state = _dump(database, work / DUMP_NAME)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                dump = _add_file(tar, work / DUMP_NAME, DUMP_NAME)
                log(_("Adding the documents under %(root)s…") % {"root": media_root})
                media = {rel: _add_file(tar, path, MEDIA_PREFIX + rel) for rel, path
                         in _media_files(media_root, exclude=[directory, work])}
                manifest = _manifest(database=database, state=state, dump=dump, media=media,
                                     now=now)
                data = json.dumps(manifest, ensure_ascii=False, indent=1,
                                  sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST_NAME)
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, final)
        _fsync_directory(directory)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(path=final, size=final.stat().st_size, tables=len(state["tables"]),
                        rows=sum(state["tables"].values()), documents=len(media))


def _manifest(*, database: Database, state: dict, dump: dict, media: dict, now) -> dict:
    """What a restore checks itself against. Keys are stable (FORMAT); no secrets."""
    return {
        "format": FORMAT,
        "kind": KIND,
        "created_at": timezone.localtime(now).isoformat(),
        "database": {"name": database.name, "server_version": state["server_version"]},
        "pg_dump": state["pg_dump"],
        "dump": {"name": DUMP_NAME, **dump},
        # Applied Django migrations per app, in the order they were applied.
        "migrations": state["migrations"],
        # Rows per table ("schema.table"), counted in the snapshot pg_dump dumped.
        "tables": state["tables"],
        # sha256 and size per document, by its path under MEDIA_ROOT.
        "media": media,
    }


# --- Restore -----------------------------------------------------------------------------------
@dataclass
class RestoreResult:
    database: Database
    tables: int
    rows: int
    documents: int
    notes: list[str]


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict:
    try:
        member = tar.getmember(MANIFEST_NAME)
        manifest = json.load(tar.extractfile(member))
    except (KeyError, AttributeError, ValueError):
        raise BackupError(_("%(archive)s is not a CRM backup: it has no readable manifest.json.")
                          % {"archive": archive})
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise BackupError(_("%(archive)s is not a CRM backup.") % {"archive": archive})
    if manifest.get("format") != FORMAT:
        raise BackupError(_("%(archive)s was made by another version of the CRM (backup format "
                            "%(format)s); restore it with that version.")
                          % {"archive": archive, "format": manifest.get("format")})
    return manifest


def _media_target(media_root: Path, rel: str) -> Path:
    if not _safe_relative(rel):
        raise VerificationError(_("The archive does not match its manifest; nothing was "
                                  "restored:"), [_("unsafe document path %(path)r")
                                                 % {"path": rel}])
    return media_root / rel


def _media_conflicts(manifest: dict, media_root: Path) -> list[str]:
    """Documents the restore would overwrite with different bytes."""
    conflicts = []
    for rel, meta in sorted(manifest["media"].items()):
        target = _media_target(media_root, rel)
        if target.exists() and (not target.is_file()
                                or _sha256_file(target) != meta["sha256"]):
            conflicts.append(rel)
    return conflicts


def _verify_archive(tar: tarfile.TarFile, manifest: dict, dump_path: Path) -> list[str]:
    """Every member against the manifest; the dump is copied out to `dump_path` on the way."""
    problems = []
    members: dict[str, tarfile.TarInfo] = {}
    for member in tar.getmembers():
        if member.name in members:
            problems.append(_("%(name)s is in the archive twice") % {"name": member.name})
        members[member.name] = member
    expected = {MANIFEST_NAME, DUMP_NAME} | {MEDIA_PREFIX + rel for rel in manifest["media"]}
    problems += [_("%(name)s is in the archive but not in its manifest") % {"name": name}
                 for name in sorted(set(members) - expected)]
    problems += [_("%(name)s is in the manifest but missing from the archive") % {"name": name}
                 for name in sorted(expected - set(members) - {MANIFEST_NAME})]
    wanted = [(DUMP_NAME, manifest["dump"], _("the database dump"))] + [
        (MEDIA_PREFIX + rel, meta, _("document %(path)s") % {"path": rel})
        for rel, meta in sorted(manifest["media"].items())]
    for name, meta, label in wanted:
        member = members.get(name)
        if member is None:
            continue
        if not member.isfile():
            problems.append(_("%(what)s is not a regular file in the archive") % {"what": label})
            continue
        with contextlib.ExitStack() as stack:
            sink = stack.enter_context(open(dump_path, "wb")) if name == DUMP_NAME else None
            digest, size = _sha256_stream(tar.extractfile(member), sink)
        if digest != meta["sha256"] or size != meta["size"]:
            problems.append(_("%(what)s: its bytes differ from the manifest's checksum (the "
                              "archive was damaged or changed)") % {"what": label})
    return problems


def _write_media(tar: tarfile.TarFile, manifest: dict, media_root: Path) -> None:
    for rel, meta in sorted(manifest["media"].items()):
        target = _media_target(media_root, rel)
        if target.is_file() and _sha256_file(target) == meta["sha256"]:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        member = tar.getmember(MEDIA_PREFIX + rel)
        temporary = target.with_name(f".{target.name}.restoring")
        with open(temporary, "wb") as sink:
            _sha256_stream(tar.extractfile(member), sink)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, target)
        os.utime(target, (member.mtime, member.mtime))


def _verify_restored(manifest: dict, database: Database, media_root: Path
                     ) -> tuple[list[str], list[str]]:
    """(differences, notes): the restored rows and files against the manifest."""
    connection = database.connect("crm-restore")
    try:
        with connection.cursor() as cursor:
            counts = _table_counts(cursor)
    finally:
        connection.close()
    problems, notes = [], []
    for table, expected in sorted(manifest["tables"].items()):
        if table not in counts:
            problems.append(_("table %(table)s is missing after the restore") % {"table": table})
        elif counts[table] != expected:
            problems.append(_("table %(table)s has %(found)s rows; the backup has %(expected)s")
                            % {"table": table, "found": counts[table], "expected": expected})
    extra = sorted(set(counts) - set(manifest["tables"]))
    if extra:
        notes.append(_("Tables not in the backup were left in place: %(tables)s")
                     % {"tables": ", ".join(extra)})
    for rel, meta in sorted(manifest["media"].items()):
        target = media_root / rel
        if not target.is_file():
            problems.append(_("document %(path)s is missing after the restore") % {"path": rel})
        elif _sha256_file(target) != meta["sha256"]:
            problems.append(_("document %(path)s differs from the backup") % {"path": rel})
    return problems, notes


def _migration_notes(manifest: dict) -> list[str]:
    """How the backup's schema relates to this code's migrations (notes, not failures: the
    restore itself is fine either way, but the operator has a step to take)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    on_disk = set(loader.disk_migrations)
    known = on_disk | {tuple(replaced) for migration in loader.disk_migrations.values()
                       for replaced in migration.replaces}
    applied = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    # Django records a squashed migration by the names it replaces.
    applied |= {key for key, migration in loader.disk_migrations.items()
                if migration.replaces and all(tuple(r) in applied for r in migration.replaces)}
    notes = []
    unknown = sorted(f"{app}.{name}" for app, name in applied - known)
    if unknown:
        notes.append(_("The backup has migrations this code does not know (%(names)s): run the "
                       "version of the CRM that made it, or a newer one.")
                     % {"names": ", ".join(unknown)})
    newer = on_disk - applied
    if newer:
        notes.append(_("This code has %(count)s migrations the backup predates: run `make "
                       "migrate` before starting the CRM.") % {"count": len(newer)})
    return notes


def backup_restore(*, archive: Path, database: Database, media_root: Path, force: bool = False,
                   work_dir: Path | None = None,
                   log: Callable[[str], None] = _quiet) -> RestoreResult:
    """Restore `archive` into `database` and `media_root`, then prove it (module docstring).

    Refuses (BackupError) a database with any table, or documents the archive would overwrite
    with different bytes, unless `force`. Raises VerificationError naming every difference.
    Stop the web server, the worker and beat first: pg_restore needs the tables to itself."""
    archive, media_root = Path(archive), Path(media_root)
    if not archive.is_file():
        raise BackupError(_("No backup file at %(archive)s.") % {"archive": archive})
    try:
        tar = tarfile.open(archive, "r:")  # noqa: SIM115 - closed by the `with tar` below
    except (tarfile.TarError, OSError) as error:
        raise BackupError(_("%(archive)s is not a CRM backup (%(error)s).")
                          % {"archive": archive, "error": error})
    with tar:
        manifest = _read_manifest(tar, archive)
        connection = database.connect("crm-restore")
        try:
            with connection.cursor() as cursor:
                occupied = [f"{schema}.{table}" for schema, table in _table_names(cursor)]
        finally:
            connection.close()
        conflicts = _media_conflicts(manifest, media_root)
        if (occupied or conflicts) and not force:
            reasons = []
            if occupied:
                reasons.append(_("the database %(db)s is not empty (%(count)s tables, e.g. "
                                 "%(examples)s)") % {"db": database, "count": len(occupied),
                                                     "examples": ", ".join(occupied[:3])})
            if conflicts:
                reasons.append(_("%(count)s documents under %(root)s differ from the backup's "
                                 "(e.g. %(examples)s)")
                               % {"count": len(conflicts), "root": media_root,
                                  "examples": ", ".join(conflicts[:3])})
            raise BackupError(_("Refusing to restore: %(reasons)s. Restoring replaces them; if "
                                "that is what you want, run again with FORCE=1 (make restore) "
                                "or --force (manage.py restore).")
                              % {"reasons": "; ".join(reasons)})
        with tempfile.TemporaryDirectory(prefix=".crm-restore-", dir=work_dir) as work:
            dump = Path(work) / DUMP_NAME
            log(_("Checking %(archive)s against its manifest…") % {"archive": archive})
            problems = _verify_archive(tar, manifest, dump)
            if problems:
                raise VerificationError(_("The archive does not match its manifest; nothing "
                                          "was restored:"), problems)
            log(_("Restoring the database into %(db)s…") % {"db": database})
            # One transaction: a failed restore leaves the target as it was. --no-owner: the
            # restoring user owns what it creates (the roles of the backed-up server need not
            # exist here).
            _run_tool(database, "pg_restore", "--clean", "--if-exists", "--no-owner",
                      "--single-transaction", database.dbname_arg, str(dump),
                      application="crm-restore")
        log(_("Writing the documents into %(root)s…") % {"root": media_root})
        _write_media(tar, manifest, media_root)
    problems, notes = _verify_restored(manifest, database, media_root)
    # Cached dashboard figures are keyed by versions, not by content: without a bump, figures
    # computed before the restore would be shown for the restored data.
    figures_changed()
    if problems:
        raise VerificationError(_("The restore does not match the backup's manifest:"),
                                problems)
    return RestoreResult(database=database, tables=len(manifest["tables"]),
                         rows=sum(manifest["tables"].values()),
                         documents=len(manifest["media"]),
                         notes=notes + _migration_notes(manifest))
