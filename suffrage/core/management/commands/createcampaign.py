"""Create a campaign and its first owner from the command line (first install)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from suffrage.core import services
from suffrage.core.models import Campaign, User


class Command(BaseCommand):
    help = "Create a campaign with an owner. The owner account is created if needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="short name used in addresses, e.g. brest-2027")
        parser.add_argument("name", help="the campaign's display name")
        parser.add_argument("--owner", required=True, help="owner's email address")
        parser.add_argument("--password", help="owner's password, if the account is new")

    def handle(self, *args: Any, **options: Any) -> None:
        if Campaign.objects.filter(slug=options["slug"]).exists():
            raise CommandError(f"A campaign with the short name {options['slug']!r} already exists.")
        with transaction.atomic():
            owner = User.objects.filter(email__iexact=options["owner"]).first()
            if owner is None:
                if not options["password"]:
                    raise CommandError("The owner has no account yet: give --password.")
                owner = User.objects.create_user(options["owner"], options["password"])
            campaign = services.campaign_create(name=options["name"], slug=options["slug"], owner=owner)
        self.stdout.write(self.style.SUCCESS(f"Created {campaign.name}: /c/{campaign.slug}/"))
