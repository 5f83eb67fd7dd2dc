"""Reads of public engagement: the overview's counts, each form's and event's results
(per day, conversion, by polling station in aggregate), the RSVP lists and exports.

Counts come from one aggregate query per kind of object, never a query per row."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from suffrage.core.models import Campaign
from suffrage.engagement.models import RSVP, Action, CallToAction, ConsentWording, Event, PageView, Response, Submission
from suffrage.people.models import Person, PostalAddress
from suffrage.territory.models import PollingStation

# A group smaller than this is shown as "< 3": no one is singled out by a count of one or two.
SMALLEST_SHOWN = 3
# The chart shows at most this many days (the most recent ones).
CHART_DAYS = 92


def page_key(obj: Action | Event | CallToAction) -> str:
    """The PageView key of a public page (as public.py counts it)."""
    kind = {Action: "action", Event: "event", CallToAction: "call"}[type(obj)]
    return f"{kind}:{obj.pk}"


def conversion(done: int, views: int) -> float | None:
    """Percentage of page views that ended in a submission (None without views)."""
    return round(100 * done / views, 1) if views else None


def views_by_page(campaign: Campaign, pages: list[str]) -> dict[str, int]:
    rows = (
        PageView.objects.filter(campaign=campaign, page__in=pages)
        .values("page")
        .annotate(total=Sum("count"))
        .values_list("page", "total")
    )
    return {page: int(total or 0) for page, total in rows}


# --- Overview ------------------------------------------------------------------------------


def actions_with_counts(campaign: Campaign) -> list[Action]:
    """Forms and petitions with `submitted`, `pending`, `views` and `conversion`."""
    actions: list[Action] = list(
        Action.objects.filter(campaign=campaign).annotate(
            submitted=Count("submissions"),
            pending=Count("submissions", filter=Q(submissions__status=Submission.Status.PENDING)),
        )
    )
    _with_views(campaign, actions)
    for action in actions:
        action.conversion = conversion(action.submitted, action.views)  # type: ignore[attr-defined]
    return actions


def _with_views(campaign: Campaign, objects: list[Any]) -> None:
    views = views_by_page(campaign, [page_key(obj) for obj in objects])
    for obj in objects:
        obj.views = views.get(page_key(obj), 0)


def submission_counts() -> dict[str, Any]:
    """Aggregates over a form's submissions, for `.annotate()` (the API's lists)."""
    return {
        "submitted": Count("submissions"),
        "confirmed": Count("submissions", filter=Q(submissions__status=Submission.Status.CONFIRMED)),
        "pending": Count("submissions", filter=Q(submissions__status=Submission.Status.PENDING)),
    }


def rsvp_counts() -> dict[str, Any]:
    """Aggregates over an event's RSVPs, for `.annotate()`."""
    going = Q(rsvps__status=RSVP.Status.GOING)
    return {
        "going": Count("rsvps", filter=going),
        "going_seats": Sum(models.F("rsvps__guests") + 1, filter=going),
        "waiting": Count("rsvps", filter=Q(rsvps__status=RSVP.Status.WAITLIST)),
        "cancelled": Count("rsvps", filter=Q(rsvps__status=RSVP.Status.CANCELLED)),
        "checked_in": Count("rsvps", filter=Q(rsvps__checked_in_at__isnull=False)),
    }


def events_with_counts(campaign: Campaign) -> list[Event]:
    """Events, upcoming ones first (soonest first), then past ones (latest first), with
    RSVP counts, seats left, views and conversion."""
    events = list(Event.objects.filter(campaign=campaign).annotate(**rsvp_counts()))
    _with_views(campaign, events)
    for event in events:
        _seats(event)
        event.conversion = conversion(event.going + event.waiting, event.views)  # type: ignore[attr-defined]
    now = timezone.now()
    upcoming = sorted((e for e in events if e.ends_at >= now), key=lambda e: (e.starts_at, e.pk))
    past = sorted((e for e in events if e.ends_at < now), key=lambda e: (e.starts_at, e.pk), reverse=True)
    return upcoming + past


def _seats(event: Event) -> None:
    event.going_seats = int(event.going_seats or 0)  # type: ignore[attr-defined]
    left = None if event.capacity is None else max(0, event.capacity - event.going_seats)  # type: ignore[attr-defined]
    event.seats_left = left  # type: ignore[attr-defined]


def event_with_counts(event: Event) -> Event:
    counted = Event.objects.filter(pk=event.pk).annotate(**rsvp_counts()).get()
    _seats(counted)
    return counted


