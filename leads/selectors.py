"""Reads. Every read starts from Model.objects.visible_to(user), so a list, a detail, an export
and the API cannot disagree about who may see what."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    Prefetch,
    Q,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .filters import CompanyFilter, ProjectFilter
from .models import Company, CompanyChainLink, FollowUp, Project, Stage, StageEvent


def company_list(*, user, filters=None):
    queryset = (
        Company.objects.visible_to(user)
        .select_related("industry")
        .prefetch_related(
            Prefetch("chain_links", queryset=CompanyChainLink.objects.select_related("node"))
        )
        .annotate(project_count=Count("projects", distinct=True))
        .order_by("name", "pk")
    )
    return CompanyFilter(filters or {}, queryset=queryset)


def company_get(*, user, pk: int) -> Company:
    return get_object_or_404(
        Company.objects.visible_to(user).select_related("industry", "created_by"), pk=pk
    )


def company_projects(*, user, company: Company):
    """The company's projects the user may see, and how many others exist (confidential)."""
    visible = list(
        Project.objects.visible_to(user).filter(company=company)
        .select_related("stage", "owner").order_by("-updated_at")
    )
    hidden = Project.objects.filter(company=company).count() - len(visible)
    return visible, hidden


def project_list(*, user, filters=None):
    today = timezone.localdate()
    queryset = (
        Project.objects.visible_to(user)
        .select_related("company", "company__industry", "stage", "owner")
        .annotate(is_overdue=Case(
            When(stage__kind=Stage.Kind.OPEN, next_step_on__lt=today, then=Value(True)),
            default=Value(False), output_field=BooleanField()))
        .order_by("-updated_at", "-pk")
    )
    return ProjectFilter(filters or {}, queryset=queryset)


def project_get(*, user, pk: int) -> Project:
    return get_object_or_404(
        Project.objects.visible_to(user).select_related(
            "company", "company__industry", "stage", "owner", "lost_reason"
        ).prefetch_related("collaborators"),
        pk=pk,
    )


@dataclass
class TimelineEntry:
    at: object
    kind: str  # "stage" or "followup"
    item: object


def project_timeline(*, project: Project) -> list[TimelineEntry]:
    events = StageEvent.objects.filter(project=project).select_related(
        "from_stage", "to_stage", "by", "lost_reason")
    followups = FollowUp.objects.filter(project=project).select_related("created_by") \
        .prefetch_related("our_participants", "issues")
    entries = [TimelineEntry(e.at, "stage", e) for e in events]
    entries += [TimelineEntry(f.date, "followup", f) for f in followups]

    def sort_key(entry):
        moment = entry.at
        return moment.isoformat() if hasattr(moment, "isoformat") else str(moment)

    return sorted(entries, key=lambda e: sort_key(e)[:10] + ("1" if e.kind == "stage" else "0")
                  + sort_key(e), reverse=True)


@dataclass
class KanbanColumn:
    stage: Stage
    count: int
    amount_wan: Decimal
    cards: list


KANBAN_CARDS_PER_COLUMN = 25


def kanban_columns(*, user, filters=None, per_column: int = KANBAN_CARDS_PER_COLUMN):
    """Stages with their count, amount and first cards, in three queries whatever the size:
    the stages, one grouped aggregate, and one windowed query for the top cards per stage."""
    filtered = project_list(user=user, filters=filters).qs
    stages = list(Stage.objects.filter(is_active=True).order_by("order"))
    totals = {
        row["stage"]: row
        for row in filtered.order_by().values("stage").annotate(
            n=Count("pk"), amount=Sum("agreed_investment_wan"))
    }
    ranked = filtered.annotate(
        rank=Window(RowNumber(), partition_by=[F("stage_id")],
                    order_by=[F("updated_at").desc(), F("pk").desc()])
    ).filter(rank__lte=per_column)
    cards: dict[int, list] = {}
    for project in ranked:
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


def followup_list(*, user, filters=None):
    queryset = FollowUp.objects.visible_to(user).select_related("project", "project__company")
    project = (filters or {}).get("project")
    if project:
        queryset = queryset.filter(project_id=project)
    return queryset


def stage_choices():
    return Stage.objects.filter(is_active=True).order_by("order")


def open_stage_q() -> Q:
    return Q(stage__kind=Stage.Kind.OPEN)
