"""Read paths: each hot path beside its floor (one hand-written SQL query returning the same
rows or figures) and, for lists, the Django admin changelist of the same model on the same data.

Requests go through django.test.Client in this process: the whole Django stack (middleware,
session, view, selector, serializer or template) without a socket, so the figure is server time.
Every round runs each case once, in turn, so a disturbance hits all of them alike.
"""

import os
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from run import summary  # noqa: E402

settings.DEBUG = False
LEADER, STAFF, ADMIN = "sun.jianguo", "zhang.wei", "admin"
PAGE = 25  # leads list pages (crm.core.views_helpers.PAGE_SIZE)
API_PAGE = 50  # REST_FRAMEWORK PAGE_SIZE


def _client(username: str) -> Client:
    from crm.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _deep_page(total: int, size: int) -> int:
    """A page 90% of the way down the list."""
    return max(1, int(total / size * 0.9))


def _keyset_at(offset: int, size: int) -> tuple[str, str]:
    """A `next` cursor as a client walking the list would hold it at `offset` (the last row of
    the page before), and the equivalent keyset condition for the floor SQL."""
    from crm.core.pagination import encode_cursor, keyset_ordering
    from leads.models import Project

    ordered = Project.objects.order_by("-updated_at", "-pk")
    row = ordered[offset - 1]
    cursor = encode_cursor(keyset_ordering(ordered), row, backwards=False,
                           number=offset // size + 1)
    at = row.updated_at.isoformat()
    condition = (f"p.updated_at <= '{at}' AND (p.updated_at < '{at}' OR "
                 f"(p.updated_at = '{at}' AND p.id < {row.pk}))")
    return cursor, condition


def cases() -> list[dict]:
    """The hot paths. kind: page|api; floor: SQL; admin: changelist URL (lists only)."""
    from leads.models import Project

    today = timezone.localdate()
    filtered = Project.objects.filter(stage__code="negotiating").count()
    total = Project.objects.count()
    deep_api = _deep_page(total, API_PAGE)
    deep_page = _deep_page(total, PAGE)
    stage_id = connection.cursor()
    stage_id.execute("SELECT id FROM leads_stage WHERE code = 'negotiating'")
    negotiating = stage_id.fetchone()[0]
    api_cursor, api_after = _keyset_at((deep_api - 1) * API_PAGE, API_PAGE)
    page_cursor, page_after = _keyset_at((deep_page - 1) * PAGE, PAGE)
    start = today + timedelta(days=30)
    end = start + timedelta(days=365)
    project_cols = ("p.id, p.name, p.agreed_investment_wan, p.next_step, p.next_step_on, "
                    "p.updated_at, c.id, c.name, s.code, s.name, u.username")
    project_from = ("FROM leads_project p JOIN leads_company c ON c.id = p.company_id "
                    "JOIN leads_stage s ON s.id = p.stage_id "
                    "JOIN accounts_user u ON u.id = p.owner_id")
    return [
        {"name": "project list API, filtered, page 1", "user": LEADER,
         "url": "/api/v1/projects/?stage=negotiating",
         "floor": f"SELECT {project_cols} {project_from} WHERE s.code = 'negotiating' "
                  f"ORDER BY p.updated_at DESC, p.id DESC LIMIT {API_PAGE}",
         "admin": f"/admin/leads/project/?stage__id__exact={negotiating}", "list": True,
         "rows": filtered},
        {"name": f"project list API, deep page {deep_api} (next cursor)", "user": LEADER,
         "url": f"/api/v1/projects/?cursor={api_cursor}",
         "floor": f"SELECT {project_cols} {project_from} WHERE {api_after} "
                  f"ORDER BY p.updated_at DESC, p.id DESC LIMIT {API_PAGE}",
         "admin": f"/admin/leads/project/?p={_deep_page(total, 100)}", "list": True,
         "rows": total},
        {"name": f"project list API, deep page {deep_api} (offset ?page=N)", "user": LEADER,
         "url": f"/api/v1/projects/?page={deep_api}",
         "floor": f"SELECT {project_cols} {project_from} ORDER BY p.updated_at DESC, p.id DESC "
                  f"LIMIT {API_PAGE} OFFSET {(deep_api - 1) * API_PAGE}",
         "admin": f"/admin/leads/project/?p={_deep_page(total, 100)}", "list": True,
         "rows": total},
        {"name": "project list API, staff (own projects)", "user": STAFF,
         "url": "/api/v1/projects/?stage=negotiating",
         "floor": f"SELECT {project_cols} {project_from} WHERE s.code = 'negotiating' AND "
                  f"(p.owner_id = (SELECT id FROM accounts_user WHERE username = '{STAFF}') "
                  f"OR p.id IN (SELECT project_id FROM leads_project_collaborators WHERE "
                  f"user_id = (SELECT id FROM accounts_user WHERE username = '{STAFF}'))) "
                  f"ORDER BY p.updated_at DESC, p.id DESC LIMIT {API_PAGE}",
         "admin": f"/admin/leads/project/?stage__id__exact={negotiating}", "list": True},
        {"name": "project list page, filtered, page 1", "user": LEADER,
         "url": "/leads/projects/?stage=negotiating",
         "floor": f"SELECT {project_cols} {project_from} WHERE s.code = 'negotiating' "
                  f"ORDER BY p.updated_at DESC, p.id DESC LIMIT {PAGE}",
         "admin": f"/admin/leads/project/?stage__id__exact={negotiating}", "list": True},
        {"name": f"project list page, deep page {deep_page} (next cursor)", "user": LEADER,
         "url": f"/leads/projects/?cursor={page_cursor}",
         "floor": f"SELECT {project_cols} {project_from} WHERE {page_after} "
                  f"ORDER BY p.updated_at DESC, p.id DESC LIMIT {PAGE}",
         "admin": f"/admin/leads/project/?p={_deep_page(total, 100)}", "list": True},
        {"name": f"project list page, deep page {deep_page} (offset ?page=N)", "user": LEADER,
         "url": f"/leads/projects/?page={deep_page}",
         "floor": f"SELECT {project_cols} {project_from} ORDER BY p.updated_at DESC, p.id DESC "
                  f"LIMIT {PAGE} OFFSET {(deep_page - 1) * PAGE}",
         "admin": f"/admin/leads/project/?p={_deep_page(total, 100)}", "list": True},
        {"name": "kanban board", "user": LEADER, "url": "/leads/projects/board/",
         "floor": "SELECT * FROM (SELECT p.id, p.name, p.agreed_investment_wan, p.stage_id, "
                  "c.name, u.username, row_number() OVER w AS rank, "
                  "count(*) OVER (PARTITION BY p.stage_id) AS n, "
                  "sum(p.agreed_investment_wan) OVER (PARTITION BY p.stage_id) AS amount "
                  f"{project_from} WINDOW w AS (PARTITION BY p.stage_id "
                  "ORDER BY p.updated_at DESC, p.id DESC)) t WHERE rank <= 25",
         "admin": "/admin/leads/project/", "list": True, "prime": True},
        {"name": "company search API (q=科技)", "user": LEADER,
         "url": "/api/v1/companies/?q=%E7%A7%91%E6%8A%80",
         "floor": "SELECT c.id, c.name, c.uscc, i.code FROM leads_company c LEFT JOIN "
                  "leads_industry i ON i.id = c.industry_id WHERE c.name LIKE '%科技%' OR "
                  "c.name_initials LIKE '科技%' OR c.uscc = '科技' ORDER BY c.name, c.id "
                  f"LIMIT {API_PAGE}",
         "admin": "/admin/leads/company/?q=%E7%A7%91%E6%8A%80", "list": True},
        {"name": "company search page (q=szhtyx, pinyin)", "user": LEADER,
         "url": "/leads/companies/?q=szhtyx",
         "floor": "SELECT c.id, c.name, c.uscc, i.name, (SELECT count(*) FROM leads_project p "
                  "WHERE p.company_id = c.id) FROM leads_company c LEFT JOIN leads_industry i "
                  "ON i.id = c.industry_id WHERE c.name ILIKE '%szhtyx%' OR c.name_initials "
                  "LIKE 'szhtyx%' OR c.uscc = 'SZHTYX' ORDER BY c.name, c.id LIMIT 25",
         "admin": "/admin/leads/company/?q=szhtyx", "list": True},
        {"name": "availability search API (office, 100–500 m², 1 year)", "user": LEADER,
         "url": f"/api/v1/units/available/?start={start}&end={end}&use=office"
                "&min_area=100&max_area=500",
         "floor": "SELECT u.id, u.code, u.gross_area_m2, u.list_rent FROM parks_unit u "
                  "WHERE u.rentable AND u.use = 'office' AND u.gross_area_m2 BETWEEN 100 "
                  "AND 500 AND NOT EXISTS (SELECT 1 FROM parks_assignment a WHERE "
                  "a.unit_id = u.id AND a.status = 'active' AND (a.\"end\" IS NULL OR "
                  f"a.\"end\" > '{start}') AND a.start < '{end}') ORDER BY CASE WHEN "
                  "u.rent_unit = 'day' THEN u.list_rent * 365 / 12 ELSE u.list_rent END, "
                  f"u.gross_area_m2, u.id LIMIT {API_PAGE}",
         "admin": "/admin/parks/unit/?use__exact=office&rentable__exact=1", "list": True},
        {"name": "availability search page", "user": LEADER,
         "url": f"/parks/available/?start={start}&last_day={end - timedelta(days=1)}"
                "&use=office&min_area=100&max_area=500",
         "floor": "SELECT u.id, u.code, u.gross_area_m2, u.list_rent FROM parks_unit u "
                  "WHERE u.rentable AND u.use = 'office' AND u.gross_area_m2 BETWEEN 100 "
                  "AND 500 AND NOT EXISTS (SELECT 1 FROM parks_assignment a WHERE "
                  "a.unit_id = u.id AND a.status = 'active' AND (a.\"end\" IS NULL OR "
                  f"a.\"end\" > '{start}') AND a.start < '{end}') ORDER BY CASE WHEN "
                  "u.rent_unit = 'day' THEN u.list_rent * 365 / 12 ELSE u.list_rent END, "
                  "u.gross_area_m2, u.id LIMIT 25",
         "admin": "/admin/parks/unit/?use__exact=office&rentable__exact=1", "list": True},
        {"name": "occupancy report API", "user": LEADER, "url": "/api/v1/reports/occupancy/",
         "floor": _occupancy_sql(today)},
        {"name": "occupancy page", "user": LEADER, "url": "/parks/occupancy/",
         "floor": _occupancy_sql(today)},
        # The figures are cached until a write changes what they count (crm/core/figures.py):
        # "cold" invalidates them before every request (the first visit after a write); the
        # plain case is any later visit, so an untimed visit first makes sure the cache holds
        # them (the cold cases of the same round have just invalidated everything).
        {"name": "leader dashboard, cold (figures recomputed)", "user": LEADER,
         "url": "/dashboards/overview/", "floor": _dashboard_sql(today), "cold": True},
        {"name": "chain map page, cold (figures recomputed)", "user": LEADER,
         "url": "/dashboards/chain/", "floor": _chain_sql(), "cold": True},
        {"name": "leader dashboard", "user": LEADER, "url": "/dashboards/overview/",
         "floor": _dashboard_sql(today), "prime": True},
        {"name": "chain map page", "user": LEADER, "url": "/dashboards/chain/",
         "floor": _chain_sql(), "prime": True},
        {"name": "chain map API", "user": LEADER, "url": "/api/v1/reports/chain/",
         "floor": _chain_sql(), "prime": True},
    ]


def _invalidate_figures() -> None:
    """What a committed write does (crm.core.figures.figures_changed), without the write."""
    from crm.core.figures import figures_changed

    figures_changed("leads")


def _occupancy_sql(today) -> str:
    covering = (f"a.status IN ('active', 'ended') AND a.start <= '{today}' AND "
                f"(a.\"end\" IS NULL OR a.\"end\" > '{today}')")
    return (
        "SELECT u.park_id, u.building_id, sum(u.gross_area_m2) AS rentable, "
        "sum(coalesce(o.leased, 0)) AS leased, sum(coalesce(o.paying, 0)) AS paying, "
        "sum(CASE WHEN o.held AND NOT o.occupied THEN u.gross_area_m2 ELSE 0 END) AS reserved, "
        "count(*) AS units FROM parks_unit u LEFT JOIN LATERAL (SELECT "
        "sum(a.area_m2) FILTER (WHERE a.kind IN ('lease', 'sale')) AS leased, "
        "sum(a.area_m2) FILTER (WHERE a.kind = 'lease' AND (a.rent_free_until IS NULL OR "
        f"a.rent_free_until <= '{today}')) AS paying, "
        "bool_or(a.kind IN ('reservation', 'intent')) AS held, "
        "bool_or(a.kind IN ('lease', 'sale')) AS occupied "
        f"FROM parks_assignment a WHERE a.unit_id = u.id AND {covering}) o ON true "
        "WHERE u.rentable AND u.use <> 'land' GROUP BY u.park_id, u.building_id")


def _dashboard_sql(today) -> str:
    year_start = today.replace(month=1, day=1)
    return (
        "WITH by_stage AS (SELECT stage_id, count(*) AS n, sum(agreed_investment_wan) AS amount "
        "FROM leads_project GROUP BY stage_id), "
        "signed AS (SELECT count(*) AS n, sum(agreed_investment_wan) AS amount, "
        "sum(funds_arrived_wan) AS arrived FROM leads_project "
        f"WHERE signed_on >= '{year_start}' AND signed_on <= '{today}'), "
        "entered AS (SELECT count(*) AS n FROM leads_stageevent WHERE from_stage_id IS NULL "
        f"AND at >= '{year_start}'), "
        "funnel AS (SELECT e.to_stage_id, count(DISTINCT e.project_id) AS n FROM "
        "leads_stageevent e GROUP BY e.to_stage_id), "
        "flags AS (SELECT count(*) FILTER (WHERE p.next_step_on < "
        f"'{today}') AS overdue, count(*) FILTER (WHERE coalesce(p.last_contact_on, "
        f"p.stage_entered_at::date) <= '{today - timedelta(days=30)}') AS red "
        "FROM leads_project p JOIN leads_stage s ON s.id = p.stage_id WHERE s.kind = 'open'), "
        "lost AS (SELECT lost_reason_id, count(*) AS n FROM leads_project WHERE "
        "lost_reason_id IS NOT NULL GROUP BY lost_reason_id), "
        "by_industry AS (SELECT c.industry_id, count(*) AS n, sum(p.agreed_investment_wan) AS "
        "amount FROM leads_project p JOIN leads_company c ON c.id = p.company_id WHERE "
        f"p.signed_on >= '{year_start}' GROUP BY c.industry_id) "
        "SELECT 'stage', stage_id::text, n, amount FROM by_stage UNION ALL "
        "SELECT 'signed', '', n, amount FROM signed UNION ALL "
        "SELECT 'entered', '', n, NULL FROM entered UNION ALL "
        "SELECT 'funnel', to_stage_id::text, n, NULL FROM funnel UNION ALL "
        "SELECT 'flags', overdue::text, red, NULL FROM flags UNION ALL "
        "SELECT 'lost', lost_reason_id::text, n, NULL FROM lost UNION ALL "
        "SELECT 'industry', industry_id::text, n, amount FROM by_industry")


def _chain_sql() -> str:
    return (
        "SELECT n.id, count(DISTINCT l.company_id) AS targeted, "
        "count(DISTINCT l.company_id) FILTER (WHERE s.kind = 'open' AND s.\"order\" >= 50) "
        "AS negotiating, count(DISTINCT l.company_id) FILTER (WHERE p.signed_on IS NOT NULL) "
        "AS signed, count(DISTINCT l.company_id) FILTER (WHERE s.kind = 'won' AND "
        "s.\"order\" >= 90) AS landed FROM leads_chainnode n "
        "LEFT JOIN leads_chainnode child ON child.parent_id = n.id "
        "JOIN leads_companychainlink l ON l.node_id = n.id OR l.node_id = child.id "
        "JOIN leads_project p ON p.company_id = l.company_id "
        "JOIN leads_stage s ON s.id = p.stage_id GROUP BY n.id")


def _time(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def run(*, iterations: int) -> list[dict]:
    items = cases()
    clients = {u: _client(u) for u in {LEADER, STAFF, ADMIN}}
    admin = clients[ADMIN]
    results = []
    samples = {i: {"path": [], "floor": [], "admin": []} for i in range(len(items))}
    meta = {}
    # Query counts and a status check, once per case.
    for index, case in enumerate(items):
        client = clients[case["user"]]
        if case.get("cold"):
            _invalidate_figures()
        if case.get("prime"):
            client.get(case["url"])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(case["url"])
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
                client.get(case["url"])
            path = _time(lambda: client.get(case["url"]))  # noqa: B023
            floor_time = _time(lambda: floor(case["floor"]))  # noqa: B023
            admin_time = _time(lambda: admin.get(case["admin"])) if case.get("admin") \
                else None  # noqa: B023
            if round_number >= 3:
                samples[index]["path"].append(path)
                samples[index]["floor"].append(floor_time)
                if admin_time is not None:
                    samples[index]["admin"].append(admin_time)
        reset_queries()
    for index, case in enumerate(items):
        row = {"name": case["name"], "url": case["url"], "user": case["user"],
               "path": summary(samples[index]["path"]),
               "floor": summary(samples[index]["floor"]), "floor_sql": case["floor"],
               **meta[index]}
        if case.get("admin"):
            row["admin"] = summary(samples[index]["admin"])
            row["admin_url"] = case["admin"]
        row["list"] = bool(case.get("list"))
        row["cold"] = bool(case.get("cold"))
        results.append(row)
    return results


def row_counts() -> dict:
    tables = ["leads_company", "leads_project", "leads_stageevent", "leads_followup",
              "parks_unit", "parks_assignment", "funds_application"]
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts
