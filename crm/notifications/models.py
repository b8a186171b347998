"""Reminder rules (data, editable by administrators), the reminders they produce (one row per
rule, record, due date and recipient: the natural key makes a second scan a no-op, and the row
is the in-app inbox item), and their deliveries by email or enterprise-IM webhook (one row per
reminder and channel, claimed with a conditional UPDATE so nothing is sent twice)."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.core.fields import HttpsURLField

from .webhooks import validate_webhook_url


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class Recipients(models.TextChoices):
    OWNER = "owner", _("The owner")
    OWNER_AND_LEADERS = "owner_leaders", _("The owner and the leaders")
    LEADERS = "leaders", _("The leaders")
    PARK_MANAGERS = "park_managers", _("The park's managers")
    REVIEWERS = "reviewers", _("Fund reviewers")
    SELF = "self", _("The user themself")


class ReminderRule(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=50,
                            help_text=_("Which check this rule runs (registered by an app)."))
    days = models.IntegerField(_("days"), default=0,
                               help_text=_("The rule's threshold, e.g. 14 days without contact."))
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices,
                                default=Severity.YELLOW)
    recipients = models.CharField(_("recipients"), max_length=15, choices=Recipients.choices)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["kind", "days"]

    def __str__(self) -> str:
        return self.name


# Most urgent first. The codes are text, so ordering by them would put yellow before red.
SEVERITY_RANK = {Severity.RED: 0, Severity.YELLOW: 1, Severity.INFO: 2}


class ReminderQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)

    def most_urgent_first(self):
        """Red, then yellow, then info; the earliest due first within each."""
        rank = models.Case(*(models.When(severity=code, then=models.Value(position))
                             for code, position in SEVERITY_RANK.items()),
                           default=models.Value(len(SEVERITY_RANK)),
                           output_field=models.IntegerField())
        return self.alias(severity_rank=rank).order_by("severity_rank", "due_on", "pk")


class Reminder(models.Model):
    # No index of its own: the natural key's index starts with rule (a redundant index is
    # one more write for each of the scan's 100,000 rows).
    rule = models.ForeignKey(ReminderRule, on_delete=models.CASCADE, related_name="reminders",
                             db_index=False)
    # No index of its own either: the inbox's index below starts with recipient.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="reminders", db_index=False)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    due_on = models.DateField(_("due on"))
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    # The evaluator's word (registry.Due.confidential): the title and details name the record,
    # so channels that leave the product send neither (channels.webhook_payload).
    confidential = models.BooleanField(_("confidential"), default=False)
    fanned_out = models.BooleanField(default=False, help_text="deliveries created")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "content_type", "object_id", "due_on", "recipient"],
                name="reminder_natural_key"),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"]),
            models.Index(fields=["fanned_out"], condition=Q(fanned_out=False),
                         name="reminder_not_fanned_out"),
        ]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Enterprise IM webhook")


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # No index of its own: one_delivery_per_channel's index starts with reminder.
    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="deliveries",
                                 db_index=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # With the id, the idempotency key every attempt at this delivery carries
    # (channels.idempotency_key): receivers can drop a re-send after a worker's crash.
    key = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["reminder", "channel"],
                                    name="one_delivery_per_channel"),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_status_display()}"


class Preference(models.Model):
    class WebhookKind(models.TextChoices):
        NONE = "", _("None")
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk group robot")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    email = models.BooleanField(_("send reminders by email"), default=True)
    webhook_kind = models.CharField(_("enterprise IM robot"), max_length=10,
                                    choices=WebhookKind.choices, blank=True, default="")
    webhook_url = HttpsURLField(
        _("robot webhook URL"), blank=True, max_length=500, validators=[validate_webhook_url],
        help_text=_("The https:// address of a WeCom or DingTalk group robot."))
    webhook_secret = models.CharField(
        _("signing secret"), max_length=200, blank=True,
        help_text=_("DingTalk robots with 加签 security: the secret starting with SEC."))
    daily_digest = models.BooleanField(_("daily digest"), default=True)
    # E-mails are written in this language (the site's when empty): a message leaves the
    # request, so it cannot follow the language switch of the browser that is not there.
    language = models.CharField(
        _("language of e-mails"), max_length=10, blank=True, default="",
        choices=[("", _("The site's language"))] + list(settings.LANGUAGES))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_kind and self.webhook_url)
