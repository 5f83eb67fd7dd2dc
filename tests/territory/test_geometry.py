"""Polling-station geometry: boundary files (real ones from Brest and Etalab, and
broken ones made here), the geocoder, approximate areas from the electoral
register's address points, the map export and census attribution."""

import csv
import itertools
import json
import math
from collections import defaultdict
from pathlib import Path

import pytest
import shapely
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from suffrage.territory.geometry import (
    BREST_MAPPING,
    ETALAB_MAPPING,
    AddressPoint,
    BoundaryFormatError,
    BoundaryMapping,
    Geocoder,
    GeocodeResult,
    StationArea,
    approximate_areas,
    attribute_by_overlap,
    attribute_by_points,
    detect_boundary_mapping,
    normalise_station_code,
    read_boundaries,
    simplify_for_map,
    street_key,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "territory"
METHODS = {"address_exact", "address_fuzzy", "boundary", "approximate", "unknown"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def brest_file() -> bytes:
    return (FIXTURES / "brest-bureaux-de-vote.geojson").read_bytes()


@pytest.fixture(scope="module")
def brest_areas(brest_file) -> list[StationArea]:
    with translation.override("en"):
        areas, problems = read_boundaries(brest_file)
    assert problems == []
    return areas


@pytest.fixture(scope="module")
def register_points() -> list[AddressPoint]:
    """The electoral register's address points of Douarnenez (29046) and Landerneau (29116)."""
    with (FIXTURES / "reu-addresses-29046-29116.csv").open(encoding="utf-8") as file:
        return [
            AddressPoint(
                lon=float(row["longitude"]),
                lat=float(row["latitude"]),
                station_code=normalise_station_code(row["id_brut_bv_reu"]),
                commune_code=row["code_commune_ref"],
            )
            for row in csv.DictReader(file)
        ]


def square(x, y, size=0.01):
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def feature(properties, coordinates=None, geometry_type="Polygon"):
    geometry = {"type": geometry_type, "coordinates": square(-4.5, 48.4) if coordinates is None else coordinates}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features, **members):
    return json.dumps({"type": "FeatureCollection", **members, "features": list(features)})


def brest(number, **properties):
    return {"DEPCO": "29019", "BVOTE": number, **properties}


# --- Boundary files -------------------------------------------------------------


def test_brest_file_reads_every_station_with_the_brest_mapping(brest_file, brest_areas):
    first_properties = json.loads(brest_file)["features"][0]["properties"]
    assert detect_boundary_mapping(first_properties) == BREST_MAPPING
    assert len(brest_areas) == 122
    assert sum(area.commune_code == "29019" for area in brest_areas) == 104
    assert {area.commune_code for area in brest_areas} == {"29019", "29189", "29061"}
    kerinou = next(area for area in brest_areas if area.code == "29019_0076")
    assert (kerinou.commune_code, kerinou.number, kerinou.name) == ("29019", "0076", "GS KERINOU")
    assert all(area.geometry.is_valid and not area.approximate for area in brest_areas)


def test_brest_names_come_from_the_full_label_not_the_truncated_one(brest_areas):
    mezheven = next(area for area in brest_areas if area.code == "29019_0102")
    assert mezheven.name == "PEPINIERES MEZHEVEN"  # LIEUV says "PE MEZHEVEN"


def test_brest_file_is_lon_lat_and_matches_its_own_surface_areas(brest_file, brest_areas):
    """The file declares no CRS; its coordinates are lon/lat, and SHAPE_AREA (square
    metres, from the city's projected original) agrees with the geometry."""
    document = json.loads(brest_file)
    assert "crs" not in document
    shape_area = {
        f"{item['properties']['DEPCO']}_{item['properties']['BVOTE']:04d}": item["properties"]["SHAPE_AREA"]
        for item in document["features"]
    }
    for area in brest_areas:
        scale = 111_320**2 * math.cos(math.radians(area.geometry.centroid.y))
        assert area.geometry.area * scale == pytest.approx(shape_area[area.code], rel=0.01)


def test_etalab_sample_reads_with_the_etalab_mapping():
    data = (FIXTURES / "etalab-contours-sample-ain.geojson").read_text(encoding="utf-8")
    assert detect_boundary_mapping(json.loads(data)["features"][0]["properties"]) == ETALAB_MAPPING
    areas, problems = read_boundaries(data)
    assert problems == []
    assert [area.code for area in areas] == [
        "01001_0001",
        "01002_0001",
        "01004_0001",
        "01004_0002",
        "01004_0003",
        "01004_0004",
        "01004_0005",
    ]
    assert {area.name for area in areas} == {""}
    assert next(area for area in areas if area.code == "01004_0002").geometry.geom_type == "MultiPolygon"


def test_mapping_detection_ignores_the_case_of_property_names():
    assert detect_boundary_mapping({"depco": "29019", "bvote": 1, "lieuv": "x"}) == BoundaryMapping(
        "depco", "bvote", "lieuv"
    )
    assert detect_boundary_mapping({"INSEE": "29019", "BUREAU": 1}) is None


@pytest.mark.parametrize("number", [1, "1", "01", "0001", 1.0])
def test_numbers_are_padded_to_four_digits(number):
    areas, problems = read_boundaries(collection(feature(brest(number))))
    assert problems == []
    assert [(area.code, area.number) for area in areas] == [("29019_0001", "0001")]


def test_a_commune_code_read_as_a_number_gets_its_leading_zero_back():
    areas, _problems = read_boundaries(collection(feature({"codeCommune": 1001, "numeroBureauVote": "0001"})))
    assert [area.code for area in areas] == ["01001_0001"]


def test_features_sharing_a_code_are_merged_into_one_area():
    areas, problems = read_boundaries(
        collection(
            feature(brest(1, LLIEU="Mairie"), square(-4.5, 48.4)),
            feature(brest(1), square(-4.4, 48.4)),
            feature(brest(2), square(-4.3, 48.4)),
        )
    )
    assert problems == []
    assert [(area.code, area.name) for area in areas] == [("29019_0001", "Mairie"), ("29019_0002", "")]
    assert areas[0].geometry.geom_type == "MultiPolygon"
    assert areas[0].geometry.area == pytest.approx(2 * 0.01**2)


def test_an_explicit_mapping_is_used_instead_of_detection():
    data = collection(feature({"insee": "29019", "bureau": "3", "lieu": "École"}))
    with pytest.raises(BoundaryFormatError, match="insee, bureau, lieu"):
        read_boundaries(data)
    areas, _problems = read_boundaries(data, mapping=BoundaryMapping("insee", "bureau", "lieu"))
    assert [(area.code, area.name) for area in areas] == [("29019_0003", "École")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe not utf-8", "not UTF-8"),
        ("{'type': 'FeatureCollection'}", "not valid JSON .line 1, column 2"),
        ("", "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        ("[]", 'not a GeoJSON FeatureCollection .its type is "list"'),
        (json.dumps(feature(brest(1))), 'not a GeoJSON FeatureCollection .its type is "Feature"'),
        ('{"type": "FeatureCollection", "features": {}}', 'no "features" list'),
        ('{"type": "FeatureCollection", "features": []}', "contains no features"),
    ],
)
def test_a_file_that_is_not_a_feature_collection_is_refused(data, message):
    with pytest.raises(BoundaryFormatError, match=message):
        read_boundaries(data)


def test_projected_coordinates_are_refused():
    lambert_93 = [[[145_000, 6_840_000], [146_000, 6_840_000], [146_000, 6_841_000], [145_000, 6_840_000]]]
    with pytest.raises(BoundaryFormatError, match=r"projected.*Lambert-93.*x runs from 145000 to 146000"):
        read_boundaries(collection(feature(brest(1), lambert_93)))


def test_a_declared_projected_crs_is_refused_and_crs84_accepted():
    lambert = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}
    with pytest.raises(BoundaryFormatError, match="EPSG::2154"):
        read_boundaries(collection(feature(brest(1)), crs=lambert))
    for name in ("urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"):
        areas, _problems = read_boundaries(collection(feature(brest(1)), crs={"properties": {"name": name}}))
        assert len(areas) == 1


