from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The floor's record of who read confidential records and who was refused. Apps say what
    is confidential and call services.record_reads(); this app stores, shows and keeps it."""

    name = "crm.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from crm.accounts.roles import Role, grant
        from crm.core.navigation import NavEntry, nav

        from . import views

        section = _("Audit")
        nav.register(NavEntry(section, _("Confidential reads"), "audit:access-list",
                              views.access_list.required_roles, 10, "eye"), section_order=80)
        nav.register(NavEntry(section, _("Refused attempts"), "audit:denied-list",
                              views.denied_list.required_roles, 20, "shield-x"))
        grant(Role.LEADER, "audit.view_accessrecord")
        grant(Role.ADMINISTRATOR, "audit.view_deniedattempt")
