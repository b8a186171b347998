"""BENCHMARKS.md from the raw results (bench/results/latest.json)."""

GOALS = {
    "list_p95_ms": 50, "dashboard_p95_ms": 500, "dashboard_floor_ratio": 2,
    "availability_p95_ms": 30, "import_rows_per_s": 10_000, "import_copy_ratio": 4,
    "import_peak_mb": 500, "reminders_per_s": 2_000, "load_p95_ms": 200,
}


def _ratio(a, b):
    if not a or not b:
        return None
    return round(a / b, 1)


def _fmt(value, suffix=""):
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{suffix}"


def _verdict(ok):
    return "met" if ok else ("**missed**" if ok is False else "—")


def read_goal(row):
    name = row["name"]
    p95 = row["path"]["p95_ms"]
    if "(offset" in name:  # kept beside the cursor case for reference: OFFSET n reads n rows
        return None, "reference (OFFSET)"
    if "dashboard" in name or "chain map" in name:
        ratio = _ratio(row["path"]["median_ms"], row["floor"]["median_ms"])
        return p95 <= GOALS["dashboard_p95_ms"] and (ratio or 0) <= GOALS[
            "dashboard_floor_ratio"], "≤ 500 ms, ≤ 2× floor"
    if "availability" in name:
        return p95 <= GOALS["availability_p95_ms"], "≤ 30 ms"
    if row.get("list"):
        admin = row.get("admin", {}).get("p95_ms")
        return p95 <= GOALS["list_p95_ms"] and (admin is None or p95 < admin), \
            "≤ 50 ms, < admin"
    return None, "—"


