from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "crm.accounts"
    label = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from crm.core.figures import track
        from crm.core.navigation import NavEntry, nav

        from . import demo, roles  # noqa: F401  (demo registers its seeder)

        # Role changes change what users may count; owners' names appear in the figures.
        track("accounts")

        roles.grant(
            roles.Role.ADMINISTRATOR,
            "accounts.view_user",
            "accounts.add_user",
            "accounts.change_user",
            "auth.view_group",
            "auth.change_group",
        )
        roles.grant(roles.Role.LEADER, "accounts.view_user")
        # Administrators revoke anyone's API tokens in the admin (crm.accounts.admin).
        roles.grant(roles.Role.ADMINISTRATOR, "knox.view_authtoken", "knox.delete_authtoken")
        # Every signed-in user may have API tokens, so the entry is for all roles.
        nav.register(NavEntry(_("Me"), _("API tokens"), "accounts:tokens", None, 30, "key-round"),
                     section_order=90)  # registered before notifications, whose section it is
        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="sync_role_permissions")
