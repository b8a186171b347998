"""One paginator for every list, HTML and API alike (issue 8, "Performance at scale").

Two costs grow with the table, and each gets its own answer:

- The total. An exact COUNT(*) of a filtered 200k-row list costs more than the page itself, on
  every page. We count at most LIST_EXACT_COUNT_CAP + 1 rows; below the cap the figure is exact,
  above it we take PostgreSQL's planner estimate for the whole query (never below the cap, which
  we know is passed) and say so: "约 N 条（估算）" on screen, `count_is_estimate` in the API.
- Deep pages. OFFSET n reads and discards n rows, so page 3,600 costs 3,600 pages. `next` and
  `previous` therefore carry a keyset cursor (the ordering values of the last or first row): the
  next page is "rows after these values", answered from the ordering's index at the cost of page
  1 however far down. `?page=N` keeps working (OFFSET) for the first pages, the numbered links
  and existing clients.

A queryset whose ordering is not made of plain non-null columns of its own model (an annotation,
a related field, random) cannot be walked by keyset; it pages by OFFSET, which is fine for the
small lists that order that way (the availability search orders by a computed monthly rent).
"""

import base64
import binascii
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.db.models.query import ModelIterable
from django.utils import timezone

# Up to settings.LIST_EXACT_COUNT_CAP (default 2,000) rows a list shows its exact total.
# Counting 2,001 rows through an index costs a few milliseconds (measured at scale 100: 5 ms
# unfiltered, 17 ms for one stage); more is counting for its own sake, since nobody pages
# through 400 pages. Tests lower it in settings.
# Past this, OFFSET would overflow a database integer (a 40-digit ?page= did): nobody pages
# this far, the cursor links walk instead.
MAX_PAGE_NUMBER = 10**9
# Numbered links are offered for the first pages only: beyond them OFFSET gets expensive, and
# the cursor links walk on at constant cost.
NUMBERED_PAGES = 5
MAX_CURSOR_LENGTH = 1000


class InvalidCursor(ValueError):
    """The cursor parameter was not made by us for this list (edited, truncated, stale)."""


class InvalidPage(ValueError):
    """`page` is not a positive integer, or lies past the end of the list."""


@dataclass(frozen=True)
class Total:
    value: int
    is_estimate: bool


def exact_count_cap() -> int:
    return settings.LIST_EXACT_COUNT_CAP


def _counting(queryset: QuerySet) -> QuerySet:
    # Ordering, joins and computed columns needed only for display do not change how many rows
    # there are. (Under DISTINCT or GROUP BY the selected columns may, so they stay.)
    counting = queryset.order_by().select_related(None).prefetch_related(None)
    if not counting.query.distinct and counting.query.group_by is None:
        counting = counting.values("pk")
    return counting


def count_rows(queryset, *, cap: int | None = None) -> Total:
    """The list's total: exact up to `cap`, the planner's estimate above it (PostgreSQL)."""
    if not isinstance(queryset, QuerySet):
        return Total(len(queryset), False)
    cap = exact_count_cap() if cap is None else cap
    counting = _counting(queryset)
    if connections[queryset.db].vendor != "postgresql":
        # The SQLite demo holds a few thousand rows and has no comparable estimate.
        return Total(counting.count(), False)
    capped = counting[:cap + 1].count()
    if capped <= cap:
        return Total(capped, False)
    return Total(max(_planner_rows(counting), cap + 1), True)


def _planner_rows(queryset: QuerySet) -> int:
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


# --- Keyset ordering ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Key:
    name: str  # the lookup name ("updated_at", "pk")
    field: object
    descending: bool

    @property
    def label(self) -> str:
        return ("-" if self.descending else "") + self.name


def _ordering_items(queryset: QuerySet):
    query = queryset.query
    if query.order_by:
        return list(query.order_by)
    if query.default_ordering:
        return list(query.get_meta().ordering)
    return []


