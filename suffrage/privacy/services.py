"""Writes on the suppression list, and the check every way in (imports, forms,
hand entry) makes before storing an address or a number."""

from __future__ import annotations

from collections.abc import Iterable

from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.privacy.models import Suppression, suppression_digest


def suppression_add(
    *, campaign: Campaign, channel: str, value: str, reason: str, detail: str = "", actor: User | None = None
) -> bool:
    """Suppress a value on a channel (idempotent). True when it was not suppressed yet.

    Only a keyed hash is kept: the list recognises the address, it cannot give it back."""
    _, created = Suppression.objects.get_or_create(
        campaign=campaign,
        channel=channel,
        digest=suppression_digest(value),
        defaults={"reason": reason, "detail": detail[:300]},
    )
    _mark_held(campaign, channel, value)
    if created:
        audit_record(
            action="suppression.add", campaign=campaign, changes={"channel": channel, "reason": reason}, actor=actor
        )
    return created


def _mark_held(campaign: Campaign, channel: str, value: str) -> None:
    """People who already hold the value: their address or number becomes unusable."""
    from suffrage.people.models import PersonEmail, PersonPhone

    if channel == "email":
        usable = PersonEmail.objects.filter(campaign=campaign, address=value.strip().lower(), status="ok")
        usable.update(status=PersonEmail.Status.SUPPRESSED)
    else:
        PersonPhone.objects.filter(campaign=campaign, number=value.strip()).update(suppressed=True)


def suppressed_among(campaign_id: int, channel: str, values: Iterable[str]) -> set[str]:
    """Which of these values are on the campaign's suppression list."""
    by_digest = {suppression_digest(value): value for value in values if value}
    found = Suppression.objects.filter(campaign_id=campaign_id, channel=channel, digest__in=list(by_digest))
    return {by_digest[digest] for digest in found.values_list("digest", flat=True)}


def is_suppressed(campaign: Campaign, channel: str, value: str) -> bool:
    return bool(suppressed_among(campaign.pk, channel, [value]))
