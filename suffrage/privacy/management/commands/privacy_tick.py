"""Apply the retention rules of every campaign that switched them on, once a day.

Meant to run beside the web server (`runall` starts it with `--every 600`); with
several machines, run it anywhere: a campaign's daily run is claimed, never doubled."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from suffrage.api.webhooks.sending import webhook_deliveries_prune
from suffrage.privacy.retention import retention_tick


class Command(BaseCommand):
    help = "Apply due retention rules (at most once a day per campaign); --every N to keep going."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="seconds between ticks (0: once)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            count = retention_tick()
            webhook_deliveries_prune()  # webhook payloads hold personal data: kept 30 days
            if options["verbosity"] > 1:
                self.stdout.write(f"retention applied for {count} campaigns")
            if not options["every"]:
                return
            time.sleep(options["every"])
