"""Spreadsheets built to kill a worker are refused quickly, in little memory, with a message
that names the limit, and their job ends INVALID (never stuck "checking"); a job whose
worker died anyway is marked FAILED by the sweep.

Reproduced before the limits: a 1.5 KB .xlsx with cells at A1 and XFD1048576 aborted a
gunicorn worker and its job stayed "validating"; A1 plus CV300000 cost 1 GB and 18 s; a 4 MB
.xlsx unpacking to 1.2 GB grew a worker past 6 GB. The files are written here by hand
(zipfile) or with openpyxl, never stored in the repository.
"""

import csv
import io
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook

from crm.accounts.roles import Role
from crm.core.schedule import beat_schedule
from leads.imports import import_commit, import_job_create, import_jobs_sweep
from leads.imports.progress import publish
from leads.models import ImportJob
from leads.services import company_create
from tests.factories import make_project, valid_uscc

ROOT = Path(__file__).resolve().parents[2]
# A guard, not a benchmark: each refusal below takes some 0.1 s; before the limits, the same
# files took 18 s or killed the process.
REFUSED_WITHIN_SECONDS = 2.0
MEMORY_GROWTH_LIMIT_BYTES = 100 * 1024 * 1024
DEFAULT_UNPACKED_LIMIT = 256 * 1024 * 1024  # leads.imports.reading.MAX_UNPACKED_BYTES

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_RELS}">'
        f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
        '<sheets><sheet name="企业" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_RELS}">'
        f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        '</Relationships>'),
}


def sheet_xml(cells: str, *, dimension: str | None) -> bytes:
    head = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{head}'
            f'<sheetData>{cells}</sheetData></worksheet>').encode()


