"""What the text-message providers share: an HTTP client that keeps its connection
open between a transport's open() and close() (the engine sends up to about a hundred
messages a second through one transport), phone numbers in E.164, the GSM 7-bit
alphabet, and the constant-time checks of webhook secrets.

Secrets never appear in the errors raised here: they name the provider and the
network error, never a URL (which may carry a token) nor a header."""

from __future__ import annotations

import base64
import contextlib
import hmac
import http.client
import json
import select
import socket
import ssl
import urllib.parse
from typing import Any

import phonenumbers
from django.utils.translation import gettext

from suffrage.messaging.transports.base import InboundRequest, SignatureError, TemporaryFailure
from suffrage.texting.gsm import is_gsm  # a leaf module: the alphabet, no models

TIMEOUT = 15.0
DEFAULT_REGION = "FR"


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the GSM 7-bit alphabet (160 characters
    a part); else the provider must be told to send UCS-2 (70 a part)."""
    return all(is_gsm(char) for char in text)


def e164(number: str, region: str = DEFAULT_REGION) -> str:
    """The number in E.164 with its "+", or "" when it is not a phone number.

    Providers often drop the "+" ("33612345678") or send national numbers
    ("0612345678", read in `region`)."""
    raw = "".join(char for char in str(number) if char.isdigit() or char == "+")
    if not raw:
        return ""
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    candidates = [raw] if raw.startswith("+") else ["+" + raw, raw]
    fallback = ""
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, None if candidate.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(parsed):
            return formatted
        if not fallback and phonenumbers.is_possible_number(parsed):
            fallback = formatted
    return fallback


def digits(number: str) -> str:
    """The number's digits without the "+" (what Vonage and Brevo expect)."""
    return "".join(char for char in (e164(number) or number) if char.isdigit())


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of a received secret or signature with ours."""
    return hmac.compare_digest(given.encode(), expected.encode())


def with_token(url: str, token: str, **extra: str) -> str:
    """`url` with `token=…` (and `extra` parameters) added to its query string: the
    callback address given to providers that do not sign their calls."""
    if not url:
        return ""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in extra.items()]
    if token:
        query.append(("token", token))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def check_token(request: InboundRequest, token: str) -> None:
    """For providers without a signature scheme: the call must carry our shared secret,
    as the `token` query parameter, the HTTP basic authentication password or a bearer
    token. Raises SignatureError when no secret is configured or none matches."""
    if not token:
        raise SignatureError(gettext("No webhook token is configured for this transport."))
    offered = [request.params.get("token", "")]
    authorization = request.headers.get("authorization", "")
    scheme, _space, credentials = authorization.partition(" ")
    if scheme.lower() == "basic":
        with contextlib.suppress(ValueError):  # UnicodeDecodeError is a ValueError
            offered.append(base64.b64decode(credentials, validate=True).decode().partition(":")[2])
    elif scheme.lower() == "bearer":
        offered.append(credentials.strip())
    # Every candidate is compared, so the time taken does not tell which one was close.
    matches = [same(candidate, token) for candidate in offered if candidate]
    if not any(matches):
        raise SignatureError(gettext("The webhook token is missing or wrong."))


def request_params(request: InboundRequest) -> dict[str, str]:
    """The call's parameters: query string and form fields, plus a JSON object body's
    fields when the provider posts JSON (Vonage can do either)."""
    params = dict(request.params)
    if "json" in request.headers.get("content-type", "") and request.body:
        try:
            loaded = json.loads(request.body)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            params.update({str(key): "" if value is None else str(value) for key, value in loaded.items()})
    return params


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive socket that is readable was closed by the server (or holds
    data nobody asked for): it must not carry the next request."""
    try:
        poller = select.poll()
    except AttributeError:  # no poll() (Windows)
        readable, _writable, _errors = select.select([sock], [], [], 0)
        return bool(readable)
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _describe(error: Exception) -> str:
    """A network error in words that never quote the address (which may hold a token)."""
    if isinstance(error, OSError) and error.strerror:
        return str(error.strerror)
    if isinstance(error, TimeoutError):
        return "timed out"
    return error.__class__.__name__


class HttpClient:
    """One provider's API over a connection kept open (HTTP/1.1 keep-alive) until
    close(): a dropped connection is noticed before a request and reopened. A request
    is never sent twice here: a failure is a TemporaryFailure and the engine retries.

    Not thread-safe: one transport instance sends from one thread."""

    def __init__(self, provider: str, timeout: float = TIMEOUT) -> None:
        self.provider = provider
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._origin: tuple[str, str, int] = ("", "", 0)
        self.connections_opened = 0  # for tests and logs

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def _connect(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        connection = self._connection
        reusable = connection is not None and self._origin == (scheme, host, port)
        if connection is not None and reusable and (connection.sock is None or not _dropped(connection.sock)):
            return connection
        self.close()
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
        self._connection, self._origin = connection, (scheme, host, port)
        self.connections_opened += 1
        return connection

    def request(
        self,
        method: str,
        url: str,
        *,
        form: dict[str, str] | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Send one request; returns (HTTP status, the answer's JSON or None).

        The body is `form` (form-encoded), `json_body` (serialised) or `body` as given
        (when a signature covers its exact bytes)."""
        sent_headers = {"Accept": "application/json", **(headers or {})}
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise TemporaryFailure(gettext("%(provider)s: the API address is not valid.") % {"provider": self.provider})
        port = parts.port or (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._connect(scheme, parts.hostname, port)
        try:
            connection.request(method, target, body=body, headers=sent_headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise TemporaryFailure(
                gettext("%(provider)s cannot be reached: %(error)s")
                % {"provider": self.provider, "error": _describe(error)}
            ) from None
        try:
            data = json.loads(raw) if raw.strip() else None
        except ValueError:
            data = None
        return response.status, data

    def post(
        self,
        url: str,
        *,
        form: dict[str, str] | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """POST form fields or JSON; returns (status, the answer's JSON object or {})."""
        status, data = self.request("POST", url, form=form, json_body=json_body, body=body, headers=headers)
        return status, data if isinstance(data, dict) else {}


def post(
    url: str,
    provider: str,
    *,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = TIMEOUT,
) -> tuple[int, dict[str, Any]]:
    """One POST on a connection of its own (for a single message outside a mailing)."""
    client = HttpClient(provider, timeout)
    try:
        return client.post(url, form=form, json_body=json_body, headers=headers)
    finally:
        client.close()
