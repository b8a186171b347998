"""Fulfilment (issue 14, 履约) at scale: the fulfilment list (page and API) and the acceptance
report (the agreement page with ?on=, and POST /api/v1/agreements/{id}/acceptance/), each
beside its floor (one hand-written SQL query returning the same rows) and, for the lists, the
admin changelist; the queries of each, on a small and on a large agreement (or an unfiltered
and a filtered list), to show they do not grow with the data; the leaders' fulfilment figures
cold and cached; and the daily obligations_refresh over every agreement, which must change
nothing on a freshly seeded database (funds/fulfilment/volume.py stores the rules' answer).

Same method as readpaths.py: in-process django.test.Client, every case once per round in turn,
three warm-up rounds dropped. Goals (issue 14): p95 ≤ 50 ms for the lists, ≤ 300 ms for the
report, a constant number of queries.

Run alone: `.venv/bin/python bench/fulfilment_bench.py [--iterations 40]` against
$DATABASE_URL (a database seeded by `seed_demo --scale N`); it prints the JSON and writes it
to bench/results/fulfilment.json. `bench/run.py` runs it as the section "fulfilment".
"""

import json
import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from run import summary  # noqa: E402

settings.DEBUG = False
LEADER, STAFF, ADMIN = "sun.jianguo", "zhang.wei", "admin"
PAGE = 25  # crm.core.views_helpers.PAGE_SIZE
API_PAGE = 50  # REST_FRAMEWORK PAGE_SIZE
GOALS = {"list_p95_ms": 50, "report_p95_ms": 300}


def _client(username: str) -> Client:
    from crm.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


LIST_COLUMNS = ("o.id, o.metric, o.target, o.due_on, o.applies_from, o.status, o.actual, "
                "a.id, a.title, a.signed_on, p.id, p.name, p.confidential, c.name, u.username")
LIST_FROM = ("FROM funds_obligation o JOIN funds_agreement a ON a.id = o.agreement_id "
             "JOIN leads_project p ON p.id = a.project_id "
             "JOIN leads_company c ON c.id = p.company_id "
             "JOIN accounts_user u ON u.id = p.owner_id")


def _list_sql(where: str, limit: int) -> str:
    return (f"SELECT {LIST_COLUMNS} {LIST_FROM} {where} ORDER BY o.due_on, o.id "
            f"LIMIT {limit}")


def _report_sql(agreement_id: int, project_id: int, on) -> str:
    """Every row the acceptance report reads, in one statement: the agreement, its
    obligations, actuals, incentives with the money paid by `on`, remedies and the project's
    stage events."""
    return (
        "SELECT 'agreement', a.id::text, a.land_mu::text, a.grace_days::text, NULL, NULL "
        f"FROM funds_agreement a WHERE a.id = {agreement_id} UNION ALL "
        "SELECT 'obligation', o.metric, o.target::text, o.due_on::text, "
        "o.applies_from::text, NULL FROM funds_obligation o "
        f"WHERE o.agreement_id = {agreement_id} UNION ALL "
        "SELECT 'actual', x.period_start::text, x.period_end::text, x.investment_wan::text, "
        "x.fixed_asset_investment_wan::text, x.tax_wan::text FROM funds_actual x "
        f"WHERE x.agreement_id = {agreement_id} UNION ALL "
        "SELECT 'incentive', i.id::text, i.application_id::text, i.amount_yuan::text, "
        "(SELECT sum(d.paid_amount) FROM funds_disbursement d WHERE d.application_id = "
        f"i.application_id AND d.paid_on <= '{on}')::text, NULL FROM funds_incentive i "
        f"WHERE i.agreement_id = {agreement_id} UNION ALL "
        "SELECT 'remedy', r.kind, r.obligation_id::text, r.incentive_id::text, r.rate::text, "
        f"r.amount_yuan::text FROM funds_remedy r WHERE r.agreement_id = {agreement_id} "
        "UNION ALL SELECT 'event', s.\"order\"::text, e.at::text, NULL, NULL, NULL "
        "FROM leads_stageevent e JOIN leads_stage s ON s.id = e.to_stage_id "
        f"WHERE e.project_id = {project_id}")


def _agreements():
    """A large agreement (land: the most obligations, then the most actuals) and a small one
    (no land, fewest of both), both volume rows whose incentive is a fund application (one
    without reads no payments at all), for the report and its query counts. Two calls give
    the same two agreements (ordered by size, then id)."""
    from django.db.models import Count

    from funds.fulfilment.models import Agreement

    # Not confidential: reading a confidential project's agreement also writes its audit
    # record (crm.audit), four queries that belong to the audit, not to the data's size.
    ranked = (Agreement.objects.filter(title__startswith="[V]", project__confidential=False,
                                       incentives__application__isnull=False)
              .annotate(n_obligations=Count("obligations", distinct=True),
                        n_actuals=Count("actuals", distinct=True)))
    large = ranked.order_by("-n_obligations", "-n_actuals", "pk").first()
    small = ranked.order_by("n_obligations", "n_actuals", "pk").first()
    return large, small


