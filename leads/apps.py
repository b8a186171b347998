from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Companies and projects")

    def ready(self) -> None:
        from crm.accounts.roles import Role, grant
        from crm.core.figures import track
        from crm.core.navigation import NavEntry, nav
        from crm.core.schedule import every
        from crm.notifications.registry import register_confidential_name

        # The demo seeder, the rule kinds, the signals and the settings screens plug in here.
        from . import demo, reminders, setup_screens, signals  # noqa: F401
        from .models import Project, confidential_name

        # Robot messages to group chats name a confidential project by its id only.
        register_confidential_name(Project, confidential_name)
        setup_screens.register()  # stages and lost reasons on the administrators' screens
        every(5 * 60, "leads.import_jobs_sweep_task", name="sweep-import-jobs")  # dead workers

        track("leads")  # its writes invalidate the figures that read it

        section = _("Investment")
        everyone = None
        staff = frozenset({Role.INVESTMENT_STAFF, Role.ADMINISTRATOR})
        nav.register(NavEntry(section, _("Projects"), "leads:project-list", everyone, 10,
                              "folder-kanban"),
                     section_order=10)
        nav.register(NavEntry(section, _("Pipeline board"), "leads:project-board", everyone, 20,
                              "square-kanban"))
        nav.register(NavEntry(section, _("Companies"), "leads:company-list", everyone, 30,
                              "building-2"))
        nav.register(NavEntry(section, _("Import"), "leads:import-start", staff, 40, "upload"))

        models = ["company", "project", "followup", "contact", "qualification"]
        grant(Role.INVESTMENT_STAFF, *[f"leads.{a}_{m}" for m in models
                                       for a in ("view", "add", "change")])
        grant(Role.LEADER, *[f"leads.view_{m}" for m in models + ["stage", "stageevent"]])
        grant(Role.PARK_MANAGER, "leads.view_company", "leads.view_project")
        grant(Role.FUND_REVIEWER, "leads.view_company", "leads.view_project")
        reference = ["stage", "lostreason", "industry", "chainnode", "tag"]
        grant(Role.ADMINISTRATOR, *[f"leads.{a}_{m}" for m in reference
                                    for a in ("view", "add", "change")],
              "leads.view_company", "leads.change_company", "leads.view_project")
