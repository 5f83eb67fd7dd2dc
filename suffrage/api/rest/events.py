"""REST endpoints: events and their RSVPs (attendances).

Reading needs `engagement:read`; recording an RSVP or a check-in needs
`engagement:write` and goes through the engagement services, exactly as the public
page and the door page do (person matching on email or phone, consent proof, the
confirmation email, the waiting list, the audit row). An RSVP's ticket token is never
shown: it is the person's secret."""

# No `from __future__ import annotations` here: Ninja reads the views' annotations at
# import time, and `@paginate` evaluates them in its own module, where string
# annotations such as "Query[EventFilters]" cannot be resolved.

import datetime
from typing import Any, Literal, cast

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from suffrage.api.rest.common import (
    ERRORS,
    ApiError,
    ErrorOut,
    Page,
    campaign_of,
    get_or_404,
    ordered,
    responses,
    scoped,
    token_of,
    utc,
)
from suffrage.api.scopes import Scope
from suffrage.core.models import User
from suffrage.engagement import services
from suffrage.engagement.fields import build_form
from suffrage.engagement.models import RSVP, ConsentWording, Event
from suffrage.engagement.public import EVENT_FIELDS
from suffrage.engagement.selectors import event_with_counts, rsvp_counts, wording_history

router = Router(tags=["events"])

READ = scoped(Scope.ENGAGEMENT_READ)
WRITE = scoped(Scope.ENGAGEMENT_WRITE)

# The models' choices, spelled out so that the OpenAPI schema lists them (a test keeps them in step).
EventStatus = Literal["draft", "open", "closed", "cancelled"]
RsvpStatus = Literal["going", "waitlist", "cancelled"]

EVENT_SORTS = {"starts_at": "starts_at", "created_at": "created_at", "title": "title"}
RSVP_SORTS = {"created_at": "created_at", "updated_at": "updated_at", "checked_in_at": "checked_in_at"}


# --- Schemas ----------------------------------------------------------------------------------


