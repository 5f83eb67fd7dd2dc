"""Vonage's SMS API (formerly Nexmo): POST {api}/sms/json with the form fields api_key,
api_secret, from, to (digits, no "+"), text, type=unicode when the text is not GSM
7-bit, and status-report-req=1 with callback (our webhook) for delivery receipts.

The answer lists one entry per part of the message
({"message-count": "2", "messages": [{"status": "0", "message-id": …}, …]}); status
codes, from https://developer.vonage.com/en/api-errors/sms and the SMS
troubleshooting guide:
  0 success; 1 throttled, 5 internal error → retry later;
  4 invalid credentials, 8 account barred, 9 quota exceeded (no credit), 11 account not
    enabled for HTTP, 14 invalid signature, 15 sender not allowed → configuration;
  6 invalid message (unrecognised prefix), 7 number barred, 29 non-whitelisted
    destination, 33 number de-activated, and 3 invalid parameters when it is the "to"
    number → never deliverable to this number;
  anything else → retry later.

Vonage calls our webhook (GET, form POST or JSON POST, as set in the dashboard) with
delivery receipts (msisdn, messageId, status delivered/expired/failed/rejected/…,
err-code) and inbound messages (msisdn, to, text, keyword, messageId). Signed webhooks
(enabled on the account by Vonage support) carry `sig`: the parameters but `sig`,
sorted by name, each written "&name=value" with "&" and "=" in values replaced by "_";
"md5hash" is the MD5 hex of that string followed by the signature secret, the other
methods (md5, sha1, sha256, sha512) its HMAC keyed with the secret
(https://developer.vonage.com/en/getting-started/concepts/signing-messages, and the
check in Vonage's server SDKs). Without signing, the transport's webhook_token must be
in the webhook address."""

from __future__ import annotations

import hashlib
import hmac
import re
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
from suffrage.messaging.transports.sms_http import (
    HttpClient,
    check_token,
    digits,
    e164,
    is_gsm7,
    request_params,
    same,
    with_token,
)

API_URL = "https://rest.nexmo.com"

TEMPORARY_STATUSES = {"1", "5"}
CONFIGURATION_STATUSES = {"4", "8", "9", "11", "14", "15", "32"}
RECIPIENT_STATUSES = {"6", "7", "29", "33"}
INVALID_PARAMETERS = "3"
STATUS_WORDS = {
    "1": "Throttled",
    "2": "Missing parameters",
    "3": "Invalid parameters",
    "4": "Invalid credentials",
    "5": "Internal error",
    "6": "Invalid message",
    "7": "Number barred",
    "8": "Partner account barred",
    "9": "Partner quota violation",
    "10": "Too many existing binds",
    "11": "Account not enabled for HTTP",
    "12": "Message too long",
    "14": "Invalid signature",
    "15": "Invalid sender address",
    "22": "Invalid network code",
    "23": "Invalid callback URL",
    "29": "Non-whitelisted destination",
    "32": "Signature and API secret disallowed",
    "33": "Number de-activated",
}

# Delivery receipt err-code, from "Vonage SMS Delivery Error Codes"
# (https://api.support.vonage.com/hc/en-us/articles/204014733). 3 (absent subscriber,
# permanent), 4 (call barred by user), 9 (illegal number: the person refused messages
# from this service) and 14 (blocked by the carrier) mean the number will not receive.
DLR_WORDS = {
    "0": "Delivered",
    "1": "Unknown",
    "2": "Absent subscriber - temporary",
    "3": "Absent subscriber - permanent",
    "4": "Call barred by user",
    "5": "Portability error",
    "6": "Anti-spam rejection",
    "7": "Handset busy",
    "8": "Network error",
    "9": "Illegal number",
    "10": "Illegal message",
    "11": "Unroutable",
    "12": "Destination unreachable",
    "13": "Subscriber age restriction",
    "14": "Number blocked by carrier",
    "15": "Pre-paid insufficient funds",
    "99": "General error",
}
PERMANENT_DLR_CODES = {"3", "4", "9", "14"}
FAILED_DLR_STATUSES = {"failed", "rejected", "expired"}
SIGNATURE_METHODS = {"md5hash", "md5", "sha1", "sha256", "sha512"}


