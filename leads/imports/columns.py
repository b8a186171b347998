"""The columns an import accepts: each with its template header (Chinese), the other
spellings read as the same column (Chinese and English), its description for the template's
guide, and the keys that group them (company values, project values, reference data)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from ..models import ImportJob

ERROR = "error"  # a problem that blocks the import
NOTICE = "notice"  # what the import will do with a row matching a company in the system


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



COMPANY_VALUE_KEYS = ("industry", "registered_capital_wan", "hq_region_code", "hq_region_name",
                      "source_region", "website", "notes")
PROJECT_VALUE_KEYS = ("agreed_investment_wan", "fixed_asset_wan", "funds_arrived_wan",
                      "expected_output_wan", "expected_tax_wan", "expected_jobs", "channel",
                      "referrer", "next_step", "next_step_on", "intended_park", "confidential")
# Columns whose values are rows of reference tables: the commit looks their text up again, as
# a stage may have been retired or an industry code removed since the dry run. Every other
# value depends on the file alone and is kept as the dry run parsed it (see kept.py).
REFERENCE_KEYS = frozenset({"industry", "chain_node", "stage"})
