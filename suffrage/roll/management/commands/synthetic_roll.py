"""Write a synthetic electoral roll (fictitious electors on the campaign's real
polling stations) in the official column list, labelled synthetic in InfoListe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from suffrage.core.models import Campaign
from suffrage.roll.demo import campaign_roll_stations
from suffrage.roll.synthetic import synthetic_roll, write_roll_csv


class Command(BaseCommand):
    help = "Write a synthetic roll extract (CSV, official columns) for a campaign's polling stations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="campaign slug")
        parser.add_argument("output", type=Path, help="CSV file to write")
        parser.add_argument("--count", type=int, default=10_000, help="number of electors (default 10,000)")
        parser.add_argument("--commune", default="", help="only this commune's stations (INSEE code)")
        parser.add_argument("--seed", type=int, default=2027)

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign']!r}.")
        stations = campaign_roll_stations(campaign, options["commune"])
        if not stations:
            raise CommandError("The campaign has no polling stations: import boundaries or results first.")
        rows = synthetic_roll(options["count"], stations, seed=options["seed"])
        written = write_roll_csv(options["output"], rows)
        self.stdout.write(f"{written} synthetic electors written to {options['output']} ({len(stations)} stations).")
