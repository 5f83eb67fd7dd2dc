"""Twilio's Programmable Messaging API: POST /2010-04-01/Accounts/{sid}/Messages.json,
form-encoded To, From and Body, HTTP basic authentication with the account SID and
auth token; the answer's `sid` identifies the message. For now it sends the privacy
page's confirmation codes; SMS campaigns (issue 11) will use it too."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.base import (
    DkimKey,
    PermanentFailure,
    SendResult,
    SmsMessage,
    TemporaryFailure,
    TransportConfigurationError,
    TransportKind,
)

API_URL = "https://api.twilio.com"
# Twilio error codes for a number that can never receive (invalid, landline, blocked).
RECIPIENT_ERRORS = {21211, 21214, 21610, 21612, 21614}


class TwilioTransport:
    def __init__(self, account_sid: str, auth_token: str, sender_id: str, api_url: str = "") -> None:
        if not account_sid or not auth_token:
            raise TransportConfigurationError(gettext("Twilio: the account SID and the auth token are needed."))
        self.account_sid, self.auth_token, self.sender_id = account_sid, auth_token, sender_id
        self.api_url = (api_url or API_URL).rstrip("/")

    def send(self, message: SmsMessage) -> SendResult:
        url = f"{self.api_url}/2010-04-01/Accounts/{urllib.parse.quote(self.account_sid)}/Messages.json"
        form = {"To": message.to, "From": message.sender_id or self.sender_id, "Body": message.body}
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured API's
            url,
            data=urllib.parse.urlencode(form).encode(),
            headers={"Authorization": f"Basic {credentials}", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                return SendResult(provider_id=str(json.loads(response.read()).get("sid", "")))
        except urllib.error.HTTPError as error:
            raise _failure(error.code, _answer(error)) from None
        except (urllib.error.URLError, OSError) as error:
            raise TemporaryFailure(gettext("Twilio cannot be reached: %(error)s") % {"error": error}) from None


def _answer(error: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        loaded = json.loads(error.read() or b"{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _failure(status: int, answer: dict[str, Any]) -> Exception:
    text = gettext("Twilio: %(message)s (code %(code)s)") % {
        "message": str(answer.get("message", ""))[:200],
        "code": answer.get("code", status),
    }
    if status in (401, 403):
        return TransportConfigurationError(text)
    if answer.get("code") in RECIPIENT_ERRORS:
        return PermanentFailure(text)
    return TemporaryFailure(text)


def build(settings: dict[str, Any], secrets: dict[str, Any], dkim: DkimKey | None) -> TwilioTransport:
    return TwilioTransport(
        account_sid=str(settings.get("account_sid", "")),
        auth_token=str(secrets.get("auth_token", "")),
        sender_id=str(settings.get("sender_id", "")),
        api_url=str(settings.get("api_url", "")),
    )


KIND = TransportKind(
    kind="twilio",
    label=_("Twilio (text messages)"),
    settings_fields=("account_sid", "sender_id", "api_url"),
    secret_fields=("auth_token",),
    spf_hint="",
    build=build,
    channel="sms",
)
