"""Text messages written to a file in MAIL_SINK_DIR instead of being sent: for the
demo and for development, never for real voters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.base import DkimKey, SendResult, SmsMessage, TransportKind


class SmsFileTransport:
    def __init__(self, folder: str) -> None:
        self.path = Path(settings.MAIL_SINK_DIR) / (folder or "default") / "sms.jsonl"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, message: SmsMessage) -> SendResult:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as sink:
            line = {"to": message.to, "from": message.sender_id, "body": message.body, "reference": message.reference}
            sink.write(json.dumps(line) + "\n")
        return SendResult()


def build(settings_: dict[str, Any], secrets: dict[str, Any], dkim: DkimKey | None) -> SmsFileTransport:
    return SmsFileTransport(str(settings_.get("folder", "")))


KIND = TransportKind(
    kind="sms_file",
    label=_("Text messages to a local file (nothing is sent)"),
    settings_fields=("folder", "sender_id"),
    secret_fields=(),
    spf_hint="",
    build=build,
    channel="sms",
)
