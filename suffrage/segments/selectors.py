"""Reads for the builder: the count, a sample, and breakdowns by polling station
and by reachable channel — a fixed number of queries whatever the filter."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from suffrage.core.models import Campaign
from suffrage.people.models import Channel, CustomField, Person, PostalAddress, reachable
from suffrage.segments.models import Segment

SAMPLE_SIZE = 10
STATIONS_SHOWN = 15
UNLIMITED = 10**12  # a LIMIT no segment reaches (see `by_station`)


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
    # The LIMIT keeps the segment a subquery of its own, planned as for its count, whose
    # ids the addresses are then matched against. Without it PostgreSQL merges the two
    # and tests the segment's conditions once per address: 5.4 s instead of 1.4 s for
    # 475,000 people (S6, bench/README.md).
    segment = people.order_by().values("pk")[:UNLIMITED]
    rows = (
        PostalAddress.objects.filter(person__in=segment)
        .values("polling_station__code", "polling_station__name")
        .annotate(people=Count("person", distinct=True))
        .order_by("-people", "polling_station__code")
    )
    return list(rows[:STATIONS_SHOWN])


def uses_sensitive_data(campaign: Campaign, document: Any) -> bool:
    """Whether a filter document chooses people by sensitive data (the support level or
    a custom field marked sensitive), itself or through the segments it includes, static
    lists too. Such a list says something sensitive about each member, so it never
    leaves the campaign (the API), even frozen: a frozen list's members are not
    recompiled, so the compiler's own check would not see it."""
    sensitive_keys = set(CustomField.objects.filter(campaign=campaign, sensitive=True).values_list("key", flat=True))
    documents = {segment.pk: segment.document for segment in Segment.objects.filter(campaign=campaign)}
    seen: set[int] = set()

    def sensitive(node: Any) -> bool:
        if isinstance(node, list):
            return any(sensitive(item) for item in node)
        if not isinstance(node, dict):
            return False
        field = node.get("field")
        if field == "support_level" or (field == "custom" and node.get("key") in sensitive_keys):
            return True
        if field == "segment" and isinstance(node.get("value"), int) and node["value"] not in seen:
            seen.add(node["value"])
            return sensitive(documents.get(node["value"]))
        return any(sensitive(value) for key, value in node.items() if key in ("filter", "all", "any", "not"))

    return sensitive(document)
