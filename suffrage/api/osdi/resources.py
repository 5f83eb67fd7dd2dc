"""Our records as OSDI resources: what each collection holds (campaign-scoped
querysets, read through the apps' selectors) and how one record reads in OSDI's words.

Every resource has `identifiers` (["suffrage:<id>"]) and `_links.self`; those that
carry dates have `created_date` and `modified_date` (UTC, ISO 8601). Tags and
taggings have no dates: Suffrage does not record when a tag was made or given.
The support level and sensitive custom fields never appear."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from suffrage.api.osdi.filters import Filterable, date_filter, email_filter, phone_filter
from suffrage.api.osdi.hal import JSON, Osdi, identifiers, link
from suffrage.core.models import Campaign
from suffrage.engagement.models import RSVP, Action, Event, Status, Submission
from suffrage.engagement.selectors import rsvp_counts
from suffrage.messaging.rendering import markdown_to_html
from suffrage.people.models import (
    WITHOUT_CONSENT,
    Channel,
    CustomField,
    Person,
    PersonEmail,
    PersonPhone,
    PostalAddress,
    Tag,
)
from suffrage.people.selectors import people_for_list
from suffrage.segments.models import Segment, SnapshotMember

ORIGIN = "Suffrage"
Tagging = Person.tags.through


def osdi_date(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dated(created: datetime.datetime, modified: datetime.datetime | None) -> JSON:
    return {"created_date": osdi_date(created), "modified_date": osdi_date(modified or created)}


def public_page(name: str, campaign: Campaign, slug: str) -> str:
    """The public microsite's page for a form, petition or event."""
    return settings.SITE_URL + reverse(f"engagement_public:{name}", args=[campaign.slug, slug])


# --- People ----------------------------------------------------------------------------------

DATES = {"created_date": date_filter("created_at"), "modified_date": date_filter("updated_at")}


def people(campaign: Campaign) -> QuerySet[Person]:
    return people_for_list(Person.objects.filter(campaign=campaign)).order_by("pk")


def people_filters(campaign: Campaign) -> dict[str, Filterable]:
    return {
        **DATES,
        "email_address": email_filter("emails__address"),
        "phone_number": phone_filter("phones__number", campaign.country),
    }


def filtered_people(people_queryset: QuerySet[Person], condition: Q) -> QuerySet[Person]:
    """Filtered without duplicates: an email condition joins the emails, so the
    condition selects ids and the people are read once each."""
    matching = Person.objects.filter(condition).values("pk")
    return people_queryset.filter(pk__in=matching)


def shown_custom_fields(campaign: Campaign) -> set[str]:
    """Custom fields another tool may read: not the sensitive ones (special-category data)."""
    return set(CustomField.objects.filter(campaign=campaign, sensitive=False).values_list("key", flat=True))


def _may_contact(person: Person, channel: str) -> bool:
    """The person's consent, or a lawful basis without it (people.models.lawful_contact)."""
    state = getattr(person, f"consent_{channel}")
    return state is True or (state is None and person.legal_basis in WITHOUT_CONSENT[Channel(channel)])


EMAIL_STATUS = {
    PersonEmail.Status.BOUNCED: "bouncing",
    PersonEmail.Status.COMPLAINED: "spam complaint",
    PersonEmail.Status.SUPPRESSED: "unsubscribed",
}
PHONE_TYPES = {"mobile": "Mobile", "landline": "Landline"}


def _email(person: Person, email: PersonEmail, primary: bool) -> JSON:
    status = EMAIL_STATUS.get(PersonEmail.Status(email.status))
    if status is None:
        status = "subscribed" if _may_contact(person, Channel.EMAIL) else "unsubscribed"
    return {"address": email.address, "primary": primary, "status": status}


