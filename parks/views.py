"""Park-space pages: parks, the unit grid of a building, a unit and its bookings, "find space"
(with the one-click reservation of "match space") and the occupancy report.

Views parse input, call a selector or a service, render. Periods are typed and shown by their
last day (inclusive); parks/forms.py converts to the half-open periods the services keep.
"""

import copy
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.charts import Column, column_chart
from crm.core.exceptions import ConflictError
from crm.core.exports import about_export, xlsx_response
from crm.core.numbers import format_number
from crm.core.views_helpers import add_service_error, attempt, error_text, paginate, parse_pk
from leads import selectors as leads_selectors

from . import exports, permissions, selectors, services
from .forms import (
    AssignmentForm,
    AvailabilityForm,
    ConvertForm,
    EndForm,
    OnDateForm,
    ReserveForm,
    SearchedPeriodForm,
    UnitForm,
    end_from_last_day,
)
from .models import Assignment, Unit, UnitStatus

# --- Presentation helpers (no queries) ---------------------------------------------------------
STATUS_BADGES = {UnitStatus.LEASED: "green", UnitStatus.RESERVED: "purple",
                 UnitStatus.VACANT: "blue", UnitStatus.UNRENTABLE: "grey"}
# DOMAIN.md: leases expiring in 30/60/90 days; the list is flagged red and amber by the first two.
EXPIRY_RED_DAYS, EXPIRY_AMBER_DAYS = 30, 60


@dataclass
class Status:
    code: str
    label: str
    badge: str
    count: int = 0
    area: Decimal = Decimal("0")


def _status(code: str) -> Status:
    return Status(code=code, label=UnitStatus(code).label, badge=STATUS_BADGES[code])


def _label_statuses(units) -> None:
    for unit in units:
        unit.status = _status(unit.status_code)


def _grid_counts(floors) -> list[Status]:
    """Units and area per status in a building grid, from the prefetched rows."""
    counts = {code: _status(code) for code in UnitStatus.values}
    for floor in floors:
        _label_statuses(floor.units.all())
        for unit in floor.units.all():
            counts[unit.status_code].count += 1
            counts[unit.status_code].area += unit.gross_area_m2
    return list(counts.values())


def _expiry_rows(leases, on: date) -> list[dict]:
    rows = []
    for lease in leases:
        days_left = (lease.last_day - on).days
        flag = ("red" if days_left <= EXPIRY_RED_DAYS
                else "yellow" if days_left <= EXPIRY_AMBER_DAYS else "")
        rows.append({"lease": lease, "days_left": days_left, "flag": flag})
    return rows


def _a_year_from(start: date) -> date:
    """The last day of a one-year period starting on `start` (from 29 February: 28 February)."""
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:
        return date(start.year + 1, 3, 1) - timedelta(days=1)


def _describe(assignment: Assignment) -> str:
    return f"{assignment.get_kind_display()} #{assignment.pk}"


# The services name their fields by the model (`end` is exclusive); the forms by what people type.
FORM_FIELDS = {"end": "last_day", "rent_free_until": "rent_free_last_day"}


def _show_service_error(form, error: Exception) -> None:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        error = ValidationError({FORM_FIELDS.get(name, name): errors
                                 for name, errors in error.error_dict.items()})
    add_service_error(form, error)


# --- Chart ------------------------------------------------------------------------------------
def trend_chart(trend: list[dict]):
    """The monthly 出租率 at each month end, on a 0–100 % axis, drawn by the shared engine. A
    month with nothing rentable (rate None) gets no column and a "—" label."""
    columns = [Column(
        month=date(*(int(part) for part in point["month"].split("-")), 1),
        value=None if point["rate"] is None else float(point["rate"]),
        label="—" if point["rate"] is None else f"{point['rate']}%",
        tooltip=f"{point['month']} · "
                f"{'—' if point['rate'] is None else str(point['rate']) + '%'} · "
                f"{format_number(point['leased'], 0)} / {format_number(point['rentable'], 0)} m²")
        for point in trend]
    return column_chart(columns, title=_("Occupancy rate at each month end"), axis_suffix="%",
                        axis_max=100, width=900, height=240, chart_id="trend-chart")