def handmade_xlsx(sheet: bytes | None = None, *, repeat: tuple[bytes, int] | None = None,
                  extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal workbook whose first sheet is `sheet`, or `repeat` = (piece, unpacked bytes):
    a sheet of one piece written over and over (a zip bomb), streamed into the zip; with the
    `extra` parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**PARTS, **(extra or {})}.items():
            archive.writestr(name, text)
        if repeat is None:
            archive.writestr("xl/worksheets/sheet1.xml", sheet)
        else:
            piece, size = repeat
            block = piece * (1024 * 1024 // len(piece))
            with archive.open("xl/worksheets/sheet1.xml", "w") as part:
                part.write(sheet_xml("", dimension="A1:A1").split(b"<sheetData>")[0]
                           + b'<sheetData><row r="1">')
                written = 0
                while written < size:
                    part.write(block)
                    written += len(block)
                part.write(b"</row></sheetData></worksheet>")
    return buffer.getvalue()


def understated(content: bytes, member: str, declared: int) -> bytes:
    """The zip with `member`'s unpacked size rewritten as `declared` in both of its headers,
    as a bomb would lie to pass a check of the zip's directory."""
    data = bytearray(content)
    name = member.encode()
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        if data[local + 30:local + 30 + len(name)] == name:
            struct.pack_into("<I", data, local + 22, declared)
            break
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        if data[central + 46:central + 46 + len(name)] == name:
            struct.pack_into("<I", data, central + 24, declared)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def openpyxl_xlsx(cells: dict[str, str]) -> bytes:
    book = Workbook()
    for ref, value in cells.items():
        book.active[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_file(rows: list[list]) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode("utf-8-sig")


TWO_CELLS_FAR_APART = ('<row r="1"><c r="A1" t="inlineStr"><is><t>企业名称</t></is></c></row>'
                       '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
LYING_DIMENSION = ('<row r="1"><c r="A1" t="inlineStr"><is><t>企业名称</t></is></c></row>'
                   '<row r="300000"><c r="CV300000"><v>1</v></c></row>')
NO_REFERENCES = ('<row><c t="inlineStr"><is><t>企业名称</t></is></c>'
                 + '<c><v>1</v></c>' * 69 + '</row>')


@pytest.fixture(scope="module")
def bomb() -> bytes:
    # Unpacks to more than the default limit (256 MB), compresses to some 700 KB.
    return handmade_xlsx(repeat=(b'<c t="s"><v>0</v></c>', DEFAULT_UNPACKED_LIMIT + 2 ** 20))


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # Every dry run in the request, whatever the file's size (the worker runs the same code;
    # what the upload itself refuses is refused before either).
    settings.LEADS_IMPORT_ASYNC_THRESHOLD_BYTES = 10**9
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    with translation.override("en"):
        yield


def upload(client, user, name: str, content: bytes) -> tuple[ImportJob, float, str]:
    """Upload through the page, as a user does; the job, the seconds it took, the page."""
    started = time.monotonic()
    response = client.post(reverse("leads:import-start"), {
        "kind": "companies", "on_duplicate": "skip", "file": SimpleUploadedFile(name, content)})
    elapsed = time.monotonic() - started
    assert response.status_code == 302, response.content[:500]
    job = ImportJob.objects.filter(uploaded_by=user).latest("pk")
    page = client.get(response["Location"]).content.decode()
    return job, elapsed, page


def only_error(job: ImportJob) -> str:
    errors = [p for p in job.errors if p["level"] == "error"]
    assert len(errors) == 1, job.errors
    return errors[0]["message"].replace("\xa0", " ")  # filesizeformat's non-breaking space


# --- .xlsx ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, content, words", [
    ("far.xlsx", lambda: handmade_xlsx(sheet_xml(TWO_CELLS_FAR_APART,
                                                 dimension="A1:XFD1048576")),
     ["declares the range A1:XFD1048576", "at most 60 columns and 100,000 rows of data"]),
    ("cv.xlsx", lambda: openpyxl_xlsx({"A1": "企业名称", "CV300000": "x"}),
     ["declares the range A1:CV300000", "at most 60 columns and 100,000 rows of data"]),
    # The range a sheet declares can lie; its cells cannot.
    ("lying.xlsx", lambda: handmade_xlsx(sheet_xml(LYING_DIMENSION, dimension="A1:B2")),
     ["has a cell at CV300000", "at most 60 columns and 100,000 rows of data"]),
    ("no-refs.xlsx", lambda: handmade_xlsx(sheet_xml(NO_REFERENCES, dimension=None)),
     ["has a cell at BI1", "at most 60 columns"]),
    ("bomb.xlsx", None, ["unpacks to", "beyond the limit of 256.0 MB"]),
    # calamine reads the shared strings whole: one of 3 MB is refused before it does.
    ("long-string.xlsx", lambda: handmade_xlsx(
        sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', dimension="A1"),
        extra={"xl/sharedStrings.xml": (f'<sst xmlns="{MAIN}"><si><t>'.encode()
                                        + os.urandom(1_500_000).hex().encode()
                                        + b"</t></si></sst>")}),
     ["A cell of the sheet holds more than 2,000 characters"]),
    ("liar.xlsx", lambda: understated(
        handmade_xlsx(repeat=(b'<c t="s"><v>0</v></c>', 40 * 2 ** 20)),
        "xl/worksheets/sheet1.xml", 4096),
     ["damaged", "unpacks to more than the file's own table of contents says"]),
])
def test_a_hostile_xlsx_is_refused_at_once_naming_the_limit(client_for, staff_user, bomb,
                                                            name, content, words):
    job, elapsed, page = upload(client_for(staff_user), staff_user, name,
                                bomb if content is None else content())

    assert job.status == ImportJob.Status.INVALID
    message = only_error(job)
    for word in words:
        assert word in message, message
    assert message in page.replace("&#x27;", "'").replace("\xa0", " ")
    assert elapsed < REFUSED_WITHIN_SECONDS
    assert job.total_rows == 0
    assert import_commit(job=job).status == ImportJob.Status.INVALID  # nothing to commit


def test_the_limits_are_settings_and_a_file_within_them_goes_in(client_for, staff_user,
                                                                settings):
    rows = [["企业名称", "统一社会信用代码"]] + [[f"限额{n}科技有限公司", valid_uscc(n)]
                                          for n in range(1, 13)]
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    client = client_for(staff_user)

    settings.IMPORT_MAX_ROWS = 10
    job, _elapsed, _page = upload(client, staff_user, "rows.xlsx", buffer.getvalue())
    assert job.status == ImportJob.Status.INVALID
    assert "at most 60 columns and 10 rows of data" in only_error(job)
    job, _elapsed, _page = upload(client, staff_user, "rows.csv", csv_file(rows))
    assert job.status == ImportJob.Status.INVALID
    assert "more than 10 rows of data" in only_error(job)

    settings.IMPORT_MAX_ROWS = 12
    job, _elapsed, _page = upload(client, staff_user, "rows.xlsx", buffer.getvalue())
    assert job.status == ImportJob.Status.VALIDATED, job.errors
    assert import_commit(job=job).status == ImportJob.Status.DONE


# --- .csv -------------------------------------------------------------------------------------
def test_a_hostile_csv_is_refused_naming_the_limit(client_for, staff_user, settings):
    client = client_for(staff_user)
    cases = [
        # One endless line: refused after reading the limit's worth of it.
        ("line.csv", b"\xef\xbb\xbf" + "企业名称,".encode() + b"x" * 2_000_000,
         ["Line 1 is longer than 120,180 characters", "60 columns"]),
        ("wide.csv", csv_file([["企业名称"] + [f"列{n}" for n in range(70)],
                               ["宽表科技有限公司"] + ["1"] * 70]),
         ["Row 1 has 71 columns, beyond the limit of 60 columns"]),
        ("cell.csv", csv_file([["企业名称", "备注"], ["长备注科技有限公司", "notes" * 600]]),
         ["This cell holds 3,000 characters, beyond the limit of 2,000 characters"]),
    ]
    for name, content, words in cases:
        job, elapsed, _page = upload(client, staff_user, name, content)
        assert job.status == ImportJob.Status.INVALID, name
        message = only_error(job)
        for word in words:
            assert word in message, (name, message)
        assert elapsed < REFUSED_WITHIN_SECONDS, name
    # The over-long cell is named by row and column.
    assert [(p["row"], p["column"]) for p in job.errors] == [(2, "备注")]

    settings.IMPORT_MAX_UNPACKED_BYTES = 1024
    job, _elapsed, _page = upload(client, staff_user, "big.csv",
                                  csv_file([["企业名称"]] + [["大文件科技有限公司"]] * 200))
    assert job.status == ImportJob.Status.INVALID
    assert "beyond the limit of 1.0 KB" in only_error(job)


# --- Memory -------------------------------------------------------------------------------------
MEMORY_SCRIPT = r'''
import json, resource, sys
import django
django.setup()
from django.core.files import File
from leads.imports import reading

class Job:  # what reading needs of an ImportJob: its name and its file
    def __init__(self, path):
        self.original_name = path
        self.file = File(open(path, "rb"), name=path)

def read(path):
    job = Job(path)
    try:
        reading.precheck(job)
        with reading.open_rows(job) as (rows, _estimate):
            for _row in rows:
                pass
    except reading.FileRefused as refusal:
        return refusal.message
    return None

paths = sys.argv[1:]
read(paths[0])  # a legitimate file first: calamine and the parsers are loaded and warm
for path in paths[1:]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    refused = read(path)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"path": path, "refused": refused, "growth": after - before}))
'''


def test_refusing_hostile_files_costs_little_memory(tmp_path, bomb):
    """Measured in a process of its own (ru_maxrss sees calamine's memory, which tracemalloc
    would not). Before the limits, the first of these files killed the process."""
    files = {
        "legit.xlsx": openpyxl_xlsx({"A1": "企业名称", "A2": "合规科技有限公司"}),
        "far.xlsx": handmade_xlsx(sheet_xml(TWO_CELLS_FAR_APART, dimension="A1:XFD1048576")),
        "cv.xlsx": openpyxl_xlsx({"A1": "企业名称", "CV300000": "x"}),
        "lying.xlsx": handmade_xlsx(sheet_xml(LYING_DIMENSION, dimension="A1:B2")),
        "bomb.xlsx": bomb,
        "liar.xlsx": understated(handmade_xlsx(repeat=(b'<c t="s"><v>0</v></c>', 40 * 2 ** 20)),
                                 "xl/worksheets/sheet1.xml", 4096),
        "line.csv": b"a," + b"x" * 5_000_000,
    }
    paths = []
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        paths.append(str(path))
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(CRM_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="crm.settings")
    done = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, *paths], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(files) - 1, done.stdout
    for result in results:
        assert result["refused"], result
        assert result["growth"] < MEMORY_GROWTH_LIMIT_BYTES, result


