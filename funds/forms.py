"""Forms for the fund screens. They only parse input: the workflow and money rules live in
services.py, so a page and the API refuse the same things with the same reasons."""

from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.numbers import format_money
from leads.forms import CompanySelect, ProjectChoiceField
from leads.models import Company, Project, Stage

from . import rules, workflow
from .models import MONEY, Programme, Review, State

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MIN_AMOUNT = Decimal("0.01")
# The value of "another document" in the document select; no programme names a document so.
OTHER_DOCUMENT = "__other__"


def _money_field(label, *, required: bool = True, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=required, min_value=MIN_AMOUNT,
                              max_digits=MONEY["max_digits"],
                              decimal_places=MONEY["decimal_places"], **kwargs)


class ProgrammeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.window_start:%Y-%m-%d} – {obj.window_end:%Y-%m-%d}）"


class ApplicationForm(forms.Form):
    programme = ProgrammeChoiceField(label=_("Programme"), queryset=None)
    # Search selects: both querysets stay whole for validation; only the choice is rendered.
    company = forms.ModelChoiceField(label=_("Company"), queryset=None, widget=CompanySelect)
    project = ProjectChoiceField(
        label=_("Investment project"), queryset=None, required=False,
        help_text=_("Optional; it must belong to the company."))
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    requested_amount = _money_field(_("Requested amount (yuan)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The window is checked by the service, which names the dates; an inactive
        # programme is not offered at all.
        self.fields["programme"].queryset = Programme.objects.filter(is_active=True)
        self.fields["company"].queryset = Company.objects.visible_to(user).order_by("name")
        projects = Project.objects.visible_to(user).select_related("company")
        self.fields["project"].queryset = projects.order_by("company__name", "name")
        project_pk = str(self.initial.get("project") or "")
        if project_pk.isdigit() and not self.initial.get("company"):
            # "New application" from a project page: the company follows from the project.
            project = projects.filter(pk=project_pk).first()
            if project is not None:
                self.initial["company"] = project.company_id

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class DocumentForm(forms.Form):
    name = forms.ChoiceField(label=_("Document"))
    other_name = forms.CharField(label=_("Name of the other document"), max_length=100,
                                 required=False,
                                 help_text=_("Only for “Other document”."))
    file = forms.FileField(label=_("File"),
                           help_text=_("PDF, JPG, PNG, DOCX or XLSX; checked by content."))

    def __init__(self, *args, required_documents, missing=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = ([(name, name) for name in required_documents]
                                       + [(OTHER_DOCUMENT, _("Other document"))])
        if missing:
            self.initial.setdefault("name", missing[0])

    def clean(self):
        data = super().clean()
        if data.get("name") == OTHER_DOCUMENT:
            if not data.get("other_name", "").strip():
                self.add_error("other_name", _("Name the document."))
            else:
                data["name"] = data["other_name"].strip()
        return data

    def service_kwargs(self) -> dict:
        return {"name": self.cleaned_data["name"], "file": self.cleaned_data["file"]}


class TransitionForm(forms.Form):
    """Parses every move; for_move() trims it to what one move's button needs."""

    to = forms.ChoiceField(choices=State.choices, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Reason"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("The company will be told."))
    amount = _money_field(_("Approved amount (yuan)"), required=False)
    publicity_start = forms.DateField(label=_("Publicity from"), required=False,
                                      widget=DATE_INPUT)
    publicity_end = forms.DateField(label=_("Publicity until"), required=False,
                                    widget=DATE_INPUT)

    @classmethod
    def for_move(cls, move: workflow.Move, *, application, today: date | None = None,
                 data=None) -> "TransitionForm":
        """The form of one move's button; bound to `data` when it was sent and refused, so
        the page shows it again as typed, the errors under their fields."""
        today = today or timezone.localdate()
        form = cls(data, initial={"to": move.target}, auto_id=f"id_{move.target}_%s")
        keep = {"to"}
        if move.needs_note:
            keep.add("note")
            form.fields["note"].required = True
        if move.needs_amount:
            keep.add("amount")
            form.fields["amount"].required = True
            form.fields["amount"].widget.attrs["max"] = application.requested_amount
            form.fields["amount"].help_text = _("Requested: %(requested)s.") % {
                "requested": format_money(application.requested_amount, unit="yuan")}
            if application.publicity_end:
                form.fields["amount"].help_text += " " + _(
                    "The publicity ends on %(end)s; approve after that day.") % {
                    "end": f"{application.publicity_end:%Y-%m-%d}"}
        if move.asks_publicity:
            keep |= {"publicity_start", "publicity_end"}
            # Propose the shortest window the rules allow; the service checks what is sent.
            start, end = rules.default_publicity(application, today=today)
            form.initial.update(publicity_start=start, publicity_end=end)
            form.fields["publicity_end"].help_text = _(
                "At least %(days)s working days; empty: %(end)s.") % {
                "days": application.programme.publicity_working_days,
                "end": f"{end:%Y-%m-%d}"}
        for name in set(form.fields) - keep:
            del form.fields[name]
        return form

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["note"] = data.get("note") or ""
        return data


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Review.Decision.choices,
                                 widget=forms.RadioSelect)
    score = forms.IntegerField(label=_("Score (0–100)"), required=False, min_value=0,
                               max_value=100)
    opinion = forms.CharField(label=_("Opinion"), widget=forms.Textarea(attrs={"rows": 3}))


class TranchePlanForm(forms.Form):
    amount = _money_field(_("Amount (yuan)"))
    planned_on = forms.DateField(label=_("Planned on"), widget=DATE_INPUT)
    milestone = forms.ModelChoiceField(
        label=_("Paid when the project reaches"), required=False,
        queryset=Stage.objects.filter(is_active=True).exclude(milestone="").order_by("order"),
        help_text=_("Optional: hold the tranche until the project reaches this stage."))

    def __init__(self, *args, with_milestone: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_milestone:  # only an application with a project has stages to wait for
            del self.fields["milestone"]


class TranchePayForm(forms.Form):
    """Sits in a table row beside its tranche, so its inputs are narrow."""

    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(
        attrs={"type": "date", "style": "width:10em"}, format="%Y-%m-%d"))
    amount = _money_field(_("Amount paid (yuan)"), required=False,
                          help_text=_("Empty: the planned amount."))

    def __init__(self, *args, planned=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget.attrs.update({"style": "width:10em",
                                                   "placeholder": planned or ""})


class ClawbackForm(forms.Form):
    amount = _money_field(_("Amount recovered (yuan)"))
    reason = forms.CharField(label=_("Reason"), max_length=200)


# --- Fulfilment on the application page (funds.fulfilment.services) ----------------------------
class BreachOverrideForm(forms.Form):
    """A leader lets one tranche of a project in breach be paid, saying why."""

    reason = forms.CharField(label=_("Reason for the override"), widget=forms.Textarea(
        attrs={"rows": 2, "placeholder": _("Reason for the override")}))


class ClawbackDismissForm(forms.Form):
    note = forms.CharField(label=_("Why it is not recorded"), max_length=200,
                           widget=forms.TextInput(
                               attrs={"placeholder": _("Why it is not recorded")}))
