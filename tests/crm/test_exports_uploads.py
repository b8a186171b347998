import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from crm.core.exports import build_workbook, safe_cell
from crm.core.uploads import validate_upload

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 32


@pytest.mark.parametrize("value", ['=HYPERLINK("x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_formula_cells_are_neutralised(value):
    assert safe_cell(value) == "'" + value


def test_plain_values_pass_through():
    assert safe_cell("昆山元宇宙产业园") == "昆山元宇宙产业园"
    assert safe_cell(Decimal("-12.50")) == Decimal("-12.50")  # numbers are not formulas
    assert safe_cell(None) == ""


def test_workbook_cells_are_neutralised_in_the_file():
    data = build_workbook([("企业", ["名称", "备注"], [["=cmd|' /C calc'!A0", "ok"]])])
    sheet = load_workbook(io.BytesIO(data))["企业"]
    assert sheet["A1"].value == "名称"
    assert sheet["A2"].value == "'=cmd|' /C calc'!A0"


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
