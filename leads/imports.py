"""Spreadsheet import of companies and projects (.xlsx and .csv, Chinese or English headers).

The story, in three steps:

1. Upload (`import_job_create`): the file is stored on an ImportJob. A small file is checked
   inside the request; a file above `import_async_threshold_bytes()` is checked by a Celery task.
2. Dry run (`import_validate`): every row is read and checked without writing anything:
   required values, USCC, numbers (Decimal), dates, choices, reference data (industry, chain
   node, stage, owner), duplicates inside the file and against the database, stage gates.
   Reference data and duplicates are looked up in bulk (a handful of queries per file, never one
   per row). Problems are stored on the job as {"row", "column", "message", "level"}: "row" is
   the spreadsheet row number (the header is row 1), "column" the header as written in the file,
   "level" is "error" (blocks the import) or "notice" (a row matching a company already in the
   system: it will be skipped or updated, as the user chose, and the notice says who follows it).
3. Commit (`import_commit`): the job is claimed with a conditional UPDATE (VALIDATED →
   COMMITTING), so a double click or a redelivered task commits once. The file is not read
   again: a clean dry run keeps its checked rows next to the upload (_keep_checked), and the
   commit checks again only what the database may have changed since (duplicates, reference
   data, owners, stage gates); without those rows, or if the upload changed, it reads and
   checks the whole file as the dry run did. Then every row is written in ONE transaction.
   Projects go through the same services as the forms (project_create, project_update, ...);
   companies, the bulk of large files, are written a batch at a time with COPY, the rows and
   history records the services would write (`_write_companies` says why and how). Any
   failure rolls back every row and marks the job FAILED with the row that failed.

Progress: the commit's own writes to the job row stay invisible to other connections until its
transaction commits, so progress is published to the Django cache (`import_progress` reads it
first, then the row).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import hmac
import io
import json
import logging
import os
import re
import unicodedata
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zipfile import BadZipFile

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import EmailValidator, URLValidator
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Lookup, Q, Value
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import RE_HANS
from pypinyin.core import Pinyin
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from crm.accounts.roles import Role
from crm.core.exceptions import ConflictError
from crm.core.exports import FORMULA_TRIGGERS
from crm.core.figures import figures_changed

from .models import (
    ChainNode,
    ChainRole,
    Channel,
    Company,
    CompanyChainLink,
    Contact,
    ImportJob,
    Industry,
    Project,
    SourceRegion,
    Stage,
)
from .services import (
    company_create,
    company_update,
    contact_add,
    first_stage,
    project_create,
    project_update,
)
from .uscc import normalize_company_name, normalize_uscc, validate_uscc

logger = logging.getLogger(__name__)

# Files up to this size are checked and committed inside the web request: a few thousand rows
# take a second or two. Larger files go to Celery so no request waits on them. Overridable
# with the LEADS_IMPORT_ASYNC_THRESHOLD_BYTES setting (read at call time, so tests and the
# worker process agree on it through the environment-driven settings).
IMPORT_ASYNC_THRESHOLD_BYTES = 200 * 1024
# Checking is fast (3,000 rows in 0.5 s) but project rows are written one by one through the
# services at about 6 ms a row, and a compressed .xlsx of 200 KB holds some 6,000 rows. So a
# commit of more rows than this (about 3 s) goes to Celery whatever the file's size. Companies
# are written in bulk (tens of thousands a second) but share the rule, which users know.
# Setting: LEADS_IMPORT_ASYNC_THRESHOLD_ROWS.
IMPORT_ASYNC_THRESHOLD_ROWS = 500
# Rows of a company import written per batch (one COPY per table): large enough that round
# trips and per-statement work vanish (100,000 rows in 50 batches), small enough that a batch
# the database refuses is quick to write again row by row to name the row at fault.
WRITE_BATCH = 2000
# Progress is published every this many rows: often enough for a 1-second poll, rarely enough
# that the cache round trip does not show in the import time.
PROGRESS_EVERY = 200
# Long enough for the largest import; short enough that a crashed worker's stale entry expires.
PROGRESS_TTL_SECONDS = 6 * 60 * 60

ERROR = "error"
NOTICE = "notice"

# Money columns: DecimalField(max_digits=14, decimal_places=2) on Company and Project.
_MONEY_MAX = Decimal("999999999999.99")
_CENT = Decimal("0.01")
_INT_MAX = 2_147_483_647  # PositiveIntegerField on PostgreSQL
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
_REGION_CODE = re.compile(r"^\d{6}$")  # GB/T 2260 county-level code
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_BOOL_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "保密"}
_BOOL_FALSE = {"否", "n", "no", "false", "0", "×", "不保密"}


# --- Columns ------------------------------------------------------------------------------------
class CellError(Exception):
    """A cell value that cannot be used; the message is shown to the user as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header of the downloadable template
    aliases: tuple[str, ...]  # other accepted spellings, Chinese and English
    description: Promise | str
    projects_only: bool = False
    required: bool = False


COMPANIES = ImportJob.Kind.COMPANIES
PROJECTS = ImportJob.Kind.PROJECTS

COLUMNS: tuple[Column, ...] = (
    Column("name", "企业名称", ("公司名称", "单位名称", "企业", "name", "company", "company name",
                                "company_name"),
           gettext_lazy("Registered name of the company."), required=True),
    Column("uscc", "统一社会信用代码", ("信用代码", "社会信用代码", "uscc", "credit code",
                                         "unified social credit code"),
           gettext_lazy("18 characters (GB 32100-2015); leave empty if not registered yet.")),
    Column("industry", "行业代码", ("行业", "行业分类", "国民经济行业代码", "industry",
                                     "industry code", "industry_code"),
           gettext_lazy("GB/T 4754-2017 code, e.g. 65 or 651; write it as text to keep a "
                        "leading zero.")),
    Column("chain_node", "产业链环节", ("环节", "产业链", "chain node", "chain_node"),
           gettext_lazy("Code or name of the chain node, e.g. 近眼显示.")),
    Column("chain_role", "链上角色", ("产业链角色", "链上地位", "chain role", "chain_role"),
           gettext_lazy("链主, 核心配套, 上游, 中游 or 下游; empty: the node's position.")),
    Column("registered_capital_wan", "注册资本(万元)",
           ("注册资本", "注册资金(万元)", "注册资金", "registered capital",
            "registered capital (10k yuan)", "registered_capital_wan"),
           gettext_lazy("In 10k yuan (万元), e.g. 5000 or 5000.50.")),
    Column("hq_region_name", "总部所在地", ("总部", "总部地区", "headquarters", "hq region",
                                           "hq_region_name"),
           gettext_lazy("Headquarters city or district.")),
    Column("hq_region_code", "总部地区代码", ("总部行政区划代码", "hq region code",
                                             "headquarters region code", "hq_region_code"),
           gettext_lazy("GB/T 2260 code of six digits, e.g. 110108.")),
    Column("source_region", "来源地区", ("来源区域", "来源地", "source region", "source_region"),
           gettext_lazy("京津冀, 长三角, 珠三角, 其他国内 or 境外.")),
    Column("website", "网站", ("官网", "网址", "website", "web site"),
           gettext_lazy("Web address; https:// is added when missing.")),
    Column("notes", "备注", ("说明", "notes", "note"), gettext_lazy("Free text.")),
    Column("contact_name", "联系人", ("联系人姓名", "contact", "contact name", "contact_name"),
           gettext_lazy("Name of the company's contact person.")),
    Column("contact_title", "联系人职务", ("职务", "contact title", "contact_title"),
           gettext_lazy("Job title of the contact person.")),
    Column("contact_phone", "联系电话", ("电话", "手机", "联系人电话", "phone", "contact phone",
                                         "contact_phone"),
           gettext_lazy("Phone number of the contact person.")),
    Column("contact_email", "联系邮箱", ("邮箱", "电子邮箱", "联系人邮箱", "email",
                                         "contact email", "contact_email"),
           gettext_lazy("Email address of the contact person.")),
    # Projects only.
    Column("project_name", "项目名称", ("项目", "project", "project name", "project_name"),
           gettext_lazy("Name of the investment project."), projects_only=True, required=True),
    Column("owner", "负责人", ("项目负责人", "owner", "owner username"),
           gettext_lazy("User name (or full name) of the investment staff member who owns the "
                        "project; empty: you."), projects_only=True),
    Column("stage", "阶段", ("项目阶段", "stage"),
           gettext_lazy("Stage code or name, e.g. 线索 or 深度洽谈; empty: the first stage. "
                        "Stages that need a signed agreement cannot be imported."),
           projects_only=True),
    Column("agreed_investment_wan", "协议投资额(万元)",
           ("协议投资额", "投资额(万元)", "投资额", "agreed investment",
            "agreed investment (10k yuan)", "agreed_investment_wan"),
           gettext_lazy("In 10k yuan (万元)."), projects_only=True),
    Column("fixed_asset_wan", "固定资产投资(万元)",
           ("固定资产投资", "fixed-asset investment", "fixed-asset investment (10k yuan)",
            "fixed_asset_wan"),
           gettext_lazy("In 10k yuan (万元)."), projects_only=True),
    Column("funds_arrived_wan", "到位资金(万元)", ("到位资金", "funds arrived",
                                                  "funds arrived (10k yuan)", "funds_arrived_wan"),
           gettext_lazy("In 10k yuan (万元)."), projects_only=True),
    Column("expected_output_wan", "预计年产值(万元)",
           ("预计年产值", "expected output", "expected annual output",
            "expected annual output (10k yuan)", "expected_output_wan"),
           gettext_lazy("In 10k yuan (万元)."), projects_only=True),
    Column("expected_tax_wan", "预计年税收(万元)",
           ("预计年税收", "expected tax", "expected annual tax",
            "expected annual tax (10k yuan)", "expected_tax_wan"),
           gettext_lazy("In 10k yuan (万元)."), projects_only=True),
    Column("expected_jobs", "预计就业", ("预计就业(人)", "就业人数", "jobs", "expected jobs",
                                         "expected_jobs"),
           gettext_lazy("Number of people."), projects_only=True),
    Column("channel", "渠道", ("来源渠道", "招商渠道", "channel", "source channel"),
           gettext_lazy("路演, 组团, 中介推荐, 网络 or 上门."), projects_only=True),
    Column("referrer", "推荐人", ("referrer",), gettext_lazy("Who referred the project."),
           projects_only=True),
    Column("next_step", "下一步", ("下一步工作", "下一步计划", "next step", "next_step"),
           gettext_lazy("Required for projects in an open stage."), projects_only=True),
    Column("next_step_on", "下一步日期", ("下一步时间", "next step date", "next_step_on"),
           gettext_lazy("YYYY-MM-DD; required for projects in an open stage."),
           projects_only=True),
    Column("intended_park", "意向园区", ("intended park", "intended_park", "park"),
           gettext_lazy("Park the company is interested in."), projects_only=True),
    Column("confidential", "保密", ("是否保密", "confidential"),
           gettext_lazy("是 or 否; empty: 否."), projects_only=True),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}


