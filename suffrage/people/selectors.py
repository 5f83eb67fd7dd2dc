"""Reads on people, shared by pages, exports and (later) segments and the API."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from itertools import chain
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.db.models.functions import Upper

from suffrage.core.models import AuditLog, Campaign
from suffrage.people.models import (
    Channel,
    ConsentEvent,
    DuplicateDismissal,
    Note,
    Person,
    PersonEmail,
    PersonPhone,
    PostalAddress,
    reachable,
)

SORTS = {
    "name": ("name_key", "pk"),
    "-name": ("-name_key", "-pk"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
}


def people_filtered(campaign: Campaign, params: dict[str, Any]) -> QuerySet[Person]:
    """The people list's query: search, filters and sort from the page's parameters."""
    people = Person.objects.filter(campaign=campaign)
    if text := str(params.get("q", "")).strip():
        people = people.search(text)
    if tag := params.get("tag"):
        people = people.filter(tags__pk=tag)
    if source := params.get("source"):
        people = people.filter(source=source)
    if legal_basis := params.get("legal_basis"):
        people = people.filter(legal_basis=legal_basis)
    if (channel := params.get("reachable")) in Channel.values:
        people = people.reachable_by(channel)
    if segment_id := str(params.get("segment") or ""):
        people = people.filter(pk__in=_segment_ids(campaign, segment_id, bool(params.get("can_sensitive"))))
    if params.get("notice_owed"):
        people = people.filter(source__in=["import", "social", "roll"], notice_sent_at__isnull=True)
    order = SORTS.get(str(params.get("sort")), SORTS["name"])
    if text and "name_key" in order[0]:
        # Sort a search's matches by an expression the name index cannot serve:
        # PostgreSQL then finds the matches with the trigram index and sorts the
        # few of them, instead of walking all names in order and testing each
        # (1.7 s against 25 ms on a million people). name_key is lowercase ASCII,
        # so its upper case sorts the same.
        key = Upper("name_key")
        return people.order_by(key.desc() if order[0].startswith("-") else key.asc(), order[1])
    return people.order_by(*order)


def _segment_ids(campaign: Campaign, segment_id: str, can_sensitive: bool) -> QuerySet[Person, Any]:
    """The people of one of the campaign's segments (nobody for an unknown or invalid one)."""
    from suffrage.segments.compiler import context_for, segment_members
    from suffrage.segments.language import FilterError
    from suffrage.segments.models import Segment

    segment = Segment.objects.filter(campaign=campaign, pk=segment_id).first() if segment_id.isdigit() else None
    if segment is None:
        return Person.objects.none()
    try:
        return segment_members(segment, context_for(campaign, can_sensitive=can_sensitive)).values("pk")
    except FilterError:
        return Person.objects.none()


