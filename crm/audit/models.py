"""Who read which confidential record, when, how and from where; and who was refused what.

Both are append-only: nothing in the product edits or deletes them (the admin shows them
read-only), so they stay a trustworthy record of access to negotiations a bureau keeps
confidential by law."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessRecord(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", _("Opened the page")
        API = "api", _("Read through the API")
        EXPORT = "export", _("Exported")
        DOWNLOAD = "download", _("Downloaded a document")

    at = models.DateTimeField(_("when"), auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("who"))
    action = models.CharField(_("how"), max_length=10, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField(_("record"))
    path = models.CharField(_("address"), max_length=300)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("confidential read")
        verbose_name_plural = _("confidential reads")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"]),
                   models.Index(fields=["user", "-at"]), models.Index(fields=["-at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.content_type_id}:{self.object_id}"


class DeniedAttempt(models.Model):
    """A request refused for who made it (403): the failed-authorisation log."""

    at = models.DateTimeField(_("when"), auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+", verbose_name=_("who"))
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("address"), max_length=300)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("refused attempt")
        verbose_name_plural = _("refused attempts")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["-at"]), models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.method} {self.path}"