def header_key(text: Any) -> str:
    """Comparison form of a header: full-width folded to ASCII (NFKC), case-folded, without
    spaces, underscores, hyphens, colons or the * that marks a required column."""
    text = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return re.sub(r"[\s_\-*:]+", "", text)


def _build_header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for column in COLUMNS:
        for spelling in (column.header, column.key, *column.aliases):
            key = header_key(spelling)
            if index.setdefault(key, column.key) != column.key:  # a programming error
                raise ValueError(f"import header {spelling!r} names two columns")
    return index


HEADER_INDEX = _build_header_index()


def columns_for(kind: str) -> list[Column]:
    return [c for c in COLUMNS if kind == PROJECTS or not c.projects_only]


# --- Choices accepted as codes, English or Chinese labels ---------------------------------------
_SOURCE_REGION_ALIASES = {
    "京津冀": SourceRegion.JJJ, "长三角": SourceRegion.YRD, "珠三角": SourceRegion.PRD,
    "其他国内": SourceRegion.DOMESTIC, "国内其他": SourceRegion.DOMESTIC,
    "国内": SourceRegion.DOMESTIC, "其他": SourceRegion.DOMESTIC,
    "境外": SourceRegion.OVERSEAS, "海外": SourceRegion.OVERSEAS, "国外": SourceRegion.OVERSEAS,
}
_CHAIN_ROLE_ALIASES = {
    "链主": ChainRole.LEADER, "链主企业": ChainRole.LEADER, "核心配套": ChainRole.CORE,
    "核心配套企业": ChainRole.CORE, "上游": ChainRole.UPSTREAM, "中游": ChainRole.MIDSTREAM,
    "下游": ChainRole.DOWNSTREAM,
}
_CHANNEL_ALIASES = {
    "路演": Channel.ROADSHOW, "招商路演": Channel.ROADSHOW, "组团": Channel.DELEGATION,
    "代表团": Channel.DELEGATION, "组团招商": Channel.DELEGATION,
    "中介": Channel.INTERMEDIARY, "中介推荐": Channel.INTERMEDIARY,
    "推荐": Channel.INTERMEDIARY, "以商招商": Channel.INTERMEDIARY,
    "网络": Channel.ONLINE, "线上": Channel.ONLINE, "网上": Channel.ONLINE,
    "上门": Channel.WALKIN, "自主上门": Channel.WALKIN, "来访": Channel.WALKIN,
}


def _choice_map(choices: type, aliases: dict[str, str]) -> dict[str, str]:
    """Codes, the labels in every configured language, and the Chinese aliases above."""
    mapping = {header_key(value): value for value in choices.values}
    for code, label in choices.choices:
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                mapping.setdefault(header_key(str(label)), code)
    mapping.update({header_key(text): str(code) for text, code in aliases.items()})
    return mapping


# --- Reading files --------------------------------------------------------------------------------
def _csv_encoding(stream) -> tuple[str, int]:
    """The encoding of a CSV file and its number of lines (the progress bar's estimate of the
    rows). utf-8 (with or without BOM) if the whole file decodes as such, else gb18030: Excel
    in China saves "CSV" in the ANSI code page, GBK, of which gb18030 is the superset. Read in
    chunks, so the file is never held in memory as text."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    encoding, lines = "utf-8-sig", 0
    try:
        while chunk := stream.read(64 * 1024):
            lines += chunk.count(b"\n")
            if encoding == "utf-8-sig":
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    encoding = "gb18030"
        if encoding == "utf-8-sig":
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                encoding = "gb18030"
        return encoding, lines
    finally:
        stream.seek(0)


@contextmanager
def _open_rows(job: ImportJob) -> Iterator[tuple[Iterator[Sequence], int]]:
    """Yield the rows of the file (sequences of cell values, header first) and an estimate of
    their number. csv is read as a stream, row by row through a decoding wrapper.

    .xlsx is read with python-calamine (Rust), not openpyxl: openpyxl's read-only mode spent
    some 80 µs of CPU a row just parsing the sheet's XML, most of a 100,000-row dry run;
    calamine reads the same file about 15 times faster. It holds the sheet in memory (some
    60 MB for 100,000 rows of six columns), which the import's 500 MB budget affords. Its
    values are those the parsers already take from openpyxl, as tests/test_import_bulk.py
    checks: text as str (a USCC, "0511" and "320583" keep their digits), numbers as float
    (an integral float reads as the integer, see _text), date cells as date or datetime,
    booleans as bool, and "" for an empty cell where openpyxl gives None (_text treats both
    alike). openpyxl still writes the templates and exports.
    """
    extension = os.path.splitext(job.original_name or job.file.name)[1].lower()
    with job.file.open("rb") as stream:
        if extension == ".xlsx":
            workbook = CalamineWorkbook.from_filelike(stream)
            try:
                # The first worksheet, as openpyxl's worksheets[0]: a chart sheet has no rows.
                index = next((i for i, sheet in enumerate(workbook.sheets_metadata)
                              if sheet.typ == SheetTypeEnum.WorkSheet), 0)
                sheet = workbook.get_sheet_by_index(index)
                yield _sheet_rows(sheet), sheet.end[0] if sheet.end else 0
            finally:
                workbook.close()
        elif extension == ".csv":
            encoding, lines = _csv_encoding(stream)
            text = io.TextIOWrapper(stream, encoding=encoding, newline="")
            try:
                yield csv.reader(text), lines - 1
            finally:
                text.detach()
        else:
            raise CellError(_("Only .xlsx and .csv files can be imported."))


def _sheet_rows(sheet) -> Iterator[Sequence]:
    """The rows of a calamine sheet from column A. calamine starts each row at the first
    column that holds a value, so a sheet whose column A is empty would shift every index,
    and the letters named in problems with it."""
    skipped = sheet.start[1] if sheet.start else 0
    if not skipped:
        yield from sheet.iter_rows()
        return
    blank = [""] * skipped
    for row in sheet.iter_rows():
        yield blank + row


# --- Cell parsers -------------------------------------------------------------------------------
# Every parser takes the cell as read and, optionally, its text as `_text` gives it: the check
# computes that text once per cell and hands it on, as a 100,000-row file would otherwise clean
# each cell's text four or five times over.
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 13800138000 stored as a number by Excel
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    text = str(value).strip().strip("\ufeff\u200b").strip()
    # Undo the quote our own exports put before formula-like text (crm.core.exports.safe_cell),
    # so an exported list can be edited and imported again.
    if text.startswith("'") and text[1:2] and text[1:2] in FORMULA_TRIGGERS:
        text = text[1:]
    return text


def _limited(value: Any, max_length: int, text: str | None = None) -> str:
    text = _text(value) if text is None else text
    if len(text) > max_length:
        raise CellError(_("At most %(max)d characters; this has %(length)d.")
                        % {"max": max_length, "length": len(text)})
    return text


def _max_length(model: type, name: str) -> int:
    # The limits of the text columns are the model's own, so the import (which writes in bulk,
    # without full_clean) cannot accept a value the form would refuse.
    return model._meta.get_field(name).max_length


def parse_decimal(value: Any, text: str | None = None) -> Decimal:
    """A non-negative amount with at most two decimals, as Decimal. A float cell from Excel is
    converted through its shortest repr (1234.5, not 1234.499999...), never used as a float."""
    text = _text(value) if text is None else text
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not a number.") % {"value": text})
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        try:
            number = Decimal(unicodedata.normalize("NFKC", text).replace(",", "")
                             .replace(" ", ""))
        except InvalidOperation:
            raise CellError(_("“%(value)s” is not a number.") % {"value": text})
    if not number.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": text})
    if number < 0:
        raise CellError(_("The amount cannot be negative."))
    if number != number.quantize(_CENT):
        raise CellError(_("At most two decimal places."))
    if number > _MONEY_MAX:
        raise CellError(_("The amount is too large."))
    return number.quantize(_CENT)


def parse_int(value: Any, text: str | None = None) -> int:
    text = _text(value) if text is None else text
    try:
        number = Decimal(unicodedata.normalize("NFKC", text).replace(",", ""))
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a whole number.") % {"value": text})
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(_("“%(value)s” is not a whole number.") % {"value": text})
    if number < 0 or number > _INT_MAX:
        raise CellError(_("“%(value)s” is out of range.") % {"value": text})
    return int(number)


def parse_date(value: Any, text: str | None = None) -> date:
    """Excel date cells, Excel serial numbers in .xlsx, and YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD
    or YYYY年MM月DD日 text (a time after the date is ignored)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value) if text is None else text
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel's serial day range (1900-01-01 .. 9999-12-31)
            return from_excel(value).date()
        raise CellError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.")
                        % {"value": text})
    text = unicodedata.normalize("NFKC", text)
    head = text.split()[0] if text.split() else text
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(head, pattern).date()
        except ValueError:
            continue
    raise CellError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": text})


