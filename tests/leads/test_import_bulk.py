"""The bulk path of a company import (leads.imports.writing): hundreds of rows written a batch
at a time must come out exactly as the services would have written them one by one,
with the same duplicates found, the same all-or-nothing commit and a number of queries that
does not grow with the rows. Also: the commit reuses the rows its dry run checked instead of
reading the file again, and .xlsx cells (read with python-calamine) keep their codes' digits."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import Workbook

from crm.accounts.roles import Role
from crm.core import figures
from leads.imports import import_commit, import_job_create, kept, reading, writing
from leads.models import ChainNode, Company, CompanyChainLink, Contact, ImportJob, Industry
from leads.search import pinyin_initials
from leads.services import company_create
from leads.uscc import normalize_company_name
from tests.factories import make_project, valid_uscc

HEADERS = ["企业名称", "统一社会信用代码", "行业代码", "产业链环节", "注册资本(万元)",
           "总部所在地", "网站", "联系人", "联系电话"]


def code(n: int) -> str:
    # Region 110108: apart from CompanyFactory's codes (320583).
    return valid_uscc(n, region="110108")


def company_row(n: int, **cells) -> list:
    row = {"name": f"批量{n:04d}号智能科技有限公司", "uscc": code(n), "industry": "65",
           "node": "近眼显示", "capital": f"{n}.5", "hq": "江苏省苏州市", "website": "",
           "contact": f"联系人{n}", "phone": f"1380000{n:04d}"}
    row.update(cells)
    return list(row.values())


def csv_file(rows: list[list]) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows([HEADERS, *rows])
    return text.getvalue().encode("utf-8-sig")


def start(user, rows: list[list], on_duplicate: str = "skip") -> ImportJob:
    return import_job_create(by=user, kind="companies", on_duplicate=on_duplicate,
                             upload=SimpleUploadedFile("list.csv", csv_file(rows)))


def errors(job: ImportJob) -> set[tuple]:
    return {(p["row"], p["column"]) for p in job.errors if p["level"] == "error"}


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # A commit of hundreds of rows would otherwise be handed to Celery by the pages; the
    # service is called directly here, so keep the dry run inline whatever the file's size.
    settings.LEADS_IMPORT_ASYNC_THRESHOLD_BYTES = 10**9
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    with translation.override("en"):
        yield


def test_hundreds_of_rows_with_duplicates_in_the_file_and_in_the_database(staff_user,
                                                                           make_user):
    chaser = make_user(Role.INVESTMENT_STAFF, full_name="王招商")
    chased = company_create(by=staff_user, name="已在库甲科技有限公司", uscc=code(5))
    make_project(owner=chaser, company=chased, name="甲项目")
    company_create(by=staff_user, name="已在库乙科技有限公司")
    rows = [company_row(n) for n in range(1, 301)]
    rows[4] = company_row(5, name="已在库甲科技（集团）")  # row 6: the USCC of `chased`
    rows[9] = company_row(10, name="已在库乙 科技有限公司", uscc="")  # row 11: by name
    rows[200] = company_row(201, uscc=code(150))  # row 202: the USCC of row 151
    before = (Company.objects.count(), Contact.objects.count(),
              CompanyChainLink.objects.count())

    job = start(staff_user, rows)

    assert job.status == ImportJob.Status.INVALID
    assert errors(job) == {(202, "统一社会信用代码")}
    assert "row 151" in next(p["message"] for p in job.errors if p["row"] == 202)
    assert import_commit(job=job).status == ImportJob.Status.INVALID
    assert (Company.objects.count(), Contact.objects.count(),
            CompanyChainLink.objects.count()) == before

    rows[200] = company_row(201)
    job = start(staff_user, rows)
    assert job.status == ImportJob.Status.VALIDATED, job.errors[:3]
    notices = {p["row"]: p["message"] for p in job.errors if p["level"] == "notice"}
    assert set(notices) == {6, 11}
    # 撞单: who follows it; the project is named only to those who may open it (not the
    # uploader, who is not on its team: leads.services.chasing_text).
    assert "王招商" in notices[6] and "甲项目" not in notices[6]

    job = import_commit(job=job)

    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert (job.created_count, job.updated_count, job.skipped_count) == (298, 0, 2)
    assert Company.objects.count() == before[0] + 298
    chased.refresh_from_db()
    assert chased.name == "已在库甲科技有限公司"  # skipped, untouched
    assert not Company.objects.filter(name="已在库乙 科技有限公司").exists()
    # Each created company is what company_create would have written.
    display = ChainNode.objects.get(code="display")
    for n in (1, 150, 300):
        company = Company.objects.get(uscc=code(n))
        assert company.name == f"批量{n:04d}号智能科技有限公司"
        assert company.name_key == normalize_company_name(company.name)
        assert company.name_initials == pinyin_initials(company.name)
        assert str(company.registered_capital_wan) == f"{n}.50"
        assert (company.industry.code, company.hq_region_name) == ("65", "江苏省苏州市")
        assert company.created_by == staff_user and company.capital_currency == "CNY"
        assert company.created_at and company.updated_at
        link = company.chain_links.get()
        assert (link.node, link.role) == (display, display.position)
        contact = company.contacts.get()
        assert (contact.name, contact.phone, contact.is_primary) == (
            f"联系人{n}", f"1380000{n:04d}", True)
        history = company.history.get()
        assert (history.history_type, history.history_user) == ("+", staff_user)
        assert history.name == company.name and history.uscc == company.uscc
        assert contact.history.get().history_type == "+"


def test_one_bad_row_among_hundreds_writes_nothing_and_names_row_and_column(staff_user):
    rows = [company_row(n) for n in range(1, 301)]
    wrong = code(120)[:-1] + ("0" if code(120)[-1] != "0" else "1")
    rows[119] = company_row(120, uscc=wrong)  # row 121: a wrong check character
    rows[249] = company_row(250, phone="1" * 31)  # row 251: longer than Contact.phone
    rows[279] = company_row(280, name="名" * 201)  # row 281: longer than Company.name
    before = Company.objects.count()

    job = import_commit(job=start(staff_user, rows))

    assert job.status == ImportJob.Status.INVALID
    assert errors(job) == {(121, "统一社会信用代码"), (251, "联系电话"), (281, "企业名称")}
    assert Company.objects.count() == before


def test_a_batch_the_database_refuses_rolls_back_every_batch_and_names_the_row(
    staff_user, monkeypatch
):
    """Earlier batches are already written when a later one is refused: all must go. Here a
    colleague saves a company with the name of row 170 after the commit's check (a stand-in
    for any concurrent writer); the database's unique constraint refuses the batch."""
    monkeypatch.setattr(writing, "WRITE_BATCH", 50)
    rows = [company_row(n) for n in range(1, 201)]
    real_write = writing.write

    def write_after_a_colleague(job, checked, progress):
        company_create(by=staff_user, name="批量0169号智能科技有限公司")
        return real_write(job, checked, progress)

    monkeypatch.setattr(writing, "write", write_after_a_colleague)
    job = start(staff_user, rows)
    assert job.status == ImportJob.Status.VALIDATED
    before = (Company.objects.count(), Contact.objects.count(),
              CompanyChainLink.objects.count())

    job = import_commit(job=job)

    assert job.status == ImportJob.Status.FAILED
    assert errors(job) == {(170, "企业名称")}
    assert "already in the system" in job.errors[0]["message"]
    assert (Company.objects.count(), Contact.objects.count(),
            CompanyChainLink.objects.count()) == before
    assert not Company.objects.filter(uscc=code(1)).exists()


