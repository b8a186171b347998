"""Thin views: parse the filters, call one selector, render (or export). The home page shows
the dashboard that fits the user's role (registered with the floor in apps.py)."""

import re

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.roles import Role, user_roles
from crm.core.exports import about_export, xlsx_response
from crm.core.permissions import role_required

from . import charts, exports, selectors
from .forms import DashboardFilterForm
from .permissions import LEADERS

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _form(request):
    today = timezone.localdate()
    form = DashboardFilterForm(request.GET or None, user=request.user, today=today)
    return form, form.filters(), today


@role_required(*LEADERS)
def leader(request):
    form, filters, today = _form(request)
    dashboard = selectors.leader_dashboard(user=request.user, filters=filters, today=today)
    return render(request, "dashboards/leader.html", {
        "form": form, "d": dashboard, "charts": charts.leader_charts(dashboard),
        "bars": charts.leader_bars(dashboard), "querystring": filters.querystring(),
    })


@role_required(*LEADERS)
def leader_export(request):
    form, filters, today = _form(request)
    dashboard = selectors.leader_dashboard(user=request.user, filters=filters, today=today)
    fulfilment = selectors.fulfilment_export_block(user=request.user, today=today)
    return xlsx_response("dashboard", exports.dashboard_sheets(dashboard, fulfilment),
                         about_export(request, _("Leader dashboard"), form))


@role_required(*LEADERS)
def fulfilment(request):
    """The leaders' fulfilment figures (履约): a block of the leader dashboard, which loads it
    through htmx once the page is up (its own cached figure set, so the overview's cost and
    queries stay what they were), and a page of its own without JavaScript."""
    block = selectors.fulfilment_block(user=request.user, today=timezone.localdate())
    template = ("dashboards/_fulfilment.html" if getattr(request, "htmx", False)
                else "dashboards/fulfilment.html")
    return render(request, template, {"f": block})


@role_required(*LEADERS)
def monthly_return(request):
    """月报 for ?month=YYYY-MM (default: this month), narrowed by industry and owner."""
    form, filters, today = _form(request)
    match = MONTH.match(request.GET.get("month", ""))
    year, month = (int(match[1]), int(match[2])) if match else (today.year, today.month)
    if not (1 <= month <= 12 and 1990 <= year <= 2100):
        raise Http404(_("No such month."))
    report = selectors.monthly_return(user=request.user, filters=filters, year=year,
                                      month=month)
    return xlsx_response(f"monthly-return-{year}-{month:02d}", exports.monthly_return_sheets(
        report), about_export(request, _("Monthly return %(year)s-%(month)02d")
                              % {"year": year, "month": month}, form))


@role_required(*LEADERS)
def chain(request):
    form, filters, _today = _form(request)
    nodes = selectors.chain_map(user=request.user, filters=filters)
    return render(request, "dashboards/chain.html", {
        "form": form, "nodes": nodes, "querystring": filters.querystring()})


@role_required(Role.INVESTMENT_STAFF)
def staff(request):
    today = timezone.localdate()
    dashboard = selectors.staff_dashboard(user=request.user, today=today)
    return render(request, "dashboards/staff.html", {
        "d": dashboard, "stage_chart": charts.staff_stage_chart(dashboard)})


@role_required(Role.PARK_MANAGER)
def parks(request):
    dashboard = selectors.park_manager_dashboard(user=request.user,
                                                 today=timezone.localdate())
    return render(request, "dashboards/parks.html", {"d": dashboard})


@role_required(Role.FUND_REVIEWER)
def reviews(request):
    return render(request, "dashboards/reviews.html",
                  {"q": selectors.review_queue(user=request.user)})


# The first role that has a dashboard decides the home page.
HOME_BY_ROLE = [
    (Role.LEADER, leader),
    (Role.INVESTMENT_STAFF, staff),
    (Role.PARK_MANAGER, parks),
    (Role.FUND_REVIEWER, reviews),
]


def home(request):
    """The dashboard that fits the user's role, or None (the floor's plain home page)."""
    roles = user_roles(request.user)
    for role, view in HOME_BY_ROLE:
        if role in roles:
            return view(request)
    return None
