from django.forms.renderers import TemplatesSetting


class CrmFormRenderer(TemplatesSetting):
    """Renders every form with the product's field markup (label, input, help, errors), so
    templates write {{ form }} or {{ form.field.as_field_group }} and stay consistent."""

    form_template_name = "crm/forms/form.html"
    field_template_name = "crm/forms/field.html"