def test_feature_problems_are_reported_and_the_others_read():
    areas, problems = read_boundaries(
        collection(
            feature(brest(1)),
            feature({"DEPCO": "29019"}),
            feature(brest(3), [-4.5, 48.4], geometry_type="Point"),
            {"type": "Feature", "properties": brest(4), "geometry": None},
            feature({"DEPCO": "Brest", "BVOTE": 5}),
            feature(brest("12345")),
            "not a feature",
            feature(brest(8), [[[-4.5, 48.4]]]),
            feature(brest(9), [[[0, 0], [1, 0], [1, math.nan], [0, 0]]]),
        )
    )
    assert [area.code for area in areas] == ["29019_0001"]
    assert problems.pop() == "Feature 9: some coordinates are not finite numbers."
    unreadable = problems.pop()  # GEOS's own words follow
    assert unreadable.startswith("Feature 8: unreadable geometry (IllegalArgumentException: point array")
    assert problems == [
        'Feature 2: the property "BVOTE" is missing.',
        "Feature 3: the geometry is a Point, not a polygon.",
        "Feature 4: no geometry.",
        'Feature 5: "BREST" is not an INSEE commune code.',
        'Feature 6: "12345" is not a polling-station number.',
        "Feature 7: not a GeoJSON Feature.",
    ]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)
