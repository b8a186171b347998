"""The product's form pieces: one renderer for every form, and the field every date goes
through."""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext_lazy as _

from .dates import EARLIEST_DAY, LATEST_DAY


class CrmFormRenderer(TemplatesSetting):
    """Renders every form with the product's field markup (label, input, help, errors), so
    templates write {{ form }} or {{ form.field.as_field_group }} and stay consistent."""

    form_template_name = "crm/forms/form.html"
    field_template_name = "crm/forms/field.html"
    # Faster equivalents of Django's widget templates (same HTML; see each template). A filter
    # form of ~200 options spent half a list page's time in one {% include %} per option.
    # (No widget here sets its own option_template_name; one that does needs its own template.)
    FASTER = {"django/forms/widgets/select.html": "crm/forms/widgets/select.html"}

    def get_template(self, template_name):
        return super().get_template(self.FASTER.get(template_name, template_name))


class DayField(forms.DateField):
    """A date typed with the browser's date picker, kept between EARLIEST_DAY and LATEST_DAY
    on the client (min/max) and on the server (validators), so no date arithmetic downstream
    can overflow."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        message = _("Enter a date between %(first)s and %(last)s.") % {
            "first": EARLIEST_DAY.isoformat(), "last": LATEST_DAY.isoformat()}
        self.validators += [MinValueValidator(EARLIEST_DAY, message),
                            MaxValueValidator(LATEST_DAY, message)]

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "min": EARLIEST_DAY.isoformat(),
                "max": LATEST_DAY.isoformat()}
