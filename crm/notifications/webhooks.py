"""Which webhook URLs the worker may POST to, and the POST itself.

A user types the robot's URL, and the worker sends to it from inside the network: without a
policy that is a server-side request forgery (http://127.0.0.1:6379/ reaches Redis,
http://169.254.169.254/ the cloud's metadata). So a URL is accepted only if

- it is https, on the default port, without credentials in it;
- its host is on settings.WEBHOOK_ALLOWED_HOSTS (the WeCom and DingTalk robot hosts by
  default); and
- every address the host resolves to (socket.getaddrinfo, all of them: one private address
  among public ones is enough to reach inside) is a public one: not loopback, link-local,
  private, reserved, multicast or otherwise non-global.

The same check runs when the preference is saved (the model field's validator, so the form,
the admin and the service give the reason on the URL field) and again before every send (DNS
answers change, and a row may have been written without validation). The send connects to the
very address it checked, not to a second lookup's answer (DNS rebinding), and follows no
redirect: a 3xx is a failure, or an allowed host could bounce the request anywhere.

An allow-list entry written as an origin ("http://10.1.2.3:8080", scheme and port included)
names one endpoint the operator trusts as written: a privately deployed WeCom server on the
intranet, or a test's local server. Such an origin is exempt from the https and public-address
rules, and only that exact scheme, host and port is.
"""

import http.client
import ipaddress
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DEFAULT_PORTS = {"https": 443, "http": 80}


class WebhookRefused(Exception):
    """The URL breaks the policy above; the message is the reason, for a person to read."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    addresses: tuple[str, ...]  # vetted, in getaddrinfo's order; empty: not resolved (yet)


def _allowed() -> tuple[set[str], set[tuple[str, str, int]]]:
    """The allow-list, split into bare hosts and trusted origins (scheme, host, port)."""
    hosts, origins = set(), set()
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if "://" in entry:
            parts = urllib.parse.urlsplit(entry)
            origins.add((parts.scheme, parts.hostname or "",
                         parts.port or DEFAULT_PORTS.get(parts.scheme, 0)))
        elif entry:
            hosts.add(entry.rstrip("."))
    return hosts, origins


_ADDRESS_KINDS = [  # (test, reason), the first that matches names the refusal
    ("is_loopback", gettext_lazy("a loopback address")),
    ("is_link_local", gettext_lazy("a link-local address")),
    ("is_multicast", gettext_lazy("a multicast address")),
    ("is_unspecified", gettext_lazy("a reserved address")),
    ("is_reserved", gettext_lazy("a reserved address")),
    ("is_private", gettext_lazy("a private address")),
]


def address_refusal(address: str) -> str | None:
    """Why `address` may not be sent to, or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
        ip = ip.ipv4_mapped
    for test, reason in _ADDRESS_KINDS:
        if getattr(ip, test):
            return str(reason)
    if not ip.is_global:  # shared (100.64/10) and the other special ranges
        return str(_ADDRESS_KINDS[-1][1])
    return None


def resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address `host` resolves to, in the resolver's order (socket.gaierror if none)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return tuple(dict.fromkeys(info[4][0] for info in infos))


def check(url: str, *, resolve_host: bool = True) -> Target:
    """The URL's target if the policy allows it; WebhookRefused with the reason if not.
    socket.gaierror (the name does not resolve right now) passes through to the caller, who
    knows whether that is worth a retry."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise WebhookRefused(_("This is not a valid URL.")) from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookRefused(_("This is not a valid URL."))
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused(_("The URL must not contain a user name or password."))
    port = port or DEFAULT_PORTS.get(scheme, 0)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    hosts, origins = _allowed()
    if (scheme, host, port) in origins:
        # Named by the operator as an exact origin: trusted as written (module docstring).
        return Target(scheme, host, port, path,
                      resolve(host, port) if resolve_host else ())
    if scheme != "https":
        raise WebhookRefused(_("Only https:// robot URLs are accepted."))
    if host not in hosts or port != DEFAULT_PORTS["https"]:
        raise WebhookRefused(
            _("%(host)s is not an allowed robot host (allowed: %(allowed)s).")
            % {"host": parts.netloc.rsplit("@", 1)[-1],
               "allowed": ", ".join(sorted(hosts)) or "—"})
    if not resolve_host:
        return Target(scheme, host, port, path, ())
    addresses = resolve(host, port)
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise WebhookRefused(
                _("%(host)s resolves to %(address)s, %(reason)s: refused.")
                % {"host": host, "address": address, "reason": reason})
    return Target(scheme, host, port, path, addresses)


def validate_webhook_url(url: str) -> None:
    """The model field's validator (so forms, the admin and full_clean() all refuse). A name
    that does not resolve at this moment is let through: there are no addresses to refuse, and
    the send checks again before every request."""
    if not url:
        return
    try:
        check(url)
    except WebhookRefused as refusal:
        raise ValidationError(str(refusal), code="webhook_refused") from None
    except (socket.gaierror, UnicodeError):
        check(url, resolve_host=False)  # still the scheme and the allow-list


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a vetted address, with the certificate checked against the host name."""

    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(target: Target, body: bytes, headers: dict, *, timeout: float) -> tuple[int, bytes]:
    """POST to the first of the target's vetted addresses; returns (status, body). http.client
    follows no redirect: a 3xx comes back as it is, for the caller to refuse."""
    address = target.addresses[0]
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target.host, target.port, address=address,
                                            timeout=timeout,
                                            context=ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(target.host, target.port, address=address,
                                           timeout=timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
