"""Spreadsheets of the fulfilment screens: the filtered list (the page's selector and filters,
so an export holds exactly the rows the reader sees) and one agreement's acceptance report
(the same verdict the page shows). crm.core.exports writes them, formula-safe."""

from django.utils.translation import gettext as _

from .models import Status


def due_text(obligation) -> str:
    if obligation.due_on:
        return obligation.due_on.isoformat()
    if obligation.applies_from:
        return _("Every year from %(year)s") % {"year": obligation.applies_from}
    return ""


def obligation_sheets(queryset):
    headers = [_("Project"), _("Company"), _("Agreement"), _("Signed on"), _("Metric"),
               _("Target"), _("Actual"), _("Due"), _("Status"), _("Status as of"),
               _("Owner")]
    labels = dict(Status.choices)

    def rows():
        for obligation in queryset:
            agreement = obligation.agreement
            project = agreement.project
            yield [project.name, project.company.name, agreement.title, agreement.signed_on,
                   obligation.get_metric_display(), obligation.target, obligation.actual,
                   due_text(obligation), str(labels[obligation.status]),
                   obligation.checked_on, str(project.owner)]

    return [(_("Obligations"), headers, rows())]


def acceptance_sheets(agreement, verdict):
    """Three sheets: the verdict, every obligation's target and actual, every remedy's cost."""
    yes, no = _("Yes"), _("No")
    summary = [
        (_("Agreement"), agreement.title),
        (_("Project"), agreement.project.name),
        (_("Company"), agreement.project.company.name),
        (_("Signed on"), agreement.signed_on),
        (_("Acceptance as of"), verdict.on),
        (_("Verdict"), _("Pass") if verdict.passed else _("Fail")),
        (_("Money due back (yuan)"), verdict.due_back),
        (_("Incentives withheld (yuan)"), verdict.withheld),
    ]
    labels = dict(Status.choices)
    obligations = [
        [obligation.get_metric_display(), obligation.target, state.actual,
         state.year or (state.due_on.isoformat() if state.due_on else ""),
         yes if due else no, str(labels[state.status]), state.shortfall,
         state.shortfall_ratio]
        for obligation, state, due in verdict.rows]
    remedies = [
        [line.remedy.get_kind_display(),
         line.remedy.obligation.get_metric_display() if line.remedy.obligation_id
         else _("Any obligation"),
         yes if line.triggered else no, line.due_back, line.withheld, line.explanation]
        for line in verdict.remedies]
    return [
        (_("Verdict"), [_("Item"), _("Value")], summary),
        (_("Obligations"), [_("Metric"), _("Target"), _("Actual"), _("Due or year judged"),
                            _("Due by then"), _("Status"), _("Shortfall"),
                            _("Shortfall ratio")], obligations),
        (_("Remedies"), [_("Remedy"), _("On failing"), _("Triggered"),
                         _("Money due back (yuan)"), _("Incentives withheld (yuan)"),
                         _("How")], remedies),
    ]
