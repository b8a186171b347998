"""Reading an uploaded file into rows, within limits no file can push past.

.xlsx is read with python-calamine (Rust), not openpyxl: openpyxl's read-only mode spent some
80 µs of CPU a row just parsing the sheet's XML, most of a 100,000-row dry run; calamine reads
the same file about 15 times faster. Its values are those the parsers already take from
openpyxl, as tests/leads/test_import_bulk.py checks: text as str (a USCC, "0511" and "320583"
keep their digits), numbers as float (an integral float reads as the integer, see cell_text),
date cells as date or datetime, booleans as bool, and "" for an empty cell where openpyxl
gives None. openpyxl still writes the templates and exports.

But calamine holds the whole sheet in memory as a grid from its first cell to its last, and
has no streaming mode: a 1.5 KB file with cells at A1 and XFD1048576 asks for 17 billion
cells (the worker was killed and its job stayed "checking"), A1 and CV300000 for 30 million
(1 GB, 18 s), and a 4 MB file that unpacks to 1.2 GB grew a worker past 6 GB. So calamine
only ever sees a file that has passed, with zipfile and zlib, and in a few MB of memory:

1. `precheck` (at upload, in the request, milliseconds): for a .csv its size and the length
   of its lines; for an .xlsx the zip's directory (number of
   parts, their unpacked size in total, each large part's compression ratio) and the range
   the first sheet declares (`<dimension ref="A1:XFD1048576"/>`, read from the head of the
   sheet's XML, never the whole of it).
2. `check_xlsx` (before calamine, in the dry run): every part unpacked once as a stream,
   counting the bytes it really unpacks to (a part that unpacks to more than the directory
   says is refused as soon as it does), and the first sheet's cells scanned for the last one
   calamine would place. A declared range can lie; the cells cannot.

.csv is read as a stream, line by line through a decoding wrapper, each line at most
`Limits.line_chars` long. The rows themselves (how many, how wide, how long a cell) are
held to the limits as the check reads them (checking.py), for both formats.

Every refusal is a FileRefused whose message names the limit, and the job ends INVALID.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from xml.etree import ElementTree

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from .columns import CellError

# --- Limits -----------------------------------------------------------------------------------
# Defaults of the settings read by Limits.current(); each fits a legitimate file of 100,000
# rows in the widest template with room to spare, and keeps a worker within the import's
# budget of some 500 MB (calamine's grid for 100,001 x 60 cells, plus the checked rows).
MAX_ROWS = 100_000  # IMPORT_MAX_ROWS: rows of data, the header not counted
MAX_COLUMNS = 60  # IMPORT_MAX_COLUMNS: the project template has 31 columns
MAX_CELL_CHARS = 2_000  # IMPORT_MAX_CELL_CHARS: the longest model text field is 200 (notes
#                         are free text: 2,000 is a long page)
# IMPORT_MAX_UNPACKED_BYTES: an upload is at most MAX_UPLOAD_SIZE (20 MB) and a spreadsheet's
# XML compresses some 5 to 10 times (100,000 rows of 31 columns written by openpyxl: 21 MB,
# unpacking to 178 MB), so 256 MB takes any real file the upload limit lets through.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
# IMPORT_MAX_COMPRESSION_RATIO: the sheets above compress 8.4 times; a zip bomb's parts, some
# 1,000 times. Parts under RATIO_FLOOR_BYTES unpacked may compress as well as they like.
MAX_COMPRESSION_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024
# An .xlsx holds a few dozen parts. zipfile keeps an entry (some 400 bytes) per part in
# memory, so a 20 MB file of tiny parts would cost some 200 MB before a byte is unpacked.
MAX_PARTS = 10_000
# What is unpacked from a part at a time, and read from the file to do it.
_CHUNK_OUT = 1024 * 1024
_CHUNK_IN = 256 * 1024
# The head of a sheet in which its <dimension> is looked for (it comes before <sheetData>).
_HEAD_BYTES = 64 * 1024
# The parts read whole to find the first sheet (workbook.xml and its relationships).
_MAX_INDEX_PART_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    rows: int
    columns: int
    cell_chars: int
    unpacked_bytes: int
    compression_ratio: int

    @classmethod
    def current(cls) -> Limits:
        """The limits as configured now (read per file, so a test or a deploy can change
        them without a restart of the code that holds them)."""
        return cls(
            rows=int(getattr(settings, "IMPORT_MAX_ROWS", MAX_ROWS)),
            columns=int(getattr(settings, "IMPORT_MAX_COLUMNS", MAX_COLUMNS)),
            cell_chars=int(getattr(settings, "IMPORT_MAX_CELL_CHARS", MAX_CELL_CHARS)),
            unpacked_bytes=int(getattr(settings, "IMPORT_MAX_UNPACKED_BYTES",
                                       MAX_UNPACKED_BYTES)),
            compression_ratio=int(getattr(settings, "IMPORT_MAX_COMPRESSION_RATIO",
                                          MAX_COMPRESSION_RATIO)),
        )

    @property
    def sheet_rows(self) -> int:
        """The last row a sheet may use: the header and the rows of data."""
        return self.rows + 1

    @property
    def line_chars(self) -> int:
        """The longest line of a .csv within the other limits: every column full, quoted,
        with its separator. (Under csv's own field limit of 131,072 with the defaults.)"""
        return self.columns * (self.cell_chars + 3)

    def size_words(self) -> dict[str, str]:
        return {"columns": _number(self.columns), "rows": _number(self.rows)}


def _number(value: int) -> str:
    return f"{value:,}"


class FileRefused(CellError):
    """The file is beyond a limit (or built to look smaller than it is): nothing of it is
    read further. `row` and `column` name the cell when one cell is at fault."""

    def __init__(self, message: str, *, row: int | None = None, column: str = ""):
        super().__init__(message)
        self.row = row
        self.column = column


def _beyond_range(ref: str, limits: Limits, *, declared: bool) -> FileRefused:
    words = {"range": ref, **limits.size_words()}
    if declared:
        return FileRefused(_("The file declares the range %(range)s, beyond the limit: at most "
                             "%(columns)s columns and %(rows)s rows of data.") % words)
    return FileRefused(_("The sheet has a cell at %(range)s, beyond the limit: at most "
                         "%(columns)s columns and %(rows)s rows of data.") % words)


def _too_large(size: int, limits: Limits, *, packed: bool = True) -> FileRefused:
    words = {"size": filesizeformat(size), "limit": filesizeformat(limits.unpacked_bytes)}
    if packed:
        return FileRefused(_("The file unpacks to %(size)s, beyond the limit of %(limit)s.")
                           % words)
    return FileRefused(_("The file is %(size)s, beyond the limit of %(limit)s.") % words)


# What calamine, zipfile, zlib, ElementTree and csv raise on a damaged or mislabelled file.
UNREADABLE = (OSError, ValueError, KeyError, UnicodeDecodeError, EOFError, csv.Error,
              zipfile.BadZipFile, zlib.error, struct.error, ElementTree.ParseError,
              CalamineError)


def file_extension(job) -> str:
    return os.path.splitext(job.original_name or job.file.name)[1].lower()


# --- Before anything is read ---------------------------------------------------------------------
def precheck(job) -> None:
    """What costs no more than the zip's directory and the head of its first sheet (an
    .xlsx) or a pass over the lines (a .csv): run when the file is uploaded, so a hostile
    file is refused before any worker reads it. Raises FileRefused; a file that cannot be
    read at all is left to the dry run to report."""
    limits = Limits.current()
    extension = file_extension(job)
    if extension == ".csv":
        if job.file.size > limits.unpacked_bytes:
            raise _too_large(job.file.size, limits, packed=False)
        # The length of the lines, decoded but not parsed (some 0.1 s for 20 MB): a file of
        # one endless line is refused here rather than by a worker.
        with job.file.open("rb") as stream, suppress(*UNREADABLE):
            encoding, _lines_count = _csv_encoding(stream)
            text = io.TextIOWrapper(stream, encoding=encoding, newline="")
            try:
                for _line in _lines(text, limits):
                    pass
            finally:
                text.detach()
        return
    if extension != ".xlsx":
        return
    with job.file.open("rb") as stream, suppress(*UNREADABLE):
        archive = _open_zip(stream, limits)
        for info in _sheet_parts(archive, stream):
            _check_dimension(_head(stream, info), limits)


def _declared_parts(stream) -> int:
    """The number of parts the zip's end record declares, read before zipfile reads them
    all into memory (0 if there is no end record: zipfile then says what is wrong)."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    length = min(size, 22 + 65535)  # the end record, and the longest comment after it
    stream.seek(size - length)
    tail = stream.read(length)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return 0
    (parts,) = struct.unpack("<H", tail[at + 10:at + 12])
    locator = tail[at - 20:at] if at >= 20 else b""
    if parts == 0xFFFF and locator[:4] == b"PK\x06\x07":  # ZIP64: the count is elsewhere
        (offset,) = struct.unpack("<Q", locator[8:16])
        stream.seek(offset)
        record = stream.read(56)
        if record[:4] == b"PK\x06\x06":
            (parts,) = struct.unpack("<Q", record[32:40])
    return parts


def _open_zip(stream, limits: Limits) -> zipfile.ZipFile:
    """The zip, once its directory is within the limits: parts, unpacked total, ratios."""
    parts = _declared_parts(stream)
    if parts > MAX_PARTS:
        raise FileRefused(_("The file holds %(parts)s parts, beyond the limit of %(limit)s; a "
                            "spreadsheet holds a few dozen.")
                          % {"parts": _number(parts), "limit": _number(MAX_PARTS)})
    stream.seek(0)
    archive = zipfile.ZipFile(stream)
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    if total > limits.unpacked_bytes:
        raise _too_large(total, limits)
    for info in infos:
        if info.file_size <= RATIO_FLOOR_BYTES:
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.compression_ratio:
            raise FileRefused(_("A part of the file is compressed %(ratio)s times, beyond the "
                                "limit of %(limit)s times: a spreadsheet is never that "
                                "repetitive.")
                              % {"ratio": _number(round(ratio)),
                                 "limit": _number(limits.compression_ratio)})
    return archive


def _inflate(stream, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The bytes a part unpacks to, a chunk at a time, decompressed here rather than by
    zipfile, which stops at the size the directory declares and so cannot see a part that
    unpacks to more: calamine's reader might not stop. Such a part is refused as soon as it
    passes its declared size, so what is unpacked never exceeds the directory's total,
    which _open_zip has held to the limit."""
    if info.flag_bits & 0x1:
        raise FileRefused(_("The file is encrypted; save it again without a password."))
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise FileRefused(_("The file uses a compression that spreadsheets do not use; save it "
                            "again from Excel or WPS."))
    stream.seek(info.header_offset)
    header = stream.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    stream.seek(info.header_offset + 30 + name_length + extra_length)
    remaining = info.compress_size
    produced = 0
    decompressor = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    data = b""
    while True:
        if decompressor is None:
            out, data = data, b""
        else:
            out = decompressor.decompress(data, _CHUNK_OUT)
        if out:
            produced += len(out)
            if produced > info.file_size:
                raise FileRefused(_("The file is damaged: a part of it unpacks to more than the "
                                    "file's own table of contents says."))
            yield out
        if decompressor is not None:
            if decompressor.eof:
                break
            if decompressor.unconsumed_tail or len(out) == _CHUNK_OUT:
                data = decompressor.unconsumed_tail
                continue
        if remaining <= 0:
            break
        data = stream.read(min(_CHUNK_IN, remaining))
        remaining -= len(data)
        if not data:
            break
    if produced != info.file_size:
        raise zipfile.BadZipFile(f"{info.filename!r} is truncated")


def _read_part(stream, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > _MAX_INDEX_PART_BYTES:
        raise zipfile.BadZipFile(f"{info.filename!r} is too large for an index part")
    return b"".join(_inflate(stream, info))


def _sheet_parts(archive: zipfile.ZipFile, stream) -> list[zipfile.ZipInfo]:
    """The parts holding the sheet calamine will read: the workbook's first worksheet, as
    listed in xl/workbook.xml and found through its relationships. If they cannot be followed
    (an unusual layout), every worksheet part, so nothing calamine might read goes unchecked.
    Every entry of a name is returned: a zip may hold two parts of one name."""
    infos = [info for info in archive.infolist() if not info.is_dir()]
    target = _first_worksheet(archive, stream)
    if target is not None:
        found = [info for info in infos if info.filename == target]
        if found:
            return found
    return [info for info in infos
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")]


def _first_worksheet(archive: zipfile.ZipFile, stream) -> str | None:
    book = "xl/workbook.xml"
    rels = "xl/_rels/workbook.xml.rels"
    names = set(archive.namelist())
    if book not in names or rels not in names:
        return None
    # ElementTree's expat (2.4+) refuses entity expansion attacks; the parts are small.
    sheets = ElementTree.fromstring(_read_part(stream, archive.getinfo(book)))
    relations = ElementTree.fromstring(_read_part(stream, archive.getinfo(rels)))
    targets = {
        element.get("Id"): (element.get("Type", ""), element.get("Target", ""))
        for element in relations.iter() if element.tag.endswith("}Relationship")
    }
    for element in sheets.iter():
        if not element.tag.endswith("}sheet"):
            continue
        relation = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
        kind, target = targets.get(relation, ("", ""))
        if kind.endswith("/worksheet") and target:
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target))
    return None


def _head(stream, info: zipfile.ZipInfo) -> bytes:
    """The start of a sheet's XML, up to its data: where <dimension> is."""
    head = b""
    for chunk in _inflate(stream, info):
        head += chunk
        if len(head) >= _HEAD_BYTES or b"sheetData" in head:
            break
    return head[:_HEAD_BYTES]


_DIMENSION = re.compile(rb"""<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*["']([^"']*)["']""")
_CELL_REF = re.compile(r"\$?([A-Za-z]+)\$?(\d+)")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _check_dimension(head: bytes, limits: Limits) -> None:
    found = _DIMENSION.search(head)
    if not found:
        return
    ref = found.group(1).decode("ascii", "replace").strip()
    end = _CELL_REF.fullmatch(ref.split(":")[-1].strip())
    if end is None:
        return  # not a range calamine would use either
    if (_column_number(end.group(1)) > limits.columns
            or int(end.group(2)) > limits.sheet_rows):
        raise _beyond_range(ref.upper(), limits, declared=True)


# --- The whole .xlsx, before calamine ---------------------------------------------------------
def check_xlsx(stream, limits: Limits) -> None:
    """Unpack every part once, as a stream, counting what it really unpacks to, and scan the
    sheet calamine will read for its last cell. Raises FileRefused; leaves `stream` at 0."""
    archive = _open_zip(stream, limits)
    sheets = _sheet_parts(archive, stream)
    for info in sheets:
        _check_dimension(_head(stream, info), limits)
    sheet_ids = {id(info) for info in sheets}
    for info in archive.infolist():
        if info.is_dir():
            continue
        if id(info) not in sheet_ids:
            if info.filename.endswith((".xml", ".rels")):
                # The shared strings, styles ...: calamine reads them whole, so a text of
                # hundreds of MB between two tags is refused here too.
                _scan_extent(_inflate(stream, info), _TextRuns(limits))
            else:  # pictures and the like: counted, not scanned
                for _chunk in _inflate(stream, info):
                    pass
            continue
        try:
            _scan_extent(_inflate(stream, info), _Extent(limits))
        except _CellsWithoutReferences:
            _scan_extent(_inflate(stream, info), _Extent(limits, walk=True))
    stream.seek(0)


def _scan_extent(chunks: Iterator[bytes], scanner: _TextRuns) -> None:
    for chunk in chunks:
        scanner.feed(chunk)
    scanner.feed(b"<")  # the tags still held back


class _CellsWithoutReferences(Exception):
    """The sheet has cells the fast scan cannot place: walk it tag by tag instead."""


def _letters_beyond(last: str) -> bytes:
    """A pattern of the column letters after `last` (more letters, or as many and later),
    in either case: calamine reads r="xfd1" as XFD1."""
    size = len(last)
    choices = [b"[A-Za-z]{%d,}" % (size + 1)]
    for index, letter in enumerate(last):
        if letter != "Z":
            rest = size - index - 1
            after = bytes([ord(letter) + 1])
            choices.append(b"".join(b"[%s%s]" % (c.encode(), c.lower().encode())
                                    for c in last[:index])
                           + b"[%s-Z%s-z]" % (after, after.lower())
                           + (b"[A-Za-z]{%d}" % rest if rest else b""))
    return b"|".join(choices)


_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_R_ATTRIBUTE = re.compile(rb"""(?:^|\s)r\s*=\s*["']([A-Za-z]*)(\d+)["']""")


class _TextRuns:
    """Refuses a run of text (the content between two tags) longer than any cell may hold,
    however the chunks cut it: what follows a chunk's last "<" is held back, and a run is at
    most that long or it would contain a "<"."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.tail = b""
        # Escaped (&amp;), in UTF-8 (3 bytes a character): at most 30 bytes a character.
        self.longest_text = max(1024 * 1024, limits.cell_chars * 30)

    def feed(self, chunk: bytes) -> bytes:
        """The whole tags of the data fed so far, not yet returned."""
        data = self.tail + chunk
        cut = data.rfind(b"<")  # every tag before the last "<" is whole
        if cut < 0:
            cut = len(data)
        self.tail, data = data[cut:], data[:cut]
        if len(self.tail) > self.longest_text:
            raise FileRefused(_("A cell of the sheet holds more than %(limit)s characters, the "
                                "limit per cell.") % {"limit": _number(self.limits.cell_chars)})
        return data


class _Extent(_TextRuns):
    """Finds a cell of the sheet beyond the limits, the way calamine places cells: at the
    reference in its r attribute, else after the previous cell of its row; a cell without
    content (<c r="CV9" s="1"/>, formatting only) is not placed.

    Fast path: every cell of Excel, WPS, LibreOffice and openpyxl files starts `<c r="`, so
    the sheet is searched, in one pass of one pattern, for a cell tag that does not (which
    sends the scan down the slow path) or a reference beyond the limits (which refuses the
    file); a legitimate file has neither, and the pass costs some 0.7 s for 100,000 rows of
    31 columns (178 MB of XML; calamine then takes 5 s). Otherwise (references missing,
    quoted with ', spaced or tags with a namespace prefix) the sheet is walked tag by tag
    from its start (`walk`), tracking the position as calamine would.
    """

    def __init__(self, limits: Limits, *, walk: bool = False):
        super().__init__(limits)
        self.walk = walk
        self.row = 0
        self.column = 0
        letters = _letters_beyond(get_column_letter(limits.columns))
        digits = len(str(limits.sheet_rows))
        # group 1: a reference beyond the limits (group 2: its row, when that is the reason);
        # no group: a cell tag that is not `<c r="`.
        self.suspect = re.compile(
            rb'<c(?:(?! r=")[\s>/]| r="((?:%s)\d|[A-Za-z]{1,3}(\d{%d,})"))' % (letters, digits))

    def feed(self, chunk: bytes) -> bytes:
        data = super().feed(chunk)
        if self.walk:
            self._walk(data)
            return data
        if _PREFIXED_CELL.search(data):
            raise _CellsWithoutReferences
        for found in self.suspect.finditer(data):
            if found.group(1) is None:
                raise _CellsWithoutReferences
            row = found.group(2)
            if row is not None and int(row) <= self.limits.sheet_rows:
                continue
            if not _empty_cell(data, found.start()):
                raise _beyond_range(_reference_at(data, found.start()), self.limits,
                                    declared=False)
        return data

    def _walk(self, data: bytes) -> None:
        for tag in _TAG.finditer(data):
            name, attributes = tag.group(1), tag.group(2)
            reference = _R_ATTRIBUTE.search(attributes)
            if name == b"row":
                self.row = int(reference.group(2)) if reference else self.row + 1
                self.column = 0
                continue
            if reference and reference.group(1):
                self.column = _column_number(reference.group(1).decode())
                self.row = int(reference.group(2))
            else:
                self.column += 1
            if attributes.rstrip().endswith(b"/"):
                continue  # no content: calamine does not place it
            if self.column > self.limits.columns or self.row > self.limits.sheet_rows:
                raise _beyond_range(f"{get_column_letter(min(self.column, 16384))}{self.row}",
                                    self.limits, declared=False)


def _empty_cell(data: bytes, start: int) -> bool:
    end = data.find(b">", start)
    return end > 0 and data[end - 1:end] == b"/"


def _reference_at(data: bytes, start: int) -> str:
    found = _R_ATTRIBUTE.search(data, start, data.find(b">", start))
    return (found.group(1) + found.group(2)).decode().upper() if found else "?"


# --- Rows -----------------------------------------------------------------------------------
@contextmanager
def open_rows(job) -> Iterator[tuple[Iterator[Sequence], int]]:
    """Yield the rows of the file (sequences of cell values, header first) and an estimate of
    their number, once the file has passed the checks above."""
    limits = Limits.current()
    extension = file_extension(job)
    with job.file.open("rb") as stream:
        if extension == ".xlsx":
            check_xlsx(stream, limits)
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
            if job.file.size > limits.unpacked_bytes:
                raise _too_large(job.file.size, limits, packed=False)
            encoding, lines = _csv_encoding(stream)
            text = io.TextIOWrapper(stream, encoding=encoding, newline="")
            try:
                yield csv.reader(_lines(text, limits)), lines - 1
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


def _lines(text: io.TextIOWrapper, limits: Limits) -> Iterator[str]:
    """The lines of a .csv, none longer than the limit: readline() is told where to stop, so
    a file of one endless line is refused after reading that much of it, not all of it."""
    limit = limits.line_chars
    number = 0
    while line := text.readline(limit + 1):
        number += 1
        if len(line) > limit and not line.endswith(("\n", "\r")):
            raise FileRefused(_("Line %(line)s is longer than %(limit)s characters, the limit "
                                "for a row of %(columns)s columns.")
                              % {"line": _number(number), "limit": _number(limit),
                                 "columns": _number(limits.columns)})
        yield line