# --- Parks ------------------------------------------------------------------------------------
def park_list(request):
    today = timezone.localdate()
    parks = list(selectors.park_list(user=request.user))
    # One report for every park (a grouped query), not one per park.
    report = {row.park_id: row for row in selectors.occupancy_report(user=request.user, on=today)}
    shown = [report[park.pk] for park in parks if park.pk in report]
    return render(request, "parks/park_list.html", {
        "rows": [(park, report.get(park.pk)) for park in parks],
        "total": selectors.occupancy_total(shown),
        "today": today,
    })


def park_detail(request, pk):
    park = selectors.park_get(user=request.user, pk=pk)
    today = timezone.localdate()
    report = selectors.occupancy_report(user=request.user, on=today, park=park)
    parcels = selectors.land_parcels(park=park, on=today)
    _label_statuses(parcels)
    figures = report[0] if report else None
    reported = {b.building_id for b in figures.buildings} if figures else set()
    return render(request, "parks/park_detail.html", {
        "park": park, "today": today,
        "figures": figures,
        # Buildings with no rentable units have no figures but must still be reachable.
        "other_buildings": [b for b in selectors.building_list(park=park)
                            if b.pk not in reported],
        "land_parcels": parcels,
        "expiring_counts": selectors.expiring_counts(user=request.user, on=today, park=park),
        "expiring": _expiry_rows(
            selectors.expiring_leases(user=request.user, on=today, park=park), today),
    })


def building_detail(request, pk):
    building = selectors.building_get(user=request.user, pk=pk)
    today = timezone.localdate()
    date_form = OnDateForm(request.GET, default_on=today)
    on = date_form.day()
    floors = selectors.building_grid(building=building, on=on)
    return render(request, "parks/building_detail.html", {
        "building": building, "park": building.park, "floors": floors, "on": on,
        "today": today, "date_form": date_form, "statuses": _grid_counts(floors),
    })


# --- Units and their assignments ---------------------------------------------------------------
def _render_unit(request, unit: Unit, *, form=None, status: int = 200):
    today = timezone.localdate()
    # Every assignment of a unit belongs to the unit's park: one permission check serves the
    # booking form and every row's actions (can_change_assignment asks the same question).
    can_book = permissions.can_book_unit(request.user, unit)
    history = list(selectors.unit_assignments(user=request.user, unit=unit))
    for assignment in history:
        assignment.rent_free_last_day = (assignment.rent_free_until - timedelta(days=1)
                                         if assignment.rent_free_until else None)
    actions = []
    searched = SearchedPeriodForm(request.GET)
    period = searched.period()
    if can_book:
        initial = {"kind": Assignment.Kind.LEASE, "start": today}
        if period:
            # Opened from a search: book what was searched for (a reservation for a project).
            initial.update(start=period[0], last_day=period[1])
            if searched.cleaned_data["project"]:
                initial.update(kind=Assignment.Kind.RESERVATION,
                               project=searched.cleaned_data["project"])
        form = form or AssignmentForm(user=request.user, initial=initial)
        for assignment in history:
            if assignment.status != Assignment.Status.ACTIVE:
                continue
            # auto_id keeps the element ids unique when several rows carry the same form.
            actions.append({
                "assignment": assignment,
                "holding": assignment.kind in Assignment.HOLDING_KINDS,
                "end_form": EndForm(auto_id=f"end{assignment.pk}_%s",
                                    initial={"last_day": assignment.last_day or today}),
                "convert_form": ConvertForm(auto_id=f"convert{assignment.pk}_%s", initial={
                    "start": assignment.start, "last_day": assignment.last_day}),
            })
    return render(request, "parks/unit_detail.html", {
        "unit": unit, "today": today,
        "status": _status(selectors.unit_status_on(unit=unit, on=today)),
        "history": history, "actions": actions, "can_book": can_book,
        "can_edit": can_book, "form": form if can_book else None,
        "searched": period and {
            "start": period[0], "last_day": period[1], "query": _back(request.GET),
            "free": selectors.unit_free_between(unit=unit, start=period[0],
                                                end=end_from_last_day(period[1]))},
    }, status=status)


