"""The actuals import (issue 14): staff upload the statistics office's report (统计局报表), one
row per company and period, and every row becomes the actuals of one period of an agreement,
all of them or none.

1. Upload (`actuals_upload`): the file is checked as every upload (crm.core.uploads) and held
   to the limits its zip directory shows (leads.imports.reading.precheck), then kept in the
   cache for a day under the uploader and a random token (the files are small, see
   MAX_UPLOAD_BYTES; an abandoned one expires on its own). Nothing else is stored.
2. Dry run (`actuals_check`): the file is read within the limits of leads' import
   (reading.open_rows: size, unpacked bytes, zip bombs, parts, the sheet's extent; rows,
   columns and cell length as leads' check holds them; the IMPORT_* settings), its cells
   parsed by leads' parsers (cell text, undoing our exports' formula quote; USCC; decimals,
   never floats; whole numbers), each row matched to an agreement and checked by the rules of
   actual_record itself (services.actual_check: the agreement's reporting period, a period not
   recorded yet and not before signing, fixed assets within the investment), and the rows
   compared with each other (one period of an agreement once). Nothing is written.
3. Commit (`actuals_commit`): the same check, run again on the file against the database as it
   is now, then every row recorded in one transaction by services.actuals_import_rows, which
   checks each row again and refreshes the statuses: a bad row writes nothing. A claim in the
   cache keeps a double click from committing twice; the one-actual-per-period constraint is
   the guarantee under a race.

It runs in the request: a file holds one row per company and period (hundreds of rows), and
leads' job machinery (ImportJob, its kinds and Celery tasks) is built around companies and
projects; joining it would need a new kind, i.e. a migration, for files that take a second.

Matching. A row names its company by 统一社会信用代码 (the name is for the reader only). Its
agreement is the latest-signed one (then the latest entered) among the agreements of the
company's projects that the uploader keeps (services.can_keep_agreements: the project's team).
Decided so because the statistics office reports a company as a whole, not per agreement, and
where a company has signed again (a second project, a supplementary agreement) the latest
agreement is the one whose obligations run now; the dry run shows which agreement each row
goes to, before anything is written. A credit code with no agreement the uploader keeps (none
at all, another team's, a confidential project's) gets one message, "no agreement you keep for
this credit code", and nothing more: no name, no hint that a project exists.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter

from crm.accounts.roles import Role, has_role
from crm.core.bulk import filter_any
from crm.core.exceptions import ConflictError
from crm.core.exports import title_row_skipped
from crm.core.permissions import require
from crm.core.uploads import validate_upload
from leads.imports import reading
from leads.imports.checking import _hold_to_limits as hold_to_limits
from leads.imports.columns import ERROR, NOTICE, CellError, Column, header_key
from leads.imports.parsing import cell_text, limited_text, parse_decimal, parse_int, parse_uscc
from leads.imports.reading import FileRefused, Limits
from leads.models import Company

from . import selectors, services
from .models import Actual, Agreement

EXTENSIONS = {"xlsx", "csv"}
# One row per company and period: 1,000 rows of the template's 11 columns are some 32 KB as
# .xlsx. The file waits in the cache between the dry run and the commit, so it is held well
# below the general upload limit (MAX_UPLOAD_SIZE, 20 MB); 5 MB leaves room for a statistics
# office's sheet with many more columns and its formatting.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Rows of data per file, checked and committed in the request. Each row is checked by what
# actual_record asks of the database, and committed by it (insert, history, one refresh of the
# statuses at the end): measured at about 3 ms a row for the dry run and 14 ms for the commit,
# on a busy two-core machine, so 1,000 rows commit in some 15 s. A bureau's signed projects
# number in the hundreds, each one row a period; a longer backfill is split into files.
# IMPORT_MAX_ROWS applies as well. Setting: FULFILMENT_IMPORT_MAX_ROWS.
MAX_ROWS = 1_000
# How long an uploaded file waits for its commit (the cache expires it, so an abandoned upload
# leaves nothing behind).
KEEP_SECONDS = 24 * 60 * 60
# How long a commit holds its claim on the file (it takes seconds).
CLAIM_SECONDS = 5 * 60
_CACHE_PREFIX = "fulfilment:actuals-import"
_TOKEN = re.compile(r"[0-9a-f]{32}")
# Calendar years an actual may be for; the agreement's signing is the real floor.
_YEARS = (1990, 2100)

FIGURES = ("investment_wan", "fixed_asset_investment_wan", "funds_arrived_wan",
           "output_value_wan", "tax_wan", "jobs")
if set(FIGURES) != set(services.ACTUAL_FIGURES):  # one vocabulary with actual_record
    raise ImportError("the actuals import's figures are not actual_record's")

COLUMNS: tuple[Column, ...] = (
    Column("uscc", "统一社会信用代码", ("信用代码", "社会信用代码",
                                         "uscc", "credit code", "unified social credit code"),
           gettext_lazy("18 characters (GB 32100-2015): the row goes to the latest-signed "
                        "agreement of this company that you keep."), required=True),
    Column("name", "企业名称", ("单位名称", "单位详细名称", "公司名称", "企业", "company",
                                "company name", "name"),
           gettext_lazy("For the reader: rows are matched by the credit code.")),
    Column("year", "年度", ("年份", "报告年度", "年", "year"),
           gettext_lazy("The calendar year, e.g. 2025."), required=True),
    Column("quarter", "季度", ("报告季度", "quarter"),
           gettext_lazy("1 to 4 (or 一季度, Q1 …) for a quarter, for agreements reported "
                        "quarterly; empty for the whole year.")),
    Column("investment_wan", "完成投资（万元）", ("完成投资", "完成投资额", "完成投资额（万元）",
                                               "investment", "investment made"),
           gettext_lazy("In 10k yuan (万元), in the period.")),
    Column("fixed_asset_investment_wan", "其中固定资产投资（万元）",
           ("其中：固定资产投资", "其中固定资产投资", "固定资产投资（万元）", "固定资产投资",
            "fixed-asset investment", "fixed assets"),
           gettext_lazy("In 10k yuan (万元): the part of the investment made in fixed assets, "
                        "so not more than it.")),
    Column("funds_arrived_wan", "到位资金（万元）", ("到位资金", "实际到位资金",
                                                  "实际到位资金（万元）", "funds arrived"),
           gettext_lazy("In 10k yuan (万元), in the period.")),
    Column("output_value_wan", "产值（万元）", ("产值", "工业总产值", "工业总产值（万元）",
                                              "总产值", "output value", "output"),
           gettext_lazy("In 10k yuan (万元), in the period.")),
    Column("tax_wan", "税收（万元）", ("税收", "纳税", "纳税总额", "税收总额", "实缴税金",
                                      "实缴税金（万元）", "tax", "tax paid"),
           gettext_lazy("In 10k yuan (万元), paid in the period.")),
    Column("jobs", "从业人员（人）", ("从业人员", "从业人员期末人数", "从业人数", "就业人数",
                                     "jobs", "employees"),
           gettext_lazy("Number of people at the end of the period.")),
    Column("note", "备注", ("说明", "note", "notes"),
           gettext_lazy("Free text, at most 200 characters.")),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for column in COLUMNS:
        for spelling in (column.header, column.key, *column.aliases):
            if index.setdefault(header_key(spelling), column.key) != column.key:
                raise ValueError(f"actuals import header {spelling!r} names two columns")
    return index


HEADER_INDEX = _header_index()
# The field an error of actual_record's check speaks on → the column whose cell settles it.
_FIELD_COLUMNS = {**{name: name for name in FIGURES}, "note": "note", "evidence": "note"}
_NOTE_MAX = Actual._meta.get_field("note").max_length


# --- Who --------------------------------------------------------------------------------------
def can_import_actuals(user) -> bool:
    """Investment staff: the project's team keeps its actuals (services.can_keep_agreements,
    asked of every row); nobody else keeps any, so leaders, park managers, fund reviewers and
    administrators get the product's 403 on the import's pages."""
    return has_role(user, Role.INVESTMENT_STAFF)


def require_may_import(user) -> None:
    require(can_import_actuals(user),
            _("Only investment staff import actuals, for the projects whose team they are on."))


# --- Cells ------------------------------------------------------------------------------------
def parse_year(value: Any, text: str) -> int:
    text = unicodedata.normalize("NFKC", text).removesuffix("年").strip()
    try:
        year = parse_int(value if isinstance(value, int | float) else text, text)
    except CellError:
        year = None
    if year is None or not _YEARS[0] <= year <= _YEARS[1]:
        raise CellError(_("“%(value)s” is not a year; write it as 2025.") % {"value": text})
    return year


_QUARTERS = {"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4}


def parse_quarter(value: Any, text: str) -> int:
    """1 to 4, written 1, Q1, 一季度, 第一季度 or 1季度."""
    key = unicodedata.normalize("NFKC", text).casefold().replace(" ", "")
    key = key.removeprefix("第").removeprefix("q").removesuffix("季度").removesuffix("季")
    found = _QUARTERS.get(key)
    if found is None:
        raise CellError(_("“%(value)s” is not a quarter: write 1 to 4, or leave it empty for "
                          "the whole year.") % {"value": text})
    return found


def _parsers() -> dict[str, Callable[[Any, str], Any]]:
    return {
        "uscc": parse_uscc,
        "name": lambda value, text: limited_text(value, 200, text),
        "year": parse_year,
        "quarter": parse_quarter,
        **{name: parse_decimal for name in FIGURES if name != "jobs"},
        "jobs": parse_int,
        "note": lambda value, text: limited_text(value, _NOTE_MAX, text),
    }


def period_of(year: int, quarter: int | None) -> tuple[date, date]:
    """The period a row reports: the calendar year, or one of its quarters."""
    if quarter is None:
        return date(year, 1, 1), date(year, 12, 31)
    start = date(year, 3 * quarter - 2, 1)
    end = (date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1))
    return start, date.fromordinal(end.toordinal() - 1)


def period_label(start: date, end: date) -> str:
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        return _("%(year)s (year)") % {"year": start.year}
    return _("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month + 2) // 3}


# --- The file between upload and commit -------------------------------------------------------
@dataclass
class Upload:
    """An uploaded file, kept in the cache between its dry run and its commit. It has the
    shape leads' readers expect of an import job: a `file` and its `original_name`."""

    token: str
    original_name: str
    content: bytes
    agreement_id: int | None = None

    @property
    def file(self) -> ContentFile:
        # A fresh file each time: each reader opens it and closes it when done.
        return ContentFile(self.content, name=self.original_name)


