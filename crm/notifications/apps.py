from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The floor's reminder machinery. Apps plug their rule kinds in (registry.py); this app
    scans, stores and delivers without knowing what a project or a lease is."""

    name = "crm.notifications"
    label = "notifications"
    verbose_name = _("Reminders and notifications")

    def ready(self) -> None:
        from django.conf import settings

        from crm.accounts.roles import Role, grant
        from crm.core.figures import track
        from crm.core.navigation import NavEntry, nav
        from crm.core.schedule import every

        from . import digests, setup_screens  # noqa: F401  (registers the daily digest rule kind)

        setup_screens.register()  # reminder rules on the administrators' screens

        track("notifications")  # its writes invalidate the figures that read it

        nav.register(NavEntry(_("Me"), _("Inbox"), "notifications:inbox", None, 10, "inbox",
                              badge="unread_count"), section_order=90)
        nav.register(NavEntry(_("Me"), _("Notification settings"), "notifications:preferences",
                              None, 20, "settings"))
        every(settings.REMINDERS_SCAN_INTERVAL, "notifications.reminders_scan_task",
              name="scan-reminders")
        every(settings.REMINDERS_SWEEP_INTERVAL, "notifications.deliveries_sweep_task",
              name="sweep-deliveries")
        grant(Role.ADMINISTRATOR, "notifications.view_reminderrule",
              "notifications.change_reminderrule", "notifications.add_reminderrule",
              "notifications.view_delivery", "notifications.change_delivery")
