"""Spreadsheet exports, the one formatter every download goes through.

Each sheet opens with a title row (what was exported, by whom, when, with which filters), then
the header row, frozen and filterable, then the rows. Cells keep their types: dates are Excel
dates, money and other decimals are numbers with a thousands format, so a reader can sum and
sort them. Text that a spreadsheet would run as a formula (=, +, -, @, and the tab/CR tricks;
OWASP CSV injection) is written as a text cell with Excel's quote-prefix flag: it shows as
typed, without a visible apostrophe, and is never evaluated. Column widths fit their content.
"""

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice

from django.conf import settings
from django.forms import ModelChoiceField
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from crm.core.charts import is_wide

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Two decimals always, up to four when the figure has them (a rate, 12.345678 万元 from 元).
DECIMAL_FORMAT = "#,##0.00##"
WIDTH_SAMPLE_ROWS = 200  # rows measured for the column widths (the rest stream through)
MIN_WIDTH, MAX_WIDTH = 8, 60


@dataclass
class About:
    """What the title row says: the list's name, who exported it, when, with which filters."""

    title: str
    by: str = ""
    at: datetime = field(default_factory=timezone.now)
    filters: Sequence[tuple[str, str]] = ()

    def text(self) -> str:
        parts = [str(self.title)]
        if self.by:
            parts.append(_("exported by %(user)s") % {"user": self.by})
        parts.append(timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M"))
        if self.filters:
            parts.append(_("filters: %(filters)s") % {"filters": "；".join(
                f"{label}：{value}" for label, value in self.filters)})
        else:
            parts.append(_("no filters"))
        return " · ".join(parts)


def _shown(value, form_field) -> str:
    """One filter value as its reader knows it: a record by name, a choice by its label."""
    if hasattr(value, "pk"):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if not isinstance(form_field, ModelChoiceField) and getattr(form_field, "choices", None):
        labels = {}
        for key, label in form_field.choices:
            if isinstance(label, (list, tuple)):  # an optgroup
                labels.update({str(k): v for k, v in label})
            else:
                labels[str(key)] = label
        return str(labels.get(str(value), value))
    return str(value)


def describe_filters(form) -> list[tuple[str, str]]:
    """The filters a bound form (a FilterSet's, a dashboard's) was given, as (label, value)
    pairs in the reader's language: what the title row of an export lists."""
    if form is None or not form.is_bound or not form.is_valid():
        return []
    described = []
    for name, form_field in form.fields.items():
        value = form.cleaned_data.get(name)
        if hasattr(value, "start") and hasattr(value, "stop"):  # django-filter's ranges
            if value.start is None and value.stop is None:
                continue
            shown = "–".join("" if v is None else _shown(v, None)
                             for v in (value.start, value.stop))
        elif isinstance(value, (list, tuple, set)) or hasattr(value, "model"):
            shown = "、".join(_shown(v, form_field) for v in value)
        elif value in (None, ""):
            continue
        else:
            shown = _shown(value, form_field)
        if shown:
            described.append((str(form_field.label or name), shown))
    return described


def about_export(request, title: str, form=None, extra: Sequence[tuple[str, str]] = ()):
    """The About of an export the signed-in user asked for."""
    user = request.user
    by = (user.get_full_name() or user.get_username()) if user.is_authenticated else ""
    return About(title=title, by=by, filters=[*describe_filters(form), *extra])


def formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def export_cell(sheet, value):
    """The cell for one value: typed, formatted, and safe (the module's docstring)."""
    if value is None:
        return WriteOnlyCell(sheet, value=None)
    if isinstance(value, bool):
        return WriteOnlyCell(sheet, value=_("Yes") if value else _("No"))
    if isinstance(value, (int, float, Decimal)):
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, Decimal):
            cell.number_format = DECIMAL_FORMAT
        return cell
    if isinstance(value, datetime):
        # Excel has no time zones: local office time without tzinfo.
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        cell = WriteOnlyCell(sheet, value=local.replace(tzinfo=None))
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    text = str(value)
    cell = WriteOnlyCell(sheet, value=text)
    if formula_like(text):
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        cell.quotePrefix = True  # Excel keeps it text when someone edits the cell
    return cell


