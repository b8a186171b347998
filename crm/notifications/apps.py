from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The floor's reminder machinery. Apps plug their rule kinds in (registry.py); this app
    scans, stores and delivers without knowing what a project or a lease is."""

    name = "crm.notifications"
    label = "notifications"
    verbose_name = _("Reminders and notifications")

    def ready(self) -> None:
        from crm.accounts.roles import Role, grant
        from crm.core.navigation import NavEntry, nav

        from . import digests  # noqa: F401  (registers the daily digest rule kind)

        nav.register(NavEntry(_("Me"), _("Inbox"), "notifications:inbox", None, 10, "✉",
                              badge="unread_count"), section_order=90)
        nav.register(NavEntry(_("Me"), _("Notification settings"), "notifications:preferences",
                              None, 20, "⚙"))
        grant(Role.ADMINISTRATOR, "notifications.view_reminderrule",
              "notifications.change_reminderrule", "notifications.add_reminderrule",
              "notifications.view_delivery", "notifications.change_delivery")
