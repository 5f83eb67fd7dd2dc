"""A canvass's area becomes doors and turfs (a job), and turfs go to volunteers one at a
time. Address points are real: the electoral-register table of Douarnenez and
Landerneau (tests/fixtures/territory), plus a few street-and-number points of Brest."""

import csv
import datetime
from collections import Counter
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.utils import timezone

from suffrage.canvassing.area import doors_for_area, floor_label, stations_from_ranking, street_label
from suffrage.canvassing.models import Door, Turf
from suffrage.canvassing.planning import canvass_plan, canvass_plan_start, turf_assign, turfs_held
from suffrage.core.models import AuditLog, Job
from suffrage.core.roles import Role
from suffrage.territory.geometry import normalise_station_code
from suffrage.territory.models import AddressPoint, CampaignCommune, Commune, PollingStation
from tests.factories import (
    CanvassFactory,
    PersonFactory,
    PostalAddressFactory,
    PriorityRankingFactory,
    SegmentFactory,
    TagFactory,
    TurfFactory,
    UserFactory,
    VisitFactory,
    station_in,
)

pytestmark = pytest.mark.django_db

REU = Path(__file__).resolve().parents[1] / "fixtures" / "territory" / "reu-addresses-29046-29116.csv"
DOUARNENEZ_1, DOUARNENEZ_6, LANDERNEAU_1 = "29046_0001", "29046_0006", "29116_0001"
# A square in the centre of Brest (the factories' polling-station shape).
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-4.49, 48.39], [-4.48, 48.39], [-4.48, 48.40], [-4.49, 48.40], [-4.49, 48.39]]],
}


def load_register(campaign, codes=(DOUARNENEZ_1, DOUARNENEZ_6, LANDERNEAU_1)):
    """The register's address points of these stations, as the importer stores them."""
    points = {}
    with REU.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = normalise_station_code(row["id_brut_bv_reu"])
            if code in codes:
                lon, lat = float(row["longitude"]), float(row["latitude"])
                points.setdefault(f"reu:{code}:{lon:.6f}:{lat:.6f}", (code, row, lon, lat))
    stations = {}
    for code in codes:
        commune, _ = Commune.objects.get_or_create(code=code[:5], defaults={"name": code[:5], "departement": "29"})
        CampaignCommune.objects.get_or_create(campaign=campaign, commune=commune)
        stations[code] = PollingStation.objects.create(code=code, commune=commune, number=code[-4:])
    AddressPoint.objects.bulk_create(
        AddressPoint(
            source_id=source_id,
            commune_code=code[:5],
            station=stations[code],
            lon=lon,
            lat=lat,
            dwellings=int(row["nb_adresses"] or 1),
        )
        for source_id, (code, row, lon, lat) in points.items()
    )
    return Counter(code for code, *_ in points.values())


def street_points(station, street="rue de siam", numbers=range(1, 11), lon=-4.485, lat=48.395):
    """Address points with a street and number (BAN-like), along a street of the station."""
    return AddressPoint.objects.bulk_create(
        AddressPoint(
            source_id=f"ban:{station.code}:{street}:{number}",
            commune_code=station.commune.code,
            station=station,
            street=street,
            number=str(number),
            dwellings=number,
            lon=lon + number * 0.00005,
            lat=lat,
        )
        for number in numbers
    )


def address(person, station=None, **fields):
    return PostalAddressFactory(person=person, polling_station=station, street="Rue de Siam", **fields)


def plan(canvass, actor=None):
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = canvass_plan_start(canvass=canvass, actor=actor)
    job.refresh_from_db()
    return job


# --- The area ------------------------------------------------------------------------


def test_an_area_of_stations_has_one_door_per_register_address_point(campaign, manager):
    counts = load_register(campaign)
    canvass = CanvassFactory(campaign=campaign, area={"stations": [DOUARNENEZ_1, LANDERNEAU_1]}, turf_size=40)
    job = plan(canvass, manager)
    assert job.status == Job.Status.SUCCEEDED, job.errors
    doors = counts[DOUARNENEZ_1] + counts[LANDERNEAU_1]
    assert job.report == {"doors": doors, "turfs": Turf.objects.filter(canvass=canvass).count()}
    assert (job.done, job.total, job.counts["doors"]) == (doors, doors, doors)
    assert Door.objects.filter(canvass=canvass).count() == doors
    points = AddressPoint.objects.filter(station__code__in=[DOUARNENEZ_1, LANDERNEAU_1])
    assert sum(Door.objects.filter(canvass=canvass).values_list("dwellings", flat=True)) == sum(
        points.values_list("dwellings", flat=True)
    )
    for turf in Turf.objects.filter(canvass=canvass).select_related("station"):
        turf_doors = list(turf.doors.all())
        assert turf.doors_count == len(turf_doors)
        assert [door.position for door in turf_doors] == list(range(len(turf_doors)))
        assert {door.station_id for door in turf_doors} == {turf.station_id}
        assert turf.station.code in (DOUARNENEZ_1, LANDERNEAU_1)
        assert 20 <= turf.doors_count <= 60 or turf.station.code == LANDERNEAU_1
    assert AuditLog.objects.filter(action="canvassing.turfs_cut", object_id=str(canvass.pk)).exists()


