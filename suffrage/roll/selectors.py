"""Reads on the roll. Browsing goes by polling station, street and age band only:
the CNIL forbids sorting or filtering the roll by surname or place of birth, so no
selector here takes either."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign
from suffrage.people.models import Person, SupportLevel
from suffrage.roll.models import RollEntry, RollLink, RollVersion

LINKED = [RollLink.Status.LINKED, RollLink.Status.ACCEPTED]


@dataclass(frozen=True)
class AgeBand:
    key: str
    label: Any  # lazy: translated when shown
    low: int
    high: int | None


AGE_BANDS = [
    AgeBand("18-24", _("18–24"), 18, 24),
    AgeBand("25-34", _("25–34"), 25, 34),
    AgeBand("35-49", _("35–49"), 35, 49),
    AgeBand("50-64", _("50–64"), 50, 64),
    AgeBand("65-79", _("65–79"), 65, 79),
    AgeBand("80+", _("80 and over"), 80, None),
]


def versions(campaign: Campaign) -> QuerySet[RollVersion]:
    return RollVersion.objects.filter(campaign=campaign).select_related("election")


def roll_entries(
    version: RollVersion, *, station: str = "", street: str = "", age_band: str = "", today: datetime.date | None = None
) -> QuerySet[RollEntry]:
    """Entries in roll order: polling station, street, number."""
    entries = version.entries.all()
    if station:
        entries = entries.filter(station_code=station)
    if street:
        entries = entries.filter(street_key=street)
    band = next((b for b in AGE_BANDS if b.key == age_band), None)
    if band:
        year = (today or datetime.date.today()).year
        # Age reached this year: close enough for a band, and it needs no day or month.
        entries = entries.filter(birth_year__lte=year - band.low)
        if band.high is not None:
            entries = entries.filter(birth_year__gte=year - band.high)
    return entries.order_by("station_code", "street_key", "number", "pk")


def version_stations(version: RollVersion) -> list[str]:
    return list(version.entries.order_by("station_code").values_list("station_code", flat=True).distinct())


def version_streets(version: RollVersion, station: str = "") -> list[tuple[str, str]]:
    """(key, street as written) of the version's streets, in one station when given."""
    entries = version.entries.all()
    if station:
        entries = entries.filter(station_code=station)
    seen: dict[str, str] = {}
    for key, street in entries.order_by("street_key").values_list("street_key", "street").distinct()[:2000]:
        seen.setdefault(key, street)
    return list(seen.items())


def link_counts(campaign: Campaign) -> dict[str, int]:
    rows = RollLink.objects.filter(campaign=campaign).values("status").annotate(n=Count("pk"))
    counts = {row["status"]: row["n"] for row in rows}
    counts["conflicts"] = RollLink.objects.filter(
        campaign=campaign, conflict=True, status=RollLink.Status.REVIEW
    ).count()
    return counts


def review_queue(campaign: Campaign) -> QuerySet[RollLink]:
    """Pairs waiting for a decision, the most likely first."""
    return (
        RollLink.objects.filter(campaign=campaign, status=RollLink.Status.REVIEW)
        .select_related("person", "entry", "model")
        .order_by("-weight", "pk")
    )


def people_on_roll(campaign: Campaign) -> QuerySet[Person]:
    return Person.objects.filter(campaign=campaign, roll_links__status__in=LINKED).distinct()


def supporters_not_found(campaign: Campaign) -> QuerySet[Person]:
    """Supporters the roll does not list (no link, none pending): the registration drive."""
    supporters = (
        Q(support_level__in=[SupportLevel.STRONG, SupportLevel.LEANING]) | Q(is_member=True) | Q(is_volunteer=True)
    )
    found = (
        RollLink.objects.filter(campaign=campaign)
        .filter(Q(status__in=LINKED) | Q(status=RollLink.Status.REVIEW))
        .values("person_id")
    )
    return Person.objects.filter(campaign=campaign).filter(supporters).exclude(pk__in=found).order_by("name_key", "pk")


def person_roll_link(person: Person) -> RollLink | None:
    """The person's entry on the roll, if they were found on it."""
    return (
        RollLink.objects.filter(person=person, status__in=LINKED)
        .select_related("entry", "entry__station", "model")
        .first()
    )