def _cache_key(user, token: str) -> str:
    return f"{_CACHE_PREFIX}:{user.pk}:{token}"


def max_upload_bytes() -> int:
    return min(MAX_UPLOAD_BYTES, settings.MAX_UPLOAD_SIZE)


def max_rows() -> int:
    return min(int(getattr(settings, "FULFILMENT_IMPORT_MAX_ROWS", MAX_ROWS)),
               Limits.current().rows)


def actuals_upload(*, by, upload, agreement_id: int | None = None) -> Upload:
    """Keep an uploaded file for its dry run and commit; returns it with its token. Raises
    ValidationError (on "file") for a file of the wrong type or size, or one beyond the limits
    its zip directory already shows (reading.precheck): such a file is never kept."""
    require_may_import(by)
    try:
        validate_upload(upload, allowed=EXTENSIONS, max_size=max_upload_bytes())
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    upload.seek(0)
    kept = Upload(token=secrets.token_hex(16),
                  original_name=os.path.basename(upload.name)[:200] or "actuals.xlsx",
                  content=upload.read(), agreement_id=agreement_id)
    try:
        reading.precheck(kept)
    except FileRefused as refusal:
        raise ValidationError({"file": [refusal.message]}) from refusal
    cache.set(_cache_key(by, kept.token), {"name": kept.original_name, "content": kept.content,
                                           "agreement": agreement_id}, KEEP_SECONDS)
    return kept


