"""The text-message providers (Vonage, Brevo, OVHcloud) against a local server speaking
each one's documented API: requests checked field by field, authentication and
signature headers recomputed here, every answer code mapped; and their webhooks
(receipts, replies, STOP) checked with calls signed here, or refused when the
signature or token is wrong. Pure transport tests: no database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import translation

from suffrage.messaging.transports import transport_kind
from suffrage.messaging.transports.base import (
    InboundRequest,
    PermanentFailure,
    SignatureError,
    SmsEvent,
    SmsMessage,
    TemporaryFailure,
    TransportConfigurationError,
)


@pytest.fixture(autouse=True)
def _english():
    """Messages in English, whatever the French catalogue says."""
    with translation.override("en"):
        yield


WEBHOOK = "https://crm.example/hooks/sms/k3y/"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))

    def json(self):
        return json.loads(self.body)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_one(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        received = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self.server.received.append(received)
        status, payload = self.server.answer(received)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = handle_one

    def log_message(self, *args):
        pass


class Provider(ThreadingHTTPServer):
    """A provider's API: answers[(method, path)] or the default answer."""

    daemon_threads = True

    def __init__(self, default: tuple[int, object]):
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[Received] = []
        self.answers: dict[tuple[str, str], tuple[int, object]] = {}
        self.default = default

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def answer(self, received: Received) -> tuple[int, object]:
        return self.answers.get((received.method, received.path.split("?")[0]), self.default)

    def posts(self) -> list[Received]:
        return [request for request in self.received if request.method == "POST"]