def parse_bool(value: Any, text: str | None = None) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value) if text is None else text
    key = header_key(text)
    if key in _BOOL_TRUE:
        return True
    if key in _BOOL_FALSE:
        return False
    raise CellError(_("“%(value)s” is not yes or no; write 是 or 否.") % {"value": text})


def parse_uscc(value: Any, text: str | None = None) -> str:
    code = normalize_uscc(_text(value) if text is None else text)
    try:
        validate_uscc(code)
    except ValidationError as error:
        raise CellError(error.messages[0])
    return code


# Built once: both validators compile their patterns when constructed.
_validate_url = URLValidator()
_validate_email = EmailValidator()


def parse_url(value: Any, text: str | None = None) -> str:
    shown = _text(value) if text is None else text
    text = _limited(value, _URL_MAX, shown)
    if not _URL_SCHEME.match(text):
        text = "https://" + text  # "www.example.com" is how most lists write it
    try:
        _validate_url(text)
    except ValidationError:
        raise CellError(_("“%(value)s” is not a web address.") % {"value": shown})
    if len(text) > _URL_MAX:
        raise CellError(_("At most %(max)d characters; this has %(length)d.")
                        % {"max": _URL_MAX, "length": len(text)})
    return text


def parse_email(value: Any, text: str | None = None) -> str:
    text = _limited(value, _EMAIL_MAX, text)
    try:
        _validate_email(text)
    except ValidationError:
        raise CellError(_("“%(value)s” is not an email address.") % {"value": text})
    return text


def parse_region_code(value: Any, text: str | None = None) -> str:
    text = _text(value) if text is None else text
    if not _REGION_CODE.match(text):
        raise CellError(_("A region code has six digits (GB/T 2260), e.g. 110108."))
    return text


_URL_MAX = _max_length(Company, "website")  # 200
_EMAIL_MAX = _max_length(Contact, "email")  # 254


def _by_text(parse: Callable[[Any], Any]) -> Callable[[Any, str], Any]:
    """A parser of a column with few distinct values (codes, choices, yes or no) whose outcome
    depends on the cell's text alone: each distinct text is parsed once per file, its refusal
    included."""
    memo: dict[str, tuple[bool, Any]] = {}

    def parser(value: Any, text: str) -> Any:
        found = memo.get(text)
        if found is None:
            try:
                found = (True, parse(value))
            except CellError as error:
                found = (False, error.message)
            memo[text] = found
        if found[0]:
            return found[1]
        raise CellError(found[1])

    return parser


# --- Reference data, loaded once per file -------------------------------------------------------
@dataclass
class Lookups:
    """Reference tables, each loaded with one query (they hold hundreds of rows at most)."""

    industries: dict[str, Industry]
    chain_nodes: dict[str, ChainNode]
    stages: dict[str, Stage]
    source_regions: dict[str, str]
    chain_roles: dict[str, str]
    channels: dict[str, str]

    @classmethod
    def load(cls) -> Lookups:
        nodes: dict[str, ChainNode] = {}
        for node in ChainNode.objects.all():
            for spelling in (node.code, node.name, node.name_en):
                if spelling:
                    nodes.setdefault(header_key(spelling), node)
        stages: dict[str, Stage] = {}
        for stage in Stage.objects.order_by("-is_active", "order"):  # active first on a tie
            for spelling in (stage.code, stage.name, stage.name_en):
                if spelling:
                    stages.setdefault(header_key(spelling), stage)
        return cls(
            industries={i.code.upper(): i for i in Industry.objects.all()},
            chain_nodes=nodes,
            stages=stages,
            source_regions=_choice_map(SourceRegion, _SOURCE_REGION_ALIASES),
            chain_roles=_choice_map(ChainRole, _CHAIN_ROLE_ALIASES),
            channels=_choice_map(Channel, _CHANNEL_ALIASES),
        )

    @staticmethod
    def industry_code(value: Any) -> str:
        text = unicodedata.normalize("NFKC", _text(value)).upper()
        code = text.split()[0] if text.split() else text  # "65 软件和信息技术服务业"
        if re.fullmatch(r"[A-T]\d{2,4}", code):
            code = code[1:]  # "I65": the section letter written before the division
        return code

    def industry(self, value: Any) -> Industry:
        code = self.industry_code(value)
        found = self.industries.get(code)
        if found is None and len(code) == 4 and code.isdigit():
            # The reference table stops at groups (中类, 3 digits); a class (小类) is filed
            # under its group, and the row says so (see _read).
            found = self.industries.get(code[:3])
        if found is None:
            raise CellError(_("Unknown industry code “%(value)s” (GB/T 4754-2017).")
                            % {"value": _text(value)})
        return found

    def chain_node(self, value: Any) -> ChainNode:
        found = self.chain_nodes.get(header_key(_text(value)))
        if found is None:
            raise CellError(_("Unknown chain node “%(value)s”.") % {"value": _text(value)})
        return found

    def stage(self, value: Any) -> Stage:
        found = self.stages.get(header_key(_text(value)))
        if found is None:
            raise CellError(_("Unknown stage “%(value)s”.") % {"value": _text(value)})
        if not found.is_active:
            raise CellError(_("The stage “%(stage)s” is no longer in use.")
                            % {"stage": found.name})
        return found

    @staticmethod
    def _choice(mapping: dict[str, str], value: Any) -> str:
        found = mapping.get(header_key(_text(value)))
        if found is None:
            raise CellError(_("“%(value)s” is not one of the accepted values.")
                            % {"value": _text(value)})
        return found

    def parser(self, key: str) -> Callable[[Any, str], Any]:
        """The parser of a column: called with the cell and its text (see _text)."""
        def limited(model: type, name: str) -> Callable[[Any, str], str]:
            max_length = _max_length(model, name)
            return lambda value, text: _limited(value, max_length, text)

        parsers: dict[str, Callable[[Any, str], Any]] = {
            "name": limited(Company, "name"),
            "uscc": parse_uscc,
            "industry": _by_text(self.industry),
            "chain_node": _by_text(self.chain_node),
            "chain_role": _by_text(lambda value: self._choice(self.chain_roles, value)),
            "registered_capital_wan": parse_decimal,
            "hq_region_name": limited(Company, "hq_region_name"),
            "hq_region_code": parse_region_code,
            "source_region": _by_text(lambda value: self._choice(self.source_regions, value)),
            "website": parse_url,
            "notes": lambda value, text: text,
            "contact_name": limited(Contact, "name"),
            "contact_title": limited(Contact, "title"),
            "contact_phone": limited(Contact, "phone"),
            "contact_email": parse_email,
            "project_name": limited(Project, "name"),
            "owner": lambda value, text: _limited(value, 150, text),
            "stage": _by_text(self.stage),
            "agreed_investment_wan": parse_decimal,
            "fixed_asset_wan": parse_decimal,
            "funds_arrived_wan": parse_decimal,
            "expected_output_wan": parse_decimal,
            "expected_tax_wan": parse_decimal,
            "expected_jobs": parse_int,
            "channel": _by_text(lambda value: self._choice(self.channels, value)),
            "referrer": limited(Project, "referrer"),
            "next_step": limited(Project, "next_step"),
            "next_step_on": parse_date,
            "intended_park": limited(Project, "intended_park"),
            "confidential": _by_text(parse_bool),
        }
        return parsers[key]


# --- The check ----------------------------------------------------------------------------------
@dataclass(slots=True)  # slots: a large file holds 100,000 of them
class Group:
    """One company of the file: a row of a company import, or the rows of a project import
    that name the same company (same USCC or same normalised name)."""

    first_row: int
    uscc: str | None
    name_key: str
    existing: Company | None = None


@dataclass(slots=True)
class Row:
    number: int
    values: dict[str, Any]
    bad: set[str] = field(default_factory=set)  # keys of the cells refused in this row
    group: Group | None = None
    existing_project: Project | None = None
    owner: Any = None
    stage: Stage | None = None


@dataclass
class Checked:
    kind: str
    rows: list[Row] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)  # column key -> header in the file
    positions: dict[str, int] = field(default_factory=dict)  # column key -> index in the file
    # The text of each row's cell in the columns that name reference data (REFERENCE_KEYS),
    # aligned with `rows`: kept with the checked rows so the commit can look them up again.
    reference_texts: dict[str, list[str | None]] = field(default_factory=dict)

    @property
    def errors(self) -> list[dict]:
        return [p for p in self.problems if p["level"] == ERROR]

    def column(self, key: str) -> str:
        if key in self.written:
            return self.written[key]
        column = COLUMNS_BY_KEY.get(key)
        return column.header if column else key

    def add(self, row: int | None, key: str, message: str, level: str = ERROR) -> None:
        self.problems.append({"row": row, "column": self.column(key), "message": str(message),
                              "level": level, "_pos": self.positions.get(key, -1)})

    def finish(self) -> None:
        self.problems.sort(key=lambda p: (p["row"] or 0, p["_pos"], p["level"] != ERROR))
        for problem in self.problems:
            problem.pop("_pos", None)


class _Progress:
    def __init__(self, job: ImportJob, status: str, total: int):
        self.job_pk = job.pk
        self.status = status
        self.total = total
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0:
            self.publish()

    def advance(self, rows: int) -> None:
        self.done += rows
        self.publish()

    def publish(self) -> None:
        _publish(self.job_pk, self.status, self.done, max(self.total, self.done))


def _check(job: ImportJob, *, progress: _Progress | None = None) -> Checked:
    """Read and check the whole file; write nothing. The dry run, and the commit when the
    dry run's rows cannot be used (_kept_checked): one check, so the commit cannot accept
    what the dry run would refuse."""
    checked = Checked(kind=job.kind)
    lookups = Lookups.load()
    try:
        with _open_rows(job) as (rows, estimate):
            if progress:
                progress.total = max(estimate, 0)
            _read(job, rows, checked, lookups, progress)
    except CellError as error:
        checked.add(None, "", error.message)
    except UNREADABLE as error:
        logger.warning("import %s: unreadable file", job.pk, exc_info=True)
        checked.add(None, "", _("The file could not be read as a spreadsheet: %(error)s")
                    % {"error": error})
    if checked.rows:
        _check_against_database(job, checked)
    checked.finish()
    return checked