def people_for_list(people: QuerySet[Person]) -> QuerySet[Person]:
    """What a row of the list shows, fetched in a fixed number of queries."""
    return people.prefetch_related(
        Prefetch("emails", queryset=PersonEmail.objects.order_by("-is_primary", "pk")),
        Prefetch("phones", queryset=PersonPhone.objects.order_by("pk")),
        Prefetch("addresses", queryset=PostalAddress.objects.order_by("pk")),
        "tags",
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    kind: str  # "audit", "consent", "note", "message", "submission", "rsvp", "visit", "text"
    item: Any


def person_messages(person_id: int) -> QuerySet[Any]:
    """The mailings this person was sent (messaging's deliveries), for the timeline."""
    from suffrage.messaging.models import Delivery

    return Delivery.objects.filter(person_id=person_id, sent_at__isnull=False).select_related("mailing")


def person_texts(person_id: int) -> QuerySet[Any]:
    """What this person and the campaign wrote each other in text conversations."""
    from suffrage.texting.models import Text

    return Text.objects.filter(conversation__person_id=person_id).select_related("conversation", "author")


def person_engagement(person_id: int) -> tuple[QuerySet[Any], QuerySet[Any], QuerySet[Any]]:
    """The forms this person filled, the events they answered (engagement), and the
    visits and calls where they were met (canvassing), for the timeline."""
    from suffrage.canvassing.models import Visit
    from suffrage.engagement.models import RSVP, Submission

    return (
        Submission.objects.filter(person_id=person_id).select_related("action"),
        RSVP.objects.filter(person_id=person_id).select_related("event"),
        Visit.objects.filter(person_id=person_id).select_related("canvass"),
    )


def person_timeline(person: Person) -> list[TimelineEntry]:
    """Everything that happened to this person, newest first (merged records included)."""
    ids = [str(person.pk), *(str(pk) for pk in person.merged_ids)]
    # Consent changes show as ledger entries, which carry the proof; their audit rows would repeat them.
    audits = (
        AuditLog.objects.filter(campaign=person.campaign, object_type="people.person", object_id__in=ids)
        .exclude(action__startswith="consent.")
        .exclude(action="person.view")  # views are for the access report, not the story
        .exclude(action__in=["engagement.submission", "engagement.rsvp"])  # shown from their own rows
        .select_related("actor")
    )
    consents = ConsentEvent.objects.filter(person=person).select_related("recorded_by")
    notes = Note.objects.filter(person=person).select_related("author")
    messages = person_messages(person.pk)
    submissions, rsvps, visits = person_engagement(person.pk)
    entries = chain(
        (TimelineEntry(entry.at, "audit", entry) for entry in audits),
        (TimelineEntry(event.at, "consent", event) for event in consents),
        (TimelineEntry(note.created_at, "note", note) for note in notes),
        (TimelineEntry(message.sent_at, "message", message) for message in messages if message.sent_at),
        (TimelineEntry(submission.created_at, "submission", submission) for submission in submissions),
        (TimelineEntry(rsvp.created_at, "rsvp", rsvp) for rsvp in rsvps),
        (TimelineEntry(visit.recorded_at, "visit", visit) for visit in visits),
        (TimelineEntry(text.at, "text", text) for text in person_texts(person.pk)),
    )
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


@dataclass(frozen=True)
class DuplicatePair:
    first: Person
    second: Person
    reason: str


def _pairs_sharing(
    campaign: Campaign, model: type[PersonEmail] | type[PersonPhone], field: str
) -> list[tuple[int, int, str]]:
    shared = (
        model.objects.filter(campaign=campaign)
        .values(field)
        .annotate(n=Count("person", distinct=True))
        .filter(n__gt=1)
        .values_list(field, flat=True)
    )
    by_value: dict[str, list[int]] = {}
    for value, person_id in model.objects.filter(campaign=campaign, **{f"{field}__in": shared}).values_list(
        field, "person_id"
    ):
        by_value.setdefault(value, []).append(person_id)
    return [(ids[0], other, value) for value, ids in by_value.items() for other in sorted(set(ids))[1:]]


def _pairs_by_name(campaign: Campaign) -> list[tuple[int, int, str]]:
    """Same normalised name and the same birth date, or the same name and postcode."""
    pairs = []
    same_name = (
        Person.objects.filter(campaign=campaign)
        .exclude(name_key="")
        .values("name_key")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("name_key", flat=True)
    )
    groups: dict[str, list[Person]] = {}
    people = Person.objects.filter(campaign=campaign, name_key__in=same_name).prefetch_related("addresses")
    for person in people:
        groups.setdefault(person.name_key, []).append(person)
    for group in groups.values():
        for index, first in enumerate(group):
            for second in group[index + 1 :]:
                if first.birth_date and first.birth_date == second.birth_date:
                    pairs.append((first.pk, second.pk, "birth_date"))
                elif {a.postcode for a in first.addresses.all() if a.postcode} & {
                    a.postcode for a in second.addresses.all() if a.postcode
                }:
                    pairs.append((first.pk, second.pk, "address"))
    return pairs


def duplicate_pairs(campaign: Campaign, *, limit: int = 100) -> list[DuplicatePair]:
    """Likely duplicates: same email or phone; same name with the same birth date or postcode."""
    candidates: dict[tuple[int, int], str] = {}
    for first, second, reason in chain(
        ((a, b, "email") for a, b, _ in _pairs_sharing(campaign, PersonEmail, "address")),
        ((a, b, "phone") for a, b, _ in _pairs_sharing(campaign, PersonPhone, "number")),
        _pairs_by_name(campaign),
    ):
        key = (min(first, second), max(first, second))
        candidates.setdefault(key, reason)
    dismissed = set(DuplicateDismissal.objects.filter(campaign=campaign).values_list("first_id", "second_id"))
    keys = [key for key in sorted(candidates) if key not in dismissed][:limit]
    people = Person.objects.filter(pk__in={pk for key in keys for pk in key}).prefetch_related(
        "emails", "phones", "addresses", "tags"
    )
    by_id = {person.pk: person for person in people}
    return [DuplicatePair(by_id[a], by_id[b], candidates[(a, b)]) for a, b in keys if a in by_id and b in by_id]


def reachability_counts(campaign: Campaign) -> dict[str, int]:
    people = Person.objects.filter(campaign=campaign)
    return people.aggregate(
        total=Count("pk"),
        **{channel: Count("pk", filter=reachable(channel)) for channel in Channel.values},
    )
