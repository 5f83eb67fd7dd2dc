"""OVHcloud's SMS API: POST {api}/1.0/sms/{service_name}/jobs, signed per OVHcloud's
API rules (https://help.ovhcloud.com/csm/en-api-getting-started-ovhcloud-api):
X-Ovh-Application (application key), X-Ovh-Consumer (consumer key), X-Ovh-Timestamp
(the API's clock: GET /1.0/auth/time, fetched once per open()) and X-Ovh-Signature =
"$1$" + SHA1 hex of application secret + "+" + consumer key + "+" + METHOD + "+" + full
URL + "+" + body + "+" + timestamp.

The JSON body is {receivers: ["+336…"], message, sender (or senderForResponse: true,
a short number people can answer, when there is no sender), noStopClause: true (our
texts carry their own STOP mention), charset "UTF-8", coding "7bit" or "8bit",
priority "high"}; the answer {ids, invalidReceivers, validReceivers,
totalCreditsRemoved}: a receiver among invalidReceivers will never receive. 401/403
and 404 (unknown service) stop the mailing, 429 and 5xx are retried.

The jobs API takes no per-message callback: receipts and answers are set on the SMS
account (sms.Account: callBack "URL called when state of a sent SMS changes",
stopCallBack "URL called when a STOP is received", smsResponse.cgiUrl for answers to
senderForResponse texts). open() points them at our webhook when they differ (with the
webhook_token and an `event` parameter telling them apart); it needs the consumer key
to allow GET and PUT on /sms/*, and only logs a warning when it does not.

OVHcloud calls these addresses with GET parameters: receipts id (the job's id), dlr
(1 delivered; 2 not delivered; 16 refused by the SMS centre; 4 and 8 are steps on the
way), receiver, ptt and description; answers sender and message; STOP calls the
number. OVHcloud does not sign them: the webhook_token must come with each."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import urllib.parse
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
from suffrage.messaging.transports.sms_http import HttpClient, check_token, e164, is_gsm7, with_token

logger = logging.getLogger(__name__)

API_URL = "https://eu.api.ovh.com"
DELIVERED_DLR = {"1"}
FAILED_DLR = {"2", "16"}
# Words of a receipt's description telling the number will never receive (OVHcloud's
# ptt codes have no public table; GET /sms/ptts tells each one's "duration").
PERMANENT_WORDS = ("unknown subscriber", "invalid", "not mobile", "landline", "barred", "inconnu", "invalide")
YES = {"1", "true", "yes", "on"}


def ovh_signature(secret: str, consumer_key: str, method: str, url: str, body: str, timestamp: int) -> str:
    payload = "+".join([secret, consumer_key, method.upper(), url, body, str(timestamp)])
    return "$1$" + hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest()  # OVHcloud's scheme


class OvhTransport:
    def __init__(
        self,
        application_key: str,
        application_secret: str,
        consumer_key: str,
        service_name: str,
        sender_id: str = "",
        api_url: str = "",
        webhook_url: str = "",
        webhook_token: str = "",
        local_clock: bool = False,
    ) -> None:
        if not (application_key and application_secret and consumer_key and service_name):
            raise TransportConfigurationError(
                gettext("OVHcloud: the application key and secret, the consumer key and the SMS service are needed.")
            )
        self.application_key, self.application_secret = application_key, application_secret
        self.consumer_key, self.sender_id = consumer_key, sender_id
        self.api = f"{(api_url or API_URL).rstrip('/')}/1.0"
        self.service_url = f"{self.api}/sms/{urllib.parse.quote(service_name, safe='')}"
        self.webhook_url, self.webhook_token = webhook_url, webhook_token
        self.local_clock = local_clock
        self.clock_offset = 0  # the API's clock minus ours, in seconds
        self.http = HttpClient("OVHcloud")
        self.opened = False

    def open(self) -> None:
        self.opened = True
        if not self.local_clock:
            self._sync_clock()
        if self.webhook_url and self.webhook_token:  # without a token every call would be refused
            self._set_callbacks()

    def close(self) -> None:
        self.opened = False
        self.http.close()

    def _sync_clock(self) -> None:
        try:
            status, server_time = self.http.request("GET", f"{self.api}/auth/time")
        except TemporaryFailure:
            status, server_time = 0, None
        if status == 200 and isinstance(server_time, int):
            self.clock_offset = server_time - int(time.time())
        else:
            logger.warning("OVHcloud: the API's clock could not be read; the local clock signs the calls.")

    def _signed(self, method: str, url: str, body: bytes = b"") -> tuple[int, Any]:
        timestamp = int(time.time()) + self.clock_offset
        headers = {
            "X-Ovh-Application": self.application_key,
            "X-Ovh-Consumer": self.consumer_key,
            "X-Ovh-Timestamp": str(timestamp),
            "X-Ovh-Signature": ovh_signature(
                self.application_secret, self.consumer_key, method, url, body.decode(), timestamp
            ),
        }
        if body:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, url, body=body or None, headers=headers)

    def callback_urls(self) -> dict[str, str]:
        return {
            "callBack": with_token(self.webhook_url, self.webhook_token, event="receipt"),
            "stopCallBack": with_token(self.webhook_url, self.webhook_token, event="stop"),
            "cgiUrl": with_token(self.webhook_url, self.webhook_token, event="reply"),
        }

    def _set_callbacks(self) -> None:
        """Point the account's receipts, STOP and answers at our webhook (best effort)."""
        try:
            status, account = self._signed("GET", self.service_url)
            if status != 200 or not isinstance(account, dict):
                raise TemporaryFailure(str(status))
            urls = self.callback_urls()
            changes: dict[str, Any] = {
                name: urls[name] for name in ("callBack", "stopCallBack") if account.get(name) != urls[name]
            }
            response = account.get("smsResponse")
            response = response if isinstance(response, dict) else {}
            if not self.sender_id and (
                response.get("cgiUrl") != urls["cgiUrl"] or response.get("responseType") != "cgi"
            ):
                changes["smsResponse"] = {**response, "responseType": "cgi", "cgiUrl": urls["cgiUrl"]}
            if changes:
                status, _answer = self._signed("PUT", self.service_url, json.dumps(changes).encode())
                if not 200 <= status < 300:
                    raise TemporaryFailure(str(status))
        except TemporaryFailure as error:
            logger.warning("OVHcloud: the account's callback addresses could not be set (%s).", error)

    def send(self, message: SmsMessage) -> SendResult:
        payload: dict[str, Any] = {
            "receivers": [message.to],
            "message": message.body,
            "noStopClause": True,
            "charset": "UTF-8",
            "coding": "7bit" if is_gsm7(message.body) else "8bit",
            "priority": "high",
        }
        sender = message.sender_id or self.sender_id
        if sender:
            payload["sender"] = sender
        else:
            payload["senderForResponse"] = True
        try:
            status, answer = self._signed("POST", f"{self.service_url}/jobs", json.dumps(payload).encode())
        finally:
            if not self.opened:
                self.http.close()
        answer = answer if isinstance(answer, dict) else {}
        if 200 <= status < 300:
            ids = answer.get("ids") or []
            invalid = {e164(str(number)) for number in answer.get("invalidReceivers") or []}
            if e164(message.to) in invalid or (invalid and not ids):
                raise PermanentFailure(gettext("OVHcloud: the number is not a valid receiver."))
            if not ids:
                raise TemporaryFailure(gettext("OVHcloud: the answer lists no message."))
            return SendResult(provider_id=str(ids[0]))
        raise _failure(status, answer)


