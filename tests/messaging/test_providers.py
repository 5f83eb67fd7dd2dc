"""Provider transports through django-anymail, each against a local HTTP server
that answers like the provider's documented send API, and the tracking webhooks
through anymail's views configured with one transport's secrets."""

import base64
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.core.handlers.exception import convert_exception_to_response
from django.test import RequestFactory
from django.utils import translation

from suffrage.messaging.transports import amazon_ses, brevo, mailgun, mailjet, postmark, sendgrid
from suffrage.messaging.transports.base import (
    Feedback,
    OutgoingMessage,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    TransportConfigurationError,
    TransportKind,
)
from suffrage.messaging.transports.feedback import feedback_from_anymail, webhook_view_for

pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")  # SendGrid

UNSUBSCRIBE = "<https://brest2027.example/u/abc>, <mailto:unsubscribe+abc@brest2027.example>"
MESSAGE_ID = "<d1.abc@brest2027.example>"


# --- A local provider -----------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        """Fields of a form post, multipart or urlencoded (Mailgun takes both)."""
        content_type = self.headers["content-type"]
        if not content_type.startswith("multipart/"):
            return parse_qs(self.body.decode())
        parsed = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + self.body)
        fields: dict[str, list[str]] = {}
        for part in parsed.get_payload():
            name = part.get_param("name", header="content-disposition")
            fields.setdefault(name, []).append(part.get_payload(decode=True).decode())
        return fields


@dataclass
class LocalProvider:
    """Records each request and answers it with `reply` (status, headers, body)."""

    received: list[Received] = field(default_factory=list)
    reply: tuple[int, dict[str, str], bytes] = (200, {}, b"{}")

    def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        content_type = {"Content-Type": "application/json"} if body is not None else {}
        self.reply = (status, {**content_type, **(headers or {})}, payload)

    def only_request(self) -> Received:
        assert len(self.received) == 1
        return self.received[0]