@pytest.fixture
def provider():
    servers: list[Provider] = []

    def start(default: tuple[int, object]) -> Provider:
        server = Provider(default)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def call(
    params: dict[str, str] | None = None,
    *,
    body: bytes = b"",
    method: str = "POST",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> InboundRequest:
    url = WEBHOOK + ("?" + urllib.parse.urlencode(query) if query else "")
    return InboundRequest(
        method=method, url=url, headers=headers or {}, body=body, params={**(query or {}), **(params or {})}
    )


# Vonage: https://developer.vonage.com/en/messaging/sms/overview


def vonage_ok(*ids: str) -> dict:
    return {
        "message-count": str(len(ids)),
        "messages": [
            {"to": "33612345678", "message-id": id_, "status": "0", "remaining-balance": "3.14", "network": "20801"}
            for id_ in ids
        ],
    }


@pytest.fixture
def vonage(provider):
    server = provider((200, vonage_ok("0A0000001234ABCD")))
    settings = {"api_key": "abcd1234", "sender_id": "BrestEnCom", "api_url": server.url, "webhook_url": WEBHOOK}
    secrets = {"api_secret": "vonage-secret", "webhook_token": "hook-secret"}
    return transport_kind("vonage").build(settings, secrets, None), server


def test_vonage_receives_the_documented_form_and_its_message_id_comes_back(vonage):
    transport, server = vonage
    transport.open()
    result = transport.send(SmsMessage(to="+33612345678", body="Meeting ce soir 19h"))
    transport.close()
    assert result.provider_id == "0A0000001234ABCD"
    (request,) = server.received
    assert (request.method, request.path) == ("POST", "/sms/json")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = request.form()
    callback = urllib.parse.urlsplit(form.pop("callback"))
    assert form == {
        "api_key": "abcd1234",
        "api_secret": "vonage-secret",
        "from": "BrestEnCom",
        "to": "33612345678",
        "text": "Meeting ce soir 19h",
        "status-report-req": "1",
    }
    assert callback._replace(query="").geturl() == WEBHOOK
    assert urllib.parse.parse_qs(callback.query) == {"token": ["hook-secret"]}


def test_vonage_is_told_unicode_when_the_text_is_not_gsm(vonage):
    transport, server = vonage
    transport.send(SmsMessage(to="+33612345678", body="Ça démarre à 19h, l’équipe", sender_id="Quimper"))
    form = server.received[0].form()
    assert (form["type"], form["from"], form["text"]) == ("unicode", "Quimper", "Ça démarre à 19h, l’équipe")


def test_vonage_without_a_webhook_asks_for_no_receipt(provider):
    server = provider((200, vonage_ok("X1")))
    transport = transport_kind("vonage").build(
        {"api_key": "k", "sender_id": "S", "api_url": server.url}, {"api_secret": "s"}, None
    )
    transport.send(SmsMessage(to="+33612345678", body="Bonjour"))
    assert set(server.received[0].form()) == {"api_key", "api_secret", "from", "to", "text"}


@pytest.mark.parametrize(
    ("secrets", "callback"),
    [
        ({"api_secret": "s", "signature_secret": "sig-secret"}, WEBHOOK),  # Vonage signs: no token needed
        ({"api_secret": "s"}, None),  # nothing could verify the receipts: none is asked for
    ],
)
def test_vonage_receipts_are_asked_for_only_when_they_can_be_verified(provider, secrets, callback):
    server = provider((200, vonage_ok("X1")))
    settings = {"api_key": "k", "sender_id": "S", "api_url": server.url, "webhook_url": WEBHOOK}
    transport_kind("vonage").build(settings, secrets, None).send(SmsMessage(to="+33612345678", body="Bonjour"))
    form = server.received[0].form()
    assert form.get("callback") == callback
    assert form.get("status-report-req") == ("1" if callback else None)


def test_a_long_vonage_message_is_known_by_its_first_part(vonage):
    transport, server = vonage
    server.default = (200, vonage_ok("PART-1", "PART-2", "PART-3"))
    assert transport.send(SmsMessage(to="+33612345678", body="x" * 400)).provider_id == "PART-1"


@pytest.mark.parametrize(
    ("status", "error_text", "failure"),
    [
        ("1", "Throughput Rate Exceeded - please wait [ 30 ] and retry", TemporaryFailure),
        ("5", "Internal Error", TemporaryFailure),
        ("4", "Bad Credentials", TransportConfigurationError),
        ("8", "Account suspended", TransportConfigurationError),
        ("9", "Quota Exceeded - rejected", TransportConfigurationError),
        ("15", "Illegal Sender Address - rejected", TransportConfigurationError),
        ("6", "Invalid Message", PermanentFailure),
        ("7", "Number barred.", PermanentFailure),
        ("29", "Non White-listed Destination - rejected", PermanentFailure),
        ("3", "Invalid to address", PermanentFailure),
        ("3", "Invalid from param", TemporaryFailure),
        ("2", "Missing text param", TemporaryFailure),
        ("12", "Message too long", TemporaryFailure),
    ],
)
def test_vonage_status_codes_are_mapped(vonage, status, error_text, failure):
    transport, server = vonage
    server.default = (200, {"message-count": "1", "messages": [{"status": status, "error-text": error_text}]})
    with pytest.raises(failure) as raised:
        transport.send(SmsMessage(to="+33612345678", body="x"))
    assert f"status {status}" in str(raised.value) and error_text in str(raised.value)
    assert "vonage-secret" not in str(raised.value) and "hook-secret" not in str(raised.value)


def test_a_failing_second_part_fails_the_vonage_message(vonage):
    transport, server = vonage
    server.default = (
        200,
        {
            "message-count": "2",
            "messages": [{"status": "0", "message-id": "P1"}, {"status": "1", "error-text": "Throttled"}],
        },
    )
    with pytest.raises(TemporaryFailure):
        transport.send(SmsMessage(to="+33612345678", body="x" * 200))


@pytest.mark.parametrize(
    ("http_status", "failure"),
    [(401, TransportConfigurationError), (500, TemporaryFailure), (503, TemporaryFailure)],
)
def test_vonage_http_errors_are_mapped(vonage, http_status, failure):
    transport, server = vonage
    server.default = (http_status, {"error": "nope"})
    with pytest.raises(failure):
        transport.send(SmsMessage(to="+33612345678", body="x"))


# Vonage's signed webhooks: the parameters but sig, sorted, "&name=value" with "&" and
# "=" in values replaced by "_", then MD5 with the secret appended ("md5hash") or an
# HMAC keyed with it (upper-case hex).


SIGNATURE_SECRET = "sig-secret"


def vonage_sig(params: dict[str, str], secret: str = SIGNATURE_SECRET, method: str = "md5hash") -> str:
    signed = "".join(f"&{k}={v.replace('&', '_').replace('=', '_')}" for k, v in sorted(params.items()))
    if method == "md5hash":
        return hashlib.md5((signed + secret).encode(), usedforsecurity=False).hexdigest()
    return hmac.new(secret.encode(), signed.encode(), getattr(hashlib, method)).hexdigest().upper()


VONAGE_SECRETS = {"api_secret": "vonage-secret", "signature_secret": "sig-secret"}


def vonage_inbound(request, settings=None, secrets=None):
    return transport_kind("vonage").inbound(request, settings or {"api_key": "abcd1234"}, secrets or VONAGE_SECRETS)


def receipt(**extra: str) -> dict[str, str]:
    params = {
        "msisdn": "33612345678",
        "to": "BrestEnCom",
        "network-code": "20801",
        "messageId": "0A0000001234ABCD",
        "price": "0.03330000",
        "scts": "2001011400",
        "api-key": "abcd1234",
        "message-timestamp": "2020-01-01 12:00:00",
        "timestamp": "1577880000",
        "nonce": "ec11dd3e-1e7f-4db5-9467-82b02cd223b9",
    }
    return {**params, **extra}


def signed(params: dict[str, str], **kwargs: str) -> dict[str, str]:
    return {**params, "sig": vonage_sig(params, **kwargs)}


def test_a_vonage_delivery_receipt_is_a_delivery():
    params = signed(receipt(status="delivered", **{"err-code": "0"}))
    assert vonage_inbound(call(params, method="GET", query=params)) == [
        SmsEvent(kind="delivered", number="+33612345678", provider_id="0A0000001234ABCD")
    ]


@pytest.mark.parametrize(
    ("status", "code", "permanent", "words"),
    [
        ("failed", "3", True, "Absent subscriber - permanent"),
        ("rejected", "4", True, "Call barred by user"),
        ("failed", "9", True, "Illegal number"),
        ("failed", "14", True, "Number blocked by carrier"),
        ("failed", "2", False, "Absent subscriber - temporary"),
        ("expired", "7", False, "Handset busy"),
        ("failed", "6", False, "Anti-spam rejection"),
        ("rejected", "99", False, "General error"),
    ],
)
def test_vonage_failed_receipts_tell_the_code(status, code, permanent, words):
    params = signed(receipt(status=status, **{"err-code": code}))
    (event,) = vonage_inbound(call(params))
    assert (event.kind, event.number, event.provider_id) == ("failed", "+33612345678", "0A0000001234ABCD")
    assert (event.reason, event.permanent) == (f"{code} {words}", permanent)


@pytest.mark.parametrize("status", ["accepted", "buffered", "unknown"])
def test_vonage_intermediate_receipts_yield_nothing(status):
    assert vonage_inbound(call(signed(receipt(status=status, **{"err-code": "0"})))) == []


def test_a_vonage_inbound_message_is_a_reply_even_with_signs_in_it():
    params = signed(
        {
            "msisdn": "33698765432",
            "to": "33757000000",
            "messageId": "0A00000012345678",
            "text": "Oui & merci, 2+2=4",
            "type": "text",
            "keyword": "OUI",
            "api-key": "abcd1234",
            "message-timestamp": "2020-01-01 12:00:00",
            "timestamp": "1577880000",
        }
    )
    assert vonage_inbound(call(params)) == [
        SmsEvent(kind="reply", number="+33698765432", provider_id="0A00000012345678", text="Oui & merci, 2+2=4")
    ]


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_vonage_hmac_signatures(method):
    params = signed(receipt(status="delivered", **{"err-code": "0"}), method=method)
    settings = {"api_key": "abcd1234", "signature_method": method}
    assert [event.kind for event in vonage_inbound(call(params), settings)] == ["delivered"]
    with pytest.raises(SignatureError):  # the same call checked as md5hash
        vonage_inbound(call(params))


def test_vonage_json_webhooks_are_read_and_checked():
    params = signed(receipt(status="delivered", **{"err-code": "0"}))
    request = call(body=json.dumps(params).encode(), headers={"content-type": "application/json"})
    assert [event.kind for event in vonage_inbound(request)] == ["delivered"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda params: {**params, "status": "failed"},
        lambda params: {**params, "sig": vonage_sig(receipt(status="delivered"), secret="other")},
        lambda params: {key: value for key, value in params.items() if key != "sig"},
        lambda params: {**params, "sig": ""},
    ],
)
def test_a_badly_signed_vonage_call_is_refused(tamper):
    params = tamper(signed(receipt(status="delivered", **{"err-code": "0"})))
    with pytest.raises(SignatureError):
        vonage_inbound(call(params))


