"""Spreadsheet import of companies and projects: dry run, all-or-nothing commit, duplicates,
encodings, the pages, permissions and the Celery path with a real worker."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from importlib import import_module

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from crm.accounts.roles import Role
from leads.imports import import_commit, import_job_create, import_progress, import_validate
from leads.imports.progress import publish
from leads.models import (
    ChainNode,
    Company,
    CompanyChainLink,
    Contact,
    ImportJob,
    Industry,
    Project,
    Stage,
    StageEvent,
)
from leads.services import company_create, project_create
from leads.tasks import import_commit_task, import_validate_task
from leads.uscc import make_uscc
from tests.conftest import wait_until
from tests.factories import CompanyFactory

COMPANY_HEADERS_ZH = ["企业名称", "统一社会信用代码", "行业代码", "产业链环节", "链上角色",
                      "注册资本（万元）", "来源地区", "网站", "联系人", "联系电话"]
PROJECT_HEADERS_ZH = ["企业名称", "统一社会信用代码", "项目名称", "负责人", "阶段",
                      "协议投资额(万元)", "预计就业", "渠道", "下一步", "下一步日期", "保密"]


def uscc(n: int) -> str:
    return make_uscc(f"913205{n:011d}")


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def start(user, content: bytes, *, name: str = "list.xlsx", kind: str = "companies",
          on_duplicate: str = "skip") -> ImportJob:
    return import_job_create(by=user, kind=kind, upload=SimpleUploadedFile(name, content),
                             on_duplicate=on_duplicate)


def problems(job: ImportJob, level: str = "error") -> set[tuple]:
    return {(p["row"], p["column"]) for p in job.errors if p["level"] == level}


def messages_at(job: ImportJob, row: int) -> str:
    return " ".join(p["message"] for p in job.errors if p["row"] == row)


@pytest.fixture(autouse=True)
def media_root(request, settings, tmp_path):
    # Uploaded files go to a temporary folder, except for the worker test: the worker is
    # another process and reads the files where its own settings say (var/media).
    if not request.node.get_closest_marker("worker"):
        settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def reference_data(transactional_db):
    """pytest-django runs transactional tests after the others, and each one empties the tables
    when it ends, including what the data migration loaded (stages, industries, the chain);
    only the role groups come back (post_migrate). Load the rest again: the loader is the
    migration's own, and idempotent (update_or_create)."""
    from django.apps import apps

    import_module("leads.migrations.0002_reference_data").load(apps, None)


@pytest.fixture(autouse=True)
def english(settings):
    # Messages are asserted in English (the msgids), whatever the translations say.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()


# --- Headers, parsing, writing ------------------------------------------------------------------
def test_chinese_headers_xlsx_dry_run_then_commit(staff_user):
    content = xlsx([
        COMPANY_HEADERS_ZH,
        ["昆山视觉科技有限公司", uscc(1).lower() + " ", "3973", "近眼显示", "链主", 5000.5,
         "长三角", "www.ksvision.cn", "王敏", 13800138000],
        ["苏州感知交互股份有限公司", "", "65", "sensing", "", "1,200.25", "境外", "", "", ""],
    ])
    before = Company.objects.count()
    job = start(staff_user, content)

    assert job.status == ImportJob.Status.VALIDATED, job.errors
    # The table stops at groups (中类): a class (小类) is filed under its group, and said so.
    assert job.errors == [{"row": 2, "column": "行业代码", "level": "notice",
                           "message": "Class 3973 is filed under its group 397 Manufacture of "
                                      "electronic devices."}]  # English names in English
    assert job.total_rows == 2
    assert Company.objects.count() == before  # a dry run writes nothing

    job = import_commit(job=job)

    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.created_count, job.updated_count, job.skipped_count) == (2, 0, 0)
    first = Company.objects.get(uscc=uscc(1))
    assert first.name == "昆山视觉科技有限公司"
    assert first.industry == Industry.objects.get(code="397")
    assert first.registered_capital_wan == Decimal("5000.50")
    assert first.source_region == "yrd"
    assert first.website == "https://www.ksvision.cn"
    assert first.created_by == staff_user
    link = CompanyChainLink.objects.get(company=first)
    assert (link.node.code, link.role) == ("display", "leader")
    assert Contact.objects.get(company=first).phone == "13800138000"
    second = Company.objects.get(name="苏州感知交互股份有限公司")
    assert second.uscc is None
    assert second.registered_capital_wan == Decimal("1200.25")
    assert second.source_region == "overseas"
    # No role given: the company takes the node's own position on the chain.
    assert second.chain_links.get().role == ChainNode.objects.get(code="sensing").position