def test_people_s_buildings_and_stairwells_make_doors_listing_floors_never_names(campaign):
    station = station_in(campaign)
    street_points(station)
    people = [
        PersonFactory(campaign=campaign, first_names=f"Gwenaëlle{i}", usage_name=f"Le Bihan{i}") for i in range(6)
    ]
    address(people[0], station, number="2", floor="3e")
    address(people[1], station, number="2", floor="rez-de-chaussée")
    address(people[2], station, number="4", building="Bât A", stairwell="Esc. B", floor="2ème étage")
    address(people[3], station, number="4", building="bât a", stairwell="esc. B", floor="5")
    address(people[4], station, number="4", building="Bât A", stairwell="Esc. C", floor="chez Le Bihan4")
    address(people[5], station, number="40", floor="1")  # no address point there: no door of its own
    other = PersonFactory(first_names="Yann", usage_name="Kerouac")  # another campaign's person, same station
    address(other, station, number="6", floor="7")

    doors = {(d.number, d.building, d.stairwell): d for d in doors_for_area(campaign, {"stations": [station.code]})}

    assert len(doors) == 10 + 2
    assert doors[("2", "", "")].floors == "RDC, 3"
    assert doors[("2", "", "")].dwellings == 2
    assert doors[("4", "Bât A", "Esc. B")].floors == "2, 5"
    assert doors[("4", "Bât A", "Esc. C")].floors == ""  # free text is never shown
    assert doors[("6", "", "")].floors == ""
    assert {door.street for door in doors.values()} == {"Rue de Siam"}
    shown = " ".join(f"{d.street} {d.number} {d.building} {d.stairwell} {d.floors}" for d in doors.values())
    for person in [*people, other]:
        assert person.usage_name not in shown and person.first_names not in shown


def test_a_drawn_area_takes_the_points_and_located_addresses_inside(campaign):
    station = station_in(campaign)
    street_points(station, numbers=[1, 3])  # inside the square
    street_points(station, street="rue de brest", numbers=[5], lon=-4.50)  # outside
    inside = PersonFactory(campaign=campaign)
    address(inside, station, number="9", lon=-4.4851, lat=48.3951, building="Résidence Ker Avel", floor="4")
    address(inside, station, number="3", lon=-4.4849, lat=48.395, floor="1")
    address(PersonFactory(campaign=campaign), station, number="11", lon=-4.47, lat=48.395)  # outside
    address(PersonFactory(), station, number="13", lon=-4.4851, lat=48.3951)  # another campaign

    doors = doors_for_area(campaign, {"polygon": SQUARE})

    shown = sorted((d.number, d.building, d.floors, d.dwellings) for d in doors)
    assert shown == [("1", "", "", 1), ("3", "", "1", 3), ("9", "Résidence Ker Avel", "4", 1)]


def test_a_segment_area_is_the_distinct_addresses_of_its_people(campaign, other_campaign):
    station = station_in(campaign)
    street_points(station, numbers=[2])
    tag = TagFactory(campaign=campaign, name="Visite demandée")
    segment = SegmentFactory(
        campaign=campaign, document={"version": 1, "filter": {"field": "tag", "op": "any_of", "value": [tag.name]}}
    )
    asked = [PersonFactory(campaign=campaign) for _ in range(3)]
    for person in asked:
        person.tags.add(tag)
    address(asked[0], station, number="2", floor="1")
    address(asked[1], station, number="2", floor="4")  # same door
    address(asked[2], station, number="15", building="Les Glycines", lon=-4.48, lat=48.39)
    address(PersonFactory(campaign=campaign), station, number="21")  # did not ask

    doors = sorted(doors_for_area(campaign, {"segment": segment.pk}), key=lambda d: d.number)

    assert [(d.number, d.building, d.floors, d.dwellings) for d in doors] == [
        ("15", "Les Glycines", "", 1),
        ("2", "", "1, 4", 2),  # the address point's door: its dwellings and position
    ]
    with pytest.raises(ValidationError) as error:
        doors_for_area(campaign, {"segment": SegmentFactory(campaign=other_campaign).pk})
    assert "segment" in error.value.message_dict