def test_an_unknown_vonage_signature_method_is_refused():
    params = signed(receipt(status="delivered"))
    with pytest.raises(SignatureError):
        vonage_inbound(call(params), {"signature_method": "crc32"})


def test_unsigned_vonage_webhooks_need_the_token():
    params = receipt(status="delivered", **{"err-code": "0"})
    secrets = {"api_secret": "vonage-secret", "webhook_token": "hook-secret"}
    events = vonage_inbound(call(params, query={"token": "hook-secret"}), secrets=secrets)
    assert [event.kind for event in events] == ["delivered"]
    with pytest.raises(SignatureError):
        vonage_inbound(call(params, query={"token": "guess"}), secrets=secrets)
    with pytest.raises(SignatureError):
        vonage_inbound(call(params), secrets=secrets)
    with pytest.raises(SignatureError):  # neither secret configured
        vonage_inbound(call(params, query={"token": ""}), secrets={"api_secret": "vonage-secret"})


# Brevo: https://developers.brevo.com/reference/sendtransacsms


BREVO_OK = {"reference": "ab1cde2fgh3i4jklmno", "messageId": 1511882900176220, "smsCount": 1, "usedCredits": 0.7}


@pytest.fixture
def brevo(provider):
    server = provider((201, BREVO_OK))
    settings = {"sender_id": "BrestEnCom", "api_url": server.url, "webhook_url": WEBHOOK}
    secrets = {"api_key": "xkeysib-brevo-key", "webhook_token": "hook-secret"}
    return transport_kind("brevo_sms").build(settings, secrets, None), server


