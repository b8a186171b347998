"""Bulk writes and bulk look-ups, one meaning on every database: COPY and `= ANY(array)` on
PostgreSQL (production, tests, the bench), batched INSERTs and chunked `IN (...)` elsewhere
(SQLite under `make run`). Apps call these instead of writing SQL for one vendor, so a feature
that works in production also works in the demo.

Writing:
- `insert(model, rows, ids=...)`: rows as dicts of attnames. What the model's constructor
  would set is filled in for the fields a row does not give (defaults; now for auto_now and
  auto_now_add), and with `ids` each row gets its new primary key first, so the caller can
  write the rows that point to it. The spreadsheet import writes companies with it.
- `insert_history(model, rows, by, now)`: the "+" records django-simple-history's post_save
  would write for those rows, saved one by one.
- `bulk_write(model, fields, rows)`: tuples in the order of `fields`, primary keys the
  caller's (`reserve_ids`). The demo's volume seeders write with it.
- `reserve_ids(model, count)`, `analyze(*tables)`.

The database still checks every constraint, foreign key, trigger and length: nothing is cut to
fit, and a refusal is Django's DatabaseError (IntegrityError, DataError ...) on every vendor.

Reading: `filter_any(queryset, field=values, ...)`, the rows whose field is one of many values.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import CharField, F, Lookup, Q, TextField, Value
from django.utils import timezone

# COPY sends at most this many rows per statement: the buffer of one chunk is what the
# process holds (some 10 MB at 50,000 rows of a wide table).
COPY_CHUNK_ROWS = 50_000
# Rows per executemany() where there is no COPY. SQLite runs each row as its own statement
# anyway; the batch only bounds the prepared values held in memory.
INSERT_BATCH_ROWS = 2_000


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


# --- COPY's text format -----------------------------------------------------------------------
# Backslash escapes for the characters that separate values and rows.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_value(value: Any) -> str:
    """A Python value as COPY's text format writes it (the import's and the seeders' values:
    str, None, bool, int, Decimal, float, date, datetime, time)."""
    if type(value) is str:  # the common case first: most values of a spreadsheet are text
        return value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, date | time):  # datetime too: ISO 8601, with the offset when aware
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _copy(model: type, columns: list[str], buffer: io.StringIO) -> None:
    quote = connection.ops.quote_name
    sql = (f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
           "FROM STDIN")
    buffer.seek(0)
    # copy_expert is psycopg2's own method: Django neither wraps its errors (so a refusal
    # would escape `except DatabaseError`) nor logs it as a query; wrap_database_errors turns
    # psycopg2's errors into Django's.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(sql, buffer)


def _insert_many(model: type, fields: list, rows: Iterable[Sequence]) -> int:
    """executemany() INSERTs, each value prepared by its field as the ORM's save() would
    (an aware datetime becomes SQLite's UTC text, a Decimal its string)."""
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(model._meta.db_table)} "
           f"({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    written = 0
    batch: list[list] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append([f.get_db_prep_save(value, connection)
                          for f, value in zip(fields, row, strict=True)])
            if len(batch) >= INSERT_BATCH_ROWS:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


# --- Writing --------------------------------------------------------------------------------
def bulk_write(model: type, fields: list[str], rows: Iterable[Sequence]) -> int:
    """Write tuples of `fields` (attnames, in order) into `model`'s table: COPY on PostgreSQL
    (in chunks of COPY_CHUNK_ROWS), executemany INSERTs elsewhere. Nothing is filled in: the
    tuples are the rows, primary keys included when the caller gives them (see reserve_ids).
    `rows` may be a generator; it is read once. Returns the number of rows written."""
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    if not _postgresql():
        return _insert_many(model, columns, rows)
    names = [f.column for f in columns]
    written = pending = 0
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(copy_value(v) for v in row))
        buffer.write("\n")
        pending += 1
        if pending >= COPY_CHUNK_ROWS:
            _copy(model, names, buffer)
            written += pending
            pending = 0
            buffer = io.StringIO()
    if pending:
        _copy(model, names, buffer)
        written += pending
    return written


def insert(model: type, rows: list[dict[str, Any]], *, ids: bool = False) -> None:
    """Write many rows of `model`, inside the open transaction.

    Why not bulk_create(): on PostgreSQL it prepares every value of every row in Python and
    has the server parse an INSERT of thousands of parameters, which made up most of a
    100,000-row import; COPY is the floor the import is measured against
    (bench/imports_bench.py). Elsewhere executemany() does what bulk_create would.
    `rows` map attnames to values of the column's type; each row is completed IN PLACE with
    the defaults of the fields it does not give and, with `ids`, with its new primary key
    (COPY returns nothing, so the keys are drawn first: see draw_ids).
    """
    if not rows:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            default = now
        elif f.has_default() and callable(f.default):
            raise TypeError(f"{f} has a callable default, which insert() does not call per row")
        else:
            default = f.get_default()
        for row in rows:
            row.setdefault(f.attname, default)
    if ids:
        for row, new_id in zip(rows, draw_ids(model, len(rows)), strict=True):
            row[meta.pk.attname] = new_id
        fields.insert(0, meta.pk)
    if not _postgresql():
        _insert_many(model, fields, ([row[f.attname] for f in fields] for row in rows))
        return
    columns = []
    for f in fields:
        values = [row[f.attname] for row in rows]
        first = values[0]
        if all(value is first for value in values):  # the uploader, the time, a default
            columns.append([copy_value(first)] * len(values))
        else:
            columns.append([copy_value(value) for value in values])
    buffer = io.StringIO()
    buffer.writelines("\t".join(line) + "\n" for line in zip(*columns, strict=True))
    _copy(model, [f.column for f in fields], buffer)


