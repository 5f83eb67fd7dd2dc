"""Text-message transports: Twilio against a local server speaking its documented
Messages API (form fields, basic auth, the answer's sid, error codes) and its signed
webhooks (status callbacks, replies, STOP/START), the file transport used for
development, and the shared HTTP plumbing (keep-alive between open() and close(),
numbers in E.164, the GSM alphabet, webhook tokens)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest

from suffrage.messaging.transports import kinds_for, transport_kind
from suffrage.messaging.transports.base import (
    InboundRequest,
    PermanentFailure,
    SignatureError,
    SmsEvent,
    SmsMessage,
    TemporaryFailure,
    TransportConfigurationError,
)
from suffrage.messaging.transports.sms_http import HttpClient, check_token, e164, is_gsm7, with_token


class FakeTwilio(BaseHTTPRequestHandler):
    received: list[dict] = []
    answer: tuple[int, dict] = (201, {"sid": "SM0123456789abcdef", "status": "queued"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append(
            {"path": self.path, "auth": self.headers["Authorization"], "form": dict(urllib.parse.parse_qsl(body))}
        )
        status, payload = self.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(payload).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio_server():
    FakeTwilio.received = []
    FakeTwilio.answer = (201, {"sid": "SM0123456789abcdef", "status": "queued"})
    server = HTTPServer(("127.0.0.1", 0), FakeTwilio)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def twilio(twilio_server):
    settings = {
        "account_sid": "AC123",
        "sender_id": "BrestEnCom",
        "api_url": f"http://127.0.0.1:{twilio_server.server_port}",
    }
    yield transport_kind("twilio").build(settings, {"auth_token": "tok-secret"}, None), FakeTwilio


def test_twilio_receives_the_documented_request_and_its_sid_comes_back(twilio):
    transport, server = twilio
    result = transport.send(SmsMessage(to="+33612345678", body="Code : 123456"))
    assert result.provider_id == "SM0123456789abcdef"
    (request,) = server.received
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["form"] == {"To": "+33612345678", "From": "BrestEnCom", "Body": "Code : 123456"}
    assert base64.b64decode(request["auth"].removeprefix("Basic ")).decode() == "AC123:tok-secret"


def test_twilio_asks_for_status_callbacks_on_our_webhook(twilio_server):
    settings = {
        "account_sid": "AC123",
        "sender_id": "BrestEnCom",
        "api_url": f"http://127.0.0.1:{twilio_server.server_port}",
        "webhook_url": "https://crm.example/hooks/sms/k3y/",
    }
    transport = transport_kind("twilio").build(settings, {"auth_token": "tok-secret"}, None)
    transport.open()
    transport.send(SmsMessage(to="+33612345678", body="Réunion ce soir", sender_id="Quimper"))
    transport.close()
    (request,) = FakeTwilio.received
    assert request["form"] == {
        "To": "+33612345678",
        "From": "Quimper",
        "Body": "Réunion ce soir",
        "StatusCallback": "https://crm.example/hooks/sms/k3y/",
    }


@pytest.mark.parametrize(
    ("status", "payload", "failure"),
    [
        (400, {"code": 21211, "message": "Invalid 'To' Phone Number"}, PermanentFailure),
        (400, {"code": 21614, "message": "'To' number is not a valid mobile number"}, PermanentFailure),
        (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}, PermanentFailure),
        (
            400,
            {"code": 21606, "message": "The From phone number is not a valid, SMS-capable number"},
            TransportConfigurationError,
        ),
        (429, {"code": 20429, "message": "Too Many Requests"}, TemporaryFailure),
        (503, {"code": 20500, "message": "Internal error"}, TemporaryFailure),
        (401, {"code": 20003, "message": "Authenticate"}, TransportConfigurationError),
        (404, {"code": 20404, "message": "The requested resource was not found"}, TransportConfigurationError),
    ],
)
def test_twilio_errors_are_mapped(twilio, status, payload, failure):
    transport, server = twilio
    server.answer = (status, payload)
    with pytest.raises(failure) as raised:
        transport.send(SmsMessage(to="+33612345678", body="x"))
    assert "tok-secret" not in str(raised.value)
    assert str(payload["code"]) in str(raised.value)


def test_an_unreachable_provider_is_a_temporary_failure_without_secrets():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = {"account_sid": "AC123", "sender_id": "X", "api_url": f"http://127.0.0.1:{port}/tok-secret"}
    transport = transport_kind("twilio").build(settings, {"auth_token": "tok-secret"}, None)
    with pytest.raises(TemporaryFailure) as raised:
        transport.send(SmsMessage(to="+33612345678", body="x"))
    assert "Twilio" in str(raised.value)
    assert "tok-secret" not in str(raised.value)


# Twilio's webhooks, signed as https://www.twilio.com/docs/usage/webhooks/webhooks-security
# describes: base64 HMAC-SHA1 of the URL then each POST parameter's name and value,
# sorted by name, keyed with the auth token.

HOOK = "https://crm.example/hooks/sms/k3y/?campaign=brest"
AUTH_TOKEN = "tok-secret"


def twilio_signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    payload = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def twilio_call(params: dict[str, str], signature: str | None = None, url: str = HOOK) -> InboundRequest:
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature is not False:
        headers["x-twilio-signature"] = signature or twilio_signature(url, params)
    return InboundRequest(
        method="POST",
        url=url,
        headers=headers,
        body=urllib.parse.urlencode(params).encode(),
        params={**query, **params},
    )


def twilio_inbound(request: InboundRequest) -> list[SmsEvent]:
    return transport_kind("twilio").inbound(request, {"account_sid": "AC123"}, {"auth_token": "tok-secret"})


def test_twilio_webhooks_answer_an_empty_twiml_response():
    kind = transport_kind("twilio")
    assert kind.inbound_answer == ("<Response/>", "text/xml")


def test_a_twilio_delivered_status_callback_is_a_delivery():
    params = {
        "MessageSid": "SM0123456789abcdef",
        "MessageStatus": "delivered",
        "To": "+33612345678",
        "From": "BrestEnCom",
        "AccountSid": "AC123",
        "ApiVersion": "2010-04-01",
    }
    assert twilio_inbound(twilio_call(params)) == [
        SmsEvent(kind="delivered", number="+33612345678", provider_id="SM0123456789abcdef")
    ]


@pytest.mark.parametrize("status", ["queued", "sending", "sent", "accepted", "scheduled"])
def test_twilio_intermediate_statuses_yield_nothing(status):
    params = {"MessageSid": "SM1", "MessageStatus": status, "To": "+33612345678"}
    assert twilio_inbound(twilio_call(params)) == []


@pytest.mark.parametrize(
    ("status", "code", "permanent", "words"),
    [
        ("undelivered", "30003", True, "Unreachable destination handset"),
        ("undelivered", "30005", True, "Unknown destination handset"),
        ("undelivered", "30006", True, "Landline or unreachable carrier"),
        ("failed", "21211", True, "Invalid 'To' phone number"),
        ("failed", "21612", True, "not reachable"),
        ("failed", "21614", True, "not a valid mobile number"),
        ("undelivered", "30007", False, "filtered"),
        ("undelivered", "30008", False, "Unknown error"),
        ("failed", "30001", False, "Queue overflow"),
    ],
)
def test_twilio_failures_carry_the_code_and_whether_the_number_is_dead(status, code, permanent, words):
    params = {"MessageSid": "SM9", "MessageStatus": status, "ErrorCode": code, "To": "+33612345678"}
    (event,) = twilio_inbound(twilio_call(params))
    assert (event.kind, event.number, event.provider_id, event.permanent) == (
        "failed",
        "+33612345678",
        "SM9",
        permanent,
    )
    assert event.reason.startswith(code) and words in event.reason


def test_twilio_21610_is_a_permanent_failure_and_an_opt_out():
    params = {"MessageSid": "SM9", "MessageStatus": "failed", "ErrorCode": "21610", "To": "+33612345678"}
    failed, opt_out = twilio_inbound(twilio_call(params))
    assert failed.kind == "failed" and failed.permanent and failed.reason.startswith("21610")
    assert (opt_out.kind, opt_out.number) == ("opt_out", "+33612345678")


def test_a_text_sent_back_to_twilio_is_a_reply():
    params = {
        "MessageSid": "SMreply",
        "SmsStatus": "received",
        "From": "+33698765432",
        "To": "+33757000000",
        "Body": "Je viendrai, merci !",
        "NumMedia": "0",
    }
    assert twilio_inbound(twilio_call(params)) == [
        SmsEvent(kind="reply", number="+33698765432", text="Je viendrai, merci !")
    ]


@pytest.mark.parametrize(("opt", "kind"), [("STOP", "opt_out"), ("START", "opt_in")])
def test_twilio_advanced_opt_out_tells_stop_and_start(opt, kind):
    params = {"MessageSid": "SMx", "SmsStatus": "received", "From": "+33698765432", "Body": opt, "OptOutType": opt}
    (event,) = twilio_inbound(twilio_call(params))
    assert (event.kind, event.number) == (kind, "+33698765432")


def test_twilio_numbers_without_plus_are_normalised():
    params = {"MessageSid": "SMx", "SmsStatus": "received", "From": "33698765432", "Body": "Oui"}
    (event,) = twilio_inbound(twilio_call(params))
    assert event.number == "+33698765432"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda params: (params, twilio_signature(HOOK, params, token="another-token")),
        lambda params: (params, twilio_signature(HOOK.replace("brest", "quimper"), params)),
        lambda params: ({**params, "MessageStatus": "failed"}, twilio_signature(HOOK, params)),
        lambda params: (params, "not-base64"),
        lambda params: (params, False),
    ],
)
def test_a_badly_signed_twilio_call_is_refused(tamper):
    params, signature = tamper({"MessageSid": "SM1", "MessageStatus": "delivered", "To": "+33612345678"})
    with pytest.raises(SignatureError):
        twilio_inbound(twilio_call(params, signature=signature))


def test_twilio_signature_needs_the_configured_token():
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "To": "+33612345678"}
    with pytest.raises(SignatureError):
        transport_kind("twilio").inbound(twilio_call(params), {}, {})


def test_twilio_signature_with_the_default_port_is_accepted_either_way():
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "To": "+33612345678"}
    signed_with_port = twilio_signature("https://crm.example:443/hooks/sms/k3y/", params)
    request = twilio_call(params, signature=signed_with_port, url="https://crm.example/hooks/sms/k3y/")
    assert [event.kind for event in twilio_inbound(request)] == ["delivered"]


def test_twilio_get_callbacks_sign_the_url_alone():
    url = "https://crm.example/hooks/sms/k3y/?MessageSid=SM1&MessageStatus=delivered&To=%2B33612345678"
    request = InboundRequest(
        method="GET",
        url=url,
        headers={"x-twilio-signature": twilio_signature(url, {})},
        body=b"",
        params={"MessageSid": "SM1", "MessageStatus": "delivered", "To": "+33612345678"},
    )
    assert [event.kind for event in twilio_inbound(request)] == ["delivered"]


# The development transport.


def test_the_file_transport_writes_what_it_would_send(settings, tmp_path):
    settings.MAIL_SINK_DIR = str(tmp_path)
    transport = transport_kind("sms_file").build({"folder": "brest"}, {}, None)
    transport.open()
    transport.send(SmsMessage(to="+33612345678", body="Bonjour", sender_id="Brest", reference="d-42"))
    transport.send(SmsMessage(to="+33698765432", body="Salut"))
    transport.close()
    first, second = [json.loads(line) for line in (tmp_path / "brest" / "sms.jsonl").read_text().splitlines()]
    assert first == {"to": "+33612345678", "from": "Brest", "body": "Bonjour", "reference": "d-42"}
    assert second == {"to": "+33698765432", "from": "", "body": "Salut", "reference": ""}


def test_every_sms_provider_is_registered():
    assert {"twilio", "vonage", "brevo_sms", "ovh", "sms_file"} <= set(kinds_for("sms"))
    assert "smtp" in kinds_for("email") and "vonage" not in kinds_for("email")
    for kind in ("twilio", "vonage", "brevo_sms", "ovh"):
        description = transport_kind(kind)
        assert {"sender_id", "api_url"} <= set(description.settings_fields)
        assert callable(description.inbound)
        assert not set(description.settings_fields) & set(description.secret_fields)
    assert "sender_id" in transport_kind("sms_file").settings_fields


# The shared HTTP client: one connection between open() and close().


class KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.client_address[1], self.path, body))
        payload = json.dumps({"sid": f"SM{len(self.server.received)}"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if self.server.close_with_header:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        if self.server.drop_silently:
            self.close_connection = True

    def log_message(self, *args):
        pass


class KeepAliveServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), KeepAlive)
        self.received: list[tuple[int, str, bytes]] = []
        self.close_with_header = False
        self.drop_silently = False
        self.closed = threading.Event()

    def shutdown_request(self, request):
        super().shutdown_request(request)
        self.closed.set()


@pytest.fixture
def keep_alive():
    server = KeepAliveServer()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def twilio_on(server):
    settings = {"account_sid": "AC123", "sender_id": "Brest", "api_url": f"http://127.0.0.1:{server.server_port}"}
    return transport_kind("twilio").build(settings, {"auth_token": "tok-secret"}, None)


def test_messages_between_open_and_close_share_one_connection(keep_alive):
    transport = twilio_on(keep_alive)
    transport.open()
    ids = [transport.send(SmsMessage(to="+33612345678", body=f"n°{n}")).provider_id for n in range(5)]
    transport.close()
    assert ids == ["SM1", "SM2", "SM3", "SM4", "SM5"]
    ports = {port for port, _path, _body in keep_alive.received}
    assert len(ports) == 1
    assert transport.http.connections_opened == 1
    assert keep_alive.closed.wait(5)  # close() hung up


def test_a_single_message_outside_open_does_not_keep_its_connection(keep_alive):
    transport = twilio_on(keep_alive)
    transport.send(SmsMessage(to="+33612345678", body="Code : 1"))
    assert keep_alive.closed.wait(5)
    assert transport.http._connection is None


def test_a_server_closing_each_connection_is_followed(keep_alive):
    keep_alive.close_with_header = True
    transport = twilio_on(keep_alive)
    transport.open()
    for n in range(3):
        transport.send(SmsMessage(to="+33612345678", body=f"n°{n}"))
    transport.close()
    assert len({port for port, _path, _body in keep_alive.received}) == 3


def test_a_connection_dropped_while_idle_is_reopened_before_sending(keep_alive):
    keep_alive.drop_silently = True
    transport = twilio_on(keep_alive)
    transport.open()
    transport.send(SmsMessage(to="+33612345678", body="premier"))
    assert keep_alive.closed.wait(5)
    time.sleep(0.05)  # the server's FIN reaches our socket
    keep_alive.closed.clear()
    assert transport.send(SmsMessage(to="+33612345678", body="second")).provider_id == "SM2"
    transport.close()
    assert [body for _port, _path, body in keep_alive.received] == [
        b"To=%2B33612345678&From=Brest&Body=premier",
        b"To=%2B33612345678&From=Brest&Body=second",
    ]
    assert transport.http.connections_opened == 2


def test_the_http_client_sends_json_and_returns_parsed_answers(keep_alive):
    client = HttpClient("Test")
    status, answer = client.post(f"http://127.0.0.1:{keep_alive.server_port}/x?y=1", json_body={"a": "é"})
    client.close()
    assert (status, answer) == (201, {"sid": "SM1"})
    assert keep_alive.received[0][1:] == ("/x?y=1", b'{"a": "\\u00e9"}')


# Numbers, alphabet, tokens.


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("33612345678", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("447700900123", "+447700900123"),
        ("14155550123", "+14155550123"),
        ("", ""),
        ("BrestEnCom", ""),
    ],
)
def test_numbers_are_normalised_to_e164(given, expected):
    assert e164(given) == expected


def test_national_numbers_are_read_in_the_given_region():
    assert e164("07700 900123", region="GB") == "+447700900123"


@pytest.mark.parametrize(
    ("text", "gsm"),
    [
        ("Bonjour à tous, RDV 18h @ la mairie !", True),
        ("Réunion ce soir : 5€ [entrée] {libre} ~ ^ | \\", True),
        ("Ça commence", True),  # "Ç" is in the GSM table…
        ("ça commence", False),  # …"ç" is not
        ("Fête du quartier", False),
        ("l’équipe", False),  # typographic apostrophe
        ("Merci 🎉", False),
        ("ÄÖÑÜ§¿äöñüàÉ", True),
    ],
)
def test_the_gsm_alphabet_decides_unicode(text, gsm):
    assert is_gsm7(text) is gsm


def test_callback_addresses_carry_the_token():
    url = with_token("https://crm.example/hooks/sms/k3y/?a=1", "s3cret", event="stop")
    parts = urllib.parse.urlsplit(url)
    assert parts.path == "/hooks/sms/k3y/"
    assert urllib.parse.parse_qs(parts.query) == {"a": ["1"], "event": ["stop"], "token": ["s3cret"]}
    assert with_token("", "s3cret") == ""


def call_with(params=None, authorization=None):
    headers = {"authorization": authorization} if authorization else {}
    return InboundRequest(method="POST", url="https://crm.example/h/", headers=headers, body=b"", params=params or {})


@pytest.mark.parametrize(
    "request_",
    [
        call_with({"token": "s3cret"}),
        call_with(authorization="Basic " + base64.b64encode(b"brevo:s3cret").decode()),
        call_with(authorization="Bearer s3cret"),
    ],
)
def test_a_shared_token_is_accepted_three_ways(request_):
    check_token(request_, "s3cret")


@pytest.mark.parametrize(
    ("request_", "token"),
    [
        (call_with({"token": "s3cre"}), "s3cret"),
        (call_with({"token": "s3cret!"}), "s3cret"),
        (call_with(authorization="Basic " + base64.b64encode(b"s3cret:nope").decode()), "s3cret"),
        (call_with(authorization="Basic !!!"), "s3cret"),
        (call_with(authorization="Bearer nope"), "s3cret"),
        (call_with(), "s3cret"),
        (call_with({"token": ""}), ""),  # nothing configured: everything is refused
    ],
)
def test_a_missing_or_wrong_token_is_refused(request_, token):
    with pytest.raises(SignatureError):
        check_token(request_, token)
