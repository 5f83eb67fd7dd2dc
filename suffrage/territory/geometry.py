"""Polling-station geometry without the database: reading boundary files,
geocoding addresses to polling stations, approximating areas from address
points, simplifying for the web map, and sharing census areas between stations.

Everything is WGS84 longitude/latitude (CRS84, the GeoJSON order: x = lon,
y = lat). Where a computation needs distances or angles (Voronoi cells, the
buffer around a commune), coordinates are scaled locally: one degree of
longitude is cos(latitude) times as long as one of latitude, which is exact
enough at the scale of a commune.

A polling station's national code is the INSEE commune code, "_", and the
number zero-padded to 4 digits: "29019_0001". It is the join key to results.
"""

from __future__ import annotations

import bisect
import difflib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from numpy.typing import NDArray

from suffrage.imports.normalise import search_key

METRES_PER_DEGREE = 111_320.0  # of latitude, and of longitude at the equator
APPROXIMATE_MARGIN_METRES = 100.0  # around the address points of a commune without boundaries
COMMUNE_CODE = re.compile(r"(?:[0-9]{5}|2[AB][0-9]{3})")  # INSEE, Corsica included ("2A004")
STATION_NUMBER = re.compile(r"[0-9A-Z]{1,4}")
LEADING_DIGITS = re.compile(r"\s*([0-9]+)")
POLYGONAL = ("Polygon", "MultiPolygon")
# Names a GeoJSON "crs" member may give to longitude/latitude. Anything else
# (EPSG:2154 is Lambert-93) is projected.
LON_LAT_CRS = re.compile(r"(?:CRS:?84|EPSG:+4326|4326)$", re.IGNORECASE)

# Street-type abbreviations, expanded only as the first word ("r de siam"):
# elsewhere "r" or "che" may be a name ("rue Che Guevara").
STREET_TYPES = {
    **dict.fromkeys(("av", "ave", "aven"), "avenue"),
    **dict.fromkeys(("bd", "bld", "bvd", "blvd", "boul", "boulev"), "boulevard"),
    "r": "rue",
    "pl": "place",
    "imp": "impasse",
    **dict.fromkeys(("che", "chem", "ch"), "chemin"),
    "rte": "route",
    "all": "allee",
    "sq": "square",
    "crs": "cours",
    **dict.fromkeys(("fg", "fbg"), "faubourg"),
    "res": "residence",
    "pass": "passage",
    "prom": "promenade",
    "ham": "hameau",
}
# Abbreviations of titles, expanded wherever they stand ("av du gal de gaulle").
TITLE_WORDS = {
    "st": "saint",
    "ste": "sainte",
    **dict.fromkeys(("gal", "gen", "gl"), "general"),
    "mal": "marechal",
    "pdt": "president",
    "dr": "docteur",
    "cdt": "commandant",
    "mgr": "monseigneur",
}


class BoundaryFormatError(ValueError):
    """A problem with a whole boundary file: nothing can be imported. str(exc) is user-facing."""


@dataclass(frozen=True)
class StationArea:
    code: str  # national polling-station code "29019_0001"
    commune_code: str  # "29019"
    number: str  # "0001"
    name: str  # polling place or label, "" if none
    geometry: Any  # shapely Polygon or MultiPolygon (shapely ships no type hints)
    approximate: bool = False  # computed from address points, not an official boundary


@dataclass(frozen=True)
class BoundaryMapping:
    """Which GeoJSON properties hold the commune code, the station number and its name."""

    commune: str
    number: str
    name: str = ""


# The national file by Etalab/INSEE ("contours-france-entiere"): it names no polling place.
ETALAB_MAPPING = BoundaryMapping(commune="codeCommune", number="numeroBureauVote")
# Brest's own file. LIEUV is cut to 10 characters ("PEN AR CHL"); LLIEU is the full label.
BREST_MAPPING = BoundaryMapping(commune="DEPCO", number="BVOTE", name="LLIEU")


