"""The one compiler from a filter document to a query on Person. The builder's count,
the people list, exports, mailings and the API all call `segment_people`, so a count
and a send can never disagree.

Relations are tested with EXISTS subqueries, never joins: no duplicates, no DISTINCT,
and each condition stays independent of the others. Two exceptions let the database
start from a small set rather than test every person: engagement conditions at the top
of a filter (`_engaged_in`), and roll stations on SQLite (`_roll_station`).
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import shapely
from django.db import connection
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone

from suffrage.canvassing.models import Visit
from suffrage.core.models import Campaign
from suffrage.engagement.models import RSVP, Action, Event, Submission
from suffrage.messaging.models import Delivery, Mailing
from suffrage.people.models import CustomField, Person, PostalAddress, Tag, reachable
from suffrage.roll.models import MatchModel, RollLink
from suffrage.segments.language import AGE_BANDS, FLAGS, Context, FilterError, validate
from suffrage.segments.models import Segment, SnapshotMember

LINKED = [RollLink.Status.LINKED, RollLink.Status.ACCEPTED]
EARTH_RADIUS_M = 6_371_000


def context_for(campaign: Campaign, *, can_sensitive: bool = False, purpose: str = "view") -> Context:
    return Context(
        campaign_id=campaign.pk,
        can_sensitive=can_sensitive,
        purpose=purpose,
        custom_fields=dict(CustomField.objects.filter(campaign=campaign).values_list("key", "kind")),
        sensitive_fields=set(
            CustomField.objects.filter(campaign=campaign, sensitive=True).values_list("key", flat=True)
        ),
        segments=set(Segment.objects.filter(campaign=campaign).values_list("pk", flat=True)),
        mailings=set(Mailing.objects.filter(campaign=campaign).values_list("pk", flat=True)),
        forms=set(Action.objects.filter(campaign=campaign).values_list("pk", flat=True)),
        events=set(Event.objects.filter(campaign=campaign).values_list("pk", flat=True)),
    )


def segment_people(campaign: Campaign, document: Any, context: Context | None = None) -> QuerySet[Person]:
    """The campaign's people a filter document selects. Raises FilterError."""
    context = context or context_for(campaign)
    node = validate(document, context)
    return Person.objects.filter(campaign=campaign).filter(_compile(node, context, stack=(), top=True))


def segment_members(segment: Segment, context: Context | None = None) -> QuerySet[Person]:
    """A saved segment's people: a static list's frozen members, a dynamic segment's filter now."""
    if segment.kind == Segment.Kind.STATIC:
        return Person.objects.filter(campaign_id=segment.campaign_id).filter(
            _exists(SnapshotMember, snapshot_id=segment.snapshot_id)
        )
    return segment_people(segment.campaign, segment.document, context)


# Explicit truth values: Django drops an empty Q() from "a | Q()", which would make
# "tagged OR everyone" mean "tagged".
EVERYONE = Q(pk__isnull=False)
NOBODY = Q(pk__in=[])


def _compile(node: dict[str, Any], context: Context, stack: tuple[int, ...], top: bool = False) -> Q:
    """`top`: the node is ANDed with the campaign filter, not under an OR or a NOT, so the
    database may start from it (see `_engaged_in`)."""
    if "all" in node:
        return _combine([_compile(child, context, stack, top) for child in node["all"]], "all")
    if "any" in node:
        children = node["any"]
        if top and len(children) > 1 and all(child.get("field") in ENGAGEMENT for child in children):
            return _engaged_in([ENGAGEMENT[child["field"]](child, context) for child in children])
        return _combine([_compile(child, context, stack) for child in children], "any")
    if "not" in node:
        inner = node["not"]
        if top and "any" in inner:
            # None of them: each a NOT EXISTS of its own, which the database runs as an
            # anti-join; a NOT over their OR stays a test per person (S10, bench/README.md).
            return _combine([_compile({"not": child}, context, stack, top) for child in inner["any"]], "all")
        return ~_compile(inner, context, stack)
    if top and node["field"] in ENGAGEMENT:
        return _engaged_in([ENGAGEMENT[node["field"]](node, context)])
    condition: Q = CONDITIONS[node["field"]](node, context, stack)
    return condition


