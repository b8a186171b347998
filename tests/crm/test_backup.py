"""`make backup` / `make restore` (crm/core/backups.py, issue "Hardening" item 14).

A small world with uploaded documents is backed up through the `backup` command, restored
through the `restore` command into a fresh PostgreSQL database and an empty media directory,
and then compared with the source independently of the manifest: every table's rows (the rows
themselves, not only their counts) and every document's bytes. The refusals are tested too: a
non-empty target and an altered archive restore nothing."""

import datetime
import hashlib
import io
import tarfile
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation
from psycopg2 import sql

from crm.accounts.roles import Role
from crm.core import backups
from funds.services import application_create, document_add
from leads.models import FollowUp
from leads.services import followup_create
from tests.factories import CompanyFactory, make_programme, make_project

pytestmark = pytest.mark.django_db(transaction=True)


def _connect(name: str):
    settings = connection.settings_dict
    params = {"dbname": name, "user": settings.get("USER"), "password": settings.get("PASSWORD"),
              "host": settings.get("HOST"), "port": settings.get("PORT")}
    return psycopg2.connect(**{key: value for key, value in params.items() if value})


def _rows_by_table(name: str) -> dict[str, list[tuple]]:
    """Every row of every table, sorted, read straight from PostgreSQL."""
    conn = _connect(name)
    try:
        with conn.cursor() as cursor:
            cursor.execute(backups.TABLES_SQL)
            tables = cursor.fetchall()
            result = {}
            for schema, table in tables:
                cursor.execute(sql.SQL("SELECT * FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)))
                result[f"{schema}.{table}"] = sorted(cursor.fetchall(), key=repr)
            return result
    finally:
        conn.close()


@pytest.fixture
def fresh_database():
    name = f"crm_restore_{uuid.uuid4().hex[:10]}"
    admin = _connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
    admin.close()


@pytest.fixture
def world(make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    owner = make_user(Role.INVESTMENT_STAFF)
    company = CompanyFactory(name="备份测试精密制造有限公司")
    project = make_project(owner=owner, company=company, name="备份测试总部项目",
                           confidential=True)
    followup_create(project=project, by=owner, date=datetime.date.today(),
                    kind=FollowUp.Kind.VISIT, summary="实地考察厂房")
    application = application_create(by=owner, programme=make_programme(), company=company,
                                      project=project, requested_amount=Decimal("1234.56"),
                                      title="设备购置补贴")
    documents = [
        document_add(application=application, by=owner, name="营业执照",
                     file=ContentFile(b"%PDF-1.4 licence " * 400, name="licence.pdf")),
        document_add(application=application, by=owner, name="申请书",
                     file=ContentFile(b"%PDF-1.4 " + "申请书正文".encode() * 300,
                                      name="申请书.pdf")),
    ]
    return {"documents": documents, "media_root": Path(settings.MEDIA_ROOT)}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_restore_into_a_fresh_database_finds_every_row_and_document(world, fresh_database,
                                                                    tmp_path, monkeypatch):
    call_command("backup", directory=tmp_path / "backups")
    (archive,) = (tmp_path / "backups").glob("crm-*.tar")
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data: owner only

    restored_media = tmp_path / "restored-media"
    monkeypatch.setenv("RESTORE_MEDIA_ROOT", str(restored_media))
    call_command("restore", str(archive), database_url=_url(fresh_database))

    source, copy = _rows_by_table(connection.settings_dict["NAME"]), _rows_by_table(fresh_database)
    assert set(copy) == set(source)
    for table, rows in source.items():
        assert copy[table] == rows, table
    assert source["public.funds_application"] and source["public.leads_project"]
    for document in world["documents"]:
        original = world["media_root"] / document.file.name
        restored = restored_media / document.file.name
        assert restored.is_file(), document.file.name
        assert _digest(restored) == _digest(original)


def _url(name: str) -> str:
    settings = connection.settings_dict
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{settings.get('USER') or ''}@{host}:{port}/{name}"


def test_restore_refuses_a_database_that_is_not_empty(world, tmp_path):
    call_command("backup", directory=tmp_path / "backups")
    (archive,) = (tmp_path / "backups").glob("crm-*.tar")
    with translation.override("en"), pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive), database_url=_url(connection.settings_dict["NAME"]),
                     media_root=tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()


def test_an_altered_archive_restores_nothing(world, fresh_database, tmp_path):
    call_command("backup", directory=tmp_path / "backups")
    (archive,) = (tmp_path / "backups").glob("crm-*.tar")
    # Rewrite the archive with one document's bytes changed and the manifest kept.
    altered = tmp_path / "altered.tar"
    with tarfile.open(archive) as source, tarfile.open(altered, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith(backups.MEDIA_PREFIX) and member.name.endswith(".pdf"):
                data = data[:-1] + b"!"
            target.addfile(member, fileobj=io.BytesIO(data))
    with translation.override("en"), pytest.raises(CommandError,
                                                   match="does not match its manifest"):
        call_command("restore", str(altered), database_url=_url(fresh_database),
                     media_root=tmp_path / "restored-media")
    assert _rows_by_table(fresh_database) == {}  # not one table created
    assert not any((tmp_path / "restored-media").rglob("*.pdf"))