def _handler(provider: LocalProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            provider.received.append(Received(self.command, self.path, headers, body))
            status, reply_headers, payload = provider.reply
            self.send_response(status)
            for name, value in {**reply_headers, "Content-Length": str(len(payload))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def local() -> Iterator[tuple[LocalProvider, str]]:
    provider = LocalProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield provider, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def message() -> OutgoingMessage:
    return OutgoingMessage(
        from_email="Équipe Brest 2027 <equipe@brest2027.example>",
        to="Jean Dupont <jean@example.org>",
        subject="Réunion publique jeudi",
        text="Bonjour Jean, rendez-vous jeudi.",
        html="<p>Bonjour Jean, rendez-vous <b>jeudi</b>.</p>",
        message_id=MESSAGE_ID,
        reply_to="contact@brest2027.example",
        headers={"List-Unsubscribe": UNSUBSCRIBE, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )


def send(
    kind: TransportKind, settings: dict[str, str], secrets: dict[str, str], message: OutgoingMessage
) -> SendResult:
    transport = kind.build(settings, secrets, None)
    transport.open()
    try:
        result: SendResult = transport.send(message)
    finally:
        transport.close()
    return result


# --- Each provider's send API ---------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One provider: how to point it at the local server, its documented success
    answer, and how its answer reads the recipient's refusal (None: not reported)."""

    kind: TransportKind
    settings: Callable[[str], dict[str, str]]
    secrets: dict[str, str]
    success: tuple[int, Any, dict[str, str]]
    refusal: tuple[int, Any] | None
    unauthorized: int = 401

    def send(self, url: str, message: OutgoingMessage) -> SendResult:
        return send(self.kind, self.settings(url), self.secrets, message)


CASES = {
    "brevo": Case(
        brevo.KIND,
        lambda url: {"api_url": f"{url}/v3/"},
        {"api_key": "xkeysib-brevo-secret"},
        (201, {"messageId": "<202407101200.1234@smtp-relay.mailin.fr>"}, {}),
        (400, {"code": "invalid_parameter", "message": "email is not valid in to"}),
    ),
    "mailjet": Case(
        mailjet.KIND,
        lambda url: {"api_url": f"{url}/v3.1/"},
        {"api_key": "mj-public", "secret_key": "mj-private-secret"},
        (
            200,
            {
                "Messages": [
                    {
                        "Status": "success",
                        "CustomID": "",
                        "To": [
                            {
                                "Email": "jean@example.org",
                                "MessageUUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j",
                                "MessageID": 456,
                                "MessageHref": "https://api.mailjet.com/v3/REST/message/456",
                            }
                        ],
                        "Cc": [],
                        "Bcc": [],
                    }
                ]
            },
            {},
        ),
        (
            400,
            {
                "Messages": [
                    {
                        "Status": "error",
                        "Errors": [
                            {
                                "ErrorIdentifier": "88b5ca9f-5f1f-42e7-a45e-9ecbad0c285e",
                                "ErrorCode": "mj-0013",
                                "StatusCode": 400,
                                "ErrorMessage": '"jean@example" is an invalid email address.',
                                "ErrorRelatedTo": ["To[0].Email"],
                            }
                        ],
                    }
                ]
            },
        ),
    ),
    "postmark": Case(
        postmark.KIND,
        lambda url: {"api_url": f"{url}/", "message_stream": "broadcast"},
        {"server_token": "pm-server-token-secret"},
        (
            200,
            {
                "To": "jean@example.org",
                "SubmittedAt": "2024-07-10T12:00:00.4178645-04:00",
                "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
                "ErrorCode": 0,
                "Message": "OK",
            },
            {},
        ),
        (
            422,
            {
                "ErrorCode": 406,
                "Message": "You tried to send to recipient(s) that have been marked as inactive. Found inactive "
                "addresses: jean@example.org. Inactive recipients are ones that have generated a hard bounce, "
                "a spam complaint, or a manual suppression.",
            },
        ),
    ),
    "mailgun": Case(
        mailgun.KIND,
        lambda url: {"api_url": f"{url}/v3"},
        {"api_key": "key-mailgun-secret"},
        (200, {"id": "<20240710120000.1.ABCDEF@brest2027.example>", "message": "Queued. Thank you."}, {}),
        (400, {"message": "'to' parameter is not a valid address. please check documentation"}),
    ),
    "sendgrid": Case(
        sendgrid.KIND,
        lambda url: {"api_url": f"{url}/v3/"},
        {"api_key": "SG.sendgrid-secret"},
        (202, None, {"X-Message-Id": "Lqe8b1lqT0yJXW9nRkGJKQ"}),
        (
            400,
            {
                "errors": [
                    {
                        "message": "Does not contain a valid address.",
                        "field": "personalizations.0.to.0.email",
                        "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html",
                    }
                ]
            },
        ),
    ),
    "amazon_ses": Case(
        amazon_ses.KIND,
        lambda url: {"region": "eu-west-3", "endpoint_url": url},
        {"aws_access_key_id": "AKIAEXAMPLEKEYID", "aws_secret_access_key": "ses-secret-access-key"},
        (200, {"MessageId": "0100019099a2b3c4-5d6e7f80-aaaa-bbbb-cccc-0123456789ab-000000"}, {}),
        None,  # SES accepts the message, then reports the bounce
        unauthorized=403,
    ),
}


def test_brevo_sends_through_its_api(local, message):
    provider, url = local
    provider.answer(201, {"messageId": "<202407101200.1234@smtp-relay.mailin.fr>"})

    result = CASES["brevo"].send(url, message)

    request = provider.only_request()
    assert (request.method, request.path) == ("POST", "/v3/smtp/email")
    assert request.headers["api-key"] == "xkeysib-brevo-secret"
    body = request.json()
    assert body["to"] == [{"email": "jean@example.org", "name": "Jean Dupont"}]
    assert body["sender"]["email"] == "equipe@brest2027.example"
    assert body["replyTo"]["email"] == "contact@brest2027.example"
    assert (body["subject"], body["textContent"], body["htmlContent"]) == (message.subject, message.text, message.html)
    assert body["headers"]["Message-ID"] == MESSAGE_ID
    assert body["headers"]["List-Unsubscribe"] == UNSUBSCRIBE
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert result == SendResult(provider_id="<202407101200.1234@smtp-relay.mailin.fr>")


def test_mailjet_sends_through_its_api(local, message):
    provider, url = local
    status, answer, _ = CASES["mailjet"].success
    provider.answer(status, answer)

    result = CASES["mailjet"].send(url, message)

    request = provider.only_request()
    assert (request.method, request.path) == ("POST", "/v3.1/send")
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"mj-public:mj-private-secret").decode()
    body = request.json()
    payload = {**body["Globals"], **body["Messages"][0]}
    assert payload["To"] == [{"Email": "jean@example.org", "Name": "Jean Dupont"}]
    assert payload["From"]["Email"] == "equipe@brest2027.example"
    assert payload["ReplyTo"]["Email"] == "contact@brest2027.example"
    assert (payload["Subject"], payload["TextPart"], payload["HTMLPart"]) == (
        message.subject,
        message.text,
        message.html,
    )
    assert payload["Headers"]["Message-ID"] == MESSAGE_ID
    assert payload["Headers"]["List-Unsubscribe"] == UNSUBSCRIBE
    assert payload["Headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Mailjet's MessageID is what its event webhooks quote back.
    assert result == SendResult(provider_id="456")


def test_postmark_sends_through_its_api(local, message):
    provider, url = local
    status, answer, _ = CASES["postmark"].success
    provider.answer(status, answer)

    result = CASES["postmark"].send(url, message)

    request = provider.only_request()
    assert (request.method, request.path) == ("POST", "/email")
    assert request.headers["x-postmark-server-token"] == "pm-server-token-secret"
    body = request.json()
    assert body["To"] == "Jean Dupont <jean@example.org>"
    assert body["ReplyTo"] == "contact@brest2027.example"
    assert body["MessageStream"] == "broadcast"
    assert (body["Subject"], body["TextBody"], body["HtmlBody"]) == (message.subject, message.text, message.html)
    headers = {header["Name"]: header["Value"] for header in body["Headers"]}
    assert headers["Message-ID"] == MESSAGE_ID
    assert headers["X-PM-KeepID"] == "true"
    assert headers["List-Unsubscribe"] == UNSUBSCRIBE
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert result == SendResult(provider_id="0a129aee-e1cd-480d-b08d-4f48548ff48d")


def test_mailgun_sends_through_its_api(local, message):
    provider, url = local
    provider.answer(200, {"id": "<20240710120000.1.ABCDEF@brest2027.example>", "message": "Queued. Thank you."})

    result = CASES["mailgun"].send(url, message)

    request = provider.only_request()
    # The sender domain defaults to the From address's.
    assert (request.method, request.path) == ("POST", "/v3/brest2027.example/messages")
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"api:key-mailgun-secret").decode()
    form = request.form()
    assert form["to"] == ["Jean Dupont <jean@example.org>"]
    assert (form["subject"], form["text"], form["html"]) == ([message.subject], [message.text], [message.html])
    assert form["h:Reply-To"] == ["contact@brest2027.example"]
    assert form["h:Message-Id"] == [MESSAGE_ID]
    assert form["h:List-Unsubscribe"] == [UNSUBSCRIBE]
    assert form["h:List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    assert result == SendResult(provider_id="<20240710120000.1.ABCDEF@brest2027.example>")


def test_sendgrid_sends_through_its_api(local, message):
    provider, url = local
    provider.answer(202, headers={"X-Message-Id": "Lqe8b1lqT0yJXW9nRkGJKQ"})

    result = CASES["sendgrid"].send(url, message)

    request = provider.only_request()
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.headers["authorization"] == "Bearer SG.sendgrid-secret"
    body = request.json()
    [personalization] = body["personalizations"]
    assert personalization["to"] == [{"email": "jean@example.org", "name": "Jean Dupont"}]
    assert body["from"]["email"] == "equipe@brest2027.example"
    assert body["reply_to_list"] == [{"email": "contact@brest2027.example"}]
    assert body["subject"] == message.subject
    assert body["content"] == [
        {"type": "text/plain", "value": message.text},
        {"type": "text/html", "value": message.html},
    ]
    assert body["headers"]["Message-ID"] == MESSAGE_ID
    assert body["headers"]["List-Unsubscribe"] == UNSUBSCRIBE
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # SendGrid's answer carries no per-message id its webhooks quote: anymail sends
    # its own as a custom arg, which the events carry back.
    assert result == SendResult(provider_id=personalization["custom_args"]["anymail_id"])
    assert result.provider_id


def _mime_parts(mime: Message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in mime.walk() if not part.is_multipart()}


def test_amazon_ses_sends_through_its_api(local, message):
    provider, url = local
    provider.answer(200, {"MessageId": "0100019099a2b3c4-5d6e7f80-aaaa-bbbb-cccc-0123456789ab-000000"})

    result = CASES["amazon_ses"].send(url, message)

    request = provider.only_request()
    assert (request.method, request.path) == ("POST", "/v2/email/outbound-emails")
    # Signed (SigV4) with the transport's own key, for SES in its region.
    assert "Credential=AKIAEXAMPLEKEYID/" in request.headers["authorization"]
    assert "/eu-west-3/ses/aws4_request" in request.headers["authorization"]
    body = request.json()
    assert body["Destination"] == {"ToAddresses": ["jean@example.org"]}
    mime = message_from_bytes(base64.b64decode(body["Content"]["Raw"]["Data"]), policy=default_policy)
    assert (mime["To"], mime["Subject"], mime["Reply-To"]) == (message.to, message.subject, message.reply_to)
    assert mime["Message-ID"] == MESSAGE_ID
    assert mime["List-Unsubscribe"] == UNSUBSCRIBE
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    parts = _mime_parts(mime)
    assert parts["text/plain"].strip() == message.text
    assert parts["text/html"].strip() == message.html
    assert result == SendResult(provider_id="0100019099a2b3c4-5d6e7f80-aaaa-bbbb-cccc-0123456789ab-000000")


# --- What each provider's refusals become ---------------------------------------


def _error_answer(name: str, status: int, message: str, echo: str = "") -> tuple[Any, dict[str, str]]:
    """An error body in the provider's shape (SES: AWS JSON errors with a type)."""
    if name == "amazon_ses":
        kind = {429: "TooManyRequestsException", 403: "UnrecognizedClientException"}.get(status, "InternalFailure")
        return {"message": f"{message} {echo}"}, {"x-amzn-ErrorType": kind}
    return {"ErrorCode": status, "message": f"{message} {echo}"}, {}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("status", [429, 503])
def test_rate_limits_and_outages_are_temporary(local, message, name, status):
    provider, url = local
    body, headers = _error_answer(name, status, "Slow down")
    provider.answer(status, body, headers)

    with pytest.raises(TemporaryFailure, match=str(status)):
        CASES[name].send(url, message)


@pytest.mark.parametrize("name", CASES)
def test_a_refused_key_pauses_the_mailing_without_showing_it(local, message, name):
    case = CASES[name]
    provider, url = local
    secrets = " ".join(case.secrets.values())
    body, headers = _error_answer(name, case.unauthorized, "Key not found:", echo=secrets)
    provider.answer(case.unauthorized, body, headers)

    with pytest.raises(TransportConfigurationError) as refused:
        case.send(url, message)

    assert str(case.unauthorized) in str(refused.value)
    for secret in case.secrets.values():
        assert secret not in str(refused.value)
        assert secret not in repr(refused.value.args)


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.refusal])
def test_a_refused_recipient_is_permanent(local, message, name):
    provider, url = local
    status, body = CASES[name].refusal
    provider.answer(status, body)

    with pytest.raises(PermanentFailure):
        CASES[name].send(url, message)


def test_an_unexplained_refusal_is_retried_not_suppressed(local, message):
    provider, url = local
    provider.answer(400, {"code": "invalid_parameter", "message": "sender is not valid"})

    with pytest.raises(TemporaryFailure, match="sender is not valid"):
        CASES["brevo"].send(url, message)


def test_an_unverified_sender_is_a_configuration_error(local, message):
    provider, url = local
    provider.answer(422, {"ErrorCode": 400, "Message": "The 'From' address you supplied is not a Sender Signature."})

    with pytest.raises(TransportConfigurationError, match="Sender Signature"):
        CASES["postmark"].send(url, message)


def test_amazon_ses_sandbox_refusal_is_a_configuration_error(local, message):
    provider, url = local
    body = {"message": "Email address is not verified. The following identities failed the check: jean@example.org"}
    provider.answer(400, body, {"x-amzn-ErrorType": "MessageRejected"})

    with pytest.raises(TransportConfigurationError, match="not verified"):
        CASES["amazon_ses"].send(url, message)


@pytest.mark.parametrize("name", CASES)
def test_a_malformed_recipient_is_permanent_and_a_malformed_sender_is_not(local, message, name):
    provider, url = local
    with pytest.raises(PermanentFailure):
        CASES[name].send(url, replace(message, to="jean@"))
    with pytest.raises(TransportConfigurationError):
        CASES[name].send(url, replace(message, from_email="Équipe <equipe@>"))
    assert provider.received == []


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("name", CASES)
def test_an_unreachable_provider_is_temporary(message, name):
    with pytest.raises(TemporaryFailure):
        CASES[name].send(_closed_port_url(), message)


@pytest.mark.parametrize("name", CASES)
def test_missing_credentials_are_a_configuration_error(message, name):
    """Never anymail's global settings, nor boto3's own credential chain."""
    case = CASES[name]
    with translation.override("en"), pytest.raises(TransportConfigurationError, match="missing"):
        send(case.kind, case.settings("http://127.0.0.1:9"), {}, message)


def test_kinds_describe_their_fields():
    assert brevo.KIND.secret_fields == ("api_key", "webhook_secret")
    assert mailgun.KIND.secret_fields == ("api_key", "webhook_signing_key")
    assert amazon_ses.KIND.settings_fields == ("region", "configuration_set_name", "endpoint_url")
    assert {case.kind.spf_hint for case in CASES.values()} == {
        "include:spf.brevo.com",
        "include:spf.mailjet.com",
        "include:spf.mtasv.net",
        "include:mailgun.org",
        "include:sendgrid.net",
        "include:amazonses.com",
    }


# --- Tracking webhooks ----------------------------------------------------------


@pytest.fixture
def tracked(monkeypatch) -> list[AnymailTrackingEvent]:
    """The events anymail's `tracking` signal sends, to this test's receiver only (the
    app's own receiver, which records feedback in the database, is tested elsewhere)."""
    events: list[AnymailTrackingEvent] = []

    def receive(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
        events.append(event)

    monkeypatch.setattr(tracking, "receivers", [])
    tracking.connect(receive, weak=False)
    return events


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _post(kind: TransportKind, secrets: dict[str, str], payload: Any, **headers: str) -> int:
    """POST the payload to the transport's webhook view, as Django's handler would
    (a failed validation becomes a 400 response)."""
    request = RequestFactory().post("/hooks/email/x/", json.dumps(payload), content_type="application/json", **headers)
    view = convert_exception_to_response(webhook_view_for(kind, secrets))
    status: int = view(request).status_code
    return status


BREVO_SECRET = "anymail:brevo-hook-secret"


def _brevo_event(event: str, reason: str = "") -> dict[str, Any]:
    return {
        "event": event,
        "email": "jean@example.org",
        "id": 26224,
        "date": "2024-07-10 14:00:00",
        "ts": 1720612800,
        "message-id": "<202407101200.1234@smtp-relay.mailin.fr>",
        "ts_event": 1720612800,
        "subject": "Réunion publique jeudi",
        "sending_ip": "185.41.28.109",
        "ts_epoch": 1720612800123,
        "tags": [],
        **({"reason": reason} if reason else {}),
    }


def test_brevo_hard_bounce_and_complaint(tracked):
    secrets = {"webhook_secret": BREVO_SECRET}
    auth = {"HTTP_AUTHORIZATION": _basic(BREVO_SECRET)}

    assert _post(brevo.KIND, secrets, _brevo_event("hard_bounce", "550 5.1.1 user unknown"), **auth) == 200
    assert _post(brevo.KIND, secrets, _brevo_event("spam"), **auth) == 200

    bounce, complaint = (feedback_from_anymail(event) for event in tracked)
    provider_id = "<202407101200.1234@smtp-relay.mailin.fr>"
    assert bounce == Feedback(
        kind="bounced",
        recipient="jean@example.org",
        provider_id=provider_id,
        permanent=True,
        detail="550 5.1.1 user unknown",
    )
    assert complaint == Feedback(kind="complained", recipient="jean@example.org", provider_id=provider_id)


def test_brevo_soft_bounce_is_not_permanent(tracked):
    auth = {"HTTP_AUTHORIZATION": _basic(BREVO_SECRET)}
    assert (
        _post(brevo.KIND, {"webhook_secret": BREVO_SECRET}, _brevo_event("soft_bounce", "mailbox full"), **auth) == 200
    )

    [event] = tracked
    feedback = feedback_from_anymail(event)
    assert feedback is not None
    assert (feedback.kind, feedback.permanent) == ("bounced", False)


def test_brevo_webhook_refuses_a_wrong_secret(tracked):
    auth = {"HTTP_AUTHORIZATION": _basic("anymail:guessed")}
    assert _post(brevo.KIND, {"webhook_secret": BREVO_SECRET}, _brevo_event("spam"), **auth) == 400
    assert _post(brevo.KIND, {"webhook_secret": BREVO_SECRET}, _brevo_event("spam")) == 400
    assert tracked == []


def test_a_webhook_without_its_secret_refuses_everything(tracked):
    assert _post(brevo.KIND, {}, _brevo_event("spam")) == 403
    assert _post(mailgun.KIND, {"webhook_secret": "not the signing key"}, {}) == 403
    assert tracked == []


MAILGUN_KEY = "mailgun-webhook-signing-key"


def _mailgun_event(event_data: dict[str, Any], key: str = MAILGUN_KEY) -> dict[str, Any]:
    timestamp, token = "1720612800", "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    message = {
        "headers": {
            "to": "Jean Dupont <jean@example.org>",
            "message-id": "20240710120000.1.ABCDEF@brest2027.example",
            "from": "equipe@brest2027.example",
            "subject": "Réunion publique jeudi",
        },
        "attachments": [],
        "size": 1234,
    }
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "id": "G9Bn5sl1TC6nu79C8C0bwg",
            "timestamp": 1720612800.375624,
            "recipient": "jean@example.org",
            "recipient-domain": "example.org",
            "message": message,
            "tags": [],
            "user-variables": {},
            **event_data,
        },
    }