def keyset_ordering(queryset) -> list[Key] | None:
    """The queryset's ordering as keyset keys ending with a unique column, or None when it
    cannot be walked by keyset (then pages go by OFFSET)."""
    if not isinstance(queryset, QuerySet) or queryset._iterable_class is not ModelIterable:
        return None
    query = queryset.query
    if query.extra_order_by or query.distinct_fields or query.combinator or not queryset.ordered:
        return None
    opts = queryset.model._meta
    keys: list[Key] = []
    for item in _ordering_items(queryset):
        if isinstance(item, OrderBy) and isinstance(item.expression, F) \
                and item.nulls_first is None and item.nulls_last is None:
            name, descending = item.expression.name, item.descending
        elif isinstance(item, F):
            name, descending = item.name, False
        elif isinstance(item, str) and item not in ("?", "-?"):
            name, descending = item.removeprefix("-"), item.startswith("-")
        else:
            return None
        if "__" in name or name in query.annotations:
            return None
        try:
            field = opts.pk if name == "pk" else opts.get_field(name)
        except FieldDoesNotExist:
            return None
        if not getattr(field, "concrete", False) or field.is_relation or field.null:
            return None
        keys.append(Key(name, field, descending))
        if field.primary_key or field.unique:
            return keys
    if not keys:
        return None
    # Ties would make pages overlap or skip rows: break them by the primary key.
    return [*keys, Key("pk", opts.pk, keys[-1].descending)]


def _after(keys: list[Key], values: list, *, backwards: bool) -> Q:
    """Rows strictly after `values` in the order of `keys` (before them when `backwards`)."""
    clauses = []
    for index, key in enumerate(keys):
        equal = {k.name: v for k, v in zip(keys[:index], values[:index], strict=True)}
        operator = "lt" if key.descending != backwards else "gt"
        clauses.append(Q(**equal, **{f"{key.name}__{operator}": values[index]}))
    # Redundant with the clauses above, but a plain range on the leading column is what lets
    # PostgreSQL use it as an index condition instead of filtering every row it walks.
    lead = keys[0]
    bound = Q(**{f"{lead.name}__{'lte' if lead.descending != backwards else 'gte'}": values[0]})
    return bound & reduce(or_, clauses)


def _order(keys: list[Key], *, backwards: bool) -> list[str]:
    return [("-" if key.descending != backwards else "") + key.name for key in keys]


# --- Cursors -----------------------------------------------------------------------------------
def _dump(value):
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(keys: list[Key], row, *, backwards: bool, number: int) -> str:
    values = [_dump(getattr(row, key.field.attname)) for key in keys]
    payload = {"k": [key.label for key in keys], "v": values, "b": int(backwards), "n": number}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Cursor:
    values: list
    backwards: bool
    number: int


def decode_cursor(text: str, keys: list[Key]) -> Cursor:
    """Every way a cursor can be wrong ends in InvalidCursor, never in a database error."""
    if not text or len(text) > MAX_CURSOR_LENGTH:
        raise InvalidCursor(text)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = json.loads(raw.decode())
        labels, values = payload["k"], payload["v"]
        backwards, number = bool(payload["b"]), int(payload["n"])
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError) as error:
        raise InvalidCursor(text) from error
    if labels != [key.label for key in keys] or not isinstance(values, list) \
            or len(values) != len(keys) or number < 1:
        raise InvalidCursor(text)
    parsed = []
    for key, value in zip(keys, values, strict=True):
        if value is None or isinstance(value, dict | list):
            raise InvalidCursor(text)
        try:
            python = key.field.to_python(value)
        except (ValidationError, TypeError, ValueError, OverflowError) as error:
            raise InvalidCursor(text) from error
        if isinstance(python, datetime) and settings.USE_TZ and timezone.is_naive(python):
            raise InvalidCursor(text)
        parsed.append(python)
    return Cursor(parsed, backwards, number)


