"""The check of an import: every row read and checked, nothing written.

Required values, the cells (parsing.py), duplicates inside the file and against the database,
owners and stage gates. Reference data and duplicates are looked up in bulk (a handful of
queries per file, never one per row). The rules are those of the rest of the application, not
copies: who may own a project is leads.models.may_hold_projects, a stage's gates are
leads.services.stage_gate_problems asked about the project the row describes, and the notice
on a company already in the system is leads.services.chasing_text, as the uploader may read it.

Problems are {"row", "column", "message", "level"}: "row" is the spreadsheet row number (the
header is row 1), "column" the header as written in the file, "level" is ERROR (blocks the
import) or NOTICE (a row matching a company already in the system: it will be skipped or
updated, as the user chose, and the notice says who follows it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from crm.core.bulk import filter_any
from crm.core.exports import title_row_skipped

from .. import services
from ..models import Company, ImportJob, Project, Stage, may_hold_projects
from ..uscc import normalize_company_name
from . import reading
from .columns import (
    COLUMNS_BY_KEY,
    COMPANIES,
    ERROR,
    HEADER_INDEX,
    NOTICE,
    PROJECT_VALUE_KEYS,
    PROJECTS,
    REFERENCE_KEYS,
    CellError,
    columns_for,
    header_key,
)
from .parsing import Lookups, cell_text
from .reading import FileRefused, Limits

logger = logging.getLogger(__name__)


@dataclass(slots=True)  # slots: a large file holds 100,000 of them
class Group:
    """One company of the file: a row of a company import, or the rows of a project import
    that name the same company (same USCC or same normalised name)."""

    first_row: int
    uscc: str | None
    name_key: str
    existing: Company | None = None


@dataclass(slots=True)
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
    # The text of each row's cell in the columns that name reference data (REFERENCE_KEYS),
    # aligned with `rows`: kept with the checked rows so the commit can look them up again.
    reference_texts: dict[str, list[str | None]] = field(default_factory=dict)

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

    def refuse(self, refusal: FileRefused) -> None:
        self.problems.append({"row": refusal.row, "column": refusal.column, "level": ERROR,
                              "message": refusal.message, "_pos": -1})

    def finish(self) -> None:
        self.problems.sort(key=lambda p: (p["row"] or 0, p["_pos"], p["level"] != ERROR))
        for problem in self.problems:
            problem.pop("_pos", None)


def check(job: ImportJob, *, progress=None) -> Checked:
    """Read and check the whole file; write nothing. The dry run, and the commit when the
    dry run's rows cannot be used (kept.py): one check, so the commit cannot accept what the
    dry run would refuse. `progress` (progress.Progress) is told of every row."""
    checked = Checked(kind=job.kind)
    lookups = Lookups.load()
    try:
        with reading.open_rows(job) as (rows, estimate):
            if progress:
                progress.total = max(estimate, 0)
            _read(job, rows, checked, lookups, progress)
    except FileRefused as refusal:
        # Nothing of a file beyond a limit is checked further: what was read is dropped, and
        # the refusal is the one problem (the first a user must deal with).
        logger.info("import %s: refused: %s", job.pk, refusal.message)
        checked.rows.clear()
        checked.problems = []
        checked.refuse(refusal)
    except CellError as error:
        checked.add(None, "", error.message)
    except reading.UNREADABLE as error:
        logger.warning("import %s: unreadable file", job.pk, exc_info=True)
        checked.add(None, "", _("The file could not be read as a spreadsheet: %(error)s")
                    % {"error": error})
    if checked.rows:
        check_against_database(job, checked)
    checked.finish()
    return checked


def _read(job: ImportJob, rows: Iterator[Sequence], checked: Checked, lookups: Lookups,
          progress) -> None:
    limits = Limits.current()
    # An export of ours opens with a title row above the header: skipped, and counted.
    rows, header_row = title_row_skipped(rows, cell_text)
    header = next(rows, None)
    if header is not None:
        _hold_to_limits([cell_text(cell) for cell in header], header_row, limits)
    if header is None or not any(cell_text(cell) for cell in header):
        raise CellError(_("The file is empty: the first row must hold the column headers."))

    allowed = {c.key for c in columns_for(job.kind)}
    mapping: list[tuple[int, str]] = []  # (index in the row, column key)
    unnamed: dict[int, str] = {}  # index -> column letter, for columns without a header
    for index, cell in enumerate(header):
        text = cell_text(cell)
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
            checked.problems.append({"row": header_row, "column": text, "level": ERROR,
                                     "_pos": index, "message": message})
            continue
        if key in checked.written:
            checked.problems.append({
                "row": header_row, "column": text, "level": ERROR, "_pos": index,
                "message": _("Column “%(column)s” repeats “%(first)s”.")
                % {"column": text, "first": checked.written[key]},
            })
            continue
        checked.written[key] = text
        checked.positions[key] = index
        mapping.append((index, key))
    for column in columns_for(job.kind):
        if column.required and column.key not in checked.written:
            checked.add(header_row, column.key, _("The required column “%(column)s” is missing.")
                        % {"column": column.header})
    parsers = {key: lookups.parser(key) for _index, key in mapping}
    required = [c.key for c in columns_for(job.kind) if c.required and c.key in checked.written]

    seen_uscc: dict[str, Group] = {}
    seen_name: dict[str, Group] = {}
    seen_projects: dict[tuple[int, str], int] = {}
    reported_unnamed: set[int] = set()
    industry_codes: dict[str, str] = {}  # text -> code, for the notice on a class code
    references = [(index, key, checked.reference_texts.setdefault(key, []))
                  for index, key in mapping if key in REFERENCE_KEYS]
    for number, raw in enumerate(rows, start=header_row + 1):
        texts = [cell_text(cell) for cell in raw]  # once per cell: the parsers take it as it is
        if not any(texts):
            continue  # blank rows are skipped, but still counted in the row numbers
        _hold_to_limits(texts, number, limits, header=checked.written, mapping=mapping)
        if len(checked.rows) >= limits.rows:
            raise FileRefused(_("The file has more than %(rows)s rows of data, the limit.")
                              % {"rows": f"{limits.rows:,}"}, row=number)
        row = Row(number=number, values={})
        values = row.values
        width = len(raw)
        for index, key in mapping:
            text = texts[index] if index < width else ""
            if text:
                parse_cell(row, key, parsers[key], raw[index], text, checked, lookups,
                           industry_codes)
        for index, _key, kept in references:
            kept.append(texts[index] if index < width and texts[index] else None)
        for index in unnamed:
            if index < width and texts[index] and index not in reported_unnamed:
                reported_unnamed.add(index)
                checked.problems.append({
                    "row": number, "column": unnamed[index], "level": ERROR, "_pos": index,
                    "message": _("This column has no header, so its values cannot be imported."),
                })
        for key in required:
            if key not in values and key not in row.bad:
                checked.add(number, key, _("A value is required."))
        name_key = _check_row(values, number, checked)
        if "name" in values:
            _group_row(job, row, checked, seen_uscc, seen_name, seen_projects, name_key)
        checked.rows.append(row)
        if progress:
            progress.tick()


def _hold_to_limits(texts: list[str], number: int, limits: Limits, *,
                    header: dict[str, str] | None = None,
                    mapping: list[tuple[int, str]] | None = None) -> None:
    """A row within the limits on columns and on the length of a cell (a .csv can be as
    wide as its lines allow; an .xlsx was held to the columns before calamine read it)."""
    if len(texts) > limits.columns and any(texts[limits.columns:]):
        raise FileRefused(_("Row %(row)s has %(count)s columns, beyond the limit of %(limit)s "
                            "columns.")
                          % {"row": f"{number:,}", "count": f"{len(texts):,}",
                             "limit": f"{limits.columns:,}"}, row=number)
    if texts and max(map(len, texts)) > limits.cell_chars:
        index, text = next((i, t) for i, t in enumerate(texts) if len(t) > limits.cell_chars)
        names = {i: (header or {}).get(key, "") for i, key in (mapping or [])}
        raise FileRefused(_("This cell holds %(length)s characters, beyond the limit of "
                            "%(limit)s characters per cell.")
                          % {"length": f"{len(text):,}", "limit": f"{limits.cell_chars:,}"},
                          row=number, column=names.get(index) or get_column_letter(index + 1))


def parse_cell(row: Row, key: str, parser: Callable[[Any, str], Any], value: Any, text: str,
               checked: Checked, lookups: Lookups, industry_codes: dict[str, str]) -> None:
    """Parse one non-empty cell into row.values, or report why not."""
    try:
        row.values[key] = parser(value, text)
    except CellError as error:
        checked.add(row.number, key, error.message)
        row.bad.add(key)
        return
    if key == "industry":
        code = industry_codes.get(text)
        if code is None:
            code = industry_codes[text] = lookups.industry_code(value)
        if row.values[key].code != code:
            checked.add(row.number, key,
                        _("Class %(code)s is filed under its group %(group)s.")
                        % {"code": code, "group": row.values[key]},
                        level=NOTICE)


def _check_row(values: dict[str, Any], number: int, checked: Checked) -> str:
    """Checks across the cells of one row that need no database. Returns the normalised name
    (the de-duplication key), computed once here as it is the dearest step of a row."""
    name_key = normalize_company_name(values["name"]) if "name" in values else ""
    if "name" in values and not name_key:
        checked.add(number, "name", _("“%(value)s” is not a company name.")
                    % {"value": values["name"]})
        values.pop("name")
    if "chain_role" in values and "chain_node" not in values:
        checked.add(number, "chain_role", _("Give the chain node this role is on."))
    contact_details = ("contact_title", "contact_phone", "contact_email")
    if any(k in values for k in contact_details) and "contact_name" not in values:
        checked.add(number, "contact_name",
                    _("Give the contact's name for the title, phone or email in this row."))
    return name_key


def _group_row(job: ImportJob, row: Row, checked: Checked, seen_uscc: dict[str, Group],
               seen_name: dict[str, Group], seen_projects: dict[tuple[int, str], int],
               key: str) -> None:
    """Find the company of the row among the earlier rows of the file. In a company import a
    company may appear once; in a project import several projects may name one company.
    `key` is the normalised name of the row's company."""
    values, number = row.values, row.number
    uscc = values.get("uscc")
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


