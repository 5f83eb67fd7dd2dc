"""DKIM keys, signing, and the DNS records a campaign's domain must publish.

Signing is done here rather than with dkimpy because the sending engine signs every
message: dkimpy computes RSA in pure Python (about 86 signatures a second), while
`cryptography` signs through OpenSSL. Only relaxed/relaxed canonicalisation
(RFC 6376 §3.4.2 and §3.4.4) is implemented: it is the one that survives the
whitespace changes relays make, and the one receivers expect."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import dns.exception
import dns.resolver
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from suffrage.messaging.transports.base import DkimKey

RSA_SHA256 = "rsa-sha256"
ED25519_SHA256 = "ed25519-sha256"
ALGORITHMS = (RSA_SHA256, ED25519_SHA256)

# What a receiver must see unchanged. RFC 8058 requires both List-Unsubscribe headers
# to be signed for one-click unsubscription to be honoured.
DEFAULT_SIGNED_HEADERS: tuple[bytes, ...] = (
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
    b"reply-to",
    b"in-reply-to",
    b"references",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"x-suffrage-delivery",
)

# Whitespace that relaxed canonicalisation rewrites: a tab, or two characters or more. A
# lone space (most of them, between words) is left alone, which keeps the matches few.
_WSP_RUN = re.compile(rb"\t[ \t]*| [ \t]+")
_LONE_LF = re.compile(rb"(?<!\r)\n")


# --- Keys ---------------------------------------------------------------------------


def dkim_key_generate(algorithm: str) -> tuple[str, str]:
    """Return (private key PEM, public key base64 for the DNS `p=` tag).

    RSA keys are 2048 bits (the size receivers require; 4096 does not fit one TXT
    string comfortably). For Ed25519, RFC 8463 publishes the raw 32-byte key, not a
    SubjectPublicKeyInfo."""
    private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if algorithm == RSA_SHA256:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_bytes = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    elif algorithm == ED25519_SHA256:
        private_key = ed25519.Ed25519PrivateKey.generate()
        public_bytes = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raise ValueError(f"unknown DKIM algorithm {algorithm!r}")
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return pem, base64.b64encode(public_bytes).decode("ascii")


@lru_cache(maxsize=64)
def _load_private_key(pem: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    """Parse a PEM key once per process: RSA key loading checks the key (milliseconds)."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError("DKIM keys are RSA or Ed25519")
    return key


# --- Canonicalisation (RFC 6376 §3.4.2, §3.4.4) -------------------------------------------


def _relaxed_header(name: bytes, value: bytes) -> bytes:
    """`name:value` lowercased name, unfolded, whitespace runs collapsed, trimmed."""
    value = _WSP_RUN.sub(b" ", value.replace(b"\r\n", b"")).strip(b" ")
    return name.strip(b" \t").lower() + b":" + value + b"\r\n"


def relaxed_body(body: bytes) -> bytes:
    """Whitespace runs collapsed, trailing whitespace and trailing empty lines removed.

    Works on the whole body at once (two C-level regex passes) instead of line by line:
    bodies of tens of kilobytes are signed for every message."""
    if b"\t" in body or b"  " in body:  # a C-speed scan spares the regex most bodies
        body = _WSP_RUN.sub(b" ", body)
    body = body.replace(b" \r\n", b"\r\n")
    if body.endswith(b" "):
        body = body[:-1]
    stripped = body.rstrip(b"\r\n")
    return stripped + b"\r\n" if stripped else b""


