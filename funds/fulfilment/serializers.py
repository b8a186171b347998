"""Serializers of the fulfilment API: agreements with their obligations, obligations, actuals,
the acceptance report and the leaders' figures. Investment figures are 万元 and fund money 元,
as on the models; the API names drop the unit suffix (`committed_investment`, as the project's
`agreed_investment`) and the help texts say it. Writes go through the services, which decide
and answer with the field to correct."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as DRFValidationError

from crm.core.dates import EARLIEST_DAY, LATEST_DAY
from leads.models import Project

from .models import Acceptance, Actual, Agreement, Metric, Obligation, Remedy, Status

WAN = {"max_digits": 14, "decimal_places": 2}
YUAN = {"max_digits": 16, "decimal_places": 2}
AMOUNT = {"max_digits": 24, "decimal_places": 2}
RATE = {"max_digits": 24, "decimal_places": 1, "allow_null": True}


class DayField(serializers.DateField):
    """A date within the product's bounds (crm.core.dates): the rules add grace periods and
    year ends to these, which would overflow near date.max."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise serializers.ValidationError(
                _("Enter a date between %(first)s and %(last)s.") % {
                    "first": EARLIEST_DAY.isoformat(), "last": LATEST_DAY.isoformat()})
        return day


def service_errors(serializer, call):
    """Run a service call; a ValidationError it raises comes back as a 400 that names the
    API's field (`committed_investment`), not the model's (`committed_investment_wan`)."""
    try:
        return call()
    except DjangoValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        names = {field.source: name for name, field in serializer.fields.items()}
        names[NON_FIELD_ERRORS] = "non_field_errors"
        raise DRFValidationError({names.get(key, key): messages
                                  for key, messages in error.message_dict.items()}) from error


# --- Agreements and obligations -----------------------------------------------------------------
class ObligationSerializer(serializers.ModelSerializer):
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.none())
    due_on = DayField(required=False, allow_null=True,
                      help_text="Cumulative figures and milestones: the deadline.")
    applies_from = serializers.IntegerField(
        required=False, allow_null=True, min_value=EARLIEST_DAY.year, max_value=LATEST_DAY.year,
        help_text="Yearly figures (output, tax, tax per mu): the first calendar year owed.")
    target = serializers.DecimalField(
        **WAN, required=False, allow_null=True,
        help_text="In the metric's unit (万元, 万元 per mu, jobs); milestones have none.")

    class Meta:
        model = Obligation
        fields = ["id", "agreement", "metric", "target", "due_on", "applies_from", "evidence",
                  "status", "actual", "checked_on", "breached_on"]
        read_only_fields = ["status", "actual", "checked_on", "breached_on"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["agreement"].queryset = Agreement.objects.visible_to(request.user)
        return fields


class AgreementSerializer(serializers.ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(
        queryset=Project.objects.none(),
        help_text="A signed project of the caller's team. Set on creation only.")
    signed_on = DayField()
    committed_investment = serializers.DecimalField(
        source="committed_investment_wan", **WAN, min_value=0,
        help_text="Committed total investment, 万元 (CNY 10k).")
    fixed_asset_investment = serializers.DecimalField(
        source="fixed_asset_investment_wan", **WAN, min_value=0, required=False,
        allow_null=True, help_text="Committed fixed-asset investment, 万元; part of the total.")
    land_mu = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0,
                                       required=False, allow_null=True, help_text="亩 (mu)")
    space_m2 = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0,
                                        required=False, allow_null=True, help_text="m²")
    obligations = ObligationSerializer(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = ["id", "project", "title", "parties", "signed_on", "land_mu", "space_m2",
                  "committed_investment", "fixed_asset_investment", "reporting", "grace_days",
                  "note", "obligations", "created_by", "created_at", "updated_at"]
        read_only_fields = ["created_by", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            # A project outside the caller's reach does not exist for them.
            fields["project"].queryset = Project.objects.visible_to(request.user)
        return fields

    def validate(self, attrs):
        if self.instance is not None:
            attrs.pop("project", None)
        return attrs


class ActualSerializer(serializers.ModelSerializer):
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.none())
    period_start = DayField()
    period_end = DayField(help_text="A calendar year, or a calendar quarter where the "
                                    "agreement reports quarterly.")
    investment = serializers.DecimalField(source="investment_wan", **WAN, min_value=0,
                                          required=False, help_text="Investment made, 万元.")
    fixed_asset_investment = serializers.DecimalField(
        source="fixed_asset_investment_wan", **WAN, min_value=0, required=False,
        help_text="Of which fixed assets, 万元.")
    funds_arrived = serializers.DecimalField(source="funds_arrived_wan", **WAN, min_value=0,
                                             required=False, help_text="资金到位, 万元.")
    output_value = serializers.DecimalField(source="output_value_wan", **WAN, min_value=0,
                                            required=False, help_text="万元")
    tax = serializers.DecimalField(source="tax_wan", **WAN, min_value=0, required=False,
                                   help_text="Tax paid, 万元.")

    class Meta:
        model = Actual
        fields = ["id", "agreement", "period_start", "period_end", "investment",
                  "fixed_asset_investment", "funds_arrived", "output_value", "tax", "jobs",
                  "note", "recorded_by", "recorded_at"]
        read_only_fields = ["recorded_by", "recorded_at"]
        # One report per period is the service's check (400 on period_start), not DRF's.
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["agreement"].queryset = Agreement.objects.visible_to(request.user)
        return fields


# --- Acceptance ---------------------------------------------------------------------------------
# The obligation's status and the verdict are plain strings here: as enums they would be a
# second component with a field "status" (the obligation's) and a second name for the pass/fail
# choices (funds' review decision), each a drf-spectacular naming warning.
STATUS_HELP = ("The obligation's status on that day: " + ", ".join(Status.values) + ".")
VERDICT_HELP = "pass (every obligation due by then is met) or fail"

class AcceptanceInputSerializer(serializers.Serializer):
    on = DayField(help_text="The day the acceptance is judged on.")
    confirm = serializers.BooleanField(
        default=False, help_text="A leader confirms the verdict for this day (with a note).")
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text="Why the verdict is confirmed (needed to confirm).")


class AcceptanceRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The obligation.")
    metric = serializers.ChoiceField(choices=Metric.choices)
    target = serializers.DecimalField(**WAN, allow_null=True)
    actual = serializers.DecimalField(**WAN, allow_null=True)
    shortfall = serializers.DecimalField(**WAN)
    shortfall_ratio = serializers.DecimalField(max_digits=6, decimal_places=4,
                                               help_text="Shortfall ÷ target, 0 to 1.")
    status = serializers.CharField(help_text=STATUS_HELP)
    due = serializers.BooleanField(help_text="Its date has come: it counts in the verdict.")
    due_on = serializers.DateField(allow_null=True,
                                   help_text="The date the status is judged against.")
    year = serializers.IntegerField(allow_null=True, help_text="Yearly figures: the year judged.")
    met_on = serializers.DateField(allow_null=True, help_text="Milestones: the day reached.")


class AcceptanceRemedySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The remedy clause.")
    kind = serializers.ChoiceField(choices=Remedy.Kind.choices)
    obligation = serializers.IntegerField(allow_null=True,
                                          help_text="The obligation it follows; null: any.")
    incentive = serializers.IntegerField(allow_null=True,
                                         help_text="The incentive it touches; null: all.")
    triggered = serializers.BooleanField()
    due_back = serializers.DecimalField(**YUAN, help_text="Money due back, 元.")
    withheld = serializers.DecimalField(**YUAN, help_text="Unpaid incentives withheld, 元.")
    explanation = serializers.CharField(allow_blank=True)


class AcceptanceRecordSerializer(serializers.ModelSerializer):
    verdict = serializers.CharField(read_only=True, help_text=VERDICT_HELP)
    due_back = serializers.DecimalField(source="due_back_yuan", **YUAN, read_only=True)
    withheld = serializers.DecimalField(source="withheld_yuan", **YUAN, read_only=True)

    class Meta:
        model = Acceptance
        fields = ["id", "on", "verdict", "due_back", "withheld", "note", "confirmed_by",
                  "confirmed_at"]
        read_only_fields = fields


