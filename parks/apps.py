from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParksConfig(AppConfig):
    name = "parks"
    verbose_name = _("Park space")

    def ready(self) -> None:
        from crm.accounts.roles import Role, grant
        from crm.core.figures import track
        from crm.core.navigation import NavEntry, nav
        from crm.core.schedule import every

        from . import demo, reminders  # noqa: F401  (register the demo seeders, rule kinds)

        track("parks")  # its writes invalidate the figures that read it

        # Hourly: a hold that ran out yesterday is freed before office hours.
        every(60 * 60, "parks.reservations_expire_task", name="expire-reservations")
        section = _("Park space")
        nav.register(NavEntry(section, _("Parks"), "parks:park-list", None, 10, "factory"),
                     section_order=20)
        nav.register(NavEntry(section, _("Find space"), "parks:availability", None, 20, "search"))
        nav.register(NavEntry(section, _("Occupancy"), "parks:occupancy", None, 30, "chart-pie"))

        inventory = ["park", "building", "floor", "unit", "assignment"]
        grant(Role.PARK_MANAGER, *[f"parks.{a}_{m}" for m in inventory
                                   for a in ("view", "add", "change")])
        grant(Role.ADMINISTRATOR, *[f"parks.{a}_{m}" for m in inventory
                                    for a in ("view", "add", "change")])
        grant(Role.LEADER, *[f"parks.view_{m}" for m in inventory])
