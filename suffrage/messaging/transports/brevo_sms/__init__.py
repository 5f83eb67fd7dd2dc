"""Brevo's transactional SMS API: POST {api}/v3/transactionalSMS/sms with the header
api-key and the JSON {sender, recipient (digits, no "+"), content, type: "marketing",
webUrl (our webhook, where Brevo posts this message's events), unicodeEnabled when the
text is not GSM 7-bit}. A 201 answers {messageId, reference, smsCount, usedCredits,
remainingCredits}; errors answer {code, message}: 400 invalid_parameter (about the
recipient: never deliverable; about the sender: configuration), 401 unauthorized,
402 not_enough_credits and 403 permission_denied stop the mailing, 429 and 5xx are
retried (https://developers.brevo.com/reference/sendtransacsms).

Brevo posts JSON events to webUrl (https://developers.brevo.com/docs/transactional-webhooks,
"Transactional SMS"): msg_status (or event) sent, accepted, delivered, soft_bounce,
hard_bounce, rejected, skip, reply/replied (with the reply's text), unsubscription
(the person sent STOP), subscription; to (or phone_number) the person's number,
messageId, description. Brevo does not sign its calls: our webhook_token must come
with each, in the address (?token=, added to webUrl here) or as HTTP basic
authentication or bearer token (https://developers.brevo.com/docs/secured-webhooks)."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.base import (
    DkimKey,
    InboundRequest,
    PermanentFailure,
    SendResult,
    SmsEvent,
    SmsMessage,
    TemporaryFailure,
    TransportConfigurationError,
    TransportKind,
)
from suffrage.messaging.transports.sms_http import HttpClient, check_token, digits, e164, is_gsm7, with_token

API_URL = "https://api.brevo.com"
CONFIGURATION_CODES = {"unauthorized", "not_enough_credits", "permission_denied", "account_under_validation"}
RECIPIENT_WORDS = ("recipient", "phone", "mobile", "number")

# Event names as Brevo writes them (snake_case in webhooks, camelCase in its reports),
# compared without "_" and in lower case.
DELIVERED = {"delivered"}
SOFT_FAILURES = {"softbounce", "softbounced", "rejected", "blocked", "error", "skip", "skipped"}
HARD_FAILURES = {"hardbounce", "hardbounced"}
OPT_OUTS = {"unsubscription", "unsubscribe", "unsubscribed", "stop"}
OPT_INS = {"subscription", "subscribe", "subscribed", "start"}
REPLIES = {"reply", "replied"}


class BrevoSmsTransport:
    def __init__(
        self, api_key: str, sender_id: str, api_url: str = "", webhook_url: str = "", webhook_token: str = ""
    ) -> None:
        if not api_key:
            raise TransportConfigurationError(gettext("Brevo: the API key is needed."))
        self.api_key, self.sender_id = api_key, sender_id
        self.url = f"{(api_url or API_URL).rstrip('/')}/v3/transactionalSMS/sms"
        # Brevo's calls are trusted only with our token: without one, none is asked for.
        self.web_url = with_token(webhook_url, webhook_token) if webhook_token else ""
        self.http = HttpClient("Brevo")
        self.opened = False

    def open(self) -> None:
        self.opened = True

    def close(self) -> None:
        self.opened = False
        self.http.close()

    def send(self, message: SmsMessage) -> SendResult:
        payload: dict[str, Any] = {
            "sender": message.sender_id or self.sender_id,
            "recipient": digits(message.to),
            "content": message.body,
            "type": "marketing",
        }
        if self.web_url:
            payload["webUrl"] = self.web_url
        if not is_gsm7(message.body):
            payload["unicodeEnabled"] = True
        try:
            status, answer = self.http.post(self.url, json_body=payload, headers={"api-key": self.api_key})
        finally:
            if not self.opened:
                self.http.close()
        if 200 <= status < 300:
            return SendResult(provider_id=str(answer.get("messageId", "")))
        raise _failure(status, answer)


def _failure(status: int, answer: dict[str, Any]) -> Exception:
    code = str(answer.get("code", ""))
    words = str(answer.get("message", ""))[:200]
    text = gettext("Brevo: %(message)s (%(code)s)") % {"message": words, "code": code or status}
    if status in (401, 402, 403) or code in CONFIGURATION_CODES:
        return TransportConfigurationError(text)
    if status == 400 and code in ("invalid_parameter", "missing_parameter", "out_of_range"):
        lowered = words.lower()
        if "sender" in lowered:
            return TransportConfigurationError(text)
        if any(word in lowered for word in RECIPIENT_WORDS):
            return PermanentFailure(text)
    return TemporaryFailure(text)


def inbound(request: InboundRequest, settings: dict[str, Any], secrets: dict[str, Any]) -> list[SmsEvent]:
    check_token(request, str(secrets.get("webhook_token", "")))
    try:
        loaded = json.loads(request.body or b"{}")
    except ValueError:
        loaded = dict(request.params)
    payloads = loaded if isinstance(loaded, list) else [loaded]
    events: list[SmsEvent] = []
    for payload in payloads:
        if isinstance(payload, dict):
            events += _events(payload)
    return events


def _number(payload: dict[str, Any]) -> str:
    for field in ("phone_number", "phoneNumber", "to", "from", "sender"):
        number = e164(str(payload.get(field) or ""))
        if number:
            return number
    return ""


def _events(payload: dict[str, Any]) -> list[SmsEvent]:
    status = str(payload.get("msg_status") or payload.get("event") or payload.get("status") or "")
    status = status.lower().replace("_", "").replace("-", "")
    number = _number(payload)
    provider_id = str(payload.get("messageId") or payload.get("message_id") or "")
    description = str(payload.get("description") or payload.get("reason") or payload.get("bounce_type") or "")
    if status in DELIVERED:
        return [SmsEvent(kind="delivered", number=number, provider_id=provider_id)]
    if status in SOFT_FAILURES or status in HARD_FAILURES:
        reason = f"{payload.get('msg_status') or payload.get('event') or status} {description}".strip()
        return [
            SmsEvent(
                kind="failed",
                number=number,
                provider_id=provider_id,
                reason=reason,
                permanent=status in HARD_FAILURES,
            )
        ]
    if status in OPT_OUTS:
        return [SmsEvent(kind="opt_out", number=number, provider_id=provider_id)]
    if status in OPT_INS:
        return [SmsEvent(kind="opt_in", number=number, provider_id=provider_id)]
    if status in REPLIES:
        text = str(
            payload.get("reply") or payload.get("text") or payload.get("message") or payload.get("content") or ""
        )
        return [SmsEvent(kind="reply", number=number, provider_id=provider_id, text=text)]
    return []  # sent, accepted, request: on the way


def build(settings: dict[str, Any], secrets: dict[str, Any], dkim: DkimKey | None) -> BrevoSmsTransport:
    return BrevoSmsTransport(
        api_key=str(secrets.get("api_key", "")),
        sender_id=str(settings.get("sender_id", "")),
        api_url=str(settings.get("api_url", "")),
        webhook_url=str(settings.get("webhook_url", "")),
        webhook_token=str(secrets.get("webhook_token", "")),
    )


KIND = TransportKind(
    kind="brevo_sms",
    label=_("Brevo (text messages)"),
    settings_fields=("sender_id", "api_url"),
    secret_fields=("api_key", "webhook_token"),
    spf_hint="",
    build=build,
    channel="sms",
    inbound=inbound,
    inbound_answer=("", "text/plain"),
)