def test_brevo_receives_the_documented_json_and_its_message_id_comes_back(brevo):
    transport, server = brevo
    transport.open()
    result = transport.send(SmsMessage(to="+33612345678", body="Meeting ce soir 19h"))
    transport.close()
    assert result.provider_id == "1511882900176220"
    (request,) = server.received
    assert (request.method, request.path) == ("POST", "/v3/transactionalSMS/sms")
    assert request.headers["api-key"] == "xkeysib-brevo-key"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    web_url = urllib.parse.urlsplit(body.pop("webUrl"))
    assert body == {
        "sender": "BrestEnCom",
        "recipient": "33612345678",
        "content": "Meeting ce soir 19h",
        "type": "marketing",
    }
    assert web_url._replace(query="").geturl() == WEBHOOK
    assert urllib.parse.parse_qs(web_url.query) == {"token": ["hook-secret"]}


def test_brevo_is_told_unicode_when_the_text_is_not_gsm(brevo):
    transport, server = brevo
    transport.send(SmsMessage(to="+33612345678", body="Fête de l’été", sender_id="Quimper"))
    body = server.received[0].json()
    assert (body["unicodeEnabled"], body["sender"]) == (True, "Quimper")


def test_brevo_without_a_webhook_token_asks_for_no_events(provider):
    server = provider((201, BREVO_OK))
    settings = {"sender_id": "S", "api_url": server.url, "webhook_url": WEBHOOK}
    transport_kind("brevo_sms").build(settings, {"api_key": "k"}, None).send(SmsMessage(to="+33612345678", body="x"))
    assert "webUrl" not in server.received[0].json()