# --- Pages -------------------------------------------------------------------------------------
class ListPage(Sequence):
    """A page of rows with its total and its neighbours. It is a sequence of the rows, and
    keeps Django's Page vocabulary (number, has_next, paginator.count ...) for templates.

    next_params / previous_params are the query parameters that lead to the neighbouring page
    (besides the list's own filters), None when there is no such page.
    """

    def __init__(self, rows: list, *, number: int, total: Total, per_page: int,
                 next_params: dict | None, previous_params: dict | None):
        self.object_list = rows
        self.number = number
        self.total = total
        self.per_page = per_page
        self.next_params = next_params
        self.previous_params = previous_params

    def __len__(self) -> int:
        return len(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    @property
    def count(self) -> int:
        return self.total.value

    @property
    def count_is_estimate(self) -> bool:
        return self.total.is_estimate

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.per_page))

    @property
    def paginator(self):
        # Templates written for Django's Paginator read page.paginator.count and .num_pages.
        return self

    def has_next(self) -> bool:
        return self.next_params is not None

    def has_previous(self) -> bool:
        return self.previous_params is not None

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def numbered_pages(self) -> list[int]:
        """The page numbers offered as direct links: the first few only."""
        return list(range(1, min(self.num_pages, NUMBERED_PAGES) + 1))


def _page_params(number: int) -> dict:
    return {} if number <= 1 else {"page": number}


def _parse_page(value) -> int:
    if value in (None, ""):
        return 1
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise InvalidPage(value) from error
    if number < 1 or number > MAX_PAGE_NUMBER:
        raise InvalidPage(value)
    return number


def paginate_queryset(queryset, params: Mapping, *, per_page: int,
                      cap: int | None = None) -> ListPage:
    """The page `params` asks for: `cursor` (keyset) if given, else `page` (OFFSET).

    Raises InvalidCursor for a cursor we did not make for this list and InvalidPage for a page
    number that is not a number or lies past the end; callers turn them into 400/404 (API) or
    the first/last page (HTML)."""
    keys = keyset_ordering(queryset)
    if keys is not None:
        queryset = queryset.order_by(*_order(keys, backwards=False))
    total = count_rows(queryset, cap=cap)
    cursor_text = params.get("cursor")
    if cursor_text:
        if keys is None:
            raise InvalidCursor(cursor_text)
        return _keyset_page(queryset, keys, decode_cursor(cursor_text, keys), total=total,
                            per_page=per_page)
    number = _parse_page(params.get("page"))
    offset = (number - 1) * per_page
    rows = list(queryset[offset:offset + per_page + 1])
    if not rows and number > 1:
        raise InvalidPage(number)
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_params = previous_params = None
    if more:
        next_params = ({"cursor": encode_cursor(keys, rows[-1], backwards=False,
                                                number=number + 1)}
                       if keys else {"page": number + 1})
    if number > 1:
        previous_params = _page_params(number - 1)
    return ListPage(rows, number=number, total=total, per_page=per_page,
                    next_params=next_params, previous_params=previous_params)


def _keyset_page(queryset, keys: list[Key], cursor: Cursor, *, total: Total,
                 per_page: int) -> ListPage:
    backwards = cursor.backwards
    rows = list(queryset.filter(_after(keys, cursor.values, backwards=backwards))
                .order_by(*_order(keys, backwards=backwards))[:per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not rows:
        # Past either end (the rows moved on, or the cursor was edited): nothing to anchor
        # neighbours on but the start of the list.
        return ListPage([], number=cursor.number, total=total, per_page=per_page,
                        next_params=None, previous_params=_page_params(1))
    if backwards:
        rows.reverse()
        has_previous, has_next = more, True
    else:
        has_previous, has_next = True, more
    # The page number rides in the cursor for display; when walking back reaches the start,
    # that is page 1 whatever the cursor said.
    number = cursor.number if has_previous else 1
    number = max(number, 2) if has_previous else number
    next_params = previous_params = None
    if has_next:
        next_params = {"cursor": encode_cursor(keys, rows[-1], backwards=False,
                                               number=number + 1)}
    if has_previous:
        previous_params = (_page_params(1) if number == 2 else
                           {"cursor": encode_cursor(keys, rows[0], backwards=True,
                                                    number=number - 1)})
    return ListPage(rows, number=number, total=total, per_page=per_page,
                    next_params=next_params, previous_params=previous_params)