def _phone(person: Person, phone: PersonPhone, primary: bool) -> JSON:
    texts = phone.sms_capable and not phone.suppressed and _may_contact(person, Channel.SMS)
    return {
        "number": phone.number.lstrip("+"),  # OSDI: digits with the country code
        "primary": primary,
        "number_type": PHONE_TYPES.get(phone.kind, "Other"),
        "sms_capable": phone.sms_capable,
        "do_not_call": phone.suppressed or not _may_contact(person, Channel.PHONE),
        "status": "subscribed" if texts else "unsubscribed",
    }


def _address(address: PostalAddress, primary: bool) -> JSON:
    street = " ".join(part for part in (address.number, address.repetition, address.street) if part)
    lines = [line for line in (street, address.building, address.complement) if line]
    shown: JSON = {
        "primary": primary,
        "address_lines": lines,
        "locality": address.town,
        "postal_code": address.postcode,
        "country": address.country,
    }
    if address.lat is not None and address.lon is not None:
        shown["location"] = {"latitude": address.lat, "longitude": address.lon}
    return shown


def person_links(osdi: Osdi, person_id: int) -> JSON:
    return {
        "self": link(osdi.href("people", person_id)),
        "osdi:taggings": link(osdi.href("people", person_id, "taggings")),
        "osdi:attendances": link(osdi.href("people", person_id, "attendances")),
        "osdi:submissions": link(osdi.href("people", person_id, "submissions")),
        "osdi:signatures": link(osdi.href("people", person_id, "signatures")),
    }


def person(osdi: Osdi, person: Person, custom_keys: set[str]) -> JSON:
    """A person with emails, phones, addresses and the custom fields in `custom_keys`
    (its channels prefetched: `people()`)."""
    return {
        "identifiers": identifiers(person),
        **dated(person.created_at, person.updated_at),
        "given_name": person.first_names,
        "family_name": person.last_name,
        "honorific_prefix": person.civility,
        "email_addresses": [_email(person, e, i == 0) for i, e in enumerate(person.emails.all())],
        "phone_numbers": [_phone(person, p, i == 0) for i, p in enumerate(person.phones.all())],
        "postal_addresses": [_address(a, i == 0) for i, a in enumerate(person.addresses.all())],
        "custom_fields": {key: value for key, value in person.custom.items() if key in custom_keys},
        "_links": person_links(osdi, person.pk),
    }


def person_summary(osdi: Osdi, person: Person) -> JSON:
    """What a token that may not read people learns of the person it wrote: the address."""
    return {"identifiers": identifiers(person), "_links": {"self": link(osdi.href("people", person.pk))}}


# --- Tags and taggings -----------------------------------------------------------------------


def tags(campaign: Campaign) -> QuerySet[Tag]:
    return Tag.objects.filter(campaign=campaign).order_by("pk")


def tag(osdi: Osdi, tag: Tag) -> JSON:
    return {
        "identifiers": identifiers(tag),
        "origin_system": ORIGIN,
        "name": tag.name,
        "_links": {
            "self": link(osdi.href("tags", tag.pk)),
            "osdi:taggings": link(osdi.href("tags", tag.pk, "taggings")),
        },
    }


def taggings(campaign: Campaign) -> QuerySet[Any]:
    """A tagging is one person holding one tag (a row of Person.tags' table)."""
    return Tagging.objects.filter(tag__campaign=campaign, person__campaign=campaign).order_by("pk")


def tagging(osdi: Osdi, row: Any) -> JSON:
    return {
        "identifiers": identifiers(row),
        "origin_system": ORIGIN,
        "item_type": "osdi:person",
        "_links": {
            "self": link(osdi.href("tags", row.tag_id, "taggings", row.pk)),
            "osdi:tag": link(osdi.href("tags", row.tag_id)),
            "osdi:person": link(osdi.href("people", row.person_id)),
        },
    }


# --- Lists (static lists) and their items -------------------------------------------------------


