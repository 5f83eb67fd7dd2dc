"""Publish the scheduled posts that are due, come back to the ones a network asked to
wait for (rate limits), and settle what a dead worker left.

`runall` keeps it running (`--every 60`); with several machines, run it on one or on
all (each publication is claimed, so two ticks never publish the same post twice)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from suffrage.social.posts import social_tick


class Command(BaseCommand):
    help = "Publish due social posts and retry the ones a network asked to wait for; --every N to keep going."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="seconds between ticks (0: once)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            count = social_tick()
            if options["verbosity"] > 1:
                self.stdout.write(f"{count} posts worked on")
            if not options["every"]:
                return
            time.sleep(options["every"])
