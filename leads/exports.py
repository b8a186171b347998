"""Spreadsheet exports of the filtered lists (the same selectors as the pages, so an export
holds exactly the rows the user sees)."""

from django.utils.translation import gettext as _


def company_sheets(queryset):
    headers = [_("Company name"), _("USCC"), _("Industry"), _("Chain nodes"),
               _("Registered capital (CNY 10k)"), _("Headquarters"), _("Source region"),
               _("Website"), _("Projects")]

    def rows():
        for company in queryset:
            yield [
                company.name, company.uscc or "",
                str(company.industry) if company.industry else "",
                "、".join(f"{link.node.label}({link.get_role_display()})"
                         for link in company.chain_links.all()),
                company.registered_capital_wan, company.hq_region_name,
                company.get_source_region_display(), company.website, company.project_count,
            ]

    return [(_("Companies"), headers, rows())]


def project_sheets(queryset):
    headers = [_("Project"), _("Company"), _("USCC"), _("Stage"), _("Owner"),
               _("Agreed investment (CNY 10k)"), _("Fixed-asset investment (CNY 10k)"),
               _("Funds arrived (CNY 10k)"), _("Source channel"), _("Next step"),
               _("Next step date"), _("Last contact"), _("First signed on"), _("Confidential")]

    def rows():
        for project in queryset:
            yield [
                project.name, project.company.name, project.company.uscc or "",
                project.stage.label, str(project.owner), project.agreed_investment_wan,
                project.fixed_asset_wan, project.funds_arrived_wan,
                project.get_channel_display(), project.next_step, project.next_step_on,
                project.last_contact_on, project.signed_on,
                _("Yes") if project.confidential else _("No"),
            ]

    return [(_("Projects"), headers, rows())]