def lists(campaign: Campaign) -> QuerySet[Segment]:
    """The segments app's static lists: the people frozen when each was made."""
    return (
        Segment.objects.filter(campaign=campaign, kind=Segment.Kind.STATIC, snapshot__isnull=False)
        .select_related("snapshot")
        .annotate(total_items=Count("snapshot__members"))
        .order_by("pk")
    )


def static_list(osdi: Osdi, segment: Segment) -> JSON:
    return {
        "identifiers": identifiers(segment),
        **dated(segment.created_at, segment.updated_at),
        "origin_system": ORIGIN,
        "name": segment.name,
        "title": segment.name,
        "description": segment.description,
        "total_items": segment.total_items,  # type: ignore[attr-defined]
        "_links": {
            "self": link(osdi.href("lists", segment.pk)),
            "osdi:items": link(osdi.href("lists", segment.pk, "items")),
        },
    }


def items(segment: Segment) -> QuerySet[SnapshotMember]:
    # lists() holds only segments with a snapshot.
    members = SnapshotMember.objects.filter(snapshot=segment.snapshot)
    return members.select_related("snapshot").order_by("pk")


def item(osdi: Osdi, segment: Segment, member: SnapshotMember) -> JSON:
    frozen = member.snapshot.created_at
    return {
        "identifiers": identifiers(member),
        **dated(frozen, frozen),
        "item_type": "osdi:person",
        "_links": {
            "self": link(osdi.href("lists", segment.pk, "items", member.pk)),
            "osdi:list": link(osdi.href("lists", segment.pk)),
            "osdi:person": link(osdi.href("people", member.person_id)),
        },
    }


# --- Events and attendances --------------------------------------------------------------------

EVENT_STATUS = {
    Event.Status.DRAFT: "tentative",
    Event.Status.OPEN: "confirmed",
    Event.Status.CLOSED: "confirmed",
    Event.Status.CANCELLED: "cancelled",
}
ATTENDANCE_STATUS = {
    RSVP.Status.GOING: "accepted",
    RSVP.Status.WAITLIST: "tentative",
    RSVP.Status.CANCELLED: "declined",
}


def events(campaign: Campaign) -> QuerySet[Event]:
    return Event.objects.filter(campaign=campaign).annotate(**rsvp_counts()).order_by("pk")


def event(osdi: Osdi, event: Event) -> JSON:
    location: JSON = {"venue": event.venue, "address_lines": [event.address] if event.address else []}
    if event.latitude is not None and event.longitude is not None:
        location["location"] = {"latitude": event.latitude, "longitude": event.longitude}
    shown: JSON = {
        "identifiers": identifiers(event),
        **dated(event.created_at, event.updated_at),
        "origin_system": ORIGIN,
        "name": event.slug,
        "title": event.title,
        "description": markdown_to_html(event.description),
        "start_date": osdi_date(event.starts_at),
        "end_date": osdi_date(event.ends_at),
        "status": EVENT_STATUS[Event.Status(event.status)],
        "capacity": event.capacity,
        "total_accepted": event.going,  # type: ignore[attr-defined]
        "location": location,
        "_links": {
            "self": link(osdi.href("events", event.pk)),
            "osdi:attendances": link(osdi.href("events", event.pk, "attendances")),
            "osdi:record_attendance_helper": link(osdi.href("events", event.pk, "record_attendance_helper")),
        },
    }
    if event.status != Event.Status.DRAFT:
        shown["browser_url"] = public_page("event", osdi.campaign, event.slug)
    return shown


def attendances(campaign: Campaign) -> QuerySet[RSVP]:
    return RSVP.objects.filter(campaign=campaign, event__campaign=campaign).order_by("pk")