def station_code(commune_code: str, number: str | int) -> str:
    """The national code: ("29019", 1) -> "29019_0001"."""
    return f"{commune_code}_{str(number).strip().zfill(4)}"


def normalise_station_code(code: str) -> str:
    """Pad the number of a code written without zeros, as the electoral register
    does: "29039_1" -> "29039_0001". A code without "_" is returned stripped."""
    commune, separator, number = code.strip().partition("_")
    return station_code(commune, number) if separator else commune


# --- Boundary files -------------------------------------------------------------


def detect_boundary_mapping(properties: dict[str, Any]) -> BoundaryMapping | None:
    """The mapping of a known layout (Etalab's national file, Brest's DEPCO/BVOTE),
    matching property names case-insensitively, or None."""
    actual = {str(key).lower(): str(key) for key in properties}
    presets = (
        (ETALAB_MAPPING, ()),
        (BREST_MAPPING, ("LLIEU", "LIEUV", "TITRE")),  # name: the first one the file has
    )
    for preset, name_choices in presets:
        commune, number = actual.get(preset.commune.lower()), actual.get(preset.number.lower())
        if commune is None or number is None:
            continue
        name = next((actual[choice.lower()] for choice in name_choices if choice.lower() in actual), "")
        return BoundaryMapping(commune=commune, number=number, name=name)
    return None


def read_boundaries(
    data: bytes | str, *, mapping: BoundaryMapping | None = None
) -> tuple[list[StationArea], list[str]]:
    """Parse a GeoJSON FeatureCollection of polling-station boundaries.

    Returns the areas (features sharing a code are merged into one area) and
    messages about features that were skipped or repaired, each naming the
    feature by its position (the first feature is 1). Raises BoundaryFormatError
    when the file as a whole cannot be used: not JSON, not a FeatureCollection,
    projected coordinates, or properties that match no known layout when no
    mapping is given.
    """
    features = _feature_list(_parse_json(data))
    problems: list[tuple[int, str]] = []
    geometries: dict[int, Any] = {}
    for index, feature in enumerate(features, start=1):
        geometry, problem = _feature_geometry(index, feature)
        if problem:
            problems.append((index, problem))
        if geometry is not None:
            geometries[index] = geometry
    _check_lon_lat(list(geometries.values()))
    if mapping is None:
        mapping = _detect_from_first_feature(features)

    merged: dict[str, list[Any]] = {}
    names: dict[str, str] = {}
    for index, geometry in geometries.items():
        properties = features[index - 1].get("properties") or {}
        code, problem = _feature_code(index, properties, mapping)
        if code is None:
            problems.append((index, problem))
            continue
        merged.setdefault(code, []).append(geometry)
        if not names.get(code):
            names[code] = _text(properties.get(mapping.name)) if mapping.name else ""
    areas = []
    for code, parts in merged.items():
        geometry = parts[0] if len(parts) == 1 else _polygonal(shapely.union_all(parts))
        commune_code, _separator, number = code.partition("_")
        areas.append(StationArea(code, commune_code, number, names[code], geometry))
    problems.sort(key=lambda problem: problem[0])  # stable: a feature's geometry problem comes first
    return areas, [message for _index, message in problems]


