"""Import of N new companies from .xlsx and .csv through leads.imports (create → validate →
commit), each in its own subprocess so its peak RSS is its own, beside PostgreSQL COPY of the
same rows. The imported companies are deleted after each run, so every format creates N."""

import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "results" / "imports"
PREFIX = "导入样本"  # every imported name starts with it, so the cleanup finds them
HEADERS = ["企业名称", "统一社会信用代码", "行业代码", "注册资本(万元)", "总部所在地", "备注"]


def _rows(count: int) -> list[list]:
    import random

    sys.path.insert(0, str(ROOT))
    from leads.uscc import USCC_ALPHABET, make_uscc

    rng = random.Random(4754)
    rows, seen = [], set()
    industries = ["6510", "6520", "3971", "3976", "8710", "6421"]
    for number in range(count):
        while True:
            code = make_uscc("91320583" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9)))
            if code not in seen:
                seen.add(code)
                break
        rows.append([f"{PREFIX}{number:06d}科技有限公司", code,
                     industries[number % len(industries)][:2], rng.randint(100, 90000),
                     "江苏省苏州市昆山市", "bench"])
    return rows


def write_files(count: int) -> dict[str, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    rows = _rows(count)
    paths = {"csv": WORK / f"companies-{count}.csv", "xlsx": WORK / f"companies-{count}.xlsx"}
    with open(paths["csv"], "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("企业")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(paths["xlsx"])
    return paths


def _cleanup(env) -> None:
    import psycopg2

    connection = psycopg2.connect(env["DATABASE_URL"])
    with connection, connection.cursor() as cursor:
        like = PREFIX + "%"
        cursor.execute("DELETE FROM leads_companychainlink WHERE company_id IN (SELECT id FROM "
                       "leads_company WHERE name LIKE %s)", [like])
        cursor.execute("DELETE FROM leads_contact WHERE company_id IN (SELECT id FROM "
                       "leads_company WHERE name LIKE %s)", [like])
        cursor.execute("DELETE FROM leads_company_tags WHERE company_id IN (SELECT id FROM "
                       "leads_company WHERE name LIKE %s)", [like])
        cursor.execute("DELETE FROM leads_company WHERE name LIKE %s", [like])
        cursor.execute("DELETE FROM leads_historicalcompany WHERE name LIKE %s", [like])
    connection.close()


def _copy(path: Path, env) -> dict:
    """The floor: the same rows into leads_company with COPY (derived keys computed in Python
    the way Company.save() does), in a transaction rolled back afterwards."""
    import io

    import psycopg2

    sys.path.insert(0, str(ROOT))
    from leads.search import pinyin_initials
    from leads.uscc import normalize_company_name

    started = time.perf_counter()
    buffer = io.StringIO()
    with open(path, encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        count = 0
        for name, uscc, _industry, capital, region, notes in reader:
            buffer.write("\t".join([name, normalize_company_name(name), pinyin_initials(name),
                                    uscc, capital, "CNY", "", region, "", "", notes,
                                    "2026-01-01T00:00:00+00:00",
                                    "2026-01-01T00:00:00+00:00"]) + "\n")
            count += 1
    buffer.seek(0)
    prepared = time.perf_counter()
    connection = psycopg2.connect(env["DATABASE_URL"])
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY leads_company (name, name_key, name_initials, uscc, registered_capital_wan, "
            "capital_currency, hq_region_code, hq_region_name, source_region, website, notes, "
            "created_at, updated_at) FROM STDIN", buffer)
    seconds = time.perf_counter() - prepared  # the database's part only: the strict floor
    connection.rollback()
    connection.close()
    return {"rows": count, "seconds": round(seconds, 2), "rows_per_s": round(count / seconds),
            "prepare_s": round(prepared - started, 2)}


def worker(path: str) -> None:
    """In the subprocess: create the job (the dry run runs inline), commit, report."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.conf import settings
    from django.core.files import File

    from crm.accounts.models import User
    from leads import imports
    from leads.models import ImportJob

    # Run both steps here, not in Celery: the bench times the work, not the queue.
    settings.LEADS_IMPORT_ASYNC_THRESHOLD_BYTES = 10**12
    settings.LEADS_IMPORT_ASYNC_THRESHOLD_ROWS = 10**9
    by = User.objects.get(username="zhang.wei")
    started = time.perf_counter()
    with open(path, "rb") as handle:
        job = imports.import_job_create(by=by, kind=ImportJob.Kind.COMPANIES,
                                        upload=File(handle, name=Path(path).name),
                                        on_duplicate=ImportJob.OnDuplicate.SKIP)
    validated = time.perf_counter()
    job.refresh_from_db()
    status_after_check = job.status
    errors = [e for e in job.errors if e.get("level", "error") == "error"][:5]
    if job.status == ImportJob.Status.VALIDATED:
        job = imports.import_commit(job=job)
    done = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "status": job.status, "status_after_check": status_after_check, "errors": errors,
        "created": job.created_count, "total": job.total_rows,
        "validate_s": round(validated - started, 2), "commit_s": round(done - validated, 2),
        "seconds": round(done - started, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
    }))


def run(*, rows: int, env: dict) -> dict:
    paths = write_files(rows)
    result = {"rows": rows}
    for fmt in ("xlsx", "csv"):
        _cleanup(env)
        done = subprocess.run([sys.executable, __file__, "worker", str(paths[fmt])], cwd=ROOT,
                              env=env, capture_output=True, text=True)
        if done.returncode:
            result[fmt] = {"error": done.stderr[-2000:]}
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        figures["rows_per_s"] = round(rows / figures["seconds"]) if figures["seconds"] else 0
        figures["ok"] = figures["status"] == "done" and figures["created"] == rows
        result[fmt] = figures
        print(f"  import {fmt}: {figures}", flush=True)
    _cleanup(env)
    result["copy"] = _copy(paths["csv"], env)
    return result


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    worker(sys.argv[2])
