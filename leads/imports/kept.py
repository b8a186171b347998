"""The checked rows of a clean dry run, kept next to the upload for its commit.

For 100,000 rows, reading and checking the file cost as much as writing it, so the commit
does not read the file again: the dry run keeps what it derived from the file alone (the
parsed values, the grouping of rows into companies, the file's headers, and the text of the
cells naming reference data) and the commit checks again only what the database may have
changed since (`recheck`: references, duplicates against the stored companies, owners,
stage gates). Without the kept rows, or if the upload changed, the commit reads and checks
the whole file as the dry run did.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import zlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.utils.crypto import salted_hmac

from ..models import ImportJob
from .checking import Checked, Group, Row, check_against_database, parse_cell
from .columns import REFERENCE_KEYS
from .parsing import Lookups

logger = logging.getLogger(__name__)

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


def checked_name(job: ImportJob) -> str:
    return f"{job.file.name}.checked"


def _upload_fingerprint(job: ImportJob) -> dict[str, Any]:
    """Size and SHA-256 of the stored upload: the kept rows are those of exactly this file."""
    digest = hashlib.sha256()
    with job.file.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return {"name": job.file.name, "size": job.file.size, "sha256": digest.hexdigest()}


def keep(job: ImportJob, checked: Checked) -> None:
    """Write the rows of a clean dry run next to the upload, so the commit need not read and
    check the file again (for 100,000 rows, reading and checking cost as much as writing).

    What is kept is what the check derived from the file alone: the parsed values, the
    grouping of rows into companies, the file's headers; and the text of the cells naming
    reference data. What depends on the database (those references, duplicates against the
    stored companies, owners, stage gates) is checked again by the commit (recheck).
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
    storage, name = job.file.storage, checked_name(job)
    try:
        if storage.exists(name):  # a dry run delivered twice: keep one file, the latest
            storage.delete(name)
        saved = storage.save(name, ContentFile(signature + b"\n" + body))
        if saved != name:  # the storage renamed it (a race with a twin run): not ours to use
            storage.delete(saved)
    except OSError:
        logger.warning("import %s: cannot keep the checked rows", job.pk, exc_info=True)


def forget(job: ImportJob) -> None:
    try:
        job.file.storage.delete(checked_name(job))
    except OSError:
        logger.warning("import %s: cannot delete the checked rows", job.pk, exc_info=True)


def load(job: ImportJob) -> dict | None:
    """The rows kept by the dry run of this job's upload as it is now, or None: no file, a
    file altered or of another format, or an upload that changed since (size or SHA-256)."""
    storage, name = job.file.storage, checked_name(job)
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


def recheck(job: ImportJob, kept: dict) -> Checked:
    """The commit's check of kept rows: what checking.check would find again, reading only
    what can have changed since the dry run, the database. The rows' references are looked up
    in the reference tables as they are now, then the duplicates, owners and stage gates
    checked as by checking.check (check_against_database)."""
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
                parse_cell(row, key, parser, text, text, checked, lookups, industry_codes)
        rows.append(row)
    if rows:
        check_against_database(job, checked)
    checked.finish()
    return checked
