"""A local sink: messages are written to files in MAIL_SINK_DIR instead of leaving
the machine. For the demo and for trying a mailing out; never for real voters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.base import DkimKey, OutgoingMessage, SendResult, TransportKind


class SinkTransport:
    def __init__(self, folder: str) -> None:
        self.path = Path(settings.MAIL_SINK_DIR) / (folder or "default") / "messages.jsonl"
        self.file: Any = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.path.open("a", encoding="utf-8")

    def send(self, message: OutgoingMessage) -> SendResult:
        record: dict[str, object] = {
            "from": message.from_email,
            "to": message.to,
            "subject": message.subject,
            "headers": message.headers,
            "message_id": message.message_id,
            "text": message.text,
        }
        if message.attachments:
            record["attachments"] = [
                {"filename": item.filename, "mimetype": item.mimetype, "size": len(item.content)}
                for item in message.attachments
            ]
        self.file.write(json.dumps(record) + "\n")
        return SendResult()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def build(settings_: dict[str, Any], secrets: dict[str, Any], dkim: DkimKey | None) -> SinkTransport:
    return SinkTransport(str(settings_.get("folder", "")))


KIND = TransportKind(
    kind="sink",
    label=_("Local sink (nothing leaves this machine)"),
    settings_fields=("folder",),
    secret_fields=(),
    spf_hint="",
    build=build,
)
