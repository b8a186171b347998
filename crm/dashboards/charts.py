"""Server-side SVG charts: no JavaScript and no CDN, so they print like the page and open on an
intranet. Geometry is computed here in SVG user units; colours and the (Chinese-capable) font
come from app.css (.chart). Every bar that stands for a list is a link to that list.

Floats appear only in geometry; every number a reader sees is formatted from its Decimal."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crm.core.templatetags.crm_tags import money

DASH = "—"


def text_width(text: str, size: float = 12) -> float:
    """A CJK glyph is about one em wide, Latin letters and digits about 0.6 em."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in str(text))


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


def _axis_number(value: float) -> str:
    if value >= 10 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _link(url: str | None, inner: SafeString, label: str, count: int | None) -> SafeString:
    """A bar that opens its list; data-count is the number of projects the list must show."""
    if not url:
        return inner
    return format_html('<a href="{}" class="chart-link" aria-label="{}" data-count="{}">{}</a>',
                       url, label, count, inner)


def _svg(width: float, height: float, title: str, body: SafeString, css: str = "") -> SafeString:
    return format_html(
        '<div class="chart {}"><svg viewBox="0 0 {} {}" role="img" '
        'preserveAspectRatio="xMidYMid meet"><title>{}</title>{}</svg></div>',
        css, round(width), round(height), title, body)


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
        parts.append(_link(row.url, inner, f"{row.label} {text}", getattr(row, "count", None)))
    return _svg(width, len(rows) * row_h + 4, title, mark_safe("".join(parts)), "chart-hbar")


def funnel_chart(steps: Sequence, *, title: str, width: int = 560) -> SafeString:
    """The funnel: one centred bar per stage, as wide as the projects that reached it, with
    the conversion to the next stage written between them ("—" when there is nothing to
    convert from)."""
    if not steps or not steps[0].reached:
        return format_html('<p class="muted">{}</p>',
                           _("No project entered the pipeline in this period."))
    bar_h, gap, size = 26, 20, 12
    gutter = min(max(text_width(s.stage.name, size) for s in steps) + 14, 140)
    right = 70
    plot = width - gutter - right - 10
    centre = gutter + plot / 2
    top = max(s.reached for s in steps) or 1
    parts = []
    for i, step in enumerate(steps):
        y = i * (bar_h + gap)
        w = max(plot * step.reached / top, 3 if step.reached else 0)
        share = DASH if step.share is None else f"{step.share}%"
        inner = format_html(
            '<g class="funnel-step">'
            '<text x="{}" y="{}" text-anchor="end">{}</text>'
            '<rect class="bar{}" x="{}" y="{}" width="{}" height="{}" rx="3"/>'
            '<text class="{}" x="{}" y="{}" text-anchor="{}">{}</text>'
            '<text class="share" x="{}" y="{}" text-anchor="end">{}</text>'
            '<title>{} · {} · {}</title></g>',
            round(gutter - 10, 1), y + 18, fit(step.stage.name, gutter - 12, size),
            " bar-won" if step.stage.kind == "won" else "",
            round(centre - w / 2, 1), y, round(w, 1), bar_h,
            # The count goes inside a bar wide enough to hold it, else just right of it.
            *(("label-inside", round(centre, 1), y + 18, "middle") if w >= 44 else
              ("label", round(centre + w / 2 + 6, 1), y + 18, "start")),
            step.reached,
            width - 2, y + 18, share,
            step.stage.name, step.reached, share)
        parts.append(_link(step.url, inner, f"{step.stage.name} {step.reached}", step.reached))
        if i < len(steps) - 1:
            conversion = DASH if step.conversion is None else f"{step.conversion}%"
            parts.append(format_html(
                '<text class="conversion" x="{}" y="{}" text-anchor="middle">↓ {}</text>',
                round(centre, 1), y + bar_h + gap / 2 + 5, conversion))
    height = len(steps) * (bar_h + gap) - gap + 2
    return _svg(width, height, title, mark_safe("".join(parts)), "chart-funnel")


