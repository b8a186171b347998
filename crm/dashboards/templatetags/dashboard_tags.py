"""Formatting for the dashboards: a rate with nothing to divide by is a dash, never NaN."""

from decimal import Decimal

from django import template

register = template.Library()

DASH = "—"


@register.filter
def pct(value):
    """12.5 -> '12.5%'; None -> '—'."""
    if value is None or value == "":
        return DASH
    return f"{value}%"


@register.filter
def bar_width(value):
    """A progress bar's width in %, capped at 100, as a CSS number ('0' for None)."""
    if value is None or value == "":
        return "0"
    return str(min(Decimal(value), Decimal("100")).quantize(Decimal("0.1")))


@register.filter
def dash(value):
    return DASH if value is None or value == "" else value