# --- Against the database -----------------------------------------------------------------------
def _chasing_messages(companies: list[Company], reader) -> dict[int, str]:
    """leads.services.duplicate_message() for many companies in a fixed number of queries:
    the company already in the system and who is following it (撞单), the project named only
    if `reader` may see it (a confidential negotiation stays "a project" with its owner)."""
    latest: dict[int, Project] = {}
    open_projects = (Project.objects.open().select_related("owner")
                     .order_by("company_id", "-updated_at", "-pk"))
    for project in filter_any(open_projects, company_id=[c.pk for c in companies]):
        latest.setdefault(project.company_id, project)
    # The uploader's access to those projects, in one query: the rule of every other door.
    visible = set(filter_any(Project.objects.visible_to(reader).values_list("pk", flat=True),
                             pk=[p.pk for p in latest.values()])) if latest else set()
    messages = {}
    for company in companies:
        active = latest.get(company.pk)
        messages[company.pk] = services.chasing_text(
            company, active, reader_sees_project=active is not None and active.pk in visible)
    return messages


def check_against_database(job: ImportJob, checked: Checked) -> None:
    """Duplicates against the companies and projects already stored, owners and stage gates:
    a fixed number of queries for the whole file (on PostgreSQL; see crm.core.bulk)."""
    groups: dict[int, Group] = {}
    for row in checked.rows:
        if row.group is not None:
            groups.setdefault(id(row.group), row.group)
    usccs = {g.uscc for g in groups.values() if g.uscc}
    keys = {g.name_key for g in groups.values()}
    by_uscc: dict[str, Company] = {}
    by_key: dict[str, Company] = {}
    # Only what the messages and the writer need, of companies that may number 100,000.
    stored = Company.objects.only("pk", "name", "uscc", "name_key").order_by()
    for company in filter_any(stored, uscc=usccs, name_key=keys):
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
    chasing = _chasing_messages(list(existing.values()), job.uploaded_by) if existing else {}
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
    by_username: dict[str, Any] = {}
    by_full_name: dict[str, list] = {}
    for user in filter_any(User.objects.filter(is_active=True), username=names,
                           full_name=names):
        by_username[user.username] = user
        if user.full_name:
            by_full_name.setdefault(user.full_name, []).append(user)
    # may_hold_projects() reads a user's roles once (cached on the user): one query per
    # distinct owner named, a handful per file.
    holders: dict[int, bool] = {}

    def may_hold(user) -> bool:
        if user.pk not in holders:
            holders[user.pk] = may_hold_projects(user)
        return holders[user.pk]

    stored: dict[tuple[int, str], Project] = {}
    for project in filter_any(Project.objects.select_related("stage"),
                              company_id=list(companies)):
        stored.setdefault((project.company_id, project.name.strip().casefold()), project)
    on_team = set()
    if update and stored:
        # leads.permissions.is_on_project_team for many projects at once: owner or
        # collaborator of each.
        team = Project.objects.filter(Q(owner=uploader) | Q(collaborators=uploader))
        on_team = set(filter_any(team.values_list("pk", flat=True),
                                 pk=[p.pk for p in stored.values()]))
    default_stage = services.first_stage()
    gates = _Gates(update)

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
            _check_existing_project(row, project, update, on_team, checked, gates)
            continue

        # The owner of a new project: someone who may hold projects, as for one made by hand.
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
            elif not may_hold(owner):
                # The words of project_create's own refusal (leads.services).
                checked.add(number, "owner",
                            _("%(user)s cannot own projects: only active investment staff and "
                              "leaders can.") % {"user": owner})
            row.owner = owner
        elif may_hold(uploader):
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
        by_column, unsettled = gates.problems(row, stage)
        for key, message in by_column:
            checked.add(number, key, message)
        if unsettled:
            checked.add(number, "stage", " ".join([*unsettled, *_why_not_importable(stage)]))