def column_chart(rows: Sequence, *, title: str, width: int = 560, height: int = 230
                 ) -> SafeString:
    """Monthly columns of the signed amount (亿元), each labelled with the number of projects
    and linked to the month's list. Rows: .amount_wan, .count, .url, .extra["month"]."""
    if not any(r.count for r in rows):
        return format_html('<p class="muted">{}</p>', _("Nothing signed in this period."))
    left, right, top_pad, bottom = 46, 8, 22, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    base = top_pad + plot_h
    amounts = [float(r.amount_wan) / 10000 for r in rows]
    axis_max, step = nice_ceiling(max(amounts))
    slot = plot_w / len(rows)
    bar_w = min(slot * 0.62, 36)
    grid, ticks = [], int(round(axis_max / step))
    for k in range(ticks + 1):
        value = step * k
        y = base - plot_h * value / axis_max
        grid.append(format_html(
            '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="axis-text" x="{}" y="{}" text-anchor="end">{}</text>',
            left, width - right, round(y, 1), round(y, 1), left - 6, round(y + 4, 1),
            _axis_number(value)))
    parts = []
    for i, (row, amount) in enumerate(zip(rows, amounts, strict=True)):
        centre = left + slot * i + slot / 2
        h = plot_h * amount / axis_max if axis_max else 0
        if amount:
            h = max(h, 2)
        month = row.extra["month"]
        label = format_html(
            '<text class="axis-text" x="{}" y="{}" text-anchor="middle">{}</text>',
            round(centre, 1), base + 15, month.month)
        if i == 0 or month.month == 1:
            label += format_html(
                '<text class="axis-text" x="{}" y="{}" text-anchor="middle">{}</text>',
                round(centre, 1), base + 30, month.year)
        amount_text = money(row.amount_wan / 10000)
        inner = format_html(
            '<g class="column">'
            '<rect class="hit" x="{}" y="{}" width="{}" height="{}"/>'
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}" rx="2"/>'
            '<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>'
            '<title>{} · {} · {} {}</title></g>',
            round(centre - slot / 2, 1), top_pad, round(slot, 1), plot_h,
            round(centre - bar_w / 2, 1), round(base - h, 1), round(bar_w, 1), round(h, 1),
            round(centre, 1), round(base - h - 5, 1), row.count or "",
            row.label, _("%(n)s projects") % {"n": row.count}, amount_text, _("100M yuan"))
        parts.append(label)
        parts.append(_link(row.url, inner, f"{row.label} {row.count}", row.count))
    axis = format_html('<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>',
                       left, width - right, base, base)
    unit = format_html('<text class="axis-text" x="{}" y="{}" text-anchor="start">{}</text>',
                       4, 12, _("100M yuan"))
    body = mark_safe("".join(grid) + axis + unit + "".join(parts))
    return _svg(width, height, title, body, "chart-columns")


def bar_list(rows: Sequence, *, value: Callable = lambda r: r.count,
             caption: Callable | None = None) -> list[dict]:
    """Widths (in %) for app.css's HTML .bar-list: rows with a bar proportional to value."""
    top = max((Decimal(value(r) or 0) for r in rows), default=Decimal("0"))
    return [{"row": r, "width": (Decimal(value(r) or 0) * 100 / top).quantize(Decimal("0.1"))
             if top else Decimal("0"),
             "caption": caption(r) if caption else value(r)} for r in rows]



def _stage_class(row) -> str:
    return f"kind-{row.stage.kind}" if getattr(row, "stage", None) else ""


def _count_and_amount(row) -> str:
    if not row.amount_wan:
        return str(row.count)
    return _("%(n)s · %(amount)s 100M yuan") % {"n": row.count,
                                               "amount": money(row.amount_wan / 10000)}


def leader_charts(dashboard) -> dict:
    return {
        "stages": hbar_chart(
            [row for row in dashboard.by_stage if row.count or row.stage.is_active],
            title=_("Projects by stage"), caption=_count_and_amount, css_class=_stage_class),
        "funnel": funnel_chart(dashboard.funnel, title=_("Funnel")),
        "months": column_chart(dashboard.signed.by_month, title=_("Signed by month")),
        "chain": hbar_chart(dashboard.signed.by_chain_node, title=_("Signed by chain node"),
                            caption=_count_and_amount),
        "durations": hbar_chart(
            [DurationRow(x) for x in dashboard.durations], title=_("Median days in stage"),
            value=lambda r: r.median_days,
            caption=lambda r: _("%(days)s days · %(n)s stays") % {"days": r.median_days,
                                                                   "n": r.stays},
            css_class=_stage_class),
    }


class DurationRow:
    """A StageDuration dressed as a chart row (no list behind it)."""

    url = None

    def __init__(self, duration):
        self.stage, self.label = duration.stage, duration.stage.name
        self.median_days, self.stays = duration.median_days, duration.stays


def staff_stage_chart(dashboard) -> SafeString:
    return hbar_chart(dashboard.by_stage, title=_("My projects by stage"),
                      caption=_count_and_amount, css_class=_stage_class)


def leader_bars(dashboard) -> dict:
    signed = dashboard.signed
    return {
        "size": bar_list(signed.by_size_band, value=lambda r: r.amount_wan),
        "industry": bar_list(signed.by_industry, value=lambda r: r.amount_wan),
        "region": bar_list(signed.by_source_region, value=lambda r: r.amount_wan),
        "lost": bar_list(dashboard.lost_reasons),
    }
