"""Start scheduled mailings, decide A/B tests, send the automatic messages that are
due (reminders, retries, what a restart left), and finish what a dead worker left.

`runall` keeps it running (`--every 30`); with several machines, run it on one or on
all (workers claim deliveries, so two ticks never send the same message)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from suffrage.api.webhooks.sending import webhook_deliveries_send_due
from suffrage.messaging.notices import notices_send_due
from suffrage.messaging.services import mailings_tick


class Command(BaseCommand):
    help = "Start due mailings, resume interrupted ones, send due automatic messages; --every N to keep going."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="seconds between ticks (0: once)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            count = mailings_tick()
            notices = notices_send_due()
            webhook_deliveries_send_due()  # webhook retries, and what a lost task left
            if options["verbosity"] > 1:
                self.stdout.write(f"{count} mailings worked on, {notices} automatic messages sent")
            if not options["every"]:
                return
            time.sleep(options["every"])
