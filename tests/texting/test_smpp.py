"""SMPP 3.4, our own client, against a small SMS centre written separately from it
(tests/texting/smpp_server.py): binding, the octets of GSM 03.38 and UCS-2 messages,
long messages, refusals, and the receipts and replies the server sends meanwhile."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import translation

from suffrage.messaging.transports.base import (
    PermanentFailure,
    SmsEvent,
    SmsMessage,
    TemporaryFailure,
    TransportConfigurationError,
)
from suffrage.messaging.transports.smpp import KIND, SmppTransport, build, pdu
from tests.texting import smpp_server
from tests.texting.smpp_server import SmppServer

SECRETS = {"system_id": "campagne", "password": "s3cret"}


@pytest.fixture
def smsc() -> Iterator[SmppServer]:
    server = SmppServer().start()
    yield server
    server.stop()


def connect(smsc: SmppServer, secrets: dict[str, str] = SECRETS, **settings: object) -> SmppTransport:
    transport = build({"host": "127.0.0.1", "port": smsc.port, "sender_id": "BrestEnCom", **settings}, secrets, None)
    transport.timeout = 5.0
    return transport


@pytest.fixture
def transport(smsc: SmppServer) -> Iterator[SmppTransport]:
    transport = connect(smsc)
    yield transport
    transport.close()


def listen_until(transport: SmppTransport, count: int, events: list[SmsEvent]) -> None:
    for _ in range(50):
        if len(events) >= count:
            return
        transport.listen(0.1)
    raise AssertionError(f"{len(events)} events of {count}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- The codec, byte for byte against the specification ---------------------------------


def test_pdu_octets_follow_the_specification() -> None:
    assert pdu.encode(pdu.Pdu(pdu.ENQUIRE_LINK, 1)) == bytes.fromhex("00000010 00000015 00000000 00000001")
    bind = pdu.Bind("SMPP3TEST", "secret08", "SUBMIT1", addr_ton=1, addr_npi=1)
    assert pdu.encode(pdu.Pdu(pdu.BIND_TRANSCEIVER, 1, body=bind.encode())) == (
        bytes.fromhex("0000002F 00000009 00000000 00000001") + b"SMPP3TEST\0secret08\0SUBMIT1\0\x34\x01\x01\0"
    )
    assert pdu.Bind.decode(bind.encode()) == bind
    submit = pdu.ShortMessage(
        source_addr_ton=5,
        source_addr="BrestEnCom",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="33612345678",
        registered_delivery=1,
        short_message=b"Hi",
        tlvs={pdu.MESSAGE_PAYLOAD: b"abc"},
    )
    assert submit.encode() == (
        b"\0"  # service_type
        + b"\x05\x00BrestEnCom\0"
        + b"\x01\x0133612345678\0"
        + b"\x00\x00\x00"  # esm_class, protocol_id, priority_flag
        + b"\0\0"  # schedule_delivery_time, validity_period
        + b"\x01\x00\x00\x00"  # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        + b"\x02Hi"
        + b"\x04\x24\x00\x03abc"
    )
    assert pdu.ShortMessage.decode(submit.encode()) == submit
    assert pdu.decode_message_id(b"") == "" and pdu.decode_message_id(b"4F2A\0") == "4F2A"
    with pytest.raises(pdu.PduError):
        pdu.cstring("a" * 16, 16)
    with pytest.raises(pdu.PduError):
        pdu.decode(bytes.fromhex("00000011 00000015 00000000 00000001"))


def test_gsm_table_round_trips_and_others_fall_back_to_ucs2() -> None:
    every = pdu.GSM_BASIC.replace("\x1b", "") + "".join(pdu.GSM_EXTENSION)
    assert pdu.gsm7_decode(pdu.gsm7_encode(every) or b"") == every
    assert pdu.gsm7_encode("[€]") == b"\x1b\x3c\x1b\x65\x1b\x3e"
    assert pdu.encode_text("ça") == (8, b"\x00\xe7\x00a")  # lower-case ç is not in GSM 03.38
    assert smpp_server.gsm_decode(pdu.gsm7_encode(every) or b"") == every  # the server's table agrees


def test_the_transport_sends_in_gsm_exactly_what_the_composer_counts_as_gsm() -> None:
    from suffrage.texting.gsm import is_gsm

    assert all((pdu.gsm7_encode(chr(code)) is not None) == is_gsm(chr(code)) for code in range(0x3000) if code != 0x1B)


# --- Binding ----------------------------------------------------------------------------


def test_bind_then_close_unbinds(smsc: SmppServer, transport: SmppTransport) -> None:
    transport.open()
    transport.open()  # already bound: nothing
    assert smsc.binds == [("campagne", "s3cret", "", 0x34)]
    transport.close()
    assert smsc.answers(smpp_server.UNBIND) == [(0, 2)]
    smsc.wait_for(lambda: not any(session.bound for session in smsc.sessions))
    transport.close()  # closed: nothing
    assert smsc.count(smpp_server.UNBIND) == 1


def test_a_wrong_password_is_a_configuration_error_that_does_not_quote_it(smsc: SmppServer) -> None:
    transport = connect(smsc, secrets={"system_id": "campagne", "password": "wr0ng"})
    with translation.override("en"), pytest.raises(TransportConfigurationError, match="ESME_RINVPASWD") as refused:
        transport.send(SmsMessage(to="+33612345678", body="Bonjour"))
    assert "wr0ng" not in str(refused.value)
    assert smsc.submits == []


def test_an_unreachable_or_silent_server_is_a_temporary_failure() -> None:
    transport = build({"host": "127.0.0.1", "port": free_port()}, SECRETS, None)
    with translation.override("en"), pytest.raises(TemporaryFailure, match="could not connect"):
        transport.open()
    with socket.socket() as silent:  # accepts connections (the backlog does) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        transport = build({"host": "127.0.0.1", "port": silent.getsockname()[1]}, SECRETS, None)
        transport.timeout = 0.3
        with translation.override("en"), pytest.raises(TemporaryFailure, match="did not answer"):
            transport.open()


def test_build_needs_a_host_and_a_system_id() -> None:
    for settings, secrets in (({}, SECRETS), ({"host": "smpp.example.org"}, {"password": "x"})):
        with pytest.raises(TransportConfigurationError):
            build(settings, secrets, None)
    assert build({"host": "smpp.example.org"}, SECRETS, None).port == 2775
    assert build({"host": "smpp.example.org", "use_tls": "on"}, SECRETS, None).port == 3550
    with pytest.raises(TransportConfigurationError):
        build({"host": "smpp.example.org", "sender_id": "Mairie de Brest"}, SECRETS, None)  # > 11 characters
    with pytest.raises(TransportConfigurationError):
        build({"host": "smpp.example.org"}, {"system_id": "campagne", "password": "123456789"}, None)
    assert KIND.kind == "smpp" and KIND.channel == "sms" and KIND.secret_fields == ("system_id", "password")


# --- Sending ----------------------------------------------------------------------------


def test_gsm_text_arrives_as_gsm_03_38_octets(smsc: SmppServer, transport: SmppTransport) -> None:
    result = transport.send(SmsMessage(to="+33612345678", body="Réunion à 18h è {ici} 5€"))
    (submit,) = smsc.submits
    assert submit.short_message == b"R\x05union \x7f 18h \x04 \x1b(ici\x1b) 5\x1be"
    assert submit.data_coding == 0 and submit.text == "Réunion à 18h è {ici} 5€"
    assert (submit.source_ton, submit.source_npi, submit.source) == (5, 0, "BrestEnCom")
    assert (submit.dest_ton, submit.dest_npi, submit.destination) == (1, 1, "33612345678")
    assert submit.registered_delivery == 1 and submit.esm_class == 0 and submit.tlvs == {}
    assert result.provider_id == submit.message_id == "00000001"


def test_other_text_arrives_as_utf_16_big_endian(smsc: SmppServer, transport: SmppTransport) -> None:
    transport.send(SmsMessage(to="+33612345678", body="Ç’est l’été 🎉"))
    (submit,) = smsc.submits
    assert submit.data_coding == 8
    assert submit.short_message == bytes.fromhex(
        "00C7 2019 0065 0073 0074 0020 006C 2019 00E9 0074 00E9 0020 D83C DF89"
    )


@pytest.mark.parametrize(
    "body, in_payload",
    [("a" * 160, False), ("€" * 80, False), ("a" * 161, True), ("Réunion, " * 60, True), ("l’été " * 12, True)],
)
def test_long_texts_arrive_whole_in_message_payload(
    smsc: SmppServer, transport: SmppTransport, body: str, in_payload: bool
) -> None:
    transport.send(SmsMessage(to="+33612345678", body=body))
    (submit,) = smsc.submits
    assert submit.text == body
    assert (submit.short_message == b"") == in_payload and (smpp_server.MESSAGE_PAYLOAD in submit.tlvs) == in_payload


def test_sender_of_the_message_and_its_address_type(smsc: SmppServer, transport: SmppTransport) -> None:
    transport.send(SmsMessage(to="+33612345678", body="a", sender_id="+33700000000"))
    transport.send(SmsMessage(to="33612345678", body="b", sender_id="38100"))
    first, second = smsc.submits
    assert (first.source_ton, first.source_npi, first.source) == (1, 1, "33700000000")
    assert (second.source_ton, second.source_npi, second.source) == (3, 0, "38100")
    assert second.destination == "33612345678"


@pytest.mark.parametrize(
    "status, failure",
    [
        (0x58, TemporaryFailure),  # ESME_RTHROTTLED
        (0x14, TemporaryFailure),  # ESME_RMSGQFUL
        (0x08, TemporaryFailure),  # ESME_RSYSERR
        (0x0B, PermanentFailure),  # ESME_RINVDSTADR
        (0x51, PermanentFailure),  # ESME_RINVDSTNPI
        (0x0A, TransportConfigurationError),  # ESME_RINVSRCADR: every message would be refused
    ],
)
def test_refusals_map_to_failures(
    smsc: SmppServer, transport: SmppTransport, status: int, failure: type[Exception]
) -> None:
    smsc.refuse["33600000000"] = status
    with translation.override("en"), pytest.raises(failure, match=f"0x{status:02X}"):
        transport.send(SmsMessage(to="+33600000000", body="Bonjour"))
    assert transport.send(SmsMessage(to="+33612345678", body="Bonjour")).provider_id  # the session goes on


def test_throttling_is_temporary(smsc: SmppServer, transport: SmppTransport) -> None:
    smsc.throttle_first = 2
    for _ in range(2):
        with translation.override("en"), pytest.raises(TemporaryFailure, match="ESME_RTHROTTLED"):
            transport.send(SmsMessage(to="+33612345678", body="Bonjour"))
    assert transport.send(SmsMessage(to="+33612345678", body="Bonjour")).provider_id == "00000003"


def test_a_lost_bind_or_connection_is_bound_again_once(smsc: SmppServer, transport: SmppTransport) -> None:
    smsc.lose_bind_once = True
    assert transport.send(SmsMessage(to="+33612345678", body="un")).provider_id == "00000002"
    smsc.disconnect()  # the server closes the idle connection
    assert transport.send(SmsMessage(to="+33612345678", body="deux")).provider_id == "00000003"
    assert transport.connections_opened == 3 and len(smsc.binds) == 3
    assert [submit.text for submit in smsc.accepted] == ["un", "deux"]


def test_an_invalid_number_is_permanent(transport: SmppTransport) -> None:
    with pytest.raises(PermanentFailure):
        transport.send(SmsMessage(to="+", body="Bonjour"))


# --- Receiving ----------------------------------------------------------------------------


def test_receipt_and_enquire_link_while_waiting_for_the_response(smsc: SmppServer, transport: SmppTransport) -> None:
    smsc.receipt_before_resp = smsc.enquire_link_before_resp = True
    result = transport.send(SmsMessage(to="+33612345678", body="Bonjour"))
    assert transport.pending_events == [SmsEvent(kind="delivered", number="+33612345678", provider_id="00000001")]
    assert result.provider_id == "00000001"
    smsc.wait_for(lambda: smsc.answers(smpp_server.DELIVER_SM_RESP) == [(0, 1)])
    smsc.wait_for(lambda: smsc.answers(smpp_server.ENQUIRE_LINK_RESP) == [(0, 2)])


def test_receipts_and_replies_while_listening(smsc: SmppServer, transport: SmppTransport) -> None:
    events: list[SmsEvent] = []
    transport.on_events = events.extend
    ids = [transport.send(SmsMessage(to=f"+3361234567{n}", body=f"Message {n}")).provider_id for n in range(4)]
    smsc.push_receipt(ids[0], stat="UNDELIV", err="001")  # unknown subscriber
    smsc.push_receipt(ids[1], stat="EXPIRED", err="000")
    smsc.push_receipt(ids[2], stat="DELIVRD", tlvs=True, text=False)
    smsc.push_receipt(ids[3], stat="ENROUTE")  # not final: nothing
    smsc.push_reply("33612345678", "Oui, je viens ! 👍")
    smsc.push_reply("0698765432", "Stop", ton=2)
    smsc.push_reply("33611111111", "Bien sûr, " * 30, parts=3)
    listen_until(transport, 6, events)
    assert events == [
        SmsEvent(kind="failed", number="+33612345670", provider_id=ids[0], reason="UNDELIV err:001", permanent=True),
        SmsEvent(kind="failed", number="+33612345671", provider_id=ids[1], reason="EXPIRED err:000", permanent=False),
        SmsEvent(kind="delivered", number="+33612345672", provider_id=ids[2]),
        SmsEvent(kind="reply", number="+33612345678", text="Oui, je viens ! 👍"),
        SmsEvent(kind="reply", number="+33698765432", text="Stop"),
        SmsEvent(kind="reply", number="+33611111111", text="Bien sûr, " * 30),
    ]
    smsc.wait_for(lambda: len(smsc.answers(smpp_server.DELIVER_SM_RESP)) == 9)
    assert {status for status, _sequence in smsc.answers(smpp_server.DELIVER_SM_RESP)} == {0}
    assert transport.pending_events == []


def test_a_reply_that_cannot_be_recorded_is_refused_for_later(smsc: SmppServer, transport: SmppTransport) -> None:
    def broken(events: list[SmsEvent]) -> None:
        raise RuntimeError("database down")

    transport.on_events = broken
    transport.open()
    sequence = smsc.push_reply("33612345678", "Oui")
    transport.listen(0.2)
    smsc.wait_for(lambda: smsc.answers(smpp_server.DELIVER_SM_RESP) == [(0x64, sequence)])  # ESME_RX_T_APPN


def test_enquire_link_both_ways(smsc: SmppServer, transport: SmppTransport) -> None:
    transport.enquire_link_interval = 0.1
    transport.open()
    sequence = smsc.enquire_link()
    transport.listen(0.35)
    smsc.wait_for(lambda: (0, sequence) in smsc.answers(smpp_server.ENQUIRE_LINK_RESP))
    smsc.wait_for(lambda: smsc.count(smpp_server.ENQUIRE_LINK) >= 2)  # ours, answered by the server


def test_an_unbind_from_the_server_is_answered_and_ends_listening(smsc: SmppServer, transport: SmppTransport) -> None:
    transport.open()
    sequence = smsc.unbind()
    with translation.override("en"), pytest.raises(TemporaryFailure, match="unbound"):
        transport.listen(2)
    smsc.wait_for(lambda: smsc.answers(smpp_server.UNBIND_RESP) == [(0, sequence)])
    transport.listen(0.05)  # reconnects
    assert transport.connections_opened == 2


# --- TLS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(certificate file, key file) for 127.0.0.1, self-signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test SMSC")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smpp-tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(folder / "cert.pem"), str(folder / "key.pem")


def test_tls(certificate: tuple[str, str]) -> None:
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(*certificate)
    smsc = SmppServer(ssl_context=server_context).start()
    try:
        transport = connect(smsc, use_tls=True)
        with translation.override("en"), pytest.raises(TransportConfigurationError, match="certificate"):
            transport.open()  # not signed by a known authority
        transport.ssl_context = ssl.create_default_context(cafile=certificate[0])
        assert transport.send(SmsMessage(to="+33612345678", body="Chiffré")).provider_id == "00000001"
        transport.close()
        assert [submit.text for submit in smsc.submits] == ["Chiffré"]
    finally:
        smsc.stop()
