from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    """The organisation (issue 15): the tree of units (city, districts, parks, the leading group,
    its 专班 work teams, departments) and who belongs to which, in which position and with
    which data scope. Part of the floor: leads, parks and funds point at its units."""

    name = "crm.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from crm.accounts.roles import Role, grant
        from crm.core.figures import track

        from . import demo, setup_screens  # noqa: F401  (demo registers its seeder)

        track("org")  # a unit renamed or moved changes what the figures are grouped by
        setup_screens.register()
        grant(Role.ADMINISTRATOR, *[f"org.{a}_{m}" for m in ("orgunit", "membership")
                                    for a in ("view", "add", "change", "delete")])
        grant(Role.LEADER, "org.view_orgunit", "org.view_membership")