# --- The sweep ------------------------------------------------------------------------------------
def test_the_sweep_fails_jobs_whose_worker_died(staff_user, settings):
    settings.IMPORT_STALE_SECONDS = 900
    content = csv_file([["企业名称"], ["清扫科技有限公司"]])

    def job_in(status: str, *, age: timedelta) -> ImportJob:
        job = ImportJob.objects.create(kind="companies", uploaded_by=staff_user,
                                       original_name="x.csv",
                                       file=SimpleUploadedFile("x.csv", content))
        ImportJob.objects.filter(pk=job.pk).update(status=status,
                                                   created_at=timezone.now() - age)
        return job

    dead_check = job_in(ImportJob.Status.VALIDATING, age=timedelta(hours=1))
    dead_commit = job_in(ImportJob.Status.COMMITTING, age=timedelta(days=2))
    busy = job_in(ImportJob.Status.COMMITTING, age=timedelta(hours=3))
    publish(busy.pk, ImportJob.Status.COMMITTING, 4000, 90000)  # its worker is still at it
    young = job_in(ImportJob.Status.VALIDATING, age=timedelta(minutes=5))
    finished = job_in(ImportJob.Status.VALIDATED, age=timedelta(days=1))

    assert import_jobs_sweep() == 2

    for job in (dead_check, dead_commit, busy, young, finished):
        job.refresh_from_db()
    assert dead_check.status == dead_commit.status == ImportJob.Status.FAILED
    assert "check of this file stopped unexpectedly" in only_error(dead_check)
    assert "Upload the file again" in only_error(dead_check)
    assert "import of this file stopped unexpectedly" in only_error(dead_commit)
    assert dead_check.finished_at is not None
    assert busy.status == ImportJob.Status.COMMITTING
    assert young.status == ImportJob.Status.VALIDATING
    assert finished.status == ImportJob.Status.VALIDATED
    assert import_jobs_sweep() == 0  # a second run changes nothing
    # An old job stops moving: the next sweep takes it.
    assert import_jobs_sweep(now=timezone.now() + timedelta(hours=1)) == 2
    # Beat runs the sweep (leads/apps.py).
    assert beat_schedule()["sweep-import-jobs"]["task"] == "leads.import_jobs_sweep_task"