def attendance(osdi: Osdi, rsvp: RSVP) -> JSON:
    return {
        "identifiers": identifiers(rsvp),
        **dated(rsvp.created_at, rsvp.updated_at),
        "origin_system": ORIGIN,
        "action_date": osdi_date(rsvp.created_at),
        "status": ATTENDANCE_STATUS[RSVP.Status(rsvp.status)],
        "attended": rsvp.checked_in_at is not None,
        "_links": {
            "self": link(osdi.href("events", rsvp.event_id, "attendances", rsvp.pk)),
            "osdi:event": link(osdi.href("events", rsvp.event_id)),
            "osdi:person": link(osdi.href("people", rsvp.person_id)),
        },
    }


# --- Forms and petitions, submissions and signatures ---------------------------------------------
# Both are engagement Actions: petitions are OSDI petitions (with signatures), every
# other kind of action is an OSDI form (with submissions). Only confirmed answers are
# shown: a double opt-in not yet confirmed is not a submission yet.

CONFIRMED = Q(submissions__status=Submission.Status.CONFIRMED)
# A submission's modified date is its confirmation (every one shown is confirmed).
ANSWER_DATES = {"created_date": date_filter("created_at"), "modified_date": date_filter("confirmed_at")}


def forms(campaign: Campaign) -> QuerySet[Action]:
    return (
        Action.objects.filter(campaign=campaign)
        .exclude(kind=Action.Kind.PETITION)
        .annotate(total=Count("submissions", filter=CONFIRMED))
        .order_by("pk")
    )


def petitions(campaign: Campaign) -> QuerySet[Action]:
    return (
        Action.objects.filter(campaign=campaign, kind=Action.Kind.PETITION)
        .annotate(total=Count("submissions", filter=CONFIRMED))
        .order_by("pk")
    )


def _action(osdi: Osdi, action: Action, collection: str, answers: str) -> JSON:
    shown: JSON = {
        "identifiers": identifiers(action),
        **dated(action.created_at, action.updated_at),
        "origin_system": ORIGIN,
        "name": action.slug,
        "title": action.title,
        "description": markdown_to_html(action.description),
        f"total_{answers}": action.total,  # type: ignore[attr-defined]
        "_links": {
            "self": link(osdi.href(collection, action.pk)),
            f"osdi:{answers}": link(osdi.href(collection, action.pk, answers)),
        },
    }
    if action.status == Status.OPEN:
        shown["browser_url"] = public_page("action", osdi.campaign, action.slug)
    return shown


def form(osdi: Osdi, action: Action) -> JSON:
    return _action(osdi, action, "forms", "submissions")


def petition(osdi: Osdi, action: Action) -> JSON:
    shown = _action(osdi, action, "petitions", "signatures")
    shown["target"] = [{"name": action.target}] if action.target else []
    return shown


def submissions(campaign: Campaign, *, petitions: bool) -> QuerySet[Submission]:
    confirmed = Submission.objects.filter(
        campaign=campaign, action__campaign=campaign, status=Submission.Status.CONFIRMED
    ).select_related("action")
    kinds = Q(action__kind=Action.Kind.PETITION)
    return (confirmed.filter(kinds) if petitions else confirmed.exclude(kinds)).order_by("pk")


def _answer(osdi: Osdi, submission: Submission, collection: str, answers: str, rel: str) -> JSON:
    return {
        "identifiers": identifiers(submission),
        **dated(submission.created_at, submission.confirmed_at),
        "origin_system": ORIGIN,
        "action_date": osdi_date(submission.created_at),
        "_links": {
            "self": link(osdi.href(collection, submission.action_id, answers, submission.pk)),
            rel: link(osdi.href(collection, submission.action_id)),
            "osdi:person": link(osdi.href("people", submission.person_id)),
        },
    }


def submission(osdi: Osdi, submission: Submission) -> JSON:
    return _answer(osdi, submission, "forms", "submissions", "osdi:form")


def signature(osdi: Osdi, submission: Submission) -> JSON:
    shown = _answer(osdi, submission, "petitions", "signatures", "osdi:petition")
    if submission.answers.get("message"):
        shown["comments"] = submission.answers["message"]
    return shown