def actuals_upload_get(*, by, token: str) -> Upload | None:
    """The uploader's own file under `token`, or None (another user's, expired, committed)."""
    require_may_import(by)
    if not _TOKEN.fullmatch(token or ""):
        return None
    kept = cache.get(_cache_key(by, token))
    if not kept:
        return None
    return Upload(token=token, original_name=kept["name"], content=kept["content"],
                  agreement_id=kept.get("agreement"))


# --- The check --------------------------------------------------------------------------------
@dataclass
class Row:
    number: int
    values: dict[str, Any]
    bad: set[str] = field(default_factory=set)
    agreement: Agreement | None = None
    company: Company | None = None

    @property
    def period(self) -> tuple[date, date] | None:
        if "year" not in self.values or "quarter" in self.bad:
            return None  # what the period is cannot be said (the refused cell says why)
        return period_of(self.values["year"], self.values.get("quarter"))

    @property
    def period_text(self) -> str:
        period = self.period
        return period_label(*period) if period else ""

    def record_values(self) -> dict[str, Any]:
        """What actual_record takes for this row: its period, the figures given, the note.
        An empty figure is not given (stored as 0; jobs as unknown)."""
        start, end = self.period
        values = {"period_start": start, "period_end": end,
                  **{name: self.values[name] for name in FIGURES if name in self.values}}
        if self.values.get("note"):
            values["note"] = self.values["note"]
        return values

    @property
    def figures(self) -> list[Any]:
        return [self.values.get(name) for name in FIGURES]