def calls_with_counts(campaign: Campaign) -> list[CallToAction]:
    calls: list[CallToAction] = list(
        CallToAction.objects.filter(campaign=campaign).annotate(
            clicks=Count("responses", filter=Q(responses__kind=Response.Kind.CLICK)),
            commitments=Count("responses", filter=Q(responses__kind=Response.Kind.COMMIT)),
        )
    )
    _with_views(campaign, calls)
    for call in calls:
        done = call.commitments if call.kind == CallToAction.Kind.SHIFT else call.clicks  # type: ignore[attr-defined]
        call.conversion = conversion(done, call.views)  # type: ignore[attr-defined]
    return calls


# --- A call to action's responses ----------------------------------------------------------------


def call_clicks_by_network(call: CallToAction) -> list[dict[str, Any]]:
    """Followed links per network shared to ("" for a donation link or a plain click)."""
    return list(
        Response.objects.filter(call=call, kind=Response.Kind.CLICK)
        .values("detail")
        .annotate(total=Count("pk"))
        .order_by("-total", "detail")
    )


def call_volunteers(call: CallToAction) -> list[Response]:
    """Who took the shift, first come first."""
    return list(
        Response.objects.filter(call=call, kind=Response.Kind.COMMIT, person__isnull=False)
        .select_related("person")
        .order_by("created_at", "pk")
    )


# --- Events' RSVPs ---------------------------------------------------------------------------


def event_rsvps(event: Event) -> dict[str, list[RSVP]]:
    """The RSVP list by status, each RSVP with its person, names in order."""
    rsvps = RSVP.objects.filter(event=event).select_related("person").order_by("person__name_key", "pk")
    grouped: dict[str, list[RSVP]] = {status: [] for status in RSVP.Status.values}
    for rsvp in rsvps:
        grouped[rsvp.status].append(rsvp)
    return grouped


def checkin_candidates(event: Event, text: str, *, limit: int = 30) -> list[RSVP]:
    """The event's RSVPs whose person matches the search (name, email, phone…), not cancelled first."""
    rsvps = RSVP.objects.filter(event=event).select_related("person")
    if text.strip():
        people = Person.objects.filter(campaign=event.campaign).search(text)
        rsvps = rsvps.filter(person__in=people)
    order = models.Case(models.When(status=RSVP.Status.CANCELLED, then=1), default=0)
    return list(rsvps.order_by(order, "person__name_key", "pk")[:limit])


@dataclass
class DoorCount:
    checked_in: int
    expected: int
    guests: int


def door_count(event: Event) -> DoorCount:
    counts = RSVP.objects.filter(event=event).aggregate(
        checked_in=Count("pk", filter=Q(checked_in_at__isnull=False)),
        expected=Count("pk", filter=Q(status=RSVP.Status.GOING)),
        guests=Sum("guests", filter=Q(status=RSVP.Status.GOING)),
    )
    return DoorCount(int(counts["checked_in"] or 0), int(counts["expected"] or 0), int(counts["guests"] or 0))


def wording_history(owner: Action | Event) -> list[ConsentWording]:
    """Every version of every consent checkbox, the newest first per channel."""
    lookup = {"action": owner} if isinstance(owner, Action) else {"event": owner}
    return list(ConsentWording.objects.filter(**lookup).order_by("channel", "-version"))


# --- Results -----------------------------------------------------------------------------------


@dataclass
class Bar:
    day: datetime.date
    count: int
    views: int
    x: float
    y: float
    height: float


@dataclass
class Chart:
    """A bar chart drawn as SVG by the template: no script, a table beside it."""

    bars: list[Bar]
    width: int
    height: int
    bar_width: float
    top: int  # the count the chart's full height stands for
    truncated: bool = False

    @property
    def total(self) -> int:
        return sum(bar.count for bar in self.bars)

    @property
    def first_day(self) -> datetime.date:
        return self.bars[0].day

    @property
    def last_day(self) -> datetime.date:
        return self.bars[-1].day


CHART_HEIGHT = 120
CHART_WIDTH = 600  # SVG units; the drawing scales to the page without distorting the labels


def _chart(
    counts: dict[datetime.date, int], views: dict[datetime.date, int], first: datetime.date, last: datetime.date
) -> Chart:
    last = max(first, last)
    truncated = (last - first).days + 1 > CHART_DAYS
    if truncated:
        first = last - datetime.timedelta(days=CHART_DAYS - 1)
    days = [first + datetime.timedelta(days=offset) for offset in range((last - first).days + 1)]
    top = max([counts.get(day, 0) for day in days] + [1])
    step = CHART_WIDTH / len(days)
    bars = []
    for index, day in enumerate(days):
        count = counts.get(day, 0)
        height = round(CHART_HEIGHT * count / top, 1)
        bars.append(
            Bar(
                day,
                count,
                views.get(day, 0),
                x=round(index * step, 2),
                y=round(CHART_HEIGHT - height, 1),
                height=height,
            )
        )
    return Chart(
        bars, width=CHART_WIDTH, height=CHART_HEIGHT, bar_width=round(step * 0.8, 2), top=top, truncated=truncated
    )