def render(results: dict) -> str:
    m = results.get("machine", {})
    out = ["# Benchmarks", "",
           "Written by `make bench` (bench/run.py) from the run below; raw numbers in "
           "bench/last-run.json. Re-run: `make bench BENCH_SCALE=100`.", "",
           "## Machine and data", "",
           f"- Machine: {m.get('cpus')} cores ({m.get('cpu', '?')}), "
           f"{m.get('memory_gib')} GiB RAM, {m.get('platform')}",
           f"- PostgreSQL {m.get('postgresql')} (shared_buffers {m.get('shared_buffers')}), "
           f"Python {m.get('python')}, Django 5.2, on the same machine (loopback)",
           f"- Scale {results.get('scale')}; seeded in {_fmt(results.get('seed_seconds'))} s "
           f"(`seed_demo --scale {results.get('scale')}`, bulk COPY)",
           f"- Run {results.get('started_at')} → {results.get('finished_at')}", ""]
    counts = results.get("row_counts") or {}
    if counts:
        out += ["| table | rows |", "|---|---:|"]
        out += [f"| {t} | {_fmt(n)} |" for t, n in counts.items()]
        out.append("")
    reads = results.get("reads") or []
    if reads:
        n = reads[0]["path"]["n"]
        out += ["## Read paths", "",
                f"Each path timed {n}× in-process (django.test.Client: middleware, session, "
                "view, selector, template or serializer; no socket), interleaved round by round "
                "with its floor (one hand-written SQL query returning the same rows or "
                "figures, through the same connection) and, for lists, the Django admin "
                "changelist of the same model on the same data. Times in ms.", "",
                "| path | median | p95 | queries | floor median | floor p95 | × floor | "
                "admin median | admin p95 | admin queries | × admin (p95) | goal | |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
        for row in reads:
            ok, goal = read_goal(row)
            admin = row.get("admin") or {}
            out.append(
                f"| {row['name']} | {_fmt(row['path']['median_ms'])} | "
                f"{_fmt(row['path']['p95_ms'])} | {row['queries']} | "
                f"{_fmt(row['floor']['median_ms'])} | {_fmt(row['floor']['p95_ms'])} | "
                f"{_fmt(_ratio(row['path']['median_ms'], row['floor']['median_ms']))} | "
                f"{_fmt(admin.get('median_ms'))} | {_fmt(admin.get('p95_ms'))} | "
                f"{_fmt(row.get('admin_queries'))} | "
                f"{_fmt(_ratio(row['path']['p95_ms'], admin.get('p95_ms')))} | {goal} | "
                f"{_verdict(ok)} |")
        out.append("")
    imports = results.get("imports")
    out += ["## Import of companies", ""]
    if imports:
        out += [f"{_fmt(imports['rows'])} rows of new companies, validated (USCC, names, "
                "duplicates against the database and within the file) and committed through "
                "leads.imports (import_job_create → import_validate → import_commit), each "
                "format in its own subprocess (peak RSS from getrusage). COPY: the same rows "
                "into leads_company with psycopg2 copy_expert.", "",
                "| source | rows/s | seconds | peak RSS MB | × COPY time | goal | |",
                "|---|---:|---:|---:|---:|---|---|"]
        copy_s = imports.get("copy", {}).get("seconds")
        for fmt in ("xlsx", "csv"):
            r = imports.get(fmt)
            if not r:
                continue
            ratio = _ratio(r["seconds"], copy_s)
            ok = (r["rows_per_s"] >= GOALS["import_rows_per_s"] and (ratio or 99) <= 4
                  and r["peak_rss_mb"] <= GOALS["import_peak_mb"] and r.get("ok"))
            out.append(f"| {fmt} (validate {_fmt(r.get('validate_s'))} s + commit "
                       f"{_fmt(r.get('commit_s'))} s) | {_fmt(r['rows_per_s'])} | "
                       f"{_fmt(r['seconds'])} | {_fmt(r['peak_rss_mb'])} | {_fmt(ratio)} | "
                       f"≥ 10,000/s, ≤ 4× COPY, ≤ 500 MB | {_verdict(ok)} |")
        c = imports.get("copy", {})
        out += [f"| PostgreSQL COPY | {_fmt(c.get('rows_per_s'))} | {_fmt(c.get('seconds'))} "
                f"| — | 1.0 | floor | |", ""]
        if imports.get("note"):
            out += [imports["note"], ""]
    else:
        out += ["Not measured in this run.", ""]
    rem = results.get("reminders")
    out += ["## Reminders", ""]
    if rem:
        ok = rem["delivered_per_s"] >= GOALS["reminders_per_s"] and rem["duplicates"] == 0 \
            and rem["not_sent"] == 0
        out += [f"{_fmt(rem['reminders'])} due reminders: scan (reminders_scan + fan-out) "
                f"then delivery by {rem['workers']} Celery worker processes (Redis broker, "
                f"locmem/file email backend).", "",
                "| step | seconds | per second |", "|---|---:|---:|",
                f"| scan | {_fmt(rem['scan_s'])} | {_fmt(rem['scanned_per_s'])} |",
                f"| delivery | {_fmt(rem['deliver_s'])} | {_fmt(rem['delivered_per_s'])} |",
                f"| end to end | {_fmt(rem.get('end_to_end_s'))} | |",
                "", f"Worker CPU: {_fmt(rem.get('worker_cpu_s'))} s in all, "
                f"{_fmt(rem.get('worker_cpu_ms_per_delivery'))} ms per delivery.", "",
                f"Deliveries sent: {_fmt(rem['sent'])}; not sent: {rem['not_sent']}; "
                f"sent twice: {rem['duplicates']}. Goal ≥ 2,000/s, none twice: "
                f"{_verdict(ok)}.", ""]
        if rem.get("note"):
            out += [rem["note"], ""]
    else:
        out += ["Not measured in this run.", ""]
    load = results.get("load")
    out += ["## Load run", ""]
    if load:
        ok = load["p95_ms"] <= GOALS["load_p95_ms"] and load["errors"] == 0
        out += [f"locust headless, {load['users']} users, {load['seconds']} s, against "
                f"gunicorn ({load['workers']} workers) on 127.0.0.1; mixed workload "
                "(bench/locustfile.py).", "",
                "| requests | req/s | p50 | p95 | p99 | errors | goal | |",
                "|---:|---:|---:|---:|---:|---:|---|---|",
                f"| {_fmt(load['requests'])} | {_fmt(load['rps'])} | {_fmt(load['p50_ms'])} | "
                f"{_fmt(load['p95_ms'])} | {_fmt(load['p99_ms'])} | {load['errors']} | "
                f"p95 ≤ 200 ms, 0 errors | {_verdict(ok)} |", ""]
        if load.get("by_name"):
            out += ["| request | n | p50 | p95 |", "|---|---:|---:|---:|"]
            out += [f"| {r['name']} | {r['n']} | {_fmt(r['p50_ms'])} | {_fmt(r['p95_ms'])} |"
                    for r in load["by_name"]]
            out.append("")
    else:
        out += ["Not measured in this run.", ""]
    out += fulfilment_section(results.get("fulfilment"))
    out += ["## Notes (bench/NOTES.md)", ""]
    notes = results.get("notes_md")
    if notes:
        out += [notes, ""]
    return "\n".join(out)


FULFILMENT_GOALS = {"list_p95_ms": 50, "report_p95_ms": 300}


def fulfilment_goal(row):
    p95 = row["path"]["p95_ms"]
    if row.get("list"):
        return p95 <= FULFILMENT_GOALS["list_p95_ms"], "≤ 50 ms"
    if row.get("report"):
        return p95 <= FULFILMENT_GOALS["report_p95_ms"], "≤ 300 ms"
    return None, "—"


def fulfilment_section(f) -> list[str]:
    """The fulfilment rows (issue 14): their own section, so a run of them alone can be pasted
    into BENCHMARKS.md without touching the rows of another run."""
    if not f:
        return []
    reads = f["reads"]
    counts = f.get("row_counts") or {}
    out = ["## Fulfilment (issue 14)", ""]
    if f.get("machine_note"):
        out += [f["machine_note"], ""]
    if counts:
        out += ["| table | rows |", "|---|---:|"]
        out += [f"| {t} | {_fmt(n)} |" for t, n in counts.items()]
        out.append("")
    n = reads[0]["path"]["n"]
    out += [f"Each path timed {n}× in-process, interleaved with its floor (one SQL query "
            "returning the same rows) and, for lists, the admin changelist; times in ms. "
            "Queries per request on a small and a large agreement, and on an unfiltered and a "
            "filtered list, show whether they grow with the data.", "",
            "| path | median | p95 | queries | floor median | × floor | admin p95 | "
            "admin queries | goal | |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for row in reads:
        ok, goal = fulfilment_goal(row)
        admin = row.get("admin") or {}
        out.append(
            f"| {row['name']} | {_fmt(row['path']['median_ms'])} | "
            f"{_fmt(row['path']['p95_ms'])} | {row['queries']} | "
            f"{_fmt(row['floor']['median_ms'])} | "
            f"{_fmt(_ratio(row['path']['median_ms'], row['floor']['median_ms']))} | "
            f"{_fmt(admin.get('p95_ms'))} | {_fmt(row.get('admin_queries'))} | {goal} | "
            f"{_verdict(ok)} |")
    out.append("")
    refresh = f.get("refresh")
    if refresh:
        runs = "; ".join(f"{r['seconds']} s, {r['changed']} changed" for r in refresh["runs"])
        out += [f"Daily refresh (services.obligations_refresh) of all "
                f"{_fmt(refresh['obligations'])} obligations, in a rolled-back transaction: "
                f"{runs} ({refresh['per_1000_ms']} ms per 1,000 obligations).", ""]
    loads = [f.get("loadavg_before"), f.get("loadavg_after")]
    if any(loads):
        out += [f"Load average (1, 5, 15 min) before / after: "
                f"{' '.join(loads[0] or [])} / {' '.join(loads[1] or [])}.", ""]
    return out