MAILGUN_BOUNCE = {
    "event": "failed",
    "log-level": "error",
    "severity": "permanent",
    "reason": "bounce",
    "delivery-status": {
        "attempt-no": 1,
        "code": 550,
        "message": "5.1.1 The email account that you tried to reach does not exist.",
        "description": "",
    },
}
MAILGUN_COMPLAINT = {"event": "complained", "log-level": "warn"}


def test_mailgun_hard_bounce_and_complaint_with_a_signature(tracked):
    secrets = {"webhook_signing_key": MAILGUN_KEY}

    assert _post(mailgun.KIND, secrets, _mailgun_event(MAILGUN_BOUNCE)) == 200
    assert _post(mailgun.KIND, secrets, _mailgun_event(MAILGUN_COMPLAINT)) == 200

    bounce, complaint = (feedback_from_anymail(event) for event in tracked)
    provider_id = "<20240710120000.1.ABCDEF@brest2027.example>"  # as the send API answered
    assert bounce == Feedback(
        kind="bounced",
        recipient="jean@example.org",
        provider_id=provider_id,
        permanent=True,
        detail="5.1.1 The email account that you tried to reach does not exist.",
    )
    assert complaint == Feedback(kind="complained", recipient="jean@example.org", provider_id=provider_id)


def test_mailgun_webhook_refuses_a_wrong_signature(tracked):
    forged = _mailgun_event(MAILGUN_COMPLAINT, key="another-key")
    assert _post(mailgun.KIND, {"webhook_signing_key": MAILGUN_KEY}, forged) == 400
    assert tracked == []


