from django import template

from crm.core import numbers

register = template.Library()


@register.filter
def num(value, places: int = 2):
    """A plain figure (an area, a rate): 12345.6 -> '12,345.60'; '—' for nothing."""
    return numbers.format_number(value, places)


@register.filter
def amount(value, spec: str = ""):
    """Money, the one way the product shows it (crm/core/numbers.py): {{ x|amount }} for 万元
    fields, {{ x|amount:"yuan" }} for 元 fields (shown in 万元), "yi" for a headline in 亿元,
    "bare" in a column whose header names the unit."""
    return numbers.format_money(value, **numbers.parse_money_spec(spec))


@register.simple_tag
def money_unit(scale: str = "wan"):
    """The unit's name alone (万元, 亿元; CNY 10k, CNY 100M), for a header or a KPI's <small>."""
    return numbers.unit_label(scale)


@register.simple_tag(takes_context=True)
def query_with(context, **kwargs):
    """The current query string with some parameters replaced (filters survive links)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()
