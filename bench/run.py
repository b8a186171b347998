"""Benchmark at scale on PostgreSQL: `make bench` (BENCH_SCALE=100 by default).

1. seeds a fresh database (drop & create, migrate, seed_demo --scale N);
2. times every hot path many times, interleaved with its floor (one hand-written SQL query
   returning the same rows or figures) and, for lists, the Django admin changelist of the same
   model: median and p95, queries per request;
3. imports 100,000 companies from .xlsx and .csv (bench/imports_bench.py, in a subprocess for
   peak memory) beside PostgreSQL COPY of the same rows;
4. scans and delivers 100,000 due reminders with two Celery workers (bench/reminders_bench.py);
5. a bounded locust load run against gunicorn on 127.0.0.1 (bench/locustfile.py);
6. the fulfilment list and the acceptance report (issue 14), the leaders' fulfilment figures
   and the daily refresh of every obligation (bench/fulfilment_bench.py);
then writes bench/results/latest.json and BENCHMARKS.md.

Run from the repository root: `.venv/bin/python bench/run.py --scale 10 [--skip-seed]
[--only reads,imports,reminders,load,fulfilment] [--iterations 40] [--load-seconds 60]`.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/crm_bench"


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


def bench_env() -> dict:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DB)
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    env["DEBUG"] = "0"  # DEBUG keeps every query in memory: not what production runs
    env.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    return env


def manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def seed(scale: int, env: dict) -> float:
    url = urlparse(env["DATABASE_URL"])
    name = url.path.lstrip("/")
    if not name.startswith("crm_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the bench only drops crm_bench*")
    admin = url._replace(path="/postgres").geturl()
    import psycopg2

    connection = psycopg2.connect(admin)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    log(f"migrating {name}")
    manage("migrate", "--no-input", "-v", "0", env=env)
    log(f"seeding scale {scale}")
    started = time.perf_counter()
    manage("seed_demo", "--scale", str(scale), env=env)
    seconds = time.perf_counter() - started
    log(f"seeded in {seconds:.0f} s")
    # A production server's autovacuum would have set the visibility map and statistics by
    # the time anyone reads; this machine runs with autovacuum off, so do it once here.
    connection = psycopg2.connect(env["DATABASE_URL"])
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    connection.close()
    log("vacuumed and analysed")
    return seconds


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(p95 * 1000, 2), "n": len(ordered)}


def machine() -> dict:
    import psycopg2

    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count()}
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
        info["memory_gib"] = round(kb / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    connection = psycopg2.connect(bench_env()["DATABASE_URL"])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        info["postgresql"] = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        info["shared_buffers"] = cursor.fetchone()[0]
    connection.close()
    return info


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--skip-seed", action="store_true",
                        help="reuse the database as it is (development of the bench)")
    parser.add_argument("--only", default="reads,imports,reminders,load,fulfilment")
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--load-users", type=int, default=50)
    args = parser.parse_args()
    env = bench_env()
    os.environ.update(env)
    sections = set(args.only.split(","))
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = {}
    latest = RESULTS / "latest.json"
    if args.skip_seed and latest.exists():
        previous = json.loads(latest.read_text())  # keep sections not re-run
    results = {**previous, "scale": args.scale,
               "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    if not args.skip_seed:
        results["seed_seconds"] = round(seed(args.scale, env), 1)
    results["machine"] = machine()

    def keep() -> None:
        """Write what is measured so far: a later section failing loses nothing."""
        latest.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))

    keep()
    if "reads" in sections:
        import readpaths

        log("read paths")
        results["reads"] = readpaths.run(iterations=args.iterations)
        results["row_counts"] = readpaths.row_counts()
        keep()
    if "imports" in sections:
        import imports_bench

        log(f"imports of {args.import_rows} rows")
        results["imports"] = imports_bench.run(rows=args.import_rows, env=env)
        keep()
    if "reminders" in sections:
        import reminders_bench

        log(f"reminders: {args.reminders}")
        results["reminders"] = reminders_bench.run(count=args.reminders, env=env)
        keep()
    if "fulfilment" in sections:
        import fulfilment_bench

        log("fulfilment: list, acceptance report, figures, refresh")
        results["fulfilment"] = fulfilment_bench.run(iterations=args.iterations)
        keep()
    if "load" in sections:
        import load_bench

        log(f"load run: {args.load_users} users, {args.load_seconds} s")
        results["load"] = load_bench.run(users=args.load_users, seconds=args.load_seconds,
                                         env=env)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    notes = BENCH / "NOTES.md"  # the explanations, written by hand, kept between runs
    results["notes_md"] = notes.read_text() if notes.exists() else ""
    latest.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    import report

    (ROOT / "BENCHMARKS.md").write_text(report.render(results))
    log(f"wrote {latest.relative_to(ROOT)} and BENCHMARKS.md")


if __name__ == "__main__":
    main()
