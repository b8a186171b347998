from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.forms import ReferenceForm

from .models import Preference, ReminderRule
from .registry import rule_kinds


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ["email", "language", "daily_digest", "webhook_kind", "webhook_url",
                  "webhook_secret"]
        widgets = {"webhook_secret": forms.PasswordInput(render_value=True)}

    def clean(self):
        data = super().clean()
        if data.get("webhook_kind") and not data.get("webhook_url"):
            self.add_error("webhook_url", _("Enter the robot's webhook URL."))
        return data


class ReminderRuleForm(ReferenceForm):
    """A rule's check (`kind`) is one of those the apps registered; once saved, its code and
    kind stay: the reminders it created point at it (to check something else, add a rule)."""

    class Meta:
        model = ReminderRule
        fields = ["code", "name", "kind", "days", "severity", "recipients", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"] = forms.ChoiceField(
            label=self.fields["kind"].label, help_text=self.fields["kind"].help_text,
            choices=[("", _("Choose…"))] + [(k.kind, str(k.label)) for k in rule_kinds()])
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.fields["kind"].disabled = True
