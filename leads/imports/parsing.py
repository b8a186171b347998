"""Cell parsers and the reference data they look values up in.

Every parser takes the cell as read and its text as `cell_text` gives it, and returns the
value of the model's type or raises CellError with a message for the user. Money is Decimal
(an Excel float goes through its shortest repr, never used as a float), text is held to the
model's own max_length, choices are accepted as codes, labels in every configured language
or the Chinese aliases below.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl.utils.datetime import from_excel

from crm.core.exports import FORMULA_TRIGGERS

from ..models import (
    ChainNode,
    ChainRole,
    Channel,
    Company,
    Contact,
    Industry,
    Project,
    SourceRegion,
    Stage,
)
from ..uscc import normalize_uscc, validate_uscc
from .columns import CellError, header_key

# Money columns: DecimalField(max_digits=14, decimal_places=2) on Company and Project.
_MONEY_MAX = Decimal("999999999999.99")
_CENT = Decimal("0.01")
_INT_MAX = 2_147_483_647  # PositiveIntegerField on PostgreSQL
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
_REGION_CODE = re.compile(r"^\d{6}$")  # GB/T 2260 county-level code
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_BOOL_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "保密"}
_BOOL_FALSE = {"否", "n", "no", "false", "0", "×", "不保密"}


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


def choice_map(choices: type, aliases: dict[str, str]) -> dict[str, str]:
    """Codes, the labels in every configured language, and the Chinese aliases above."""
    mapping = {header_key(value): value for value in choices.values}
    for code, label in choices.choices:
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                mapping.setdefault(header_key(str(label)), code)
    mapping.update({header_key(text): str(code) for text, code in aliases.items()})
    return mapping



# --- Cell parsers -------------------------------------------------------------------------------
# Every parser takes the cell as read and, optionally, its text as `cell_text` gives it: the check
# computes that text once per cell and hands it on, as a 100,000-row file would otherwise clean
# each cell's text four or five times over.
def cell_text(value: Any) -> str:
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


def limited_text(value: Any, max_length: int, text: str | None = None) -> str:
    text = cell_text(value) if text is None else text
    if len(text) > max_length:
        raise CellError(_("At most %(max)d characters; this has %(length)d.")
                        % {"max": max_length, "length": len(text)})
    return text


def model_max_length(model: type, name: str) -> int:
    # The limits of the text columns are the model's own, so the import (which writes in bulk,
    # without full_clean) cannot accept a value the form would refuse.
    return model._meta.get_field(name).max_length


def parse_decimal(value: Any, text: str | None = None) -> Decimal:
    """A non-negative amount with at most two decimals, as Decimal. A float cell from Excel is
    converted through its shortest repr (1234.5, not 1234.499999...), never used as a float."""
    text = cell_text(value) if text is None else text
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
    text = cell_text(value) if text is None else text
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
    text = cell_text(value) if text is None else text
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
    text = cell_text(value) if text is None else text
    key = header_key(text)
    if key in _BOOL_TRUE:
        return True
    if key in _BOOL_FALSE:
        return False
    raise CellError(_("“%(value)s” is not yes or no; write 是 or 否.") % {"value": text})


def parse_uscc(value: Any, text: str | None = None) -> str:
    code = normalize_uscc(cell_text(value) if text is None else text)
    try:
        validate_uscc(code)
    except ValidationError as error:
        raise CellError(error.messages[0])
    return code


# Built once: both validators compile their patterns when constructed.
_validate_url = URLValidator()
_validate_email = EmailValidator()


def parse_url(value: Any, text: str | None = None) -> str:
    shown = cell_text(value) if text is None else text
    text = limited_text(value, _URL_MAX, shown)
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
    text = limited_text(value, _EMAIL_MAX, text)
    try:
        _validate_email(text)
    except ValidationError:
        raise CellError(_("“%(value)s” is not an email address.") % {"value": text})
    return text


def parse_region_code(value: Any, text: str | None = None) -> str:
    text = cell_text(value) if text is None else text
    if not _REGION_CODE.match(text):
        raise CellError(_("A region code has six digits (GB/T 2260), e.g. 110108."))
    return text


_URL_MAX = model_max_length(Company, "website")  # 200
_EMAIL_MAX = model_max_length(Contact, "email")  # 254


def by_text(parse: Callable[[Any], Any]) -> Callable[[Any, str], Any]:
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
            source_regions=choice_map(SourceRegion, _SOURCE_REGION_ALIASES),
            chain_roles=choice_map(ChainRole, _CHAIN_ROLE_ALIASES),
            channels=choice_map(Channel, _CHANNEL_ALIASES),
        )

    @staticmethod
    def industry_code(value: Any) -> str:
        text = unicodedata.normalize("NFKC", cell_text(value)).upper()
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
                            % {"value": cell_text(value)})
        return found

    def chain_node(self, value: Any) -> ChainNode:
        found = self.chain_nodes.get(header_key(cell_text(value)))
        if found is None:
            raise CellError(_("Unknown chain node “%(value)s”.") % {"value": cell_text(value)})
        return found

    def stage(self, value: Any) -> Stage:
        found = self.stages.get(header_key(cell_text(value)))
        if found is None:
            raise CellError(_("Unknown stage “%(value)s”.") % {"value": cell_text(value)})
        if not found.is_active:
            raise CellError(_("The stage “%(stage)s” is no longer in use.")
                            % {"stage": found.name})
        return found

    @staticmethod
    def _choice(mapping: dict[str, str], value: Any) -> str:
        found = mapping.get(header_key(cell_text(value)))
        if found is None:
            raise CellError(_("“%(value)s” is not one of the accepted values.")
                            % {"value": cell_text(value)})
        return found

    def parser(self, key: str) -> Callable[[Any, str], Any]:
        """The parser of a column: called with the cell and its text (see cell_text)."""
        def limited(model: type, name: str) -> Callable[[Any, str], str]:
            limit = model_max_length(model, name)
            return lambda value, text: limited_text(value, limit, text)

        parsers: dict[str, Callable[[Any, str], Any]] = {
            "name": limited(Company, "name"),
            "uscc": parse_uscc,
            "industry": by_text(self.industry),
            "chain_node": by_text(self.chain_node),
            "chain_role": by_text(lambda value: self._choice(self.chain_roles, value)),
            "registered_capital_wan": parse_decimal,
            "hq_region_name": limited(Company, "hq_region_name"),
            "hq_region_code": parse_region_code,
            "source_region": by_text(lambda value: self._choice(self.source_regions, value)),
            "website": parse_url,
            "notes": lambda value, text: text,
            "contact_name": limited(Contact, "name"),
            "contact_title": limited(Contact, "title"),
            "contact_phone": limited(Contact, "phone"),
            "contact_email": parse_email,
            "project_name": limited(Project, "name"),
            "owner": lambda value, text: limited_text(value, 150, text),
            "stage": by_text(self.stage),
            "agreed_investment_wan": parse_decimal,
            "fixed_asset_wan": parse_decimal,
            "funds_arrived_wan": parse_decimal,
            "expected_output_wan": parse_decimal,
            "expected_tax_wan": parse_decimal,
            "expected_jobs": parse_int,
            "channel": by_text(lambda value: self._choice(self.channels, value)),
            "referrer": limited(Project, "referrer"),
            "next_step": limited(Project, "next_step"),
            "next_step_on": parse_date,
            "intended_park": limited(Project, "intended_park"),
            "confidential": by_text(parse_bool),
        }
        return parsers[key]