@pytest.mark.parametrize(
    ("status", "payload", "failure"),
    [
        (400, {"code": "invalid_parameter", "message": "Invalid recipient number"}, PermanentFailure),
        (400, {"code": "invalid_parameter", "message": "Invalid phone number"}, PermanentFailure),
        (400, {"code": "invalid_parameter", "message": "sender is invalid"}, TransportConfigurationError),
        (400, {"code": "bad_request", "message": "Something else"}, TemporaryFailure),
        (401, {"code": "unauthorized", "message": "Key not found"}, TransportConfigurationError),
        (402, {"code": "not_enough_credits", "message": "Not enough credits"}, TransportConfigurationError),
        (403, {"code": "permission_denied", "message": "SMS not activated"}, TransportConfigurationError),
        (429, {"code": "too_many_requests", "message": "Rate limit"}, TemporaryFailure),
        (500, {"code": "internal_error", "message": "Oops"}, TemporaryFailure),
    ],
)
def test_brevo_errors_are_mapped(brevo, status, payload, failure):
    transport, server = brevo
    server.default = (status, payload)
    with pytest.raises(failure) as raised:
        transport.send(SmsMessage(to="+33612345678", body="x"))
    assert payload["message"] in str(raised.value)
    assert "xkeysib-brevo-key" not in str(raised.value) and "hook-secret" not in str(raised.value)


BREVO_SECRETS = {"api_key": "xkeysib-brevo-key", "webhook_token": "hook-secret"}


def brevo_call(payload, **kwargs) -> InboundRequest:
    kwargs.setdefault("query", {"token": "hook-secret"})
    return call(body=json.dumps(payload).encode(), headers={"content-type": "application/json"}, **kwargs)


def brevo_inbound(request: InboundRequest) -> list[SmsEvent]:
    return transport_kind("brevo_sms").inbound(request, {"sender_id": "BrestEnCom"}, BREVO_SECRETS)


def brevo_event(status: str, **extra) -> dict:
    payload = {
        "id": 26570,
        "to": "33612345678",
        "sms_count": 1,
        "credits_used": 0.7,
        "messageId": 1511882900176220,
        "remaining_credit": 1488.8,
        "msg_status": status,
        "date": "2024-03-30 18:21:07",
        "type": "marketing",
        "reference": {"1": "ab1cde2fgh3i4jklmno"},
        "tag": "",
    }
    return {**payload, **extra}


def test_a_brevo_delivered_event_is_a_delivery():
    assert brevo_inbound(brevo_call(brevo_event("delivered"))) == [
        SmsEvent(kind="delivered", number="+33612345678", provider_id="1511882900176220")
    ]


@pytest.mark.parametrize("status", ["sent", "accepted", "request"])
def test_brevo_intermediate_events_yield_nothing(status):
    assert brevo_inbound(brevo_call(brevo_event(status))) == []


@pytest.mark.parametrize(
    ("status", "permanent"),
    [("hard_bounce", True), ("hardBounce", True), ("soft_bounce", False), ("softBounce", False), ("rejected", False)],
)
def test_brevo_bounces_are_failures(status, permanent):
    (event,) = brevo_inbound(brevo_call(brevo_event(status, description="Unknown subscriber")))
    assert (event.kind, event.number, event.provider_id, event.permanent) == (
        "failed",
        "+33612345678",
        "1511882900176220",
        permanent,
    )
    assert event.reason == f"{status} Unknown subscriber"