def test_an_exported_list_with_its_title_row_imports_again_with_true_row_numbers(
        staff_user, client):
    """Our exports open with a title row; the importer skips it, and its row numbers stay
    those a spreadsheet shows (the header on row 2, the first company on row 3)."""
    client.force_login(staff_user)
    CompanyFactory(name="昆山导出科技有限公司", uscc=uscc(7))
    exported = load_workbook(io.BytesIO(client.get(reverse("leads:company-export")).content))
    rows = [list(r) for r in exported.worksheets[0].iter_rows(values_only=True)]
    assert rows[0][0] and not any(rows[0][1:])  # the title row: one filled cell
    content = xlsx([rows[0][:1], COMPANY_HEADERS_ZH[:2],
                    ["昆山再导入科技有限公司", "not-a-uscc"], ["昆山第二科技有限公司", ""]])
    job = start(staff_user, content)
    assert job.status == ImportJob.Status.INVALID
    assert problems(job) == {(3, "统一社会信用代码")}


def test_english_headers_csv(staff_user):
    content = csv_bytes([
        ["Company name", "USCC", "Industry code", "Registered capital (10k yuan)",
         "Source region", "Contact", "Contact email"],
        ["Suzhou Optics Ltd", uscc(2), "I65", "300", "Overseas", "Li Lei", "li@example.com"],
    ])
    job = start(staff_user, content, name="companies.csv")
    assert job.status == ImportJob.Status.VALIDATED, job.errors
    job = import_commit(job=job)
    assert job.status == ImportJob.Status.DONE
    company = Company.objects.get(uscc=uscc(2))
    assert company.industry.code == "65"
    assert company.registered_capital_wan == Decimal("300.00")
    assert company.contacts.get().email == "li@example.com"


