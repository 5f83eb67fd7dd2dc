"""DKIM keys and signatures (checked with dkimpy, an independent verifier) and the
DNS records, looked up on a small DNS server run by the test."""

from __future__ import annotations

import base64
import re
import socket
import threading
from collections.abc import Iterator

import dkim
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from suffrage.messaging.dkim import (
    ALGORITHMS,
    ED25519_SHA256,
    RSA_SHA256,
    DnsRecord,
    dkim_key_generate,
    dkim_sign,
    dns_check,
    dns_records,
    relaxed_body,
)
from suffrage.messaging.transports.base import DkimKey

DOMAIN = "brest2027.example"

MESSAGE = (
    b"From: Brest 2027 <contact@brest2027.example>\r\n"
    b"To: jean@example.org\r\n"
    b"Subject:   Reunion\t publique   \r\n"
    b"  jeudi soir \r\n"
    b"Date: Tue, 10 Mar 2026 08:14:21 GMT\r\n"
    b"Message-ID: <1@brest2027.example>\r\n"
    b"List-Unsubscribe: <https://brest2027.example/u/Zm9v>\r\n"
    b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    b"X-Mailer-Noise: not signed\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Bonjour  Jean, \t\r\n"
    b"\r\n"
    b"Rendez-vous jeudi.\r\n"
    b"\r\n"
    b"\r\n"
)


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[DkimKey, str]]:
    """One key per algorithm: DkimKey and its DKIM TXT record value."""
    result = {}
    for algorithm in ALGORITHMS:
        pem, public = dkim_key_generate(algorithm)
        record = dns_records(DOMAIN, "s2026", algorithm, public, "mx", "dmarc@brest2027.example")[1]
        result[algorithm] = (DkimKey(DOMAIN, "s2026", algorithm, pem), record.value)
    return result


def verify(message: bytes, txt: str) -> bool:
    def dnsfunc(name: bytes, timeout: float = 5) -> bytes:
        assert name == b"s2026._domainkey.brest2027.example."
        return txt.encode()

    return bool(dkim.verify(message, dnsfunc=dnsfunc))


def signed_names(signature: bytes) -> list[str]:
    h = re.search(rb"\bh=([^;]+);", signature)
    assert h is not None
    return [name.strip().decode() for name in h.group(1).split(b":")]


def test_generated_keys_publish_the_formats_rfcs_require():
    _, rsa_public = dkim_key_generate(RSA_SHA256)
    key = load_der_public_key(base64.b64decode(rsa_public))  # SubjectPublicKeyInfo
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    pem, ed_public = dkim_key_generate(ED25519_SHA256)
    assert len(base64.b64decode(ed_public)) == 32  # RFC 8463: the raw key
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    with pytest.raises(ValueError):
        dkim_key_generate("dsa-sha1")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signature_verifies_with_dkimpy(keys, algorithm):
    key, txt = keys[algorithm]
    signature = dkim_sign(MESSAGE, key)
    assert signature.startswith(b"DKIM-Signature: v=1; a=" + algorithm.encode()) and signature.endswith(b"\r\n")
    assert all(len(line) <= 78 for line in signature.split(b"\r\n"))
    assert verify(signature + MESSAGE, txt)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_tampering_breaks_the_signature(keys, algorithm):
    key, txt = keys[algorithm]
    signed = dkim_sign(MESSAGE, key) + MESSAGE
    assert not verify(signed.replace(b"Rendez-vous jeudi.", b"Rendez-vous vendredi."), txt)
    assert not verify(signed.replace(b"One-Click", b"Two-Clicks"), txt)
    # Oversigning: a second List-Unsubscribe or From added after signing is caught.
    assert not verify(b"List-Unsubscribe: <https://evil.example/>\r\n" + signed, txt)
    assert not verify(signed.replace(b"To: jean", b"From: evil@evil.example\r\nTo: jean"), txt)
    # An unsigned header may be added or changed.
    assert verify(signed.replace(b"X-Mailer-Noise: not signed", b"X-Mailer-Noise: changed"), txt)


def test_relaxed_canonicalisation_survives_what_relays_do(keys):
    key, txt = keys[RSA_SHA256]
    signed = dkim_sign(MESSAGE, key) + MESSAGE
    refolded = signed.replace(
        b"Subject:   Reunion\t publique   \r\n  jeudi soir", b"subject: Reunion publique jeudi soir"
    )
    rewhitespaced = refolded.replace(b"Bonjour  Jean, \t\r\n", b"Bonjour Jean,\r\n") + b"\r\n\r\n"
    assert verify(rewhitespaced, txt)


def test_lone_line_feeds_are_signed_as_crlf(keys):
    key, txt = keys[ED25519_SHA256]
    unix = MESSAGE.replace(b"\r\n", b"\n")
    assert verify(dkim_sign(unix, key) + MESSAGE, txt)


def test_list_unsubscribe_headers_are_covered_and_absent_ones_oversigned(keys):
    signature = dkim_sign(MESSAGE, keys[RSA_SHA256][0])
    names = signed_names(signature)
    for name in ("from", "to", "subject", "date", "message-id", "mime-version", "content-type"):
        assert names.count(name) == 2  # the header, and once more so no second one can be added
    assert names.count("list-unsubscribe") == 2 and names.count("list-unsubscribe-post") == 2
    assert names.count("reply-to") == 1  # absent: listed once so none can be added
    assert "x-mailer-noise" not in names


