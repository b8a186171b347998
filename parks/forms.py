"""Forms for the park-space pages.

People type and read the last day of a period (inclusive); the database and the services keep
half-open periods whose `end` is the first free day. The conversion happens here and only here:
every form has a "last day" field, and `service_kwargs()` hands the services `end`.
"""

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crm.core.forms import DayField
from leads import selectors as leads_selectors
from leads.forms import CompanySelect, ProjectChoiceField
from leads.models import Company

from .models import Assignment, Unit, UnitUse
from .services import RESERVATION_HOLD_DAYS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ONE_DAY = timedelta(days=1)


def end_from_last_day(last_day: date | None) -> date | None:
    """The inclusive last day people type -> the exclusive end the services store."""
    return last_day + ONE_DAY if last_day else None


def last_day_field(*, required: bool = True, help_text=None) -> forms.DateField:
    return forms.DateField(label=_("Last day (inclusive)"), required=required, widget=DATE_INPUT,
                           help_text=help_text)


def _check_period(form: forms.Form, start: date | None, last_day: date | None) -> None:
    if start and last_day and last_day < start:
        form.add_error("last_day", _("The last day cannot be before the start."))


class OnDateForm(forms.Form):
    """`?on=YYYY-MM-DD` (default: `default_on`, today) and, on the report, `?park=`."""

    on = DayField(label=_("On"), required=False)

    def __init__(self, data, *, default_on: date, parks=None, **kwargs):
        data = data.copy()
        if not data.get("on"):
            data["on"] = default_on.isoformat()  # shown in the field, not left blank
        super().__init__(data, **kwargs)
        self.default_on = default_on
        if parks is not None:
            self.fields["park"] = forms.ModelChoiceField(
                label=_("Park"), queryset=parks, required=False, empty_label=_("All parks"))

    def day(self) -> date:
        return self.cleaned_data["on"] if self.is_valid() else self.default_on

    def park(self):
        return self.cleaned_data.get("park") if self.is_valid() else None


class AssignmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Assignment.Kind.choices)
    # Search selects: both querysets stay whole for validation; only the choice is rendered.
    company = forms.ModelChoiceField(label=_("Company"), queryset=None, widget=CompanySelect)
    project = ProjectChoiceField(label=_("Project"), queryset=None, required=False)
    start = forms.DateField(label=_("Start"), widget=DATE_INPUT)
    last_day = last_day_field(required=False, help_text=_("Leave empty only for a sale."))
    area_m2 = forms.DecimalField(label=_("Area (m²)"), max_digits=10, decimal_places=2,
                                 required=False, min_value=0,
                                 help_text=_("Empty: the whole unit."))
    price = forms.DecimalField(
        label=_("Price"), max_digits=12, decimal_places=2, required=False, min_value=0,
        help_text=_("Rent per m² in the unit's rent unit, or the total sale price in yuan."))
    rent_free_last_day = forms.DateField(
        label=_("Rent-free until (inclusive)"), required=False, widget=DATE_INPUT,
        help_text=_("The last day of the fit-out period without rent."))
    hold_until = forms.DateField(
        label=_("Hold until (inclusive)"), required=False, widget=DATE_INPUT,
        help_text=format_lazy(_("Reservations only. Empty: {days} days."),
                              days=RESERVATION_HOLD_DAYS))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # A booking names any company the user may see; the project list is the user's own
        # view of projects (confidential ones stay hidden), each labelled with its company.
        self.fields["company"].queryset = Company.objects.visible_to(user).order_by("name")
        self.fields["project"].queryset = leads_selectors.project_list(user=user).qs

    def clean(self):
        data = super().clean()
        _check_period(self, data.get("start"), data.get("last_day"))
        # Only an empty last day is open-ended: one refused above (before the start, not a
        # date) has left cleaned_data too, and already says what is wrong with it.
        if ("last_day" not in self.errors and not data.get("last_day")
                and data.get("kind") not in (None, Assignment.Kind.SALE)):
            self.add_error("last_day", _("Only a sale may be open-ended."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"], "company": data["company"], "project": data["project"],
            "start": data["start"], "end": end_from_last_day(data["last_day"]),
            "area_m2": data["area_m2"], "price": data["price"],
            "rent_free_until": end_from_last_day(data["rent_free_last_day"]),
            # A hold date means nothing on a lease or a sale: it is not stored there.
            "hold_until": (data["hold_until"] if data["kind"] in Assignment.HOLDING_KINDS
                           else None),
            "note": data["note"],
        }


class EndForm(forms.Form):
    last_day = last_day_field()


class ConvertForm(forms.Form):
    start = forms.DateField(label=_("Lease start"), required=False, widget=DATE_INPUT,
                            help_text=_("Empty: the reservation's start."))
    last_day = last_day_field()
    price = forms.DecimalField(label=_("Price"), max_digits=12, decimal_places=2,
                               required=False, min_value=0)
    rent_free_last_day = forms.DateField(label=_("Rent-free until (inclusive)"), required=False,
                                         widget=DATE_INPUT)

    def clean(self):
        data = super().clean()
        _check_period(self, data.get("start"), data.get("last_day"))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"start": data["start"], "end": end_from_last_day(data["last_day"]),
                "price": data["price"],
                "rent_free_until": end_from_last_day(data["rent_free_last_day"])}


class AvailabilityForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DATE_INPUT)
    last_day = last_day_field(required=False, help_text=_("Empty: open-ended (a sale)."))
    park = forms.ModelChoiceField(label=_("Park"), queryset=None, required=False,
                                  empty_label=_("All parks"))
    use = forms.ChoiceField(label=_("Use"), required=False,
                            choices=[("", _("Any use"))] + UnitUse.choices)
    min_area = forms.DecimalField(label=_("Area from (m²)"), required=False, min_value=0,
                                  max_digits=10, decimal_places=2)
    max_area = forms.DecimalField(label=_("Area up to (m²)"), required=False, min_value=0,
                                  max_digits=10, decimal_places=2)
    max_monthly_rent = forms.DecimalField(label=_("Rent up to (yuan/m²·month)"),
                                          required=False, min_value=0, max_digits=10,
                                          decimal_places=2)
    project = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, parks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["park"].queryset = parks

    def clean(self):
        data = super().clean()
        _check_period(self, data.get("start"), data.get("last_day"))
        low, high = data.get("min_area"), data.get("max_area")
        if low is not None and high is not None and high < low:
            self.add_error("max_area", _("The upper bound is below the lower bound."))
        return data

    def search_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"start": data["start"], "end": end_from_last_day(data["last_day"]),
                "park": data["park"], "use": data["use"], "min_area": data["min_area"],
                "max_area": data["max_area"], "max_monthly_rent": data["max_monthly_rent"]}


class SearchedPeriodForm(forms.Form):
    """The search a unit was opened from (its query string): the unit page says whether the
    unit is free for the searched period and prefills its booking form with it, for the
    searched project if any. The rest of the search only travels back to the results."""

    start = forms.DateField(required=False)
    last_day = forms.DateField(required=False)
    project = forms.IntegerField(required=False, min_value=1)

    def period(self):
        """(start, last_day) when the query names a valid period, else None."""
        if not self.is_valid() or not self.cleaned_data["start"]:
            return None
        start, last_day = self.cleaned_data["start"], self.cleaned_data["last_day"]
        if last_day and last_day < start:
            return None
        return start, last_day


class ReserveForm(forms.Form):
    """The one-click "Reserve" button of a search result (all fields hidden)."""

    unit = forms.IntegerField()
    project = forms.IntegerField()
    start = forms.DateField()
    last_day = forms.DateField()
    back = forms.CharField(required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        start, last_day = data.get("start"), data.get("last_day")
        if start and last_day and last_day < start:
            raise ValidationError(_("The last day cannot be before the start."))
        return data


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["code", "use", "gross_area_m2", "usable_area_m2", "floor_height_m",
                  "floor_load_kn_m2", "list_rent", "rent_unit", "property_fee", "rentable"]

    def _post_clean(self):
        # Validation against the model (constraints, the unique code in the park) is the
        # service's job: unit_update runs full_clean and its errors land on these fields.
        pass