def _failure(status: int, answer: dict[str, Any]) -> Exception:
    words = str(answer.get("message", ""))[:200]
    text = gettext("OVHcloud: %(message)s (HTTP %(status)s)") % {"message": words, "status": status}
    lowered = words.lower()
    if status in (401, 403, 404) or any(word in lowered for word in ("credential", "signature", "credit")):
        return TransportConfigurationError(text)
    if status == 400 and "sender" in lowered:
        return TransportConfigurationError(text)
    if status == 400 and "receiver" in lowered:
        return PermanentFailure(text)
    return TemporaryFailure(text)


def inbound(request: InboundRequest, settings: dict[str, Any], secrets: dict[str, Any]) -> list[SmsEvent]:
    check_token(request, str(secrets.get("webhook_token", "")))
    params = request.params
    event = params.get("event", "")
    if event == "stop":
        number = e164(params.get("number") or params.get("sender") or params.get("receiver") or "")
        return [SmsEvent(kind="opt_out", number=number)]
    if event == "reply" or (not event and "message" in params and "dlr" not in params):
        number = e164(params.get("sender") or params.get("from") or params.get("number") or "")
        return [SmsEvent(kind="reply", number=number, provider_id=params.get("id", ""), text=params.get("message", ""))]
    dlr = params.get("dlr", "")
    number = e164(params.get("receiver") or params.get("number") or "")
    provider_id = params.get("id", "")
    if dlr in DELIVERED_DLR:
        return [SmsEvent(kind="delivered", number=number, provider_id=provider_id)]
    if dlr in FAILED_DLR:
        description = params.get("description", "")
        reason = " ".join(part for part in (params.get("ptt", ""), description) if part) or f"dlr {dlr}"
        permanent = any(word in description.lower() for word in PERMANENT_WORDS)
        return [SmsEvent(kind="failed", number=number, provider_id=provider_id, reason=reason, permanent=permanent)]
    return []  # 4 (buffered), 8 (handed to the SMS centre): on the way


def build(settings: dict[str, Any], secrets: dict[str, Any], dkim: DkimKey | None) -> OvhTransport:
    return OvhTransport(
        application_key=str(settings.get("application_key", "")),
        application_secret=str(secrets.get("application_secret", "")),
        consumer_key=str(secrets.get("consumer_key", "")),
        service_name=str(settings.get("service_name", "")),
        sender_id=str(settings.get("sender_id", "")),
        api_url=str(settings.get("api_url", "")),
        webhook_url=str(settings.get("webhook_url", "")),
        webhook_token=str(secrets.get("webhook_token", "")),
        local_clock=str(settings.get("local_clock", "")).lower() in YES,
    )


KIND = TransportKind(
    kind="ovh",
    label=_("OVHcloud (text messages)"),
    settings_fields=("application_key", "service_name", "sender_id", "local_clock", "api_url"),
    secret_fields=("application_secret", "consumer_key", "webhook_token"),
    spf_hint="",
    build=build,
    channel="sms",
    inbound=inbound,
    inbound_answer=("", "text/plain"),
)
