"""REST territory: the polling stations of the campaign's communes (their boundary only
when asked), the elections with results there and the results by station and round;
a station or an election outside the campaign's communes is a 404."""

from __future__ import annotations

from typing import get_args

import pytest

from suffrage.api.rest.territory import ElectionKind
from suffrage.elections.models import Election
from tests.factories import SQUARE, CommuneFactory, ElectionFactory, RoundFactory, result_in, station_in

pytestmark = pytest.mark.django_db


def _quimper():
    return CommuneFactory(code="29232", name="Quimper")


def test_the_choices_in_the_schema_are_the_models():
    assert set(get_args(ElectionKind)) == set(Election.Kind.values)


def test_the_campaigns_stations_are_listed_without_their_shapes_unless_asked(campaign, other_campaign, api):
    second, first = station_in(campaign, number="0002", name="École Jean Jaurès"), station_in(campaign, number="0001")
    station_in(other_campaign, commune=_quimper())

    body = api.get("/api/v1/territory/stations").json()

    assert [row["code"] for row in body["results"]] == [first.code, second.code] == ["29019_0001", "29019_0002"]
    row = body["results"][1]
    assert row["commune"] == {"code": "29019", "name": "Brest"} and row["name"] == "École Jean Jaurès"
    assert row["number"] == "0002" and row["geometry"] is None
    shaped = api.get("/api/v1/territory/stations", {"geometry": "1"}).json()
    assert shaped["results"][0]["geometry"] == SQUARE
    assert api.get("/api/v1/territory/stations", {"commune": "29232"}).json()["count"] == 0
    assert [r["code"] for r in api.get("/api/v1/territory/stations", {"sort": "-code"}).json()["results"]] == [
        second.code,
        first.code,
    ]


def test_a_station_is_found_by_code_in_the_campaigns_communes_only(campaign, other_campaign, api):
    mine = station_in(campaign)
    elsewhere = station_in(other_campaign, commune=_quimper())
    body = api.get(f"/api/v1/territory/stations/{mine.code}").json()
    assert body["code"] == mine.code and body["geometry"] == SQUARE
    assert api.get(f"/api/v1/territory/stations/{elsewhere.code}").status_code == 404


def test_elections_with_results_in_the_campaigns_stations_are_listed(campaign, other_campaign, api):
    station = station_in(campaign)
    legislative = ElectionFactory()
    first, second = RoundFactory(election=legislative, number=1), RoundFactory(election=legislative, number=2)
    result_in(station, second)
    result_in(station, first)
    municipal = ElectionFactory(kind="municipal", year=2020, name="Municipales 2020")
    result_in(station, RoundFactory(election=municipal))
    elsewhere = ElectionFactory(kind="european", year=2019, name="Européennes 2019")
    result_in(station_in(other_campaign, commune=_quimper()), RoundFactory(election=elsewhere))

    body = api.get("/api/v1/territory/elections").json()

    assert [row["id"] for row in body["results"]] == [legislative.pk, municipal.pk]
    assert body["results"][0] == {
        "id": legislative.pk,
        "kind": "legislative",
        "year": 2024,
        "name": "Législatives 2024",
        "rounds": [{"number": 1, "date": None}, {"number": 2, "date": None}],
    }
    assert [row["id"] for row in api.get("/api/v1/territory/elections", {"kind": "municipal"}).json()["results"]] == [
        municipal.pk
    ]
    assert api.get("/api/v1/territory/elections", {"year": 2019}).json()["count"] == 0


def test_results_are_given_by_station_and_round(campaign, other_campaign, api):
    here, there = station_in(campaign, number="0001"), station_in(campaign, number="0002")
    first, second = RoundFactory(number=1), RoundFactory(number=2)
    result_in(here, first, registered=1000, voters=600)
    result_in(there, first, registered=800, voters=400, votes=(("RN", 250), ("UG", 130)))
    result_in(here, second, registered=1000, voters=650, votes=(("UG", 400), ("RN", 230)))
    result_in(station_in(other_campaign, commune=_quimper()), first)
    path = f"/api/v1/territory/elections/{first.election_id}/results"

    body = api.get(path).json()

    assert body["count"] == 3
    assert [(row["station"], row["round"]) for row in body["results"]] == [
        (here.code, 1),
        (here.code, 2),
        (there.code, 1),
    ]
    row = body["results"][2]
    assert (row["registered"], row["voters"], row["abstentions"], row["blank"], row["null"], row["valid"]) == (
        800,
        400,
        400,
        10,
        10,
        380,
    )
    assert row["commune"] == "29019" and row["station_name"] == there.name
    assert [(c["nuance"], c["votes"]) for c in row["candidates"]] == [("RN", 250), ("UG", 130)]
    assert api.get(path, {"round": 2}).json()["count"] == 1
    assert api.get(path, {"station": there.code}).json()["count"] == 1
    assert api.get(path, {"commune": "29232"}).json()["count"] == 0
    ordered = api.get(path, {"sort": "-registered"}).json()["results"]
    assert [row["registered"] for row in ordered] == [1000, 1000, 800]


def test_an_election_without_results_in_the_campaigns_communes_is_a_404(campaign, other_campaign, api):
    station_in(campaign)
    elsewhere = ElectionFactory(kind="european", year=2019, name="Européennes 2019")
    result_in(station_in(other_campaign, commune=_quimper()), RoundFactory(election=elsewhere))
    response = api.get(f"/api/v1/territory/elections/{elsewhere.pk}/results")
    assert response.status_code == 404
    assert api.get("/api/v1/territory/elections/999999/results").status_code == 404


def test_reading_territory_needs_the_analytics_scope(campaign, api_for):
    station_in(campaign)
    assert api_for(campaign, scopes=["people:read"]).get("/api/v1/territory/stations").status_code == 403
    assert api_for(campaign, scopes=["analytics:read"]).get("/api/v1/territory/elections").status_code == 200


def test_a_nul_character_is_a_422_not_a_database_error(campaign, api):
    station = station_in(campaign)
    assert api.get("/api/v1/territory/stations", {"commune": "29\x00"}).status_code == 422
    assert api.get(f"/api/v1/territory/stations/{station.code}%00").status_code == 422
    election = ElectionFactory()
    result_in(station, RoundFactory(election=election))
    response = api.get(f"/api/v1/territory/elections/{election.pk}/results", {"station": "\x00"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.station"