# What calamine and csv raise on a damaged or mislabelled file.
UNREADABLE = (OSError, ValueError, KeyError, UnicodeDecodeError, csv.Error, BadZipFile,
              CalamineError)


def _read(job: ImportJob, rows: Iterator[Sequence], checked: Checked, lookups: Lookups,
          progress: _Progress | None) -> None:
    header = next(rows, None)
    if header is None or not any(_text(cell) for cell in header):
        raise CellError(_("The file is empty: the first row must hold the column headers."))

    allowed = {c.key for c in columns_for(job.kind)}
    mapping: list[tuple[int, str]] = []  # (index in the row, column key)
    unnamed: dict[int, str] = {}  # index -> column letter, for columns without a header
    for index, cell in enumerate(header):
        text = _text(cell)
        if not text:
            unnamed[index] = get_column_letter(index + 1)
            continue
        key = HEADER_INDEX.get(header_key(text))
        if key is None or key not in allowed:
            message = (
                _("Unknown column “%(column)s”. See the template for the accepted headers.")
                if key is None else
                _("Column “%(column)s” belongs to a project import; this is a company import.")
            ) % {"column": text}
            checked.problems.append({"row": 1, "column": text, "level": ERROR, "_pos": index,
                                     "message": message})
            continue
        if key in checked.written:
            checked.problems.append({
                "row": 1, "column": text, "level": ERROR, "_pos": index,
                "message": _("Column “%(column)s” repeats “%(first)s”.")
                % {"column": text, "first": checked.written[key]},
            })
            continue
        checked.written[key] = text
        checked.positions[key] = index
        mapping.append((index, key))
    for column in columns_for(job.kind):
        if column.required and column.key not in checked.written:
            checked.add(1, column.key, _("The required column “%(column)s” is missing.")
                        % {"column": column.header})
    parsers = {key: lookups.parser(key) for _index, key in mapping}
    required = [c.key for c in columns_for(job.kind) if c.required and c.key in checked.written]

    seen_uscc: dict[str, Group] = {}
    seen_name: dict[str, Group] = {}
    seen_projects: dict[tuple[int, str], int] = {}
    reported_unnamed: set[int] = set()
    industry_codes: dict[str, str] = {}  # text -> code, for the notice on a class code
    references = [(index, key, checked.reference_texts.setdefault(key, []))
                  for index, key in mapping if key in REFERENCE_KEYS]
    for number, raw in enumerate(rows, start=2):
        texts = [_text(cell) for cell in raw]  # once per cell: the parsers take it as it is
        if not any(texts):
            continue  # blank rows are skipped, but still counted in the row numbers
        row = Row(number=number, values={})
        values = row.values
        width = len(raw)
        for index, key in mapping:
            text = texts[index] if index < width else ""
            if text:
                _parse_cell(row, key, parsers[key], raw[index], text, checked, lookups,
                            industry_codes)
        for index, _key, kept in references:
            kept.append(texts[index] if index < width and texts[index] else None)
        for index in unnamed:
            if index < width and texts[index] and index not in reported_unnamed:
                reported_unnamed.add(index)
                checked.problems.append({
                    "row": number, "column": unnamed[index], "level": ERROR, "_pos": index,
                    "message": _("This column has no header, so its values cannot be imported."),
                })
        for key in required:
            if key not in values and key not in row.bad:
                checked.add(number, key, _("A value is required."))
        name_key = _check_row(values, number, checked)
        if "name" in values:
            _group_row(job, row, checked, seen_uscc, seen_name, seen_projects, name_key)
        checked.rows.append(row)
        if progress:
            progress.tick()


def _parse_cell(row: Row, key: str, parser: Callable[[Any, str], Any], value: Any, text: str,
                checked: Checked, lookups: Lookups, industry_codes: dict[str, str]) -> None:
    """Parse one non-empty cell into row.values, or report why not."""
    try:
        row.values[key] = parser(value, text)
    except CellError as error:
        checked.add(row.number, key, error.message)
        row.bad.add(key)
        return
    if key == "industry":
        code = industry_codes.get(text)
        if code is None:
            code = industry_codes[text] = lookups.industry_code(value)
        if row.values[key].code != code:
            checked.add(row.number, key,
                        _("Class %(code)s is filed under its group %(group)s.")
                        % {"code": code, "group": row.values[key]},
                        level=NOTICE)


def _check_row(values: dict[str, Any], number: int, checked: Checked) -> str:
    """Checks across the cells of one row that need no database. Returns the normalised name
    (the de-duplication key), computed once here as it is the dearest step of a row."""
    name_key = normalize_company_name(values["name"]) if "name" in values else ""
    if "name" in values and not name_key:
        checked.add(number, "name", _("“%(value)s” is not a company name.")
                    % {"value": values["name"]})
        values.pop("name")
    if "chain_role" in values and "chain_node" not in values:
        checked.add(number, "chain_role", _("Give the chain node this role is on."))
    contact_details = ("contact_title", "contact_phone", "contact_email")
    if any(k in values for k in contact_details) and "contact_name" not in values:
        checked.add(number, "contact_name",
                    _("Give the contact's name for the title, phone or email in this row."))
    return name_key


def _group_row(job: ImportJob, row: Row, checked: Checked, seen_uscc: dict[str, Group],
               seen_name: dict[str, Group], seen_projects: dict[tuple[int, str], int],
               key: str) -> None:
    """Find the company of the row among the earlier rows of the file. In a company import a
    company may appear once; in a project import several projects may name one company.
    `key` is the normalised name of the row's company."""
    values, number = row.values, row.number
    uscc = values.get("uscc")
    by_uscc = seen_uscc.get(uscc) if uscc else None
    by_name = seen_name.get(key)
    if by_uscc and by_name and by_uscc is not by_name:
        checked.add(number, "uscc",
                    _("The USCC is the company of row %(uscc_row)d but the name is the company of "
                      "row %(name_row)d.")
                    % {"uscc_row": by_uscc.first_row, "name_row": by_name.first_row})
        return
    earlier = by_uscc or by_name
    if earlier and job.kind == COMPANIES:
        checked.add(number, "uscc" if by_uscc else "name",
                    _("The same company as row %(row)d.") % {"row": earlier.first_row})
        return
    if earlier and uscc and earlier.uscc and earlier.uscc != uscc:
        checked.add(number, "uscc",
                    _("Row %(row)d names this company with the USCC %(uscc)s.")
                    % {"row": earlier.first_row, "uscc": earlier.uscc})
        return
    group = earlier or Group(first_row=number, uscc=uscc, name_key=key)
    if uscc and not group.uscc:
        group.uscc = uscc  # an earlier row without the USCC: this row completes the company
    if uscc:
        seen_uscc.setdefault(uscc, group)
    seen_name.setdefault(key, group)
    row.group = group
    if job.kind == PROJECTS and "project_name" in values:
        project_key = (group.first_row, values["project_name"].casefold())
        first = seen_projects.setdefault(project_key, number)
        if first != number:
            checked.add(number, "project_name",
                        _("The same project as row %(row)d.") % {"row": first})


class _Any(Lookup):
    """`column = ANY('{...}'::type[])`: a list matched with ONE parameter, an array written
    out as text. `__in` compiles a placeholder per value and a list parameter makes psycopg2
    write ARRAY[...] with a constant per value for the server to plan; for the 100,000 names
    and codes of a large file, either costs more than the query itself."""

    lookup_name = "any"  # used as an expression, never registered on a field
    prepare_rhs = False

    def __init__(self, lhs, values: Iterable, db_type: str):
        self.db_type = db_type
        super().__init__(lhs, Value(_array_literal(values)))

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(({rhs})::{self.db_type}[])", (*lhs_params, *rhs_params)


