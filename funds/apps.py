from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = _("Funds and subsidies")

    def ready(self) -> None:
        from crm.accounts.roles import Role, grant
        from crm.core.figures import track
        from crm.core.navigation import NavEntry, nav
        from crm.core.schedule import every
        from crm.notifications.registry import register_confidential_name

        from . import demo, reminders  # noqa: F401  (register the demo seeder, rule kinds)
        from .fulfilment import reminders as fulfilment_reminders  # noqa: F401
        from .fulfilment import signals  # noqa: F401  (milestones follow stage events)
        from .fulfilment import tasks as fulfilment_tasks  # noqa: F401  (not autodiscovered)

        # Statuses move with the calendar (a deadline passes, a grace period ends): judged
        # again four times a day, so a breach shows (and is reminded) within hours of its day.
        every(6 * 60 * 60, "fulfilment.obligations_refresh_task", name="refresh-obligations")
        from .models import Application, confidential_application_name

        register_confidential_name(Application, confidential_application_name)

        track("funds")  # its writes invalidate the figures that read it

        section = _("Funds and subsidies")
        nav.register(NavEntry(section, _("Programmes"), "funds:programme-list", None, 10, "wallet"),
                     section_order=30)
        nav.register(NavEntry(section, _("Applications"), "funds:application-list", None, 20,
                              "file-text"))
        # After the signing (履约) is its own section, after the pipeline it follows from.
        signed = _("After the signing")
        nav.register(NavEntry(signed, _("Obligations"), "fulfilment:obligation-list", None, 10,
                              "list-checks"), section_order=15)
        nav.register(NavEntry(signed, _("Import actuals"), "fulfilment:actuals-import",
                              frozenset({Role.INVESTMENT_STAFF}), 20, "upload"))
        from .fulfilment import panels  # noqa: F401  (the project page's agreements panel)
        models = ["programme", "application", "review", "disbursement"]
        grant(Role.FUND_REVIEWER, *[f"funds.{a}_{m}" for m in models for a in ("view", "change")],
              "funds.add_review", "funds.add_disbursement")
        grant(Role.INVESTMENT_STAFF, "funds.view_programme", "funds.view_application",
              "funds.add_application")
        grant(Role.LEADER, *[f"funds.view_{m}" for m in models])
        # Fulfilment is read in the admin by leaders and administrators (through the project's
        # access rule); it is written on the product's pages only (funds.admin).
        fulfilment = ["agreement", "obligation", "actual", "acceptance"]
        grant(Role.LEADER, *[f"funds.view_{m}" for m in fulfilment])
        grant(Role.ADMINISTRATOR, *[f"funds.view_{m}" for m in fulfilment])
        grant(Role.ADMINISTRATOR, "funds.view_programme", "funds.add_programme",
              "funds.change_programme")
