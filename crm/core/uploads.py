"""Upload checks: size first (cheap), then the type from the file's content, not its name.

An attacker or a careless user renaming `virus.exe` to `report.pdf` is refused because the
bytes do not say PDF. Office files are zip containers, so for those the zip is opened and its
manifest checked.
"""

import os
import zipfile

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# extension -> MIME types the content may be detected as
ALLOWED_UPLOADS = {
    "pdf": {"application/pdf"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "png": {"image/png"},
    "xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    "docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    "csv": {"text/csv"},
}
OOXML_MARKERS = {"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def validate_upload(upload, *, allowed: set[str] | None = None, max_size: int | None = None):
    """Raise ValidationError unless `upload` is an allowed type by content and within size."""
    max_size = max_size or settings.MAX_UPLOAD_SIZE
    allowed = allowed or set(ALLOWED_UPLOADS)
    if upload.size > max_size:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(max_size)},
            code="file_too_large",
        )
    extension = os.path.splitext(upload.name)[1].lower().lstrip(".")
    if extension not in allowed:
        raise ValidationError(
            _("Files of type .%(ext)s are not accepted. Allowed: %(allowed)s.")
            % {"ext": extension or "?", "allowed": ", ".join(sorted(allowed))},
            code="file_type",
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if extension == "csv":
        ok = _looks_like_text(head)
    else:
        kind = filetype.guess(head)
        ok = kind is not None and kind.mime in ALLOWED_UPLOADS[extension]
        if not ok and extension in OOXML_MARKERS and head.startswith(b"PK"):
            ok = _zip_contains(upload, OOXML_MARKERS[extension])
    if not ok:
        raise ValidationError(
            _("The content of %(name)s is not a .%(ext)s file.")
            % {"name": upload.name, "ext": extension},
            code="file_content",
        )


def _zip_contains(upload, member: str) -> bool:
    try:
        with zipfile.ZipFile(upload) as archive:
            return member in archive.namelist()
    except zipfile.BadZipFile:
        return False
    finally:
        upload.seek(0)