def _check_existing_project(row: Row, project: Project, update: bool, on_team: set,
                            checked: Checked, gates: _Gates) -> None:
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
    # The project stays where it is: of its stage's gates, only those a cell of this row
    # could settle are the row's business (what is stored, the document or the USCC, was
    # the business of the move that brought it there).
    by_column, _unsettled = gates.problems(row, project.stage, stored=project)
    for key, message in by_column:
        checked.add(number, key, message)


def _why_not_importable(stage: Stage) -> list[str]:
    """The import's own explanation of a gate no cell can settle (stage_gate_problems says
    which gate; this says why a spreadsheet cannot get past it)."""
    reasons = []
    if stage.requires_agreement:
        reasons.append(_("A spreadsheet cannot carry the signed agreement document: import the "
                         "project at an earlier stage and move it on, with the document, on its "
                         "page."))
    if stage.kind == Stage.Kind.LOST:
        reasons.append(_("A spreadsheet cannot give the reason a project was lost: import it at "
                         "an open stage and mark it lost on its page."))
    return reasons


def _probe_value(key: str) -> Any:
    """A value of the column's field type that counts as given (see _Gates)."""
    return {
        "DecimalField": Decimal("1"),
        "DateField": date(2000, 1, 1),
        "BooleanField": True,
        "PositiveIntegerField": 1,
        "IntegerField": 1,
    }.get(Project._meta.get_field(key).get_internal_type(), "…")


