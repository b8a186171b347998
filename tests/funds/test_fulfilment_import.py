"""The actuals import (统计局报表 → actuals), through its pages as a user works it: upload, dry
run, commit. A good file records every row and the obligations' statuses follow; a file with bad
rows names each row, column and reason and writes nothing; a hostile file is refused with the
limit it broke; a confidential project stays unnamed; only the project's team imports. And once
on SQLite, as `make run` serves it."""

import datetime
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from crm.accounts.roles import Role
from funds.fulfilment import selectors, services
from funds.fulfilment.models import Actual, Agreement, Status
from tests.factories import make_project, valid_uscc

from .fulfilment_world import PDF, D, agreement_world, signed_project, staff_and_leader

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

HEADERS = ["统一社会信用代码", "企业名称", "年度", "季度", "完成投资（万元）",
           "其中固定资产投资（万元）", "到位资金（万元）", "产值（万元）", "税收（万元）",
           "从业人员（人）"]


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def page(client):
    """A page client for `user`, reading English."""
    def login(user):
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return login


def upload(client, content: bytes, name: str = "统计局报表.xlsx", **fields):
    return client.post(reverse("fulfilment:actuals-import"),
                       {"file": SimpleUploadedFile(name, content), **fields})


def checked(client, content: bytes, name: str = "统计局报表.xlsx", **fields):
    """Upload, follow to the dry run; returns (dry-run response, its commit URL)."""
    response = upload(client, content, name, **fields)
    assert response.status_code == 302, response.content.decode()[:3000]
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    return client.get(response["Location"]), reverse("fulfilment:actuals-import-commit",
                                                     args=[token])


def quarterly_agreement(staff, **fields):
    return services.agreement_create(
        by=staff, project=signed_project(staff, **fields), title="季报协议", parties="甲；乙",
        signed_on=datetime.date(2026, 2, 10), committed_investment_wan=D("8000"),
        reporting=Agreement.Reporting.QUARTER)


def uscc_of(agreement) -> str:
    return agreement.project.company.uscc


def test_a_good_file_records_every_row_and_the_statuses_follow(make_user, page):
    """The world's figures (fulfilment_world), this time imported: 2024 and 2025 of its yearly
    agreement, and two quarters of a quarterly one. Before the import nothing is reported, so
    `jobs` (120 by 2025-12-31) is not met; after it the rules give the docstring's figures."""
    staff, _leader = staff_and_leader(make_user)
    agreement, ob = agreement_world(staff)
    Actual.objects.filter(agreement=agreement).delete()  # the world, before its actuals
    services.obligations_refresh(agreements=[agreement])
    assert Agreement.objects.get(pk=agreement.pk).obligations.get(pk=ob["jobs"].pk).status \
        != Status.MET
    quarterly = quarterly_agreement(staff)
    client = page(staff)
    content = xlsx([
        [*HEADERS, "所属园区"],
        [uscc_of(agreement), "测试公司", 2024, None, 3000, 2500, 3000, 6000, 100, 50, "元宇宙"],
        [uscc_of(agreement), "测试公司", "2025年", "", 5000, 4500, 4000, 10000, 400, 150, ""],
        [],  # a blank row is skipped, but counted: the next is row 5
        [uscc_of(quarterly), "季报公司", 2026, "一季度", 120.5, 100, 80, 0, 3.25, 12, ""],
        [uscc_of(quarterly), "季报公司", 2026, "Q2", "1,000", 900, 500, 300, 10, 20, ""],
    ])
    dry, commit_url = checked(client, content)
    assert dry.status_code == 200
    text = dry.content.decode()
    assert "4 periods are ready to import, for 2 agreements." in text
    assert "Not a column of the actuals import: left out." in text  # 所属园区
    assert dry.context["errors"] == []
    assert [row.number for row in dry.context["checked"].rows] == [2, 3, 5, 6]
    assert Actual.objects.count() == 0  # a dry run writes nothing

    done = client.post(commit_url)
    assert done.status_code == 302
    assert done["Location"] == reverse("fulfilment:obligation-list")
    yearly = {a.period_start.year: a for a in Actual.objects.filter(agreement=agreement)}
    assert sorted(yearly) == [2024, 2025]
    assert (yearly[2025].period_end, yearly[2025].investment_wan,
            yearly[2025].fixed_asset_investment_wan, yearly[2025].funds_arrived_wan,
            yearly[2025].output_value_wan, yearly[2025].tax_wan, yearly[2025].jobs) == (
        datetime.date(2025, 12, 31), D("5000"), D("4500"), D("4000"), D("10000"), D("400"), 150)
    assert yearly[2025].recorded_by == staff
    quarters = list(Actual.objects.filter(agreement=quarterly).order_by("period_start")
                    .values_list("period_start", "period_end", "investment_wan", "tax_wan",
                                 "jobs"))
    assert quarters == [
        (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31), D("120.50"), D("3.25"), 12),
        (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30), D("1000"), D("10"), 20)]

    # The rules, on the imported figures: as fulfilment_world's docstring works them out.
    fresh = Agreement.objects.prefetch_related("obligations", "actuals").get(pk=agreement.pk)
    states = {o.pk: s for o, s in selectors.obligation_states(fresh, datetime.date(2026, 4, 1))}
    assert (states[ob["fixed"].pk].status, states[ob["fixed"].pk].actual) == (
        Status.BREACHED, D("7000"))
    assert (states[ob["tax_per_mu"].pk].status, states[ob["tax_per_mu"].pk].actual) == (
        Status.BREACHED, D("8.00"))
    assert (states[ob["jobs"].pk].status, states[ob["jobs"].pk].actual) == (Status.MET, D("150"))
    # And the stored statuses (today's) were refreshed by the commit.
    stored = dict(fresh.obligations.values_list("pk", "status"))
    assert stored[ob["jobs"].pk] == Status.MET
    assert stored[ob["fixed"].pk] == Status.BREACHED

    # A second click on the commit finds the file gone: nothing is recorded twice.
    assert client.post(commit_url).status_code == 404
    assert Actual.objects.count() == 4