def _combine(parts: list[Q], key: str) -> Q:
    if not parts:
        return EVERYONE if key == "all" else NOBODY
    q = parts[0]
    for part in parts[1:]:
        q = q & part if key == "all" else q | part
    return q


def _exists(model: Any, *where: Q, **filters: Any) -> Q:
    """People with a related row, as a correlated EXISTS. Not `id IN (subquery)`: under
    OR and NOT, PostgreSQL hashes an IN only while it fits in work_mem, and rescans it
    for every person beyond (a minute for 800,000 addresses); an EXISTS is at worst one
    index lookup per person."""
    return _having(model.objects.filter(*where, **filters))


def _having(rows: QuerySet[Any]) -> Q:
    """People with one of these rows (a table with a person_id), as the EXISTS above."""
    return Q(Exists(rows.filter(person_id=OuterRef("pk"))))


def _tag(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    """The tags' ids are looked up first: the EXISTS then reads one index, without a join
    to the tags per person (with the merged age bands, S2 on PostgreSQL at 1M people:
    714 → 538 ms; bench/README.md)."""
    tags = Tag.objects.filter(campaign_id=context.campaign_id, name__in=condition["value"])
    ids = list(tags.values_list("pk", flat=True))
    return _exists(Person.tags.through, tag_id__in=ids) if ids else NOBODY


def _commune(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    codes = condition["value"]
    return _exists(PostalAddress, Q(insee_code__in=codes) | Q(polling_station__commune__code__in=codes))


def _constituency(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    return _exists(PostalAddress, polling_station__constituency__in=condition["value"])


def _polling_station(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    return _exists(PostalAddress, polling_station__code__in=condition["value"])


def _located(context: Context, bounds: tuple[float, float, float, float]) -> list[tuple[int, float, float]]:
    west, south, east, north = bounds
    rows = PostalAddress.objects.filter(
        person__campaign_id=context.campaign_id, lon__range=(west, east), lat__range=(south, north)
    ).values_list("person_id", "lon", "lat")
    return [(pid, lon, lat) for pid, lon, lat in rows if lon is not None and lat is not None]


def _area(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    """People with an address inside the polygon: the bounding box in SQL, the shape in shapely."""
    polygon = shapely.geometry.shape(condition["value"])
    if not polygon.is_valid:
        polygon = polygon.buffer(0)
    candidates = _located(context, polygon.bounds)
    if not candidates:
        return NOBODY
    points = shapely.points([(lon, lat) for _id, lon, lat in candidates])
    inside = shapely.contains_xy(polygon, shapely.get_x(points), shapely.get_y(points))
    return Q(pk__in=sorted({pid for (pid, _lon, _lat), keep in zip(candidates, inside, strict=True) if keep}))


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _near(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    lon, lat, metres = (float(condition["value"][key]) for key in ("lon", "lat", "metres"))
    dlat = math.degrees(metres / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    candidates = _located(context, (lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    return Q(pk__in=sorted({pid for pid, x, y in candidates if distance_m(lon, lat, x, y) <= metres}))


def _reachable(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    """Somewhere to reach them on the channel, and the right to (consent or a lawful basis)."""
    return reachable(condition["value"])


def _consent(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    channel, state = condition["value"]["channel"], condition["value"]["state"]
    if state == "unknown":
        return Q(**{f"consent_{channel}__isnull": True})
    return Q(**{f"consent_{channel}": state == "granted"})


def _in(column: str) -> Any:
    def condition_q(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
        return Q(**{f"{column}__in": condition["value"]})

    return condition_q


def _day_start(day: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time.min))


def _collected(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    """Plain comparisons on the timestamp (from midnight, to the next midnight): a
    `__date` lookup would call a function on every row, and no index could help."""
    q = EVERYONE
    if start := condition["value"].get("from"):
        q &= Q(collected_at__gte=_day_start(start))
    if end := condition["value"].get("to"):
        q &= Q(collected_at__lt=_day_start(end) + datetime.timedelta(days=1))
    return q


def _roll_status(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    """Here: linked to a roll entry of one of the campaign's communes; elsewhere: linked
    to another; not found: matched and nothing linked or waiting; not checked: the
    campaign has never matched its people to a roll."""
    campaign_communes = Campaign.objects.get(pk=context.campaign_id).communes.values("commune")
    campaign = context.campaign_id
    here = _exists(RollLink, campaign_id=campaign, status__in=LINKED, entry__station__commune__in=campaign_communes)
    linked = _exists(RollLink, campaign_id=campaign, status__in=LINKED)
    proposed = _exists(RollLink, campaign_id=campaign, status__in=[*LINKED, RollLink.Status.REVIEW])
    matched = MatchModel.objects.filter(campaign_id=context.campaign_id).exclude(index_path="").exists()
    statuses = {
        "registered_here": here,
        "elsewhere": linked & ~here,
        "not_found": ~proposed if matched else NOBODY,
        "not_checked": NOBODY if matched else ~linked,
    }
    q = statuses[condition["value"][0]]
    for status in condition["value"][1:]:
        q |= statuses[status]
    return q


def _roll_station(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    links = RollLink.objects.filter(
        campaign_id=context.campaign_id, status__in=LINKED, entry__station_code__in=condition["value"]
    )
    if connection.vendor == "sqlite":
        # A few stations' links are a short list: SQLite builds it once as an index and
        # starts from it (3.6× faster at 1M people, bench/README.md); PostgreSQL keeps
        # the EXISTS (see `_exists`).
        return Q(pk__in=links.values("person_id"))
    return _having(links)


def _age_band(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    """By year of birth (age reached this year), from the stated birth date or, for
    people who gave none, the roll entry they are linked to."""
    year = context.today.year
    q = NOBODY
    for low, high in _age_ranges(condition["value"]):
        # A range of dates rather than `__year`, which would be a function call per row.
        stated = Q(birth_date__gte=datetime.date(year - high, 1, 1), birth_date__lte=datetime.date(year - low, 12, 31))
        from_roll = Q(birth_date__isnull=True) & _exists(
            RollLink,
            campaign_id=context.campaign_id,
            status__in=LINKED,
            entry__birth_year__gte=year - high,
            entry__birth_year__lte=year - low,
        )
        q |= stated | from_roll
    return q


def _age_ranges(bands: list[str]) -> list[tuple[int, int]]:
    """Adjacent bands as one range of ages (18–24 and 25–34: 18–34), so one roll lookup
    per range rather than per band."""
    ranges: list[tuple[int, int]] = []
    for low, high in sorted(AGE_BANDS[band] for band in bands):
        if ranges and low <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(high, ranges[-1][1]))
        else:
            ranges.append((low, high))
    return ranges


def _custom(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    key, op, value = condition["key"], condition["op"], condition.get("value") or {}
    path = f"custom__{key}"
    if op == "is_set":
        return Q(**{f"{path}__isnull": False}) & ~Q(**{path: ""}) & ~Q(**{path: []})
    # The key must be there: in SQL a missing key compares as NULL, and NOT NULL is
    # not true, so "not equal to centre" would drop people without a quartier.
    present = Q(**{f"{path}__isnull": False})
    if op == "equals" and isinstance(value, str) and connection.vendor == "sqlite":
        # Text against text: one JSON call per row where Django's JSON equality makes
        # three on SQLite (1.5× the hand SQL at 1M people, bench/README.md). A JSON null
        # reads as a NUL character, which no value typed in a form holds: it equals
        # nothing, and its negation stays true (NULL would make it unknown).
        text = Coalesce(
            Func(F("custom"), Value(f'$."{key}"'), function="JSON_EXTRACT", output_field=TextField()),
            Value("\x00"),
            output_field=TextField(),
        )
        return present & Q(Exact(text, value))
    if op == "equals":
        return present & Q(**{path: value})
    if op == "contains":
        kind = context.custom_fields[key]
        # Several choices are stored as a JSON list: look for the quoted choice in it.
        needle = f'"{value}"' if kind == CustomField.Kind.MULTIPLE else value
        return present & Q(**{f"{path}__icontains": needle})
    q = present
    if value.get("min") is not None:
        q &= Q(**{f"{path}__gte": value["min"]})
    if value.get("max") is not None:
        q &= Q(**{f"{path}__lte": value["max"]})
    return q


def _flag(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    return Q(**{FLAGS[condition["value"]]: True})


MAILING_ENGAGEMENT = {
    "received": Q(status=Delivery.Status.SENT),
    "opened": Q(opened_at__isnull=False),
    "clicked": Q(clicked_at__isnull=False),
}
EVENT_ENGAGEMENT = {
    "rsvp": Q(status=RSVP.Status.GOING),
    "waitlist": Q(status=RSVP.Status.WAITLIST),
    "attended": Q(checked_in_at__isnull=False),
}


# Engagement: the people who did something with one mailing, form, event or at the
# door, as a query on the table that records it (its rows' person_id).
def _mailing_rows(condition: dict[str, Any], context: Context) -> QuerySet[Any]:
    return Delivery.objects.filter(MAILING_ENGAGEMENT[condition["op"]], mailing_id=condition["value"])


def _form_rows(condition: dict[str, Any], context: Context) -> QuerySet[Any]:
    """Confirmed submissions only: an unconfirmed double opt-in is not yet a signature."""
    return Submission.objects.filter(status=Submission.Status.CONFIRMED, action_id=condition["value"])


def _event_rows(condition: dict[str, Any], context: Context) -> QuerySet[Any]:
    return RSVP.objects.filter(EVENT_ENGAGEMENT[condition["op"]], event_id=condition["value"])


def _visit_rows(condition: dict[str, Any], context: Context) -> QuerySet[Any]:
    return Visit.objects.filter(campaign_id=context.campaign_id, outcome__in=condition["value"])


ENGAGEMENT = {"mailing": _mailing_rows, "form": _form_rows, "event": _event_rows, "visit": _visit_rows}


def _engaged(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    return _having(ENGAGEMENT[condition["field"]](condition, context))


def _engaged_in(rows: list[QuerySet[Any]]) -> Q:
    """People in one engagement set or any of several, as `id IN (… UNION …)`. Only at
    the top of a filter, where both databases start from the set (one mailing's, form's
    or event's people, small next to the base) instead of testing every person: S9 at 1M
    people, 614 → 217 ms on PostgreSQL, 425 → 73 ms on SQLite (bench/README.md). UNION,
    not UNION ALL: PostgreSQL then counts on as many people as rows, not its default of
    200, and no longer picks 150,000 index lookups (S8: 1,084 → 407 ms). Under an OR or a
    NOT the EXISTS stays (see `_exists`)."""
    ids = [queryset.order_by().values("person_id") for queryset in rows]
    return Q(pk__in=ids[0].union(*ids[1:]) if len(ids) > 1 else ids[0])


def _segment(condition: dict[str, Any], context: Context, stack: tuple[int, ...]) -> Q:
    segment = Segment.objects.get(pk=condition["value"], campaign_id=context.campaign_id)
    if segment.pk in stack:
        raise FilterError(_cycle_message(segment))
    if segment.kind == Segment.Kind.STATIC:
        return _exists(SnapshotMember, snapshot_id=segment.snapshot_id)
    node = validate(segment.document, context)
    return _compile(node, context, (*stack, segment.pk))


def _cycle_message(segment: Segment) -> str:
    from django.utils.translation import gettext as _

    return _("The segment “%(name)s” includes itself, directly or through another segment.") % {"name": segment.name}


CONDITIONS = {
    "tag": _tag,
    "commune": _commune,
    "constituency": _constituency,
    "polling_station": _polling_station,
    "area": _area,
    "near": _near,
    "reachable": _reachable,
    "consent": _consent,
    "legal_basis": _in("legal_basis"),
    "source": _in("source"),
    "collected": _collected,
    "roll_status": _roll_status,
    "roll_station": _roll_station,
    "age_band": _age_band,
    "custom": _custom,
    "flag": _flag,
    "support_level": _in("support_level"),
    "segment": _segment,
    "mailing": _engaged,
    "form": _engaged,
    "event": _engaged,
    "visit": _engaged,
}


def check_cycles(segment_id: int | None, document: Any, context: Context) -> None:
    """Compile once to find a segment that would include itself (raises FilterError)."""
    node = validate(document, context)
    _compile(node, context, (segment_id,) if segment_id else ())