POSTMARK_SECRET = "anymail:postmark-hook-secret"
POSTMARK_BOUNCE = {
    "RecordType": "Bounce",
    "MessageStream": "broadcast",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Tag": "",
    "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
    "Metadata": {},
    "ServerID": 23,
    "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "jean@example.org",
    "From": "equipe@brest2027.example",
    "BouncedAt": "2024-07-10T14:00:00.9070259Z",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Réunion publique jeudi",
}
POSTMARK_COMPLAINT = {
    **POSTMARK_BOUNCE,
    "Type": "SpamComplaint",
    "TypeCode": 512,
    "Name": "Spam complaint",
    "Description": "The subscriber explicitly marked this message as spam.",
    "Details": "Test spam complaint details",
}


def test_postmark_hard_bounce_and_complaint(tracked):
    secrets = {"webhook_secret": POSTMARK_SECRET}
    auth = {"HTTP_AUTHORIZATION": _basic(POSTMARK_SECRET)}

    assert _post(postmark.KIND, secrets, POSTMARK_BOUNCE, **auth) == 200
    assert _post(postmark.KIND, secrets, POSTMARK_COMPLAINT, **auth) == 200

    bounce, complaint = (feedback_from_anymail(event) for event in tracked)
    assert bounce == Feedback(
        kind="bounced",
        recipient="jean@example.org",
        provider_id="0a129aee-e1cd-480d-b08d-4f48548ff48d",
        permanent=True,
        detail=f"{POSTMARK_BOUNCE['Description']} — {POSTMARK_BOUNCE['Details']}",
    )
    assert complaint is not None
    assert (complaint.kind, complaint.recipient, complaint.provider_id) == (
        "complained",
        "jean@example.org",
        "0a129aee-e1cd-480d-b08d-4f48548ff48d",
    )


