import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from crm.core.exports import About, build_workbook, title_row_skipped
from crm.core.uploads import validate_upload

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 32


@pytest.mark.parametrize("value", ['=HYPERLINK("x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_formula_like_text_is_a_text_cell_shown_as_typed(value):
    """Formula-like text is stored as text with Excel's quote-prefix flag: never run, and shown
    without the stray apostrophe an earlier version put in the value."""
    sheet = load_workbook(io.BytesIO(build_workbook([("企业", ["名称", "备注"],
                                                        [[value, "ok"]])])))["企业"]
    cell = sheet["A2"]
    assert cell.value == value and cell.data_type == "s" and cell.quotePrefix
    assert sheet["B2"].quotePrefix is False


def test_cells_keep_their_types_and_formats():
    """Dates are Excel dates, money a number with a thousands format, counts plain numbers."""
    rows = [["昆山元宇宙产业园", date(2026, 3, 1), Decimal("12345.60"), 42,
             datetime(2026, 3, 1, 9, 30, tzinfo=timezone.get_current_timezone()), None]]
    data = build_workbook([("清单", ["名称", "日期", "金额（万元）", "个数", "时间", "空"], rows)])
    sheet = load_workbook(io.BytesIO(data))["清单"]
    name, day, money, count, moment, empty = sheet[2]
    assert name.value == "昆山元宇宙产业园" and name.data_type == "s"
    assert day.is_date and day.value == datetime(2026, 3, 1) and day.number_format == "yyyy-mm-dd"
    assert money.data_type == "n" and money.value == 12345.6
    assert money.number_format == "#,##0.00##"
    assert count.value == 42 and count.data_type == "n"
    assert moment.is_date and moment.value == datetime(2026, 3, 1, 9, 30)
    assert empty.value is None


def test_sheets_are_frozen_filterable_and_sized_to_their_content():
    long_name = "昆山市元宇宙产业创新发展示范园区管理委员会"
    data = build_workbook([("清单", ["名称", "数"], [[long_name, 1], ["甲", 2]])])
    sheet = load_workbook(io.BytesIO(data))["清单"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:B3"
    assert sheet.column_dimensions["A"].width >= 2 * len(long_name)
    assert sheet.column_dimensions["B"].width < sheet.column_dimensions["A"].width


def test_the_title_row_says_what_by_whom_when_and_which_filters():
    about = About(title="项目", by="张伟", at=datetime(2026, 12, 4, 1, 30, tzinfo=UTC),
                  filters=[("阶段", "签约、开工"), ("负责人", "张伟")])
    with translation.override("zh-hans"):
        data = build_workbook([("项目", ["名称", "数"], [["甲", 1]])], about)
    sheet = load_workbook(io.BytesIO(data))["项目"]
    title = sheet["A1"].value
    assert title.startswith("项目") and "张伟" in title and "2026-12-04 09:30" in title
    assert "阶段：签约、开工" in title and "负责人：张伟" in title
    assert sheet["A2"].value == "名称" and sheet["A3"].value == "甲"
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref == "A2:B3"


def test_an_importer_skips_our_title_row_and_counts_it():
    def text(cell):
        return "" if cell is None else str(cell)

    rows, header_row = title_row_skipped([["项目 · 张伟"], ["名称", "信用代码"], ["甲", "x"]], text)
    assert header_row == 2 and list(rows) == [["名称", "信用代码"], ["甲", "x"]]
    # A one-column file keeps its first row as the header.
    rows, header_row = title_row_skipped([["名称"], ["甲"]], text)
    assert header_row == 1 and list(rows) == [["名称"], ["甲"]]


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name,content",
    [
        ("agreement.pdf", PDF_BYTES),
        ("photo.png", PNG_BYTES),
        ("list.xlsx", _xlsx_bytes()),
        ("list.csv", "名称,统一社会信用代码\n示例,91110108551385082Q\n".encode()),
    ],
)
def test_matching_uploads_are_accepted(name, content):
    validate_upload(SimpleUploadedFile(name, content))


@pytest.mark.parametrize(
    "name,content,code",
    [
        ("agreement.pdf", b"MZ\x90\x00 an executable renamed", "file_content"),
        ("list.xlsx", PDF_BYTES, "file_content"),
        ("photo.png", PDF_BYTES, "file_content"),
        ("script.exe", b"MZ\x90\x00", "file_type"),
        ("list.csv", b"\x00\x01\x02binary", "file_content"),
    ],
)
def test_mismatched_uploads_are_refused(name, content, code):
    with pytest.raises(ValidationError) as error:
        validate_upload(SimpleUploadedFile(name, content))
    assert error.value.code == code
    assert name.rsplit(".", 1)[-1] in str(error.value)


def test_oversized_upload_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_upload(SimpleUploadedFile("a.pdf", PDF_BYTES * 100), max_size=100)
    assert error.value.code == "file_too_large"
