from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Preference


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
