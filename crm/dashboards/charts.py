"""The dashboards' charts: what each figure looks like, drawn by the floor's engine
(crm/core/charts.py). The funnel is the pipeline's own shape; the rest are bars and columns."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crm.core.charts import (
    DASH,
    Column,
    bar_list,
    column_chart,
    fit,
    hbar_chart,
    link,
    svg,
    text_width,
)
from crm.core.numbers import format_money, unit_label


def funnel_chart(steps: Sequence, *, title: str, width: int = 560) -> SafeString:
    """The funnel: one centred bar per stage, as wide as the projects that reached it, with
    the conversion to the next stage written between them ("—" when there is nothing to
    convert from)."""
    if not steps or not steps[0].reached:
        return format_html('<p class="muted">{}</p>',
                           _("No project entered the pipeline in this period."))
    bar_h, gap, size = 26, 20, 12
    gutter = min(max(text_width(s.stage.label, size) for s in steps) + 14, 140)
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
            round(gutter - 10, 1), y + 18, fit(step.stage.label, gutter - 12, size),
            " bar-won" if step.stage.kind == "won" else "",
            round(centre - w / 2, 1), y, round(w, 1), bar_h,
            # The count goes inside a bar wide enough to hold it, else just right of it.
            *(("label-inside", round(centre, 1), y + 18, "middle") if w >= 44 else
              ("label", round(centre + w / 2 + 6, 1), y + 18, "start")),
            step.reached,
            width - 2, y + 18, share,
            step.stage.label, step.reached, share)
        parts.append(link(step.url, inner, f"{step.stage.label} {step.reached}", step.reached))
        if i < len(steps) - 1:
            conversion = DASH if step.conversion is None else f"{step.conversion}%"
            parts.append(format_html(
                '<text class="conversion" x="{}" y="{}" text-anchor="middle">↓ {}</text>',
                round(centre, 1), y + bar_h + gap / 2 + 5, conversion))
    height = len(steps) * (bar_h + gap) - gap + 2
    return svg(width, height, title, mark_safe("".join(parts)), "chart-funnel")


def signed_by_month_chart(rows: Sequence, *, title: str) -> SafeString:
    """Monthly columns of the signed amount (亿元), each labelled with the number of projects
    and linked to the month's list. Rows: .amount_wan, .count, .url, .extra["month"]."""
    columns = [Column(
        month=row.extra["month"], value=float(row.amount_wan) / 10000, label=row.count or "",
        tooltip=f"{row.label} · {_('%(n)s projects') % {'n': row.count}} · "
                f"{format_money(row.amount_wan, scale='yi')}",
        url=row.url, count=row.count) for row in rows]
    if not any(r.count for r in rows):
        return format_html('<p class="muted">{}</p>', _("Nothing signed in this period."))
    return column_chart(columns, title=title, axis_unit=unit_label("yi"))


def _stage_class(row) -> str:
    return f"kind-{row.stage.kind}" if getattr(row, "stage", None) else ""


def _count_and_amount(row) -> str:
    if not row.amount_wan:
        return str(row.count)
    return _("%(n)s · %(amount)s") % {"n": row.count,
                                     "amount": format_money(row.amount_wan, scale="yi")}


def leader_charts(dashboard) -> dict:
    return {
        "stages": hbar_chart(
            [row for row in dashboard.by_stage if row.count or row.stage.is_active],
            title=_("Projects by stage"), caption=_count_and_amount, css_class=_stage_class),
        "funnel": funnel_chart(dashboard.funnel, title=_("Funnel")),
        "months": signed_by_month_chart(dashboard.signed.by_month, title=_("Signed by month")),
        "chain": hbar_chart(dashboard.signed.by_chain_node, title=_("Signed by chain node"),
                            caption=_count_and_amount),
        "durations": hbar_chart(
            [DurationRow(x) for x in dashboard.durations], title=_("Median days in stage"),
            value=lambda r: r.median_days,
            caption=lambda r: _("median %(days)s days · %(n)s stays") % {
                "days": r.median_days, "n": r.stays},
            css_class=_stage_class),
    }


class DurationRow:
    """A StageDuration dressed as a chart row (no list behind it)."""

    url = None

    def __init__(self, duration):
        self.stage, self.label = duration.stage, duration.stage.label
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
