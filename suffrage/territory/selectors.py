"""Figures by polling station for a campaign's communes: what maps, tables,
station pages and rankings show. Aggregates only — never a person."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from suffrage.core.models import Campaign
from suffrage.elections.models import Bloc, CandidateVotes, Election, Round, StationResult
from suffrage.elections.scoring import StationFigures
from suffrage.people.models import Person
from suffrage.territory.models import PollingStation

MEASURES = ("turnout", "abstention", "share", "change")
# Counts of the campaign's own people under this are not shown on a station page.
SMALL_COUNT = 5


def campaign_stations(campaign: Campaign) -> QuerySet[PollingStation]:
    return PollingStation.objects.filter(commune__in=campaign.communes.values("commune")).select_related("commune")


def campaign_rounds(campaign: Campaign) -> QuerySet[Round]:
    stations = campaign_stations(campaign)
    return Round.objects.filter(results__station__in=stations).distinct().select_related("election")


def family_codes(campaign: Campaign, family: str) -> set[str]:
    """A bloc's name stands for its family codes; anything else is a single code."""
    bloc = Bloc.objects.filter(campaign=campaign, name=family).first()
    return set(bloc.nuances) if bloc else {family}


def families_of(round_: Round) -> list[str]:
    """Family codes of the round; where the file gives none (presidential history
    files), the candidates' names stand in."""
    # order_by(): the model's default ordering (by votes) would join the DISTINCT.
    pairs = CandidateVotes.objects.filter(result__round=round_).order_by().values_list("nuance", "name").distinct()
    return sorted({nuance or name for nuance, name in pairs})


@dataclass(frozen=True)
class StationRow:
    code: str
    name: str
    registered: int
    voters: int
    valid: int
    family_votes: int
    dwellings: int | None

    @property
    def turnout(self) -> float | None:
        return self.voters / self.registered if self.registered else None

    @property
    def abstention(self) -> float | None:
        return 1 - self.voters / self.registered if self.registered else None

    @property
    def share(self) -> float | None:
        return self.family_votes / self.valid if self.valid else None

    def figures(self) -> StationFigures:
        return StationFigures(self.code, self.registered, self.voters, self.valid, self.family_votes, self.dwellings)


def station_rows(campaign: Campaign, round_: Round, family: str = "") -> list[StationRow]:
    """One row per polling station of the campaign with results in this round."""
    # Shapes are heavy JSON and served from the map's cache: never load them here.
    results = (
        StationResult.objects.filter(round=round_, station__in=campaign_stations(campaign))
        .select_related("station")
        .defer("station__geometry")
    )
    votes: dict[int, int] = defaultdict(int)
    if family:
        codes = family_codes(campaign, family)
        totals = (
            CandidateVotes.objects.filter(result__in=results)
            .filter(Q(nuance__in=codes) | Q(nuance="", name__in=codes))
            .values("result_id")
            .annotate(total=Sum("votes"))
        )
        votes.update({row["result_id"]: row["total"] for row in totals})
    return [
        StationRow(
            code=result.station.code,
            name=result.station.name,
            registered=result.registered,
            voters=result.voters,
            valid=result.valid,
            family_votes=votes[result.pk],
            dwellings=result.station.dwellings,
        )
        for result in results.order_by("station__code")
    ]


def station_values(
    campaign: Campaign, round_: Round, measure: str, family: str = "", compare: Round | None = None
) -> dict[str, float | None]:
    """{station code: value} for the map: a rate in 0..1, or a change in points for "change"."""
    rows = {row.code: row for row in station_rows(campaign, round_, family)}
    if measure == "change" and compare is not None:
        before = {row.code: row for row in station_rows(campaign, compare, family)}
        metric = "share" if family else "turnout"
        return {
            code: _difference(getattr(row, metric), getattr(before[code], metric)) if code in before else None
            for code, row in rows.items()
        }
    return {
        code: getattr(row, measure if measure in ("turnout", "abstention", "share") else "turnout")
        for code, row in rows.items()
    }


def _difference(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def station_history(station: PollingStation) -> list[dict[str, Any]]:
    """Every imported round for this station, with its candidates, newest first."""
    results = (
        StationResult.objects.filter(station=station)
        .select_related("round__election")
        .prefetch_related("candidates")
        .order_by("-round__election__year", "-round__number")
    )
    return [{"result": result, "candidates": list(result.candidates.all())} for result in results]


def station_people_counts(campaign: Campaign, station: PollingStation) -> dict[str, int | None]:
    """How many of the campaign's people vote here; small counts are withheld (None)."""
    people = Person.objects.filter(campaign=campaign, addresses__polling_station=station).distinct()
    counts = people.aggregate(
        total=Count("pk", distinct=True),
        members=Count("pk", distinct=True, filter=Q(is_member=True)),
        volunteers=Count("pk", distinct=True, filter=Q(is_volunteer=True)),
    )
    return {key: (value if value >= SMALL_COUNT else None) for key, value in counts.items()}


def campaign_elections(campaign: Campaign) -> QuerySet[Election]:
    """Elections with results in the campaign's polling stations (the API's list)."""
    return Election.objects.filter(rounds__results__station__in=campaign_stations(campaign)).distinct()


def campaign_results(campaign: Campaign, election: Election) -> QuerySet[StationResult]:
    """The election's results in the campaign's polling stations, each with its round,
    station and candidates (shapes deferred: they are heavy and not needed here)."""
    return (
        StationResult.objects.filter(round__election=election, station__in=campaign_stations(campaign))
        .select_related("round", "station__commune")
        .defer("station__geometry")
        .prefetch_related("candidates")
    )
