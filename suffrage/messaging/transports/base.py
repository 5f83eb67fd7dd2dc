"""What every transport (SMTP, or a provider through django-anymail) offers the
sending engine: open a connection, send one message to one recipient, close.

A transport raises TemporaryFailure for what may succeed later (the engine retries
with backoff) and PermanentFailure for what never will (the engine records it on
the address and suppresses it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class DkimKey:
    """A sender's DKIM key: the engine signs with it unless the mail server does."""

    domain: str
    selector: str
    algorithm: str  # "rsa-sha256" or "ed25519-sha256"
    private_key_pem: str


@dataclass(frozen=True)
class Attachment:
    """A file joined to a message (an event's .ics, a receipt). `mimetype` is sent as
    given, parameters included ("text/calendar; method=REQUEST")."""

    filename: str
    content: bytes
    mimetype: str


@dataclass
class OutgoingMessage:
    """One message to one recipient (never a shared To: or Cc:)."""

    from_email: str  # "Name <address>"
    to: str
    subject: str
    text: str
    html: str
    message_id: str  # "<…@sender-domain>", set by the engine so retries keep it
    reply_to: str = ""
    # List-Unsubscribe, List-Unsubscribe-Post, X-Suffrage-Delivery…
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class SendResult:
    # The provider's id for the message, which its tracking webhooks quote back.
    provider_id: str = ""


class TemporaryFailure(Exception):
    """Try again later (greylisting, a full mailbox, a provider's 429 or 5xx)."""


class PermanentFailure(Exception):
    """Never deliverable to this address (unknown user, rejected domain)."""


class TransportConfigurationError(Exception):
    """The transport refuses every message (wrong password, revoked API key): the
    engine pauses the mailing with this message rather than fail every recipient."""


class Transport(Protocol):
    def open(self) -> None: ...

    def send(self, message: OutgoingMessage) -> SendResult: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class TransportKind:
    """A transport folder's description, shown on the configuration page.

    `settings_fields` are stored in clear; `secret_fields` are stored encrypted and
    never rendered back into a page."""

    kind: str
    label: StrOrPromise
    settings_fields: tuple[str, ...]
    secret_fields: tuple[str, ...]
    # The SPF mechanism the campaign's domain must publish for this transport.
    spf_hint: str
    build: Any  # (settings: dict, secrets: dict, dkim: DkimKey | None) -> Transport
    # For providers: anymail's tracking webhook view class (bounces, complaints…).
    tracking_view: Any = None
    channel: str = "email"  # or "sms": build() then returns an SmsTransport
    # For SMS providers: (request: InboundRequest, settings, secrets) -> list[SmsEvent],
    # raising SignatureError; and what the provider expects as the answer (body, type).
    inbound: Any = None
    inbound_answer: tuple[str, str] = ("", "text/plain")


@dataclass(frozen=True)
class SmsMessage:
    """One text message to one number (E.164)."""

    to: str
    body: str
    sender_id: str = ""  # alphanumeric sender or a number; the transport's default if blank
    # Our reference for the message (a delivery's token), for providers that echo a
    # client reference back in their receipts.
    reference: str = ""


class SmsTransport(Protocol):
    """A text-message transport. `build()` receives in its settings `webhook_url`: the
    absolute address of /hooks/sms/<key>/ where this transport's receipts and replies
    are to be posted (providers that take a callback per message are given it)."""

    def open(self) -> None: ...

    def send(self, message: SmsMessage) -> SendResult: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmsEvent:
    """What a provider tells about a text message or a number, in our terms.

    kind: "delivered" or "failed" (a receipt, `provider_id` names the message),
    "reply" (the person wrote to us: `text`), "opt_out" (the provider's own STOP
    handling told us the number objects), "opt_in" (the number said START)."""

    kind: str
    number: str  # the person's number, E.164 with its "+"
    provider_id: str = ""
    text: str = ""
    reason: str = ""  # for "failed": the provider's code and words
    permanent: bool = False  # for "failed": this number will never receive (invalid, landline, barred)


@dataclass(frozen=True)
class InboundRequest:
    """A provider's call to our webhook, as received (signatures are checked on it)."""

    method: str
    url: str  # the absolute address called, query string included
    headers: dict[str, str]  # names in lower case
    body: bytes
    params: dict[str, str]  # query string and form fields, merged


class SignatureError(Exception):
    """A webhook call whose signature (or secret) does not verify: refused, nothing read."""


@dataclass(frozen=True)
class Feedback:
    """What a provider or a bounce mailbox tells about one message, in our terms."""

    kind: str  # "delivered", "bounced", "deferred", "complained", "opened", "clicked", "unsubscribed"
    recipient: str
    provider_id: str = ""  # the provider's message id (SendResult.provider_id)
    message_id: str = ""  # our Message-ID header, when the source quotes it
    permanent: bool = False  # for "bounced": a hard bounce
    detail: str = ""
    url: str = ""  # for "clicked"
