"""Read bounce reports (DSN) and spam complaints (ARF) sent to the SMTP bounce mailbox.

Either piped from the mail server, one message at a time (Postfix: a `pipe` transport
running `manage.py bounces_receive`), or from a Maildir folder whose messages are
read and then moved to its `cur/`."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from suffrage.messaging.feedback import bounce_mail_record


class Command(BaseCommand):
    help = "Record bounces and complaints from a message on standard input or a Maildir."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--maildir", help="a Maildir folder to read (new/ is emptied into cur/)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["maildir"]:
            recorded = 0
            folder = Path(options["maildir"])
            (folder / "cur").mkdir(exist_ok=True)
            for path in sorted((folder / "new").iterdir()):
                recorded += bounce_mail_record(path.read_bytes())
                path.rename(folder / "cur" / f"{path.name}:2,S")
        else:
            recorded = bounce_mail_record(sys.stdin.buffer.read())
        self.stdout.write(f"{recorded} reports recorded")