def _split_message(message: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Return the header fields as (name, raw value with folding) in order, and the body."""
    if message.count(b"\n") != message.count(b"\r\n"):
        message = _LONE_LF.sub(b"\r\n", message)
    head, separator, body = message.partition(b"\r\n\r\n")
    if not separator and head.endswith(b"\r\n"):
        head = head[:-2]
    fields: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + b"\r\n" + line)
        else:
            name, _, value = line.partition(b":")
            fields.append((name, value))
    return fields, body


# --- Signing ------------------------------------------------------------------------


def _fold_tags(tags: Sequence[bytes]) -> bytes:
    """Join tags with "; ", starting a new line before 78 characters.

    The h= list may break after any colon (RFC 6376 allows whitespace there). The
    header is hashed exactly as folded here, so any folding verifies."""
    lines: list[bytes] = []
    current = b"DKIM-Signature:"
    for tag in tags:
        atoms = tag.split(b":") if tag.startswith(b"h=") else [tag]
        for index, atom in enumerate(atoms):
            piece = atom + (b";" if index == len(atoms) - 1 else b":")
            separator = b" " if index == 0 else b""
            if len(current) + len(separator) + len(piece) > 76:
                lines.append(current)
                current = b"\t" + piece
            else:
                current += separator + piece
    lines.append(current)
    return b"\r\n".join(lines)


def _wrap_base64(value: bytes, first_room: int) -> bytes:
    """Fold a long base64 value (whitespace inside b= is ignored by verifiers)."""
    if len(value) <= first_room:
        return value
    chunks = [value[:first_room]] + [value[i : i + 72] for i in range(first_room, len(value), 72)]
    return b"\r\n\t".join(chunks)


def dkim_sign(
    message_bytes: bytes,
    key: DkimKey,
    headers_to_sign: tuple[bytes, ...] = DEFAULT_SIGNED_HEADERS,
    timestamp: int | None = None,
) -> bytes:
    """Return the `DKIM-Signature:` header line (CRLF-terminated) to prepend to the message.

    Every name in `headers_to_sign` is listed once more than it occurs ("oversigning"):
    a header added after signing, such as a second From or a forged List-Unsubscribe,
    then breaks the signature instead of riding on it."""
    fields, body = _split_message(message_bytes)
    body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())

    by_name: dict[bytes, list[bytes]] = {}
    for name, value in fields:
        by_name.setdefault(name.strip(b" \t").lower(), []).append(value)
    signed_names: list[bytes] = []
    header_data: list[bytes] = []
    for name in headers_to_sign:
        name = name.lower()
        # Receivers take repeated headers from the bottom up (RFC 6376 §5.4.2).
        for value in reversed(by_name.get(name, ())):
            signed_names.append(name)
            header_data.append(_relaxed_header(name, value))
        signed_names.append(name)

    tags = [
        b"v=1",
        b"a=" + key.algorithm.encode("ascii"),
        b"c=relaxed/relaxed",
        b"d=" + key.domain.encode("idna"),
        b"s=" + key.selector.encode("ascii"),
        b"t=%d" % (int(time.time()) if timestamp is None else timestamp),
        b"h=" + b":".join(signed_names),
        b"bh=" + body_hash,
    ]
    unsigned = _fold_tags(tags) + b" b="
    # The signature header itself is hashed last, with an empty b= and no final CRLF.
    _, _, unsigned_value = unsigned.partition(b":")
    header_data.append(_relaxed_header(b"dkim-signature", unsigned_value)[:-2])
    signature = base64.b64encode(_sign(b"".join(header_data), key))
    last_line = unsigned.rsplit(b"\r\n", 1)[-1]
    return unsigned + _wrap_base64(signature, max(8, 76 - len(last_line))) + b"\r\n"


def _sign(data: bytes, key: DkimKey) -> bytes:
    private_key = _load_private_key(key.private_key_pem)
    if key.algorithm == RSA_SHA256 and isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if key.algorithm == ED25519_SHA256 and isinstance(private_key, ed25519.Ed25519PrivateKey):
        # RFC 8463 §3: Ed25519 signs the SHA-256 digest of the header data (PureEdDSA).
        return private_key.sign(hashlib.sha256(data).digest())
    raise ValueError(f"DKIM key for {key.domain} does not match algorithm {key.algorithm!r}")


# --- DNS ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsRecord:
    """One TXT record the campaign publishes at its DNS host."""

    name: str
    type: str
    value: str
    purpose: str  # "SPF", "DKIM" or "DMARC"


def dns_records(
    domain: str, selector: str, algorithm: str, public_key_b64: str, spf_hint: str, report_address: str
) -> list[DnsRecord]:
    """The SPF, DKIM and DMARC records that let receivers trust mail from `domain`.

    DMARC starts at p=quarantine with relaxed alignment: strict enough for the
    large mailbox providers' bulk-sender rules, forgiving of subdomains."""
    k = "ed25519" if algorithm == ED25519_SHA256 else "rsa"
    return [
        DnsRecord(domain, "TXT", f"v=spf1 {spf_hint} ~all", "SPF"),
        DnsRecord(f"{selector}._domainkey.{domain}", "TXT", f"v=DKIM1; k={k}; p={public_key_b64}", "DKIM"),
        DnsRecord(
            f"_dmarc.{domain}",
            "TXT",
            f"v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:{report_address}",
            "DMARC",
        ),
    ]


def _tags(record: str) -> dict[str, str]:
    """Parse `k=v; k=v` (DKIM and DMARC syntax), whitespace inside values removed."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = "".join(value.split())
    return tags


def _record_status(record: DnsRecord, published: Iterable[str]) -> str:
    if record.purpose == "SPF":
        spf = [txt for txt in published if txt.lower().startswith("v=spf1")]
        if not spf:
            return "missing"
        wanted = record.value.split()[1:-1]  # the hint's mechanisms, without v=spf1 and ~all
        return "ok" if any(set(wanted) <= set(txt.split()) for txt in spf) else "different"
    if record.purpose == "DKIM":
        keys = [_tags(txt) for txt in published]
        keys = [tags for tags in keys if "p" in tags]
        if not keys:
            return "missing"
        expected = _tags(record.value)
        return "ok" if any(tags["p"] == expected["p"] for tags in keys) else "different"
    if record.purpose == "DMARC":
        found = any(txt.replace(" ", "").upper().startswith("V=DMARC1") for txt in published)
        return "ok" if found else "missing"
    raise ValueError(f"unknown record purpose {record.purpose!r}")


def dns_check(
    records: Sequence[DnsRecord],
    resolver_nameservers: list[str] | None = None,
    port: int = 53,
    timeout: float = 3,
) -> list[tuple[DnsRecord, str]]:
    """Look each record up; status "ok", "missing", "different" or "unreachable".

    "unreachable" means the DNS could not answer (timeout, servers failing), which the
    page shows differently from a record that is really not published."""
    if resolver_nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = list(resolver_nameservers)
    else:
        resolver = dns.resolver.Resolver()
    resolver.port = port
    resolver.timeout = timeout
    resolver.lifetime = timeout
    cache: dict[str, list[str] | None] = {}
    results: list[tuple[DnsRecord, str]] = []
    for record in records:
        if record.name not in cache:
            cache[record.name] = _lookup_txt(resolver, record.name)
        published = cache[record.name]
        results.append((record, "unreachable" if published is None else _record_status(record, published)))
    return results


def _lookup_txt(resolver: dns.resolver.Resolver, name: str) -> list[str] | None:
    """The TXT records at `name` (each one's strings joined), [] if none, None if unreachable."""
    try:
        answer = resolver.resolve(name, "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers, OSError):
        return None
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]