def test_brevo_stop_and_start():
    out = brevo_inbound(brevo_call(brevo_event("unsubscription", to="0612345678")))
    back = brevo_inbound(brevo_call({"event": "subscribe", "phone_number": "+33612345678"}))
    assert [(event.kind, event.number) for event in out + back] == [
        ("opt_out", "+33612345678"),
        ("opt_in", "+33612345678"),
    ]


def test_a_brevo_reply_carries_its_text():
    (event,) = brevo_inbound(brevo_call(brevo_event("reply", reply="Je serai là")))
    assert (event.kind, event.number, event.text) == ("reply", "+33612345678", "Je serai là")


def test_brevo_batches_are_read_whole():
    events = brevo_inbound(brevo_call([brevo_event("delivered"), brevo_event("hard_bounce", to="33698765432")]))
    assert [(event.kind, event.number) for event in events] == [
        ("delivered", "+33612345678"),
        ("failed", "+33698765432"),
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Basic " + base64.b64encode(b"brevo:hook-secret").decode()},
        {"authorization": "Bearer hook-secret"},
    ],
)
def test_brevo_calls_may_authenticate_with_a_header(headers):
    request = call(
        body=json.dumps(brevo_event("delivered")).encode(), headers={"content-type": "application/json", **headers}
    )
    assert [event.kind for event in brevo_inbound(request)] == ["delivered"]


@pytest.mark.parametrize("query", [{"token": "hook-secre"}, {"token": ""}, {}])
def test_brevo_calls_without_the_token_are_refused(query):
    with pytest.raises(SignatureError):
        brevo_inbound(brevo_call(brevo_event("delivered"), query=query))


def test_brevo_calls_are_refused_when_no_token_is_configured():
    with pytest.raises(SignatureError):
        transport_kind("brevo_sms").inbound(brevo_call(brevo_event("delivered")), {}, {"api_key": "k"})


# OVHcloud: https://eu.api.ovh.com/console/ (POST /sms/{serviceName}/jobs) and
# https://help.ovhcloud.com/csm/en-api-getting-started-ovhcloud-api (signed calls).

OVH_SECRETS = {
    "application_secret": "ovh-app-secret",
    "consumer_key": "ovh-consumer-key",
    "webhook_token": "hook-secret",
}
OVH_OK = {"totalCreditsRemoved": 1, "invalidReceivers": [], "ids": [264324938], "validReceivers": ["+33612345678"]}


def ovh_settings(server: Provider, **extra: str) -> dict[str, str]:
    return {
        "application_key": "ovh-app-key",
        "service_name": "sms-ab12345-1",
        "sender_id": "BrestEnCom",
        "api_url": server.url,
        "webhook_url": WEBHOOK,
        **extra,
    }


def assert_ovh_signed(server: Provider, request: Received) -> int:
    """Recomputes X-Ovh-Signature; returns the timestamp signed."""
    timestamp = request.headers["x-ovh-timestamp"]
    expected = "+".join(
        [
            "ovh-app-secret",
            "ovh-consumer-key",
            request.method,
            server.url + request.path,
            request.body.decode(),
            timestamp,
        ]
    )
    assert request.headers["x-ovh-application"] == "ovh-app-key"
    assert request.headers["x-ovh-consumer"] == "ovh-consumer-key"
    assert (
        request.headers["x-ovh-signature"] == "$1$" + hashlib.sha1(expected.encode(), usedforsecurity=False).hexdigest()
    )
    return int(timestamp)


@pytest.fixture
def ovh(provider):
    server = provider((200, OVH_OK))
    server.answers[("GET", "/1.0/auth/time")] = (200, int(time.time()) + 1000)
    server.answers[("GET", "/1.0/sms/sms-ab12345-1")] = (
        200,
        {"name": "sms-ab12345-1", "callBack": "", "stopCallBack": None, "smsResponse": {"responseType": "none"}},
    )
    server.answers[("PUT", "/1.0/sms/sms-ab12345-1")] = (200, None)
    return server