def test_postmark_webhook_refuses_a_wrong_secret(tracked):
    auth = {"HTTP_AUTHORIZATION": _basic("anymail:guessed")}
    assert _post(postmark.KIND, {"webhook_secret": POSTMARK_SECRET}, POSTMARK_BOUNCE, **auth) == 400
    assert tracked == []


def _event(event_type: str, **fields: Any) -> AnymailTrackingEvent:
    return AnymailTrackingEvent(event_type=event_type, recipient="jean@example.org", message_id="m1", **fields)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_event("delivered"), Feedback(kind="delivered", recipient="jean@example.org", provider_id="m1")),
        (_event("deferred"), Feedback(kind="deferred", recipient="jean@example.org", provider_id="m1")),
        (_event("opened"), Feedback(kind="opened", recipient="jean@example.org", provider_id="m1")),
        (
            _event("clicked", click_url="https://brest2027.example/programme"),
            Feedback(
                kind="clicked",
                recipient="jean@example.org",
                provider_id="m1",
                url="https://brest2027.example/programme",
            ),
        ),
        (_event("unsubscribed"), Feedback(kind="unsubscribed", recipient="jean@example.org", provider_id="m1")),
        (
            _event("rejected", reject_reason="bounced"),
            Feedback(kind="bounced", recipient="jean@example.org", provider_id="m1", permanent=True),
        ),
        (
            _event("rejected", reject_reason="other", description="duplicate in campaign"),
            Feedback(kind="bounced", recipient="jean@example.org", provider_id="m1", detail="duplicate in campaign"),
        ),
        (
            _event("bounced", description="Transient: MailboxFull"),  # Amazon SES
            Feedback(kind="bounced", recipient="jean@example.org", provider_id="m1", detail="Transient: MailboxFull"),
        ),
        (_event("queued"), None),
        (_event("sent"), None),
        (_event("failed"), None),
        (_event("unknown"), None),
    ],
)
def test_feedback_from_anymail_events(event, expected):
    assert feedback_from_anymail(event) == expected