def test_gbk_csv_saved_by_excel_in_china(staff_user):
    content = csv_bytes([["企业名称", "统一社会信用代码", "总部所在地", "来源地区"],
                         ["杭州元境数字科技有限公司", uscc(3), "杭州市余杭区", "长三角"]],
                        encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    job = start(staff_user, content, name="名单.csv")
    assert job.status == ImportJob.Status.VALIDATED, job.errors
    assert import_commit(job=job).status == ImportJob.Status.DONE
    company = Company.objects.get(uscc=uscc(3))
    assert (company.name, company.hq_region_name) == ("杭州元境数字科技有限公司", "杭州市余杭区")


def test_dry_run_reports_every_error_with_row_and_column_and_writes_nothing(staff_user):
    existing = company_create(by=staff_user, name="上海已有科技有限公司", uscc=uscc(10))
    project_create(by=staff_user, company=existing, name="已有项目", next_step="回访",
                   next_step_on=date(2030, 1, 1))
    bad_check_char = uscc(11)[:-1] + ("0" if uscc(11)[-1] != "0" else "1")
    content = xlsx([
        COMPANY_HEADERS_ZH[:6] + ["传真"],
        ["正常科技有限公司", uscc(12), "65", "", "", 100, ""],          # 2: fine
        ["坏码科技有限公司", bad_check_char, "65", "", "", 100, ""],      # 3: bad USCC
        ["未知行业有限公司", "", "9999", "", "", 100, ""],               # 4: unknown industry
        ["", uscc(13), "65", "", "", 100, ""],                           # 5: missing name
        ["坏数字有限公司", "", "65", "", "", "一百万", ""],               # 6: bad decimal
        ["正常科技 有限公司", "", "", "", "", "", ""],                   # 7: same company as row 2
        ["上海已有科技有限公司", uscc(14), "", "", "", "", ""],          # 8: existing, other USCC
        ["上海已有科技（集团）", uscc(10), "", "", "", "", ""],          # 9: existing by USCC
        ["角色无环节有限公司", "", "", "", "上游", -5, ""],              # 10: role w/o node, < 0
    ])
    counts = (Company.objects.count(), Project.objects.count(), Contact.objects.count())

    job = start(staff_user, content)

    assert job.status == ImportJob.Status.INVALID
    assert problems(job) == {
        (1, "传真"),
        (3, "统一社会信用代码"),
        (4, "行业代码"),
        (5, "企业名称"),
        (6, "注册资本（万元）"),
        (7, "企业名称"),
        (8, "统一社会信用代码"),
        (10, "链上角色"),
        (10, "注册资本（万元）"),
    }
    assert "传真" in messages_at(job, 1)
    assert "check character" in messages_at(job, 3)
    assert "9999" in messages_at(job, 4)
    assert "row 2" in messages_at(job, 7)
    assert uscc(10) in messages_at(job, 8)
    # A plain match of a company in the system is not an error: the user chose to skip it, and
    # is told who follows it (撞单).
    assert problems(job, "notice") == {(9, "企业名称")}
    assert "已有项目" in messages_at(job, 9) and "skipped" in messages_at(job, 9)
    # Errors are listed in the order of the sheet.
    rows = [p["row"] for p in job.errors if p["level"] == "error"]
    assert rows == sorted(rows)

    assert import_commit(job=job).status == ImportJob.Status.INVALID  # refused
    assert (Company.objects.count(), Project.objects.count(), Contact.objects.count()) == counts


def test_missing_required_column_and_header_only_file(staff_user):
    job = start(staff_user, xlsx([["统一社会信用代码"], [uscc(20)]]))
    assert job.status == ImportJob.Status.INVALID
    assert problems(job) == {(1, "企业名称")}

    job = start(staff_user, xlsx([[]]))
    assert job.status == ImportJob.Status.INVALID
    assert "empty" in job.errors[0]["message"]


def test_dry_run_queries_do_not_grow_with_rows(staff_user):
    company_create(by=staff_user, name="已在库企业有限公司", uscc=uscc(30))

    def queries_for(n: int) -> int:
        rows = [["企业名称", "统一社会信用代码", "行业代码", "产业链环节"]]
        rows += [[f"批量企业{i}有限公司", uscc(1000 + i), "65", "近眼显示"] for i in range(n)]
        rows.append(["已在库企业有限公司", uscc(30), "", ""])
        job = ImportJob.objects.create(kind="companies", uploaded_by=staff_user,
                                       original_name="x.xlsx",
                                       file=SimpleUploadedFile("x.xlsx", xlsx(rows)))
        with CaptureQueriesContext(connection) as captured:
            import_validate(job=job)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.VALIDATED, job.errors[:3]
        return len(captured)

    assert queries_for(5) == queries_for(300)


# --- Projects -----------------------------------------------------------------------------------
def test_project_import_groups_rows_by_company_and_checks_stage_gates(staff_user, make_user):
    colleague = make_user(Role.INVESTMENT_STAFF, username="zhangsan")
    park_manager = make_user(Role.PARK_MANAGER, username="yuanqu")
    Stage.objects.filter(code="first_contact").update(requires_uscc=True)
    good_rows = [
        # 2 and 3: two projects of one company (same name once spaces are ignored).
        ["昆山光场显示有限公司", uscc(40), "光场模组项目", "zhangsan", "深度洽谈", 12000.5, 300,
         "路演", "第二次洽谈", datetime(2030, 3, 5), "是"],
        ["昆山光场 显示有限公司", "", "研发中心项目", "", "暂缓", "", "", "", "", "", "否"],
    ]
    content = xlsx([
        PROJECT_HEADERS_ZH,
        *good_rows,
        # 4: a stage that needs the signed agreement cannot be imported.
        ["签约企业有限公司", uscc(41), "签约项目", "", "正式签约", 50000, "", "", "", "", ""],
        # 5: open stage without the next step date; 6: a bad date; 7: unknown owner.
        ["缺日期企业有限公司", "", "项目五", "", "线索", "", "", "", "电话联系", "", ""],
        ["坏日期企业有限公司", "", "项目六", "", "", "", "", "", "电话联系", "2030-13-45", ""],
        ["无名负责人有限公司", "", "项目七", "nobody", "研判", "", "", "", "拜访",
         "2030/4/1", ""],
        # 8: an owner who may not hold projects (a park manager); 9: a stage needing a USCC,
        # none given.
        ["园区负责有限公司", "", "项目八", "yuanqu", "", "", "", "", "拜访", "2030-04-01", ""],
        ["无码企业有限公司", "", "项目九", "", "初步接洽", "", "", "", "拜访", "2030-04-01", ""],
        # 10: the same project twice in the file.
        ["昆山光场显示有限公司", "", "光场模组项目", "", "暂缓", "", "", "", "", "", ""],
    ])
    job = start(staff_user, content, kind="projects")

    assert job.status == ImportJob.Status.INVALID
    assert problems(job) == {
        (4, "阶段"), (5, "下一步日期"), (6, "下一步日期"), (7, "负责人"), (8, "负责人"),
        (9, "阶段"), (10, "项目名称"),
    }
    assert "agreement" in messages_at(job, 4)
    assert "USCC" not in messages_at(job, 4)  # 正式签约 does not need the USCC
    assert "unified social credit code" in messages_at(job, 9)
    assert str(park_manager) in messages_at(job, 8) and "cannot own" in messages_at(job, 8)
    assert Project.objects.filter(name="光场模组项目").count() == 0

    # The same file without its bad rows goes in; rows 2 and 3 share one company.
    job = start(staff_user, xlsx([PROJECT_HEADERS_ZH, *good_rows]), kind="projects")
    assert job.status == ImportJob.Status.VALIDATED, job.errors
    job = import_commit(job=job)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.created_count == 2
    company = Company.objects.get(uscc=uscc(40))
    module, centre = (company.projects.get(name="光场模组项目"),
                      company.projects.get(name="研发中心项目"))
    assert module.owner == colleague and centre.owner == staff_user
    assert module.stage.code == "negotiating" and centre.stage.code == "shelved"
    assert module.agreed_investment_wan == Decimal("12000.50")
    assert module.expected_jobs == 300 and module.channel == "roadshow"
    assert module.next_step_on == date(2030, 3, 5) and module.confidential is True
    assert StageEvent.objects.filter(project=module, from_stage=None).count() == 1


def test_project_rows_for_an_existing_company_and_project(staff_user):
    company = company_create(by=staff_user, name="已有园区企业有限公司", uscc=uscc(50))
    project = project_create(by=staff_user, company=company, name="一期项目",
                             next_step="回访", next_step_on=date(2030, 1, 1))
    rows = [
        ["企业名称", "项目名称", "协议投资额(万元)", "下一步", "下一步日期"],
        ["已有园区企业有限公司", "一期项目", "8000", "", ""],
        ["已有园区企业有限公司", "二期项目", "", "考察", "2030-05-01"],
    ]
    job = start(staff_user, xlsx(rows), kind="projects", on_duplicate="skip")
    job = import_commit(job=job)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.created_count, job.skipped_count) == (1, 1)
    project.refresh_from_db()
    assert project.agreed_investment_wan is None
    assert Company.objects.filter(name_key=company.name_key).count() == 1

    job = start(staff_user, xlsx(rows[:2]), kind="projects", on_duplicate="update")
    job = import_commit(job=job)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.updated_count == 1
    project.refresh_from_db()
    assert project.agreed_investment_wan == Decimal("8000.00")
    assert project.next_step == "回访"  # empty cells keep what is stored