class VonageTransport:
    def __init__(
        self,
        api_key: str,
        api_secret: str,
        sender_id: str,
        api_url: str = "",
        webhook_url: str = "",
        webhook_token: str = "",
        signed_webhooks: bool = False,
    ) -> None:
        if not api_key or not api_secret:
            raise TransportConfigurationError(gettext("Vonage: the API key and the API secret are needed."))
        self.api_key, self.api_secret, self.sender_id = api_key, api_secret, sender_id
        self.url = f"{(api_url or API_URL).rstrip('/')}/sms/json"
        # Receipts are asked for only when their calls can be verified: signed by Vonage,
        # or carrying our token (anything else would be refused by inbound()).
        self.callback = ""
        if signed_webhooks:
            self.callback = webhook_url
        elif webhook_token:
            self.callback = with_token(webhook_url, webhook_token)
        self.http = HttpClient("Vonage")
        self.opened = False

    def open(self) -> None:
        self.opened = True

    def close(self) -> None:
        self.opened = False
        self.http.close()

    def send(self, message: SmsMessage) -> SendResult:
        form = {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "from": message.sender_id or self.sender_id,
            "to": digits(message.to),
            "text": message.body,
        }
        if not is_gsm7(message.body):
            form["type"] = "unicode"
        if self.callback:
            form["status-report-req"] = "1"
            form["callback"] = self.callback
        try:
            status, answer = self.http.post(self.url, form=form)
        finally:
            if not self.opened:
                self.http.close()
        if status in (401, 403):
            raise TransportConfigurationError(
                gettext("Vonage refuses the credentials (HTTP %(status)s).") % {"status": status}
            )
        if not 200 <= status < 300:
            raise TemporaryFailure(gettext("Vonage answered HTTP %(status)s.") % {"status": status})
        parts = [part for part in answer.get("messages") or [] if isinstance(part, dict)]
        if not parts:
            raise TemporaryFailure(gettext("Vonage: the answer lists no message."))
        for part in parts:
            if str(part.get("status", "")) != "0":
                raise _failure(part)
        return SendResult(provider_id=str(parts[0].get("message-id", "")))


def _failure(part: dict[str, Any]) -> Exception:
    code = str(part.get("status", ""))
    words = str(part.get("error-text") or STATUS_WORDS.get(code, ""))[:200]
    text = gettext("Vonage: %(message)s (status %(code)s)") % {"message": words, "code": code}
    if code in CONFIGURATION_STATUSES:
        return TransportConfigurationError(text)
    if code in RECIPIENT_STATUSES or (code == INVALID_PARAMETERS and re.search(r"\bto\b", words.lower())):
        return PermanentFailure(text)
    return TemporaryFailure(text)


def signature(params: dict[str, str], secret: str, method: str = "md5hash") -> str:
    """Vonage's `sig` for these parameters (any `sig` among them is left out)."""
    signed = "".join(
        f"&{name}={value.replace('&', '_').replace('=', '_')}"
        for name, value in sorted(params.items())
        if name != "sig"
    )
    if method == "md5hash":
        return hashlib.md5((signed + secret).encode(), usedforsecurity=False).hexdigest()  # Vonage's scheme
    return hmac.new(secret.encode(), signed.encode(), method).hexdigest().upper()


def inbound(request: InboundRequest, settings: dict[str, Any], secrets: dict[str, Any]) -> list[SmsEvent]:
    params = request_params(request)
    secret = str(secrets.get("signature_secret", ""))
    if secret:
        method = str(settings.get("signature_method") or "md5hash").lower()
        if method not in SIGNATURE_METHODS:
            raise SignatureError(gettext("Vonage: unknown signature method."))
        given = params.get("sig", "")
        if not given or not same(given.lower(), signature(params, secret, method).lower()):
            raise SignatureError(gettext("Vonage: the signature is missing or wrong."))
    else:
        check_token(request, str(secrets.get("webhook_token", "")))
    return _events(params)


def _events(params: dict[str, str]) -> list[SmsEvent]:
    number = e164(params.get("msisdn", ""))
    provider_id = params.get("messageId") or params.get("message-id") or ""
    if "text" in params or ("keyword" in params and "status" not in params):
        # Long replies arrive in parts (concat-ref, concat-part): each is a reply.
        return [SmsEvent(kind="reply", number=number, provider_id=provider_id, text=params.get("text", ""))]
    status = params.get("status", "").lower()
    if status == "delivered":
        return [SmsEvent(kind="delivered", number=number, provider_id=provider_id)]
    if status in FAILED_DLR_STATUSES:
        code = params.get("err-code", "")
        words = DLR_WORDS.get(code, status)
        return [
            SmsEvent(
                kind="failed",
                number=number,
                provider_id=provider_id,
                reason=f"{code} {words}".strip(),
                permanent=code in PERMANENT_DLR_CODES,
            )
        ]
    return []  # accepted, buffered, unknown: on the way


def build(settings: dict[str, Any], secrets: dict[str, Any], dkim: DkimKey | None) -> VonageTransport:
    return VonageTransport(
        api_key=str(settings.get("api_key", "")),
        api_secret=str(secrets.get("api_secret", "")),
        sender_id=str(settings.get("sender_id", "")),
        api_url=str(settings.get("api_url", "")),
        webhook_url=str(settings.get("webhook_url", "")),
        webhook_token=str(secrets.get("webhook_token", "")),
        signed_webhooks=bool(secrets.get("signature_secret")),
    )


KIND = TransportKind(
    kind="vonage",
    label=_("Vonage (text messages)"),
    settings_fields=("api_key", "sender_id", "signature_method", "api_url"),
    secret_fields=("api_secret", "signature_secret", "webhook_token"),
    spf_hint="",
    build=build,
    channel="sms",
    inbound=inbound,
    inbound_answer=("", "text/plain"),
)