@dataclass
class Checked:
    upload: Upload
    rows: list[Row] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)  # column key -> header in the file
    positions: dict[str, int] = field(default_factory=dict)  # column key -> index in the file

    @property
    def errors(self) -> list[dict]:
        return [p for p in self.problems if p["level"] == ERROR]

    @property
    def notices(self) -> list[dict]:
        return [p for p in self.problems if p["level"] == NOTICE]

    @property
    def agreements(self) -> int:
        return len({row.agreement.pk for row in self.rows if row.agreement is not None})

    def column(self, key: str) -> str:
        if key in self.written:
            return self.written[key]
        column = COLUMNS_BY_KEY.get(key)
        return column.header if column else ""

    def add(self, row: int | None, key: str, message: str, level: str = ERROR) -> None:
        self.problems.append({"row": row, "column": self.column(key), "message": str(message),
                              "level": level, "_pos": self.positions.get(key, -1)})

    def finish(self) -> None:
        self.problems.sort(key=lambda p: (p["row"] or 0, p["_pos"], p["level"] != ERROR))
        for problem in self.problems:
            problem.pop("_pos", None)


def actuals_check(*, by, upload: Upload) -> Checked:
    """The dry run: read and check every row of the file as `by` would import it; write
    nothing. The commit runs this same check again."""
    require_may_import(by)
    checked = Checked(upload=upload)
    try:
        with reading.open_rows(upload) as (rows, _estimate):
            _read(rows, checked)
    except FileRefused as refusal:
        # As leads' check: a file beyond a limit is not checked further; the refusal is the
        # one problem.
        checked.rows.clear()
        checked.problems = [{"row": refusal.row, "column": refusal.column, "level": ERROR,
                             "message": refusal.message, "_pos": -1}]
    except CellError as error:
        checked.add(None, "", error.message)
    except reading.UNREADABLE as error:
        checked.add(None, "", _("The file could not be read as a spreadsheet: %(error)s")
                    % {"error": error})
    if checked.rows:
        _check_against_agreements(by, checked)
    checked.finish()
    return checked