def _array_literal(values: Iterable) -> str:
    """PostgreSQL's text form of an array: {"a","b"}, each element quoted and escaped."""
    quoted = (str(value).replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def _any(column: str, values: Iterable, db_type: str) -> _Any:
    return _Any(F(column), values, db_type)


def _chasing_messages(companies: list[Company]) -> dict[int, str]:
    """duplicate_message() of leads.services for many companies in one query: who is following
    each company (撞单). The texts are the service's, so they share its translations."""
    latest: dict[int, Project] = {}
    open_projects = (
        Project.objects.filter(_any("company_id", [c.pk for c in companies], "bigint"),
                               stage__kind=Stage.Kind.OPEN)
        .select_related("owner").order_by("company_id", "-updated_at")
    )
    for project in open_projects:
        latest.setdefault(project.company_id, project)
    messages = {}
    for company in companies:
        active = latest.get(company.pk)
        if active:
            messages[company.pk] = _(
                "This company is already in the system as “%(company)s” (USCC %(uscc)s); its "
                "project “%(project)s” is being followed by %(owner)s."
            ) % {"company": company.name, "uscc": company.uscc or "—", "project": active.name,
                 "owner": active.owner}
        else:
            messages[company.pk] = _(
                "This company is already in the system as “%(company)s” (USCC %(uscc)s)."
            ) % {"company": company.name, "uscc": company.uscc or "—"}
    return messages


def _check_against_database(job: ImportJob, checked: Checked) -> None:
    """Duplicates against the companies and projects already stored, owners and stage gates:
    a fixed number of queries for the whole file."""
    groups: dict[int, Group] = {}
    for row in checked.rows:
        if row.group is not None:
            groups.setdefault(id(row.group), row.group)
    usccs = {g.uscc for g in groups.values() if g.uscc}
    keys = {g.name_key for g in groups.values()}
    by_uscc: dict[str, Company] = {}
    by_key: dict[str, Company] = {}
    if usccs or keys:
        # Only what the messages and the writer need, of companies that may number 100,000.
        matches = Company.objects.filter(
            Q(_any("uscc", usccs, "varchar")) | Q(_any("name_key", keys, "varchar"))
        ).only("pk", "name", "uscc", "name_key").order_by()
        for company in matches:
            if company.uscc:
                by_uscc[company.uscc] = company
            by_key[company.name_key] = company
    for group in groups.values():
        match_uscc = by_uscc.get(group.uscc) if group.uscc else None
        match_name = by_key.get(group.name_key)
        if match_uscc and match_name and match_uscc.pk != match_name.pk:
            checked.add(group.first_row, "uscc",
                        _("The USCC belongs to “%(by_uscc)s” but the name matches “%(by_name)s”, "
                          "another company in the system.")
                        % {"by_uscc": match_uscc.name, "by_name": match_name.name})
        elif match_uscc:
            group.existing = match_uscc
        elif match_name and match_name.uscc and group.uscc:
            checked.add(group.first_row, "uscc",
                        _("“%(company)s” is already in the system with the USCC %(existing)s; "
                          "this row says %(uscc)s.")
                        % {"company": match_name.name, "existing": match_name.uscc,
                           "uscc": group.uscc})
        elif match_name:
            group.existing = match_name

    existing = {g.existing.pk: g.existing for g in groups.values() if g.existing}
    chasing = _chasing_messages(list(existing.values())) if existing else {}
    update = job.on_duplicate == ImportJob.OnDuplicate.UPDATE
    if job.kind == COMPANIES:
        for group in groups.values():
            if group.existing:
                outcome = (_("This row will update it.") if update
                           else _("This row will be skipped."))
                checked.add(group.first_row, "name",
                            f"{chasing[group.existing.pk]} {outcome}", level=NOTICE)
        return

    for group in groups.values():
        if group.existing:
            outcome = (_("The company's details will be updated from this row.") if update
                       else _("The company's details will be left as they are."))
            checked.add(group.first_row, "name",
                        f"{chasing[group.existing.pk]} "
                        f"{_('Its projects in this file will be added to it.')} {outcome}",
                        level=NOTICE)
    _check_projects(job, checked, existing)


def _check_projects(job: ImportJob, checked: Checked, companies: dict[int, Company]) -> None:
    uploader = job.uploaded_by
    update = job.on_duplicate == ImportJob.OnDuplicate.UPDATE
    User = get_user_model()

    names = {r.values["owner"] for r in checked.rows if "owner" in r.values}
    names.add(uploader.username)
    by_username: dict[str, Any] = {}
    by_full_name: dict[str, list] = {}
    staff = set(
        User.objects.filter(groups__name=Role.INVESTMENT_STAFF)
        .filter(Q(username__in=names) | Q(full_name__in=names)).values_list("pk", flat=True)
    )
    for user in User.objects.filter(Q(username__in=names) | Q(full_name__in=names),
                                    is_active=True):
        by_username[user.username] = user
        if user.full_name:
            by_full_name.setdefault(user.full_name, []).append(user)

    stored: dict[tuple[int, str], Project] = {}
    if companies:
        for project in Project.objects.filter(company__in=companies.values()).select_related(
            "stage"
        ):
            stored.setdefault((project.company_id, project.name.strip().casefold()), project)
    on_team = set()
    if update and stored:
        ids = [p.pk for p in stored.values()]
        on_team = set(
            Project.objects.filter(pk__in=ids)
            .filter(Q(owner=uploader) | Q(collaborators=uploader))
            .values_list("pk", flat=True)
        )
    default_stage = first_stage()

    for row in checked.rows:
        values, number = row.values, row.number
        if "project_name" not in values or row.group is None:
            continue
        company = row.group.existing
        project = (
            stored.get((company.pk, values["project_name"].strip().casefold()))
            if company else None
        )
        if project is not None:
            row.existing_project = project
            _check_existing_project(row, project, update, on_team, uploader, checked)
            continue

        # The owner of a new project: investment staff, as for a project created by hand.
        if "owner" in values:
            name = values["owner"]
            owner = by_username.get(name)
            if owner is None and len(by_full_name.get(name, [])) == 1:
                owner = by_full_name[name][0]
            if owner is None:
                message = (_("“%(name)s” is the name of several users; write the user name.")
                           if len(by_full_name.get(name, [])) > 1
                           else _("No active user “%(name)s”.")) % {"name": name}
                checked.add(number, "owner", message)
            elif owner.pk not in staff:
                checked.add(number, "owner", _("%(name)s is not investment staff and cannot own "
                                               "projects.") % {"name": owner})
            row.owner = owner
        elif uploader.pk in staff:
            row.owner = uploader
        else:
            checked.add(number, "owner", _("Name the owner: only investment staff own projects."))

        if "stage" in row.bad:
            continue  # already reported; its gates cannot be checked
        stage = values.get("stage") or default_stage
        row.stage = stage
        if stage is None:
            checked.add(number, "stage", _("No stage is set up; ask an administrator."))
            continue
        for problem in _stage_problems(stage, row):
            checked.add(number, "stage", problem)
        if stage.is_open:
            _require_next_step(values, row, checked)


def _check_existing_project(row: Row, project: Project, update: bool, on_team: set,
                            uploader, checked: Checked) -> None:
    values, number = row.values, row.number
    if not update:
        checked.add(number, "project_name",
                    _("The project “%(project)s” already exists for this company; this row will "
                      "be skipped.") % {"project": project.name}, level=NOTICE)
        return
    if project.pk not in on_team:
        checked.add(number, "project_name",
                    _("The project “%(project)s” already exists for this company and you are not "
                      "on its team, so it cannot be updated.") % {"project": project.name})
        return
    checked.add(number, "project_name",
                _("The project “%(project)s” already exists for this company; this row will "
                  "update its figures.") % {"project": project.name}, level=NOTICE)
    stage = values.get("stage")
    if stage is not None and stage.pk != project.stage_id:
        checked.add(number, "stage",
                    _("The project is at “%(current)s”; an import does not move projects between "
                      "stages. Move it on the project's page.")
                    % {"current": project.stage.name})
    row.stage = project.stage
    if project.stage.is_open:
        merged = {"next_step": project.next_step, "next_step_on": project.next_step_on,
                  **values}
        _require_next_step(merged, row, checked)


def _require_next_step(values: dict[str, Any], row: Row, checked: Checked) -> None:
    for key in ("next_step", "next_step_on"):
        if not values.get(key) and key not in row.bad:
            checked.add(row.number, key, _("An open project needs its next step and the date "
                                           "for it."))


def _stage_problems(stage: Stage, row: Row) -> list[str]:
    """The gates of leads.services.stage_gate_problems, for a project that starts at `stage`.

    A stage that requires the signed agreement cannot be imported into at all: a spreadsheet
    cannot carry the agreement document, and letting an import skip that gate would let signed
    projects be counted without the evidence. Such projects are imported at an earlier stage
    and moved on, with the document, on the project's page.
    """
    problems = []
    if stage.requires_agreement:
        problems.append(
            _("Projects cannot be imported into “%(stage)s”: that stage needs the signed "
              "agreement document, which a spreadsheet cannot carry. Import the project at an "
              "earlier stage and move it on its page.") % {"stage": stage.name})
    if stage.kind == Stage.Kind.LOST:
        problems.append(
            _("Projects cannot be imported into “%(stage)s”: a lost project needs a reason, "
              "chosen on the project's page.") % {"stage": stage.name})
    group = row.group
    has_uscc = bool(group and (group.uscc or (group.existing and group.existing.uscc)))
    if stage.requires_uscc and not has_uscc:
        problems.append(_("“%(stage)s” needs the company's unified social credit code.")
                        % {"stage": stage.name})
    return problems


# --- The checked rows, kept for the commit -----------------------------------------------------
# Columns whose values are rows of reference tables: the commit looks their text up again, as
# a stage may have been retired or an industry code removed since the dry run. Every other
# value depends on the file alone and is kept as the dry run parsed it.
REFERENCE_KEYS = frozenset({"industry", "chain_node", "stage"})
# Bumped whenever what is kept changes: a file of another format is ignored (the commit reads
# the upload again), so a deploy between a dry run and its commit is harmless.
CHECKED_FORMAT = 1
_CHECKED_SALT = "leads.imports.checked-rows"
# Values that JSON cannot hold as they are: written with str(), read back with these.
_STORED_DECODERS: dict[str, Callable[[str], Any]] = {
    **dict.fromkeys(("registered_capital_wan", "agreed_investment_wan", "fixed_asset_wan",
                     "funds_arrived_wan", "expected_output_wan", "expected_tax_wan"), Decimal),
    "next_step_on": date.fromisoformat,
}


def _checked_name(job: ImportJob) -> str:
    return f"{job.file.name}.checked"


def _upload_fingerprint(job: ImportJob) -> dict[str, Any]:
    """Size and SHA-256 of the stored upload: the kept rows are those of exactly this file."""
    digest = hashlib.sha256()
    with job.file.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return {"name": job.file.name, "size": job.file.size, "sha256": digest.hexdigest()}


def _keep_checked(job: ImportJob, checked: Checked) -> None:
    """Write the rows of a clean dry run next to the upload, so the commit need not read and
    check the file again (for 100,000 rows, reading and checking cost as much as writing).

    What is kept is what the check derived from the file alone: the parsed values, the
    grouping of rows into companies, the file's headers; and the text of the cells naming
    reference data. What depends on the database (those references, duplicates against the
    stored companies, owners, stage gates) is checked again by the commit (_recheck).
    JSON, not pickle, and signed with the SECRET_KEY: the file sits in media storage, and a
    file that was altered, or written for another upload, is ignored rather than trusted.
    Best effort: the commit reads the upload again when the file is missing.
    """
    keys = [key for key in checked.written if key not in REFERENCE_KEYS]
    references = [key for key in checked.written if key in REFERENCE_KEYS]
    reference_columns = [checked.reference_texts[key] for key in references]
    groups: dict[int, Group] = {}
    rows = []
    for index, row in enumerate(checked.rows):
        values = row.values
        group = row.group
        if group is not None:
            groups.setdefault(group.first_row, group)
        rows.append([row.number, group.first_row if group else None,
                     *[values.get(key) for key in keys],
                     *[column[index] for column in reference_columns]])
    payload = {
        "format": CHECKED_FORMAT, "job": job.pk, "kind": job.kind,
        "upload": _upload_fingerprint(job),
        "written": checked.written, "positions": checked.positions,
        "keys": keys, "references": references,
        "groups": [[g.first_row, g.uscc, g.name_key] for g in groups.values()],
        "rows": rows,
    }
    # Level 1: the rows compress some 5 times at a fraction of the cost of the default level.
    body = zlib.compress(json.dumps(payload, default=str, ensure_ascii=False,
                                    separators=(",", ":")).encode(), 1)
    signature = salted_hmac(_CHECKED_SALT, body, algorithm="sha256").hexdigest().encode()
    storage, name = job.file.storage, _checked_name(job)
    try:
        if storage.exists(name):  # a dry run delivered twice: keep one file, the latest
            storage.delete(name)
        saved = storage.save(name, ContentFile(signature + b"\n" + body))
        if saved != name:  # the storage renamed it (a race with a twin run): not ours to use
            storage.delete(saved)
    except OSError:
        logger.warning("import %s: cannot keep the checked rows", job.pk, exc_info=True)


def _forget_checked(job: ImportJob) -> None:
    try:
        job.file.storage.delete(_checked_name(job))
    except OSError:
        logger.warning("import %s: cannot delete the checked rows", job.pk, exc_info=True)


def _kept_checked(job: ImportJob) -> dict | None:
    """The rows kept by the dry run of this job's upload as it is now, or None: no file, a
    file altered or of another format, or an upload that changed since (size or SHA-256)."""
    storage, name = job.file.storage, _checked_name(job)
    try:
        if not storage.exists(name):
            return None
        with storage.open(name, "rb") as stream:
            signature, _newline, body = stream.read().partition(b"\n")
        expected = salted_hmac(_CHECKED_SALT, body, algorithm="sha256").hexdigest().encode()
        if not hmac.compare_digest(signature, expected):
            logger.warning("import %s: kept rows fail their signature; reading the file again",
                           job.pk)
            return None
        payload = json.loads(zlib.decompress(body))
        if (payload.get("format") != CHECKED_FORMAT or payload.get("job") != job.pk
                or payload.get("kind") != job.kind):
            return None
        if payload["upload"] != _upload_fingerprint(job):
            logger.info("import %s: the upload changed since its dry run; reading it again",
                        job.pk)
            return None
        return payload
    except (OSError, ValueError, KeyError, zlib.error):
        logger.warning("import %s: cannot use the kept rows", job.pk, exc_info=True)
        return None


def _recheck(job: ImportJob, kept: dict) -> Checked:
    """The commit's check of kept rows: what _check would find again, reading only what can
    have changed since the dry run, the database. The rows' references are looked up in the
    reference tables as they are now, then the duplicates, owners and stage gates checked as
    by _check (_check_against_database)."""
    checked = Checked(kind=job.kind, written=kept["written"], positions=kept["positions"])
    lookups = Lookups.load()
    keys, references = kept["keys"], kept["references"]
    decoders = [_STORED_DECODERS.get(key) for key in keys]
    parsers = [(key, lookups.parser(key)) for key in references]
    width = len(keys)
    groups = {first_row: Group(first_row=first_row, uscc=uscc, name_key=name_key)
              for first_row, uscc, name_key in kept["groups"]}
    industry_codes: dict[str, str] = {}
    rows = checked.rows
    for entry in kept["rows"]:
        row = Row(number=entry[0], values={}, group=groups.get(entry[1]))
        values = row.values
        for key, decode, value in zip(keys, decoders, entry[2:2 + width], strict=True):
            if value is not None:
                values[key] = decode(value) if decode else value
        for (key, parser), text in zip(parsers, entry[2 + width:], strict=True):
            if text is not None:
                _parse_cell(row, key, parser, text, text, checked, lookups, industry_codes)
        rows.append(row)
    if rows:
        _check_against_database(job, checked)
    checked.finish()
    return checked


# --- Progress -----------------------------------------------------------------------------------
def _progress_key(job_pk: int) -> str:
    return f"leads:import:{job_pk}:progress"


def _publish(job_pk: int, status: str, processed: int, total: int) -> None:
    try:
        cache.set(_progress_key(job_pk), {"status": status, "processed": processed,
                                          "total": total}, PROGRESS_TTL_SECONDS)
    except Exception:  # a progress bar is not worth failing an import for
        logger.warning("import %s: cannot publish progress", job_pk, exc_info=True)


def _forget_progress(job_pk: int) -> None:
    try:
        cache.delete(_progress_key(job_pk))
    except Exception:
        logger.warning("import %s: cannot clear progress", job_pk, exc_info=True)


ACTIVE_STATUSES = {ImportJob.Status.PENDING, ImportJob.Status.VALIDATING,
                   ImportJob.Status.COMMITTING}


def import_progress(*, job: ImportJob) -> dict:
    """Where the job stands: the cache while a task is working (its transaction hides the row's
    updates), the row once it is finished. `active` says whether to keep polling."""
    status, processed, total = job.status, job.processed_rows, job.total_rows
    cached = None
    if job.status in ACTIVE_STATUSES or job.status == ImportJob.Status.VALIDATED:
        try:
            cached = cache.get(_progress_key(job.pk))
        except Exception:
            logger.warning("import %s: cannot read progress", job.pk, exc_info=True)
    # A checked job shows the cache only once its commit is queued: the task has not claimed
    # the row yet, but the user has asked and must not be offered the button again.
    if cached and (job.status != ImportJob.Status.VALIDATED
                   or cached["status"] == ImportJob.Status.COMMITTING):
        status, processed, total = cached["status"], cached["processed"], cached["total"]
    percent = min(100, round(processed * 100 / total)) if total else 0
    if status in {ImportJob.Status.DONE, ImportJob.Status.VALIDATED, ImportJob.Status.INVALID}:
        percent = 100
    return {
        "status": status,
        "status_label": ImportJob.Status(status).label,
        "processed": processed,
        "total": total,
        "percent": percent,
        "active": status in ACTIVE_STATUSES,
    }


# --- Services -----------------------------------------------------------------------------------
def import_async_threshold_bytes() -> int:
    return int(getattr(settings, "LEADS_IMPORT_ASYNC_THRESHOLD_BYTES",
                       IMPORT_ASYNC_THRESHOLD_BYTES))


def import_async_threshold_rows() -> int:
    return int(getattr(settings, "LEADS_IMPORT_ASYNC_THRESHOLD_ROWS",
                       IMPORT_ASYNC_THRESHOLD_ROWS))


def import_runs_async(*, job: ImportJob, rows: int | None = None) -> bool:
    """Whether a step runs in Celery rather than in the request: any step of a file above the
    bytes threshold, and a commit of more rows than the rows threshold."""
    if job.file.size > import_async_threshold_bytes():
        return True
    return rows is not None and rows > import_async_threshold_rows()


def import_job_create(*, by, kind: str, upload, on_duplicate: str,
                      language: str | None = None) -> ImportJob:
    """Store an uploaded file (already checked by crm.core.uploads.validate_upload) as a new
    job and start its dry run: inside this call for a small file, in a Celery task enqueued
    after commit for a large one.

    Deliberately not one transaction: the job row is saved first, so a dry run that crashes
    still leaves a job the user can see, marked FAILED.
    """
    from .tasks import import_validate_task

    extension = os.path.splitext(upload.name)[1].lower()
    job = ImportJob(kind=kind, on_duplicate=on_duplicate, uploaded_by=by,
                    original_name=os.path.basename(upload.name)[:200])
    # A generated file name: the original may be long, Chinese or hostile; it is kept in
    # original_name for display.
    job.file.save(f"{kind}-{uuid.uuid4().hex}{extension}", upload, save=False)
    job.full_clean()
    job.save()
    if import_runs_async(job=job):
        import_validate_task.delay_on_commit(job.pk, language=language)
    else:
        import_validate(job=job)
    return job


def import_validate(*, job: ImportJob) -> list[dict]:
    """The dry run: check every row, write nothing but the job's status and problems.

    Claims the job with a conditional UPDATE (PENDING or VALIDATING → VALIDATING): a task
    delivered twice checks the file twice, harmlessly, and a job already checked, committing
    or done is left alone. Returns the blocking errors.
    """
    Status = ImportJob.Status
    claimed = ImportJob.objects.filter(
        pk=job.pk, status__in=[Status.PENDING, Status.VALIDATING]
    ).update(status=Status.VALIDATING, processed_rows=0)
    if not claimed:
        job.refresh_from_db()
        return [p for p in job.errors if p.get("level", ERROR) == ERROR]
    _publish(job.pk, Status.VALIDATING, 0, 0)
    try:
        progress = _Progress(job, Status.VALIDATING, 0)
        checked = _check(job, progress=progress)
    except Exception:
        logger.exception("import %s: dry run failed", job.pk)
        _fail(job, [{"row": None, "column": "", "level": ERROR,
                     "message": _("The file could not be checked because of an unexpected "
                                  "error; nothing was imported.")}])
        return job.errors
    errors = checked.errors
    total = len(checked.rows)
    if not errors:
        _keep_checked(job, checked)  # before VALIDATED: a commit may start at once
    ImportJob.objects.filter(pk=job.pk, status=Status.VALIDATING).update(
        status=Status.INVALID if errors else Status.VALIDATED,
        errors=checked.problems, total_rows=total, processed_rows=total,
    )
    _forget_progress(job.pk)
    job.refresh_from_db()
    return errors


def import_commit_request(*, job: ImportJob, language: str | None = None) -> ImportJob:
    """The user's "import" click: commit a checked job here (small file) or in a Celery task
    (large file). A second click while the task waits in the queue is refused; a second task
    would anyway find the job claimed and do nothing."""
    from .tasks import import_commit_task

    queued = import_progress(job=job)["status"] == ImportJob.Status.COMMITTING
    if job.status != ImportJob.Status.VALIDATED or queued:
        raise ConflictError(
            _("This import cannot be started: it is “%(status)s”.")
            % {"status": ImportJob.Status(ImportJob.Status.COMMITTING if queued
                                          else job.status).label},
            code="import_state",
        )
    if import_runs_async(job=job, rows=job.total_rows):
        _publish(job.pk, ImportJob.Status.COMMITTING, 0, job.total_rows)
        import_commit_task.delay_on_commit(job.pk, language=language)
        return job
    return import_commit(job=job)


class _RowFailure(Exception):
    def __init__(self, row: int, column: str, message: str):
        super().__init__(message)
        self.problem = {"row": row, "column": column, "message": message, "level": ERROR}


@contextmanager
def _row_failures(row: Row, checked: Checked, default_key: str,
                  renames: dict[str, str] | None = None) -> Iterator[None]:
    """Turn what a service refuses into a problem naming the row and, where the service names
    a field, its column (model field names are column keys, except those in `renames`).
    Re-raised at once, so the open transaction is rolled back."""
    try:
        yield
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            field_name, messages = next(iter(error.message_dict.items()))
            key = (renames or {}).get(field_name, field_name)
            key = key if key in COLUMNS_BY_KEY else default_key
            raise _RowFailure(row.number, checked.column(key), " ".join(messages))
        raise _RowFailure(row.number, checked.column(default_key), " ".join(error.messages))
    except ConflictError as error:
        raise _RowFailure(row.number, checked.column(default_key), str(error.message))
    except DatabaseError as error:
        logger.info("import row %s refused by the database: %s", row.number, error)
        raise _RowFailure(row.number, checked.column(default_key),
                          _("The database refused this row: %(error)s")
                          % {"error": str(error).strip().splitlines()[0]})


def import_commit(*, job: ImportJob) -> ImportJob:
    """Write a checked job, all rows or none.

    1. Claim: a conditional UPDATE VALIDATED → COMMITTING, committed on its own, so the page
       shows "importing" at once and a second call (double click, redelivered task) finds
       nothing to claim and returns.
    2. Check again what may have changed since the dry run: the rows the dry run kept
       (_keep_checked) are looked up again in the database (duplicates, references, owners,
       stage gates) without reading the file; without them, or if the upload changed, the
       file is read and checked again in full. Any error: status INVALID with the new
       problems, nothing written.
    3. Write every row in one transaction through the services. The first refusal (a service
       rule, a constraint, a database error) rolls back every row already written in this
       transaction, and the job is marked FAILED with the row and column that failed.
    """
    Status = ImportJob.Status
    claimed = ImportJob.objects.filter(pk=job.pk, status=Status.VALIDATED).update(
        status=Status.COMMITTING, processed_rows=0
    )
    job.refresh_from_db()
    if not claimed:
        return job
    progress = _Progress(job, Status.COMMITTING, job.total_rows)
    progress.publish()
    try:
        kept = _kept_checked(job)
        checked = _recheck(job, kept) if kept is not None else _check(job)
        del kept  # the rows are in `checked` now; the decoded JSON need not stay in memory
        if checked.errors:
            ImportJob.objects.filter(pk=job.pk).update(
                status=Status.INVALID, errors=checked.problems, processed_rows=0
            )
            _forget_checked(job)
            _forget_progress(job.pk)
            job.refresh_from_db()
            return job
        progress.total = len(checked.rows)
        with transaction.atomic():
            counts = _write(job, checked, progress)
            # The bulk writes send no post_save, which is what invalidates the dashboards'
            # cached figures; this does it once, when the transaction commits.
            figures_changed()
    except _RowFailure as failure:
        _fail(job, [failure.problem])
        return job
    except Exception:
        logger.exception("import %s: commit failed", job.pk)
        _fail(job, [{"row": None, "column": "", "level": ERROR,
                     "message": _("The import stopped because of an unexpected error; nothing "
                                  "was imported.")}])
        return job
    created, updated, skipped = counts
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.DONE, created_count=created, updated_count=updated, skipped_count=skipped,
        processed_rows=len(checked.rows), total_rows=len(checked.rows),
        finished_at=timezone.now(), errors=checked.problems,
    )
    _forget_checked(job)
    _forget_progress(job.pk)
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, problems: list[dict]) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, errors=problems, finished_at=timezone.now()
    )
    _forget_checked(job)
    _forget_progress(job.pk)
    job.refresh_from_db()


