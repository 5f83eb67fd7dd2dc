"""Reads for the email pages: mailings, their numbers, links and stations."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from suffrage.core.models import Campaign
from suffrage.messaging.models import Delivery, Link, Mailing, TrackingEvent
from suffrage.people.models import PostalAddress

COUNTED = {
    "targeted": Q(),
    "sent": Q(status=Delivery.Status.SENT),
    "failed": Q(status=Delivery.Status.FAILED),
    "pending": Q(status__in=[Delivery.Status.QUEUED, Delivery.Status.CLAIMED, Delivery.Status.HELD]),
    "cancelled": Q(status=Delivery.Status.CANCELLED),
    "delivered": Q(delivered_at__isnull=False),
    "bounced": Q(bounced_at__isnull=False),
    "opened": Q(opened_at__isnull=False),
    "clicked": Q(clicked_at__isnull=False),
    "unsubscribed": Q(unsubscribed_at__isnull=False),
    "complained": Q(complained_at__isnull=False),
}


def mailings(campaign: Campaign, channel: str = Mailing.Channel.EMAIL) -> QuerySet[Mailing]:
    return Mailing.objects.filter(campaign=campaign, channel=channel).select_related("segment", "sender", "transport")


def mailing_numbers(mailing: Mailing) -> dict[str, int]:
    """The report's counts, in one query."""
    counts = Delivery.objects.filter(mailing=mailing).aggregate(
        **{name: Count("pk", filter=condition) for name, condition in COUNTED.items()}
    )
    return {name: int(value) for name, value in counts.items()}


def numbers_by_mailing(mailing_ids: list[int]) -> dict[int, dict[str, int]]:
    """The same counts for many mailings (the list's "over time" view), one query."""
    rows = (
        Delivery.objects.filter(mailing_id__in=mailing_ids)
        .values("mailing_id")
        .annotate(**{name: Count("pk", filter=condition) for name, condition in COUNTED.items()})
    )
    return {row.pop("mailing_id"): row for row in rows}


def rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def progress(numbers: dict[str, int]) -> int:
    """Percentage of the audience dealt with (sent, failed or cancelled)."""
    done = numbers["sent"] + numbers["failed"] + numbers["cancelled"]
    return int(100 * done / numbers["targeted"]) if numbers["targeted"] else 0


def link_clicks(mailing: Mailing) -> list[dict[str, Any]]:
    return list(
        Link.objects.filter(mailing=mailing)
        .annotate(
            clicks=Count("events", filter=Q(events__kind=TrackingEvent.Kind.CLICKED)),
        )
        .values("position", "url", "clicks")
        .order_by("position")
    )


def by_station(mailing: Mailing) -> list[dict[str, Any]]:
    """Aggregates per polling station of the recipients' addresses (never per person)."""
    deliveries = Delivery.objects.filter(mailing=mailing)
    rows = (
        PostalAddress.objects.filter(person_id__in=deliveries.values("person_id"), polling_station__isnull=False)
        .values("polling_station__code", "polling_station__name")
        .annotate(
            recipients=Count("person", distinct=True),
            clicked=Count(
                "person",
                distinct=True,
                filter=Q(person__deliveries__mailing=mailing, person__deliveries__clicked_at__isnull=False),
            ),
        )
        .order_by("polling_station__code")
    )
    return list(rows)
