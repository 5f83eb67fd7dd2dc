"""The transports a campaign can configure, one folder each (see base.py for what
they offer the engine)."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from suffrage.messaging.transports.base import TransportKind

FOLDERS = (
    "smtp",
    "brevo",
    "mailjet",
    "amazon_ses",
    "postmark",
    "mailgun",
    "sendgrid",
    "sink",
    "twilio",
    "vonage",
    "brevo_sms",
    "ovh",
    "smpp",
    "sms_file",
)


@cache
def transport_kinds() -> dict[str, TransportKind]:
    kinds = [import_module(f"{__name__}.{folder}").KIND for folder in FOLDERS]
    return {kind.kind: kind for kind in kinds}


def transport_kind(kind: str) -> TransportKind:
    return transport_kinds()[kind]


def kinds_for(channel: str) -> list[str]:
    return [kind.kind for kind in transport_kinds().values() if kind.channel == channel]