def _parse_json(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BoundaryFormatError(_("The file is not UTF-8 text, so it cannot be GeoJSON.")) from exc
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise BoundaryFormatError(
            _("The file is not valid JSON (line %(line)d, column %(column)d: %(reason)s).")
            % {"line": exc.lineno, "column": exc.colno, "reason": exc.msg}
        ) from exc
    except RecursionError as exc:  # nesting deep enough to exhaust the parser
        raise BoundaryFormatError(_("The file is not valid JSON: it is nested too deeply.")) from exc


def _feature_list(document: Any) -> list[Any]:
    kind = document.get("type") if isinstance(document, dict) else type(document).__name__
    if kind != "FeatureCollection":
        raise BoundaryFormatError(
            _('The file is not a GeoJSON FeatureCollection (its type is "%(type)s").') % {"type": kind}
        )
    features = document.get("features")
    if not isinstance(features, list):
        raise BoundaryFormatError(_('The FeatureCollection has no "features" list.'))
    if not features:
        raise BoundaryFormatError(_("The FeatureCollection contains no features."))
    crs_name = _crs_name(document.get("crs"))
    if crs_name and not LON_LAT_CRS.search(crs_name):
        raise BoundaryFormatError(
            _projected_message(_("it declares the coordinate system %(crs)s") % {"crs": crs_name})
        )
    return features


def _crs_name(crs: Any) -> str:
    """The name in an old-style (GeoJSON 2008) "crs" member; "" when absent."""
    if isinstance(crs, dict) and isinstance(crs.get("properties"), dict):
        return str(crs["properties"].get("name") or "")
    return ""


def _projected_message(evidence: str) -> str:
    return _(
        "The file seems to be in projected coordinates (for example Lambert-93), not longitude/latitude: "
        "%(evidence)s. Export it again in WGS84 longitude/latitude (CRS84, EPSG:4326), then import it."
    ) % {"evidence": evidence}


def _feature_geometry(index: int, feature: Any) -> tuple[Any, str]:
    """The feature's polygonal geometry (repaired if needed), or None; and a message or ""."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None, _("Feature %(index)d: not a GeoJSON Feature.") % {"index": index}
    raw = feature.get("geometry")
    if not isinstance(raw, dict) or not raw.get("type"):
        return None, _("Feature %(index)d: no geometry.") % {"index": index}
    if raw["type"] not in POLYGONAL:
        return None, _("Feature %(index)d: the geometry is a %(type)s, not a polygon.") % {
            "index": index,
            "type": raw["type"],
        }
    try:
        text = json.dumps(raw, allow_nan=False)
    except ValueError:
        return None, _("Feature %(index)d: some coordinates are not finite numbers.") % {"index": index}
    try:
        geometry = shapely.force_2d(shapely.from_geojson(text))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        reason = str(exc).strip()  # GEOS ends its messages with a line break
        return None, _("Feature %(index)d: unreadable geometry (%(reason)s).") % {"index": index, "reason": reason}
    if geometry.is_empty:
        return None, _("Feature %(index)d: the geometry is empty.") % {"index": index}
    if geometry.is_valid:
        return geometry, ""
    reason = shapely.is_valid_reason(geometry)
    # "structure" keeps both halves of a bow tie, where buffer(0) drops one.
    repaired = _polygonal(shapely.make_valid(geometry, method="structure", keep_collapsed=False))
    if repaired is None or not repaired.is_valid:
        return None, _("Feature %(index)d: invalid geometry (%(reason)s) that could not be repaired.") % {
            "index": index,
            "reason": reason,
        }
    return repaired, _("Feature %(index)d: invalid geometry (%(reason)s), repaired.") % {
        "index": index,
        "reason": reason,
    }


def _polygonal(geometry: Any) -> Any:
    """The polygons of a geometry as one Polygon or MultiPolygon, or None if it has none."""
    if geometry.geom_type in POLYGONAL:
        return None if geometry.is_empty else geometry
    parts = [part for part in shapely.get_parts(geometry) if part.geom_type in POLYGONAL and not part.is_empty]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _check_lon_lat(geometries: list[Any]) -> None:
    if not geometries:
        return
    min_x, min_y, max_x, max_y = (float(value) for value in shapely.total_bounds(geometries))
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise BoundaryFormatError(
            _projected_message(
                _("x runs from %(min_x).0f to %(max_x).0f and y from %(min_y).0f to %(max_y).0f")
                % {"min_x": min_x, "max_x": max_x, "min_y": min_y, "max_y": max_y}
            )
        )


def _detect_from_first_feature(features: list[Any]) -> BoundaryMapping:
    first = features[0] if isinstance(features[0], dict) else {}
    properties = first.get("properties")
    if not isinstance(properties, dict):
        properties = {}
    mapping = detect_boundary_mapping(properties)
    if mapping is None:
        found = ", ".join(str(key) for key in properties) or _("none")
        raise BoundaryFormatError(
            _(
                "Could not tell which properties hold the commune code and the polling-station number "
                "(properties found: %(properties)s). Choose them in the property mapping."
            )
            % {"properties": found}
        )
    return mapping


def _feature_code(index: int, properties: Any, mapping: BoundaryMapping) -> tuple[str | None, str]:
    if not isinstance(properties, dict):
        properties = {}
    for key in (mapping.commune, mapping.number):
        if properties.get(key) in (None, ""):
            return None, _('Feature %(index)d: the property "%(property)s" is missing.') % {
                "index": index,
                "property": key,
            }
    commune = _text(properties[mapping.commune]).upper()
    if isinstance(properties[mapping.commune], int | float):  # read as a number: "01001" became 1001
        commune = commune.zfill(5)
    number = _text(properties[mapping.number]).upper().zfill(4)
    if not COMMUNE_CODE.fullmatch(commune):
        return None, _('Feature %(index)d: "%(value)s" is not an INSEE commune code.') % {
            "index": index,
            "value": commune,
        }
    if not STATION_NUMBER.fullmatch(number):
        return None, _('Feature %(index)d: "%(value)s" is not a polling-station number.') % {
            "index": index,
            "value": number,
        }
    return station_code(commune, number), ""


def _text(value: Any) -> str:
    """A property as text; 76.0 (a number stored as float) is "76"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# --- Geocoding ------------------------------------------------------------------


@dataclass(frozen=True)
class AddressPoint:
    lon: float
    lat: float
    station_code: str  # "29019_0001", "" if unknown
    street: str = ""  # street_key() of the street name, "" if none
    number: str = ""  # house number as text ("12", "12 bis"), "" if none
    commune_code: str = ""  # "" takes the commune from station_code


@dataclass(frozen=True)
class GeocodeResult:
    station_code: str | None
    method: str  # "address_exact", "address_fuzzy", "boundary", "approximate" or "unknown"
    lon: float | None = None  # the coordinates used or found, also when the station is unknown
    lat: float | None = None


@lru_cache(maxsize=65_536)  # a roll repeats the same few thousand streets
def street_key(text: str) -> str:
    """The form of a street name used to match addresses: lowercase, no accents or
    punctuation, abbreviations expanded. "Av. du Gal de Gaulle" -> "avenue du general de gaulle"."""
    words = search_key(text).split()
    if words:
        words[0] = STREET_TYPES.get(words[0], words[0])
    return " ".join(TITLE_WORDS.get(word, word) for word in words)


def number_key(text: str) -> str:
    """A house number for exact matching: "12 BIS" and "12bis" -> "12bis"."""
    return "".join(search_key(text).split())


def _house_number(text: str) -> int | None:
    """The numeric part of a house number: "12 bis" -> 12; None without digits."""
    match = LEADING_DIGITS.match(text)
    return int(match.group(1)) if match and len(match.group(1)) < 7 else None


def _coordinate(value: Any, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and abs(number) <= limit else None


@dataclass
class _Street:
    """The address points of one street of one commune, for nearest-number matching."""

    numbers_by_parity: tuple[list[int], list[int]]  # sorted house numbers: even, odd
    points_by_parity: tuple[list[AddressPoint], list[AddressPoint]]  # in the same order
    stations: set[str]  # every station on the street


class Geocoder:
    """Finds the polling station of an address: from address points first (exact,
    then same street with the nearest house number), then from coordinates and the
    station areas. Never answers with a station of another commune than the one asked."""

    QUERY_KEYS = frozenset(("commune_code", "street", "number", "lon", "lat"))

    def __init__(
        self,
        *,
        areas: Sequence[StationArea] = (),
        points: Sequence[AddressPoint] = (),
        street_similarity: float = 0.9,
    ) -> None:
        self.street_similarity = street_similarity
        self._exact: dict[tuple[str, str, str], AddressPoint] = {}
        self._streets: dict[tuple[str, str], _Street] = {}
        self._fuzzy_cache: dict[tuple[str, str], str | None] = {}
        for point in points:
            self._add_point(point)
        streets_by_commune: dict[str, list[str]] = defaultdict(list)
        for commune, name in self._streets:
            streets_by_commune[commune].append(name)
        for street in self._streets.values():
            for numbers, street_points in zip(street.numbers_by_parity, street.points_by_parity, strict=True):
                order = sorted(range(len(numbers)), key=numbers.__getitem__)
                numbers[:] = [numbers[i] for i in order]
                street_points[:] = [street_points[i] for i in order]
        self._street_names = {commune: _StreetNames(names) for commune, names in streets_by_commune.items()}

        # Official boundaries before approximate areas, then by code: where areas
        # overlap (boundary files have slivers), the answer is still deterministic.
        self._areas = sorted(areas, key=lambda area: (area.approximate, area.code))
        self._tree = shapely.STRtree([area.geometry for area in self._areas]) if self._areas else None
        commune_ids = {commune: i for i, commune in enumerate(sorted({area.commune_code for area in self._areas}))}
        self._commune_ids = commune_ids
        self._area_communes: NDArray[np.int64] = np.array(
            [commune_ids[area.commune_code] for area in self._areas], dtype=np.int64
        )

    def _add_point(self, point: AddressPoint) -> None:
        commune = point.commune_code or point.station_code.partition("_")[0]
        if not (commune and point.street):
            return  # without a street it is only useful to approximate_areas
        key = (commune, street_key(point.street), number_key(point.number))  # a key is its own key
        known = self._exact.get(key)
        if known is None or (not known.station_code and point.station_code):
            self._exact[key] = point
        street = self._streets.get(key[:2])
        if street is None:
            street = self._streets[key[:2]] = _Street(([], []), ([], []), set())
        if point.station_code:
            street.stations.add(point.station_code)
        house_number = _house_number(point.number)
        if house_number is not None:
            street.numbers_by_parity[house_number % 2].append(house_number)
            street.points_by_parity[house_number % 2].append(point)

    def locate(
        self,
        *,
        commune_code: str = "",
        street: str = "",
        number: str = "",
        lon: float | None = None,
        lat: float | None = None,
    ) -> GeocodeResult:
        query = {"commune_code": commune_code, "street": street, "number": number, "lon": lon, "lat": lat}
        return self.locate_many([query])[0]

    def locate_many(self, queries: Iterable[Mapping[str, Any]]) -> list[GeocodeResult]:
        """locate() for each query (a mapping with locate's keyword names), with
        one vectorised point-in-polygon pass for all queries that need it."""
        results: list[GeocodeResult] = []
        pending: list[int] = []  # positions in results still to place in an area
        pending_xy: list[tuple[float, float]] = []
        pending_communes: list[int] = []
        for query in queries:
            unknown_keys = set(query) - self.QUERY_KEYS
            if unknown_keys:
                raise TypeError(f"unknown geocoding query keys: {sorted(unknown_keys)}")
            commune = str(query.get("commune_code") or "").strip()
            result = self._locate_by_address(commune, query)
            if (
                result.method == "unknown"
                and result.lon is not None
                and result.lat is not None
                and self._tree is not None
            ):
                pending.append(len(results))
                pending_xy.append((result.lon, result.lat))
                # -1: any commune; an unknown commune matches no area rather than any.
                pending_communes.append(self._commune_ids.get(commune, -2) if commune else -1)
            results.append(result)
        if pending:
            found = self._areas_containing(np.array(pending_xy), np.array(pending_communes, dtype=np.int64))
            for position, area_index in zip(pending, found.tolist(), strict=True):
                if area_index >= 0:
                    area = self._areas[area_index]
                    method = "approximate" if area.approximate else "boundary"
                    results[position] = GeocodeResult(area.code, method, results[position].lon, results[position].lat)
        return results

    def _locate_by_address(self, commune: str, query: Mapping[str, Any]) -> GeocodeResult:
        """Steps 1 and 2 (address points). An "unknown" result carries the coordinates
        to try against the areas: the query's, else those of a point found without station."""
        lon, lat = _coordinate(query.get("lon"), 180), _coordinate(query.get("lat"), 90)
        if lon is None or lat is None:
            lon = lat = None
        street_text = str(query.get("street") or "")
        if not (commune and street_text.strip()):
            return GeocodeResult(None, "unknown", lon, lat)
        key = street_key(street_text)
        number = str(query.get("number") or "")
        point = self._exact.get((commune, key, number_key(number)))
        if point is None:
            point, station = self._nearest_on_street(commune, key, number)
            if station:
                return GeocodeResult(station, "address_fuzzy", *_point_xy(point))
        elif point.station_code:
            return GeocodeResult(point.station_code, "address_exact", point.lon, point.lat)
        if lon is None and point is not None:
            # An address point without station still places the address on the map.
            lon, lat = point.lon, point.lat
        return GeocodeResult(None, "unknown", lon, lat)

    def _nearest_on_street(self, commune: str, key: str, number: str) -> tuple[AddressPoint | None, str]:
        """The point nearest by house number on the street (same side first) and its station."""
        matched = key if (commune, key) in self._streets else self._similar_street(commune, key)
        if matched is None:
            return None, ""
        street = self._streets[(commune, matched)]
        house_number = _house_number(number)
        if house_number is None:
            # No number to go by: answer only if the whole street votes in one place.
            return None, next(iter(street.stations)) if len(street.stations) == 1 else ""
        same_side = house_number % 2
        for parity in (same_side, 1 - same_side):
            point = _nearest(street.numbers_by_parity[parity], street.points_by_parity[parity], house_number)
            if point is not None:
                return point, point.station_code
        return None, ""

    def _similar_street(self, commune: str, key: str) -> str | None:
        cache_key = (commune, key)
        if cache_key not in self._fuzzy_cache:
            names = self._street_names.get(commune)
            self._fuzzy_cache[cache_key] = names.most_similar(key, self.street_similarity) if names else None
        return self._fuzzy_cache[cache_key]

    def _areas_containing(self, xy: NDArray[np.float64], communes: NDArray[np.int64]) -> NDArray[np.int64]:
        """For each point, the index in self._areas of the first area (in preference
        order) that contains it and belongs to the point's commune; -1 if none."""
        assert self._tree is not None
        point_indices, area_indices = self._tree.query(shapely.points(xy), predicate="intersects")
        same_commune = (communes[point_indices] == -1) | (communes[point_indices] == self._area_communes[area_indices])
        point_indices, area_indices = point_indices[same_commune], area_indices[same_commune]
        # Areas are numbered in preference order: the smallest index wins. (A plain
        # found[points] = areas leaves an unspecified one where a point repeats.)
        none = len(self._areas)
        found = np.full(len(xy), none, dtype=np.int64)
        np.minimum.at(found, point_indices, area_indices)
        found[found == none] = -1
        return found


def _point_xy(point: AddressPoint | None) -> tuple[float | None, float | None]:
    return (point.lon, point.lat) if point is not None else (None, None)


def _nearest(numbers: list[int], points: list[AddressPoint], target: int) -> AddressPoint | None:
    """The point with the house number closest to target (the lower one on a tie)."""
    if not numbers:
        return None
    position = bisect.bisect_left(numbers, target)
    candidates = [i for i in (position - 1, position) if 0 <= i < len(numbers)]
    best = min(candidates, key=lambda i: (abs(numbers[i] - target), numbers[i]))
    if best == position - 1:
        # The lower neighbour: the first point with that number, as on the right.
        best = bisect.bisect_left(numbers, numbers[best])
    return points[best]


class _StreetNames:
    """The street keys of one commune, and a trigram index to find the few worth
    comparing to a misspelt key (difflib on every street of a city is too slow)."""

    CANDIDATES = 16  # streets compared with difflib, the most trigrams in common first

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        postings: dict[str, list[int]] = defaultdict(list)
        sizes = []
        for index, name in enumerate(self.names):
            grams = _trigrams(name)
            sizes.append(len(grams))
            for gram in grams:
                postings[gram].append(index)
        self.postings = {gram: np.array(ids, dtype=np.int64) for gram, ids in postings.items()}
        self.sizes = np.array(sizes, dtype=np.float64)

    def most_similar(self, key: str, threshold: float) -> str | None:
        """The street most similar to key by difflib's ratio, if it reaches threshold
        and no other street is as similar (two equally close streets: no guess)."""
        grams = _trigrams(key)
        hits = [self.postings[gram] for gram in grams if gram in self.postings]
        if not hits:
            return None
        shared = np.bincount(np.concatenate(hits), minlength=len(self.names))
        dice = 2 * shared / (len(grams) + self.sizes)
        if len(dice) > self.CANDIDATES:
            candidates = np.argpartition(-dice, self.CANDIDATES)[: self.CANDIDATES]
        else:
            candidates = np.arange(len(dice))
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(key)  # SequenceMatcher caches what it learns about seq2
        best: str | None = None
        best_score, tied = threshold, False
        for index in candidates[shared[candidates] > 0].tolist():
            matcher.set_seq1(self.names[index])
            if matcher.real_quick_ratio() < best_score or matcher.quick_ratio() < best_score:
                continue
            score = matcher.ratio()
            if score > best_score or (score == best_score and best is None):
                best, best_score, tied = self.names[index], score, False
            elif score == best_score:
                tied = True
        return None if tied else best


def _trigrams(key: str) -> set[str]:
    padded = f"  {key} "  # so that a short key still has trigrams, and word starts weigh more
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


# --- Approximate areas ----------------------------------------------------------


def approximate_areas(points: Sequence[AddressPoint], *, hull: Any = None) -> list[StationArea]:
    """Station areas for a commune without boundaries: the Voronoi cell of each
    address point goes to the point's station, clipped to `hull` (default: the
    convex hull of the points with a margin of about 100 m).

    Points without station are left out. Points at the same place (to 7 decimals,
    about a centimetre) count once,
    for the station most of them belong to (the smallest code on a tie). The cells
    are computed in locally scaled coordinates, so that they are true nearest-point
    cells on the ground rather than in degrees.
    """
    votes: dict[tuple[float, float], Counter[str]] = defaultdict(Counter)
    for point in points:
        lon, lat = _coordinate(point.lon, 180), _coordinate(point.lat, 90)
        if point.station_code and lon is not None and lat is not None:
            # Points a centimetre apart are the same place; closer ones make GEOS's Voronoi fail.
            votes[(round(lon, 7), round(lat, 7))][normalise_station_code(point.station_code)] += 1
    if not votes:
        return []
    coordinates = np.array(list(votes), dtype=np.float64)
    stations = [min(counter, key=lambda code: (-counter[code], code)) for counter in votes.values()]
    scale = np.array([math.cos(math.radians(float(coordinates[:, 1].mean()))), 1.0])
    scaled = coordinates * scale
    if hull is None:
        margin = APPROXIMATE_MARGIN_METRES / METRES_PER_DEGREE
        scaled_hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(scaled)), margin)
    else:
        scaled_hull = shapely.transform(hull, lambda xy: xy * scale)
    cells = _voronoi_cells(scaled, scaled_hull)

    cells_by_station: dict[str, list[Any]] = defaultdict(list)
    for station, cell in zip(stations, cells, strict=True):
        cells_by_station[station].append(cell)
    areas = []
    for code in sorted(cells_by_station):
        clipped = _polygonal(shapely.intersection(shapely.union_all(cells_by_station[code]), scaled_hull))
        if clipped is None:
            continue  # all its points lie outside the hull given
        geometry = shapely.transform(clipped, lambda xy: xy / scale)
        commune_code, _separator, number = code.partition("_")
        areas.append(StationArea(code, commune_code, number, "", geometry, approximate=True))
    return areas


