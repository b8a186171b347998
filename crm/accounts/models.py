from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class User(AbstractUser):
    """A person who signs in. Chinese names do not split into first and last name, so the
    product shows `full_name`; roles are Django groups (see roles.py)."""

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    # Set by set_unusable_password(); read and cleared by save().
    _password_disabled = False

    def set_unusable_password(self):
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args, **kwargs):
        # A new password revokes every API token, so a token taken along with an old password
        # stops working with it (issue "Hardening" item 8). Here rather than in a pre_save
        # signal comparing hashes: Django itself calls a password "changed" when set_password()
        # is followed by save() (it then runs the validators' password_changed hooks), which
        # every door goes through (the admin's password page, PasswordChangeForm, a reset,
        # `changepassword`, a script), while a login that only re-hashes the same password
        # under a newer hasher does not count and must not log the user's scripts out.
        # Switching the password off (the admin's "disable password-based authentication")
        # counts as a change too.
        revoke = (self._password is not None or self._password_disabled) \
            and not self._state.adding
        super().save(*args, **kwargs)
        self._password_disabled = False
        if revoke:
            from .services import tokens_revoke_all

            tokens_revoke_all(user=self)

    def __str__(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return str(self)