SES_SECRET = "anymail:ses-hook-secret"
SES_SECRETS = {"webhook_secret": SES_SECRET, **CASES["amazon_ses"].secrets}


def _sns_notification(bounce_type: str) -> dict[str, Any]:
    """An SES event published to SNS, as SNS posts it to an HTTPS subscription."""
    ses_event = {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": "jean@example.org", "action": "failed", "diagnosticCode": "smtp; 550 5.1.1 unknown"}
            ],
            "timestamp": "2024-07-10T14:00:00.000Z",
            "feedbackId": "0100019099a2b3c4-feedback",
        },
        "mail": {
            "timestamp": "2024-07-10T13:59:58.000Z",
            "source": "equipe@brest2027.example",
            "messageId": "0100019099a2b3c4-5d6e7f80-aaaa-bbbb-cccc-0123456789ab-000000",
            "destination": ["jean@example.org"],
        },
    }
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:eu-west-3:123456789012:suffrage-events",
        "Message": json.dumps(ses_event),
        "Timestamp": "2024-07-10T14:00:01.000Z",
        "SignatureVersion": "1",
    }


@pytest.mark.parametrize(("bounce_type", "permanent"), [("Permanent", True), ("Transient", False)])
def test_amazon_ses_bounce_through_sns(tracked, bounce_type, permanent):
    notification = _sns_notification(bounce_type)
    headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
        "HTTP_X_AMZ_SNS_MESSAGE_ID": notification["MessageId"],
        "HTTP_AUTHORIZATION": _basic(SES_SECRET),
    }

    assert _post(amazon_ses.KIND, SES_SECRETS, notification, **headers) == 200
    assert _post(amazon_ses.KIND, SES_SECRETS, notification, **{**headers, "HTTP_AUTHORIZATION": _basic("a:b")}) == 400

    [event] = tracked
    assert feedback_from_anymail(event) == Feedback(
        kind="bounced",
        recipient="jean@example.org",
        provider_id="0100019099a2b3c4-5d6e7f80-aaaa-bbbb-cccc-0123456789ab-000000",
        permanent=permanent,
        detail=f"{bounce_type}: General — smtp; 550 5.1.1 unknown",
    )


def test_a_malformed_endpoint_is_a_configuration_error(message):
    case = CASES["amazon_ses"]
    with pytest.raises(TransportConfigurationError):
        send(case.kind, {"region": "eu-west-3", "endpoint_url": "not a url"}, case.secrets, message)