def test_repeated_headers_are_signed_bottom_up(keys):
    key, txt = keys[RSA_SHA256]
    message = b"Received: first\r\nReceived: second\r\n" + MESSAGE
    signed = dkim_sign(message, key, headers_to_sign=(b"from", b"received")) + message
    assert signed_names(signed[: signed.index(b"Received")]) == ["from", "from", "received", "received", "received"]
    assert verify(signed, txt)
    assert not verify(signed.replace(b"Received: second", b"Received: other"), txt)


def test_body_hash_matches_dkimpy():
    bodies = [b"", b"\r\n\r\n", b"a  b \t\r\n\r\nc", b" x\r\n\t\r\n \r\n", b"trailing space  \r\n", b"a\r\n \r\n\r\n"]
    for body in bodies:
        assert relaxed_body(body) == dkim.canonicalization.Relaxed.canonicalize_body(body), body


def test_wrong_algorithm_for_key_is_refused(keys):
    ed_key = keys[ED25519_SHA256][0]
    mismatched = DkimKey(DOMAIN, "s2026", RSA_SHA256, ed_key.private_key_pem)
    with pytest.raises(ValueError):
        dkim_sign(MESSAGE, mismatched)


def test_dns_records():
    spf, dkim_record, dmarc = dns_records(
        DOMAIN, "s2026", ED25519_SHA256, "QUJD", "include:spf.relay.example", "d@x.example"
    )
    assert spf == DnsRecord(DOMAIN, "TXT", "v=spf1 include:spf.relay.example ~all", "SPF")
    assert dkim_record == DnsRecord("s2026._domainkey.brest2027.example", "TXT", "v=DKIM1; k=ed25519; p=QUJD", "DKIM")
    assert dmarc == DnsRecord(
        "_dmarc.brest2027.example", "TXT", "v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:d@x.example", "DMARC"
    )
    assert "k=rsa;" in dns_records(DOMAIN, "s", RSA_SHA256, "QUJD", "mx", "d@x.example")[1].value


# --- dns_check against a small UDP DNS server ----------------------------------------------


def _chunks(value: str) -> list[bytes]:
    """TXT strings are at most 255 bytes: long DKIM keys are published in pieces."""
    data = value.encode()
    return [data[i : i + 255] for i in range(0, len(data), 255)]


def _serve(sock: socket.socket, zone: dict[str, list[str]], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            wire, client = sock.recvfrom(4096)
        except TimeoutError:
            continue
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        if name not in zone:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT and zone[name]:
            rdatas = [dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, _chunks(v)) for v in zone[name]]
            response.answer.append(dns.rrset.from_rdata_list(question.name, 300, rdatas))
        sock.sendto(response.to_wire(), client)


@pytest.fixture
def dns_server() -> Iterator[tuple[int, dict[str, list[str]]]]:
    """(port, zone): the zone maps a name to its TXT records and may be changed by the test."""
    zone: dict[str, list[str]] = {}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)  # lets the thread notice `stop`
    stop = threading.Event()
    thread = threading.Thread(target=_serve, args=(sock, zone, stop), daemon=True)
    thread.start()
    yield sock.getsockname()[1], zone
    stop.set()
    thread.join(timeout=5)
    sock.close()


def test_dns_check_reports_each_record(dns_server):
    port, zone = dns_server
    _, public = dkim_key_generate(RSA_SHA256)
    records = dns_records(DOMAIN, "s2026", RSA_SHA256, public, "include:spf.relay.example", "dmarc@brest2027.example")

    zone[DOMAIN] = ["google-site-verification=abc", "v=spf1 mx include:spf.relay.example -all"]
    zone["s2026._domainkey." + DOMAIN] = [records[1].value]  # longer than 255 bytes: split
    zone["_dmarc." + DOMAIN] = ["v=DMARC1; p=none"]
    statuses = [status for _, status in dns_check(records, ["127.0.0.1"], port=port, timeout=2)]
    assert statuses == ["ok", "ok", "ok"]

    zone[DOMAIN] = ["v=spf1 mx -all"]
    zone["s2026._domainkey." + DOMAIN] = ["v=DKIM1; k=rsa; p=" + dkim_key_generate(RSA_SHA256)[1]]
    del zone["_dmarc." + DOMAIN]
    checked = dns_check(records, ["127.0.0.1"], port=port, timeout=2)
    assert [record for record, _ in checked] == records
    assert [status for _, status in checked] == ["different", "different", "missing"]

    zone[DOMAIN] = []  # the name exists, without TXT records
    zone["s2026._domainkey." + DOMAIN] = ["v=DKIM1; k=rsa; p=" + " ".join([public[:100], public[100:]])]
    statuses = [status for _, status in dns_check(records, ["127.0.0.1"], port=port, timeout=2)]
    assert statuses == ["missing", "ok", "missing"]


def test_dns_check_says_when_the_server_does_not_answer():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        records = dns_records(DOMAIN, "s2026", ED25519_SHA256, "QUJD", "mx", "d@x.example")
        checked = dns_check(records, ["127.0.0.1"], port=silent.getsockname()[1], timeout=0.2)
    finally:
        silent.close()
    assert [status for _, status in checked] == ["unreachable"] * 3
