from django.forms.renderers import TemplatesSetting


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
