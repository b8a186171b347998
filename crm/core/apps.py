from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from .figures import connect_signals
        from .schedule import every

        connect_signals()
        # The database session store never deletes expired sessions by itself.
        every(6 * 60 * 60, "crm.core.clear_expired_sessions_task", name="clear-expired-sessions")
