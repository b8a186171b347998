"""Writing the checked rows, inside the commit's one transaction.

Projects go through the same services as the forms (project_create, project_update, ...), as a
project's creation sets more than its own row (the stage event, the team, reminders).
Companies, the bulk of large files, are written a batch at a time with crm.core.bulk (COPY on
PostgreSQL, batched INSERTs elsewhere): the rows and history records the services would write
(`_write_companies` says why and how). Any refusal raises RowFailure, naming the row and
column, and the commit rolls every row back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import RE_HANS
from pypinyin.core import Pinyin

from crm.core.bulk import filter_any, insert, insert_history
from crm.core.exceptions import ConflictError

from ..models import Company, CompanyChainLink, Contact, ImportJob, Project
from ..services import company_create, company_update, contact_add, project_create, project_update
from .checking import Checked, Group, Row
from .columns import (
    COLUMNS_BY_KEY,
    COMPANIES,
    COMPANY_VALUE_KEYS,
    ERROR,
    PROJECT_VALUE_KEYS,
)
from .progress import Progress

logger = logging.getLogger(__name__)

# Rows of a company import written per batch (one COPY per table): large enough that round
# trips and per-statement work vanish (100,000 rows in 50 batches), small enough that a batch
# the database refuses is quick to write again row by row to name the row at fault.
WRITE_BATCH = 2000


class RowFailure(Exception):
    def __init__(self, row: int, column: str, message: str):
        super().__init__(message)
        self.problem = {"row": row, "column": column, "message": message, "level": ERROR}


@contextmanager
def row_failures(row: Row, checked: Checked, default_key: str,
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
            raise RowFailure(row.number, checked.column(key), " ".join(messages))
        raise RowFailure(row.number, checked.column(default_key), " ".join(error.messages))
    except ConflictError as error:
        raise RowFailure(row.number, checked.column(default_key), str(error.message))
    except PermissionDenied as error:  # a write service's own permission check
        raise RowFailure(row.number, checked.column(default_key), str(error))
    except DatabaseError as error:
        logger.info("import row %s refused by the database: %s", row.number, error)
        raise RowFailure(row.number, checked.column(default_key),
                         _("The database refused this row: %(error)s")
                          % {"error": str(error).strip().splitlines()[0]})


CREATED, UPDATED, SKIPPED = "created", "updated", "skipped"


def write(job: ImportJob, checked: Checked, progress: Progress) -> tuple[int, int, int]:
    """Inside the commit's transaction. Companies are written in bulk (_write_companies);
    projects one row after the other through the services, as a project's creation sets more
    than its own row (the stage event, the team, reminders)."""
    for row in checked.rows:
        if row.group is None:  # unreachable after a clean check; refuse rather than guess
            raise RowFailure(row.number, checked.column("name"), _("A value is required."))
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
            with row_failures(first, checked, "name"):
                companies[group.first_row], _outcome = _write_company(first, group, by, update)
        with row_failures(row, checked, "project_name", {"name": "project_name"}):
            counts[_write_project(row, companies[group.first_row], by, update)] += 1
        progress.tick()
    return counts[CREATED], counts[UPDATED], counts[SKIPPED]


def _write_companies(job: ImportJob, checked: Checked,
                     progress: Progress) -> tuple[int, int, int]:
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
                with row_failures(row, checked, "name"):
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
    insert(Company, companies, ids=True)
    insert_history(Company, companies, by, now)
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
    insert(CompanyChainLink, links)
    insert(Contact, contacts, ids=True)
    insert_history(Contact, contacts, by, now)


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
    contact_names = set(filter_any(Contact.objects.values_list("company_id", "name"),
                                   company_id=ids))
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
