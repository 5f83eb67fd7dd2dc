"""Queue event reminders and follow-ups when due.

`runall` keeps it running (`--every 60`). It is safe to run twice or after a crash:
each reminder is queued once per person (a unique key), and the messaging tick
sends what is queued."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from suffrage.engagement.services import reminders_queue


class Command(BaseCommand):
    help = "Queue due event reminders and follow-ups; --every N to keep going."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="seconds between ticks (0: once)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            count = reminders_queue()
            if options["verbosity"] > 1:
                self.stdout.write(f"{count} reminders queued")
            if not options["every"]:
                return
            time.sleep(options["every"])