RING = st.lists(st.tuples(st.floats(-1000, 1000), st.floats(-100, 100)), max_size=6).map(lambda ring: [ring])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Feature", "feature"]) | JSON_VALUES,
                "properties": st.fixed_dictionaries({"DEPCO": JSON_VALUES, "BVOTE": JSON_VALUES}) | JSON_VALUES,
                "geometry": st.fixed_dictionaries(
                    {"type": st.sampled_from(["Polygon", "MultiPolygon", "Point"]), "coordinates": RING | JSON_VALUES}
                )
                | JSON_VALUES,
            }
        )
        | JSON_VALUES,
        max_size=4,
    )
)
def test_any_feature_list_reads_or_fails_with_a_boundary_format_error(features):
    try:
        areas, problems = read_boundaries(json.dumps({"type": "FeatureCollection", "features": features}))
    except BoundaryFormatError:
        return
    assert all(area.geometry.is_valid and area.geometry.geom_type in ("Polygon", "MultiPolygon") for area in areas)
    assert all(problem.startswith("Feature ") for problem in problems)


def test_a_self_intersecting_polygon_is_repaired():
    bow_tie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    areas, problems = read_boundaries(collection(feature(brest(1), bow_tie)))
    assert problems == ["Feature 1: invalid geometry (Self-intersection[0.5 0.5]), repaired."]
    assert areas[0].geometry.is_valid
    assert areas[0].geometry.area == pytest.approx(0.5)  # both triangles kept, where buffer(0) keeps one


def test_a_polygon_without_surface_is_skipped():
    flat = [[[0, 0], [1, 1], [2, 2], [0, 0]]]
    areas, problems = read_boundaries(collection(feature(brest(1), flat), feature(brest(2))))
    assert [area.code for area in areas] == ["29019_0002"]
    assert problems == ["Feature 1: invalid geometry (Self-intersection[1 1]) that could not be repaired."]


# --- Geocoder -------------------------------------------------------------------

# Commune 29019 has two stations side by side: A west, B east; commune 29189 lies
# to the north with C. A street may vote in two stations, one side each.
AREA_A = StationArea("29019_0001", "29019", "0001", "", shapely.box(0, 0, 1, 1))
AREA_B = StationArea("29019_0002", "29019", "0002", "", shapely.box(1, 0, 2, 1))
AREA_C = StationArea("29189_0001", "29189", "0001", "", shapely.box(0, 1, 2, 2))


def street_points():
    siam = [
        AddressPoint(0.5 + n / 100, 0.5, "29019_0002" if n % 2 else "29019_0001", "rue de siam", str(n), "29019")
        for n in range(1, 21)
    ]
    return [
        *siam,
        *(AddressPoint(0.2, 0.2 + n / 100, "29019_0001", street_key("Avenue Foch"), str(n)) for n in range(1, 11)),
        AddressPoint(0.3, 0.3, "29019_0001", "rue du pin", "1", "29019"),
        AddressPoint(0.3, 0.4, "29019_0002", "rue du pic", "1", "29019"),
        AddressPoint(1.5, 0.5, "", "impasse sans bureau", "1", "29019"),
        AddressPoint(0.5, 1.5, "29189_0001", "rue de siam", "4", "29189"),
    ]


