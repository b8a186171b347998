"""Forms of the fulfilment screens. They parse input only: what may be written, and every
rule about obligations, periods, documents and verdicts, is the services' (services.py), so a
page, the API and the import refuse the same things with the same reasons."""

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.forms import DayField

from ..models import Application, Programme
from .models import WAN, Agreement, Incentive, Metric, Remedy

# The uploads are checked by content in the service (services.EVIDENCE_TYPES); the picker
# only suggests the kinds it will accept.
DOCUMENT_ACCEPT = ".pdf,.jpg,.jpeg,.png,.doc,.docx,.xls,.xlsx"
DOCUMENT_HELP = _("PDF, JPG, PNG, DOC(X) or XLS(X); checked by content.")


def _wan(label, *, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=required, min_value=0,
                              max_digits=WAN["max_digits"],
                              decimal_places=WAN["decimal_places"])


def _upload(label) -> forms.FileField:
    return forms.FileField(label=label, required=False, help_text=DOCUMENT_HELP,
                           widget=forms.FileInput(attrs={"accept": DOCUMENT_ACCEPT}))


class AgreementForm(forms.ModelForm):
    document = _upload(_("Signed document"))

    class Meta:
        model = Agreement
        fields = ["title", "parties", "signed_on", "document", "land_mu", "space_m2",
                  "committed_investment_wan", "fixed_asset_investment_wan", "reporting",
                  "grace_days", "note"]
        field_classes = {"signed_on": DayField}
        # The model's "title" is a contact's job title in Chinese (职务): say what it is here.
        labels = {"title": _("Agreement title")}
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def _post_clean(self):
        # The service validates the model (the API goes through the same checks).
        pass

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        document = data.pop("document", None)
        if document and hasattr(document, "content_type"):  # a new upload, not the stored one
            data["document"] = document
        return data


class ObligationForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    target = _wan(_("Target"))
    due_on = DayField(label=_("Due on"), required=False,
                      help_text=_("Cumulative figures and milestones: the deadline."))
    applies_from = forms.IntegerField(
        label=_("Owed every year from"), required=False, min_value=1990, max_value=2200,
        help_text=_("Yearly figures (output, tax, tax per mu): the first calendar year."))
    evidence = forms.CharField(label=_("Evidence needed"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_obligation_%s")
        super().__init__(*args, **kwargs)
        self.fields["target"].help_text = _("In the metric's unit (CNY 10k, CNY 10k per mu, "
                                            "or people); milestones have none.")


class IncentiveForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Incentive.Kind.choices)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=None, required=False)
    application = forms.ModelChoiceField(
        label=_("Application"), queryset=None, required=False,
        help_text=_("The project's fund application that pays it, once there is one."))
    amount_yuan = forms.DecimalField(label=_("Amount (yuan)"), required=False, min_value=0,
                                     max_digits=16, decimal_places=2)
    rent_free_months = forms.IntegerField(label=_("Rent-free months"), required=False,
                                          min_value=0, max_value=600)
    land_price_yuan_per_mu = forms.DecimalField(label=_("Land price (yuan per mu)"),
                                                required=False, min_value=0, max_digits=16,
                                                decimal_places=2)

    def __init__(self, *args, agreement: Agreement, user, **kwargs):
        kwargs.setdefault("auto_id", "id_incentive_%s")
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = Programme.objects.order_by("-year", "name")
        self.fields["application"].queryset = (
            Application.objects.visible_to(user).filter(project=agreement.project_id)
            .select_related("programme").order_by("-pk"))
        self.fields["application"].label_from_instance = (
            lambda a: f"#{a.pk} {a.title or a.programme.name}")


class RemedyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Remedy.Kind.choices)
    obligation = forms.ModelChoiceField(label=_("On failing"), queryset=None, required=False,
                                        empty_label=_("Any obligation"))
    incentive = forms.ModelChoiceField(label=_("Incentive"), queryset=None, required=False,
                                       empty_label=_("Every incentive"))
    rate = forms.DecimalField(
        label=_("Rate"), required=False, min_value=0, max_digits=6, decimal_places=4,
        help_text=_("Proportional clawback: the share of the shortfall ratio clawed back "
                    "(1 = all of it)."))
    amount_yuan = forms.DecimalField(label=_("Penalty (yuan)"), required=False, min_value=0,
                                     max_digits=16, decimal_places=2)

    def __init__(self, *args, agreement: Agreement, **kwargs):
        kwargs.setdefault("auto_id", "id_remedy_%s")
        super().__init__(*args, **kwargs)
        self.fields["obligation"].queryset = agreement.obligations.order_by("pk")
        self.fields["incentive"].queryset = agreement.incentives.order_by("pk")


def next_period(agreement: Agreement, actuals) -> tuple[date, date]:
    """The period after the last one reported (or the signing year's first): what the team
    most likely reports next."""
    last = max((a.period_end for a in actuals), default=None)
    start = last + timedelta(days=1) if last else date(agreement.signed_on.year, 1, 1)
    if agreement.reporting == Agreement.Reporting.YEAR:
        return date(start.year, 1, 1), date(start.year, 12, 31)
    first_month = 3 * ((start.month - 1) // 3) + 1
    begin = date(start.year, first_month, 1)
    after = date(start.year + 1, 1, 1) if first_month == 10 else date(start.year,
                                                                       first_month + 3, 1)
    return begin, after - timedelta(days=1)


class ActualForm(forms.Form):
    period_start = DayField(label=_("Period from"))
    period_end = DayField(label=_("Period to"))
    investment_wan = _wan(_("Investment made (CNY 10k)"))
    fixed_asset_investment_wan = _wan(_("Of which fixed assets (CNY 10k)"))
    funds_arrived_wan = _wan(_("Funds arrived (CNY 10k)"))
    output_value_wan = _wan(_("Output value (CNY 10k)"))
    tax_wan = _wan(_("Tax paid (CNY 10k)"))
    jobs = forms.IntegerField(label=_("Jobs at period end"), required=False, min_value=0)
    evidence = _upload(_("Evidence"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, agreement: Agreement | None = None, actuals=(), **kwargs):
        kwargs.setdefault("auto_id", "id_actual_%s")
        super().__init__(*args, **kwargs)
        if agreement is not None and not self.is_bound:
            self.initial["period_start"], self.initial["period_end"] = next_period(
                agreement, actuals)

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("evidence"):
            data.pop("evidence", None)
        return data


class AcceptanceDateForm(forms.Form):
    """?on=YYYY-MM-DD: the day the acceptance report is drawn up for (empty: today)."""

    on = DayField(label=_("Acceptance as of"), required=False, widget=forms.DateInput(
        attrs={"type": "date", "style": "width:auto"}, format="%Y-%m-%d"))


class AcceptanceConfirmForm(forms.Form):
    on = DayField(label=_("As of"), widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Why this verdict stands; kept with the confirmation."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_confirm_%s")
        super().__init__(*args, **kwargs)

