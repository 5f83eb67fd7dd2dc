"""Run the web server and the task worker together, for a local installation."""

import os
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Start the task worker in the background and the web server in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        # runserver's autoreloader runs this command again in a child process
        # (RUN_MAIN=true): only the first process starts the worker.
        if os.environ.get("RUN_MAIN") == "true":
            call_command("runserver", options["addrport"])
            return
        background = [
            subprocess.Popen([sys.executable, "manage.py", "db_worker", "--queue-name", "*"]),
            # Scheduled mailings, A/B decisions, and sends a killed worker left unfinished.
            subprocess.Popen([sys.executable, "manage.py", "mailings_tick", "--every", "30"]),
            # Retention rules, once a day for campaigns that turned them on.
            subprocess.Popen([sys.executable, "manage.py", "privacy_tick", "--every", "600"]),
            # Event reminders and follow-ups, queued as automatic messages when due.
            subprocess.Popen([sys.executable, "manage.py", "engagement_tick", "--every", "60"]),
            # Scheduled social posts, and those a network asked to wait for.
            subprocess.Popen([sys.executable, "manage.py", "social_tick", "--every", "60"]),
        ]
        try:
            call_command("runserver", options["addrport"])
        finally:
            for process in background:
                process.terminate()
                process.wait(timeout=30)
