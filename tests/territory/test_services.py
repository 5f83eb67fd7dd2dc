"""Boundaries imported from GeoJSON, and people's addresses located in polling stations."""

from pathlib import Path

import pytest
from django.test import TestCase
from django.urls import reverse

from suffrage.core.models import Job
from suffrage.people.models import PostalAddress
from suffrage.territory.models import AddressPoint, CampaignCommune, PollingStation
from suffrage.territory.services import boundaries_import_start, geocode_start
from tests.factories import PersonFactory, station_in

pytestmark = pytest.mark.django_db

BREST = Path(__file__).resolve().parents[1] / "fixtures" / "territory" / "brest-bureaux-de-vote.geojson"


def _run(start, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = start(**kwargs)
    job.refresh_from_db()
    return job


def test_brests_own_boundaries_are_recognised_and_stored(campaign, manager):
    job = _run(
        boundaries_import_start,
        campaign=campaign,
        data=BREST.read_bytes(),
        filename=BREST.name,
        mapping=None,
        actor=manager,
    )
    assert job.status == Job.Status.SUCCEEDED, job.errors
    assert job.counts["created"] == PollingStation.objects.count() == 122
    station = PollingStation.objects.get(code="29019_0076")
    assert "KERINOU" in station.name.upper()
    assert station.geometry["type"] == "Polygon" and not station.approximate
    assert CampaignCommune.objects.filter(campaign=campaign, commune__code="29019").exists()
    again = _run(
        boundaries_import_start,
        campaign=campaign,
        data=BREST.read_bytes(),
        filename=BREST.name,
        mapping=None,
        actor=manager,
    )
    assert again.counts["updated"] == 122 and PollingStation.objects.count() == 122


def test_a_file_that_is_not_geojson_fails_with_its_reason(campaign, manager):
    job = _run(
        boundaries_import_start, campaign=campaign, data=b"not json", filename="x.geojson", mapping=None, actor=manager
    )
    assert job.status == Job.Status.FAILED
    assert job.errors and job.errors[-1]["message"]
    assert not PollingStation.objects.exists()


def test_addresses_are_located_by_address_point_then_boundary(campaign, manager):
    square = station_in(campaign, number="0001")  # the factory's square near (-4.485, 48.395)
    other = station_in(campaign, number="0002", geometry=None)
    AddressPoint.objects.create(
        commune_code="29019", station=other, lon=-4.40, lat=48.40, street="rue de siam", number="12"
    )
    by_street = PostalAddress.objects.create(
        person=PersonFactory(campaign=campaign), number="12", street="Rue de Siam", town="Brest", insee_code="29019"
    )
    by_point = PostalAddress.objects.create(
        person=PersonFactory(campaign=campaign), town="Brest", lon=-4.485, lat=48.395
    )
    lost = PostalAddress.objects.create(person=PersonFactory(campaign=campaign), street="Chemin inconnu", town="Brest")
    job = _run(geocode_start, campaign=campaign, actor=manager)
    assert job.status == Job.Status.SUCCEEDED, job.errors
    for address in (by_street, by_point, lost):
        address.refresh_from_db()
    assert (by_street.polling_station, by_street.geocode_method) == (other, "address_exact")
    assert (by_point.polling_station, by_point.geocode_method) == (square, "boundary")
    assert (lost.polling_station, lost.geocode_method) == (None, "unknown")
    assert job.counts == {"address_exact": 1, "boundary": 1, "unknown": 1}


def test_the_boundaries_page_starts_the_job(campaign, manager, login):
    with BREST.open("rb") as handle, TestCase.captureOnCommitCallbacks(execute=True):
        response = login(manager).post(
            reverse("territory:boundaries", args=[campaign.slug]), {"kind": "stations", "file": handle}
        )
    job = Job.objects.get(kind="boundaries_import")
    assert response["Location"] == reverse("core:job", args=[campaign.slug, job.pk])
    assert PollingStation.objects.count() == 122


def test_a_people_import_locates_the_new_addresses_afterwards(campaign, manager):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from suffrage.imports import services as imports

    square = station_in(campaign, number="0001")
    AddressPoint.objects.create(
        source_id="ban:9", commune_code="29019", lon=-4.485, lat=48.395, street="rue de siam", number="3"
    )
    batch = imports.batch_create(
        campaign=campaign,
        upload=SimpleUploadedFile("p.csv", "Prénom;Nom;N°;Voie;Ville\nAnne;Le Gall;3;rue de Siam;Brest\n".encode()),
        actor=manager,
    )
    imports.batch_configure(
        batch=batch,
        mapping=["first_names", "usage_name", "number", "street", "town"],
        options={"source": "import", "legal_basis": "consent", "match_on": "none", "on_match": "skip"},
        actor=manager,
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        imports.import_start(batch=batch, actor=manager, dry_run=False)
    assert PostalAddress.objects.get().polling_station == square
    assert Job.objects.filter(kind="geocode", status="succeeded").exists()


def test_an_address_entered_by_hand_is_located_by_a_job(campaign, manager):
    from suffrage.people.services import person_create

    square = station_in(campaign, number="0001")
    AddressPoint.objects.create(
        source_id="ban:5",
        commune_code="29019",
        station=square,
        lon=-4.485,
        lat=48.395,
        street="rue de siam",
        number="5",
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        person = person_create(
            campaign=campaign,
            actor=manager,
            source="manual",
            legal_basis="consent",
            first_names="Soazig",
            address={"number": "5", "street": "Rue de Siam", "town": "Brest", "insee_code": "29019"},
        )
    address = person.addresses.get()
    assert (address.polling_station, address.geocode_method) == (square, "address_exact")