_PROBES = {key: _probe_value(key) for key in PROJECT_VALUE_KEYS}


class _Gates:
    """leads.services.stage_gate_problems() asked about the project a row describes, at the
    stage it starts at (or stays at), each problem placed in the column whose cell would
    settle it.

    The gate function returns sentences, not fields, and must stay the one place that knows
    the gates. So the import asks it again: with every project cell the row leaves empty
    filled in (the problems still there no cell can settle: the document, the USCC, a lost
    reason), then with each of those cells back to empty (the problems that return are that
    cell's). Only rows with a problem are asked more than once, and the answer is remembered
    per (stage, problems, empty cells), so a file of many alike rows asks a few times.
    A cell the parser refused counts as given: its own error already says what is wrong.
    """

    def __init__(self, update: bool):
        self.update = update
        self.memo: dict[tuple, tuple[list[tuple[str, str]], list[str]]] = {}

    def problems(self, row: Row, stage: Stage, *, stored: Project | None = None
                 ) -> tuple[list[tuple[str, str]], list[str]]:
        values = row.values
        given = {key: getattr(stored, key) for key in PROJECT_VALUE_KEYS} if stored else {}
        given.update({key: values[key] for key in PROJECT_VALUE_KEYS if key in values})
        given.update({key: _PROBES[key] for key in row.bad if key in _PROBES})
        company = self._company(row)
        agreement = stored.agreement.name if stored else ""

        def ask(fields: dict[str, Any]) -> list[str]:
            project = Project(company=company, name=values.get("project_name", ""),
                              agreement=agreement, **fields)
            return services.stage_gate_problems(project, stage)

        found = ask(given)
        if not found:
            return [], []
        empty = tuple(key for key in PROJECT_VALUE_KEYS if key not in values
                      and key not in row.bad)
        memo_key = (stage.pk, tuple(found), empty, stored is not None)
        if memo_key in self.memo:
            return self.memo[memo_key]
        filled = {**given, **{key: _PROBES[key] for key in empty}}
        left = set(ask(filled))
        by_column = []
        for key in empty:
            without = {k: v for k, v in filled.items() if k != key}
            if key in given:
                without[key] = given[key]
            returned = set(ask(without)) - left
            by_column += [(key, problem) for problem in found if problem in returned]
        settled = {problem for _key, problem in by_column}
        unsettled = [problem for problem in found if problem in left or problem not in settled]
        self.memo[memo_key] = (by_column, unsettled)
        return by_column, unsettled

    def _company(self, row: Row) -> Company:
        """The company as the commit will leave it: the one in the system (with the file's
        USCC if the row updates it), or the one the row creates."""
        group = row.group
        existing = group.existing
        if existing is None:
            return Company(name=row.values.get("name", ""), uscc=group.uscc)
        if self.update and group.uscc and group.uscc != existing.uscc:
            return Company(pk=existing.pk, name=existing.name, uscc=group.uscc)
        return existing
