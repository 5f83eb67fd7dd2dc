"""Start scheduled mailings, decide A/B tests, and finish what a dead worker left.

`runall` keeps it running (`--every 30`); with several machines, run it on one or on
all (workers claim deliveries, so two ticks never send the same message)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from suffrage.messaging.services import mailings_tick


class Command(BaseCommand):
    help = "Start due mailings and resume interrupted ones; --every N to keep going."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="seconds between ticks (0: once)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            count = mailings_tick()
            if options["verbosity"] > 1:
                self.stdout.write(f"{count} mailings worked on")
            if not options["every"]:
                return
            time.sleep(options["every"])
