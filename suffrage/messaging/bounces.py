"""Read the SMTP bounce mailbox: delivery status notifications (RFC 3464) and spam
complaints in the Abuse Reporting Format (RFC 5965).

Providers reached through an API report bounces by webhook; a campaign sending
through its own SMTP server gets them back as mail, and this turns each such mail
into one `Bounce` per recipient it reports on."""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser, HeaderParser

DELIVERY_HEADER = "X-Suffrage-Delivery"

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class Bounce:
    recipient: str
    action: str  # "failed", "delayed", "delivered", "relayed", "expanded" or "complaint"
    status: str  # "5.1.1"; "" for a complaint
    permanent: bool  # the address must be suppressed
    diagnostic: str
    original_message_id: str
    delivery_ref: str  # X-Suffrage-Delivery of the original message, when returned


def parse_bounce(raw: bytes) -> list[Bounce]:
    """One Bounce per recipient a DSN reports on, one for an ARF complaint, [] otherwise."""
    # compat32 keeps message/delivery-status blocks as plain Message objects; the default
    # policy would also do, but gains nothing here and costs more.
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return []
    report_type = email.utils.collapse_rfc2231_value(message.get_param("report-type") or "").lower()
    parts = [part for part in message.get_payload() if isinstance(part, Message)]
    original = _original_headers(parts)
    message_id = _clean(original.get("Message-ID", "")) if original is not None else ""
    delivery_ref = _clean(original.get(DELIVERY_HEADER, "")) if original is not None else ""
    if report_type == "delivery-status":
        return _dsn_bounces(parts, message_id, delivery_ref)
    if report_type == "feedback-report":
        return _complaint(parts, original, message_id, delivery_ref)
    return []


def _dsn_bounces(parts: list[Message], message_id: str, delivery_ref: str) -> list[Bounce]:
    status_part = next((part for part in parts if part.get_content_type() == "message/delivery-status"), None)
    if status_part is None:
        return []
    blocks = _header_blocks(status_part)
    # The first block describes the message (Reporting-MTA…), the others one recipient each.
    bounces = []
    for block in blocks[1:]:
        recipient = _address(block.get("Original-Recipient", "")) or _address(block.get("Final-Recipient", ""))
        if not recipient:
            continue
        action = _clean(block.get("Action", "")).lower()
        match = _STATUS.search(block.get("Status", ""))
        status = ".".join(match.groups()) if match else ""
        permanent = status.startswith("5") if status else action == "failed"
        bounces.append(
            Bounce(
                recipient=recipient,
                action=action,
                status=status,
                permanent=permanent and action == "failed",
                diagnostic=_diagnostic(block.get("Diagnostic-Code", "")),
                original_message_id=message_id,
                delivery_ref=delivery_ref,
            )
        )
    return bounces


def _complaint(parts: list[Message], original: Message | None, message_id: str, delivery_ref: str) -> list[Bounce]:
    report_part = next((part for part in parts if part.get_content_type() == "message/feedback-report"), None)
    if report_part is None:
        return []
    blocks = _header_blocks(report_part)
    report = blocks[0] if blocks else Message()
    recipient = _address(report.get("Original-Rcpt-To", ""))
    if not recipient and original is not None:
        # Some feedback loops drop Original-Rcpt-To; the complaint still came from the To.
        recipient = _address(original.get("To", ""))
    if not recipient:
        return []
    return [
        Bounce(
            recipient=recipient,
            action="complaint",
            status="",
            permanent=True,
            diagnostic=_clean(report.get("Feedback-Type", "abuse")),
            original_message_id=message_id,
            delivery_ref=delivery_ref,
        )
    ]


def _header_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part.

    The stdlib parses message/delivery-status into a list of blocks and any other
    message/* into a one-message list; a part it could not parse is a string."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    if isinstance(payload, str):
        return [HeaderParser().parsestr(chunk) for chunk in re.split(r"\r?\n\r?\n", payload.strip()) if chunk]
    return []


def _original_headers(parts: list[Message]) -> Message | None:
    """The returned headers of the original message: text/rfc822-headers or message/rfc822."""
    for part in parts:
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if content_type in ("text/rfc822-headers", "text/rfc822-header"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                return BytesHeaderParser().parsebytes(data)
    return None


def _clean(value: object) -> str:
    """A header value unfolded and trimmed."""
    return " ".join(str(value).split())


def _address(field: object) -> str:
    """`rfc822; User@Example.org` or `Name <User@Example.org>` → `User@Example.org`."""
    value = _clean(field)
    if ";" in value:
        value = value.split(";", 1)[1].strip()
    return email.utils.parseaddr(value)[1] or value.strip("<>").strip()


def _diagnostic(field: object) -> str:
    """`smtp; 550 5.1.1 …` → `550 5.1.1 …`: the type prefix means nothing to a reader."""
    value = _clean(field)
    head, sep, rest = value.partition(";")
    return rest.strip() if sep and head.strip().lower() in ("smtp", "x-postfix", "x-unix", "x-local") else value