def test_ovh_receives_the_documented_signed_job(ovh):
    transport = transport_kind("ovh").build(ovh_settings(ovh), OVH_SECRETS, None)
    transport.open()
    result = transport.send(SmsMessage(to="+33612345678", body="Meeting ce soir 19h"))
    transport.close()
    assert result.provider_id == "264324938"
    (job,) = ovh.posts()
    assert job.path == "/1.0/sms/sms-ab12345-1/jobs"
    assert job.headers["content-type"] == "application/json"
    assert job.json() == {
        "receivers": ["+33612345678"],
        "message": "Meeting ce soir 19h",
        "sender": "BrestEnCom",
        "noStopClause": True,
        "charset": "UTF-8",
        "coding": "7bit",
        "priority": "high",
    }
    # Signed with the API's clock (1000 s ahead of ours here), read once at open().
    assert abs(assert_ovh_signed(ovh, job) - (time.time() + 1000)) < 30
    assert [request.path for request in ovh.received].count("/1.0/auth/time") == 1


def test_ovh_without_sender_asks_for_a_number_people_can_answer_and_unicode(ovh):
    transport = transport_kind("ovh").build(ovh_settings(ovh, sender_id=""), OVH_SECRETS, None)
    transport.send(SmsMessage(to="+33612345678", body="Fête de l’été"))
    body = ovh.posts()[0].json()
    assert body["senderForResponse"] is True and "sender" not in body
    assert body["coding"] == "8bit"


def test_ovh_can_sign_with_the_local_clock(ovh):
    transport = transport_kind("ovh").build(ovh_settings(ovh, local_clock="yes"), OVH_SECRETS, None)
    transport.open()
    transport.send(SmsMessage(to="+33612345678", body="x"))
    transport.close()
    assert "/1.0/auth/time" not in [request.path for request in ovh.received]
    assert abs(assert_ovh_signed(ovh, ovh.posts()[0]) - time.time()) < 30


def test_ovh_open_points_the_account_callbacks_at_our_webhook(ovh):
    transport = transport_kind("ovh").build(ovh_settings(ovh, sender_id=""), OVH_SECRETS, None)
    transport.open()
    transport.close()
    (put,) = [request for request in ovh.received if request.method == "PUT"]
    assert put.path == "/1.0/sms/sms-ab12345-1"
    assert_ovh_signed(ovh, put)
    changes = put.json()

    def query(url: str) -> dict[str, list[str]]:
        parts = urllib.parse.urlsplit(url)
        assert parts._replace(query="").geturl() == WEBHOOK
        return urllib.parse.parse_qs(parts.query)

    assert query(changes["callBack"]) == {"event": ["receipt"], "token": ["hook-secret"]}
    assert query(changes["stopCallBack"]) == {"event": ["stop"], "token": ["hook-secret"]}
    assert changes["smsResponse"]["responseType"] == "cgi"
    assert query(changes["smsResponse"]["cgiUrl"]) == {"event": ["reply"], "token": ["hook-secret"]}


def test_ovh_open_leaves_callbacks_already_set(ovh):
    transport = transport_kind("ovh").build(ovh_settings(ovh), OVH_SECRETS, None)
    urls = transport.callback_urls()
    ovh.answers[("GET", "/1.0/sms/sms-ab12345-1")] = (
        200,
        {"callBack": urls["callBack"], "stopCallBack": urls["stopCallBack"], "smsResponse": {"responseType": "none"}},
    )
    transport.open()
    transport.close()
    assert [request.method for request in ovh.received] == ["GET", "GET"]


def test_ovh_open_sets_no_callback_without_a_webhook_token(ovh):
    secrets = {key: value for key, value in OVH_SECRETS.items() if key != "webhook_token"}
    transport = transport_kind("ovh").build(ovh_settings(ovh), secrets, None)
    transport.open()
    transport.close()
    assert [request.path for request in ovh.received] == ["/1.0/auth/time"]