class EventOut(Schema):
    id: int
    title: str
    slug: str
    status: EventStatus
    description: str = Field(description="Markdown.")
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    time_zone: str
    venue: str
    address: str
    latitude: float | None
    longitude: float | None
    online_url: str
    capacity: int | None = Field(description="Seats, guests included; null: no limit.")
    waitlist: bool = Field(description="Whether people go on a waiting list once the event is full.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class EventCountsOut(EventOut):
    going: int = Field(description="RSVPs coming (people, without their guests).")
    going_seats: int = Field(description="Seats taken by those coming, guests included.")
    waiting: int = Field(description="RSVPs on the waiting list.")
    cancelled: int
    checked_in: int
    seats_left: int | None = Field(description="null when the event has no capacity.")

    @staticmethod
    def resolve_going_seats(obj: Any) -> int:
        return int(obj.going_seats or 0)

    @staticmethod
    def resolve_seats_left(obj: Any) -> int | None:
        return None if obj.capacity is None else max(0, obj.capacity - int(obj.going_seats or 0))


class RsvpOut(Schema):
    id: int
    event_id: int
    person_id: int
    status: RsvpStatus = Field(description="going (coming), waitlist (waiting) or cancelled.")
    guests: int = Field(description="People coming with them.")
    via: str = Field(description="Where the RSVP came from: page, embed, api, door…")
    consents: dict[str, int] = Field(
        description="Consent boxes ticked: channel → id of the exact wording shown (see the event's wordings)."
    )
    checked_in: bool
    checked_in_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_checked_in(obj: RSVP) -> bool:
        return obj.checked_in_at is not None


class WordingOut(Schema):
    id: int
    channel: str
    version: int
    text: str
    retired_at: datetime.datetime | None


class EventDetailOut(EventCountsOut):
    wordings: list[WordingOut] = Field(description="Every version of the event's consent boxes.")

    @staticmethod
    def resolve_wordings(obj: Event) -> list[ConsentWording]:
        return wording_history(obj)


class EventFilters(Schema):
    when: Literal["upcoming", "past"] | None = Field(None, description="upcoming: not ended yet; past: already ended.")
    status: EventStatus | None = None
    sort: str | None = Field(None, description="starts_at, created_at or title; a leading “-” sorts descending.")


class RsvpFilters(Schema):
    status: RsvpStatus | None = None
    checked_in: bool | None = None
    since: datetime.datetime | None = Field(None, description="Changed at or after this time (ISO 8601).")
    sort: str | None = Field(
        None, description="created_at, updated_at or checked_in_at; a leading “-” sorts descending."
    )


class RsvpIn(Schema):
    """The person as the public RSVP form asks them: matched on email, then phone."""

    first_names: str = Field(max_length=150)
    last_name: str = Field("", max_length=150)
    # Checked by the form (normalised, like the public page): the format is for the documentation.
    email: str = Field(max_length=254, json_schema_extra={"format": "email"})
    phone: str = Field("", max_length=30)
    guests: int = Field(0, ge=0, le=10, description="People coming with them.")
    consents: list[str] = Field(
        [],
        max_length=4,
        description="Channels whose current consent box (see the event's wordings) the person ticked, e.g. [“email”].",
    )


# --- Reads ------------------------------------------------------------------------------------


def _events(request: HttpRequest) -> QuerySet[Event]:
    return Event.objects.filter(campaign=campaign_of(request))


def _event(request: HttpRequest, event_id: int) -> Event:
    return get_or_404(_events(request), pk=event_id)


def _rsvp(request: HttpRequest, event_id: int, rsvp_id: int) -> RSVP:
    event = _event(request, event_id)
    return get_or_404(RSVP.objects.filter(event=event).select_related("event", "person"), pk=rsvp_id)


@router.get("", auth=READ, response=responses(list[EventCountsOut]), url_name="api-events")
@paginate(Page)
def event_list(request: HttpRequest, filters: Query[EventFilters]) -> QuerySet[Event]:
    """The campaign's events with their RSVP counts."""
    events = _events(request).annotate(**rsvp_counts())
    now = timezone.now()
    if filters.when == "upcoming":
        events = events.filter(ends_at__gte=now)
    elif filters.when == "past":
        events = events.filter(ends_at__lt=now)
    if filters.status:
        events = events.filter(status=filters.status)
    return ordered(events, filters.sort, EVENT_SORTS)


@router.get("/{event_id}", auth=READ, response=responses(EventDetailOut), url_name="api-event")
def event_detail(request: HttpRequest, event_id: int) -> Event:
    """One event, its RSVP counts and the consent wordings its page shows or showed."""
    return event_with_counts(_event(request, event_id))


@router.get("/{event_id}/rsvps", auth=READ, response=responses(list[RsvpOut]), url_name="api-event-rsvps")
@paginate(Page)
def rsvp_list(request: HttpRequest, event_id: int, filters: Query[RsvpFilters]) -> QuerySet[RSVP]:
    """The event's RSVPs (attendances): who, with which status, checked in or not."""
    rsvps = RSVP.objects.filter(event=_event(request, event_id))
    if filters.status:
        rsvps = rsvps.filter(status=filters.status)
    if filters.checked_in is not None:
        rsvps = rsvps.filter(checked_in_at__isnull=not filters.checked_in)
    if filters.since:
        rsvps = rsvps.filter(updated_at__gte=utc(filters.since, "query.since"))
    return ordered(rsvps, filters.sort, RSVP_SORTS)


@router.get("/{event_id}/rsvps/{rsvp_id}", auth=READ, response=responses(RsvpOut), url_name="api-event-rsvp")
def rsvp_detail(request: HttpRequest, event_id: int, rsvp_id: int) -> RSVP:
    return _rsvp(request, event_id, rsvp_id)


# --- Writes -----------------------------------------------------------------------------------


def _rsvp_data(event: Event, payload: RsvpIn) -> dict[str, Any]:
    """The payload checked by the public RSVP form itself (same fields, same rules), as
    the cleaned data the service takes; a 422 naming each field otherwise."""
    wordings = services.wordings_current(event)
    shown = {wording.channel for wording in wordings}
    errors = [
        {"field": "body.consents", "message": _("This event has no consent box for “%(channel)s”.") % {"channel": c}}
        for c in payload.consents
        if c not in shown
    ]
    data: dict[str, Any] = {
        "first_names": payload.first_names,
        "last_name": payload.last_name,
        "email": payload.email,
        "phone": payload.phone,
        **{f"consent_{channel}": True for channel in payload.consents if channel in shown},
    }
    form = build_form(event.campaign, EVENT_FIELDS, wordings, data=data)
    if not form.is_valid():
        errors += [
            {"field": "body" if name == "__all__" else f"body.{name}", "message": str(message)}
            for name, messages in form.errors.items()
            for message in messages
        ]
    if errors:
        raise ApiError(422, _("The request is not valid."), errors)
    return form.cleaned_data


WRITE_ERRORS: dict[int, type[Schema]] = {**ERRORS, 409: ErrorOut}


@router.post("/{event_id}/rsvps", auth=WRITE, response={201: RsvpOut, **WRITE_ERRORS}, url_name="api-event-rsvp-create")
def rsvp_create(request: HttpRequest, event_id: int, payload: RsvpIn) -> Status[RSVP]:
    """Record that someone is coming, as the event's public page does: the person is
    found by email (then phone) or created, their ticked consents are recorded with the
    wording shown, and they receive their confirmation. A full event puts them on the
    waiting list (409 when it has none); someone already registered keeps their RSVP
    (answered as it is). 409 when the event takes no RSVPs (not open, or over)."""
    event = _event(request, event_id)
    data = _rsvp_data(event, payload)
    try:
        rsvp = services.rsvp_record(event=event, data=data, ip=None, via="api", guests=payload.guests)
    except services.EventFull:
        raise ApiError(409, _("The event is full and has no waiting list.")) from None
    except services.Closed:
        raise ApiError(409, _("This event no longer takes RSVPs.")) from None
    return Status(201, rsvp)


@router.post(
    "/{event_id}/rsvps/{rsvp_id}/check-in",
    auth=WRITE,
    response={200: RsvpOut, **WRITE_ERRORS},
    url_name="api-event-rsvp-check-in",
)
def rsvp_check_in(request: HttpRequest, event_id: int, rsvp_id: int) -> RSVP:
    """Mark them present, as the door page does (done once: checking in again changes
    nothing). 409 for a cancelled RSVP: record a new one first."""
    rsvp = _rsvp(request, event_id, rsvp_id)
    if rsvp.status == RSVP.Status.CANCELLED:
        raise ApiError(409, _("This RSVP was cancelled: it cannot be checked in."))
    # The token acts for the owner who made it (None once that account is gone: the
    # service and its audit row accept no actor, the signature is only narrower).
    services.rsvp_check_in(rsvp=rsvp, actor=cast(User, token_of(request).created_by))
    return rsvp
