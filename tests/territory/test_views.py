"""Map data, polling-station table and page, priority ranking: figures by area only."""

import csv
import io

import pytest
from django.urls import reverse

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.elections.models import PriorityRanking
from suffrage.elections.services import bloc_save
from suffrage.people.models import PostalAddress
from tests.factories import PersonFactory, RoundFactory, result_in, station_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def results(campaign):
    round_ = RoundFactory()
    swing = station_in(campaign, number="0001")
    stronghold = station_in(campaign, number="0002")
    result_in(swing, round_, registered=1000, voters=800, votes=(("UG", 390), ("RN", 390)))
    result_in(stronghold, round_, registered=1000, voters=400, votes=(("UG", 300), ("RN", 80)))
    return round_, swing, stronghold


def test_map_data_is_geojson_with_the_measure(campaign, results, member, login):
    round_, swing, stronghold = results
    analyst = member(Role.ANALYST)
    url = reverse("territory:map_data", args=[campaign.slug])
    data = login(analyst).get(url, {"round": round_.pk, "measure": "share", "family": "UG"}).json()
    values = {f["properties"]["code"]: f["properties"]["value"] for f in data["features"]}
    assert values == {swing.code: 0.5, stronghold.code: pytest.approx(300 / 380)}
    assert data["features"][0]["geometry"]["type"] == "Polygon"


def test_turnout_is_the_default_measure_and_blocs_sum_their_families(campaign, results, owner, login):
    round_, swing, _ = results
    client = login(owner)
    url = reverse("territory:map_data", args=[campaign.slug])
    values = {
        f["properties"]["code"]: f["properties"]["value"]
        for f in client.get(url, {"round": round_.pk}).json()["features"]
    }
    assert values[swing.code] == 0.8
    bloc_save(campaign=campaign, name="Tous", nuances=["ug", "RN"], colour="#000000", actor=owner)
    data = client.get(url, {"round": round_.pk, "measure": "share", "family": "Tous"}).json()
    assert {f["properties"]["value"] for f in data["features"]} == {1.0}


def test_change_between_two_elections(campaign, results, owner, login):
    round_, swing, _ = results
    earlier = RoundFactory(election__year=2022, election__name="Législatives 2022")
    result_in(swing, earlier, registered=1000, voters=700, votes=(("UG", 350), ("RN", 350)))
    url = reverse("territory:map_data", args=[campaign.slug])
    data = login(owner).get(url, {"round": round_.pk, "measure": "change", "compare": earlier.pk}).json()
    values = {f["properties"]["code"]: f["properties"]["value"] for f in data["features"]}
    assert values[swing.code] == pytest.approx(0.1)  # turnout 70 % → 80 %


def test_another_campaigns_stations_never_show(campaign, other_campaign, results, owner, login):
    foreign = station_in(other_campaign, number="0099", commune__code="29039", commune__name="Quimper")
    result_in(foreign, results[0])
    data = login(owner).get(reverse("territory:map_data", args=[campaign.slug]), {"round": results[0].pk}).json()
    assert foreign.code not in {f["properties"]["code"] for f in data["features"]}


def test_the_table_sorts_and_exports_with_an_audit_row(campaign, results, owner, login):
    round_, swing, stronghold = results
    client = login(owner)
    url = reverse("territory:stations", args=[campaign.slug])
    page = client.get(url, {"round": round_.pk, "sort": "-turnout"}).content.decode()
    assert page.index(swing.code) < page.index(stronghold.code)
    response = client.get(url, {"round": round_.pk, "family": "UG", "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 3 and rows[1][0] == swing.code
    assert AuditLog.objects.filter(action="territory.export_stations").exists()


def test_the_station_page_withholds_small_counts_of_people(campaign, results, owner, login):
    _, swing, _ = results
    for _index in range(3):
        PostalAddress.objects.create(person=PersonFactory(campaign=campaign), polling_station=swing, town="Brest")
    page = login(owner).get(reverse("territory:station", args=[campaign.slug, swing.code])).content.decode()
    assert "UG" in page and "390" in page
    assert 'class="withheld"' in page
    for _index in range(3):
        PostalAddress.objects.create(person=PersonFactory(campaign=campaign), polling_station=swing, town="Brest")
    page = login(owner).get(reverse("territory:station", args=[campaign.slug, swing.code])).content.decode()
    assert 'class="withheld"' not in page and "6 " in page


def test_a_ranking_shows_the_formula_and_is_saved(campaign, results, owner, login):
    round_, swing, stronghold = results
    client = login(owner)
    url = reverse("territory:ranking", args=[campaign.slug])
    params = {
        "round": round_.pk,
        "family": "UG",
        "mobilisation_weight": "1",
        "persuasion_weight": "0",
        "per_dwelling": "on",
    }
    page = client.get(url, params).content.decode()
    assert "(I − V)" in page
    assert page.index(stronghold.code) < page.index(swing.code)  # many abstainers leaning our way
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.post(f"{url}?{query}", {**params, "name": "Porte-à-porte automne"})
    saved = PriorityRanking.objects.get()
    assert response["Location"] == reverse("territory:ranking_detail", args=[campaign.slug, saved.pk])
    assert saved.scores[0]["station"] == stronghold.code
    assert AuditLog.objects.filter(action="ranking.save").exists()


def test_the_map_page_says_when_there_is_nothing_to_show(campaign, owner, login):
    page = login(owner).get(reverse("territory:map", args=[campaign.slug])).content.decode()
    assert 'id="station-map"' not in page


def test_a_manager_defines_and_removes_a_bloc(campaign, manager, login):
    from suffrage.elections.models import Bloc

    client = login(manager)
    client.post(
        reverse("territory:blocs", args=[campaign.slug]),
        {"name": "Gauche", "nuances": "ug, fi ,SOC", "colour": "#c0392b"},
    )
    bloc = Bloc.objects.get(campaign=campaign)
    assert bloc.nuances == ["FI", "SOC", "UG"]
    client.post(reverse("territory:bloc_delete", args=[campaign.slug, bloc.pk]))
    assert not Bloc.objects.exists()
    assert AuditLog.objects.filter(action="bloc.remove").exists()


def test_candidates_without_a_family_code_can_be_chosen_by_name(campaign, owner, login):
    round_ = RoundFactory(election__kind="presidential", election__year=2017, election__name="Présidentielle 2017")
    station = station_in(campaign, number="0007")
    result_in(station, round_, registered=100, voters=80, votes=(("", 50), ("", 30)))
    from suffrage.territory.selectors import families_of

    assert families_of(round_) == ["Candidat 1", "Candidat 2"]
    url = reverse("territory:map_data", args=[campaign.slug])
    data = login(owner).get(url, {"round": round_.pk, "measure": "share", "family": "Candidat 2"}).json()
    assert data["features"][0]["properties"]["value"] == 30 / 80