def _read(rows, checked: Checked) -> None:
    limits = Limits.current()
    # An export of ours opens with a title row above the header: skipped, and counted.
    rows, header_row = title_row_skipped(rows, cell_text)
    header = next(rows, None)
    if header is not None:
        hold_to_limits([cell_text(cell) for cell in header], header_row, limits)
    if header is None or not any(cell_text(cell) for cell in header):
        raise CellError(_("The file is empty: the first row must hold the column headers."))
    mapping: list[tuple[int, str]] = []
    unnamed: dict[int, str] = {}
    for index, cell in enumerate(header):
        text = cell_text(cell)
        if not text:
            unnamed[index] = get_column_letter(index + 1)
            continue
        key = HEADER_INDEX.get(header_key(text))
        if key is None:
            # A statistics office's report carries more than actuals (industry, park, ...):
            # such a column is left out, and said so, rather than refused.
            checked.problems.append({
                "row": header_row, "column": text, "level": NOTICE, "_pos": index,
                "message": _("Not a column of the actuals import: left out.")})
            continue
        if key in checked.written:
            checked.problems.append({
                "row": header_row, "column": text, "level": ERROR, "_pos": index,
                "message": _("Column “%(column)s” repeats “%(first)s”.")
                % {"column": text, "first": checked.written[key]}})
            continue
        checked.written[key] = text
        checked.positions[key] = index
        mapping.append((index, key))
    for column in COLUMNS:
        if column.required and column.key not in checked.written:
            checked.add(header_row, column.key, _("The required column “%(column)s” is missing.")
                        % {"column": column.header})
    if not any(name in checked.written for name in FIGURES):
        checked.add(header_row, "", _("The file has none of the figures' columns (%(columns)s).")
                    % {"columns": "、".join(COLUMNS_BY_KEY[n].header for n in FIGURES)})
    parsers = _parsers()
    required = [c.key for c in COLUMNS if c.required and c.key in checked.written]
    limit = max_rows()
    for number, raw in enumerate(rows, start=header_row + 1):
        texts = [cell_text(cell) for cell in raw]
        if not any(texts):
            continue  # blank rows are skipped, but still counted in the row numbers
        hold_to_limits(texts, number, limits, header=checked.written, mapping=mapping)
        if len(checked.rows) >= limit:
            raise FileRefused(_("The file has more than %(rows)s rows of data, the limit of "
                                "the actuals import.") % {"rows": f"{limit:,}"}, row=number)
        row = Row(number=number, values={})
        width = len(raw)
        for index, key in mapping:
            text = texts[index] if index < width else ""
            if not text:
                continue
            try:
                row.values[key] = parsers[key](raw[index], text)
            except CellError as error:
                checked.add(number, key, error.message)
                row.bad.add(key)
        for index, letter in list(unnamed.items()):  # said once, where it first has a value
            if index < width and texts[index]:
                checked.problems.append({
                    "row": number, "column": letter, "level": NOTICE, "_pos": index,
                    "message": _("This column has no header: its values are left out.")})
                del unnamed[index]
        for key in required:
            if key not in row.values and key not in row.bad:
                checked.add(number, key, _("A value is required."))
        if not any(name in row.values or name in row.bad for name in FIGURES):
            checked.add(number, "", _("The row has no figures: fill in at least one."))
        checked.rows.append(row)


def kept_agreements(*, user, usccs) -> dict[str, Agreement]:
    """Per credit code, the agreement a row of it goes to: the latest-signed (then the latest
    entered) of the agreements of the company's projects that `user` keeps (module docstring).
    A fixed number of queries, plus one per project `user` helps on but does not own (the
    team check of services.can_keep_agreements)."""
    companies = {c.pk: c for c in filter_any(Company.objects.only("pk", "uscc", "name"),
                                              uscc=list(usccs))}
    if not companies:
        return {}
    # A file names hundreds of companies: a plain IN fits every backend's parameter limit.
    agreements = selectors.agreement_queryset(user=user).filter(
        project__company_id__in=list(companies))
    found: dict[str, Agreement] = {}
    kept: dict[int, bool] = {}
    for agreement in sorted(agreements, key=lambda a: (a.signed_on, a.pk), reverse=True):
        project = agreement.project
        if project.pk not in kept:
            kept[project.pk] = services.can_keep_agreements(user, project)
        if kept[project.pk]:
            found.setdefault(companies[project.company_id].uscc, agreement)
    return found