def _display_width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    text = str(value)
    # CJK characters take two columns' width.
    return sum(2 if is_wide(char) else 1 for char in text)


def export_limit() -> int:
    return settings.EXPORT_MAX_ROWS


def exceeds_export_limit(queryset) -> bool:
    """More rows than one spreadsheet download should carry? Counted up to the limit only,
    so asking costs what counting the limit costs, not the whole table."""
    limit = export_limit()
    return queryset.order_by()[: limit + 1].count() > limit


# Wider than this (in characters, the columns' widths summed) prints landscape.
PORTRAIT_WIDTH = 95


def _print_on_a4(sheet, headers, header_row: int) -> None:
    """Printed, a sheet fills the width of A4 (landscape when wide), its title and header rows
    repeated on every page, with page numbers: a monthly return goes to the office printer."""
    widths = sum(sheet.column_dimensions[get_column_letter(i + 1)].width or MIN_WIDTH
                 for i in range(len(headers)))
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if widths > PORTRAIT_WIDTH else "portrait"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0  # as many pages as tall
    sheet.print_title_rows = f"1:{header_row}"
    sheet.oddFooter.center.text = "&P / &N"


def build_workbook(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]],
                   about: About | None = None) -> bytes:
    # write_only streams rows to the file as they come: at 20,000 rows it takes a fraction of
    # the time and memory of the editable workbook (issue 8). The first WIDTH_SAMPLE_ROWS are
    # held back to measure the column widths, which must be set before any row is written.
    workbook = Workbook(write_only=True)
    title_font = Font(bold=True, size=12, color="1F2937")
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E8C")
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=str(title)[:31])
        rows = iter(rows)
        sample = list(islice(rows, WIDTH_SAMPLE_ROWS))
        for index, header in enumerate(headers):
            widest = max([_display_width(header) + 2]
                         + [_display_width(row[index]) for row in sample if index < len(row)])
            sheet.column_dimensions[get_column_letter(index + 1)].width = (
                min(MAX_WIDTH, max(MIN_WIDTH, widest + 2)))
        first_row = 1 if about is None else 2  # the header's row
        sheet.freeze_panes = f"A{first_row + 1}"  # before the first row: write-only sheets
        _print_on_a4(sheet, headers, first_row)
        if about is not None:
            title_cell = WriteOnlyCell(sheet, value=about.text())
            title_cell.font = title_font
            sheet.append([title_cell])
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=str(header))
            cell.font, cell.fill = header_font, header_fill
            header_cells.append(cell)
        sheet.append(header_cells)
        count = 0
        for values in chain(sample, rows):
            sheet.append([export_cell(sheet, v) for v in values])
            count += 1
        if headers:
            sheet.auto_filter.ref = (f"A{first_row}:{get_column_letter(len(headers))}"
                                     f"{first_row + count}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, sheets, about: About | None = None) -> HttpResponse:
    response = HttpResponse(build_workbook(sheets, about), content_type=XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
    return response


def title_row_skipped(rows: Iterable[Sequence], cell_text) -> tuple[Iterable[Sequence], int]:
    """For the importers: the rows of a file from its header on, and the header's row number.
    An export of ours opens with a title row (one filled cell, in A, above a header of several
    columns), which is skipped so that an exported list can be edited and imported again."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return iter(()), 1
    filled = [index for index, cell in enumerate(first) if cell_text(cell)]
    if filled == [0]:
        second = next(rows, None)
        if second is not None and sum(1 for cell in second if cell_text(cell)) >= 2:
            return chain([second], rows), 2
        return chain([first] + ([second] if second is not None else []), rows), 1
    return chain([first], rows), 1