@pytest.fixture
def geocoder():
    return Geocoder(areas=[AREA_A, AREA_B, AREA_C], points=street_points())


def test_an_address_on_the_register_is_found_exactly(geocoder):
    assert geocoder.locate(commune_code="29019", street="Rue de Siam", number="4") == GeocodeResult(
        "29019_0001", "address_exact", 0.54, 0.5
    )
    assert geocoder.locate(commune_code="29019", street="RUE DE SIAM", number=" 5 ").station_code == "29019_0002"


def test_abbreviations_are_expanded_before_matching(geocoder):
    result = geocoder.locate(commune_code="29019", street="Av. Foch", number="3")
    assert (result.station_code, result.method) == ("29019_0001", "address_exact")


def test_a_misspelt_street_is_matched_within_the_commune(geocoder):
    result = geocoder.locate(commune_code="29019", street="rue de saim", number="4")
    assert (result.station_code, result.method) == ("29019_0001", "address_fuzzy")
    result = geocoder.locate(commune_code="29019", street="rue de siamm", number="5")
    assert (result.station_code, result.method) == ("29019_0002", "address_fuzzy")


def test_an_unknown_number_takes_the_nearest_number_on_the_same_side(geocoder):
    # 20 (even, station A) is closer to 25, but 19 is on the same side and votes in B.
    result = geocoder.locate(commune_code="29019", street="rue de siam", number="25")
    assert result == GeocodeResult("29019_0002", "address_fuzzy", 0.69, 0.5)
    assert geocoder.locate(commune_code="29019", street="rue de siam", number="12 bis").station_code == "29019_0001"


def test_without_a_number_only_a_street_voting_in_one_place_answers(geocoder):
    assert geocoder.locate(commune_code="29019", street="avenue foch").station_code == "29019_0001"
    assert geocoder.locate(commune_code="29019", street="rue de siam") == GeocodeResult(None, "unknown")


def test_two_equally_similar_streets_are_not_guessed_between(geocoder):
    assert geocoder.locate(commune_code="29019", street="rue du pix", number="1").method == "unknown"


def test_coordinates_fall_back_on_the_boundaries(geocoder):
    result = geocoder.locate(commune_code="29019", street="rue inconnue", number="1", lon=1.5, lat=0.5)
    assert result == GeocodeResult("29019_0002", "boundary", 1.5, 0.5)
    assert geocoder.locate(lon=0.5, lat=1.5) == GeocodeResult("29189_0001", "boundary", 0.5, 1.5)


def test_an_address_point_without_station_is_placed_by_its_coordinates(geocoder):
    result = geocoder.locate(commune_code="29019", street="Impasse sans bureau", number="1")
    assert result == GeocodeResult("29019_0002", "boundary", 1.5, 0.5)


def test_approximate_areas_answer_as_approximate():
    approximate = StationArea("29020_0001", "29020", "0001", "", shapely.box(5, 5, 6, 6), approximate=True)
    geocoder = Geocoder(areas=[approximate])
    assert geocoder.locate(commune_code="29020", lon=5.5, lat=5.5) == GeocodeResult(
        "29020_0001", "approximate", 5.5, 5.5
    )


def test_where_areas_overlap_official_boundaries_win_then_the_smallest_code():
    overlapping = StationArea("29019_0000", "29019", "0000", "", shapely.box(0, 0, 2, 1), approximate=True)
    geocoder = Geocoder(areas=[overlapping, AREA_B, AREA_A])
    assert geocoder.locate(lon=0.5, lat=0.5).station_code == "29019_0001"
    assert geocoder.locate(lon=1.0, lat=0.5).station_code == "29019_0001"  # on the shared border


