"""Lists at scale (issue 8): keyset cursors, estimated totals, constant query counts, and figures
unchanged by the faster queries. Timing lives in bench/readpaths.py; here the outcomes."""

import base64
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.accounts.roles import Role, user_roles
from leads.models import Project, Stage
from parks import selectors as parks_selectors
from parks import services as parks_services
from parks.models import Assignment, Building, Park, Unit, UnitUse
from tests.factories import CompanyFactory, UserFactory, make_project, make_unit, system_admin

pytestmark = pytest.mark.django_db

PROJECTS_API = "/api/v1/projects/"
PROJECTS_PAGE = "/leads/projects/"


def _projects(owner, n, *, stage_code="lead", ties=True):
    """n projects; with `ties`, groups of three share one updated_at, so only the id orders
    them and a cursor that ignored the tie-break would skip or repeat rows. Created by
    investment staff (the only ones who create projects), held by `owner`."""
    creator = owner if Role.INVESTMENT_STAFF in user_roles(owner) else UserFactory(
        roles=[Role.INVESTMENT_STAFF])
    projects = [make_project(owner=owner, by=creator, stage_code=stage_code) for _ in range(n)]
    if ties:
        base = timezone.now() - timedelta(days=1)
        for index, project in enumerate(projects):
            Project.objects.filter(pk=project.pk).update(
                updated_at=base + timedelta(minutes=index // 3))
    return projects


def _expected_ids(**filters):
    return list(Project.objects.filter(**filters).order_by("-updated_at", "-pk")
                .values_list("pk", flat=True))


def _walk(api, url, link="next"):
    pages = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        data = response.json()
        pages.append(data)
        url = data[link]
    return pages


# --- API: cursors -----------------------------------------------------------------------------
def test_api_next_cursors_walk_every_row_once_in_offset_order(make_user, api_for):
    leader = make_user(Role.LEADER)
    _projects(leader, 23)
    api = api_for(leader)
    pages = _walk(api, f"{PROJECTS_API}?page_size=5")
    walked = [row["id"] for page in pages for row in page["results"]]
    assert walked == _expected_ids()
    assert len(pages) == 5 and all("cursor=" in page["next"] for page in pages[:-1])
    # The same rows as the offset pages, page by page.
    for number, page in enumerate(pages, start=1):
        offset = api.get(f"{PROJECTS_API}?page_size=5&page={number}").json()
        assert [r["id"] for r in offset["results"]] == [r["id"] for r in page["results"]]


def test_api_previous_cursors_walk_back(make_user, api_for):
    leader = make_user(Role.LEADER)
    _projects(leader, 17)
    api = api_for(leader)
    forward = _walk(api, f"{PROJECTS_API}?page_size=4")
    backward = _walk(api, forward[-1]["previous"], link="previous")
    assert [[r["id"] for r in p["results"]] for p in reversed(backward)] == \
        [[r["id"] for r in p["results"]] for p in forward[:-1]]
    assert backward[-1]["previous"] is None
    # Page 2 leads back to plain page 1, without a cursor.
    assert "cursor" not in parse_qs(urlsplit(forward[1]["previous"]).query)


def test_api_cursor_keeps_the_filters(make_user, api_for):
    leader = make_user(Role.LEADER)
    _projects(leader, 7, stage_code="negotiating")
    _projects(leader, 5, stage_code="lead")
    pages = _walk(api_for(leader), f"{PROJECTS_API}?stage=negotiating&page_size=3")
    negotiating = Stage.objects.get(code="negotiating")
    assert [r["id"] for p in pages for r in p["results"]] == _expected_ids(stage=negotiating)


@pytest.mark.parametrize("cursor", [
    "garbage!", "eyJrIjpbXX0",  # not base64 JSON; JSON without the fields
    base64.urlsafe_b64encode(json.dumps(
        {"k": ["-updated_at", "-pk"], "v": ["yesterday", 1], "b": 0, "n": 2}).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps(
        {"k": ["name", "pk"], "v": ["x", 1], "b": 0, "n": 2}).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps(
        {"k": ["-updated_at", "-pk"], "v": ["2026-01-01T00:00:00+00:00", "1; DROP"], "b": 0,
         "n": 2}).encode()).decode(),
])
def test_api_tampered_cursor_is_a_400(make_user, api_for, cursor):
    leader = make_user(Role.LEADER)
    _projects(leader, 3, ties=False)
    response = api_for(leader).get(PROJECTS_API, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_api_page_past_the_end_is_a_404_and_not_a_number_too(make_user, api_for):
    leader = make_user(Role.LEADER)
    _projects(leader, 3, ties=False)
    api = api_for(leader)
    assert api.get(PROJECTS_API, {"page": 9}).status_code == 404
    assert api.get(PROJECTS_API, {"page": "x"}).status_code == 404


# --- Counts -----------------------------------------------------------------------------------
def test_api_count_is_exact_below_the_cap_and_estimated_above(make_user, api_for, settings):
    leader = make_user(Role.LEADER)
    _projects(leader, 12, ties=False)
    api = api_for(leader)
    settings.LIST_EXACT_COUNT_CAP = 20
    data = api.get(PROJECTS_API).json()
    assert (data["count"], data["count_is_estimate"]) == (12, False)
    settings.LIST_EXACT_COUNT_CAP = 5
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_project")  # give the planner figures to estimate from
    data = api.get(PROJECTS_API).json()
    assert data["count_is_estimate"] is True
    assert data["count"] >= 6  # never below what the capped count saw


def test_page_shows_an_estimate_as_such(make_user, client_for, settings):
    leader = make_user(Role.LEADER)
    _projects(leader, 8, ties=False)
    client = client_for(leader)
    settings.LIST_EXACT_COUNT_CAP = 20
    html = client.get(PROJECTS_PAGE).content.decode()
    assert 'data-total="8"' in html and "data-estimate" not in html
    settings.LIST_EXACT_COUNT_CAP = 3
    html = client.get(PROJECTS_PAGE).content.decode()
    assert 'data-estimate="1"' in html
    assert "估算" in html or "(estimated)" in html


# --- Pages: cursors ---------------------------------------------------------------------------
def _page_ids(html):
    return [int(pk) for pk in re.findall(r'<td class="cell-title"><a href="/leads/projects/(\d+)/"',
                                         html)]


def _link(html, rel):
    match = re.search(rf'<a rel="{rel}" href="\?([^"]*)"', html)
    return match and match.group(1).replace("&amp;", "&")


def test_page_next_and_previous_links_walk_the_list(make_user, client_for):
    leader = make_user(Role.LEADER)
    _projects(leader, 60)  # three pages of 25
    client = client_for(leader)
    html = client.get(PROJECTS_PAGE).content.decode()
    seen, pages = _page_ids(html), [html]
    while query := _link(html, "next"):
        assert "cursor=" in query
        html = client.get(f"{PROJECTS_PAGE}?{query}").content.decode()
        seen += _page_ids(html)
        pages.append(html)
    assert seen == _expected_ids() and len(pages) == 3
    back = client.get(f"{PROJECTS_PAGE}?{_link(pages[-1], 'prev')}").content.decode()
    assert _page_ids(back) == _page_ids(pages[1])
    assert _page_ids(client.get(f"{PROJECTS_PAGE}?page=2").content.decode()) == \
        _page_ids(pages[1])


def test_page_with_a_tampered_cursor_falls_back_to_the_first_page(make_user, client_for):
    leader = make_user(Role.LEADER)
    _projects(leader, 30)
    response = client_for(leader).get(PROJECTS_PAGE, {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    assert _page_ids(response.content.decode()) == _expected_ids()[:25]
    assert response.context["page"].cursor_invalid


def test_list_with_computed_ordering_pages_by_offset(make_user, client_for):
    """The availability search orders by a computed rent: no cursor, ?page=N links."""
    leader = make_user(Role.LEADER)
    for index in range(30):
        make_unit(code=f"AV{index:02}", area="120", list_rent=Decimal(30 + index))
    start = timezone.localdate() + timedelta(days=10)
    response = client_for(leader).get("/parks/available/", {
        "start": start.isoformat(), "last_day": (start + timedelta(days=30)).isoformat()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "page=2" in _link(html, "next") and "cursor" not in _link(html, "next")


# --- Project list: no DISTINCT, constant queries ----------------------------------------------
def _api_queries(api, url):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_project_api_stage_filter_has_no_distinct_and_constant_queries(make_user, api_for):
    staff = make_user(Role.INVESTMENT_STAFF)
    colleague = make_user(Role.INVESTMENT_STAFF)
    api = api_for(staff)
    url = f"{PROJECTS_API}?stage=negotiating&stage=lead"
    _projects(staff, 3, stage_code="negotiating", ties=False)
    shared = make_project(owner=colleague, stage_code="lead", collaborators=[staff])
    small = _api_queries(api, url)
    _projects(staff, 12, stage_code="negotiating", ties=False)
    for _ in range(4):
        make_project(owner=colleague, stage_code="lead", collaborators=[staff])
    make_project(owner=colleague, stage_code="lead")  # not the staff member's: not listed
    large = _api_queries(api, url)
    assert len(small) == len(large)
    assert not [sql for sql in large if "DISTINCT" in sql.upper() and "leads_project" in sql]
    ids = [row["id"] for row in api.get(url + "&page_size=100").json()["results"]]
    assert len(ids) == len(set(ids)) == 20 and shared.pk in ids


# --- Kanban -----------------------------------------------------------------------------------
def _board(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/leads/projects/board/")
    assert response.status_code == 200
    columns = {c.stage.code: ([p.pk for p in c.cards], c.count)
               for c in response.context["columns"]}
    return columns, len(queries)


def test_board_cards_are_the_top_25_per_stage_in_constant_queries(make_user, client_for):
    leader = make_user(Role.LEADER)
    client = client_for(leader)
    _projects(leader, 4, stage_code="lead")
    _, small_queries = _board(client)
    _projects(leader, 30, stage_code="lead")
    _projects(leader, 27, stage_code="negotiating")
    _projects(leader, 2, stage_code="signed")
    columns, large_queries = _board(client)
    assert small_queries == large_queries
    for stage in Stage.objects.filter(is_active=True):
        expected = _expected_ids(stage=stage)
        assert columns[stage.code] == (expected[:25], len(expected))


# --- Occupancy --------------------------------------------------------------------------------
def _previous_occupancy(*, user, on):
    """The implementation before issue 8 (four correlated subqueries per unit), kept here as
    the reference the grouped queries must agree with."""
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))
    area_type = DecimalField(max_digits=14, decimal_places=2)
    held = Assignment.objects.filter(unit=OuterRef("pk")).occupying_on(on)
    occupying = held.filter(kind__in=Assignment.OCCUPYING_KINDS)

    def area(queryset):
        return Coalesce(Subquery(queryset.order_by().values("unit")
                                 .annotate(total=Sum("area_m2")).values("total")[:1],
                                 output_field=area_type), zero)

    paying = occupying.filter(kind=Assignment.Kind.LEASE).filter(
        Q(rent_free_until__isnull=True) | Q(rent_free_until__lte=on))
    units = Unit.objects.visible_to(user).filter(rentable=True).exclude(use=UnitUse.LAND) \
        .annotate(leased_area=area(occupying), paying_area=area(paying),
                  is_held=Exists(held.filter(kind__in=Assignment.HOLDING_KINDS)),
                  is_occupied=Exists(occupying))
    rows = units.order_by().values("park_id", "building_id").annotate(
        rentable=Sum("gross_area_m2"), leased=Sum("leased_area"), paying=Sum("paying_area"),
        reserved=Sum(Case(When(is_held=True, is_occupied=False, then=F("gross_area_m2")),
                          default=zero, output_field=area_type)),
        units=Sum(Value(1)))
    return {(r["building_id"]): (r["rentable"] or 0, r["leased"] or 0, r["paying"] or 0,
                                 r["reserved"] or 0, r["units"] or 0) for r in rows}


def test_occupancy_figures_equal_the_previous_implementation(make_user):
    leader = make_user(Role.LEADER)
    park = Park.objects.create(code="occ", name="对照园")
    other = Park.objects.create(code="occ2", name="二号园")
    a = Building.objects.create(park=park, code="A", name="A栋")
    b = Building.objects.create(park=park, code="B", name="B栋")
    c = Building.objects.create(park=other, code="C", name="C栋")
    company = CompanyFactory()
    D = date
    units = {code: make_unit(park=bld.park, building=bld, code=code, area=area)
             for code, bld, area in [("A1", a, "100"), ("A2", a, "220.5"), ("A3", a, "80"),
                                     ("B1", b, "300"), ("B2", b, "150"), ("C1", c, "60"),
                                     ("C2", c, "75")]}
    make_unit(park=park, building=a, code="A9", area="500", rentable=False)
    make_unit(park=park, code="LAND", area="9000", use="land")
    make_unit(park=park, code="NOBLD", area="40")  # a unit outside any building

    def book(code, kind, start, end, **extra):
        return parks_services.assignment_create(unit=units[code], company=company, kind=kind,
                                                by=system_admin(), start=start, end=end, **extra)

    book("A1", "lease", D(2027, 1, 1), D(2028, 1, 1), rent_free_until=D(2027, 4, 1))
    book("A2", "lease", D(2026, 1, 1), D(2029, 1, 1))
    book("B1", "sale", D(2026, 1, 1), None)
    book("B2", "reservation", D(2027, 1, 1), D(2027, 6, 1), hold_until=D(2027, 5, 31))
    # Two holds on one unit (an ended intent overlapping an active reservation): counted once.
    intent = book("C1", "intent", D(2027, 1, 1), D(2027, 9, 1))
    Assignment.objects.filter(pk=intent.pk).update(status=Assignment.Status.ENDED)
    book("C1", "reservation", D(2027, 2, 1), D(2027, 5, 1), hold_until=D(2027, 4, 30))
    # A hold on an occupied unit does not make it reserved.
    lease = book("C2", "lease", D(2026, 6, 1), D(2027, 12, 1))
    Assignment.objects.filter(pk=lease.pk).update(status=Assignment.Status.ENDED)
    book("C2", "intent", D(2027, 1, 1), D(2027, 7, 1))
    book("A3", "lease", D(2025, 1, 1), D(2026, 1, 1))  # over before every date below

    for on in [D(2026, 6, 1), D(2027, 2, 15), D(2027, 3, 1), D(2027, 4, 1), D(2027, 8, 1)]:
        report = parks_selectors.occupancy_report(user=leader, on=on)
        got = {bld.building_id: (bld.rentable, bld.leased, bld.rent_paying, bld.reserved,
                                 bld.units) for row in report for bld in row.buildings}
        assert got == _previous_occupancy(user=leader, on=on), on
    assert got[None][0] == Decimal("40")