COMPANY_VALUE_KEYS = ("industry", "registered_capital_wan", "hq_region_code", "hq_region_name",
                      "source_region", "website", "notes")
PROJECT_VALUE_KEYS = ("agreed_investment_wan", "fixed_asset_wan", "funds_arrived_wan",
                      "expected_output_wan", "expected_tax_wan", "expected_jobs", "channel",
                      "referrer", "next_step", "next_step_on", "intended_park", "confidential")

CREATED, UPDATED, SKIPPED = "created", "updated", "skipped"


def _write(job: ImportJob, checked: Checked, progress: _Progress) -> tuple[int, int, int]:
    """Inside the commit's transaction. Companies are written in bulk (_write_companies);
    projects one row after the other through the services, as a project's creation sets more
    than its own row (the stage event, the team, reminders)."""
    for row in checked.rows:
        if row.group is None:  # unreachable after a clean check; refuse rather than guess
            raise _RowFailure(row.number, checked.column("name"), _("A value is required."))
    if job.kind == COMPANIES:
        return _write_companies(job, checked, progress)
    by = job.uploaded_by
    update = job.on_duplicate == ImportJob.OnDuplicate.UPDATE
    counts = {CREATED: 0, UPDATED: 0, SKIPPED: 0}
    companies: dict[int, Company] = {}  # group.first_row -> the company written or matched
    rows_by_number = {row.number: row for row in checked.rows}
    for row in checked.rows:
        group = row.group
        if group.first_row not in companies:
            first = rows_by_number[group.first_row]
            with _row_failures(first, checked, "name"):
                companies[group.first_row], _outcome = _write_company(first, group, by, update)
        with _row_failures(row, checked, "project_name", {"name": "project_name"}):
            counts[_write_project(row, companies[group.first_row], by, update)] += 1
        progress.tick()
    return counts[CREATED], counts[UPDATED], counts[SKIPPED]


