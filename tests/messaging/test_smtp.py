"""The SMTP transport against a real SMTP server (aiosmtpd) on loopback: what arrives,
how it is signed, how refusals map to failures, and connection reuse."""

from __future__ import annotations

import datetime
import email
import email.policy
import email.utils
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import translation

from suffrage.messaging.dkim import ALGORITHMS, dkim_key_generate, dns_records
from suffrage.messaging.transports.base import DkimKey, OutgoingMessage, PermanentFailure, TemporaryFailure
from suffrage.messaging.transports.smtp import KIND, SmtpConfigurationError, SmtpTransport, build, render_message

DOMAIN = "brest2027.example"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: Any
    tls: bool


@dataclass
class Recorder:
    """An aiosmtpd handler keeping what arrives; refuses addresses listed in `refusals`."""

    refusals: dict[str, str] = field(default_factory=dict)
    messages: list[Received] = field(default_factory=list)
    drop_next_mail: str = ""  # "quietly" or "421": how the server ends the next session

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.drop_next_mail:
            how, self.drop_next_mail = self.drop_next_mail, ""
            if how == "quietly":
                server.transport.abort()  # as if the server had timed the idle session out
                return "250 never read"
            server.transport.close()
            return "421 4.4.2 Too many messages, closing connection"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = session.ssl is not None
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.peer, tls))
        return "250 2.0.0 Ok: queued"

    def connections(self) -> int:
        return len({message.peer for message in self.messages})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """start(**controller_kwargs) -> (recorder, port); every server started is stopped."""
    controllers: list[Controller] = []

    def start(**kwargs: Any) -> tuple[Recorder, int]:
        recorder = Recorder()
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return recorder, port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it): a test CA and a 127.0.0.1 certificate."""
    folder: Path = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key, issuer: x509.Name | None, issuer_key, ca: bool) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("Suffrage test CA", ca_key, None, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = certificate("127.0.0.1", server_key, ca_cert.subject, ca_key, ca=False)
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "server.pem", folder / "server.key")
    client = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    return server, client


@pytest.fixture(scope="module")
def dkim_keys() -> dict[str, tuple[DkimKey, str]]:
    keys = {}
    for algorithm in ALGORITHMS:
        pem, public = dkim_key_generate(algorithm)
        record = dns_records(DOMAIN, "s2026", algorithm, public, KIND.spf_hint, "dmarc@brest2027.example")[1]
        keys[algorithm] = (DkimKey(DOMAIN, "s2026", algorithm, pem), record.value)
    return keys


def message(to: str = "jean.kerouac@example.org", **changes: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "from_email": "Équipe Brest 2027 <contact@brest2027.example>",
        "to": to,
        "subject": "Réunion publique à Brest — jeudi 20 h",
        "text": "Bonjour Jean,\n\nRéunion jeudi à 20 h, salle de la Mairie.\n\n-- \nÉquipe Brest 2027\n",
        "html": "<p>Bonjour Jean,</p><p>Réunion <b>jeudi</b> à 20 h.</p>" + "<p>" + "x" * 2000 + "</p>",
        "message_id": f"<{to.split('@')[0]}.1@brest2027.example>",
        "reply_to": "Permanence <permanence@brest2027.example>",
        "headers": {
            "List-Unsubscribe": "<https://brest2027.example/u/Zm9vYmFy>, <mailto:unsubscribe@brest2027.example>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Suffrage-Delivery": "d-123",
        },
    }
    values.update(changes)
    return OutgoingMessage(**values)


def unix(text: str) -> str:
    """The parser keeps the wire's CRLF in decoded text."""
    return text.replace("\r\n", "\n")


def verify(data: bytes, txt: str) -> bool:
    return bool(dkim.verify(data, dnsfunc=lambda name, timeout=5: txt.encode()))


def plain(port: int, **kwargs: Any) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", port, security="none", **kwargs)


def test_messages_arrive_one_recipient_each_over_one_connection(smtp_server):
    server, port = smtp_server()
    transport = plain(port)
    transport.open()
    recipients = [f"militant{i}@example.org" for i in range(5)]
    for recipient in recipients:
        transport.send(message(to=recipient))
    transport.close()

    assert [m.rcpt_tos for m in server.messages] == [[r] for r in recipients]
    assert {m.mail_from for m in server.messages} == {"contact@brest2027.example"}
    assert server.connections() == 1 and transport.connections_opened == 1


