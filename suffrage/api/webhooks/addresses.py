"""Where a webhook may post: a check against server-side request forgery.

A campaign manager types the address; the server posts to it. Without a check, the
address could name the server itself, the local network, or a cloud provider's
metadata service (169.254.169.254), and the answer excerpt shown in the delivery log
would leak what is there. So the host is resolved and every address it resolves to
must be public: no private, loopback, link-local, multicast, reserved or unspecified
address, in IPv4 or IPv6, including IPv4 addresses carried inside IPv6 ones
(IPv4-mapped, NAT64, 6to4, Teredo). The check runs when the webhook is saved and again
before each send (DNS may have changed since), and the connection is made to the
address checked, not to a second resolution of the name, so a name that resolves to a
public address for the check and to a private one a moment later (DNS rebinding)
changes nothing. HTTPS is required.

WEBHOOK_ALLOW_PRIVATE lets an operator whose other tools run on the same network
(or a test) reach private addresses and use plain HTTP."""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from suffrage.core.network import is_public


class UnsafeAddress(Exception):
    """The address cannot be used; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Target:
    """A checked address: where to connect (`addresses`, in the order to try them) and
    what to ask for (`host` for the Host header and TLS, `path` with its query)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _resolve(host: str, port: int) -> tuple[str, ...]:
    literal = host.strip("[]")
    try:
        return (str(ipaddress.ip_address(literal)),)
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeAddress(_("The name %(host)s is not known (DNS).") % {"host": host}) from error
    return tuple(dict.fromkeys(str(info[4][0]) for info in found))


def target_for(url: str) -> Target:
    """The checked target of a webhook address, or UnsafeAddress saying why not."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise UnsafeAddress(_("This is not a web address.")) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress(_("This is not a web address."))
    if parts.scheme != "https" and not allow_private:
        raise UnsafeAddress(_("The address must start with https:// (the events carry personal data)."))
    if parts.username or parts.password:
        raise UnsafeAddress(_("Leave the user name and password out of the address: the signature proves the sender."))
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise UnsafeAddress(_("This is not a web address.")) from error
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not allow_private:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise UnsafeAddress(
                _("%(host)s leads to a private or local address (%(address)s): webhooks reach public addresses only.")
                % {"host": host, "address": refused[0]}
            )
    path = parts.path or "/"
    return Target(parts.scheme, host, port, f"{path}?{parts.query}" if parts.query else path, addresses)