def test_nothing_found_is_unknown(geocoder):
    assert geocoder.locate(commune_code="29019", street="rue inconnue", number="1") == GeocodeResult(None, "unknown")
    assert geocoder.locate(lon=50, lat=50) == GeocodeResult(None, "unknown", 50, 50)
    assert Geocoder().locate(commune_code="29019", street="rue de siam", lon=1, lat=1).method == "unknown"


def test_no_station_of_another_commune_is_ever_guessed(geocoder):
    # Same street name in a neighbouring commune: each commune gets its own.
    assert geocoder.locate(commune_code="29189", street="rue de siam", number="4").station_code == "29189_0001"
    # A commune with no address points: no borrowing from the neighbours, exact or fuzzy.
    assert geocoder.locate(commune_code="29020", street="rue de siam", number="4").method == "unknown"
    assert geocoder.locate(commune_code="29020", street="rue de saim", number="4").method == "unknown"
    # Coordinates inside another commune's station.
    assert geocoder.locate(commune_code="29189", lon=0.5, lat=0.5) == GeocodeResult(None, "unknown", 0.5, 0.5)
    assert geocoder.locate(commune_code="29999", lon=0.5, lat=0.5).method == "unknown"
    # No commune: the address cannot be looked up, only the coordinates.
    assert geocoder.locate(street="rue de siam", number="4").method == "unknown"


def test_invalid_coordinates_are_ignored(geocoder):
    for lon, lat in [(math.nan, 0.5), (0.5, math.inf), (200, 0.5), (0.5, -91), (None, 0.5)]:
        assert geocoder.locate(lon=lon, lat=lat) == GeocodeResult(None, "unknown")


GEOCODER_QUERIES = [
    {"commune_code": "29019", "street": "Rue de Siam", "number": "4"},
    {"commune_code": "29019", "street": "Av. Foch", "number": "3"},
    {"commune_code": "29019", "street": "rue de saim", "number": "4"},
    {"commune_code": "29019", "street": "rue de siam", "number": "25"},
    {"commune_code": "29019", "street": "rue de siam"},
    {"commune_code": "29019", "street": "rue inconnue", "lon": 1.5, "lat": 0.5},
    {"commune_code": "29019", "street": "impasse sans bureau", "number": "1"},
    {"commune_code": "29189", "lon": 0.5, "lat": 0.5},
    {"commune_code": "29189", "street": "rue de siam", "number": "4"},
    {"lon": 0.5, "lat": 1.5},
    {"lon": 1.5, "lat": 0.25},
    {},
]


def test_locate_many_answers_as_locate_does_for_each_query(geocoder):
    results = geocoder.locate_many(GEOCODER_QUERIES)
    assert results == [geocoder.locate(**query) for query in GEOCODER_QUERIES]
    assert {result.method for result in results} == {"address_exact", "address_fuzzy", "boundary", "unknown"}


def test_locate_many_refuses_misspelt_query_keys(geocoder):
    with pytest.raises(TypeError, match="code_commune"):
        geocoder.locate_many([{"code_commune": "29019"}])


def test_locate_many_places_register_points_in_brest(brest_areas):
    """Every area's representative point is found in that area by the vectorised pass."""
    geocoder = Geocoder(areas=brest_areas)
    queries = [
        {"commune_code": area.commune_code, "lon": point.x, "lat": point.y}
        for area in brest_areas
        for point in [area.geometry.representative_point()]
    ]
    assert [result.station_code for result in geocoder.locate_many(queries)] == [area.code for area in brest_areas]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_street_key_is_its_own_key(text):
    assert street_key(street_key(text)) == street_key(text)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Av. du Gal de Gaulle", "avenue du general de gaulle"),
        ("BD JEAN-MOULIN", "boulevard jean moulin"),
        ("R. St-Martin", "rue saint martin"),
        ("Pl. Ste Anne", "place sainte anne"),
        ("imp. des Lilas", "impasse des lilas"),
        ("Chem. de Kerivin", "chemin de kerivin"),
        ("rte de Gouesnou", "route de gouesnou"),
        ("All. des Pins", "allee des pins"),
        ("Sq. Marcel Pagnol", "square marcel pagnol"),
        ("Rue Che Guevara", "rue che guevara"),  # only the first word is a street type
        ("  Rue   de   l'Église  ", "rue de l eglise"),
    ],
)
def test_street_key_expands_french_abbreviations(text, key):
    assert street_key(text) == key