def test_headers_and_mime_structure(smtp_server):
    server, port = smtp_server()
    transport = plain(port)
    sent = message()
    transport.send(sent)  # opens the connection itself when needed
    transport.close()

    [received] = server.messages
    assert b"\r\n" in received.data and max(len(line) for line in received.data.split(b"\r\n")) <= 78
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    assert parsed["Subject"] == sent.subject
    assert "=?utf-8?" in email.message_from_bytes(received.data, policy=email.policy.compat32)["Subject"]
    assert parsed["From"].addresses[0].display_name == "Équipe Brest 2027"
    assert parsed["From"].addresses[0].addr_spec == "contact@brest2027.example"
    assert parsed["To"] == "jean.kerouac@example.org"
    assert parsed["Reply-To"] == "Permanence <permanence@brest2027.example>"
    assert parsed["Message-ID"] == "<jean.kerouac.1@brest2027.example>"
    assert parsed["Date"].datetime.tzinfo is not None
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["X-Suffrage-Delivery"] == "d-123"
    assert parsed["MIME-Version"] == "1.0"
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert unix(text.get_content()) == sent.text
    assert unix(html.get_content()).rstrip("\n") == sent.html


@pytest.mark.parametrize(
    ("text", "html", "types"),
    [("Texte seul", "", ["text/plain"]), ("", "<p>HTML seul</p>", ["text/html"])],
)
def test_a_single_alternative_is_sent_as_a_single_part(text, html, types):
    parsed = email.message_from_bytes(render_message(message(text=text, html=html)), policy=email.policy.default)
    assert [part.get_content_type() for part in parsed.walk()] == types


def test_encodings_round_trip():
    """7bit for ASCII, quoted-printable for Latin text, base64 for mostly non-Latin text."""
    for body, encoding in [
        ("Plain ASCII\n" * 3, "7bit"),
        ("Réunion à Brest, " * 200, "quoted-printable"),  # one long line: soft breaks
        ("Συνάντηση στη Βρέστη\n" * 20, "base64"),
        ("x" * 1200, "quoted-printable"),  # ASCII, but a line too long for 7bit
    ]:
        raw = render_message(message(text=body, html=""))
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
        assert b"\n" not in raw.replace(b"\r\n", b"")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed["Content-Transfer-Encoding"] == encoding
        assert unix(parsed.get_content()).rstrip("\n") == body.rstrip("\n")


