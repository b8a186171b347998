"""Delivery channels. A channel raises TransientDeliveryError for failures worth retrying
(SMTP down, a webhook's 5xx or timeout) and PermanentDeliveryError for ones that are not
(a rejected address, a robot that answers 4xx or an error code)."""

import base64
import contextlib
import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .models import Severity

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


def send_email(*, delivery, reminder, user, connection=None) -> None:
    if not user.email:
        raise PermanentDeliveryError("the user has no email address")
    body = reminder.body + ("\n\n" + absolute(reminder.link) if reminder.link else "")
    message = EmailMessage(
        # Severity(...).label, not get_severity_display(): that one hashes every choice's lazy
        # label on each call, a sixth of the cost of a message in bench/reminders_bench.py.
        subject=f"[{Severity(reminder.severity).label}] {reminder.title}", body=body,
        to=[user.email],
        # A stable Message-ID: if a crash ever makes us hand the same delivery to the mail
        # server twice, servers and clients see one message.
        headers={"Message-ID": f"<reminder-delivery-{delivery.pk}@{settings.MAIL_DOMAIN}>"},
        connection=connection,
    )
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


def webhook_payload(kind: str, reminder) -> dict:
    text = f"**{reminder.title}**\n\n{reminder.body}"
    if reminder.link:
        text += f"\n\n[{absolute(reminder.link)}]({absolute(reminder.link)})"
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": reminder.title, "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}  # WeCom


def send_webhook(*, delivery, reminder, user, connection=None) -> None:
    # `connection` is the batch's mail connection; a robot is one HTTPS request of its own.
    preference = getattr(user, "notification_preference", None)
    if preference is None or not preference.webhook_enabled:
        raise PermanentDeliveryError("no webhook configured")
    url = preference.webhook_url
    if preference.webhook_kind == "dingtalk" and preference.webhook_secret:
        url = dingtalk_signed_url(url, preference.webhook_secret)
    request = urllib.request.Request(
        url, data=json.dumps(webhook_payload(preference.webhook_kind, reminder)).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        if error.code >= 500:
            raise TransientDeliveryError(f"HTTP {error.code}")
        raise PermanentDeliveryError(f"HTTP {error.code}")
    except (TimeoutError, urllib.error.URLError, OSError) as error:
        raise TransientDeliveryError(str(error))
    # Both robots answer 200 with {"errcode": 0} on success.
    if answer.get("errcode", 0) != 0:
        raise PermanentDeliveryError(f"robot answered {answer}")


SENDERS = {"email": send_email, "webhook": send_webhook}