def _per_day(queryset: models.QuerySet[Any], zone: zoneinfo.ZoneInfo) -> dict[datetime.date, int]:
    rows = (
        queryset.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(total=Count("pk"))
        .order_by("day")
        .values_list("day", "total")
    )
    return {day: total for day, total in rows}


def _views_per_day(campaign: Campaign, page: str) -> dict[datetime.date, int]:
    rows = PageView.objects.filter(campaign=campaign, page=page).values_list("day", "count")
    return {day: count for day, count in rows}


@dataclass
class StationRow:
    code: str
    name: str
    count: int

    @property
    def shown(self) -> str:
        return shown_count(self.count)


@dataclass
class StationBreakdown:
    rows: list[StationRow] = field(default_factory=list)
    not_located: int = 0
    total: int = 0

    @property
    def not_located_shown(self) -> str:
        return shown_count(self.not_located)


def shown_count(count: int) -> str:
    return f"< {SMALLEST_SHOWN}" if 0 < count < SMALLEST_SHOWN else str(count)


def by_polling_station(people: models.QuerySet[Person]) -> StationBreakdown:
    """How many of these people vote at each polling station (their first located
    address), and how many could not be located. Counts only, never names."""
    station = Subquery(
        PostalAddress.objects.filter(person_id=OuterRef("pk"), polling_station__isnull=False)
        .order_by("pk")
        .values("polling_station_id")[:1]
    )
    counts = dict(
        people.order_by()
        .annotate(station_id=station)
        .values("station_id")
        .annotate(total=Count("pk"))
        .values_list("station_id", "total")
    )
    not_located = counts.pop(None, 0)
    stations = {s.pk: s for s in PollingStation.objects.filter(pk__in=list(counts))}
    rows = [
        StationRow(code=stations[pk].code, name=stations[pk].name or str(stations[pk].number), count=total)
        for pk, total in counts.items()
        if pk in stations
    ]
    rows.sort(key=lambda row: (-row.count, row.code))
    return StationBreakdown(rows=rows, not_located=not_located, total=not_located + sum(r.count for r in rows))


@dataclass
class Results:
    done: int  # submissions, or RSVPs (not cancelled)
    views: int
    conversion: float | None
    chart: Chart
    stations: StationBreakdown
    extra: dict[str, int] = field(default_factory=dict)


def action_results(action: Action) -> Results:
    campaign = action.campaign
    zone = zoneinfo.ZoneInfo(campaign.time_zone)
    submissions = Submission.objects.filter(action=action)
    per_day = _per_day(submissions, zone)
    views_per_day = _views_per_day(campaign, page_key(action))
    done, views = sum(per_day.values()), sum(views_per_day.values())
    first = min([action.created_at.astimezone(zone).date(), *per_day, *views_per_day])
    chart = _chart(per_day, views_per_day, first, timezone.localdate(timezone=zone))
    people = Person.objects.filter(pk__in=submissions.values("person_id"))
    pending = submissions.filter(status=Submission.Status.PENDING).count()
    return Results(done, views, conversion(done, views), chart, by_polling_station(people), {"pending": pending})


def event_results(event: Event) -> Results:
    campaign = event.campaign
    zone = event.zone
    answered = RSVP.objects.filter(event=event).exclude(status=RSVP.Status.CANCELLED)
    per_day = _per_day(answered, zone)
    views_per_day = _views_per_day(campaign, page_key(event))
    done, views = sum(per_day.values()), sum(views_per_day.values())
    first = min([event.created_at.astimezone(zone).date(), *per_day, *views_per_day])
    last = min(timezone.localdate(timezone=zone), event.ends_at.astimezone(zone).date())
    last = max([last, *per_day, *views_per_day])
    chart = _chart(per_day, views_per_day, first, last)
    people = Person.objects.filter(pk__in=answered.values("person_id"))
    checked_in = RSVP.objects.filter(event=event, checked_in_at__isnull=False).count()
    return Results(done, views, conversion(done, views), chart, by_polling_station(people), {"checked_in": checked_in})


# --- Exports -----------------------------------------------------------------------------------


def submissions_for_export(action: Action) -> models.QuerySet[Submission]:
    return (
        Submission.objects.filter(action=action)
        .select_related("person")
        .prefetch_related("person__emails", "person__phones")
        .order_by("created_at", "pk")
    )


def rsvps_for_export(event: Event) -> models.QuerySet[RSVP]:
    return (
        RSVP.objects.filter(event=event)
        .select_related("person")
        .prefetch_related("person__emails", "person__phones")
        .order_by("person__name_key", "pk")
    )