@settings(max_examples=200, deadline=None)
@given(
    commune=st.text(max_size=8) | st.sampled_from(["29019", "29189"]),
    street=st.text() | st.sampled_from(["rue de siam", "Av. Foch", "rue du pi"]),
    number=st.text(max_size=10),
    lon=st.none() | st.floats(),
    lat=st.none() | st.floats(),
)
def test_locate_never_raises_on_arbitrary_input(commune, street, number, lon, lat):
    geocoder = Geocoder(areas=[AREA_A, AREA_B, AREA_C], points=street_points())
    result = geocoder.locate(commune_code=commune, street=street, number=number, lon=lon, lat=lat)
    assert result.method in METHODS
    assert (result.station_code is None) == (result.method == "unknown")


# --- Approximate areas ----------------------------------------------------------


def test_approximate_areas_give_each_register_point_to_its_own_station(register_points):
    douarnenez = [point for point in register_points if point.commune_code == "29046"]
    areas = approximate_areas(douarnenez)
    assert len(areas) == 13
    assert all(area.approximate and area.commune_code == "29046" for area in areas)
    assert {area.code for area in areas} == {point.station_code for point in douarnenez}
    by_code = {area.code: area.geometry for area in areas}
    inside = [by_code[point.station_code].covers(shapely.Point(point.lon, point.lat)) for point in douarnenez]
    # The register puts some addresses of different stations at the same spot (a
    # street geocoded to its centre): only those may fall outside. 5,419 of 5,431.
    stations_at = defaultdict(set)
    for point in douarnenez:
        stations_at[(point.lon, point.lat)].add(point.station_code)
    for point, is_inside in zip(douarnenez, inside, strict=True):
        assert is_inside or len(stations_at[(point.lon, point.lat)]) > 1
    assert sum(inside) / len(douarnenez) > 0.99


def test_approximate_areas_are_disjoint_and_cover_the_points_hull(register_points):
    douarnenez = [point for point in register_points if point.commune_code == "29046"]
    geometries = [area.geometry for area in approximate_areas(douarnenez)]
    assert all(geometry.is_valid for geometry in geometries)
    for first, second in itertools.combinations(geometries, 2):
        assert first.intersection(second).area < 1e-12
    hull = shapely.convex_hull(shapely.multipoints([(point.lon, point.lat) for point in douarnenez]))
    assert shapely.union_all(geometries).covers(hull.buffer(-1e-9))


def test_points_at_the_same_spot_count_once_for_the_majority():
    points = [
        AddressPoint(0, 0, "29019_1"),
        AddressPoint(0, 0, "29019_2"),
        AddressPoint(0, 0, "29019_2"),
        AddressPoint(0.01, 0, "29019_3"),
        AddressPoint(0.02, 0, "", commune_code="29019"),  # no station: left out
    ]
    areas = approximate_areas(points)
    assert [(area.code, area.commune_code, area.number) for area in areas] == [
        ("29019_0002", "29019", "0002"),
        ("29019_0003", "29019", "0003"),
    ]
    assert areas[0].geometry.contains(shapely.Point(0, 0))


def test_a_lone_station_gets_the_whole_hull_and_a_given_hull_clips():
    one = approximate_areas([AddressPoint(-4.5, 48.4, "29019_0001")])
    assert len(one) == 1
    # About 100 m around the point, in both directions.
    min_x, min_y, max_x, max_y = one[0].geometry.bounds
    assert (max_y - min_y) * 111_320 == pytest.approx(200, rel=0.02)
    assert (max_x - min_x) * 111_320 * math.cos(math.radians(48.4)) == pytest.approx(200, rel=0.02)

    hull = shapely.box(-0.5, -0.5, 0.5, 0.5)
    clipped = approximate_areas([AddressPoint(0, 0, "29019_0001"), AddressPoint(1, 0, "29019_0002")], hull=hull)
    assert [area.code for area in clipped] == ["29019_0001"]
    assert clipped[0].geometry.equals(hull)
    assert approximate_areas([]) == []