def unit_detail(request, pk):
    return _render_unit(request, selectors.unit_get(user=request.user, pk=pk))


def unit_edit(request, pk):
    unit = selectors.unit_get(user=request.user, pk=pk)
    if not permissions.can_manage_park(request.user, unit.park):
        raise PermissionDenied
    form = UnitForm(request.POST or None, instance=unit)
    if request.method == "POST" and form.is_valid():
        try:
            # A copy: a refused update must not leave its values on the unit the page shows.
            saved = services.unit_update(unit=copy.copy(unit), by=request.user,
                                         **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Unit %(unit)s saved.") % {"unit": saved.code})
            return redirect("parks:unit-detail", pk=unit.pk)
    return render(request, "parks/unit_form.html", {"form": form, "unit": unit})


@require_POST
def assignment_create(request, pk):
    unit = selectors.unit_get(user=request.user, pk=pk)
    form = AssignmentForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            assignment = services.assignment_create(unit=unit, by=request.user,
                                                    **form.service_kwargs())
        except (ValidationError, ConflictError) as error:
            _show_service_error(form, error)
        else:
            messages.success(request, _("%(what)s saved: %(start)s to %(last)s.") % {
                "what": _describe(assignment), "start": assignment.start,
                "last": assignment.last_day or "…"})
            return redirect("parks:unit-detail", pk=unit.pk)
    return _render_unit(request, unit, form=form, status=400)


def _assignment_to_change(request, pk) -> Assignment:
    # The services decide who may change it (PermissionDenied is a 403, not a message).
    return selectors.assignment_get(user=request.user, pk=pk)


def _form_error_text(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@require_POST
def assignment_end(request, pk):
    assignment = _assignment_to_change(request, pk)
    form = EndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error_text(form))
    else:
        def success(ended):
            if ended.status == Assignment.Status.TERMINATED:
                return _("%(what)s is cancelled: it would have ended before it began.") % {
                    "what": _describe(ended)}
            return _("%(what)s ends after %(last)s.") % {"what": _describe(ended),
                                                        "last": ended.last_day}

        attempt(request, services.assignment_end, assignment=assignment,
                 last_day=form.cleaned_data["last_day"], success=success)
    return redirect("parks:unit-detail", pk=assignment.unit_id)


@require_POST
def reservation_release(request, pk):
    assignment = _assignment_to_change(request, pk)
    attempt(request, services.reservation_release, assignment=assignment,
             success=lambda released: _("%(what)s released.") % {"what": _describe(released)})
    return redirect("parks:unit-detail", pk=assignment.unit_id)


@require_POST
def reservation_convert(request, pk):
    assignment = _assignment_to_change(request, pk)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error_text(form))
    else:
        attempt(request, services.reservation_convert, assignment=assignment,
                 success=lambda lease: _("%(what)s created from %(old)s: %(start)s to %(last)s.")
                 % {"what": _describe(lease), "old": _describe(assignment),
                    "start": lease.start, "last": lease.last_day},
                 **form.service_kwargs())
    return redirect("parks:unit-detail", pk=assignment.unit_id)


@require_POST
def assignment_terminate(request, pk):
    assignment = _assignment_to_change(request, pk)
    attempt(request, services.assignment_terminate, assignment=assignment,
             success=lambda done: _("%(what)s terminated.") % {"what": _describe(done)})
    return redirect("parks:unit-detail", pk=assignment.unit_id)


# --- Find space / match space ------------------------------------------------------------------
def _search_defaults(today: date, project) -> dict:
    """The search a project's space need asks for; without a project, a year from today. A
    move-in date already past searches from today: space that was free last month is no use,
    and a reservation starting in the past would have its hold run out at once."""
    start = max(project.move_in_on, today) if project and project.move_in_on else today
    data = {"start": start.isoformat(), "last_day": _a_year_from(start).isoformat()}
    if project:
        data.update({"project": str(project.pk), "use": project.space_use,
                     "min_area": str(project.space_min_m2 or ""),
                     "max_area": str(project.space_max_m2 or "")})
    return data


