"""Demo API token: a read-only key printed in the API guide, so that anyone trying the
demo can call the API at once (docs/user/api.md). Only for the demo campaign, whose
people are invented."""

from __future__ import annotations

import datetime

from django.utils import timezone

from suffrage.api.models import ApiToken
from suffrage.api.scopes import Scope
from suffrage.api.tokens import KEY_START, key_hash
from suffrage.core.models import Campaign, User
from suffrage.core.roles import Role

DEMO_PREFIX = "demo00000000"
DEMO_KEY = f"{KEY_START}{DEMO_PREFIX}_try-the-suffrage-api-on-the-demo-campaign"
DEMO_SCOPES = [Scope.PEOPLE_READ, Scope.SEGMENTS_READ, Scope.ENGAGEMENT_READ, Scope.ANALYTICS_READ]


def _owner(campaign: Campaign) -> User | None:
    membership = campaign.memberships.filter(role=Role.OWNER).select_related("user").first()
    return membership.user if membership else None


def load(campaign: Campaign) -> None:
    ApiToken.objects.update_or_create(
        prefix=DEMO_PREFIX,
        defaults={
            "campaign": campaign,
            "name": "Démo (lecture seule)",
            "key_hash": key_hash(DEMO_KEY),
            "scopes": [scope.value for scope in DEMO_SCOPES],
            # Refreshed at each demo start: a forgotten demo never keeps a live key for long.
            "expires_at": timezone.now() + datetime.timedelta(days=30),
            "revoked_at": None,
            "created_by": _owner(campaign),
        },
    )