@pytest.mark.parametrize(
    ("subject", "from_email"),
    [
        (
            "Réunion publique — " * 12,
            "Équipe de campagne Brest 2027 — permanence du centre-ville <c@brest2027.example>",
        ),
        ("Plain subject " * 10, "Dupont, Jean <jean@brest2027.example>"),
        ("日本語の件名とemoji 🗳️ " * 5, "contact@brest2027.example"),
    ],
)
def test_long_and_non_ascii_headers_fold_and_round_trip(subject, from_email):
    to = "Jean Kérouac <jean@exämple.org>"
    raw = render_message(message(subject=subject, from_email=from_email, to=to, message_id="<1@brest2027.example>"))
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and all(len(line) <= 78 for line in head.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject.strip() or parsed["Subject"] == subject
    sender = ("Dupont, Jean", "jean@brest2027.example") if "Dupont" in from_email else email.utils.parseaddr(from_email)
    assert (parsed["From"].addresses[0].display_name, parsed["From"].addresses[0].addr_spec) == sender
    assert parsed["To"].addresses[0].addr_spec == "jean@xn--exmple-cua.org"


def test_header_injection_is_neutralised():
    raw = render_message(message(subject="Hello\r\nBcc: victim@example.org", headers={"X-Note": "a\nTo: b@c.d"}))
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert parsed["Bcc"] is None and parsed.get_all("To") == ["jean.kerouac@example.org"]
    with pytest.raises(ValueError):
        render_message(message(headers={"Bad Name": "x"}))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_dkim_signature_verifies_and_covers_list_unsubscribe(smtp_server, dkim_keys, algorithm):
    server, port = smtp_server()
    key, txt = dkim_keys[algorithm]
    transport = build({"host": "127.0.0.1", "port": str(port), "security": "none"}, {}, key)
    for recipient in ("a@example.org", "b@example.org"):
        transport.send(message(to=recipient))
    transport.close()

    for received in server.messages:
        assert received.data.startswith(b"DKIM-Signature: v=1; a=" + algorithm.encode())
        assert verify(received.data, txt)
        signature = email.message_from_bytes(received.data, policy=email.policy.compat32)["DKIM-Signature"]
        tags = {k.strip(): v for k, _, v in (tag.partition("=") for tag in signature.split(";"))}
        signed = [name.strip() for name in tags["h"].split(":")]
        assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject", "reply-to"} <= set(signed)
        assert not verify(received.data.replace(b"salle de la Mairie", b"salle du Conseil"), txt)


def test_no_signature_when_the_server_signs(smtp_server, dkim_keys):
    server, port = smtp_server()
    settings = {"host": "127.0.0.1", "port": port, "security": "none", "dkim_by_server": True}
    transport = build(settings, {}, dkim_keys["rsa-sha256"][0])
    transport.send(message())
    transport.close()
    assert b"DKIM-Signature" not in server.messages[0].data


def test_return_path_is_the_envelope_sender(smtp_server):
    server, port = smtp_server()
    settings = {"host": "127.0.0.1", "port": port, "security": "none", "return_path": "bounces@brest2027.example"}
    transport = build(settings, {}, None)
    transport.send(message())
    transport.close()
    assert server.messages[0].mail_from == "bounces@brest2027.example"


def test_refusals_map_to_permanent_and_temporary_failures(smtp_server):
    server, port = smtp_server()
    server.refusals = {
        "unknown@example.org": "550 5.1.1 <unknown@example.org>: Recipient address rejected: User unknown",
        "greylisted@example.org": "451 4.7.1 Greylisted, try again later",
        "norelay@example.org": "554 5.7.1 <norelay@example.org>: Relay access denied",
    }
    transport = plain(port)
    with pytest.raises(PermanentFailure, match=r"550 5\.1\.1") as permanent:
        transport.send(message(to="unknown@example.org"))
    assert "User unknown" in str(permanent.value)
    with pytest.raises(TemporaryFailure, match=r"451 4\.7\.1 Greylisted"):
        transport.send(message(to="greylisted@example.org"))
    # The relay refusing to relay is its configuration, not the address: never suppressed.
    with pytest.raises(TemporaryFailure, match="Relay access denied"):
        transport.send(message(to="norelay@example.org"))
    transport.send(message(to="fine@example.org"))  # the session goes on after refusals
    transport.close()
    assert [m.rcpt_tos for m in server.messages] == [["fine@example.org"]]
    assert transport.connections_opened == 1


@pytest.mark.parametrize("how", ["quietly", "421"])
def test_a_dropped_connection_is_reopened_once_transparently(smtp_server, how):
    server, port = smtp_server()
    transport = plain(port)
    transport.send(message(to="first@example.org"))
    server.drop_next_mail = how
    transport.send(message(to="second@example.org"))
    transport.send(message(to="third@example.org"))
    transport.close()
    assert [m.rcpt_tos for m in server.messages] == [
        ["first@example.org"],
        ["second@example.org"],
        ["third@example.org"],
    ]
    assert server.connections() == 2 and transport.connections_opened == 2


def test_unreachable_server_is_a_temporary_failure():
    transport = plain(free_port(), timeout=2)
    with translation.override("en"), pytest.raises(TemporaryFailure, match="Could not connect"):
        transport.send(message())


def test_unencrypted_connections_only_to_this_machine():
    with pytest.raises(SmtpConfigurationError):
        build({"host": "smtp.example.org", "security": "none"}, {}, None)
    assert build({"host": "::1", "security": "none"}, {}, None).port == 25
    assert build({"host": "smtp.example.org", "security": "tls"}, {}, None).port == 465
    assert build({"host": "smtp.example.org"}, {}, None).security == "starttls"


def test_implicit_tls(smtp_server, tls):
    server_context, client_context = tls
    server, port = smtp_server(ssl_context=server_context)
    transport = SmtpTransport("127.0.0.1", port, security="tls", ssl_context=client_context)
    transport.send(message(to="a@example.org"))
    transport.send(message(to="b@example.org"))
    transport.close()
    assert len(server.messages) == 2 and server.connections() == 1


def test_starttls_with_authentication(smtp_server, tls):
    server_context, client_context = tls
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd then answers 535 itself on failure.
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    server, port = smtp_server(
        tls_context=server_context, require_starttls=True, authenticator=authenticator, auth_required=True
    )
    settings = {"host": "127.0.0.1", "port": port, "security": "starttls", "username": "campagne"}
    transport = build(settings, {"password": "s3cret"}, None)
    transport.ssl_context = client_context
    transport.send(message())
    transport.close()
    assert logins == [(b"campagne", b"s3cret")]
    assert server.messages[0].tls and server.messages[0].rcpt_tos == ["jean.kerouac@example.org"]

    wrong = build(settings, {"password": "wrong"}, None)
    wrong.ssl_context = client_context
    with pytest.raises(TemporaryFailure, match="535"):  # a configuration problem: never suppresses the address
        wrong.send(message())


def test_a_server_without_starttls_is_refused(smtp_server, tls):
    _, client_context = tls
    _, port = smtp_server()
    transport = SmtpTransport("127.0.0.1", port, security="starttls", ssl_context=client_context)
    with pytest.raises(TemporaryFailure):
        transport.send(message())


def test_untrusted_certificate_is_refused(smtp_server, tls):
    server_context, _ = tls
    _, port = smtp_server(ssl_context=server_context)
    with pytest.raises(TemporaryFailure, match="CERTIFICATE_VERIFY_FAILED"):
        SmtpTransport("127.0.0.1", port, security="tls", timeout=5).send(message())


def test_kind_describes_the_transport():
    assert KIND.kind == "smtp" and KIND.build is build
    assert "password" in KIND.secret_fields and "password" not in KIND.settings_fields
    assert str(KIND.label)
