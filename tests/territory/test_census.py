"""Census by IRIS: year recognised from the prefix, whole-commune areas shared
between polling stations by dwellings, shown on the station page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from suffrage.imports import services
from suffrage.territory.census import CensusFormatError, census_year
from suffrage.territory.models import AddressPoint, CensusArea, CensusShare
from tests.factories import station_in

pytestmark = pytest.mark.django_db

# Figures invented for the test, in INSEE's layout (one whole-commune IRIS, one split commune).
CENSUS = (
    "IRIS;COM;TYP_IRIS;LAB_IRIS;P20_POP;P20_POP0014;P20_POP15P;P20_POP15P_CS6\n"
    "290190000;29019;Z;Brest (commune non irisée);1000;150;850;120,5\n"
    "290750101;29075;H;Guipavas Centre;2000;300;1700;200\n"
)


def test_the_year_comes_from_the_indicator_prefix():
    assert census_year(["IRIS", "COM", "P21_POP", "C21_POP15P"]) == 2021
    with pytest.raises(CensusFormatError):
        census_year(["IRIS", "COM", "P20_POP", "P21_POP"])
    with pytest.raises(CensusFormatError):
        census_year(["A", "B"])


def test_a_whole_commune_area_is_shared_by_dwellings_and_shown(campaign, manager, login):
    first = station_in(campaign, number="0001")
    second = station_in(campaign, number="0002")
    for index, (station, dwellings) in enumerate(((first, 3), (second, 1))):
        AddressPoint.objects.create(
            source_id=f"t:{index}", commune_code="29019", station=station, lon=0, lat=0, dwellings=dwellings
        )
    batch = services.batch_create(
        campaign=campaign, upload=SimpleUploadedFile("iris.csv", CENSUS.encode()), actor=manager, kind="census"
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.import_start(batch=batch, actor=manager, dry_run=False)
    job.refresh_from_db()
    assert job.counts == {"created": 2}, job.errors
    area = CensusArea.objects.get(code="290190000")
    assert (area.year, area.indicators["P20_POP15P_CS6"]) == (2020, 120.5)
    assert dict(CensusShare.objects.filter(area=area).values_list("station__code", "share")) == {
        first.code: 0.75,
        second.code: 0.25,
    }
    assert not CensusShare.objects.filter(area__code="290750101").exists()  # split commune: needs IRIS boundaries
    page = login(manager).get(reverse("territory:station", args=[campaign.slug, first.code])).content.decode()
    assert "<code>POP</code></dt><dd>750</dd>" in page


def test_iris_boundaries_share_a_split_communes_areas_by_surface(campaign, manager, login):
    import json

    left = station_in(
        campaign, number="0001", geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    )
    right = station_in(
        campaign, number="0002", geometry={"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
    )
    CensusArea.objects.create(code="290190101", year=2020, commune_code="29019", indicators={"P20_POP": 100})
    iris = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"CODE_IRIS": "290190101"},
                "geometry": {"type": "Polygon", "coordinates": [[[0.5, 0], [1.5, 0], [1.5, 1], [0.5, 1], [0.5, 0]]]},
            }
        ],
    }
    upload = SimpleUploadedFile("iris.geojson", json.dumps(iris).encode())
    login(manager).post(reverse("territory:boundaries", args=[campaign.slug]), {"kind": "iris", "file": upload})
    shares = dict(CensusShare.objects.values_list("station__code", "share"))
    assert shares == {left.code: pytest.approx(0.5), right.code: pytest.approx(0.5)}