# --- Duplicates: skip or update -----------------------------------------------------------------
def test_duplicates_skip_leaves_the_company_and_update_keeps_its_pk(staff_user):
    existing = company_create(by=staff_user, name="苏州旧名科技有限公司", uscc=uscc(60),
                              hq_region_name="苏州", website="https://old.example.cn",
                              chain_links=[(ChainNode.objects.get(code="display"), "core")])
    rows = [
        ["企业名称", "统一社会信用代码", "网站", "总部所在地", "产业链环节", "链上角色",
         "联系人"],
        ["苏州新名科技有限公司", uscc(60), "new.example.cn", "", "sensing", "下游", "赵工"],
        ["全新企业有限公司", uscc(61), "", "", "", "", ""],
    ]
    job = import_commit(job=start(staff_user, xlsx(rows), on_duplicate="skip"))
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 0, 1)
    existing.refresh_from_db()
    assert existing.name == "苏州旧名科技有限公司" and existing.website == "https://old.example.cn"

    rows[2][1] = uscc(62)
    rows[2][0] = "又一家新企业有限公司"
    job = import_commit(job=start(staff_user, xlsx(rows), on_duplicate="update"))
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 1, 0)
    updated = Company.objects.get(uscc=uscc(60))
    assert updated.pk == existing.pk
    assert updated.name == "苏州新名科技有限公司"
    assert updated.website == "https://new.example.cn"
    assert updated.hq_region_name == "苏州"  # an empty cell keeps the stored value
    roles = dict(updated.chain_links.values_list("node__code", "role"))
    assert roles == {"display": "core", "sensing": "downstream"}
    assert list(updated.contacts.values_list("name", flat=True)) == ["赵工"]


