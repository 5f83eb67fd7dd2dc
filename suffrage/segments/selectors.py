"""Reads for the builder: the count, a sample, and breakdowns by polling station
and by reachable channel — a fixed number of queries whatever the filter."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from suffrage.core.models import Campaign
from suffrage.people.models import Channel, Person, PostalAddress, reachable
from suffrage.segments.models import Segment

SAMPLE_SIZE = 10
STATIONS_SHOWN = 15


def segments(campaign: Campaign) -> QuerySet[Segment]:
    return Segment.objects.filter(campaign=campaign).select_related("snapshot", "created_by")


def sample(people: QuerySet[Person]) -> list[Person]:
    return list(people.order_by("name_key", "pk")[:SAMPLE_SIZE])


def by_channel(people: QuerySet[Person]) -> dict[str, int]:
    """How many of them each channel reaches (consent and somewhere to reach them)."""
    counts: dict[str, int] = people.aggregate(
        **{channel: Count("pk", filter=reachable(channel)) for channel in Channel.values}
    )
    return counts


def by_station(people: QuerySet[Person]) -> list[dict[str, Any]]:
    """People per polling station of their address, most first (a person with two
    addresses in two stations counts in both)."""
    rows = (
        PostalAddress.objects.filter(person__in=people.values("pk"))
        .values("polling_station__code", "polling_station__name")
        .annotate(people=Count("person", distinct=True))
        .order_by("-people", "polling_station__code")
    )
    return list(rows[:STATIONS_SHOWN])
