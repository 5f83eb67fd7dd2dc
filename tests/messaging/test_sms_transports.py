"""Text-message transports: Twilio against a local server speaking its documented
Messages API (form fields, basic auth, the answer's sid, error codes), and the file
transport used for development."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from suffrage.messaging.transports import kinds_for, transport_kind
from suffrage.messaging.transports.base import (
    PermanentFailure,
    SmsMessage,
    TemporaryFailure,
    TransportConfigurationError,
)


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
def twilio():
    FakeTwilio.received = []
    FakeTwilio.answer = (201, {"sid": "SM0123456789abcdef", "status": "queued"})
    server = HTTPServer(("127.0.0.1", 0), FakeTwilio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = {"account_sid": "AC123", "sender_id": "BrestEnCom", "api_url": f"http://127.0.0.1:{server.server_port}"}
    yield transport_kind("twilio").build(settings, {"auth_token": "tok-secret"}, None), FakeTwilio
    server.shutdown()


def test_twilio_receives_the_documented_request_and_its_sid_comes_back(twilio):
    transport, server = twilio
    result = transport.send(SmsMessage(to="+33612345678", body="Code : 123456"))
    assert result.provider_id == "SM0123456789abcdef"
    (request,) = server.received
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request["form"] == {"To": "+33612345678", "From": "BrestEnCom", "Body": "Code : 123456"}
    assert base64.b64decode(request["auth"].removeprefix("Basic ")).decode() == "AC123:tok-secret"


@pytest.mark.parametrize(
    ("status", "payload", "failure"),
    [
        (400, {"code": 21211, "message": "Invalid 'To' Phone Number"}, PermanentFailure),
        (429, {"code": 20429, "message": "Too Many Requests"}, TemporaryFailure),
        (503, {"code": 20500, "message": "Internal error"}, TemporaryFailure),
        (401, {"code": 20003, "message": "Authenticate"}, TransportConfigurationError),
    ],
)
def test_twilio_errors_are_mapped(twilio, status, payload, failure):
    transport, server = twilio
    server.answer = (status, payload)
    with pytest.raises(failure) as raised:
        transport.send(SmsMessage(to="+33612345678", body="x"))
    assert "tok-secret" not in str(raised.value)


def test_the_file_transport_writes_what_it_would_send(settings, tmp_path):
    settings.MAIL_SINK_DIR = str(tmp_path)
    transport = transport_kind("sms_file").build({"folder": "brest"}, {}, None)
    transport.send(SmsMessage(to="+33612345678", body="Bonjour", sender_id="Brest"))
    line = json.loads((tmp_path / "brest" / "sms.jsonl").read_text())
    assert line == {"to": "+33612345678", "from": "Brest", "body": "Bonjour"}
    assert set(kinds_for("sms")) == {"twilio", "sms_file"} and "smtp" in kinds_for("email")
