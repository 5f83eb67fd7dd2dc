"""Address points from the electoral-register table and the BAN, and areas
approximated from them where a commune has no boundaries."""

from pathlib import Path

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from suffrage.core.models import Job
from suffrage.imports import services
from suffrage.territory.models import AddressPoint, PollingStation
from suffrage.territory.services import approximate_areas_start

pytestmark = pytest.mark.django_db

REU = Path(__file__).resolve().parents[1] / "fixtures" / "territory" / "reu-addresses-29046-29116.csv"
BAN = (
    "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;"
    "nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;"
    "source_position;source_nom_voie;certification_commune;cad_parcelles\n"
    "29019_1234_00012;29019_1234;12;bis;Rue de Siam;29200;29019;Brest;;;146000;6840000;-4.4901;48.3895;"
    "entrée;;;BREST;RUE DE SIAM;commune;commune;1;\n"
    "29019_1234_00014;29019_1234;14;;Rue de Siam;29200;29019;Brest;;;146010;6840010;-4.4902;48.3896;"
    "entrée;;;BREST;RUE DE SIAM;commune;commune;1;\n"
)


def _import(campaign, actor, name, content):
    batch = services.batch_create(
        campaign=campaign, upload=SimpleUploadedFile(name, content), actor=actor, kind="address_points"
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.import_start(batch=batch, actor=actor, dry_run=False)
    job.refresh_from_db()
    return job


def test_register_points_bring_their_polling_stations(campaign, manager):
    job = _import(campaign, manager, REU.name, REU.read_bytes())
    assert job.status == Job.Status.SUCCEEDED, job.errors
    rows = sum(1 for _ in REU.open()) - 1
    assert job.counts["created"] + job.counts.get("skipped", 0) == rows
    assert AddressPoint.objects.count() == job.counts["created"]
    assert AddressPoint.objects.exclude(station=None).count() == AddressPoint.objects.count()
    assert PollingStation.objects.filter(code__startswith="29046_").exists()
    again = _import(campaign, manager, REU.name, REU.read_bytes())
    assert again.counts.get("created", 0) == 0


def test_ban_points_keep_street_and_number_keys(campaign, manager):
    job = _import(campaign, manager, "adresses-29.csv", BAN.encode())
    assert job.counts == {"created": 2}, job.errors
    point = AddressPoint.objects.get(source_id="ban:29019_1234_00012")
    assert (point.street, point.number, point.station) == ("rue de siam", "12bis", None)


def test_areas_are_approximated_for_communes_without_boundaries(campaign, manager):
    _import(campaign, manager, REU.name, REU.read_bytes())
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = approximate_areas_start(campaign=campaign, actor=manager)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.errors
    stations = PollingStation.objects.exclude(geometry=None)
    assert stations.exists() and all(s.approximate for s in stations)
    # Most register points fall inside the area of their own polling station.
    inside = sum(
        shapely.geometry.shape(p.station.geometry).covers(shapely.Point(p.lon, p.lat))
        for p in AddressPoint.objects.select_related("station")[:500]
    )
    assert inside >= 490


def test_an_unknown_address_file_is_explained(campaign, manager, login):
    batch = services.batch_create(
        campaign=campaign, upload=SimpleUploadedFile("x.csv", b"a,b\n1,2\n"), actor=manager, kind="address_points"
    )
    page = login(manager).get(reverse("imports:detail", args=[campaign.slug, batch.pk])).content.decode()
    assert 'class="message message-error"' in page
