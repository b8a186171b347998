"""Server-side SVG charts, the engine every page shares: no JavaScript and no CDN, so they print
like the page and open on an intranet. Geometry is computed here in SVG user units; colours and
the (Chinese-capable) font come from app.css (.chart). Every bar that stands for a list is a
link to that list, carrying the number of rows the list must show (data-count).

Floats appear only in geometry; every number a reader sees is formatted by the caller from its
Decimal. The dashboards (crm/dashboards/charts.py) and the parks' occupancy trend
(parks/views.py) describe their data as rows and columns; this module draws them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

DASH = "—"


def is_wide(char: str) -> bool:
    """A CJK glyph (from the CJK radicals on): twice a Latin letter's width, on a chart's
    axis as in a spreadsheet's column."""
    return ord(char) > 0x2E7F


def text_width(text: str, size: float = 12) -> float:
    """A CJK glyph is about one em wide, Latin letters and digits about 0.6 em."""
    return sum(size if is_wide(ch) else size * 0.6 for ch in str(text))


def fit(text: str, width: float, size: float = 12) -> str:
    """Shorten `text` with an ellipsis to fit `width`."""
    text = str(text)
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_ceiling(value: float, ticks: int = 4) -> tuple[float, float]:
    """A round axis maximum and step (1, 2, 2.5 or 5 × 10^k) covering `value`."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step * ticks >= value:
            return step * ticks, step
    return 10 * power * ticks, 10 * power


def axis_number(value: float) -> str:
    if value >= 10 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def link(url: str | None, inner: SafeString, label: str, count: int | None) -> SafeString:
    """A bar that opens its list; data-count is the number of projects the list must show."""
    if not url:
        return inner
    # The name as the link's <title> (SVG's own way, shown as a tooltip too), not aria-label:
    # an aria-label must contain the visible text, which a fitted label may cut short.
    return format_html('<a href="{}" class="chart-link" data-count="{}"><title>{}</title>{}</a>',
                       url, count, label, inner)


def svg(width: float, height: float, title: str, body: SafeString, css: str = "", *,
        chart_id: str = "") -> SafeString:
    # A chart whose bars are links is a group of links, not one image (an image cannot hold
    # anything a user can act on).
    role = "group" if 'class="chart-link"' in body else "img"
    return format_html(
        '<div class="chart {}"{}><svg viewBox="0 0 {} {}" role="{}" aria-label="{}" '
        'preserveAspectRatio="xMidYMid meet"><title>{}</title>{}</svg></div>',
        css, format_html(' id="{}"', chart_id) if chart_id else "", round(width),
        round(height), role, title, title, body)


def hbar_chart(rows: Sequence, *, title: str, value: Callable = lambda r: r.count,
               caption: Callable | None = None, css_class: Callable | None = None,
               width: int = 560) -> SafeString:
    """Horizontal bars: a label, a bar proportional to `value(row)` and a caption
    (default: the value). Rows need .label and .url."""
    if not rows:
        return format_html('<p class="muted">{}</p>', _("Nothing to show for this period."))
    row_h, bar_h, size = 30, 14, 12
    gutter = min(max(text_width(r.label, size) for r in rows) + 14, 170)
    captions = [caption(r) if caption else str(value(r)) for r in rows]
    right = min(max(text_width(c, size) for c in captions) + 18, 200)
    plot = width - gutter - right
    top = max((float(value(r) or 0) for r in rows), default=0) or 1
    parts = []
    for i, (row, text) in enumerate(zip(rows, captions, strict=True)):
        y = i * row_h
        length = plot * float(value(row) or 0) / top
        if value(row):
            length = max(length, 2)
        klass = css_class(row) if css_class else ""
        # The caption sits in its own column right of the track, so captions line up.
        inner = format_html(
            '<g class="hbar {}">'
            '<text x="{}" y="{}" text-anchor="end">{}</text>'
            '<rect class="track" x="{}" y="{}" width="{}" height="{}" rx="3"/>'
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}" rx="3"/>'
            '<text class="label" x="{}" y="{}">{}</text>'
            '<title>{} · {}</title></g>',
            klass, round(gutter - 10, 1), y + 20, fit(row.label, gutter - 12, size),
            round(gutter, 1), y + 8, round(plot, 1), bar_h,
            round(gutter, 1), y + 8, round(length, 1), bar_h,
            round(gutter + plot + 10, 1), y + 20, text,
            row.label, text)
        parts.append(link(row.url, inner, f"{row.label} {text}", getattr(row, "count", None)))
    return svg(width, len(rows) * row_h + 4, title, mark_safe("".join(parts)), "chart-hbar")


@dataclass
class Column:
    """One month's column: its height in axis units (None: nothing to show, drawn as "—"),
    the text above it, the tooltip, and the list behind it."""

    month: date
    value: float | None
    label: str
    tooltip: str
    url: str | None = None
    count: int | None = None


def column_chart(columns: Sequence[Column], *, title: str, axis_unit: str = "",
                 axis_suffix: str = "", axis_max: float | None = None, width: int = 560,
                 height: int = 230, css: str = "chart-columns", chart_id: str = "",
                 empty: str | None = None) -> SafeString:
    """Monthly columns on a round axis (0 to axis_max, or a nice ceiling of the largest value),
    each month numbered under its column and the year under the first and every January."""
    if empty is not None and not any(c.value for c in columns):
        return format_html('<p class="muted">{}</p>', empty)
    left, right, top_pad, bottom = 46, 8, 22, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    base = top_pad + plot_h
    values = [c.value or 0.0 for c in columns]
    axis_top, step = nice_ceiling(axis_max or max(values, default=0))
    slot = plot_w / max(len(columns), 1)
    bar_w = min(slot * 0.62, 36)
    grid, ticks = [], int(round(axis_top / step))
    for k in range(ticks + 1):
        value = step * k
        y = base - plot_h * value / axis_top
        grid.append(format_html(
            '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="axis-text" x="{}" y="{}" text-anchor="end">{}{}</text>',
            left, width - right, round(y, 1), round(y, 1), left - 6, round(y + 4, 1),
            axis_number(value), axis_suffix))
    parts = []
    for i, column in enumerate(columns):
        centre = left + slot * i + slot / 2
        value = min(column.value or 0.0, axis_top)
        h = plot_h * value / axis_top if axis_top else 0
        if column.value:
            h = max(h, 2)
        label = format_html(
            '<text class="axis-text" x="{}" y="{}" text-anchor="middle">{}</text>',
            round(centre, 1), base + 15, column.month.month)
        if i == 0 or column.month.month == 1:
            label += format_html(
                '<text class="axis-text" x="{}" y="{}" text-anchor="middle">{}</text>',
                round(centre, 1), base + 30, column.month.year)
        inner = format_html(
            '<g class="column" data-month="{}">'
            '<rect class="hit" x="{}" y="{}" width="{}" height="{}"/>'
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}" rx="2"/>'
            '<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>'
            '<title>{}</title></g>',
            column.month.strftime("%Y-%m"),
            round(centre - slot / 2, 1), top_pad, round(slot, 1), plot_h,
            round(centre - bar_w / 2, 1), round(base - h, 1), round(bar_w, 1), round(h, 1),
            round(centre, 1), round(base - h - 5, 1), column.label, column.tooltip)
        parts.append(label)
        parts.append(link(column.url, inner, column.tooltip, column.count))
    axis = format_html('<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>',
                       left, width - right, base, base)
    unit = (format_html('<text class="axis-text" x="{}" y="{}" text-anchor="start">{}</text>',
                        4, 12, axis_unit) if axis_unit else "")
    body = mark_safe("".join(grid) + axis + unit + "".join(parts))
    return svg(width, height, title, body, css, chart_id=chart_id)


def bar_list(rows: Sequence, *, value: Callable = lambda r: r.count,
             caption: Callable | None = None) -> list[dict]:
    """Widths (in %) for app.css's HTML .bar-list: rows with a bar proportional to value."""
    top = max((Decimal(value(r) or 0) for r in rows), default=Decimal("0"))
    return [{"row": r, "width": (Decimal(value(r) or 0) * 100 / top).quantize(Decimal("0.1"))
             if top else Decimal("0"),
             "caption": caption(r) if caption else value(r)} for r in rows]
