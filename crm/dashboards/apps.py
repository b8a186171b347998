from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """The roof: dashboards and reports that compose every app's selectors."""

    name = "crm.dashboards"
    label = "dashboards"
    verbose_name = _("Dashboards and targets")

    def ready(self) -> None:
        from crm.accounts.roles import Role, grant
        from crm.core.figures import track
        from crm.core.navigation import NavEntry, nav
        from crm.core.views import register_home_page

        from . import demo, setup_screens, views  # noqa: F401  (demo registers its seeder)

        track("dashboards")  # its writes invalidate the figures that read it

        register_home_page(views.home)

        section = _("Dashboards")
        # Each entry is offered to exactly the roles its view admits (role_required).
        nav.register(NavEntry(section, _("Leader dashboard"), "dashboards:leader",
                              views.leader.required_roles, 10, "layout-dashboard"), section_order=5)
        nav.register(NavEntry(section, _("My dashboard"), "dashboards:staff",
                              views.staff.required_roles, 20, "gauge"))
        nav.register(NavEntry(section, _("My parks"), "dashboards:parks",
                              views.parks.required_roles, 30, "building"))
        nav.register(NavEntry(section, _("Review queue"), "dashboards:reviews",
                              views.reviews.required_roles, 40, "clipboard-check"))
        nav.register(NavEntry(section, _("Chain map"), "dashboards:chain",
                              views.chain.required_roles, 50, "network"))
        setup_screens.register()  # plan targets, edited on the administrators' screens

        grant(Role.ADMINISTRATOR, "dashboards.view_target", "dashboards.add_target",
              "dashboards.change_target", "dashboards.delete_target")
        grant(Role.LEADER, "dashboards.view_target")
