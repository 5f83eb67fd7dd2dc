"""REST endpoints: canvasses (door-to-door and phone banks), their figures and their
visits. Read only, with `canvassing:read` (audited call by call: a visit may name the
person met).

A visit gives the door, its turf and polling station, the outcome, the person met or
called when they gave their details, and the survey answers (by question id, see the
canvass's questions). Never the volunteer's note, nor a support level: that is kept
on the person as sensitive data and never leaves through the API."""

# No `from __future__ import annotations`: see events.py (Ninja and `@paginate`).

import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from suffrage.api.rest.common import NO_NUL, Page, campaign_of, get_or_404, ordered, responses, scoped, utc
from suffrage.api.scopes import Scope
from suffrage.canvassing.models import Canvass, Question, Visit
from suffrage.canvassing.selectors import canvasses, totals

router = Router(tags=["canvassing"])

READ = scoped(Scope.CANVASSING_READ)

CanvassKind = Literal["doors", "phone"]
CanvassStatus = Literal["draft", "active", "finished"]
VisitOutcome = Literal[
    "not_home",
    "opened",
    "refused",
    "come_back",
    "leaflet",
    "no_access",
    "no_answer",
    "wrong_number",
    "call_back",
    "do_not_contact",
]

CANVASS_SORTS = {"created_at": "created_at", "name": "name", "starts_on": "starts_on"}
VISIT_SORTS = {"recorded_at": "recorded_at", "synced_at": "synced_at"}


class CanvassOut(Schema):
    id: int
    kind: CanvassKind = Field(description="doors (door-to-door) or phone (phone bank).")
    status: CanvassStatus
    name: str
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    goal_doors: int | None = Field(description="Goal: doors knocked (or people called).")
    goal_conversations: int | None
    created_at: datetime.datetime


class QuestionOut(Schema):
    id: int
    position: int
    kind: Literal["single", "multiple", "scale", "text"]
    text: str
    choices: list[str]

    @staticmethod
    def resolve_choices(obj: Question) -> list[str]:
        return [str(choice) for choice in obj.choices] if isinstance(obj.choices, list) else []


class CanvassFiguresOut(Schema):
    doors: int = Field(description="Doors in the canvass's area.")
    knocked: int = Field(description="Doors with at least one visit (a phone bank: people called at least once).")
    visits: int = Field(description="Knocks or calls.")
    conversations: int
    targets: int = Field(description="Phone banks: people on the call list.")
    targets_done: int
    coverage_percent: int | None = Field(description="Share of the doors (or of the call list) reached.")


class CanvassDetailOut(CanvassOut):
    script: str = Field(description="What to say (Markdown).")
    questions: list[QuestionOut] = Field(description="The survey; visits' answers are keyed by question id.")
    figures: CanvassFiguresOut

    @staticmethod
    def resolve_questions(obj: Canvass) -> list[Question]:
        return list(obj.questions.all())

    @staticmethod
    def resolve_figures(obj: Canvass) -> dict[str, Any]:
        numbers = totals(obj)
        return {
            "doors": numbers.doors,
            "knocked": numbers.knocked,
            "visits": numbers.visits,
            "conversations": numbers.conversations,
            "targets": numbers.targets,
            "targets_done": numbers.targets_done,
            "coverage_percent": numbers.coverage_percent,
        }


class DoorOut(Schema):
    id: int
    street: str
    number: str
    building: str
    stairwell: str


class TurfRefOut(Schema):
    id: int
    name: str


class VisitOut(Schema):
    id: int
    canvass_id: int
    door: DoorOut | None = Field(description="null for a phone call.")
    turf: TurfRefOut | None
    station: str | None = Field(description="The door's polling station code, when known.")
    outcome: VisitOutcome
    person_id: int | None = Field(description="The person met or called, when they gave their details.")
    answers: dict[str, Any] = Field(description="Survey answers by question id (conversations only).")
    callback_at: datetime.datetime | None
    recorded_at: datetime.datetime = Field(description="When the volunteer recorded it (perhaps offline).")
    synced_at: datetime.datetime = Field(description="When it reached the server.")

    @staticmethod
    def resolve_station(obj: Visit) -> str | None:
        station = obj.door.station if obj.door is not None else None
        return station.code if station is not None else None

    @staticmethod
    def resolve_answers(obj: Visit) -> dict[str, Any]:
        return {str(key): value for key, value in obj.answers.items()} if isinstance(obj.answers, dict) else {}


class CanvassFilters(Schema):
    kind: CanvassKind | None = None
    status: CanvassStatus | None = None
    sort: str | None = Field(None, description="created_at, name or starts_on; a leading “-” sorts descending.")


class VisitFilters(Schema):
    outcome: VisitOutcome | None = None
    station: str | None = Field(None, max_length=100, pattern=NO_NUL, description="A polling station code.")
    since: datetime.datetime | None = Field(None, description="Recorded at or after this time (ISO 8601).")
    synced_since: datetime.datetime | None = Field(
        None, description="Reached the server at or after this time: for fetching only what is new."
    )
    sort: str | None = Field(None, description="recorded_at or synced_at; a leading “-” sorts descending.")


def _canvass(request: HttpRequest, canvass_id: int) -> Canvass:
    return get_or_404(canvasses(campaign_of(request)), pk=canvass_id)


def _visits(canvass: Canvass) -> QuerySet[Visit]:
    return Visit.objects.filter(canvass=canvass).select_related("door__station", "turf")


@router.get("", auth=READ, response=responses(list[CanvassOut]), url_name="api-canvasses")
@paginate(Page)
def canvass_list(request: HttpRequest, filters: Query[CanvassFilters]) -> QuerySet[Canvass]:
    """The campaign's canvasses."""
    found = canvasses(campaign_of(request))
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.status:
        found = found.filter(status=filters.status)
    return ordered(found, filters.sort, CANVASS_SORTS)


@router.get("/{canvass_id}", auth=READ, response=responses(CanvassDetailOut), url_name="api-canvass")
def canvass_detail(request: HttpRequest, canvass_id: int) -> Canvass:
    """One canvass: its script, survey questions and headline figures (as its dashboard)."""
    return _canvass(request, canvass_id)


@router.get("/{canvass_id}/visits", auth=READ, response=responses(list[VisitOut]), url_name="api-canvass-visits")
@paginate(Page)
def visit_list(request: HttpRequest, canvass_id: int, filters: Query[VisitFilters]) -> QuerySet[Visit]:
    """The canvass's visits and calls."""
    visits = _visits(_canvass(request, canvass_id))
    if filters.outcome:
        visits = visits.filter(outcome=filters.outcome)
    if filters.station:
        visits = visits.filter(door__station__code=filters.station)
    if filters.since:
        visits = visits.filter(recorded_at__gte=utc(filters.since, "query.since"))
    if filters.synced_since:
        visits = visits.filter(synced_at__gte=utc(filters.synced_since, "query.synced_since"))
    return ordered(visits, filters.sort, VISIT_SORTS)


@router.get("/{canvass_id}/visits/{visit_id}", auth=READ, response=responses(VisitOut), url_name="api-canvass-visit")
def visit_detail(request: HttpRequest, canvass_id: int, visit_id: int) -> Visit:
    return get_or_404(_visits(_canvass(request, canvass_id)), pk=visit_id)
