"""The dashboard and the monthly statistical return (月报) as spreadsheets: one sheet per block
or breakdown, written through crm.core.exports (formula neutralisation included). Amounts stay
in 万元 as numbers, rates in % with one decimal; a rate with nothing to divide by is "—"."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from leads.models import Stage

DASH = "—"


def _rate(value):
    return DASH if value is None else value


def _count_of(value):
    return DASH if value is None else value


def _years(target) -> str:
    t = target.target
    return str(t.year_to) if t.year_from == t.year_to else f"{t.year_from}–{t.year_to}"


def _breakdown(title, rows, *, first=None):
    return (title, [first or _("Item"), _("Projects"), _("Agreed investment (CNY 10k)")],
            [(r.label, r.count, r.amount_wan) for r in rows])


def dashboard_sheets(d, fulfilment=None) -> list:
    period = d.filters.period
    s = d.summary
    summary = [
        (_("Period"), f"{period.start.isoformat()} – {period.end.isoformat()}", ""),
        (_("Open projects"), s.open_count, _("projects")),
        (_("Agreed investment of open projects"), s.open_amount_wan, _("CNY 10k")),
        (_("New leads in the period"), s.new_count, _("projects")),
        (_("Signed in the period"), s.signed_count, _("projects")),
        (_("Agreed investment signed"), s.signed_amount_wan, _("CNY 10k")),
        (_("Funds arrived of the signings"), s.signed_arrived_wan, _("CNY 10k")),
        (_("Red flags"), s.red_count, _("projects")),
        (_("Yellow flags"), s.yellow_count, _("projects")),
        (_("Next step overdue"), s.overdue_count, _("projects")),
        (_("Occupancy rate"), _rate(d.occupancy.total.occupancy_rate), "%"),
        (_("Fund budget approved"), _rate(d.funds.approved_percent), "%"),
        *fulfilment_summary(fulfilment, units=True),
    ]
    sheets = [
        (_("Summary"), [_("Figure"), _("Value"), pgettext("of measure", "Unit")], summary),
        (_("Pipeline by stage"),
         [_("Stage"), _("Kind"), _("Projects"), _("Agreed investment (CNY 10k)")],
         [(r.label, r.stage.get_kind_display(), r.count, r.amount_wan) for r in d.by_stage]),
        (_("Funnel"),
         [_("Stage"), _("Reached"), _("Share of the first stage %"),
          _("Conversion to the next stage %")],
         [(f.stage.label, f.reached, _rate(f.share), _rate(f.conversion)) for f in d.funnel]),
        *signed_sheets(d.signed),
        cohort_sheet(d.cohorts),
        (_("Days in stage"), [_("Stage"), _("Stays ended in the period"), _("Median days")],
         [(x.stage.label, x.stays, _rate(x.median_days)) for x in d.durations]),
        _breakdown(_("Lost reasons"), d.lost_reasons, first=_("Reason")),
        (_("Flags"), [_("Flag"), _("Projects")], [(f.label, f.count) for f in s.flags]),
        (_("Targets"),
         [_("Metric"), _("Years"), _("Scope"), _("Target"), _("Actual"),
          pgettext("of measure", "Unit"), _("Progress %"), _("Definition")],
         [(t.target.get_metric_display(), _years(t), t.target.scope_label, t.target.value,
           t.actual, t.unit, _rate(t.percent), t.definition) for t in d.targets]),
        chain_sheet(d.chain),
        (_("Park occupancy"),
         [_("Park"), _("Rentable m²"), _("Leased m²"), _("Reserved m²"), _("Vacant m²"),
          _("Occupancy rate %")],
         [(r.label, r.rentable, r.leased, r.reserved, r.vacant, _rate(r.occupancy_rate))
          for r in d.occupancy.rows]),
        (_("Fund budget"),
         [_("Programme"), _("Year"), _("Budget (yuan)"), _("Approved (yuan)"), _("Paid (yuan)"),
          _("Approved %")],
         [(p.name, p.year, f.budget, f.approved, f.paid, _rate(f.approved_percent))
          for p, f in d.funds.programmes]),
        *fulfilment_sheets(fulfilment),
    ]
    return sheets


def signed_sheets(signed) -> list:
    return [
        _breakdown(_("Signed by month"), signed.by_month, first=_("Month")),
        _breakdown(_("Signed by size band"), signed.by_size_band, first=_("Size band")),
        _breakdown(_("Signed by industry"), signed.by_industry, first=_("Industry")),
        _breakdown(_("Signed by chain node"), signed.by_chain_node, first=_("Chain node")),
        _breakdown(_("Signed by source region"), signed.by_source_region,
                   first=_("Source region")),
        _breakdown(_("Signed by owner"), signed.by_owner, first=_("Owner")),
    ]


def cohort_sheet(cohorts):
    landed, started, producing = (Stage.Milestone.LANDED, Stage.Milestone.STARTED,
                                  Stage.Milestone.PRODUCING)
    return (
        _("Cohorts"),
        [_("Signing year"), _("Signed"), _("Agreed investment (CNY 10k)"),
         _("Funds arrived (CNY 10k)"), _("Landed"), _("Landing rate %"), _("Started"),
         _("Start rate %"), _("Producing"), _("Production rate %"), _("Funds arrival rate %")],
        [(c.year, c.count, c.agreed_wan, c.arrived_wan,
          _count_of(c.reached[landed]), _rate(c.landed_rate),
          _count_of(c.reached[started]), _rate(c.started_rate),
          _count_of(c.reached[producing]), _rate(c.producing_rate), _rate(c.arrival_rate))
         for c in cohorts])


def _leader_names(node) -> str:
    names = "、".join(node.leaders)
    if node.more_leaders:
        names += " " + ngettext("and %(count)s more", "and %(count)s more",
                                node.more_leaders) % {"count": node.more_leaders}
    return names


def chain_sheet(nodes):
    rows = []
    for top in nodes:
        for node, parent in [(top, ""), *[(child, top.node.label) for child in top.children]]:
            rows.append((node.node.label, parent, node.targeted, node.negotiating, node.signed,
                         node.landed, _leader_names(node),
                         _("Yes") if node.is_weak else ""))
    return (_("Chain map"),
            [_("Chain node"), _("Part of"), _("Companies targeted"), _("Negotiating"),
             _("Signed"), _("Landed"), _("Chain leaders"), _("Weak link (nothing signed)")],
            rows)


def _side_by_side(title, first, month_rows, ytd_rows):
    """The month's and the year-to-date's figures of one breakdown, row by row."""
    this = {r.key: r for r in month_rows}
    keys = [r.key for r in ytd_rows] + [r.key for r in month_rows
                                        if r.key not in {y.key for y in ytd_rows}]
    labels = {r.key: r.label for r in [*month_rows, *ytd_rows]}
    ytd = {r.key: r for r in ytd_rows}
    return (title,
            [first, _("This month: projects"), _("This month: agreed (CNY 10k)"),
             _("Year to date: projects"), _("Year to date: agreed (CNY 10k)")],
            [(labels[k], this[k].count if k in this else 0,
              this[k].amount_wan if k in this else 0,
              ytd[k].count if k in ytd else 0, ytd[k].amount_wan if k in ytd else 0)
             for k in keys])


def monthly_return_sheets(report) -> list:
    month, ytd = report.this_month, report.cumulative
    cover = [
        (_("Month"), report.month.start.strftime("%Y-%m")),
        (_("Year to date"), f"{report.year_to_date.start} – {report.year_to_date.end}"),
        (_("Signed this month"), month.count),
        (_("Agreed investment signed this month (CNY 10k)"), month.amount_wan),
        (_("Signed in the year to date"), ytd.count),
        (_("Agreed investment signed in the year to date (CNY 10k)"), ytd.amount_wan),
        *fulfilment_summary(report.fulfilment, units=False),
    ]
    return [
        (_("Monthly return"), [_("Figure"), _("Value")], cover),
        (_("By stage"), [_("Stage"), _("Projects now"), _("Agreed investment (CNY 10k)")],
         [(r.label, r.count, r.amount_wan) for r in report.by_stage]),
        _breakdown(_("By month"), ytd.by_month, first=_("Month")),
        _side_by_side(_("By size band"), _("Size band"), month.by_size_band, ytd.by_size_band),
        _side_by_side(_("By industry"), _("Industry"), month.by_industry, ytd.by_industry),
        _side_by_side(_("By chain node"), _("Chain node"), month.by_chain_node,
                      ytd.by_chain_node),
        _side_by_side(_("By source region"), _("Source region"), month.by_source_region,
                      ytd.by_source_region),
        _side_by_side(_("By owner"), _("Owner"), month.by_owner, ytd.by_owner),
        cohort_sheet(report.cohorts),
        *fulfilment_sheets(report.fulfilment),
    ]


# --- Fulfilment of agreements (履约) ------------------------------------------------------------
def fulfilment_summary(block, *, units: bool) -> list:
    """The headline fulfilment figures as rows of a summary sheet: (figure, value, unit) for
    the dashboard's Summary, (figure with its unit, value) for the monthly return's cover."""
    if block is None:
        return []
    f = block.figures
    rows = [
        (_("Fulfilment figures as of"), block.today.isoformat(), ""),
        (_("Fulfilment rate (due obligations met)"), _rate(f.rate), "%"),
        (_("Obligations due"), block.due.count, _("obligations")),
        (_("Obligations met"), block.met.count, _("obligations")),
        (_("Funds arrival rate (arrived ÷ committed)"), _rate(f.arrival_rate), "%"),
        (_("Investment committed in agreements"), f.committed_wan, _("CNY 10k")),
        (_("Funds arrived"), f.arrived_wan, _("CNY 10k")),
        (_("Projects in breach"), f.breached_count, _("projects")),
        (_("Projects at risk (due soon or missed)"), block.at_risk_projects, _("projects")),
        (_("Incentives paid"), f.incentives_paid_yuan, _("yuan")),
        (_("Tax reported since signing"), f.tax_since_signing_wan, _("CNY 10k")),
        (_("Tax returned per yuan of incentives"), _rate(f.return_ratio), _("yuan")),
    ]
    if units:
        return rows
    return [(f"{label} ({unit})" if unit else label, value) for label, value, unit in rows]


def _band(band) -> str:
    """A band of a per-mu figure: "90 – 180", "≥ 180" (its floor and halves, in CNY 10k)."""
    low = f"{band['low'].normalize():f}"
    if band["high"] is None:
        return f"≥ {low}"
    return f"{low} – {band['high'].normalize():f}"


def fulfilment_sheets(block) -> list:
    """The fulfilment tables, for a reader with agreements to report on (a return without any
    keeps the sheets it always had)."""
    if block is None or not block.has_agreements:
        return []
    f = block.figures
    return [
        (_("Fulfilment by signing year"),
         [_("Signing year"), _("Obligations due"), _("Met"), _("Fulfilment rate %")],
         [(r["year"], r["due"], r["met"], _rate(r["rate"])) for r in f.by_year]),
        (_("Investment intensity"),
         [_("Fixed-asset investment per mu (CNY 10k)"), _("Agreements with land")],
         [(_band(b), b["count"]) for b in f.intensity_bands]),
        (_("Tax per mu"),
         [_("Last year's tax per mu (CNY 10k)"), _("Agreements with land")],
         [(_band(b), b["count"]) for b in f.tax_bands]),
        (_("Breached and at risk"),
         [_("Project"), _("Owner"), _("Obligations breached"),
          _("Obligations due soon or missed"), _("Earliest date")],
         [(r.name, r.owner, r.breached, r.at_risk, r.first_due) for r in block.watch]),
        (_("Return on incentives"),
         [_("Project"), _("Incentives paid (yuan)"), _("Tax since signing (CNY 10k)"),
          _("Tax per yuan of incentives")],
         [(r.name, r.paid_yuan, r.tax_wan, _rate(r.ratio)) for r in block.returns]),
    ]