# --- All or nothing -----------------------------------------------------------------------------
def test_commit_checks_again_and_refuses_a_duplicate_that_appeared_after_the_dry_run(staff_user):
    rows = [["企业名称", "统一社会信用代码"], ["甲科技有限公司", uscc(70)],
            ["乙科技有限公司", uscc(71)], ["丙科技有限公司", uscc(72)]]
    job = start(staff_user, xlsx(rows))
    assert job.status == ImportJob.Status.VALIDATED

    # Meanwhile a colleague enters 丙 by hand, with another USCC.
    company_create(by=staff_user, name="丙科技有限公司", uscc=uscc(73))
    job = import_commit(job=job)

    assert job.status == ImportJob.Status.INVALID
    assert problems(job) == {(4, "统一社会信用代码")}
    assert not Company.objects.filter(uscc__in=[uscc(70), uscc(71), uscc(72)]).exists()


@pytest.mark.django_db(transaction=True)
def test_commit_is_all_or_nothing_when_the_database_refuses_a_row(reference_data, staff_user):
    """The dry run cannot see everything the database may refuse (here a trigger stands in for
    a constraint or a concurrent writer). Rows already written must go when a later one fails."""
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION test_import_refuse() RETURNS trigger AS $$
            BEGIN
              IF NEW.name = '丁科技有限公司' THEN RAISE EXCEPTION 'refused for the test'; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_import_refuse BEFORE INSERT ON leads_company
              FOR EACH ROW EXECUTE FUNCTION test_import_refuse();
        """)
    try:
        rows = [["企业名称", "统一社会信用代码", "联系人", "产业链环节"],
                ["甲乙科技有限公司", uscc(80), "钱工", "近眼显示"],
                ["乙丙科技有限公司", uscc(81), "孙工", "近眼显示"],
                ["丁科技有限公司", uscc(82), "李工", ""]]
        counts = (Company.objects.count(), Contact.objects.count(),
                  CompanyChainLink.objects.count())
        job = start(staff_user, xlsx(rows))
        assert job.status == ImportJob.Status.VALIDATED

        job = import_commit(job=job)

        assert job.status == ImportJob.Status.FAILED
        assert problems(job) == {(4, "企业名称")}
        assert "refused for the test" in job.errors[0]["message"]
        assert (Company.objects.count(), Contact.objects.count(),
                CompanyChainLink.objects.count()) == counts
        assert not Company.objects.filter(uscc__in=[uscc(80), uscc(81)]).exists()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS test_import_refuse ON leads_company;"
                           "DROP FUNCTION IF EXISTS test_import_refuse();")


def test_commit_and_tasks_are_idempotent(staff_user):
    job = start(staff_user, xlsx([["企业名称"], ["幂等科技有限公司"]]))
    job = import_commit(job=job)
    assert job.status == ImportJob.Status.DONE
    assert import_commit(job=job).status == ImportJob.Status.DONE  # second call: no-op
    import_commit_task(job.pk)
    import_validate_task(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 1
    assert Company.objects.filter(name="幂等科技有限公司").count() == 1


# --- Pages and permissions ----------------------------------------------------------------------
def test_pages_upload_shows_problems_then_commit_shows_counts(client_for, staff_user):
    client = client_for(staff_user)
    assert client.get(reverse("leads:import-start")).status_code == 200

    bad = xlsx([["企业名称", "注册资本(万元)"], ["页面企业有限公司", "abc"]])
    response = client.post(reverse("leads:import-start"), {
        "kind": "companies", "on_duplicate": "skip",
        "file": SimpleUploadedFile("bad.xlsx", bad)})
    assert response.status_code == 302
    job = ImportJob.objects.get(uploaded_by=staff_user)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["errors"] == [{"row": 2, "column": "注册资本(万元)", "level": "error",
                                       "message": "“abc” is not a number."}]
    assert "“abc” is not a number." in page.content.decode()
    assert reverse("leads:import-commit", args=[job.pk]) not in page.content.decode()

    good = xlsx([["企业名称", "注册资本(万元)"], ["页面企业有限公司", "88.8"]])
    response = client.post(reverse("leads:import-start"), {
        "kind": "companies", "on_duplicate": "skip",
        "file": SimpleUploadedFile("good.xlsx", good)})
    job = ImportJob.objects.filter(uploaded_by=staff_user).latest("pk")
    page = client.get(response["Location"]).content.decode()
    assert reverse("leads:import-commit", args=[job.pk]) in page
    assert not Company.objects.filter(name="页面企业有限公司").exists()

    response = client.post(reverse("leads:import-commit", args=[job.pk]), follow=True)
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 1
    assert "1 created" in response.content.decode()
    assert Company.objects.get(name="页面企业有限公司").registered_capital_wan == Decimal("88.80")

    progress = client.get(reverse("leads:import-progress", args=[job.pk]))
    assert progress.context["progress"]["percent"] == 100
    assert "hx-get" not in progress.content.decode()  # finished: no more polling


def test_upload_of_a_wrong_file_type_is_refused(client_for, staff_user):
    response = client_for(staff_user).post(reverse("leads:import-start"), {
        "kind": "companies", "on_duplicate": "skip",
        "file": SimpleUploadedFile("list.xlsx", b"%PDF-1.4 not a workbook")})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_template_download_has_the_chinese_headers_and_imports_back(client_for, staff_user):
    client = client_for(staff_user)
    response = client.get(reverse("leads:import-template", args=["projects"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:2] == ["企业名称*", "统一社会信用代码"]
    assert "项目名称*" in headers and "下一步日期" in headers
    assert client.get(reverse("leads:import-template", args=["nonsense"])).status_code == 404

    # The template, filled in, is accepted as it is.
    sheet.append(["模板企业有限公司"] + [None] * (len(headers) - 1))
    sheet.cell(row=2, column=headers.index("项目名称*") + 1, value="模板项目")
    sheet.cell(row=2, column=headers.index("下一步") + 1, value="首次拜访")
    sheet.cell(row=2, column=headers.index("下一步日期") + 1, value=date(2030, 1, 2))
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    job = start(staff_user, buffer.getvalue(), kind="projects")
    assert job.status == ImportJob.Status.VALIDATED, job.errors


def test_only_importers_get_in_and_a_job_is_its_uploaders(client_for, staff_user, leader_user,
                                                          make_user):
    job = start(staff_user, xlsx([["企业名称"], ["权限企业有限公司"]]))
    leader = client_for(leader_user)
    assert leader.get(reverse("leads:import-start")).status_code == 403
    assert leader.get(reverse("leads:import-template", args=["companies"])).status_code == 403
    assert leader.get(reverse("leads:import-detail", args=[job.pk])).status_code == 403

    other = client_for(make_user(Role.INVESTMENT_STAFF))
    assert other.get(reverse("leads:import-detail", args=[job.pk])).status_code == 404
    assert other.get(reverse("leads:import-progress", args=[job.pk])).status_code == 404
    assert other.post(reverse("leads:import-commit", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED


def test_an_administrator_may_import_companies_but_not_projects(client_for, admin_user):
    client = client_for(admin_user)
    response = client.post(reverse("leads:import-start"), {
        "kind": "projects", "on_duplicate": "skip",
        "file": SimpleUploadedFile("p.xlsx", xlsx([["企业名称", "项目名称"], ["甲", "乙"]]))})
    assert response.status_code == 200
    assert response.context["form"].errors["kind"]


# --- Large files: a real Celery worker ----------------------------------------------------------
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_large_file_is_checked_and_committed_by_the_worker(reference_data, celery_worker_process,
                                                           client_for, staff_user, settings):
    # Only the web side decides whether to enqueue; the worker just runs what it is given.
    settings.LEADS_IMPORT_ASYNC_THRESHOLD_BYTES = 1024
    rows = [["企业名称", "统一社会信用代码", "行业代码", "注册资本(万元)"]]
    rows += [[f"异步企业{i:04d}有限公司", uscc(5000 + i), "65", f"{i}.5"] for i in range(450)]
    content = xlsx(rows)
    assert len(content) > settings.LEADS_IMPORT_ASYNC_THRESHOLD_BYTES
    client = client_for(staff_user)

    response = client.post(reverse("leads:import-start"), {
        "kind": "companies", "on_duplicate": "skip",
        "file": SimpleUploadedFile("large.xlsx", content)})
    job = ImportJob.objects.get(uploaded_by=staff_user)
    try:
        assert response.status_code == 302
        page = client.get(reverse("leads:import-detail", args=[job.pk])).content.decode()
        if job.status == ImportJob.Status.PENDING:
            assert 'hx-trigger="every 1s"' in page  # the page polls while the worker checks
        assert wait_until(lambda: ImportJob.objects.get(pk=job.pk).status
                          == ImportJob.Status.VALIDATED, timeout=60)

        client.post(reverse("leads:import-commit", args=[job.pk]))
        seen = []  # what the progress endpoint reported while the worker committed

        def finished() -> bool:
            seen.append(client.get(reverse("leads:import-progress", args=[job.pk]))
                        .context["progress"]["status"])
            return ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE

        assert wait_until(finished, timeout=120), ImportJob.objects.get(pk=job.pk).errors
        assert seen[0] == "committing"  # queued: the page stops offering the button at once
        job.refresh_from_db()
        assert job.created_count == 450
        assert Company.objects.get(uscc=uscc(5449)).registered_capital_wan == Decimal("449.50")
        progress = client.get(reverse("leads:import-progress", args=[job.pk]),
                              headers={"HX-Request": "true"})
        assert progress.context["progress"]["percent"] == 100
        assert progress["HX-Refresh"] == "true"  # tells the polling page to show the result
    finally:
        job.file.delete(save=False)


def test_a_commit_of_many_rows_is_queued_and_cannot_be_started_twice(
    staff_user, client_for, settings, django_capture_on_commit_callbacks
):
    settings.LEADS_IMPORT_ASYNC_THRESHOLD_ROWS = 2  # small file, but more rows than this
    rows = [["企业名称"], ["排队一有限公司"], ["排队二有限公司"], ["排队三有限公司"]]
    job = start(staff_user, xlsx(rows))
    assert job.status == ImportJob.Status.VALIDATED  # the check itself ran in the request
    client = client_for(staff_user)
    commit_url = reverse("leads:import-commit", args=[job.pk])

    with django_capture_on_commit_callbacks() as enqueued:
        client.post(commit_url)
    assert len(enqueued) == 1  # the task is sent once the request's writes are committed
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED  # the worker has not claimed it yet ...
    page = client.get(reverse("leads:import-detail", args=[job.pk])).content.decode()
    assert commit_url not in page  # ... but the button is gone and the page polls
    assert 'hx-trigger="every 1s"' in page
    with django_capture_on_commit_callbacks() as enqueued_again:
        response = client.post(commit_url, follow=True)
    assert enqueued_again == []
    assert "cannot be started" in response.content.decode()

    import_commit_task(job.pk)  # what the worker does with the message
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 3


def test_progress_reads_the_cache_while_a_commit_is_under_way(staff_user):
    job = start(staff_user, xlsx([["企业名称"], ["进度企业有限公司"]]))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.COMMITTING)
    job.refresh_from_db()
    publish(job.pk, ImportJob.Status.COMMITTING, 400, 1000)  # as the task does
    assert import_progress(job=job) | {"status_label": None} == {
        "status": "committing", "status_label": None, "processed": 400, "total": 1000,
        "percent": 40, "active": True}