# --- Who may import what, and what the notice may say ---------------------------------------------
def test_a_notice_names_the_owner_of_a_confidential_project_but_not_the_project(
    client_for, staff_user, make_user, admin_user
):
    owner = make_user(Role.INVESTMENT_STAFF, full_name="钱保密")
    company = company_create(by=owner, name="保密洽谈科技有限公司", uscc=valid_uscc(801))
    make_project(owner=owner, company=company, name="代号北极星", confidential=True)
    rows = [["企业名称", "统一社会信用代码"], ["保密洽谈科技有限公司", valid_uscc(801)]]

    job, _elapsed, page = upload(client_for(staff_user), staff_user, "dup.csv", csv_file(rows))

    assert job.status == ImportJob.Status.VALIDATED
    notice = " ".join(p["message"] for p in job.errors if p["level"] == "notice")
    assert "保密洽谈科技有限公司" in notice and "钱保密" in notice
    assert "代号北极星" not in notice and "代号北极星" not in page
    # Administrators read every project that is not confidential: the same file names an
    # open project to them once it is not confidential, as the project's page would.
    admin_job = import_job_create(by=admin_user, kind="companies", on_duplicate="skip",
                                  upload=SimpleUploadedFile("dup.csv", csv_file(rows)))
    assert "代号北极星" not in " ".join(p["message"] for p in admin_job.errors)
    company.projects.update(confidential=False)
    admin_job = import_job_create(by=admin_user, kind="companies", on_duplicate="skip",
                                  upload=SimpleUploadedFile("dup.csv", csv_file(rows)))
    assert "代号北极星" in " ".join(p["message"] for p in admin_job.errors)


def test_only_those_who_may_create_projects_import_them(admin_user, make_user):
    rows = csv_file([["企业名称", "项目名称"], ["权限科技有限公司", "权限项目"]])
    with pytest.raises(PermissionDenied, match="Only investment staff can import projects"):
        import_job_create(by=admin_user, kind="projects", on_duplicate="skip",
                          upload=SimpleUploadedFile("p.csv", rows))
    with pytest.raises(PermissionDenied):
        import_job_create(by=make_user(Role.LEADER), kind="companies", on_duplicate="skip",
                          upload=SimpleUploadedFile("c.csv", rows))
    assert not ImportJob.objects.exists()
    # Companies, yes: an administrator keeps the register.
    job = import_job_create(by=admin_user, kind="companies", on_duplicate="skip",
                            upload=SimpleUploadedFile("c.csv", csv_file([["企业名称"],
                                                                          ["管理科技有限公司"]])))
    assert job.status == ImportJob.Status.VALIDATED