def cases() -> list[dict]:
    from crm.accounts.models import User
    from funds.fulfilment.models import Status

    today = timezone.localdate()
    staff = User.objects.get(username=STAFF)
    large, small = _agreements()
    report_on = today.isoformat()
    breached = Status.BREACHED
    staff_where = (f"WHERE p.owner_id = {staff.pk} OR p.id IN (SELECT project_id FROM "
                   f"leads_project_collaborators WHERE user_id = {staff.pk})")
    items = [
        {"name": "fulfilment list page, page 1", "user": LEADER, "url": "/fulfilment/",
         "floor": _list_sql("", PAGE), "admin": "/admin/funds/obligation/", "list": True},
        {"name": "fulfilment list page, status=breached", "user": LEADER,
         "url": f"/fulfilment/?status={breached}",
         "floor": _list_sql(f"WHERE o.status = '{breached}'", PAGE),
         "admin": f"/admin/funds/obligation/?status__exact={breached}", "list": True},
        {"name": "fulfilment list page, staff (own projects)", "user": STAFF,
         "url": "/fulfilment/", "floor": _list_sql(staff_where, PAGE),
         "admin": "/admin/funds/obligation/", "list": True},
        {"name": "obligations API, page 1", "user": LEADER, "url": "/api/v1/obligations/",
         "floor": _list_sql("", API_PAGE), "admin": "/admin/funds/obligation/", "list": True},
        {"name": "obligations API, status=breached", "user": LEADER,
         "url": f"/api/v1/obligations/?status={breached}",
         "floor": _list_sql(f"WHERE o.status = '{breached}'", API_PAGE),
         "admin": f"/admin/funds/obligation/?status__exact={breached}", "list": True},
    ]
    for label, agreement in (("large", large), ("small", small)):
        counts = f"{agreement.n_obligations} obligations, {agreement.n_actuals} actuals"
        floor = _report_sql(agreement.pk, agreement.project_id, report_on)
        items += [
            {"name": f"acceptance report page ?on=, {label} agreement ({counts})",
             "user": LEADER, "url": f"/fulfilment/agreements/{agreement.pk}/?on={report_on}",
             "floor": floor, "report": True},
            {"name": f"acceptance report API (POST), {label} agreement ({counts})",
             "user": LEADER, "url": f"/api/v1/agreements/{agreement.pk}/acceptance/",
             "post": {"on": report_on}, "floor": floor, "report": True},
        ]
    items += [
        {"name": "leaders' fulfilment block, cold (figures recomputed)", "user": LEADER,
         "url": "/dashboards/overview/fulfilment/", "htmx": True, "cold": True,
         "floor": _figures_sql(today)},
        {"name": "leaders' fulfilment block", "user": LEADER,
         "url": "/dashboards/overview/fulfilment/", "htmx": True, "prime": True,
         "floor": _figures_sql(today)},
        {"name": "fulfilment report API (/api/v1/reports/fulfilment/)", "user": LEADER,
         "url": "/api/v1/reports/fulfilment/", "floor": _figures_sql(today)},
    ]
    return items


def _figures_sql(today) -> str:
    """The leaders' figures in one statement: due and met by signing year, committed and
    arrived, breached and at-risk projects, incentives paid and tax since signing."""
    return (
        "WITH by_year AS (SELECT extract(year FROM a.signed_on) AS y, count(*) FILTER (WHERE "
        "o.status IN ('met', 'missed', 'breached')) AS due, count(*) FILTER (WHERE "
        "o.status = 'met') AS met FROM funds_obligation o JOIN funds_agreement a ON a.id = "
        "o.agreement_id GROUP BY 1), money AS (SELECT sum(committed_investment_wan) AS c "
        "FROM funds_agreement), arrived AS (SELECT sum(funds_arrived_wan) AS f, sum(tax_wan) "
        "AS t FROM funds_actual), watch AS (SELECT o.status, count(DISTINCT a.project_id) AS n "
        "FROM funds_obligation o JOIN funds_agreement a ON a.id = o.agreement_id WHERE "
        "o.status IN ('breached', 'due_soon', 'missed') GROUP BY o.status), paid AS (SELECT "
        "sum(d.paid_amount) AS p FROM funds_disbursement d JOIN funds_application ap ON "
        "ap.id = d.application_id WHERE ap.project_id IN (SELECT project_id FROM "
        "funds_agreement)), per_mu AS (SELECT a.id, sum(x.fixed_asset_investment_wan) "
        f"FILTER (WHERE x.period_end <= '{today}') / a.land_mu AS intensity, sum(x.tax_wan) "
        f"FILTER (WHERE extract(year FROM x.period_start) = {today.year - 1}) / a.land_mu AS "
        "tax FROM funds_actual x JOIN funds_agreement a ON a.id = x.agreement_id WHERE "
        "a.land_mu > 0 GROUP BY a.id, a.land_mu) "
        "SELECT 'year', y::text, due, met FROM by_year UNION ALL "
        "SELECT 'money', c::text, NULL, NULL FROM money UNION ALL "
        "SELECT 'arrived', f::text, NULL, NULL FROM arrived UNION ALL "
        "SELECT 'watch', status, n, NULL FROM watch UNION ALL "
        "SELECT 'paid', p::text, NULL, NULL FROM paid UNION ALL "
        "SELECT 'bands', width_bucket(intensity, 0, 360, 4)::text, count(*), NULL FROM per_mu "
        "GROUP BY 2")


