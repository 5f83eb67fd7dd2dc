"""REST endpoints: the campaign's polling stations and the official results of past
elections there. Read only, with `analytics:read`.

Stations and results are shared public data; a campaign sees those of its communes
(the territory settings), so a station or an election elsewhere is a 404."""

# No `from __future__ import annotations`: see events.py (Ninja and `@paginate`).

import datetime
from typing import Any, Literal

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router, Schema
from ninja.pagination import paginate

from suffrage.api.rest.common import NO_NUL, Page, campaign_of, get_or_404, ordered, responses, scoped
from suffrage.api.scopes import Scope
from suffrage.elections.models import Election, Round, StationResult
from suffrage.territory.models import PollingStation
from suffrage.territory.selectors import campaign_elections, campaign_results, campaign_stations

router = Router(tags=["territory"])

READ = scoped(Scope.ANALYTICS_READ)

ElectionKind = Literal["municipal", "legislative", "presidential", "european", "departmental", "regional", "other"]

STATION_SORTS = {"code": "code", "name": "name", "number": "number"}
ELECTION_SORTS = {"year": "year", "name": "name"}
RESULT_SORTS = {"station": "station__code", "round": "round__number", "registered": "registered"}


class CommuneOut(Schema):
    code: str = Field(description="INSEE code.")
    name: str


class StationOut(Schema):
    code: str = Field(description="INSEE commune code, “_” and the station's number: the national key.")
    number: str
    name: str = Field(description="The polling place.")
    commune: CommuneOut
    constituency: str
    dwellings: int | None
    approximate: bool = Field(description="The boundary was computed from address points, not an official one.")
    geometry: dict[str, Any] | None = Field(
        description="GeoJSON geometry (longitude, latitude); null unless asked with ?geometry=1 or without a boundary."
    )

    @staticmethod
    def resolve_geometry(obj: PollingStation) -> dict[str, Any] | None:
        if "geometry" in obj.get_deferred_fields() or not isinstance(obj.geometry, dict):
            return None
        return obj.geometry


class StationFilters(Schema):
    commune: str | None = Field(None, max_length=40, pattern=NO_NUL, description="An INSEE commune code.")
    geometry: bool = Field(False, description="Include each station's boundary (heavy).")
    sort: str | None = Field(None, description="code, name or number; a leading “-” sorts descending.")


class RoundOut(Schema):
    number: int
    date: datetime.date | None


class ElectionOut(Schema):
    id: int
    kind: ElectionKind
    year: int
    name: str
    rounds: list[RoundOut] = Field(description="The rounds with results in the campaign's stations.")

    @staticmethod
    def resolve_rounds(obj: Election) -> list[Round]:
        return list(getattr(obj, "campaign_rounds", []))


class ElectionFilters(Schema):
    year: int | None = Field(None, ge=1800, le=2200)
    kind: ElectionKind | None = None
    sort: str | None = Field(None, description="year or name; a leading “-” sorts descending.")


class CandidateVotesOut(Schema):
    panel: str = Field(description="The candidate's or list's number on the official file.")
    nuance: str = Field(description="The Ministry's political family code (“UG”, “RN”…).")
    name: str
    first_name: str
    votes: int
    elected: bool | None


class StationResultOut(Schema):
    station: str = Field(description="Polling station code.")
    station_name: str
    commune: str = Field(description="INSEE commune code.")
    round: int
    registered: int
    voters: int
    abstentions: int | None
    blank: int | None
    null: int | None
    valid: int = Field(description="Valid votes (cast for a candidate or list).")
    candidates: list[CandidateVotesOut] = Field(description="Votes per candidate or list, the most first.")

    @staticmethod
    def resolve_station(obj: StationResult) -> str:
        return obj.station.code

    @staticmethod
    def resolve_station_name(obj: StationResult) -> str:
        return obj.station.name

    @staticmethod
    def resolve_commune(obj: StationResult) -> str:
        return obj.station.commune.code

    @staticmethod
    def resolve_round(obj: StationResult) -> int:
        return obj.round.number

    @staticmethod
    def resolve_candidates(obj: StationResult) -> list[Any]:
        return list(obj.candidates.all())


class ResultFilters(Schema):
    round: int | None = Field(None, ge=1, le=10, description="A round number (all rounds without it).")
    station: str | None = Field(None, max_length=100, pattern=NO_NUL, description="A polling station code.")
    commune: str | None = Field(None, max_length=40, pattern=NO_NUL, description="An INSEE commune code.")
    sort: str | None = Field(
        None, description="station, round or registered; a leading “-” sorts descending (default: station)."
    )


@router.get("/stations", auth=READ, response=responses(list[StationOut]), url_name="api-stations")
@paginate(Page)
def station_list(request: HttpRequest, filters: Query[StationFilters]) -> QuerySet[PollingStation]:
    """The polling stations of the campaign's communes (by code unless sorted)."""
    stations = campaign_stations(campaign_of(request))
    if not filters.geometry:
        stations = stations.defer("geometry")
    if filters.commune:
        stations = stations.filter(commune__code=filters.commune)
    return ordered(stations, filters.sort or "code", STATION_SORTS)


@router.get("/stations/{station_code}", auth=READ, response=responses(StationOut), url_name="api-station")
def station_detail(
    request: HttpRequest, station_code: PathEx[str, P(max_length=100, pattern=NO_NUL)]
) -> PollingStation:
    """One polling station, with its boundary."""
    return get_or_404(campaign_stations(campaign_of(request)), code=station_code)


@router.get("/elections", auth=READ, response=responses(list[ElectionOut]), url_name="api-elections")
@paginate(Page)
def election_list(request: HttpRequest, filters: Query[ElectionFilters]) -> QuerySet[Election]:
    """Past elections with official results in the campaign's polling stations, and their rounds."""
    campaign = campaign_of(request)
    rounds = Round.objects.filter(results__station__in=campaign_stations(campaign)).distinct().order_by("number")
    elections = campaign_elections(campaign).prefetch_related(
        Prefetch("rounds", queryset=rounds, to_attr="campaign_rounds")
    )
    if filters.year is not None:
        elections = elections.filter(year=filters.year)
    if filters.kind:
        elections = elections.filter(kind=filters.kind)
    return ordered(elections, filters.sort, ELECTION_SORTS)


@router.get(
    "/elections/{election_id}/results",
    auth=READ,
    response=responses(list[StationResultOut]),
    url_name="api-election-results",
)
@paginate(Page)
def election_results(request: HttpRequest, election_id: int, filters: Query[ResultFilters]) -> QuerySet[StationResult]:
    """The election's results in each of the campaign's polling stations, round by round:
    registered, voters, blank and null ballots, and the votes of each candidate or list
    (by station code, then round, unless sorted)."""
    campaign = campaign_of(request)
    election = get_or_404(campaign_elections(campaign), pk=election_id)
    results = campaign_results(campaign, election)
    if filters.round is not None:
        results = results.filter(round__number=filters.round)
    if filters.station:
        results = results.filter(station__code=filters.station)
    if filters.commune:
        results = results.filter(station__commune__code=filters.commune)
    return ordered(results, filters.sort or "station", RESULT_SORTS)
