"""The occupancy report as a spreadsheet: the rows the page shows (parks, their buildings, the
total), from the same selectors, through crm.core.exports."""

from django.utils.translation import gettext as _


def occupancy_sheets(rows, total, *, on):
    headers = [_("Park"), _("Building"), _("Units"), _("Rentable (m²)"), _("Leased (m²)"),
               _("Reserved (m²)"), _("Vacant (m²)"), _("Occupancy rate %"),
               _("Rent-paying rate %")]

    def figures(row):
        return [row.units, row.rentable, row.leased, row.reserved, row.vacant,
                row.occupancy_rate, row.rent_paying_rate]

    def lines():
        for park in rows:
            yield [park.label, _("All buildings"), *figures(park)]
            for building in park.buildings:
                yield [park.label, building.label if building.building_id
                       else _("Not in a building"), *figures(building)]
        yield [_("Total"), "", *figures(total)]

    return [(_("Occupancy %(day)s") % {"day": on.isoformat()}, headers, lines())]