def test_commit_queries_do_not_grow_with_rows(staff_user, django_assert_max_num_queries):
    node = ChainNode.objects.get(code="sensing")
    existing = [company_create(by=staff_user, name=f"已有{n}号科技有限公司", uscc=code(9000 + n),
                               chain_links=[(node, "core")]) for n in range(40)]

    def commit(count: int, on_duplicate: str, offset: int, counting) -> None:
        rows = [company_row(offset + n) for n in range(count)]
        # A quarter of the rows name companies in the system: updated or skipped.
        for n, company in enumerate(existing[: count // 4]):
            rows[n * 4] = company_row(offset + n * 4, uscc=company.uscc)
        job = start(staff_user, rows, on_duplicate=on_duplicate)
        assert job.status == ImportJob.Status.VALIDATED, job.errors[:3]
        with counting:
            job = import_commit(job=job)
        assert job.status == ImportJob.Status.DONE, job.errors[:3]
        assert job.created_count + job.updated_count + job.skipped_count == count

    for on_duplicate, offset in (("skip", 0), ("update", 1000)):
        small = CaptureQueriesContext(connection)
        commit(20, on_duplicate, offset, small)
        commit(160, on_duplicate, offset + 500, django_assert_max_num_queries(len(small)))
        assert len(small) <= 40


def test_update_mode_updates_existing_companies_in_bulk(staff_user):
    display, sensing = ChainNode.objects.get(code="display"), ChainNode.objects.get(code="sensing")
    existing = []
    for n in range(1, 61):
        company = company_create(by=staff_user, name=f"旧名{n}号科技有限公司", uscc=code(n),
                                 hq_region_name="北京", website="https://old.example.cn",
                                 chain_links=[(display, "core")],
                                 contacts=[{"name": "老联系人", "is_primary": True}])
        existing.append(company)
    rows = [company_row(n, node="sensing", hq="", website=f"new{n}.example.cn",
                        contact="老联系人" if n % 2 else f"新联系人{n}")
            for n in range(1, 61)]
    rows += [company_row(n) for n in range(61, 161)]

    job = import_commit(job=start(staff_user, rows, on_duplicate="update"))

    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert (job.created_count, job.updated_count, job.skipped_count) == (100, 60, 0)
    for n in (1, 2, 60):
        before = existing[n - 1]
        company = Company.objects.get(uscc=code(n))
        assert company.pk == before.pk
        assert company.name == f"批量{n:04d}号智能科技有限公司"
        assert company.name_key == normalize_company_name(company.name)
        assert company.name_initials == pinyin_initials(company.name)
        assert company.website == f"https://new{n}.example.cn"
        assert company.hq_region_name == "北京"  # an empty cell keeps the stored value
        assert company.updated_at > before.updated_at
        assert dict(company.chain_links.values_list("node", "role")) == {
            display.pk: "core", sensing.pk: sensing.position}
        names = sorted(company.contacts.values_list("name", flat=True))
        assert names == (["老联系人"] if n % 2 else sorted(["老联系人", f"新联系人{n}"]))
        assert list(company.history.values_list("history_type", flat=True)) == ["~", "+"]
    assert Company.objects.filter(uscc__in=[code(n) for n in range(61, 161)]).count() == 100


def test_name_initials_are_those_of_the_model_for_awkward_names(staff_user):
    names = ["中国银行苏州分行有限公司", "重庆长安汽车股份有限公司", "长沙银行行长俱乐部",
             "ＡＢＣ智能（苏州）有限公司", "3D打印科技有限公司", "〇号工场有限公司",
             "Suzhou Optics Ltd", "厦门·鹭岛 科技有限公司", "𠀀𠀁实业有限公司", "乐乐音乐有限公司"]
    rows = [company_row(n, name=name) for n, name in enumerate(names, start=1)]

    job = import_commit(job=start(staff_user, rows))

    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    for name in names:
        company = Company.objects.get(name=name)
        assert company.name_initials == pinyin_initials(name), name


# --- One reading of the file ----------------------------------------------------------------------
@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """The jobs whose upload is opened and parsed, one entry per reading."""
    opened: list[int] = []
    real_open_rows = reading.open_rows

    def counting(job):
        opened.append(job.pk)
        return real_open_rows(job)

    monkeypatch.setattr(reading, "open_rows", counting)
    return opened


def test_the_commit_writes_what_the_dry_run_checked_without_reading_the_file_again(
    staff_user, reads, django_capture_on_commit_callbacks
):
    rows = [company_row(n) for n in range(1, 121)]
    job = start(staff_user, rows)
    assert job.status == ImportJob.Status.VALIDATED
    assert reads == [job.pk]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = import_commit(job=job)

    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert reads == [job.pk]  # the dry run's reading only
    assert job.created_count == 120
    company = Company.objects.get(uscc=code(77))
    assert company.name == "批量0077号智能科技有限公司"
    assert company.registered_capital_wan == Decimal("77.50")
    assert company.industry.code == "65"
    assert company.chain_links.get().node.code == "display"
    assert company.contacts.get().phone == "13800000077"
    # The bulk writes send no post_save: the commit invalidates the cached figures itself,
    # once its transaction commits. (Compared by callback, not by the cached version, which
    # other processes sharing the cache may bump too.)
    assert [c for c in callbacks if c.__module__ == figures.__name__] != []
    assert len(callbacks) == 1
    # The kept rows go with the job's end.
    assert not job.file.storage.exists(kept.checked_name(job))


@pytest.mark.parametrize("damage", ["missing", "altered"])
def test_without_usable_kept_rows_the_commit_reads_the_file_again(staff_user, reads, damage):
    job = start(staff_user, [company_row(n) for n in range(1, 31)])
    storage, name = job.file.storage, kept.checked_name(job)
    if damage == "missing":
        storage.delete(name)
    else:  # one byte changed: the signature no longer matches, so the rows are not trusted
        with storage.open(name, "rb") as stream:
            content = bytearray(stream.read())
        content[-1] ^= 1
        storage.delete(name)
        storage.save(name, io.BytesIO(bytes(content)))

    job = import_commit(job=job)

    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert reads == [job.pk, job.pk]
    assert job.created_count == 30


def test_an_upload_changed_after_its_dry_run_is_read_and_checked_again(staff_user, reads):
    rows = [company_row(n) for n in range(1, 31)]
    job = start(staff_user, rows)
    assert job.status == ImportJob.Status.VALIDATED
    rows[1] = company_row(2, uscc="91320583MA1XXXXX01")  # row 3: not a valid USCC
    with open(job.file.path, "wb") as handle:
        handle.write(csv_file(rows))

    job = import_commit(job=job)

    assert reads == [job.pk, job.pk]
    assert job.status == ImportJob.Status.INVALID
    assert errors(job) == {(3, "统一社会信用代码")}
    assert not Company.objects.filter(uscc=code(1)).exists()


def test_a_company_entered_between_the_dry_run_and_the_commit_is_found_by_the_commit(
    staff_user, make_user, reads
):
    chaser = make_user(Role.INVESTMENT_STAFF, full_name="李招商")
    job = start(staff_user, [company_row(n) for n in range(1, 101)])
    assert job.status == ImportJob.Status.VALIDATED
    assert not [p for p in job.errors if p["level"] == "notice"]

    # Meanwhile a colleague enters the company of row 31 (its USCC, another name) and follows it.
    chased = company_create(by=chaser, name="别名光电有限公司", uscc=code(30))
    make_project(owner=chaser, company=chased, name="光电项目")
    job = import_commit(job=job)

    assert reads == [job.pk]  # found by the commit's database check, not by reading the file
    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert (job.created_count, job.skipped_count) == (99, 1)
    notices = {p["row"]: p["message"] for p in job.errors if p["level"] == "notice"}
    assert set(notices) == {31}
    assert "别名光电有限公司" in notices[31]
    assert "李招商" in notices[31] and "光电项目" not in notices[31]  # 撞单: who follows it
    chased.refresh_from_db()
    assert chased.name == "别名光电有限公司"

    # Under its name with another USCC: the commit refuses the file and names the row.
    job = start(staff_user, [company_row(n) for n in range(201, 221)])
    company_create(by=chaser, name="批量0210号智能科技有限公司", uscc=code(999))
    job = import_commit(job=job)
    assert job.status == ImportJob.Status.INVALID
    assert errors(job) == {(11, "统一社会信用代码")}
    assert not Company.objects.filter(uscc=code(201)).exists()


def test_a_reference_retired_between_the_dry_run_and_the_commit_is_reported(staff_user, reads):
    job = start(staff_user, [company_row(n, node="sensing") for n in range(1, 11)])
    assert job.status == ImportJob.Status.VALIDATED
    ChainNode.objects.filter(code="sensing").update(code="sensing-old", name="旧环节",
                                                    name_en="old node")

    job = import_commit(job=job)

    assert reads == [job.pk]
    assert job.status == ImportJob.Status.INVALID
    assert errors(job) == {(n, "产业链环节") for n in range(2, 12)}


# --- .xlsx cells --------------------------------------------------------------------------------
def xlsx_file(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    content = io.BytesIO()
    book.save(content)
    return content.getvalue()


def test_xlsx_codes_keep_their_digits_and_numbers_their_value(staff_user, reads):
    """Text cells stay text (a USCC of digits only, "05", "013800138000"); numeric cells of
    codes and phone numbers read as their digits, amounts as their decimal value."""
    digits_only = next(u for n in range(1, 500)
                       if (u := valid_uscc(n, region="320583")).isdigit())
    headers = ["企业名称", "统一社会信用代码", "行业代码", "总部地区代码", "注册资本(万元)",
               "联系人", "联系电话", "备注"]
    rows = [
        headers,
        ["零一科技有限公司", digits_only, "05", 320583, 5000.5, "钱工", 13800138000, "00123"],
        ["零二科技有限公司", valid_uscc(7, region="320583"), 65, "320583", "1,234.5", "孙工",
         "013800138000", 1234567890123],
    ]
    job = import_job_create(by=staff_user, kind="companies", on_duplicate="skip",
                            upload=SimpleUploadedFile("codes.xlsx", xlsx_file(rows)))
    assert job.status == ImportJob.Status.VALIDATED, job.errors[:3]

    job = import_commit(job=job)

    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert reads == [job.pk]
    first = Company.objects.get(name="零一科技有限公司")
    assert first.uscc == digits_only
    assert first.industry == Industry.objects.get(code="05")
    assert first.hq_region_code == "320583"
    assert first.registered_capital_wan == Decimal("5000.50")
    assert first.notes == "00123"
    assert first.contacts.get().phone == "13800138000"
    second = Company.objects.get(name="零二科技有限公司")
    assert second.uscc == valid_uscc(7, region="320583")
    assert (second.industry.code, second.hq_region_code) == ("65", "320583")
    assert second.registered_capital_wan == Decimal("1234.50")
    assert second.contacts.get().phone == "013800138000"
    assert second.notes == "1234567890123"

    # A code that is not in the reference table is named as written, its zero included.
    job = import_job_create(by=staff_user, kind="companies", on_duplicate="skip",
                            upload=SimpleUploadedFile("codes.xlsx", xlsx_file(
                                [headers[:3], ["零三科技有限公司", "", "0511"]])))
    assert job.status == ImportJob.Status.INVALID
    assert "“0511”" in job.errors[0]["message"]


def test_xlsx_whose_column_a_is_empty_keeps_its_column_letters(staff_user):
    rows = [[None, "企业名称", "统一社会信用代码"],
            [None, "乙列科技有限公司", code(1), None, "无表头的值"]]
    job = import_job_create(by=staff_user, kind="companies", on_duplicate="skip",
                            upload=SimpleUploadedFile("b.xlsx", xlsx_file(rows)))

    assert job.status == ImportJob.Status.INVALID
    assert errors(job) == {(2, "E")}

    job = import_commit(job=import_job_create(
        by=staff_user, kind="companies", on_duplicate="skip",
        upload=SimpleUploadedFile("b.xlsx", xlsx_file([row[:3] for row in rows]))))
    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert Company.objects.get(uscc=code(1)).name == "乙列科技有限公司"
