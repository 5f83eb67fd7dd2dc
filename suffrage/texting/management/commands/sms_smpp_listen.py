"""Stay bound to every SMPP transport and record what its server sends: delivery
receipts and replies, which an SMS centre hands only to a bound connection (HTTP
providers post theirs to /hooks/sms/ instead).

The transports are served in turn, a second or so each, in this one thread. A
connection that fails is logged and opened again later, waiting twice as long after
each failure (up to five minutes). Transports added later need a restart."""

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from suffrage.messaging.engine import build_transport
from suffrage.messaging.models import TransportConfig
from suffrage.messaging.transports.base import SmsEvent, TemporaryFailure, TransportConfigurationError
from suffrage.messaging.transports.smpp import SmppTransport

logger = logging.getLogger(__name__)

TURN = 1.0  # seconds listened to each transport in turn
MAX_BACKOFF = 300.0


@dataclass
class _Link:
    config: TransportConfig
    transport: SmppTransport | None = None
    failures: int = 0
    retry_at: float = 0.0

    def listen(self, seconds: float) -> None:
        try:
            if self.transport is None:
                self.config.refresh_from_db()  # its settings may have changed since
                transport = build_transport(self.config, None)
                assert isinstance(transport, SmppTransport)
                transport.on_events = self.receive
                self.transport = transport
            self.transport.listen(seconds)
            self.failures = 0
        except Exception as error:
            if isinstance(error, TemporaryFailure | TransportConfigurationError):
                logger.warning("SMPP transport %s (%s): %s", self.config.pk, self.config.name, error)
            else:
                logger.exception("SMPP transport %s (%s) failed", self.config.pk, self.config.name)
            self.close()
            self.failures += 1
            self.retry_at = time.monotonic() + min(2.0**self.failures, MAX_BACKOFF)

    def receive(self, events: list[SmsEvent]) -> None:
        from suffrage.texting.inbound import events_receive

        events_receive(self.config, events)

    def close(self) -> None:
        transport, self.transport = self.transport, None
        if transport is not None:
            try:
                transport.close()
            except Exception:
                logger.exception("SMPP transport %s: closing failed", self.config.pk)


class Command(BaseCommand):
    help = "Stay bound to every SMPP transport and record their delivery receipts and replies."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, help="stop after this many seconds (default: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        links = [_Link(config) for config in TransportConfig.objects.filter(kind="smpp").order_by("pk")]
        if not links:
            self.stdout.write("No SMPP transport is configured.")
            return
        deadline = math.inf if options["seconds"] is None else time.monotonic() + options["seconds"]
        try:
            while (now := time.monotonic()) < deadline:
                ready = [link for link in links if link.retry_at <= now]
                if not ready:
                    time.sleep(max(0.0, min(deadline, *(link.retry_at for link in links)) - now))
                for link in ready:
                    link.listen(max(0.0, min(TURN, deadline - time.monotonic())))
        finally:
            for link in links:
                link.close()
