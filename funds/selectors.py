"""Reads for funds; every read starts from Application.objects.visible_to(user)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from crm.accounts.roles import user_roles

from . import permissions, workflow
from .filters import ApplicationFilter
from .models import COMMITTED_STATES, Application, Disbursement, Programme

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=16, decimal_places=2))


def programme_list(*, user):
    """Programmes with their approved and paid totals (all applications count: budget figures
    are public inside the bureau, whoever can see the individual applications)."""
    if not user_roles(user):
        return Programme.objects.none()
    return Programme.objects.annotate(
        approved_total=Coalesce(Sum("applications__approved_amount",
                                    filter=Q(applications__state__in=COMMITTED_STATES)), ZERO),
    ).annotate(
        paid_total=Coalesce(
            Sum("applications__disbursements__paid_amount",
                filter=Q(applications__disbursements__paid_amount__isnull=False)), ZERO),
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


def application_list(*, user, filters=None):
    queryset = (Application.objects.visible_to(user)
                .select_related("programme", "company", "project", "created_by")
                .order_by("-state_changed_at", "-pk"))
    return ApplicationFilter(filters or {}, queryset=queryset)


def application_get(*, user, pk: int) -> Application:
    return get_object_or_404(
        Application.objects.visible_to(user).select_related(
            "programme", "company", "project", "project__stage", "created_by"),
        pk=pk)


def application_paid_total(application: Application) -> Decimal:
    return (Disbursement.objects.filter(application=application, paid_amount__isnull=False)
            .aggregate(total=Sum("paid_amount"))["total"] or Decimal("0"))


def available_moves(*, user, application: Application) -> list[workflow.Move]:
    """The moves this user may make now: the screen shows exactly these as buttons."""
    return [move for move in workflow.moves_from(application.state)
            if permissions.may_act_as(user, application, move.actor)]
