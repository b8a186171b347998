from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()

TEN_THOUSAND = Decimal("10000")


@register.filter
def money(value, places: int = 2):
    """12345.6 -> '12,345.60'; empty for None. Decimal all the way (never float)."""
    if value in (None, ""):
        return "—"
    quantum = Decimal(1).scaleb(-int(places))
    amount = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{amount:,.{int(places)}f}"


@register.filter
def wan_to_yi(value):
    """万元 -> 亿元 with two decimals, for headline figures."""
    if value in (None, ""):
        return "—"
    return money(Decimal(value) / TEN_THOUSAND, 2)


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
