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
   COMMITTING), so a double click or a redelivered task commits once; the file is checked again
   (the database may have changed since the dry run) and then written in ONE transaction through
   the same services as the forms (company_create, company_update, project_create, ...). Any
   failure rolls back every row and marks the job FAILED with the row that failed.

Progress: the commit's own writes to the job row stay invisible to other connections until its
transaction commits, so progress is published to the Django cache (`import_progress` reads it
first, then the row).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator
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
from django.core.validators import EmailValidator, URLValidator
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from crm.accounts.roles import Role
from crm.core.exceptions import ConflictError
from crm.core.exports import FORMULA_TRIGGERS

from .models import (
    ChainNode,
    ChainRole,
    Channel,
    Company,
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
# Checking is fast (3,000 rows in 0.5 s) but writing goes row by row through the services at
# about 6 ms a row (3,000 companies with a contact in 17.6 s on the development VM), and a
# compressed .xlsx of 200 KB holds some 6,000 rows. So a commit of more rows than this (about
# 3 s) goes to Celery whatever the file's size. Setting: LEADS_IMPORT_ASYNC_THRESHOLD_ROWS.
IMPORT_ASYNC_THRESHOLD_ROWS = 500
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
def _open_rows(job: ImportJob) -> Iterator[tuple[Iterator[tuple], int]]:
    """Yield the rows of the file (tuples of cell values, header first) and an estimate of
    their number. Read as a stream: openpyxl in read-only mode, csv row by row through a
    decoding wrapper."""
    extension = os.path.splitext(job.original_name or job.file.name)[1].lower()
    with job.file.open("rb") as stream:
        if extension == ".xlsx":
            workbook = load_workbook(stream, read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                yield sheet.iter_rows(values_only=True), (sheet.max_row or 1) - 1
            finally:
                workbook.close()
        elif extension == ".csv":
            encoding, lines = _csv_encoding(stream)
            text = io.TextIOWrapper(stream, encoding=encoding, newline="")
            try:
                yield (tuple(row) for row in csv.reader(text)), lines - 1
            finally:
                text.detach()
        else:
            raise CellError(_("Only .xlsx and .csv files can be imported."))


# --- Cell parsers -------------------------------------------------------------------------------
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


def _limited(value: Any, max_length: int) -> str:
    text = _text(value)
    if len(text) > max_length:
        raise CellError(_("At most %(max)d characters; this has %(length)d.")
                        % {"max": max_length, "length": len(text)})
    return text


def parse_decimal(value: Any) -> Decimal:
    """A non-negative amount with at most two decimals, as Decimal. A float cell from Excel is
    converted through its shortest repr (1234.5, not 1234.499999...), never used as a float."""
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not a number.") % {"value": _text(value)})
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        text = unicodedata.normalize("NFKC", _text(value)).replace(",", "").replace(" ", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(_("“%(value)s” is not a number.") % {"value": _text(value)})
    if not number.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": _text(value)})
    if number < 0:
        raise CellError(_("The amount cannot be negative."))
    if number != number.quantize(_CENT):
        raise CellError(_("At most two decimal places."))
    if number > _MONEY_MAX:
        raise CellError(_("The amount is too large."))
    return number.quantize(_CENT)


def parse_int(value: Any) -> int:
    text = _text(value)
    try:
        number = Decimal(unicodedata.normalize("NFKC", text).replace(",", ""))
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a whole number.") % {"value": text})
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(_("“%(value)s” is not a whole number.") % {"value": text})
    if number < 0 or number > _INT_MAX:
        raise CellError(_("“%(value)s” is out of range.") % {"value": text})
    return int(number)


def parse_date(value: Any) -> date:
    """Excel date cells, Excel serial numbers in .xlsx, and YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD
    or YYYY年MM月DD日 text (a time after the date is ignored)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel's serial day range (1900-01-01 .. 9999-12-31)
            return from_excel(value).date()
        raise CellError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.")
                        % {"value": _text(value)})
    text = unicodedata.normalize("NFKC", _text(value))
    head = text.split()[0] if text.split() else text
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(head, pattern).date()
        except ValueError:
            continue
    raise CellError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": text})


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = header_key(_text(value))
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    raise CellError(_("“%(value)s” is not yes or no; write 是 or 否.") % {"value": _text(value)})


def parse_uscc(value: Any) -> str:
    code = normalize_uscc(_text(value))
    try:
        validate_uscc(code)
    except ValidationError as error:
        raise CellError(error.messages[0])
    return code


def parse_url(value: Any) -> str:
    text = _limited(value, 200)
    if not _URL_SCHEME.match(text):
        text = "https://" + text  # "www.example.com" is how most lists write it
    try:
        URLValidator()(text)
    except ValidationError:
        raise CellError(_("“%(value)s” is not a web address.") % {"value": _text(value)})
    if len(text) > 200:
        raise CellError(_("At most %(max)d characters; this has %(length)d.")
                        % {"max": 200, "length": len(text)})
    return text


def parse_email(value: Any) -> str:
    text = _limited(value, 254)
    try:
        EmailValidator()(text)
    except ValidationError:
        raise CellError(_("“%(value)s” is not an email address.") % {"value": text})
    return text


def parse_region_code(value: Any) -> str:
    text = _text(value)
    if not _REGION_CODE.match(text):
        raise CellError(_("A region code has six digits (GB/T 2260), e.g. 110108."))
    return text


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

    def parser(self, key: str) -> Callable[[Any], Any]:
        parsers: dict[str, Callable[[Any], Any]] = {
            "name": lambda v: _limited(v, 200),
            "uscc": parse_uscc,
            "industry": self.industry,
            "chain_node": self.chain_node,
            "chain_role": lambda v: self._choice(self.chain_roles, v),
            "registered_capital_wan": parse_decimal,
            "hq_region_name": lambda v: _limited(v, 100),
            "hq_region_code": parse_region_code,
            "source_region": lambda v: self._choice(self.source_regions, v),
            "website": parse_url,
            "notes": _text,
            "contact_name": lambda v: _limited(v, 60),
            "contact_title": lambda v: _limited(v, 60),
            "contact_phone": lambda v: _limited(v, 30),
            "contact_email": parse_email,
            "project_name": lambda v: _limited(v, 200),
            "owner": lambda v: _limited(v, 150),
            "stage": self.stage,
            "agreed_investment_wan": parse_decimal,
            "fixed_asset_wan": parse_decimal,
            "funds_arrived_wan": parse_decimal,
            "expected_output_wan": parse_decimal,
            "expected_tax_wan": parse_decimal,
            "expected_jobs": parse_int,
            "channel": lambda v: self._choice(self.channels, v),
            "referrer": lambda v: _limited(v, 100),
            "next_step": lambda v: _limited(v, 200),
            "next_step_on": parse_date,
            "intended_park": lambda v: _limited(v, 100),
            "confidential": parse_bool,
        }
        return parsers[key]


# --- The check ----------------------------------------------------------------------------------
@dataclass
class Group:
    """One company of the file: a row of a company import, or the rows of a project import
    that name the same company (same USCC or same normalised name)."""

    first_row: int
    uscc: str | None
    name_key: str
    existing: Company | None = None


@dataclass
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

    def publish(self) -> None:
        _publish(self.job_pk, self.status, self.done, max(self.total, self.done))


def _check(job: ImportJob, *, progress: _Progress | None = None) -> Checked:
    """Read and check the whole file; write nothing. The heart of both the dry run and the
    commit, so the commit cannot accept what the dry run would refuse."""
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


# What openpyxl and csv raise on a damaged or mislabelled file.
UNREADABLE = (OSError, ValueError, KeyError, UnicodeDecodeError, csv.Error, BadZipFile,
              InvalidFileException)


def _read(job: ImportJob, rows: Iterator[tuple], checked: Checked, lookups: Lookups,
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
    for number, raw in enumerate(rows, start=2):
        if not any(_text(cell) for cell in raw):
            continue  # blank rows are skipped, but still counted in the row numbers
        row = Row(number=number, values={})
        values = row.values
        for index, key in mapping:
            cell = raw[index] if index < len(raw) else None
            if not _text(cell):
                continue
            try:
                values[key] = parsers[key](cell)
            except CellError as error:
                checked.add(number, key, error.message)
                row.bad.add(key)
                continue
            if key == "industry" and values[key].code != lookups.industry_code(cell):
                checked.add(number, key,
                            _("Class %(code)s is filed under its group %(group)s.")
                            % {"code": lookups.industry_code(cell), "group": values[key]},
                            level=NOTICE)
        for index, letter in unnamed.items():
            if index < len(raw) and _text(raw[index]) and index not in reported_unnamed:
                reported_unnamed.add(index)
                checked.problems.append({
                    "row": number, "column": letter, "level": ERROR, "_pos": index,
                    "message": _("This column has no header, so its values cannot be imported."),
                })
        for key in required:
            if key not in values and key not in row.bad:
                checked.add(number, key, _("A value is required."))
        _check_row(values, number, checked)
        if "name" in values:
            _group_row(job, row, checked, seen_uscc, seen_name, seen_projects)
        checked.rows.append(row)
        if progress:
            progress.tick()


def _check_row(values: dict[str, Any], number: int, checked: Checked) -> None:
    """Checks across the cells of one row that need no database."""
    if "name" in values and not normalize_company_name(values["name"]):
        checked.add(number, "name", _("“%(value)s” is not a company name.")
                    % {"value": values["name"]})
        values.pop("name")
    if "chain_role" in values and "chain_node" not in values:
        checked.add(number, "chain_role", _("Give the chain node this role is on."))
    contact_details = ("contact_title", "contact_phone", "contact_email")
    if any(k in values for k in contact_details) and "contact_name" not in values:
        checked.add(number, "contact_name",
                    _("Give the contact's name for the title, phone or email in this row."))


def _group_row(job: ImportJob, row: Row, checked: Checked, seen_uscc: dict[str, Group],
               seen_name: dict[str, Group], seen_projects: dict[tuple[int, str], int]) -> None:
    """Find the company of the row among the earlier rows of the file. In a company import a
    company may appear once; in a project import several projects may name one company."""
    values, number = row.values, row.number
    uscc = values.get("uscc")
    key = normalize_company_name(values["name"])
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


def _chasing_messages(companies: list[Company]) -> dict[int, str]:
    """duplicate_message() of leads.services for many companies in one query: who is following
    each company (撞单). The texts are the service's, so they share its translations."""
    latest: dict[int, Project] = {}
    open_projects = (
        Project.objects.filter(company__in=companies, stage__kind=Stage.Kind.OPEN)
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
        for company in Company.objects.filter(Q(uscc__in=usccs) | Q(name_key__in=keys)):
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
    2. Check the file again: rows may have become duplicates since the dry run. Any error:
       status INVALID with the new problems, nothing written.
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
        checked = _check(job)
        if checked.errors:
            ImportJob.objects.filter(pk=job.pk).update(
                status=Status.INVALID, errors=checked.problems, processed_rows=0
            )
            _forget_progress(job.pk)
            job.refresh_from_db()
            return job
        progress.total = len(checked.rows)
        with transaction.atomic():
            counts = _write(job, checked, progress)
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
    _forget_progress(job.pk)
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, problems: list[dict]) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, errors=problems, finished_at=timezone.now()
    )
    _forget_progress(job.pk)
    job.refresh_from_db()


COMPANY_VALUE_KEYS = ("industry", "registered_capital_wan", "hq_region_code", "hq_region_name",
                      "source_region", "website", "notes")
PROJECT_VALUE_KEYS = ("agreed_investment_wan", "fixed_asset_wan", "funds_arrived_wan",
                      "expected_output_wan", "expected_tax_wan", "expected_jobs", "channel",
                      "referrer", "next_step", "next_step_on", "intended_park", "confidential")

CREATED, UPDATED, SKIPPED = "created", "updated", "skipped"


def _write(job: ImportJob, checked: Checked, progress: _Progress) -> tuple[int, int, int]:
    """Inside the commit's transaction: one row after the other, through the services."""
    by = job.uploaded_by
    update = job.on_duplicate == ImportJob.OnDuplicate.UPDATE
    counts = {CREATED: 0, UPDATED: 0, SKIPPED: 0}
    companies: dict[int, Company] = {}  # group.first_row -> the company written or matched
    rows_by_number = {row.number: row for row in checked.rows}
    for row in checked.rows:
        group = row.group
        if group is None:  # unreachable after a clean check; refuse rather than guess
            raise _RowFailure(row.number, checked.column("name"), _("A value is required."))
        if group.first_row not in companies:
            first = rows_by_number[group.first_row]
            with _row_failures(first, checked, "name"):
                companies[group.first_row], outcome = _write_company(first, group, by, update)
            if job.kind == COMPANIES:
                counts[outcome] += 1
        if job.kind == PROJECTS:
            with _row_failures(row, checked, "project_name", {"name": "project_name"}):
                counts[_write_project(row, companies[group.first_row], by, update)] += 1
        progress.tick()
    return counts[CREATED], counts[UPDATED], counts[SKIPPED]


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
