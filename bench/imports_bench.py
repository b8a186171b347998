"""Import of N new companies from .xlsx and .csv through leads.imports (create → validate →
commit), each in its own subprocess so its peak RSS is its own, beside PostgreSQL COPY of the
same rows. The imported companies are deleted after each run, so every format creates N; a
format that does not leave exactly N of them in the database fails the bench (RuntimeError).

Run alone (it does not touch bench/results/latest.json or BENCHMARKS.md):
`BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_x .venv/bin/python
bench/imports_bench.py --rows 100000` on a database seeded by `manage.py seed_demo`.
"""

import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where the generated files go; BENCH_IMPORTS_DIR lets two benches share a checkout.
WORK = Path(os.environ.get("BENCH_IMPORTS_DIR") or ROOT / "bench" / "results" / "imports")
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
    started, started_cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as handle:
        job = imports.import_job_create(by=by, kind=ImportJob.Kind.COMPANIES,
                                        upload=File(handle, name=Path(path).name),
                                        on_duplicate=ImportJob.OnDuplicate.SKIP)
    validated, validated_cpu = time.perf_counter(), time.process_time()
    job.refresh_from_db()
    status_after_check = job.status
    errors = [e for e in job.errors if e.get("level", "error") == "error"][:5]
    if job.status == ImportJob.Status.VALIDATED:
        job = imports.import_commit(job=job)
    done, done_cpu = time.perf_counter(), time.process_time()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from leads.models import Company

    # Counted in the database, not taken from the job: a commit that says "done" but wrote
    # the wrong rows must not pass.
    in_database = Company.objects.filter(name__startswith=PREFIX).count()
    print(json.dumps({
        "status": job.status, "status_after_check": status_after_check, "errors": errors,
        "created": job.created_count, "in_database": in_database, "total": job.total_rows,
        "validate_s": round(validated - started, 2), "commit_s": round(done - validated, 2),
        "seconds": round(done - started, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
        # CPU (user + sys) of this process by step: less sensitive than wall time to a loaded
        # machine. PostgreSQL's own work is not in it.
        "validate_cpu_s": round(validated_cpu - started_cpu, 2),
        "commit_cpu_s": round(done_cpu - validated_cpu, 2),
    }))


def run(*, rows: int, env: dict) -> dict:
    paths = write_files(rows)
    result = {"rows": rows}
    for fmt in ("xlsx", "csv"):
        _cleanup(env)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([sys.executable, __file__, "worker", str(paths[fmt])], cwd=ROOT,
                              env=env, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            result[fmt] = {"error": done.stderr[-2000:], "ok": False}
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        # The whole subprocess, start-up (Django, imports) included.
        figures["cpu_s"] = round(after.ru_utime + after.ru_stime
                                 - before.ru_utime - before.ru_stime, 2)
        figures["rows_per_s"] = round(rows / figures["seconds"]) if figures["seconds"] else 0
        figures["ok"] = (figures["status"] == "done" and figures["created"] == rows
                         and figures["in_database"] == rows)
        result[fmt] = figures
        print(f"  import {fmt}: {figures}", flush=True)
    _cleanup(env)
    copy = result["copy"] = _copy(paths["csv"], env)
    for fmt in ("xlsx", "csv"):
        figures = result[fmt]
        if "seconds" in figures:
            # The floor beside each format: the same rows by COPY, measured in this run.
            figures["copy_rows_per_s"] = copy["rows_per_s"]
            figures["x_copy"] = round(figures["seconds"] / copy["seconds"], 1)
        print(f"  {fmt}: {figures.get('rows_per_s')} rows/s, {figures.get('seconds')} s "
              f"(CPU {figures.get('cpu_s')} s), peak {figures.get('peak_rss_mb')} MB; "
              f"COPY {copy['rows_per_s']} rows/s, "
              f"import = {figures.get('x_copy')} × COPY time", flush=True)
    failed = [fmt for fmt in ("xlsx", "csv") if not result[fmt]["ok"]]
    if failed:
        raise RuntimeError(
            f"import bench: {', '.join(failed)} did not create exactly {rows} companies: "
            + json.dumps({fmt: result[fmt] for fmt in failed}, ensure_ascii=False)[:4000])
    return result


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    env = dict(os.environ)
    env["DATABASE_URL"] = env.get("BENCH_DATABASE_URL") or env["DATABASE_URL"]
    if not env["DATABASE_URL"].rsplit("/", 1)[-1].startswith("crm_bench"):
        raise SystemExit("refusing to run outside a crm_bench* database: it writes and deletes "
                         "companies")
    env["DEBUG"] = "0"  # DEBUG keeps every query in memory: not what production runs
    env.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    print(json.dumps(run(rows=args.rows, env=env), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2])
    else:
        main()
