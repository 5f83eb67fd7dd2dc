"""Load the demo campaign (idempotent): `make run` calls it on every start.

Later apps add their demo data through a `demo.py` module with a
`load(campaign)` function, called here for the main demo campaign.
"""

import datetime
from importlib import import_module
from typing import Any

from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from suffrage.core import services
from suffrage.core.models import CalendarElection, Campaign, Membership, User
from suffrage.core.roles import Role

DEMO_PASSWORD = "demo-suffrage-2026"  # noqa: S105 (printed to the user: it is a demo)
DEMO_USERS = {
    "owner@demo.suffrage.local": ("Claire", "Le Goff", True),
    "manager@demo.suffrage.local": ("Yann", "Kerjean", False),
    "volunteer@demo.suffrage.local": ("Maëlle", "Quéré", False),
    "dpo@demo.suffrage.local": ("Soazig", "Le Roux", False),
}
# (slug, name, {email: role}, elections)
DEMO_CAMPAIGNS = [
    (
        "demo-brest",
        "Brest en commun (démo)",
        {
            "owner@demo.suffrage.local": Role.OWNER,
            "manager@demo.suffrage.local": Role.MANAGER,
            "volunteer@demo.suffrage.local": Role.VOLUNTEER,
            "dpo@demo.suffrage.local": Role.DPO,
        },
        # Fictitious dates for the demo: no real election is announced for them.
        [
            (
                "Législatives (démo)",
                CalendarElection.Kind.LEGISLATIVE,
                datetime.date(2027, 6, 13),
                datetime.date(2027, 6, 20),
            )
        ],
    ),
    (
        "demo-permanence",
        "Permanence de la députée (démo)",
        {"owner@demo.suffrage.local": Role.OWNER, "manager@demo.suffrage.local": Role.ANALYST},
        [],
    ),
]


class Command(BaseCommand):
    help = "Create or refresh the demo campaigns and their demo accounts."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            users = {email: self._user(email, *names) for email, names in DEMO_USERS.items()}
            for slug, name, roles, elections in DEMO_CAMPAIGNS:
                campaign = self._campaign(slug, name, users, roles, elections)
                if slug == DEMO_CAMPAIGNS[0][0]:
                    self._app_demos(campaign)
        self.stdout.write(self.style.SUCCESS("Demo campaigns ready. Sign in at http://127.0.0.1:8000/ with:"))
        for email in DEMO_USERS:
            self.stdout.write(f"  {email}  /  {DEMO_PASSWORD}")

    def _user(self, email: str, first_name: str, last_name: str, staff: bool) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, first_name=first_name, last_name=last_name, is_staff=staff
            )
        EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        return user

    def _campaign(
        self, slug: str, name: str, users: dict[str, User], roles: dict[str, Role], elections: list[Any]
    ) -> Campaign:
        campaign = Campaign.objects.filter(slug=slug).first()
        owner_email = next(email for email, role in roles.items() if role == Role.OWNER)
        if campaign is None:
            # MFA is off in the demo so anyone can try it at once; real campaigns keep it on.
            campaign = services.campaign_create(name=name, slug=slug, owner=users[owner_email], require_mfa=False)
        for email, role in roles.items():
            Membership.objects.get_or_create(campaign=campaign, user=users[email], defaults={"role": role})
        for election_name, kind, first, second in elections:
            if not campaign.elections.filter(name=election_name).exists():
                services.calendar_election_save(
                    campaign=campaign, name=election_name, kind=kind, first_round_on=first, second_round_on=second
                )
        return campaign

    def _app_demos(self, campaign: Campaign) -> None:
        for config in apps.get_app_configs():
            if config.name.startswith("suffrage.") and config.label != "core":
                try:
                    module = import_module(f"{config.name}.demo")
                except ModuleNotFoundError:
                    continue
                module.load(campaign)
