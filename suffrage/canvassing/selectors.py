"""Reads for the organisers' pages: the canvass list, the dashboard (doors knocked and
conversations per polling station, turf and volunteer, against the goal), survey
results in aggregate, revisit lists, the map's GeoJSON and a phone bank's progress.

Each is a fixed number of queries whatever the size of the canvass. Counts only:
no person is named here, and survey counts under SMALLEST_SHOWN are hidden."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from suffrage.canvassing.models import REVISIT, CallTarget, Canvass, Door, Outcome, Question, Turf, Visit
from suffrage.canvassing.services import CLAIM_MINUTES, callable_people
from suffrage.core.access import permission_table
from suffrage.core.models import Campaign, Membership, User

# A survey count under this is shown as "< 3": no one is singled out by a count of one or two.
SMALLEST_SHOWN = 3


def shown_count(count: int) -> str:
    return f"< {SMALLEST_SHOWN}" if 0 < count < SMALLEST_SHOWN else str(count)


def percent(value: int, goal: int | None) -> int | None:
    return min(100, round(100 * value / goal)) if goal else None


def canvasses(campaign: Campaign) -> QuerySet[Canvass]:
    return Canvass.objects.filter(campaign=campaign)


def volunteers(campaign: Campaign) -> QuerySet[User]:
    """Members who may knock and call: whom a turf can be given to."""
    roles = permission_table()["canvassing.canvass"].roles
    members = Membership.objects.filter(campaign=campaign, role__in=roles).values("user_id")
    return User.objects.filter(pk__in=members).order_by("first_name", "last_name", "email")


def user_label(first_name: str | None, last_name: str | None, email: str | None) -> str:
    return " ".join(part for part in (first_name, last_name) if part) or email or "—"


# --- The list of canvasses ---------------------------------------------------------------------


@dataclass
class Numbers:
    doors: int = 0
    knocked: int = 0  # doors with at least one visit (or people called at least once)
    visits: int = 0  # knocks or calls
    conversations: int = 0
    targets: int = 0  # people on a phone bank's list
    targets_done: int = 0
    goal_doors: int | None = None
    goal_conversations: int | None = None

    @property
    def knocked_percent(self) -> int | None:
        return percent(self.knocked, self.goal_doors)

    @property
    def conversations_percent(self) -> int | None:
        return percent(self.conversations, self.goal_conversations)

    @property
    def coverage_percent(self) -> int | None:
        """Share of the area's doors (or of the call list) reached at least once."""
        whole = self.targets if self.targets else self.doors
        return percent(self.knocked, whole)


def numbers_by_canvass(found: list[Canvass]) -> dict[int, Numbers]:
    """The headline numbers of each canvass: three queries for any number of them."""
    ids = [canvass.pk for canvass in found]
    numbers = {
        canvass.pk: Numbers(goal_doors=canvass.goal_doors, goal_conversations=canvass.goal_conversations)
        for canvass in found
    }
    for row in Door.objects.filter(canvass_id__in=ids).order_by().values("canvass_id").annotate(n=Count("pk")):
        numbers[row["canvass_id"]].doors = row["n"]
    visits = (
        Visit.objects.filter(canvass_id__in=ids)
        .order_by()
        .values("canvass_id")
        .annotate(
            visits=Count("pk"),
            doors=Count("door", distinct=True),
            people=Count("person", distinct=True, filter=Q(door__isnull=True)),
            conversations=Count("pk", filter=Q(outcome=Outcome.OPENED)),
        )
    )
    kinds = {canvass.pk: canvass.kind for canvass in found}
    for row in visits:
        target = numbers[row["canvass_id"]]
        target.visits, target.conversations = row["visits"], row["conversations"]
        target.knocked = row["people"] if kinds[row["canvass_id"]] == Canvass.Kind.PHONE else row["doors"]
    targets = (
        CallTarget.objects.filter(canvass_id__in=ids)
        .order_by()
        .values("canvass_id")
        .annotate(n=Count("pk"), done=Count("pk", filter=Q(done=True)))
    )
    for row in targets:
        numbers[row["canvass_id"]].targets, numbers[row["canvass_id"]].targets_done = row["n"], row["done"]
    return numbers


# --- The dashboard ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a dashboard table: a polling station, a turf or a volunteer."""

    key: Any
    label: str
    doors: int = 0
    knocked: int = 0
    visits: int = 0
    conversations: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def coverage_percent(self) -> int | None:
        return percent(self.knocked, self.doors)


def _visited() -> Exists:
    return Exists(Visit.objects.filter(door_id=OuterRef("pk")))