class AcceptanceReportSerializer(serializers.Serializer):
    agreement = serializers.IntegerField()
    on = serializers.DateField()
    verdict = serializers.CharField(help_text=VERDICT_HELP)
    due_back = serializers.DecimalField(**YUAN, help_text="Money due back in total, 元.")
    withheld = serializers.DecimalField(**YUAN, help_text="Incentives withheld in total, 元.")
    obligations = AcceptanceRowSerializer(many=True)
    remedies = AcceptanceRemedySerializer(many=True)
    acceptance = AcceptanceRecordSerializer(
        allow_null=True, help_text="The confirmation recorded by this request (confirm: true).")


def acceptance_payload(agreement, verdict, acceptance=None) -> dict:
    return {
        "agreement": agreement.pk, "on": verdict.on,
        "verdict": Acceptance.Verdict.PASS if verdict.passed else Acceptance.Verdict.FAIL,
        "due_back": verdict.due_back, "withheld": verdict.withheld,
        "obligations": [{
            "id": obligation.pk, "metric": obligation.metric, "target": obligation.target,
            "actual": state.actual, "shortfall": state.shortfall,
            "shortfall_ratio": state.shortfall_ratio, "status": state.status, "due": due,
            "due_on": state.due_on, "year": state.year, "met_on": state.met_on}
            for obligation, state, due in verdict.rows],
        "remedies": [{
            "id": line.remedy.pk, "kind": line.remedy.kind,
            "obligation": line.remedy.obligation_id, "incentive": line.remedy.incentive_id,
            "triggered": line.triggered, "due_back": line.due_back, "withheld": line.withheld,
            "explanation": str(line.explanation)} for line in verdict.remedies],
        "acceptance": acceptance,
    }


# --- The leaders' figures -----------------------------------------------------------------------
class YearRateSerializer(serializers.Serializer):
    year = serializers.IntegerField(help_text="Year of signing.")
    due = serializers.IntegerField(help_text="Obligations whose date has come.")
    met = serializers.IntegerField()
    rate = serializers.DecimalField(**RATE, help_text="履约率 %: met ÷ due.")


class BandSerializer(serializers.Serializer):
    low = serializers.DecimalField(**AMOUNT)
    high = serializers.DecimalField(**AMOUNT, allow_null=True,
                                    help_text="Exclusive; null: no upper bound.")
    count = serializers.IntegerField(help_text="Agreements with land in the band.")


class ProjectReturnSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    name = serializers.CharField(help_text="Confidential projects the reader may not open are "
                                           "named by their id.")
    incentives_paid_yuan = serializers.DecimalField(**AMOUNT)
    tax_since_signing_wan = serializers.DecimalField(**AMOUNT)
    return_ratio = serializers.DecimalField(
        max_digits=24, decimal_places=2, allow_null=True,
        help_text="投入产出比: tax returned (元) per yuan of incentives paid.")


class FulfilmentReportSerializer(serializers.Serializer):
    by_year = YearRateSerializer(many=True)
    rate = serializers.DecimalField(**RATE, help_text="履约率 % over all years.")
    committed_wan = serializers.DecimalField(**AMOUNT)
    arrived_wan = serializers.DecimalField(**AMOUNT)
    arrival_rate = serializers.DecimalField(**RATE, help_text="资金到位率 %: arrived ÷ committed.")
    intensity_floor_wan_per_mu = serializers.DecimalField(**AMOUNT)
    intensity_bands = BandSerializer(many=True, help_text="Investment intensity (万元 per mu) "
                                                          "against the floor.")
    tax_per_mu_floor_wan = serializers.DecimalField(**AMOUNT)
    tax_bands = BandSerializer(many=True, help_text="Last year's tax per mu (万元) against "
                                                    "the floor.")
    breached_count = serializers.IntegerField(help_text="Projects with a breached obligation.")
    at_risk_count = serializers.IntegerField(help_text="Projects with an obligation due soon "
                                                       "or missed.")
    incentives_paid_yuan = serializers.DecimalField(**AMOUNT)
    tax_since_signing_wan = serializers.DecimalField(**AMOUNT)
    return_ratio = serializers.DecimalField(max_digits=24, decimal_places=2, allow_null=True,
                                            help_text="投入产出比 over all projects.")
    projects = ProjectReturnSerializer(many=True, help_text="The projects paid most.")
