"""The import works under `make run` (SQLite, a file cache, no Redis): upload, dry run and
commit through the pages, as a user does, of an .xlsx and of a GBK-encoded .csv, in the
request and through the Celery task (run inline by CELERY_TASK_ALWAYS_EAGER, as the worker
would). Every import once ended there in "检查文件时发生意外错误", because the check built
PostgreSQL's `= ANY((...)::varchar[])`; crm.core.bulk now speaks SQLite too.

Like tests/crm/test_sqlite_demo.py: a subprocess on the SQLite settings (DATABASE_URL,
REDIS_URL and CELERY_BROKER_URL removed from its environment), migrated afresh, running a
script in `manage.py shell` that prints one JSON line per import for the test to assert.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import csv, io, json
from datetime import date
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook
from crm.accounts.models import User
from crm.accounts.roles import Role
from leads.models import Company, ImportJob, Project
from leads.services import company_create, project_create
from leads.uscc import make_uscc

def uscc(n):
    return make_uscc(f"913205{n:011d}")

def xlsx(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

def gbk_csv(rows):
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode("gbk")

user = User.objects.create_user("importer", password="x", full_name="导入员")
user.groups.add(Group.objects.get(name=Role.INVESTMENT_STAFF))
other = User.objects.create_user("chaser", password="x", full_name="王招商")
other.groups.add(Group.objects.get(name=Role.INVESTMENT_STAFF))
chased = company_create(by=other, name="已在库科技有限公司", uscc=uscc(900))
project_create(by=other, company=chased, name="保密谈判项目", confidential=True,
               next_step="回访", next_step_on=date(2030, 1, 1))
client = Client()
client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # messages asserted in English
client.force_login(user)

COMPANIES = [["企业名称", "统一社会信用代码", "行业代码", "产业链环节", "注册资本(万元)", "联系人"]]
cases = [
    ("xlsx-inline", "companies", "list.xlsx", xlsx(COMPANIES + [
        ["轻量甲科技有限公司", uscc(1), "65", "近眼显示", 5000.5, "王工"],
        ["轻量乙科技有限公司", "", "3973", "", "12", ""],
        ["已在库科技有限公司", uscc(900), "", "", "", ""],
    ]), False),
    ("csv-gbk-inline", "companies", "名单.csv", gbk_csv(COMPANIES + [
        ["杭州元境数字科技有限公司", uscc(2), "65", "", "300", "李工"],
        ["苏州感知交互科技有限公司", uscc(3), "", "", "", ""],
    ]), False),
    ("xlsx-task", "companies", "large.xlsx", xlsx(COMPANIES + [
        [f"异步{n:03d}科技有限公司", uscc(100 + n), "65", "近眼显示", n, f"联系人{n}"]
        for n in range(60)
    ]), True),
    ("csv-gbk-task", "companies", "大名单.csv", gbk_csv(COMPANIES + [
        [f"国标{n:03d}科技有限公司", uscc(300 + n), "65", "", n, ""] for n in range(40)
    ]), True),
    ("projects-xlsx", "projects", "projects.xlsx", xlsx([
        ["企业名称", "统一社会信用代码", "项目名称", "阶段", "下一步", "下一步日期"],
        ["项目甲科技有限公司", uscc(500), "一期项目", "线索", "拜访", date(2030, 5, 1)],
        ["项目甲科技有限公司", "", "二期项目", "", "考察", "2030-06-01"],
    ]), False),
]
for case, kind, name, content, in_task in cases:
    settings.LEADS_IMPORT_ASYNC_THRESHOLD_BYTES = 1 if in_task else 10**9
    before = Company.objects.count()
    response = client.post("/leads/import/", {"kind": kind, "on_duplicate": "skip",
                                              "file": SimpleUploadedFile(name, content)})
    job = ImportJob.objects.filter(uploaded_by=user).latest("pk")
    detail = client.get(response["Location"])
    checked = job.status
    notices = [p["message"] for p in job.errors if p["level"] == "notice"]
    committed = client.post(f"/leads/import/{job.pk}/commit/", follow=True)
    job.refresh_from_db()
    print("RESULT " + json.dumps({
        "case": case, "upload": response.status_code, "detail": detail.status_code,
        "checked": checked, "status": job.status, "created": job.created_count,
        "skipped": job.skipped_count, "new_companies": Company.objects.count() - before,
        "projects": Project.objects.filter(name__in=["一期项目", "二期项目"]).count(),
        "errors": [p["message"] for p in job.errors if p["level"] == "error"],
        "notices": notices, "page": committed.content.decode(),
    }, ensure_ascii=False))
'''


def test_import_through_the_pages_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(CRM_VAR_DIR=str(tmp_path), DEBUG="1", DJANGO_SETTINGS_MODULE="crm.settings",
               CELERY_TASK_ALWAYS_EAGER="1")

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)

    done = manage("migrate", "--no-input", "-v", "0")
    assert done.returncode == 0, done.stderr[-3000:]
    done = manage("shell", "-c", SCRIPT)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {r["case"]: r for r in (json.loads(line.removeprefix("RESULT "))
                                      for line in done.stdout.splitlines()
                                      if line.startswith("RESULT "))}
    assert set(results) == {"xlsx-inline", "csv-gbk-inline", "xlsx-task", "csv-gbk-task",
                            "projects-xlsx"}, done.stdout[-3000:]
    expected = {"xlsx-inline": (2, 1), "csv-gbk-inline": (2, 0), "xlsx-task": (60, 0),
                "csv-gbk-task": (40, 0), "projects-xlsx": (2, 0)}
    for case, (created, skipped) in expected.items():
        result = results[case]
        assert (result["upload"], result["detail"]) == (302, 200), case
        assert result["errors"] == [], (case, result["errors"])
        assert result["checked"] == "validated", case
        assert result["status"] == "done", case
        assert (result["created"], result["skipped"]) == (created, skipped), case
        if case.endswith("-task"):  # queued, then run by the (inline) worker
            assert "The import has started" in result["page"], case
        else:
            assert (f"Imported: {created} created, 0 updated, {skipped} skipped."
                    in result["page"]), case
    assert results["xlsx-inline"]["new_companies"] == 2
    assert results["csv-gbk-task"]["new_companies"] == 40
    assert results["projects-xlsx"]["new_companies"] == 1
    assert results["projects-xlsx"]["projects"] == 2
    # The duplicate notice (撞单) names who follows the company, not the confidential project.
    notice = " ".join(results["xlsx-inline"]["notices"])
    assert "已在库科技有限公司" in notice and "王招商" in notice
    assert "保密谈判项目" not in notice
    assert (tmp_path / "crm.sqlite3").exists()