def insert_history(model: type, rows: list[dict[str, Any]], by, now: datetime) -> None:
    """The "+" records django-simple-history's post_save writes for rows saved one by one,
    by `by`, for rows written by insert() (which completed them with every column)."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or not rows:
        return
    history = model.history.model
    tracked = [f.attname for f in history.tracked_fields]
    insert(history, [
        {**{attname: row[attname] for attname in tracked}, "history_date": now,
         "history_change_reason": None, "history_type": "+", "history_user_id": by.pk}
        for row in rows
    ])


def draw_ids(model: type, count: int) -> list[int]:
    """`count` new primary keys of `model`'s table, for rows about to be written.

    PostgreSQL: drawn from the table's sequence, so concurrent writers (the forms, another
    import) never get the same ones. SQLite: the keys after the largest ever used (the
    table's maximum, or AUTOINCREMENT's high-water mark if higher); SQLite lets one writer at
    a time commit, and a clash with a writer in between is refused by the primary key, which
    the caller handles like any other refusal (the import writes the batch again row by row).
    """
    meta = model._meta
    with connection.cursor() as cursor:
        if _postgresql():
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                           "FROM generate_series(1, %s)",
                           [meta.db_table, meta.pk.column, count])
            return [new_id for (new_id,) in cursor.fetchall()]
        first = _max_id(cursor, model) + 1
    return list(range(first, first + count))


def _max_id(cursor, model: type) -> int:
    meta = model._meta
    quote = connection.ops.quote_name
    cursor.execute(f"SELECT COALESCE(MAX({quote(meta.pk.column)}), 0) "
                   f"FROM {quote(meta.db_table)}")
    highest = cursor.fetchone()[0]
    if connection.vendor == "sqlite":
        # AUTOINCREMENT never reuses the key of a deleted row; neither do we.
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
        if cursor.fetchone():
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
            found = cursor.fetchone()
            highest = max(highest, found[0] if found else 0)
    return highest


def reserve_ids(model: type, count: int) -> int:
    """Reserve a contiguous block of `count` primary keys after the current maximum; return
    the first. The sequence is moved past them (SQLite moves its own when the rows are
    written), so later inserts through the ORM do not collide. For seeding an otherwise idle
    database: a concurrent writer could take a key of the block (use draw_ids then)."""
    with connection.cursor() as cursor:
        first = _max_id(cursor, model) + 1
        if _postgresql():
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s)",
                           [model._meta.db_table, model._meta.pk.column, first + count - 1])
    return first


def analyze(*tables: str) -> None:
    """Fresh planner statistics: without them PostgreSQL plans the bulk-filled tables as if
    empty (a correlated subquery over 50,000 assignments ran 80 s instead of milliseconds).
    SQLite plans without statistics unless asked; the demo does not need them."""
    if not _postgresql():
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")


# --- Reading: one of many values ------------------------------------------------------------
class AnyOf(Lookup):
    """`column = ANY('{...}'::type[])`: a list matched with ONE parameter, an array written
    out as text. PostgreSQL only. `__in` compiles a placeholder per value and a list parameter
    makes psycopg2 write ARRAY[...] with a constant per value for the server to plan; for the
    100,000 names and codes of a large file, either costs more than the query itself."""

    lookup_name = "any"  # used as an expression, never registered on a field
    prepare_rhs = False

    def __init__(self, lhs, values: Iterable, db_type: str):
        self.db_type = db_type
        super().__init__(lhs, Value(array_literal(values)))

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(({rhs})::{self.db_type}[])", (*lhs_params, *rhs_params)


def array_literal(values: Iterable) -> str:
    """PostgreSQL's text form of an array: {"a","b"}, each element quoted and escaped."""
    quoted = (str(value).replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def _array_type(model: type, name: str) -> str:
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    target = field.target_field if field.is_relation else field
    if isinstance(target, CharField | TextField):
        # Not varchar(n): casting to a length would cut a longer value to fit, and match.
        return "text"
    return field.db_type(connection)


def filter_any(queryset, **conditions: Collection) -> Iterator:
    """The rows of `queryset` whose field is one of the given values, for any of the
    conditions (OR): `filter_any(Company.objects.all(), uscc=codes, name_key=keys)`.

    PostgreSQL: ONE query, each list a single parameter (see AnyOf). Elsewhere, `field__in`
    in chunks that fit the backend's limit on parameters (SQLite: 999), so a query count
    grows with the values there; each row comes once even when it meets two conditions.
    The queryset's ordering holds within a chunk only: order by the chunked field first if
    the caller groups by it (all rows of one value are in the same chunk).
    """
    conditions = {name: list(values) for name, values in conditions.items() if values}
    if not conditions:
        return iter(())
    model = queryset.model
    if _postgresql():
        return iter(queryset.filter(reduce(or_, [
            Q(AnyOf(F(name), values, _array_type(model, name)))
            for name, values in conditions.items()
        ])))
    return _filter_in_chunks(queryset, conditions)


def _filter_in_chunks(queryset, conditions: dict[str, list]) -> Iterator:
    limit = connection.features.max_query_params
    try:
        _sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # queryset.none(), e.g. visible_to() of a user without a role
        return
    size = max(1, limit - len(params) - 1) if limit else None
    seen: set = set()
    several = len(conditions) > 1
    for name, values in conditions.items():
        for start in range(0, len(values), size or len(values)):
            chunk = values[start:start + size] if size else values
            for row in queryset.filter(**{f"{name}__in": chunk}):
                if several:
                    key = _row_key(row)
                    if key in seen:
                        continue
                    seen.add(key)
                yield row


def _row_key(row) -> Any:
    if hasattr(row, "_meta"):
        return row.pk
    if isinstance(row, dict):
        return tuple(sorted(row.items()))
    return row
