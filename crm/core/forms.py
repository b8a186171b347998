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

    def render(self, template_name, context, request=None):
        # The form template opens with a summary of its errors, each a link to its field, so
        # a refused form low on a long page says so where it is seen (issue 17).
        form = context.get("form")
        if template_name == self.form_template_name and getattr(form, "errors", None):
            context = {**context, "error_summary": error_summary(form)}
        return super().render(template_name, context, request)


def _anchor(bound_field) -> str:
    """The id of the element a link to `bound_field` should reach: the input itself, the
    group around radios and checkboxes (which carries the field's id), or a multi-widget's
    first input."""
    widget = bound_field.field.widget
    auto_id = bound_field.auto_id
    if not auto_id:
        return ""
    if isinstance(widget, forms.MultiWidget):
        return widget.id_for_label(auto_id) or f"{auto_id}_0"
    return bound_field.id_for_label or auto_id


def error_summary(form) -> list[tuple[str, str, str]]:
    """(anchor id or "", field label or "", message) for every error of `form`: the errors of
    the form as a whole (and of hidden fields, which have nowhere else to show) first, then the
    visible fields' in their order on the page."""
    items = [("", "", str(message)) for message in form.non_field_errors()]
    for bound_field in form.hidden_fields():
        items += [("", "", str(message)) for message in bound_field.errors]
    for bound_field in form.visible_fields():
        anchor = _anchor(bound_field)
        items += [(anchor, str(bound_field.label or bound_field.name), str(message))
                  for message in bound_field.errors]
    return items


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


class ReferenceForm(forms.ModelForm):
    """The form of an administrators' settings screen (crm.core.setup_screens). It only parses:
    the model is validated once, by reference_save's full_clean, so the constraints' messages
    land on their fields whichever door the row came through."""

    def _post_clean(self):
        pass

    def service_kwargs(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items()
                if name in self.fields and not self.fields[name].disabled}
