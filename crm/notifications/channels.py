"""Delivery channels. A channel raises TransientDeliveryError for failures worth retrying
(SMTP down, a webhook's 5xx or timeout) and PermanentDeliveryError for ones that are not
(a rejected address, a robot that answers 4xx or an error code)."""

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import smtplib
import socket
import time
import urllib.parse

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from . import registry, webhooks
from .models import Recipients, Severity

WEBHOOK_TIMEOUT_SECONDS = 10


class TransientDeliveryError(Exception):
    pass


class PermanentDeliveryError(Exception):
    pass


def absolute(link: str) -> str:
    return settings.SITE_URL.rstrip("/") + link if link.startswith("/") else link


def email_connection():
    """An open connection to the mail server, shared by every e-mail of a batch (one SMTP
    handshake, login and TLS negotiation instead of one per message). A server that cannot be
    reached is a transient failure of every message that would have used it."""
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        raise TransientDeliveryError(str(error))
    return connection


def close_quietly(connection) -> None:
    """Close a batch's mail connection. Every message was already accepted or failed on its
    own; a server that hangs up rudely at QUIT changes nothing."""
    if connection is None:
        return
    with contextlib.suppress(smtplib.SMTPException, OSError):
        connection.close()


def email_language(user) -> str:
    """The language the user reads e-mails in (Preference.language, else the site's)."""
    try:
        preference = user.notification_preference  # prefetched by deliveries_send
    except ObjectDoesNotExist:
        preference = None
    return (preference.language if preference and preference.language
            else settings.LANGUAGE_CODE)


def reminder_email(reminder, user) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a reminder's e-mail, in the user's language: what is
    due and when, the record and a link to it, and why the user got it (the rule, and whom it
    tells), with a link to their notification settings."""
    with translation.override(email_language(user)):
        rule = reminder.rule
        context = {
            "reminder": reminder, "user": user,
            # Severity(...).label, not get_severity_display(): that one hashes every choice's
            # lazy label on each call, a sixth of a message's cost in bench/reminders_bench.py.
            "severity": Severity(reminder.severity).label,
            "link": absolute(reminder.link) if reminder.link else "",
            "rule": rule.name, "recipients": Recipients(rule.recipients).label,
            "settings_link": absolute(reverse("notifications:preferences")),
            "inbox_link": absolute(reverse("notifications:inbox")),
        }
        subject = f"[{context['severity']}] {reminder.title}"
        text = render_to_string("notifications/email/reminder.txt", context)
        html = render_to_string("notifications/email/reminder.html", context)
    return subject, text, html


def send_email(*, delivery, reminder, user, connection=None) -> None:
    if not user.email:
        raise PermanentDeliveryError("the user has no email address")
    subject, text, html = reminder_email(reminder, user)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[user.email],
        # A stable Message-ID: if a crash ever makes us hand the same delivery to the mail
        # server twice, servers and clients see one message.
        headers={"Message-ID": f"<reminder-delivery-{delivery.pk}@{settings.MAIL_DOMAIN}>"},
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
        raise PermanentDeliveryError(str(error))
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        raise TransientDeliveryError(str(error))


def dingtalk_signed_url(url: str, secret: str, *, now_ms: int | None = None) -> str:
    """DingTalk's 加签: HMAC-SHA256 of "timestamp\\nsecret", base64, URL-encoded."""
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp}&sign={sign}"


def idempotency_key(delivery) -> str:
    """The same for every attempt at one delivery and different for every other: the row's id
    (unique in this database) and its uuid (unique across databases: a restored backup or a
    staging copy numbers rows again). A receiver that keeps the keys drops a re-send after a
    crash (services' module docstring)."""
    return f"reminder-delivery-{delivery.pk}-{delivery.key}"


def confidential_title(reminder) -> str:
    """How a message that leaves the product names a confidential reminder: the rule's name
    ("下一步计划到期") says what is due, and the record is named in the words its own app uses
    for a reader who may not open it (registry.confidential_name): "保密项目（ID 12）". The
    rule should be loaded with the reminder; get_for_id() is ContentType's cache."""
    model = ContentType.objects.get_for_id(reminder.content_type_id).model_class()
    return _("%(rule)s: %(record)s") % {
        "rule": reminder.rule.name,
        "record": registry.confidential_name(model, reminder.object_id)}


def webhook_payload(kind: str, reminder, *, key: str = "") -> dict:
    """A robot message. A robot posts into a group chat, read by people who may not open the
    record, so a confidential reminder gives only how its app names such a record and the
    link (which asks whoever follows it to sign in): not the title or the details, which name
    the project and its company."""
    if reminder.confidential:
        title = confidential_title(reminder)
        text = f"**{title}**"
    else:
        title = reminder.title
        text = f"**{reminder.title}**\n\n{reminder.body}"
    if reminder.link:
        text += f"\n\n[{absolute(reminder.link)}]({absolute(reminder.link)})"
    if kind == "dingtalk":
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    else:  # WeCom
        payload = {"msgtype": "markdown", "markdown": {"content": text}}
    if key:
        # In the body as well as the Idempotency-Key header: a relay or gateway that logs
        # messages can drop a re-send on it. (The robots are expected to ignore a field they do
        # not know, as JSON APIs do; watch the first live send after a deployment.)
        payload["idempotency_key"] = key
    return payload


def send_webhook(*, delivery, reminder, user, connection=None) -> None:
    """POST the reminder to the user's robot, through the URL policy of webhooks.py. A URL the
    policy refuses is a permanent failure with the reason (no retry can make it acceptable);
    so is a redirect, which is not followed."""
    # `connection` is the batch's mail connection; a robot is one HTTPS request of its own.
    preference = getattr(user, "notification_preference", None)
    if preference is None or not preference.webhook_enabled:
        raise PermanentDeliveryError("no webhook configured")
    url = preference.webhook_url
    if preference.webhook_kind == "dingtalk" and preference.webhook_secret:
        url = dingtalk_signed_url(url, preference.webhook_secret)
    try:
        target = webhooks.check(url)
    except webhooks.WebhookRefused as refusal:
        raise PermanentDeliveryError(f"webhook URL refused: {refusal}")
    except (socket.gaierror, UnicodeError) as error:
        raise TransientDeliveryError(f"cannot resolve the robot's host: {error}")
    key = idempotency_key(delivery)
    body = json.dumps(webhook_payload(preference.webhook_kind, reminder, key=key)).encode()
    try:
        status, answer_body = webhooks.post(
            target, body, {"Content-Type": "application/json; charset=utf-8",
                           "Idempotency-Key": key}, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except (TimeoutError, http.client.HTTPException, OSError) as error:
        raise TransientDeliveryError(str(error) or type(error).__name__)
    if 300 <= status < 400:
        raise PermanentDeliveryError(f"HTTP {status}: the robot redirected, not followed")
    if status >= 500:
        raise TransientDeliveryError(f"HTTP {status}")
    if status >= 400:
        raise PermanentDeliveryError(f"HTTP {status}")
    try:
        answer = json.loads(answer_body or b"{}")
    except ValueError:
        raise PermanentDeliveryError(f"robot answered HTTP {status} with no JSON")
    # Both robots answer 200 with {"errcode": 0} on success.
    if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
        raise PermanentDeliveryError(f"robot answered {answer}")


SENDERS = {"email": send_email, "webhook": send_webhook}