def test_bad_rows_are_named_by_row_column_and_reason_and_nothing_is_written(make_user, page):
    staff, _leader = staff_and_leader(make_user)
    other = make_user(Role.INVESTMENT_STAFF)
    first, _ob = agreement_world(staff)  # yearly, signed 2024-03-01, 2024 and 2025 recorded
    second, _ob = agreement_world(staff)
    quarterly = quarterly_agreement(staff)
    secret = services.agreement_create(
        by=other, project=signed_project(other, confidential=True, name="机密谈判项目"),
        title="机密协议", parties="甲；乙", signed_on=datetime.date(2024, 1, 5),
        committed_investment_wan=D("100"))
    before = Actual.objects.count()
    a, b, q = uscc_of(first), uscc_of(second), uscc_of(quarterly)
    content = xlsx([
        HEADERS,
        [a, "", 2026, 2, 10, 5, 0, 0, 0, 1],  # 2: a quarter, but the agreement is yearly
        [a, "", 2026, None, -5, 0, 0, 0, 0, 1],  # 3: a negative figure
        [valid_uscc(987654), "", 2026, None, 1, 0, 0, 0, 0, 1],  # 4: no such company
        [a, "", 2024, None, 1, 0, 0, 0, 0, 1],  # 5: 2024 is recorded already
        [b, "", 2026, None, 100, 200, 0, 0, 0, 1],  # 6: fixed assets above the investment
        [uscc_of(secret), "", 2026, None, 1, 0, 0, 0, 0, 1],  # 7: another team's secret
        [a, "", 2023, None, 1, 0, 0, 0, 0, 1],  # 8: before the signing year
        [b, "", 2026, None, 1, 0, 0, 0, 0, 1],  # 9: row 6's period again
        ["12345", "", 2026, None, 1, 0, 0, 0, 0, 1],  # 10: not a credit code
        [q, "", 2026, "五", 1, 0, 0, 0, 0, 1],  # 11: not a quarter
        [q, "", 2026, 1, 1, 0, 0, 0, 0, 1],  # 12: a good row, not written either
        [q, "", 2026, 2, None, None, None, None, None, None],  # 13: no figures
    ])
    client = page(staff)
    dry, commit_url = checked(client, content)
    problems = [(p["row"], p["column"], p["message"]) for p in dry.context["errors"]]
    no_agreement = "No agreement you keep for this credit code."
    assert problems == [
        (2, "季度", "This agreement reports by calendar year (1 January to 31 December)."),
        (3, "完成投资（万元）", "The amount cannot be negative."),
        (4, "统一社会信用代码", no_agreement),
        (5, "年度", "Actuals for this period are already recorded."),
        (6, "其中固定资产投资（万元）",
         "Fixed-asset investment is part of the investment made and cannot exceed it."),
        (7, "统一社会信用代码", no_agreement),
        (8, "年度", "The period is before the agreement was signed (2024-03-01)."),
        (9, "年度", "The same period of the same agreement as row 6."),
        (10, "统一社会信用代码",
         "A unified social credit code has 18 characters; this one has 5."),
        (11, "季度", "“五” is not a quarter: write 1 to 4, or leave it empty for the whole "
                     "year."),
        (13, "", "The row has no figures: fill in at least one."),
    ]
    text = dry.content.decode()
    assert "11 problems found. Nothing has been written" in text
    assert "Import now" not in text
    for secret_word in ("机密谈判项目", "机密协议", secret.project.company.name):
        assert secret_word not in text
    # Trying the commit anyway writes nothing and shows the problems again.
    refused = client.post(commit_url)
    assert refused.status_code == 200
    assert "Nothing was imported; see the problems below." in refused.content.decode()
    assert Actual.objects.count() == before
    assert not Actual.objects.filter(agreement=quarterly).exists()
    # The secret's own team keeps it: for them row 7 is a row like any other.
    theirs, _url = checked(page(other), xlsx([HEADERS, [uscc_of(secret), "", 2026, None, 1,
                                                        0, 0, 0, 0, 1]]))
    assert theirs.context["errors"] == []
    assert "机密协议" in theirs.content.decode()