def by_station(canvass: Canvass) -> list[Row]:
    """Doors, doors knocked and conversations per polling station (two queries)."""
    rows: dict[Any, Row] = {}
    doors = (
        Door.objects.filter(canvass=canvass)
        .order_by()
        .values("station_id", "station__code", "station__name")
        .annotate(doors=Count("pk"), knocked=Count("pk", filter=Q(_visited())))
    )
    for row in doors:
        label = " ".join(part for part in (row["station__code"], row["station__name"]) if part)
        rows[row["station_id"]] = Row(row["station_id"], label or "—", doors=row["doors"], knocked=row["knocked"])
    talks = (
        Visit.objects.filter(canvass=canvass, door__isnull=False)
        .order_by()
        .values("door__station_id")
        .annotate(visits=Count("pk"), conversations=Count("pk", filter=Q(outcome=Outcome.OPENED)))
    )
    for row in talks:
        line = rows.setdefault(row["door__station_id"], Row(row["door__station_id"], "—"))
        line.visits, line.conversations = row["visits"], row["conversations"]
    return sorted(rows.values(), key=lambda line: (line.key is None, line.label))


def by_turf(canvass: Canvass) -> list[Row]:
    """Each turf with its volunteer and expiry, doors knocked and conversations (three queries)."""
    turfs = list(Turf.objects.filter(canvass=canvass).select_related("assigned_to", "station"))
    now = timezone.now()
    rows = {
        turf.pk: Row(
            turf.pk,
            turf.name,
            doors=turf.doors_count,
            extra={"turf": turf, "expired": bool(turf.expires_at and turf.expires_at <= now)},
        )
        for turf in turfs
    }
    doors = (
        Door.objects.filter(canvass=canvass, turf__isnull=False)
        .order_by()
        .values("turf_id")
        .annotate(doors=Count("pk"), knocked=Count("pk", filter=Q(_visited())))
    )
    for row in doors:
        if row["turf_id"] in rows:
            rows[row["turf_id"]].doors, rows[row["turf_id"]].knocked = row["doors"], row["knocked"]
    talks = (
        Visit.objects.filter(canvass=canvass, door__turf__isnull=False)
        .order_by()
        .values("door__turf_id")
        .annotate(visits=Count("pk"), conversations=Count("pk", filter=Q(outcome=Outcome.OPENED)))
    )
    for row in talks:
        if row["door__turf_id"] in rows:
            line = rows[row["door__turf_id"]]
            line.visits, line.conversations = row["visits"], row["conversations"]
    return list(rows.values())


def by_volunteer(canvass: Canvass) -> list[Row]:
    """Doors knocked (or people called), visits and conversations per volunteer (one query)."""
    found = (
        Visit.objects.filter(canvass=canvass)
        .order_by()
        .values("volunteer_id", "volunteer__first_name", "volunteer__last_name", "volunteer__email")
        .annotate(
            visits=Count("pk"),
            doors=Count("door", distinct=True),
            people=Count("person", distinct=True, filter=Q(door__isnull=True)),
            conversations=Count("pk", filter=Q(outcome=Outcome.OPENED)),
        )
    )
    rows = []
    for row in found:
        label = user_label(row["volunteer__first_name"], row["volunteer__last_name"], row["volunteer__email"])
        knocked = row["people"] if canvass.kind == Canvass.Kind.PHONE else row["doors"]
        rows.append(
            Row(row["volunteer_id"], label, knocked=knocked, visits=row["visits"], conversations=row["conversations"])
        )
    return sorted(rows, key=lambda line: (-line.visits, line.label))


def totals(canvass: Canvass) -> Numbers:
    return numbers_by_canvass([canvass])[canvass.pk]