def _write_companies(job: ImportJob, checked: Checked,
                     progress: _Progress) -> tuple[int, int, int]:
    """A company import, WRITE_BATCH rows at a time: what company_create and company_update
    would write row by row (the company, its history, its chain position and contact), in a
    few statements per batch.

    The services' own checks are the check's: the duplicates (in the file and against the
    database, re-read by the commit) and every cell (the parsers hold the model's limits), so
    full_clean() is not run again per row. The database stays the guarantee: a batch it
    refuses (a company entered meanwhile, a constraint, a trigger) is rolled back to its
    savepoint and written again through the services row by row, which name the row and
    column at fault (the 撞单 message for a duplicate) and fail the whole import.
    """
    by = job.uploaded_by
    update = job.on_duplicate == ImportJob.OnDuplicate.UPDATE
    initials = _Initials()
    counts = {CREATED: 0, UPDATED: 0, SKIPPED: 0}
    for start in range(0, len(checked.rows), WRITE_BATCH):
        batch = checked.rows[start:start + WRITE_BATCH]
        try:
            with transaction.atomic():  # a savepoint, so that a refused batch goes alone
                outcomes = _write_company_batch(batch, by, update, initials)
        except DatabaseError:
            logger.info("import %s: batch from row %s refused, writing it row by row",
                        job.pk, batch[0].number, exc_info=True)
            outcomes = []
            for row in batch:
                with _row_failures(row, checked, "name"):
                    outcomes.append(_write_company(row, row.group, by, update)[1])
        for outcome in outcomes:
            counts[outcome] += 1
        progress.advance(len(batch))
    return counts[CREATED], counts[UPDATED], counts[SKIPPED]


def _write_company_batch(batch: list[Row], by, update: bool,
                         initials: _Initials) -> list[str]:
    created = [row for row in batch if row.group.existing is None]
    updated = [row for row in batch if row.group.existing is not None] if update else []
    if created:
        _create_companies(created, by, initials)
    if updated:
        _update_companies(updated, by, initials)
    return [CREATED if row.group.existing is None else UPDATED if update else SKIPPED
            for row in batch]


def _create_companies(rows: list[Row], by, initials: _Initials) -> None:
    """What company_create writes for each row: the company, its chain position, its primary
    contact and the history of both, as django-simple-history's post_save would."""
    now = timezone.now()
    companies = [
        {"name": row.values["name"], "name_key": row.group.name_key,
         "name_initials": initials(row.values["name"]), "uscc": row.group.uscc,
         "created_by_id": by.pk, "created_at": now, "updated_at": now,
         **_company_columns(row.values)}
        for row in rows
    ]
    _insert(Company, companies, ids=True)
    _insert_history(Company, companies, by, now)
    links, contacts = [], []
    for row, company in zip(rows, companies, strict=True):
        values = row.values
        node = values.get("chain_node")
        if node:
            # Without a role, a company's role on the chain is the node's own position.
            links.append({"company_id": company["id"], "node_id": node.pk,
                          "role": values.get("chain_role") or node.position})
        contact = _contact(values)
        if contact:
            contacts.append({"company_id": company["id"], "is_primary": True, **contact})
    _insert(CompanyChainLink, links)
    _insert(Contact, contacts, ids=True)
    _insert_history(Contact, contacts, by, now)