def availability(request):
    today = timezone.localdate()
    project_id = request.GET.get("project", "")
    project_pk = parse_pk(project_id)
    project = (leads_selectors.project_get(user=request.user, pk=project_pk)
               if project_pk is not None else None)
    if "start" in request.GET:
        data = request.GET
    else:
        # First visit (the nav, or "Match space" on a project): search with the defaults,
        # keeping whatever the link already chose (a park, say).
        data = {**_search_defaults(today, project), **request.GET.dict()}
    form = AvailabilityForm(data, parks=selectors.park_list(user=request.user)
                            .prefetch_related(None))
    page = querystring = None
    reservable = False
    if form.is_valid():
        page, querystring = paginate(
            request, selectors.availability_search(user=request.user, **form.search_kwargs()))
        # A reservation needs a last day and a project; only then are buttons offered.
        reservable = bool(project and form.cleaned_data["last_day"])
        allowed = permissions.bookable_park_ids(request.user) if reservable else set()
        for unit in page:
            unit.can_reserve = reservable and (allowed is None or unit.park_id in allowed)
    return render(request, "parks/availability.html", {
        "form": form, "page": page, "querystring": querystring, "project": project,
        "reservable": reservable, "back": _back(data),
        # A result's link carries the search to the unit page (SearchedPeriodForm reads it).
        "unit_query": _back(data) if form.is_valid() else "",
        "hold_days": services.RESERVATION_HOLD_DAYS,
    })


def _back(data) -> str:
    """The search as a query string: for the Reserve buttons to come back to on a clash, and
    for a result's link to the unit page and that page's way back to the search."""
    params = QueryDict(mutable=True)
    for key, value in data.items():
        if key != "page" and value not in (None, ""):
            params[key] = value
    return params.urlencode()


@require_POST
def reserve(request):
    """One click on a search result: reserve the unit for the project with the default hold."""
    back = reverse("parks:availability") + "?" + QueryDict(request.POST.get("back", "")).urlencode()
    form = ReserveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The unit was not reserved: %(errors)s")
                       % {"errors": _form_error_text(form)})
        return redirect(back)
    data = form.cleaned_data
    unit = selectors.unit_get(user=request.user, pk=data["unit"])
    project = leads_selectors.project_get(user=request.user, pk=data["project"])
    try:
        reservation = services.assignment_create(
            unit=unit, company=project.company, project=project,
            kind=Assignment.Kind.RESERVATION, start=data["start"],
            end=end_from_last_day(data["last_day"]), by=request.user)
    except (ValidationError, ConflictError) as error:
        messages.error(request, error_text(error))
        return redirect(back)
    messages.success(request, _("Unit %(unit)s is reserved for “%(project)s” until %(hold)s.")
                     % {"unit": unit.code, "project": project.name,
                        "hold": reservation.hold_until.isoformat()})
    return redirect("parks:unit-detail", pk=unit.pk)


# --- Occupancy ----------------------------------------------------------------------------------
def _occupancy_form(request):
    return OnDateForm(request.GET, default_on=timezone.localdate(),
                      parks=selectors.park_list(user=request.user).prefetch_related(None))


def occupancy(request):
    form = _occupancy_form(request)
    on, park = form.day(), form.park()
    rows = selectors.occupancy_report(user=request.user, on=on, park=park)
    return render(request, "parks/occupancy.html", {
        "form": form, "on": on, "park": park, "rows": rows,
        "total": selectors.occupancy_total(rows),
        "expiring_counts": selectors.expiring_counts(user=request.user, on=on, park=park),
        "expiring": _expiry_rows(selectors.expiring_leases(user=request.user, on=on, park=park),
                                 on),
        "chart": trend_chart(selectors.occupancy_trend(user=request.user, on=on, park=park)),
        "querystring": request.GET.urlencode(),
    })


def occupancy_export(request):
    form = _occupancy_form(request)
    on, park = form.day(), form.park()
    rows = selectors.occupancy_report(user=request.user, on=on, park=park)
    return xlsx_response(f"occupancy-{on:%Y%m%d}",
                         exports.occupancy_sheets(rows, selectors.occupancy_total(rows), on=on),
                         about_export(request, _("Occupancy report"), form))