@pytest.mark.parametrize(
    ("area", "field"),
    [
        ({}, "area"),
        ({"stations": [], "polygon": SQUARE}, "area"),
        ({"stations": []}, "stations"),
        ({"stations": ["29019_9999"]}, "stations"),
        ({"polygon": {"type": "Point", "coordinates": [-4.48, 48.39]}}, "polygon"),
        ({"polygon": {"type": "Polygon", "coordinates": [[[1, 2]]]}}, "polygon"),
        ({"polygon": {"type": "Polygon", "coordinates": [[[1e5, 2], [100001, 2], [100001, 3], [1e5, 2]]]}}, "polygon"),
        ({"segment": "x"}, "segment"),
    ],
)
def test_a_bad_area_is_refused_naming_the_field(campaign, area, field):
    station_in(campaign)
    with pytest.raises(ValidationError) as error:
        doors_for_area(campaign, area)
    assert field in error.value.message_dict


def test_a_station_of_another_campaign_or_its_ranking_is_refused(campaign, other_campaign):
    theirs = station_in(other_campaign, commune=Commune.objects.create(code="29232", name="Quimper"))
    ours = station_in(campaign)
    with pytest.raises(ValidationError) as error:
        doors_for_area(campaign, {"stations": [theirs.code]})
    assert "29232" in str(error.value.message_dict["stations"])
    ranking = PriorityRankingFactory(campaign=other_campaign)
    with pytest.raises(ValidationError) as error:
        doors_for_area(campaign, {"stations": [ours.code], "ranking": ranking.pk})
    assert "ranking" in error.value.message_dict


def test_the_top_of_a_ranking_gives_its_stations():
    ranking = PriorityRankingFactory(
        scores=[{"station": "29019_0003", "score": 9.0}, {"station": "29019_0001", "score": 4.0}, {"station": "x"}]
    )
    assert stations_from_ranking(ranking, 2) == ["29019_0003", "29019_0001"]
    assert stations_from_ranking(ranking, 0) == []


def test_street_keys_and_floors_read_well():
    assert street_label("rue de l europe") == "Rue de l'Europe"
    assert street_label("allee d estienne d orves") == "Allee d'Estienne d'Orves"
    assert street_label("place de la liberte") == "Place de la Liberte"
    assert [floor_label(text) for text in ("3e", "3ème étage", "RDC", "sous-sol", "mezzanine Dupont", "")] == [
        (3, "3"),
        (3, "3"),
        (0, "RDC"),
        (-1, "-1"),
        None,
        None,
    ]


# --- Cutting ---------------------------------------------------------------------------


def test_cutting_again_replaces_the_doors_and_is_refused_once_doors_were_knocked(campaign, manager):
    load_register(campaign, codes=(DOUARNENEZ_6,))
    canvass = CanvassFactory(campaign=campaign, area={"stations": [DOUARNENEZ_6]}, turf_size=50)
    first = canvass_plan(canvass=canvass, actor=manager)
    turf = Turf.objects.filter(canvass=canvass).first()
    turf_assign(turf=turf, volunteer=manager, actor=manager)
    canvass.turf_size = 25
    second = canvass_plan(canvass=canvass, actor=manager)
    assert second["doors"] == first["doors"] == Door.objects.filter(canvass=canvass).count()
    assert second["turfs"] > first["turfs"] == 5
    assert Turf.objects.filter(canvass=canvass).count() == second["turfs"]
    assert not Turf.objects.filter(pk=turf.pk).exists()

    VisitFactory(door=Door.objects.filter(canvass=canvass).first())
    with pytest.raises(ValidationError, match="already knocked"):
        canvass_plan_start(canvass=canvass, actor=manager)
    with pytest.raises(ValidationError, match="already knocked"):
        canvass_plan(canvass=canvass, actor=manager)
    assert Door.objects.filter(canvass=canvass).count() == second["doors"]


def test_other_canvasses_keep_their_doors(campaign, manager):
    load_register(campaign, codes=(LANDERNEAU_1,))
    ours = CanvassFactory(campaign=campaign, area={"stations": [LANDERNEAU_1]})
    other = CanvassFactory(campaign=campaign, area={"stations": [LANDERNEAU_1]})
    canvass_plan(canvass=other, actor=manager)
    canvass_plan(canvass=ours, actor=manager)
    canvass_plan(canvass=ours, actor=manager)
    assert Door.objects.filter(canvass=other).count() == Door.objects.filter(canvass=ours).count() == 55


