"""Reads for funds; every read starts from Application.objects.visible_to(user)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from crm.accounts.roles import user_roles
from leads.models import project_readable

from . import permissions, workflow
from .filters import ApplicationFilter
from .models import COMMITTED_STATES, Application, Disbursement, Programme

MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY_FIELD)


def programme_list(*, user):
    """Programmes with their approved and paid totals (all applications count: budget figures
    are public inside the bureau, whoever can see the individual applications)."""
    if not user_roles(user):
        return Programme.objects.none()
    # Two separate subqueries: summing both over one join would count an approval once per
    # tranche.
    approved = (Application.objects.filter(programme=OuterRef("pk"), state__in=COMMITTED_STATES)
                .order_by().values("programme").annotate(total=Sum("approved_amount"))
                .values("total"))
    paid = (Disbursement.objects.filter(application__programme=OuterRef("pk"),
                                        paid_amount__isnull=False)
            .order_by().values("application__programme").annotate(total=Sum("paid_amount"))
            .values("total"))
    return Programme.objects.annotate(
        approved_total=Coalesce(Subquery(approved, output_field=MONEY_FIELD), ZERO),
        paid_total=Coalesce(Subquery(paid, output_field=MONEY_FIELD), ZERO),
    ).order_by("-year", "code")


def programme_get(*, user, pk: int) -> Programme:
    return get_object_or_404(programme_list(user=user), pk=pk)


@dataclass
class ProgrammeFigures:
    budget: Decimal
    approved: Decimal
    paid: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.approved

    @property
    def approved_percent(self) -> Decimal | None:
        if not self.budget:
            return None
        return (self.approved * 100 / self.budget).quantize(Decimal("0.1"))

    @property
    def paid_percent(self) -> Decimal | None:
        if not self.budget:
            return None
        return (self.paid * 100 / self.budget).quantize(Decimal("0.1"))


def programme_figures(programme: Programme) -> ProgrammeFigures:
    """From a programme_list() row (annotated)."""
    return ProgrammeFigures(budget=programme.budget_yuan, approved=programme.approved_total,
                            paid=programme.paid_total)


def application_queryset(*, user):
    """The applications `user` may read, newest change first: the one read path of the list,
    the detail, the API and the dashboards. Reviewers read applications of confidential
    projects, not the projects themselves: `project_readable` lets a page name the project
    only to those who may open it."""
    return (Application.objects.visible_to(user)
            .select_related("programme", "company", "project", "created_by")
            .annotate(project_readable=project_readable(user))
            .order_by("-state_changed_at", "-pk"))


def application_list(*, user, filters=None):
    return ApplicationFilter(filters or {}, queryset=application_queryset(user=user))


def application_get(*, user, pk: int) -> Application:
    return get_object_or_404(
        application_queryset(user=user).select_related("project__stage"), pk=pk)


def application_paid_total(application: Application) -> Decimal:
    return (Disbursement.objects.filter(application=application, paid_amount__isnull=False)
            .aggregate(total=Sum("paid_amount"))["total"] or Decimal("0"))


def available_moves(*, user, application: Application) -> list[workflow.Move]:
    """The moves this user may make now: the screen shows exactly these as buttons."""
    return [move for move in workflow.moves_from(application.state)
            if permissions.may_act_as(user, application, move.actor)]