def test_ovh_open_survives_a_consumer_key_without_account_rights(ovh):
    ovh.answers[("GET", "/1.0/sms/sms-ab12345-1")] = (403, {"message": "This call has not been granted"})
    transport = transport_kind("ovh").build(ovh_settings(ovh), OVH_SECRETS, None)
    transport.open()
    assert transport.send(SmsMessage(to="+33612345678", body="x")).provider_id == "264324938"
    transport.close()


def test_an_invalid_ovh_receiver_is_a_permanent_failure(ovh):
    ovh.default = (
        200,
        {"totalCreditsRemoved": 0, "invalidReceivers": ["+33112345678"], "ids": [], "validReceivers": []},
    )
    transport = transport_kind("ovh").build(ovh_settings(ovh), OVH_SECRETS, None)
    with pytest.raises(PermanentFailure):
        transport.send(SmsMessage(to="+33112345678", body="x"))


@pytest.mark.parametrize(
    ("status", "message", "failure"),
    [
        (401, "This credential is not valid", TransportConfigurationError),
        (403, "This call has not been granted", TransportConfigurationError),
        (404, "The requested object (serviceName = sms-ab12345-1) does not exist", TransportConfigurationError),
        (400, "Invalid signature", TransportConfigurationError),
        (400, "Not enough credits", TransportConfigurationError),
        (400, "Invalid receiver", PermanentFailure),
        (400, "Sender BrestEnCom does not exist", TransportConfigurationError),
        (429, "Too many requests", TemporaryFailure),
        (500, "Internal server error", TemporaryFailure),
        (503, "Service unavailable", TemporaryFailure),
    ],
)
def test_ovh_errors_are_mapped(ovh, status, message, failure):
    ovh.default = (status, {"message": message})
    transport = transport_kind("ovh").build(ovh_settings(ovh), OVH_SECRETS, None)
    with pytest.raises(failure) as raised:
        transport.send(SmsMessage(to="+33612345678", body="x"))
    assert message in str(raised.value)
    assert not any(secret in str(raised.value) for secret in OVH_SECRETS.values())


def ovh_inbound(query: dict[str, str]) -> list[SmsEvent]:
    request = call(method="GET", query={"token": "hook-secret", **query})
    return transport_kind("ovh").inbound(request, {"service_name": "sms-ab12345-1"}, OVH_SECRETS)


def test_an_ovh_receipt_is_a_delivery():
    events = ovh_inbound({"event": "receipt", "id": "264324938", "dlr": "1", "receiver": "0033612345678"})
    assert events == [SmsEvent(kind="delivered", number="+33612345678", provider_id="264324938")]


@pytest.mark.parametrize(
    ("dlr", "description", "permanent"),
    [("2", "Unknown subscriber", True), ("2", "Absent subscriber", False), ("16", "Rejected by the SMSC", False)],
)
def test_ovh_failed_receipts(dlr, description, permanent):
    (event,) = ovh_inbound({"id": "264324938", "dlr": dlr, "ptt": "1", "description": description})
    assert (event.kind, event.provider_id, event.permanent) == ("failed", "264324938", permanent)
    assert event.reason == f"1 {description}"


@pytest.mark.parametrize("dlr", ["4", "8"])
def test_ovh_intermediate_receipts_yield_nothing(dlr):
    assert ovh_inbound({"id": "264324938", "dlr": dlr}) == []


def test_an_answer_to_an_ovh_short_number_is_a_reply():
    (event,) = ovh_inbound({"event": "reply", "id": "98765", "sender": "33698765432", "message": "Oui, je viens"})
    assert (event.kind, event.number, event.text) == ("reply", "+33698765432", "Oui, je viens")


def test_an_ovh_stop_is_an_opt_out():
    assert ovh_inbound({"event": "stop", "number": "0698765432"}) == [SmsEvent(kind="opt_out", number="+33698765432")]


@pytest.mark.parametrize("token", ["guess", ""])
def test_ovh_calls_without_the_token_are_refused(token):
    request = call(method="GET", query={"token": token, "id": "1", "dlr": "1"})
    with pytest.raises(SignatureError):
        transport_kind("ovh").inbound(request, {}, OVH_SECRETS)