def test_a_company_with_several_agreements_reports_to_the_latest_signed_one_it_keeps(
        make_user, page):
    staff, _leader = staff_and_leader(make_user)
    other = make_user(Role.INVESTMENT_STAFF)
    older, _ob = agreement_world(staff)
    company = older.project.company
    newer = services.agreement_create(by=staff, project=older.project, title="补充协议",
                                      parties="甲；乙", signed_on=datetime.date(2025, 6, 1),
                                      committed_investment_wan=D("100"))
    # A later agreement of the same company, on another team's project: not the user's.
    theirs = make_project(owner=other, stage_code="signed", agreed=D("100"), company=company,
                          agreement=SimpleUploadedFile("协议.pdf", PDF))
    services.agreement_create(by=other, project=theirs, title="他人协议", parties="甲；乙",
                              signed_on=datetime.date(2026, 1, 1),
                              committed_investment_wan=D("100"))
    # Uploaded from the older agreement's page: the row still goes to the newer one, and the
    # commit returns to the page it came from.
    client = page(staff)
    form = client.get(reverse("fulfilment:actuals-import") + f"?agreement={older.pk}")
    assert f'name="agreement" value="{older.pk}"' in form.content.decode()
    dry, commit_url = checked(client, xlsx([HEADERS, [company.uscc, "", 2026, None, 7, 0, 0, 0,
                                                      0, 1]]), agreement=older.pk)
    assert dry.context["errors"] == []
    assert "补充协议" in dry.content.decode() and "他人协议" not in dry.content.decode()
    done = client.post(commit_url)
    assert done["Location"] == older.get_absolute_url()
    assert Actual.objects.get(period_start=datetime.date(2026, 1, 1),
                              agreement__project__company=company).agreement == newer


def test_hostile_files_are_refused_cleanly(make_user, page, settings):
    staff, _leader = staff_and_leader(make_user)
    agreement, _ob = agreement_world(staff)
    client = page(staff)
    before = Actual.objects.count()
    # Not a zip, though it says .xlsx: the upload check refuses it; nothing is kept.
    response = upload(client, b"this is not a spreadsheet", "report.xlsx")
    assert response.status_code == 200
    assert "The content of report.xlsx is not a .xlsx file." in response.content.decode()
    response = upload(client, b"MZ\x90\x00", "report.exe")
    assert "Files of type .exe are not accepted." in response.content.decode()
    rows = [[uscc_of(agreement), "", 2026 + n, None, 1, 0, 0, 0, 0, 1] for n in range(5)]
    # More rows than the actuals import checks in a request: refused, with the row it stopped.
    settings.FULFILMENT_IMPORT_MAX_ROWS = 3
    dry, commit_url = checked(client, xlsx([HEADERS, *rows]))
    assert [(p["row"], p["message"]) for p in dry.context["errors"]] == [
        (5, "The file has more than 3 rows of data, the limit of the actuals import.")]
    assert client.post(commit_url).status_code == 200
    # Beyond the imports' own limits (IMPORT_*), as the zip's directory shows them at once.
    del settings.FULFILMENT_IMPORT_MAX_ROWS
    settings.IMPORT_MAX_ROWS = 3
    response = upload(client, xlsx([HEADERS, *rows]))
    assert response.status_code == 200
    assert ("The file declares the range A1:J6, beyond the limit: at most 60 columns and 3 "
            "rows of data.") in response.content.decode()
    settings.IMPORT_MAX_ROWS = 100_000
    settings.IMPORT_MAX_UNPACKED_BYTES = 2_000  # a zip bomb's signature: unpacks to too much
    response = upload(client, xlsx([HEADERS, *rows]))
    assert "beyond the limit of 2.0" in response.content.decode()
    assert Actual.objects.count() == before