def _invalidate_figures() -> None:
    from crm.core.figures import figures_changed

    figures_changed("funds")


def _request(client, case):
    headers = {"HTTP_HX_REQUEST": "true"} if case.get("htmx") else {}
    if case.get("post") is not None:
        return client.post(case["url"], case["post"], content_type="application/json",
                           **headers)
    return client.get(case["url"], **headers)


def _time(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def _refresh() -> dict:
    """The daily refresh over every agreement, in a transaction rolled back (a bench leaves
    the data as it found it). Times two runs; the seeded statuses are the rules' answer, so
    the first changes nothing."""
    from funds.fulfilment.models import Obligation
    from funds.fulfilment.services import obligations_refresh

    runs = []
    for _ in range(2):
        with transaction.atomic():
            before = dict(Obligation.objects.values_list("pk", "status"))
            started = time.perf_counter()
            newly_breached = obligations_refresh()
            seconds = time.perf_counter() - started
            after = dict(Obligation.objects.values_list("pk", "status"))
            changed = sum(1 for pk, status in after.items() if before.get(pk) != status)
            runs.append({"seconds": round(seconds, 1), "changed": changed,
                         "newly_breached": len(newly_breached)})
            transaction.set_rollback(True)
    return {"obligations": len(before), "runs": runs,
            "per_1000_ms": round(min(r["seconds"] for r in runs) * 1000 / len(before) * 1000,
                                 1)}


def run(*, iterations: int) -> dict:
    items = cases()
    clients = {u: _client(u) for u in {LEADER, STAFF, ADMIN}}
    admin = clients[ADMIN]
    samples = {i: {"path": [], "floor": [], "admin": []} for i in range(len(items))}
    meta = {}
    for index, case in enumerate(items):
        client = clients[case["user"]]
        if case.get("cold"):
            _invalidate_figures()
        if case.get("prime"):
            _request(client, case)
        with CaptureQueriesContext(connection) as queries:
            response = _request(client, case)
        if response.status_code != 200:
            raise SystemExit(f"{case['name']}: {case['url']} answered {response.status_code}")
        admin_queries = None
        if case.get("admin"):
            with CaptureQueriesContext(connection) as captured:
                answer = admin.get(case["admin"])
            if answer.status_code != 200:
                raise SystemExit(f"{case['name']}: {case['admin']} answered "
                                 f"{answer.status_code}")
            admin_queries = len(captured)
        meta[index] = {"queries": len(queries), "admin_queries": admin_queries,
                       "bytes": len(response.content)}
    cursor = connection.cursor()

    def floor(sql):
        cursor.execute(sql)
        cursor.fetchall()

    for round_number in range(iterations + 3):  # three warm-up rounds are dropped
        for index, case in enumerate(items):
            client = clients[case["user"]]
            if case.get("cold"):
                _invalidate_figures()
            if case.get("prime"):
                _request(client, case)
            path = _time(lambda: _request(client, case))  # noqa: B023
            floor_time = _time(lambda: floor(case["floor"]))  # noqa: B023
            admin_time = _time(lambda: admin.get(case["admin"])) if case.get("admin") \
                else None  # noqa: B023
            if round_number >= 3:
                samples[index]["path"].append(path)
                samples[index]["floor"].append(floor_time)
                if admin_time is not None:
                    samples[index]["admin"].append(admin_time)
        reset_queries()
    rows = []
    for index, case in enumerate(items):
        row = {"name": case["name"], "url": case["url"], "user": case["user"],
               "method": "POST" if case.get("post") is not None else "GET",
               "path": summary(samples[index]["path"]),
               "floor": summary(samples[index]["floor"]), "floor_sql": case["floor"],
               "list": bool(case.get("list")), "report": bool(case.get("report")),
               "cold": bool(case.get("cold")), **meta[index]}
        if case.get("admin"):
            row["admin"] = summary(samples[index]["admin"])
            row["admin_url"] = case["admin"]
        rows.append(row)
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    return {"reads": rows, "refresh": _refresh(), "row_counts": row_counts(),
            "loadavg_after": load}


def row_counts() -> dict:
    tables = ["funds_agreement", "funds_obligation", "funds_actual", "funds_incentive",
              "funds_remedy", "funds_acceptance"]
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=40)
    args = parser.parse_args()
    with open("/proc/loadavg") as handle:
        load_before = handle.read().split()[:3]
    results = run(iterations=args.iterations)
    results["loadavg_before"] = load_before
    out = Path(__file__).resolve().parent / "results" / "fulfilment.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(json.dumps(results, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