def _voronoi_cells(xy: NDArray[np.float64], extent: Any) -> list[Any]:
    """One cell per point, in the order of xy (points are distinct)."""
    if len(xy) == 1:
        return [extent]
    diagram = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=extent, ordered=True)
    cells = list(shapely.get_parts(diagram))
    if len(cells) == len(xy) and np.all(shapely.intersects(cells, shapely.points(xy))):
        return cells
    # GEOS could not keep the input order (it merges points closer than its
    # precision): find each point's cell instead.
    tree = shapely.STRtree(cells)
    point_indices, cell_indices = tree.query(shapely.points(xy), predicate="intersects")
    cell_of = dict(zip(point_indices.tolist(), cell_indices.tolist(), strict=True))
    return [cells[cell_of[i]] if i in cell_of else shapely.Polygon() for i in range(len(xy))]


# --- Web map --------------------------------------------------------------------


def simplify_for_map(areas: Sequence[StationArea], *, tolerance: float = 0.0001) -> dict[str, Any]:
    """A GeoJSON FeatureCollection for the map: each area simplified (tolerance in
    degrees; 0.0001 is about 11 m north-south) and rounded to 5 decimals (about 1 m).

    Each area is simplified on its own, so neighbours' shared borders may part by
    up to the tolerance: invisible at city zoom levels.
    """
    features = []
    for area in areas:
        simplified = shapely.simplify(area.geometry, tolerance, preserve_topology=True)
        rounded = shapely.transform(simplified, lambda xy: np.round(xy, 5))
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(rounded)),
                "properties": {
                    "code": area.code,
                    "commune_code": area.commune_code,
                    "number": area.number,
                    "name": area.name,
                    "approximate": area.approximate,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# --- Census attribution ---------------------------------------------------------


def attribute_by_points(area_codes_by_point: Iterable[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Share a census area between stations by where its address points vote:
    pairs (census_area_code, station_code), one per address point ->
    {census_area_code: {station_code: share}}, shares summing to 1. Points whose
    station is unknown ("") are left out."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for census_code, code in area_codes_by_point:
        if code:
            counts[census_code][code] += 1
    return {
        census_code: {code: count / sum(stations.values()) for code, count in sorted(stations.items())}
        for census_code, stations in counts.items()
    }


def attribute_by_overlap(census_areas: dict[str, Any], stations: Sequence[StationArea]) -> dict[str, dict[str, float]]:
    """Share each census area between stations by surface: {census_area_code:
    {station_code: share of the census area's surface inside the station}}.

    Shares are ratios of areas in the same place, so the cos(latitude) scale of
    a local equal-area projection cancels out: degrees² give the same ratio.
    Shares sum to 1 at most (less where no station covers part of the census
    area); overlapping stations are scaled down so as not to exceed it.
    """
    if not stations:
        return {code: {} for code in census_areas}
    station_geometries = np.array([station.geometry for station in stations], dtype=object)
    tree = shapely.STRtree(station_geometries)
    shares: dict[str, dict[str, float]] = {}
    for census_code, census_geometry in census_areas.items():
        total = float(shapely.area(census_geometry))
        shares[census_code] = {}
        if total <= 0:
            continue
        candidates = tree.query(census_geometry, predicate="intersects")
        overlaps = shapely.area(shapely.intersection(census_geometry, station_geometries[candidates])) / total
        by_station: Counter[str] = Counter()
        for index, share in zip(candidates.tolist(), overlaps.tolist(), strict=True):
            if share > 1e-9:
                by_station[stations[index].code] += share
        excess = max(1.0, sum(by_station.values()))
        shares[census_code] = {code: share / excess for code, share in sorted(by_station.items())}
    return shares