@pytest.mark.parametrize("role", [Role.PARK_MANAGER, Role.ADMINISTRATOR, Role.LEADER,
                                  Role.FUND_REVIEWER])
def test_only_investment_staff_reach_the_import(make_user, page, role):
    client = page(make_user(role))
    for name in ("fulfilment:actuals-import", "fulfilment:actuals-import-template"):
        assert client.get(reverse(name)).status_code == 403
    assert upload(client, xlsx([HEADERS])).status_code == 403


def test_a_checked_file_is_its_uploaders_alone(make_user, page, client):
    staff, _leader = staff_and_leader(make_user)
    agreement, _ob = agreement_world(staff)
    _dry, commit_url = checked(page(staff), xlsx([HEADERS, [uscc_of(agreement), "", 2026, None,
                                                              1, 0, 0, 0, 0, 1]]))
    check_url = commit_url.removesuffix("commit/")
    client.force_login(make_user(Role.INVESTMENT_STAFF))
    assert client.get(check_url).status_code == 404
    assert client.post(commit_url).status_code == 404
    assert client.get(reverse("fulfilment:actuals-import-check",
                              args=["0" * 32])).status_code == 404


def test_the_template_has_the_headers(staff_user, page):
    response = page(staff_user).get(reverse("fulfilment:actuals-import-template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    headers = [cell.value for cell in next(book.worksheets[0].iter_rows(max_row=1))]
    assert headers == ["统一社会信用代码*", "企业名称", "年度*", "季度", "完成投资（万元）",
                       "其中固定资产投资（万元）", "到位资金（万元）", "产值（万元）",
                       "税收（万元）", "从业人员（人）", "备注"]
    assert book.worksheets[1].max_row == len(headers) + 1  # the guide, a line per column
    # The upload page offers it, with the columns.
    text = page(staff_user).get(reverse("fulfilment:actuals-import")).content.decode()
    assert reverse("fulfilment:actuals-import-template") in text
    assert "其中固定资产投资（万元）" in text


SQLITE_SCRIPT = r'''
import datetime, io, json
from decimal import Decimal
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook
from crm.accounts.roles import Role
from funds.fulfilment import services
from funds.fulfilment.models import Actual, Metric
from tests.factories import UserFactory
from tests.funds.fulfilment_world import signed_project

staff = UserFactory(roles=[Role.INVESTMENT_STAFF])
project = signed_project(staff)
agreement = services.agreement_create(
    by=staff, project=project, title="协议", parties="甲；乙",
    signed_on=datetime.date(2024, 3, 1), committed_investment_wan=Decimal("100"))
services.obligation_add(agreement=agreement, by=staff, metric=Metric.JOBS,
                        target=Decimal("10"), due_on=datetime.date(2025, 12, 31))
book = Workbook()
for row in (["统一社会信用代码", "年度", "完成投资（万元）", "从业人员（人）"],
            [project.company.uscc, 2024, 12.5, 5], [project.company.uscc, 2025, 30, 11]):
    book.active.append(row)
buffer = io.BytesIO()
book.save(buffer)
client = Client()
client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
client.force_login(staff)
uploaded = client.post("/fulfilment/import/",
                       {"file": SimpleUploadedFile("报表.xlsx", buffer.getvalue())})
dry = client.get(uploaded["Location"])
done = client.post(uploaded["Location"] + "commit/")
print("RESULT " + json.dumps({
    "upload": uploaded.status_code, "dry": dry.status_code,
    "ready": "2 periods are ready to import" in dry.content.decode(),
    "done": done.status_code,
    "actuals": [[str(a.period_start), str(a.investment_wan), a.jobs]
                for a in Actual.objects.order_by("period_start")],
    "jobs": agreement.obligations.get().status,
}))
'''


def test_the_import_on_sqlite(tmp_path):
    """`make run` serves SQLite and a file cache: the upload waits in that cache for its
    commit. As tests/leads/test_import_sqlite.py: a subprocess on the SQLite settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(CRM_VAR_DIR=str(tmp_path), DEBUG="1", DJANGO_SETTINGS_MODULE="crm.settings",
               CELERY_TASK_ALWAYS_EAGER="1")

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)

    done = manage("migrate", "--no-input", "-v", "0")
    assert done.returncode == 0, done.stderr[-3000:]
    done = manage("shell", "-c", SQLITE_SCRIPT)
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    assert (result["upload"], result["dry"], result["ready"], result["done"]) == (
        302, 200, True, 302), result
    assert result["actuals"] == [["2024-01-01", "12.50", 5], ["2025-01-01", "30.00", 11]]
    assert result["jobs"] == "met"
    assert (tmp_path / "crm.sqlite3").exists()