OFFSETS = st.sampled_from([0, 1e-12, 1e-7, 2e-7]) | st.floats(0, 0.01)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.builds(
            lambda x, y, number: AddressPoint(-4.5 + x, 48.4 + y, f"29019_{number}"),
            OFFSETS,
            OFFSETS,
            st.integers(1, 4),
        ),
        max_size=30,
    )
)
def test_approximate_areas_survive_clustered_and_collinear_points(points):
    areas = approximate_areas(points)
    assert all(area.geometry.is_valid for area in areas)
    for first, second in itertools.combinations(areas, 2):
        assert first.geometry.intersection(second.geometry).area < 1e-12


# --- Web map --------------------------------------------------------------------


def test_the_map_export_is_simplified_rounded_json(brest_areas):
    collection = simplify_for_map(brest_areas)
    json.dumps(collection, allow_nan=False)
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == len(brest_areas)
    kerinou = next(item for item in collection["features"] if item["properties"]["code"] == "29019_0076")
    assert kerinou["properties"] == {
        "code": "29019_0076",
        "commune_code": "29019",
        "number": "0076",
        "name": "GS KERINOU",
        "approximate": False,
    }
    simplified = [shapely.from_geojson(json.dumps(item["geometry"])) for item in collection["features"]]
    before = sum(shapely.get_num_coordinates(area.geometry) for area in brest_areas)
    after = sum(shapely.get_num_coordinates(geometry) for geometry in simplified)
    assert after < before * 0.8
    coordinates = shapely.get_coordinates(simplified)
    assert (abs(coordinates * 100_000 - (coordinates * 100_000).round()) < 1e-6).all()


# --- Census attribution ---------------------------------------------------------


def test_attribution_by_points_shares_each_census_area_by_its_points():
    shares = attribute_by_points(
        [
            *[("IRIS1", "29019_0001"), ("IRIS1", "29019_0001"), ("IRIS1", "29019_0002"), ("IRIS1", "29019_0001")],
            *[("IRIS2", "29019_0002"), ("IRIS2", ""), ("IRIS3", "")],
        ]
    )
    assert shares == {"IRIS1": {"29019_0001": 0.75, "29019_0002": 0.25}, "IRIS2": {"29019_0002": 1.0}}


def test_attribution_by_points_of_the_register(register_points):
    # Census areas stand in as a coarse grid; every share set sums to 1.
    pairs = [(f"{round(point.lon, 2)}:{round(point.lat, 2)}", point.station_code) for point in register_points]
    for stations in attribute_by_points(pairs).values():
        assert sum(stations.values()) == pytest.approx(1)


def test_attribution_by_overlap_shares_by_surface():
    census = {
        "straddling": shapely.box(0.5, 0.25, 1.5, 0.75),
        "half_outside": shapely.box(1.5, -0.5, 2.5, 0.5),
        "elsewhere": shapely.box(10, 10, 11, 11),
        "flat": shapely.LineString([(0, 0), (1, 1)]),
    }
    shares = attribute_by_overlap(census, [AREA_A, AREA_B, AREA_C])
    assert shares["straddling"] == pytest.approx({"29019_0001": 0.5, "29019_0002": 0.5})
    assert shares["half_outside"] == pytest.approx({"29019_0002": 0.25})
    assert shares["elsewhere"] == {}
    assert shares["flat"] == {}


def test_attribution_by_overlap_never_exceeds_one(brest_areas):
    overlapping = [*brest_areas, StationArea("29019_9999", "29019", "9999", "", shapely.box(-5, 48, -4, 49), True)]
    census = {area.code: area.geometry.buffer(0.003) for area in brest_areas[:10]}
    for stations in attribute_by_overlap(census, overlapping).values():
        assert sum(stations.values()) <= 1 + 1e-9
    for stations in attribute_by_overlap(census, brest_areas).values():
        assert 0.5 < sum(stations.values()) <= 1 + 1e-9
    inner = {area.code: area.geometry.buffer(-0.0003) for area in brest_areas[:10]}
    for code, stations in attribute_by_overlap(inner, brest_areas).items():
        assert stations[code] == pytest.approx(1, abs=0.01)