def _check_against_agreements(by, checked: Checked) -> None:
    usccs = {row.values["uscc"] for row in checked.rows if "uscc" in row.values}
    agreements = kept_agreements(user=by, usccs=usccs) if usccs else {}
    seen: dict[tuple[int, date], int] = {}
    for row in checked.rows:
        if "uscc" not in row.values:
            continue
        agreement = agreements.get(row.values["uscc"])
        if agreement is None:
            checked.add(row.number, "uscc", _("No agreement you keep for this credit code."))
            continue
        row.agreement = agreement
        period = row.period
        if period is None:
            continue  # the year is missing or refused: already said
        period_key = "quarter" if "quarter" in row.values else "year"
        first = seen.setdefault((agreement.pk, period[0]), row.number)
        if first != row.number:
            checked.add(row.number, period_key,
                        _("The same period of the same agreement as row %(row)d.")
                        % {"row": first})
            continue
        try:
            services.actual_check(agreement=agreement, by=by, **row.record_values())
        except PermissionDenied:  # the team changed since the match: as if unmatched
            checked.add(row.number, "uscc", _("No agreement you keep for this credit code."))
        except ValidationError as error:
            _add_errors(checked, row, error, period_key)


def _add_errors(checked: Checked, row: Row, error: ValidationError, period_key: str) -> None:
    """actual_record's refusal, each message in the column whose cell settles it. A cell the
    parser refused has its own message; what the check made of its absence is dropped."""
    messages = error.message_dict if hasattr(error, "error_dict") else {
        NON_FIELD_ERRORS: error.messages}
    for name, texts in messages.items():
        if name in ("period_start", "period_end"):
            key = period_key
        else:
            key = _FIELD_COLUMNS.get(name, "")
        if key in row.bad or (name == "fixed_asset_investment_wan"
                              and "investment_wan" in row.bad):
            continue
        for text in texts:
            checked.add(row.number, key, text)


# --- The commit -------------------------------------------------------------------------------
@dataclass
class Committed:
    checked: Checked
    actuals: list[Actual]

    @property
    def done(self) -> bool:
        return bool(self.actuals)


def actuals_commit(*, by, upload: Upload) -> Committed:
    """Check the file again and record every row, or none (services.actuals_import_rows: one
    transaction). A file that no longer passes the check (a period recorded meanwhile, a team
    changed) writes nothing and comes back with its problems. Raises ConflictError while
    another commit of the same file runs (a double click)."""
    require_may_import(by)
    key = _cache_key(by, upload.token)
    claim = f"{key}:commit"
    if not cache.add(claim, 1, CLAIM_SECONDS):
        raise ConflictError(_("This file is being imported already."), code="import_state")
    try:
        if cache.get(key) is None:
            raise ConflictError(_("This file has been imported already, or has waited too "
                                  "long; upload it again."), code="import_state")
        checked = actuals_check(by=by, upload=upload)
        if checked.errors or not checked.rows:
            return Committed(checked=checked, actuals=[])
        try:
            actuals = services.actuals_import_rows(
                by=by, rows=[(row.agreement, row.record_values()) for row in checked.rows])
        except (ValidationError, IntegrityError, PermissionDenied):
            # Something changed between the check and the write (a period recorded beside
            # us): the transaction rolled back; the next check says what.
            checked = actuals_check(by=by, upload=upload)
            if not checked.errors:
                checked.add(None, "", _("The file could not be imported; nothing was written. "
                                        "Check it again."))
                checked.finish()
            return Committed(checked=checked, actuals=[])
        cache.delete(key)
        return Committed(checked=checked, actuals=actuals)
    finally:
        cache.delete(claim)


def return_agreement(*, user, upload: Upload) -> Agreement | None:
    """The agreement whose page the upload started from, if `user` may still read it."""
    if upload.agreement_id is None:
        return None
    return selectors.agreement_queryset(user=user).filter(pk=upload.agreement_id).first()


# --- The template -----------------------------------------------------------------------------
def template_sheets() -> list[tuple[str, list[str], list[list[str]]]]:
    """The downloadable template: the headers (required ones marked *) on the first sheet, as
    the import reads the first sheet, then the guide."""
    headers = [f"{c.header}*" if c.required else c.header for c in COLUMNS]
    guide = [[c.header, _("yes") if c.required else "", ", ".join(c.aliases),
              str(c.description)] for c in COLUMNS]
    return [
        (_("Actuals"), headers, []),
        (_("How to fill in"), [_("Column"), _("Required"), _("Also accepted"), _("Content")],
         guide),
    ]