def _update_companies(rows: list[Row], by, initials: _Initials) -> None:
    """What company_update and contact_add write for each row, through the ORM's bulk
    statements (an update of 100,000 companies is rare; their creation is the common case)."""
    # Lock and re-read: someone may have edited a company since the check, and the update
    # must not write back their fields as they were. Locked in pk order, as another import of
    # the same companies would, so two imports do not deadlock.
    ids = sorted({row.group.existing.pk for row in rows})
    locked = Company.objects.select_for_update().order_by("pk").in_bulk(ids)
    now = timezone.now()
    written = {"name", "name_key", "name_initials", "updated_at"}
    for row in rows:
        company = locked[row.group.existing.pk]
        fields = {k: row.values[k] for k in COMPANY_VALUE_KEYS if k in row.values}
        # A blank cell leaves the stored value as it is: only the cells filled in are written
        # (bulk_update writes the others back as they were read under the lock).
        if row.group.uscc:
            fields["uscc"] = row.group.uscc
        for key, value in fields.items():
            setattr(company, key, value)
        written.update(fields)
        company.name = row.values["name"]
        company.name_key = row.group.name_key
        company.name_initials = initials(company.name)
        company.updated_at = now  # bulk_update does not apply auto_now
    changed = [locked[pk] for pk in ids]
    Company.objects.bulk_update(changed, fields=sorted(written))
    Company.history.bulk_history_create(changed, update=True, default_user=by,
                                        default_change_reason=None)

    links, contacts = [], []
    # An update adds the row's contact unless the company has one of that name.
    contact_names = set(Contact.objects.filter(_any("company_id", ids, "bigint"))
                        .values_list("company_id", "name"))
    for row in rows:
        company, values = locked[row.group.existing.pk], row.values
        node = values.get("chain_node")
        if node:
            role = values.get("chain_role") or node.position
            links.append(CompanyChainLink(company=company, node=node, role=role))
        contact = _contact(values)
        if contact and (company.pk, contact["name"]) not in contact_names:
            contact_names.add((company.pk, contact["name"]))
            contacts.append(Contact(company=company, **contact))
    # The company keeps its other chain positions; the file's node is added, or its role
    # changed.
    CompanyChainLink.objects.bulk_create(links, update_conflicts=True,
                                         unique_fields=["company", "node"],
                                         update_fields=["role"])
    Contact.objects.bulk_create(contacts)
    Contact.history.bulk_history_create(contacts, default_user=by, default_change_reason=None)


# Column (attname) of each company value of a row: the industry is written as its id.
_COMPANY_COLUMNS = {key: Company._meta.get_field(key).attname for key in COMPANY_VALUE_KEYS}


def _company_columns(values: dict[str, Any]) -> dict[str, Any]:
    columns = {}
    for key, attname in _COMPANY_COLUMNS.items():
        if key in values:
            value = values[key]
            columns[attname] = value.pk if attname != key else value
    return columns


def _insert(model: type, rows: list[dict[str, Any]], *, ids: bool = False) -> None:
    """Write many rows of `model` with PostgreSQL COPY, inside the open transaction.

    Why not bulk_create(): it prepares every value of every row in Python and has the server
    parse an INSERT of thousands of parameters, which made up most of a 100,000-row import;
    COPY is the floor the import is measured against (bench/imports_bench.py). The values are
    the parsers' own, already of the column's type, and the database still checks every
    constraint, foreign key and trigger, and length: nothing is cut to fit.
    `rows` map attnames to values; each row is completed in place with the defaults of the
    fields it does not give (what the model's constructor would set) and, with `ids`, with
    its new primary key, drawn from the table's sequence first (COPY returns nothing).
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
            raise TypeError(f"{f} has a callable default, which _insert does not call per row")
        else:
            default = f.get_default()
        for row in rows:
            row.setdefault(f.attname, default)
    with connection.cursor() as cursor:
        if ids:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                           "FROM generate_series(1, %s)",
                           [meta.db_table, meta.pk.column, len(rows)])
            for row, (new_id,) in zip(rows, cursor.fetchall(), strict=True):
                row[meta.pk.attname] = new_id
            fields.insert(0, meta.pk)
        columns = []
        for f in fields:
            values = [row[f.attname] for row in rows]
            first = values[0]
            if all(value is first for value in values):  # the uploader, the time, a default
                columns.append([_copy_value(first)] * len(values))
            else:
                columns.append([_copy_value(value) for value in values])
        buffer = io.StringIO()
        buffer.writelines("\t".join(line) + "\n" for line in zip(*columns, strict=True))
        buffer.seek(0)
        quote = connection.ops.quote_name
        sql = (f"COPY {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
               "FROM STDIN")
        # copy_expert is psycopg2's own method: Django neither wraps its errors (so a refusal
        # would escape `except DatabaseError`) nor logs it as a query.
        with connection.wrap_database_errors:
            cursor.cursor.copy_expert(sql, buffer)


# COPY's text format: backslash escapes for the characters that separate values and rows.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: Any) -> str:
    if type(value) is str:
        return value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, date):  # datetime too: ISO 8601, with the offset when aware
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _insert_history(model: type, rows: list[dict[str, Any]], by, now: datetime) -> None:
    """The "+" records django-simple-history's post_save writes for rows saved one by one,
    by the uploader (who is also request.user when the commit runs in the request)."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or not rows:
        return
    history = model.history.model
    tracked = [f.attname for f in history.tracked_fields]
    _insert(history, [
        {**{attname: row[attname] for attname in tracked}, "history_date": now,
         "history_change_reason": None, "history_type": "+", "history_user_id": by.pk}
        for row in rows
    ])


class _Initials:
    """leads.search.pinyin_initials() for the names of a whole file, the same letters faster.

    Converting a word to pinyin is what costs (70 µs a name, 7 s for 100,000), and the words
    of a list recur (科技, 有限公司, the city). pypinyin cuts a name into words and converts
    each word on its own, so remembering each word's letters changes nothing in the result; a
    test compares the two on awkward names. Text that is not Chinese comes out as written.
    """

    def __init__(self):
        self._cut = Pinyin().seg
        self._words: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        letters = []
        for word in self._cut(name.strip()):
            if not RE_HANS.match(word):
                letters.append(word)
                continue
            found = self._words.get(word)
            if found is None:
                found = self._words[word] = "".join(
                    lazy_pinyin([word], style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
                )
            letters.append(found)
        return "".join(char for char in "".join(letters).lower() if char.isalnum())[:200]


def _contact(values: dict[str, Any]) -> dict | None:
    if "contact_name" not in values:
        return None
    return {"name": values["contact_name"], "title": values.get("contact_title", ""),
            "phone": values.get("contact_phone", ""), "email": values.get("contact_email", "")}


def _write_company(row: Row, group: Group, by, update: bool) -> tuple[Company, str]:
    values = row.values
    fields = {k: values[k] for k in COMPANY_VALUE_KEYS if k in values}
    node = values.get("chain_node")
    # Without a role, a company's role on the chain is the node's own position.
    role = values.get("chain_role") or (node.position if node else None)
    contact = _contact(values)
    if group.existing is None:
        company = company_create(
            by=by, name=values["name"], uscc=group.uscc,
            chain_links=[(node, role)] if node else None,
            contacts=[{**contact, "is_primary": True}] if contact else None, **fields,
        )
        return company, CREATED
    if not update:
        return group.existing, SKIPPED
    # Lock and re-read: someone may have edited the company since the check, and the update
    # must not write back their fields as they were.
    company = Company.objects.select_for_update().get(pk=group.existing.pk)
    chain_links = None
    if node:
        # Add or re-role the file's node; keep the company's other chain positions.
        links = {link.node_id: (link.node, link.role) for link in company.chain_links.all()}
        links[node.pk] = (node, role)
        chain_links = list(links.values())
    # A blank cell leaves the stored value as it is: only the cells filled in are written.
    company_update(company=company, by=by, chain_links=chain_links, name=values["name"],
                   **({"uscc": group.uscc} if group.uscc else {}), **fields)
    if contact and not company.contacts.filter(name=contact["name"]).exists():
        contact_add(company=company, **contact)
    return company, UPDATED


def _write_project(row: Row, company: Company, by, update: bool) -> str:
    values = row.values
    fields = {k: values[k] for k in PROJECT_VALUE_KEYS if k in values}
    if row.existing_project is not None:
        if not update:
            return SKIPPED
        project = Project.objects.select_for_update(of=("self",)).get(pk=row.existing_project.pk)
        project_update(project=project, by=by, **fields)
        return UPDATED
    project_create(by=by, company=company, name=values["project_name"], owner=row.owner,
                   stage=row.stage, **fields)
    return CREATED


# --- Selectors and the template -----------------------------------------------------------------
def import_job_get(*, user, pk: int) -> ImportJob:
    """A job is its uploader's alone: anybody else gets DoesNotExist (a 404)."""
    return ImportJob.objects.select_related("uploaded_by").get(pk=pk, uploaded_by=user)


def import_job_list(*, user, limit: int = 10) -> list[ImportJob]:
    return list(ImportJob.objects.filter(uploaded_by=user).order_by("-created_at")[:limit])


def import_problems(*, job: ImportJob) -> tuple[list[dict], list[dict]]:
    """(errors, notices) of a job, for display."""
    errors = [p for p in job.errors if p.get("level", ERROR) == ERROR]
    notices = [p for p in job.errors if p.get("level") == NOTICE]
    return errors, notices


def import_template_sheets(*, kind: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """The sheets of the downloadable template: the empty list with the Chinese headers
    (required ones marked *) first, as the importer reads the first sheet, then the guide."""
    columns = columns_for(kind)
    headers = [f"{c.header}*" if c.required else c.header for c in columns]
    guide = [
        [c.header, _("yes") if c.required else "", ", ".join(c.aliases), str(c.description)]
        for c in columns
    ]
    title = _("Projects") if kind == PROJECTS else _("Companies")
    return [
        (title, headers, []),
        (_("How to fill in"), [_("Column"), _("Required"), _("Also accepted"), _("Content")],
         guide),
    ]