def outcomes(canvass: Canvass) -> list[tuple[str, int]]:
    """(outcome label, how many visits or calls) in the order of the outcomes (one query)."""
    counts = dict(
        Visit.objects.filter(canvass=canvass)
        .order_by()
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    return [(str(label), counts[value]) for value, label in Outcome.choices if counts.get(value)]


# --- Survey results ----------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: Question
    answered: int
    rows: list[tuple[str, str]]  # (choice, count as shown)

    @property
    def answered_shown(self) -> str:
        return shown_count(self.answered)


def survey_results(canvass: Canvass) -> list[QuestionResult]:
    """Counts per choice for each question, from the conversations' answers (two queries).
    Free-text answers are counted, never listed: they may name people."""
    questions = list(canvass.questions.all())
    tallies: dict[str, Counter[str]] = defaultdict(Counter)
    answered: Counter[str] = Counter()
    answers = Visit.objects.filter(canvass=canvass, outcome=Outcome.OPENED).values_list("answers", flat=True)
    for given in answers.iterator(chunk_size=2000):
        if not isinstance(given, dict):
            continue
        for key, value in given.items():
            answered[key] += 1
            for item in value if isinstance(value, list) else [value]:
                tallies[key][str(item)] += 1
    results = []
    for question in questions:
        key = str(question.pk)
        if question.kind == Question.Kind.TEXT:
            choices: list[str] = []
        elif question.kind == Question.Kind.SCALE:
            choices = [str(value) for value in range(1, 6)]
        else:
            choices = list(question.choices)
        rows = [(choice, shown_count(tallies[key][choice])) for choice in choices]
        results.append(QuestionResult(question, answered[key], rows))
    return results


# --- Revisits, walk lists and the map -------------------------------------------------------------------


def _last_outcome() -> Subquery:
    return Subquery(Visit.objects.filter(door_id=OuterRef("pk")).order_by("-recorded_at", "-pk").values("outcome")[:1])


def walk_list(turf: Turf) -> QuerySet[Door]:
    """The turf's doors in walking order, each with its last outcome (one query)."""
    return Door.objects.filter(turf=turf).annotate(last_outcome=_last_outcome()).order_by("position", "pk")


def revisit_doors(canvass: Canvass) -> list[tuple[Turf | None, list[Door]]]:
    """Doors whose last outcome calls for a second pass (not home, come back later),
    grouped by turf in walking order (one query)."""
    doors = (
        Door.objects.filter(canvass=canvass)
        .annotate(last_outcome=_last_outcome())
        .filter(last_outcome__in=REVISIT)
        .select_related("turf", "turf__assigned_to")
        .order_by("turf__name", "turf_id", "position", "pk")
    )
    groups: dict[int | None, tuple[Turf | None, list[Door]]] = {}
    for door in doors:
        groups.setdefault(door.turf_id, (door.turf, []))[1].append(door)
    return list(groups.values())


def outcome_labels() -> dict[str, str]:
    return {value: str(label) for value, label in Outcome.choices}


def map_features(canvass: Canvass) -> dict[str, Any]:
    """GeoJSON for the turfs map: each located door as a point with its last outcome
    ("" when not knocked yet), and each turf's outline (the convex hull of its doors).
    Addresses only, never a name (two queries)."""
    doors = list(
        Door.objects.filter(canvass=canvass, lon__isnull=False, lat__isnull=False)
        .annotate(last_outcome=_last_outcome())
        .order_by("turf_id", "position", "pk")
        .values("pk", "lon", "lat", "turf_id", "street", "number", "building", "stairwell", "last_outcome")
    )
    turf_names = dict(Turf.objects.filter(canvass=canvass).values_list("pk", "name"))
    features: list[dict[str, Any]] = []
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for door in doors:
        address = " ".join(part for part in (door["number"], door["street"]) if part)
        extra = ", ".join(part for part in (door["building"], door["stairwell"]) if part)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [door["lon"], door["lat"]]},
                "properties": {
                    "kind": "door",
                    "turf": door["turf_id"],
                    "label": f"{address} ({extra})" if extra else address,
                    "outcome": door["last_outcome"] or "",
                },
            }
        )
        if door["turf_id"] is not None:
            points[door["turf_id"]].append((door["lon"], door["lat"]))
    for turf_id, coordinates in points.items():
        # About 15 m around one or two doors, so a turf always has an outline to click.
        hull = shapely.MultiPoint(coordinates).convex_hull.buffer(0.00015)
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(hull),
                "properties": {"kind": "turf", "turf": turf_id, "label": turf_names.get(turf_id, "")},
            }
        )
    return {"type": "FeatureCollection", "features": features}


# --- Phone banks -----------------------------------------------------------------------------------------


def phone_progress(canvass: Canvass) -> dict[str, int]:
    """Where a phone bank stands (one query): on the list, done, left to call now,
    to call again later, call-backs scheduled (and due), being called now, no longer callable."""
    now = timezone.now()
    stale = now - datetime.timedelta(minutes=CLAIM_MINUTES)
    last = Subquery(
        Visit.objects.filter(canvass_id=canvass.pk, person_id=OuterRef("person_id"))
        .order_by("-recorded_at", "-pk")
        .values("outcome")[:1]
    )
    callable_now = Q(person__in=callable_people().filter(campaign_id=canvass.campaign_id).values("pk"))
    open_ = Q(done=False)
    counts = (
        CallTarget.objects.filter(canvass=canvass)
        .annotate(last_outcome=last)
        .aggregate(
            n_total=Count("pk"),
            n_done=Count("pk", filter=Q(done=True)),
            n_due=Count("pk", filter=open_ & callable_now & (Q(next_call_at__isnull=True) | Q(next_call_at__lte=now))),
            n_later=Count("pk", filter=open_ & callable_now & Q(next_call_at__gt=now)),
            n_callbacks=Count("pk", filter=open_ & callable_now & Q(last_outcome=Outcome.CALL_BACK)),
            n_callbacks_due=Count(
                "pk", filter=open_ & callable_now & Q(last_outcome=Outcome.CALL_BACK, next_call_at__lte=now)
            ),
            n_in_call=Count("pk", filter=open_ & Q(claimed_by__isnull=False, claimed_at__gte=stale)),
            n_not_callable=Count("pk", filter=open_ & ~callable_now),
        )
    )
    # Aggregates are named apart from the fields ("done" is both otherwise).
    return {key.removeprefix("n_"): int(value or 0) for key, value in counts.items()}
