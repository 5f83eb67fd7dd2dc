"""Fixtures for text messages: a local server speaking Twilio's documented Messages
API (the provider the end-to-end tests go through), a campaign configured for SMS
with an always-open sending window, and helpers to sign Twilio's webhook calls."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import itertools
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from suffrage.messaging import services as mailings
from suffrage.people.models import LegalBasis
from suffrage.texting import services
from suffrage.texting.models import sms_settings
from tests.factories import PersonFactory, PersonPhoneFactory, SegmentFactory

AUTH_TOKEN = "twilio-auth-token"


@dataclass
class FakeTwilio:
    """What the test's Twilio received; refuses the numbers in `refusals` with a Twilio error code."""

    received: list[dict[str, str]] = field(default_factory=list)
    refusals: dict[str, tuple[int, int]] = field(default_factory=dict)  # number -> (HTTP status, Twilio code)
    port: int = 0
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def bodies_to(self, number: str) -> list[str]:
        return [request["Body"] for request in self.received if request["To"] == number]


@pytest.fixture
def twilio():
    state = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            refusal = state.refusals.get(form.get("To", ""))
            if refusal:
                status, payload = refusal[0], {"code": refusal[1], "message": "refused", "status": refusal[0]}
            else:
                state.received.append(form)
                status, payload = 201, {"sid": f"SM{next(state.ids):032d}", "status": "queued"}
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def texting(campaign, manager, twilio, settings):
    """The campaign's Twilio account (the local server), its SMS settings, and a
    factory of text-message mailings. The sending window is always open here: tests
    about hours set their own moments."""
    settings.SITE_URL = "https://suffrage.example"
    campaign.languages = ["en"]  # the texts' fixed words in English, whatever the French catalogue says
    campaign.save(update_fields=["languages"])
    transport = mailings.transport_save(
        campaign=campaign,
        kind="twilio",
        name="Twilio",
        values={
            "account_sid": "AC0001",
            "sender_id": "Dupont2027",
            "api_url": f"http://127.0.0.1:{twilio.port}",
            "auth_token": AUTH_TOKEN,
        },
        rate_per_second=0,
        actor=manager,
        price_per_part="0.0450",
    )
    options = sms_settings(campaign)
    options.transport = transport
    options.sender_id = "Dupont2027"
    options.signature = "Dupont 2027"
    options.stop_number = "36111"
    options.send_days = [0, 1, 2, 3, 4, 5, 6]
    options.send_from, options.send_until = datetime.time(0), datetime.time(23, 59, 59)
    options.skip_public_holidays = False
    options.save()

    def mailing(segment=None, **values: Any):
        fields = {
            "name": "Réunion publique",
            "transport": transport,
            "segment": segment or SegmentFactory(campaign=campaign),
            "body": "Bonjour {{ first_name }}, réunion publique jeudi à 19h, salle du port.",
            "consent_request": "",
        } | values
        return services.sms_mailing_save(campaign=campaign, values=fields, actor=manager)

    return {"transport": transport, "mailing": mailing, "settings": options}


def texter(campaign, number: str, **fields: Any):
    """Someone who consented to text messages, with a mobile number."""
    person = PersonFactory(campaign=campaign, **({"legal_basis": LegalBasis.CONSENT, "consent_sms": True} | fields))
    PersonPhoneFactory(person=person, number=number)
    return person


def twilio_signature(url: str, params: dict[str, str]) -> str:
    """Twilio's documented scheme, written again here: HMAC-SHA1 over the URL and the
    sorted POST parameters, base64."""
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    return base64.b64encode(hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def twilio_call(client, transport, params: dict[str, str], *, signed: bool = True):
    """Post to our webhook as Twilio does (form-encoded, signed)."""
    path = f"/hooks/sms/{transport.webhook_key}/"
    signature = twilio_signature(f"https://suffrage.example{path}", params) if signed else "x"
    body = urllib.parse.urlencode(params)
    return client.post(path, body, content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature)
