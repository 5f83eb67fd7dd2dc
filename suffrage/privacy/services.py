"""Writes on the suppression list."""

from __future__ import annotations

from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.privacy.models import Suppression


def suppression_add(
    *, campaign: Campaign, channel: str, value: str, reason: str, detail: str = "", actor: User | None = None
) -> bool:
    """Suppress a value on a channel (idempotent). True when it was not suppressed yet."""
    _, created = Suppression.objects.get_or_create(
        campaign=campaign,
        channel=channel,
        value=value.strip().lower(),
        defaults={"reason": reason, "detail": detail[:300]},
    )
    if created:
        audit_record(
            action="suppression.add", campaign=campaign, changes={"channel": channel, "reason": reason}, actor=actor
        )
    return created
