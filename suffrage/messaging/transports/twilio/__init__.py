"""Twilio's Programmable Messaging API: POST /2010-04-01/Accounts/{sid}/Messages.json,
form-encoded To, From, Body (and StatusCallback, our webhook), HTTP basic
authentication with the account SID and auth token; the answer's `sid` identifies the
message. It sends the privacy page's confirmation codes and SMS campaigns.

Twilio calls our webhook for status callbacks (MessageStatus, ErrorCode) and for the
messages people send back (From, Body, and OptOutType when Twilio's own STOP/START
handling acted). Each call is signed: X-Twilio-Signature is the base64 HMAC-SHA1, keyed
with the auth token, of the full URL called followed by the POST parameters sorted by
name, each name and value concatenated
(https://www.twilio.com/docs/usage/webhooks/webhooks-security)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.base import (
    DkimKey,
    InboundRequest,
    PermanentFailure,
    SendResult,
    SignatureError,
    SmsEvent,
    SmsMessage,
    TemporaryFailure,
    TransportConfigurationError,
    TransportKind,
)
from suffrage.messaging.transports.sms_http import HttpClient, e164, same

API_URL = "https://api.twilio.com"

# Twilio error codes (https://www.twilio.com/docs/api/errors) for a number that can
# never receive: invalid, not a mobile, unsubscribed, unknown or landline handset.
RECIPIENT_ERRORS = {21211, 21214, 21610, 21612, 21614, 30003, 30005, 30006}
# The account or its sender is at fault: every message would fail the same way.
CONFIGURATION_ERRORS = {20003, 20404, 21212, 21606, 30002}
UNSUBSCRIBED = 21610
ERROR_WORDS = {
    20003: "Authentication failed",
    20404: "Resource not found",
    21211: "Invalid 'To' phone number",
    21212: "Invalid 'From' phone number",
    21214: "'To' phone number cannot be reached",
    21606: "The 'From' number is not a message-capable Twilio number",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' number is not reachable via SMS",
    21614: "'To' number is not a valid mobile number",
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered by the carrier",
    30008: "Unknown error",
}
# Statuses after which Twilio has nothing more to tell; the others (queued, sending,
# sent, accepted, scheduled…) are steps on the way and yield no event.
FAILED_STATUSES = {"undelivered", "failed"}
RECEIVED_STATUSES = {"received", "receiving"}


class TwilioTransport:
    def __init__(
        self, account_sid: str, auth_token: str, sender_id: str, api_url: str = "", webhook_url: str = ""
    ) -> None:
        if not account_sid or not auth_token:
            raise TransportConfigurationError(gettext("Twilio: the account SID and the auth token are needed."))
        self.account_sid, self.auth_token, self.sender_id = account_sid, auth_token, sender_id
        self.api_url = (api_url or API_URL).rstrip("/")
        self.webhook_url = webhook_url
        self.http = HttpClient("Twilio")
        self.opened = False

    def open(self) -> None:
        self.opened = True

    def close(self) -> None:
        self.opened = False
        self.http.close()

    def send(self, message: SmsMessage) -> SendResult:
        url = f"{self.api_url}/2010-04-01/Accounts/{urllib.parse.quote(self.account_sid)}/Messages.json"
        form = {"To": message.to, "From": message.sender_id or self.sender_id, "Body": message.body}
        if self.webhook_url:
            form["StatusCallback"] = self.webhook_url
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        try:
            status, answer = self.http.post(url, form=form, headers={"Authorization": f"Basic {credentials}"})
        finally:
            if not self.opened:  # a single message outside open()/close()
                self.http.close()
        if 200 <= status < 300:
            return SendResult(provider_id=str(answer.get("sid", "")))
        raise _failure(status, answer)


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _failure(status: int, answer: dict[str, Any]) -> Exception:
    code = _code(answer.get("code"))
    text = gettext("Twilio: %(message)s (code %(code)s)") % {
        "message": str(answer.get("message", ""))[:200],
        "code": answer.get("code", status),
    }
    if status in (401, 403, 404) or code in CONFIGURATION_ERRORS:
        return TransportConfigurationError(text)
    if code in RECIPIENT_ERRORS:
        return PermanentFailure(text)
    return TemporaryFailure(text)


def signature(auth_token: str, url: str, post_params: list[tuple[str, str]]) -> str:
    """X-Twilio-Signature for a call to `url` with these POST parameters."""
    payload = url
    for name in sorted({name for name, _value in post_params}):
        for value in sorted(value for key, value in post_params if key == name):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as called, and with or without its default port: Twilio signs the
    address as configured, which a proxy may rewrite either way (as Twilio's own
    libraries accept)."""
    parts = urllib.parse.urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    variants = [url]
    if parts.port is None and default:
        variants.append(urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")))
    elif parts.port == default:
        netloc = parts.netloc.rsplit(":", 1)[0] if host else parts.netloc
        variants.append(urllib.parse.urlunsplit(parts._replace(netloc=netloc)))
    return variants


def inbound(request: InboundRequest, settings: dict[str, Any], secrets: dict[str, Any]) -> list[SmsEvent]:
    auth_token = str(secrets.get("auth_token", ""))
    given = request.headers.get("x-twilio-signature", "")
    if not auth_token or not given:
        raise SignatureError(gettext("Twilio: the call is not signed."))
    post_params: list[tuple[str, str]] = []
    if request.method.upper() == "POST":
        post_params = urllib.parse.parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    # Every variant is computed and compared, whichever matches.
    checks = [same(given, signature(auth_token, url, post_params)) for url in _url_variants(request.url)]
    if not any(checks):
        raise SignatureError(gettext("Twilio: the signature does not match."))
    return _events({**request.params, **dict(post_params)})


def _events(params: dict[str, str]) -> list[SmsEvent]:
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if status in RECEIVED_STATUSES or (not status and "Body" in params):
        number = e164(params.get("From", ""))
        opt = params.get("OptOutType", "").upper()
        if opt == "STOP":
            return [SmsEvent(kind="opt_out", number=number, text=params.get("Body", ""))]
        if opt == "START":
            return [SmsEvent(kind="opt_in", number=number, text=params.get("Body", ""))]
        return [SmsEvent(kind="reply", number=number, text=params.get("Body", ""))]
    provider_id = params.get("MessageSid") or params.get("SmsSid") or ""
    number = e164(params.get("To", ""))
    if status == "delivered":
        return [SmsEvent(kind="delivered", number=number, provider_id=provider_id)]
    if status in FAILED_STATUSES:
        code = _code(params.get("ErrorCode"))
        words = params.get("ErrorMessage") or ERROR_WORDS.get(code or 0, "") or status
        reason = f"{code} {words}" if code is not None else words
        events = [
            SmsEvent(
                kind="failed",
                number=number,
                provider_id=provider_id,
                reason=reason,
                permanent=code in RECIPIENT_ERRORS,
            )
        ]
        if code == UNSUBSCRIBED:  # the person had sent STOP: Twilio refuses to text them
            events.append(SmsEvent(kind="opt_out", number=number, provider_id=provider_id))
        return events
    return []


def build(settings: dict[str, Any], secrets: dict[str, Any], dkim: DkimKey | None) -> TwilioTransport:
    return TwilioTransport(
        account_sid=str(settings.get("account_sid", "")),
        auth_token=str(secrets.get("auth_token", "")),
        sender_id=str(settings.get("sender_id", "")),
        api_url=str(settings.get("api_url", "")),
        webhook_url=str(settings.get("webhook_url", "")),
    )


KIND = TransportKind(
    kind="twilio",
    label=_("Twilio (text messages)"),
    settings_fields=("account_sid", "sender_id", "api_url"),
    secret_fields=("auth_token",),
    spf_hint="",
    build=build,
    channel="sms",
    inbound=inbound,
    inbound_answer=("<Response/>", "text/xml"),
)