def test_a_phone_bank_or_a_canvass_without_area_is_not_cut(campaign, manager):
    with pytest.raises(ValidationError, match="phone bank"):
        canvass_plan_start(canvass=CanvassFactory(campaign=campaign, kind="phone", area={"segment": 1}), actor=manager)
    with pytest.raises(ValidationError, match="area"):
        canvass_plan_start(canvass=CanvassFactory(campaign=campaign, area={}), actor=manager)
    with pytest.raises(ValidationError) as error:
        canvass_plan_start(canvass=CanvassFactory(campaign=campaign, area={"stations": ["nowhere"]}), actor=manager)
    assert "stations" in error.value.message_dict
    assert not Job.objects.exists()


def test_a_failing_cut_ends_the_job_visibly(campaign, manager):
    station = station_in(campaign)
    canvass = CanvassFactory(campaign=campaign, area={"stations": [station.code]})
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        job = canvass_plan_start(canvass=canvass, actor=manager)
    PollingStation.objects.filter(pk=station.pk).delete()  # the area no longer holds
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "polling station" in job.errors[0]["message"]


# --- Assignments -------------------------------------------------------------------


def test_a_held_turf_is_not_given_to_another_until_released_or_expired(campaign, member, manager):
    anne, bruno = member(Role.VOLUNTEER), member(Role.ORGANISER)
    anne.first_name, anne.last_name = "Anne", "Le Gall"
    anne.save()
    turf = TurfFactory(canvass=CanvassFactory(campaign=campaign))

    held = turf_assign(turf=turf, volunteer=anne, actor=manager)
    assert held.assigned_to == anne and held.held_by(anne)
    week = held.expires_at - timezone.now()
    assert datetime.timedelta(days=6, hours=23) < week <= datetime.timedelta(days=7)
    assert list(turfs_held(campaign=campaign, user=anne)) == [turf]

    with pytest.raises(ValidationError, match="Anne Le Gall holds this turf"):
        turf_assign(turf=turf, volunteer=bruno, actor=manager)
    turf_assign(turf=turf, volunteer=anne, actor=manager)  # renewed, still hers

    turf_assign(turf=turf, volunteer=None, actor=manager)
    assert list(turfs_held(campaign=campaign, user=anne)) == []
    turf_assign(turf=turf, volunteer=bruno, actor=manager, expires_at=timezone.now() + datetime.timedelta(hours=1))
    Turf.objects.filter(pk=turf.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert list(turfs_held(campaign=campaign, user=bruno)) == []
    assert turf_assign(turf=turf, volunteer=anne, actor=manager).assigned_to == anne  # expired: free again

    actions = list(AuditLog.objects.filter(object_id=str(turf.pk)).values_list("action", flat=True))
    assert Counter(actions) == {"canvassing.turf_assign": 4, "canvassing.turf_release": 1}


@pytest.mark.parametrize("who", ["analyst", "outsider", "stranger"])
def test_only_members_who_canvass_can_hold_a_turf(campaign, member, outsider, manager, who):
    person = {"analyst": lambda: member(Role.ANALYST), "outsider": lambda: outsider, "stranger": UserFactory}[who]()
    turf = TurfFactory(canvass=CanvassFactory(campaign=campaign))
    with pytest.raises(ValidationError, match="cannot canvass"):
        turf_assign(turf=turf, volunteer=person, actor=manager)
    turf.refresh_from_db()
    assert turf.assigned_to is None
    assert list(turfs_held(campaign=campaign, user=person)) == []


def test_an_assignment_must_end_in_the_future(campaign, volunteer, manager):
    turf = TurfFactory(canvass=CanvassFactory(campaign=campaign))
    with pytest.raises(ValidationError) as error:
        turf_assign(turf=turf, volunteer=volunteer, actor=manager, expires_at=timezone.now())
    assert "expires_at" in error.value.message_dict


def test_a_station_without_address_points_takes_its_doors_from_peoples_addresses(campaign):
    from suffrage.canvassing.area import doors_for_area
    from tests.factories import PersonFactory, PostalAddressFactory, station_in

    station = station_in(campaign)
    for number in ("3", "5"):
        PostalAddressFactory(
            person=PersonFactory(campaign=campaign), number=number, street="Rue de Siam", polling_station=station
        )
    doors = doors_for_area(campaign, {"stations": [station.code]})
    assert sorted(door.number for door in doors) == ["3", "5"]
    assert all(door.station == station.code for door in doors)
