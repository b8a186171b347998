"""Reads. Every read starts from Model.objects.visible_to(user), so a list, a detail, an export
and the API cannot disagree about who may see what."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Count,
    OuterRef,
    Prefetch,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from crm.core.figures import cached_figures

from .filters import CompanyFilter, ProjectFilter
from .models import (
    Company,
    CompanyChainLink,
    FollowUp,
    Project,
    Stage,
    StageEvent,
    TeamChange,
    overdue_q,
)


def company_queryset(*, user):
    """The companies `user` may read, with what every list of them shows, in the list's
    order: the one read path of the company list, its export, the API and the lookups."""
    return (
        Company.objects.visible_to(user)
        .select_related("industry")
        .prefetch_related(
            Prefetch("chain_links", queryset=CompanyChainLink.objects.select_related("node"))
        )
        .order_by("name", "pk")
    )


def company_list(*, user, filters=None):
    queryset = company_queryset(user=user).annotate(
        # A correlated count for the 25 rows shown, not a join and GROUP BY over every match:
        # the grouped join also made the page's total count join all 200k projects.
        project_count=Coalesce(Subquery(
            Project.objects.filter(company=OuterRef("pk")).order_by().values("company")
            .annotate(n=Count("pk")).values("n")[:1]), 0))
    return CompanyFilter(filters or {}, queryset=queryset)


def company_get(*, user, pk: int) -> Company:
    return get_object_or_404(company_queryset(user=user).select_related("created_by"), pk=pk)


def company_projects(*, user, company: Company):
    """The company's projects the user may see, and how many others exist (confidential)."""
    visible = list(project_queryset(user=user).filter(company=company))
    hidden = Project.objects.filter(company=company).count() - len(visible)
    return visible, hidden


@dataclass
class CompanyPage:
    company: Company
    projects: list
    hidden_count: int  # projects the reader may not open: counted, never named
    chain_links: list
    contacts: list
    qualifications: list
    tags: list


def company_page(*, user, pk: int) -> CompanyPage:
    """Everything the company page shows, read through the access rules."""
    company = company_get(user=user, pk=pk)
    projects, hidden = company_projects(user=user, company=company)
    return CompanyPage(
        company=company, projects=projects, hidden_count=hidden,
        chain_links=list(company.chain_links.select_related("node")),
        contacts=list(company.contacts.all()), qualifications=list(company.qualifications.all()),
        tags=list(company.tags.all()))


def followup_queryset(*, user):
    """The follow-ups of the projects `user` may read, latest first."""
    return (FollowUp.objects.visible_to(user)
            .prefetch_related("our_participants", "issues").order_by("-date", "-pk"))


def project_queryset(*, user):
    """The projects `user` may read, with what every list of them shows, newest change first:
    the one read path of the project list, its export, the board, the API and the lookups."""
    return (Project.objects.visible_to(user)
            .select_related("company", "company__industry", "stage", "owner")
            .order_by("-updated_at", "-pk"))


def project_list(*, user, filters=None):
    today = timezone.localdate()
    queryset = (
        project_queryset(user=user)
        # The rule of the list's `overdue` filter and the dashboards' flag; counting the list
        # drops the unused annotation, so the count needs no join for it.
        .annotate(is_overdue=Case(When(overdue_q(today), then=Value(True)),
                                  default=Value(False), output_field=BooleanField()))
        .order_by("-updated_at", "-pk")
    )
    return ProjectFilter(filters or {}, queryset=queryset)


def project_get(*, user, pk: int) -> Project:
    return get_object_or_404(
        project_queryset(user=user).select_related("lost_reason", "unit", "team")
        .prefetch_related("collaborators"), pk=pk)


@dataclass
class TimelineEntry:
    at: object
    kind: str  # "stage", "team" or "followup"
    item: object


def project_timeline(*, project: Project) -> list[TimelineEntry]:
    """Newest first. A follow-up has a day, not a time: on its day it sorts below the moves
    and team changes of that day (they are usually what the visit led to)."""
    events = StageEvent.objects.filter(project=project).select_related(
        "from_stage", "to_stage", "by", "lost_reason")
    changes = TeamChange.objects.filter(project=project).select_related(
        "by", "old_owner", "new_owner")
    followups = FollowUp.objects.filter(project=project).select_related("created_by") \
        .prefetch_related("our_participants", "issues")
    entries = [TimelineEntry(e.at, "stage", e) for e in events]
    entries += [TimelineEntry(c.at, "team", c) for c in changes]
    entries += [TimelineEntry(f.date, "followup", f) for f in followups]

    def sort_key(entry):
        moment = entry.at
        text = moment.isoformat() if hasattr(moment, "isoformat") else str(moment)
        if isinstance(moment, datetime):
            text = timezone.localtime(moment).isoformat()
        return text[:10] + ("0" if entry.kind == "followup" else "1") + text

    return sorted(entries, key=sort_key, reverse=True)


@dataclass
class KanbanColumn:
    stage: Stage
    count: int
    amount_wan: Decimal
    cards: list


KANBAN_CARDS_PER_COLUMN = 25


def kanban_columns(*, user, filters=None, per_column: int = KANBAN_CARDS_PER_COLUMN):
    """Stages with their count, amount and first cards, in four queries whatever the size:
    the stages, one grouped aggregate, the ids of the top cards of every stage, the cards.

    The cards are a UNION ALL of one "LIMIT per_column" branch per stage, each walking the
    (stage, -updated_at) index and stopping after its cards. A row_number() window over the
    whole list, as before, numbered all 200k projects to keep 300 (1.06 s, issue 8)."""
    filtered = project_list(user=user, filters=filters).qs
    stages = list(Stage.objects.filter(is_active=True).order_by("order"))
    # The column totals read every matching project (140 ms at 200k): cached like the
    # dashboards' figures, until a write to what they count (crm/core/figures.py).
    params = filters.lists() if hasattr(filters, "lists") else (filters or {}).items()
    totals = cached_figures(
        "board-totals", user=user, params=dict(params), reads=("leads",),
        compute=lambda: {row["stage"]: row for row in filtered.order_by().values("stage")
                         .annotate(n=Count("pk"), amount=Sum("agreed_investment_wan"))})
    # The branches select ids only: planning fourteen copies of the cards' joins cost more
    # (30 ms) than running them. Stages with no project under these filters need no branch.
    branches = [filtered.filter(stage=stage).values_list("pk", flat=True)[:per_column]
                for stage in stages if totals.get(stage.pk, {}).get("n")]
    cards: dict[int, list] = {}
    if branches:
        if connections[filtered.db].features.supports_slicing_ordering_in_compound:
            ids = branches[0].union(*branches[1:], all=True) if len(branches) > 1 \
                else branches[0]
        else:  # SQLite (the demo) has no LIMIT inside a UNION: one query per column
            ids = [pk for branch in branches for pk in branch]
        for project in (Project.objects.filter(pk__in=list(ids))
                        .select_related("company", "owner").order_by("-updated_at", "-pk")):
            cards.setdefault(project.stage_id, []).append(project)
    return [
        KanbanColumn(
            stage=stage,
            count=totals.get(stage.pk, {}).get("n", 0),
            amount_wan=totals.get(stage.pk, {}).get("amount") or Decimal("0"),
            cards=cards.get(stage.pk, []),
        )
        for stage in stages
    ]


def kanban_column_page(*, user, stage: Stage, filters=None, offset: int = 0,
                       limit: int = KANBAN_CARDS_PER_COLUMN):
    """The next cards of one column ("load more")."""
    return list(project_list(user=user, filters=filters).qs.filter(stage=stage)
                [offset:offset + limit])
