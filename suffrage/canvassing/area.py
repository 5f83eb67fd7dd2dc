"""The doors of a canvass's area, ready to be cut into turfs.

An area (`Canvass.area`) is one of:

- `{"stations": [codes], "ranking": id}`: polling stations, e.g. the top of a saved
  priority ranking (`ranking` is kept for the record). Their doors are the address
  points of those stations (one door each, with the point's dwellings), refined by the
  addresses of the campaign's people there: an address with a building or stairwell
  makes a door of its own (one per street, number, building and stairwell); an
  address without joins the address point of its street and number. A station with no
  address points at all takes its doors from the people's addresses alone;
- `{"polygon": GeoJSON Polygon or MultiPolygon}`: drawn on the map; the address points
  of the campaign's communes inside it, and the people's located addresses inside it
  (those matching no address point are doors of their own);
- `{"segment": id}`: a segment of people who asked to be visited; the distinct
  addresses of its people.

A door is an address, never a person: it says how many dwellings the building has and
on which floors the campaign has contacts (from their addresses), never who they are.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from suffrage.canvassing.turfs import DoorSpec
from suffrage.core.models import Campaign
from suffrage.elections.models import PriorityRanking
from suffrage.imports.normalise import search_key
from suffrage.people.models import PostalAddress
from suffrage.segments.compiler import segment_members
from suffrage.segments.language import FilterError
from suffrage.segments.models import Segment
from suffrage.territory.geometry import number_key, street_key
from suffrage.territory.models import AddressPoint
from suffrage.territory.selectors import campaign_stations

AREA_KINDS = ("stations", "polygon", "segment")
# Words left in lower case inside a street name ("Rue de la Gare").
SMALL_WORDS = frozenset({"a", "au", "aux", "de", "des", "du", "en", "et", "la", "le", "les", "sur", "sous", "lez"})
ELIDED = frozenset({"l", "d"})  # "rue de l europe" → "Rue de l'Europe"
GROUND_FLOOR = frozenset({"rdc", "rez de chaussee", "rez de chausse", "rez", "0"})
LEADING_FLOOR = re.compile(r"(-?\d+)(?:\s*(?:e|er|eme|ere|ieme|nd|nde)?\b)")
MAX_POLYGON_VERTICES = 20_000
ADDRESS_FIELDS = ("polling_station__code", "street", "number", "repetition", "building", "stairwell", "floor")


@functools.lru_cache(maxsize=65_536)
def street_label(key: str) -> str:
    """A street key (lowercase, no accents) shown readably: "rue de l europe" → "Rue de l'Europe"."""
    words = key.split()
    shown: list[str] = []
    for index, word in enumerate(words):
        if index and word in SMALL_WORDS:
            shown.append(word)
        elif index and word in ELIDED and index + 1 < len(words):
            shown.append(f"{word}'")
        else:
            shown.append(word[:1].upper() + word[1:])
    return " ".join(shown).replace("' ", "'")


@functools.lru_cache(maxsize=1024)
def floor_label(text: str) -> tuple[int, str] | None:
    """A floor as a number and a label: "3e", "3ème étage" → (3, "3"); "rez-de-chaussée" →
    (0, "RDC"); "sous-sol" → (-1, "-1"). None for anything else: free text is never
    shown (it could hold a name)."""
    key = search_key(text)
    if key in GROUND_FLOOR or key.startswith("rez "):
        return 0, "RDC"
    if key.startswith("sous sol") or key == "ss":
        return -1, "-1"
    match = LEADING_FLOOR.match(key)
    if match and len(match.group(1)) < 4:
        number = int(match.group(1))
        return (0, "RDC") if number == 0 else (number, str(number))
    return None


def stations_from_ranking(ranking: PriorityRanking, top: int) -> list[str]:
    """The codes of the `top` best polling stations of a saved ranking."""
    if top < 0:
        raise ValidationError({"top": _("Choose a number of polling stations, 1 or more.")})
    return [str(entry["station"]) for entry in ranking.scores[:top] if isinstance(entry, dict) and entry.get("station")]


# --- Validation ----------------------------------------------------------------------


def area_kind(area: Any) -> str:
    """Which kind of area this is, or a ValidationError on `area`."""
    kinds = [kind for kind in AREA_KINDS if isinstance(area, dict) and kind in area]
    if len(kinds) != 1:
        raise ValidationError(
            {"area": _("Choose the area: polling stations, a shape drawn on the map, or a segment of people.")}
        )
    return kinds[0]


def area_validate(campaign: Campaign, area: Any) -> None:
    """Check an area before it is saved or cut: a ValidationError naming what is wrong."""
    kind = area_kind(area)
    if kind == "stations":
        _station_ids(campaign, area)
    elif kind == "polygon":
        _polygon(area["polygon"])
    else:
        _segment(campaign, area["segment"])


def _station_ids(campaign: Campaign, area: dict[str, Any]) -> dict[int, str]:
    codes = area["stations"]
    if not isinstance(codes, list) or not codes or not all(isinstance(code, str) for code in codes):
        raise ValidationError({"stations": _("Choose at least one polling station.")})
    known = dict(campaign_stations(campaign).filter(code__in=codes).values_list("pk", "code"))
    unknown = sorted(set(codes) - set(known.values()))
    if unknown:
        raise ValidationError(
            {
                "stations": _("Unknown polling station for this campaign: %(codes)s.")
                % {"codes": ", ".join(unknown[:5]) + ("…" if len(unknown) > 5 else "")}
            }
        )
    ranking, ranking_id = area.get("ranking"), _as_id(area.get("ranking"))
    if ranking is not None and (
        ranking_id is None or not PriorityRanking.objects.filter(pk=ranking_id, campaign=campaign).exists()
    ):
        raise ValidationError({"ranking": _("This ranking is not one of this campaign's.")})
    return known


def _as_id(value: Any) -> int | None:
    """An id from JSON: 12 or "12"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _polygon(geometry: Any) -> shapely.Geometry:
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError({"polygon": _("Draw the area as a polygon on the map.")})
    try:
        shape = shapely.geometry.shape(geometry)
    except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise ValidationError({"polygon": _("This shape cannot be read: draw it again.")}) from None
    if shape.is_empty or shapely.get_num_coordinates(shape) > MAX_POLYGON_VERTICES:
        raise ValidationError({"polygon": _("This shape cannot be read: draw it again.")})
    west, south, east, north = shape.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValidationError({"polygon": _("The shape must be in longitude and latitude (WGS84).")})
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
    if shape.area <= 0:
        raise ValidationError({"polygon": _("This shape has no surface: draw it again.")})
    return shape


def _segment(campaign: Campaign, segment_id: Any) -> Segment:
    pk = _as_id(segment_id)
    segment = Segment.objects.filter(pk=pk, campaign=campaign).first() if pk else None
    if segment is None:
        raise ValidationError({"segment": _("This segment is not one of this campaign's.")})
    return segment


_search_key = functools.lru_cache(maxsize=65_536)(search_key)
_number_key = functools.lru_cache(maxsize=65_536)(number_key)


# --- Doors ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Door:
    """A door made from people's addresses (a building's stairwell, or an address that
    matches no address point)."""

    station: str
    street: str  # key
    number: str
    building: str
    stairwell: str
    lon: float | None
    lat: float | None


class _AreaDoors:
    """Doors gathered from address points and people's addresses, merged by address."""

    def __init__(self) -> None:
        # Address points: key → (station, street key, number, dwellings, lon, lat).
        self.points: dict[str, tuple[str, str, str, int, float, float]] = {}
        # (station, street key, number key) → the address point's door there, for merging.
        self.point_at: dict[tuple[str, str, str], str] = {}
        self.addresses: dict[str, _Door] = {}
        self.floors: dict[str, dict[int, str]] = {}  # door key → {floor number: label}
        # One spelling per building and stairwell, so that a building's doors agree.
        self.spellings: dict[tuple[str, ...], str] = {}

    def add_points(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Rows of (pk, station code, street key, number, dwellings, lon, lat)."""
        points, point_at = self.points, self.point_at
        for pk, station, street, number, dwellings, lon, lat in rows:
            key = f"point:{pk}"
            points[key] = (station or "", street, number, max(1, dwellings), lon, lat)
            if street and number:
                point_at.setdefault((station or "", street, number), key)

    def add_address(self, row: tuple[Any, ...], *, lon: float | None, lat: float | None, plain: bool) -> None:
        """One person's address. `plain`: an address with neither building nor stairwell
        that matches no address point is a door of its own."""
        station, street_text, number, repetition, building_text, stairwell_text, floor = row
        station = station or ""
        street = street_key(street_text or "")
        if not street:
            return  # nowhere to knock
        number = _number_key(f"{number}{repetition}")
        building = " ".join((building_text or "").split())
        stairwell = " ".join((stairwell_text or "").split())
        place = (station, street, number)
        if not building and not stairwell:
            point = self.point_at.get(place)
            if point is not None:
                self._floor(point, floor)
                return
            if not plain:
                return
        building_key = (*place, _search_key(building))
        stairwell_key = (*building_key, _search_key(stairwell))
        building = self.spellings.setdefault(building_key, building)
        stairwell = self.spellings.setdefault(stairwell_key, stairwell)
        key = "address:" + "|".join(stairwell_key)
        if key not in self.addresses:
            point = self.point_at.get(place)
            if lon is None and point is not None:
                lon, lat = self.points[point][4:6]
            self.addresses[key] = _Door(station, street, number, building, stairwell, lon, lat)
        self._floor(key, floor)

    def _floor(self, key: str, floor: str) -> None:
        label = floor_label(floor or "")
        if label is not None:
            self.floors.setdefault(key, {}).setdefault(*label)

    def _floors(self, key: str) -> str:
        floors = self.floors.get(key)
        return ", ".join(floors[number] for number in sorted(floors)) if floors else ""

    def specs(self) -> list[DoorSpec]:
        """The doors, in no particular order (the cut sorts them)."""
        floors = self.floors
        specs = [
            DoorSpec(
                key,
                station,
                street_label(street),
                number,
                "",
                "",
                self._floors(key) if key in floors else "",
                dwellings,
                lon,
                lat,
            )
            for key, (station, street, number, dwellings, lon, lat) in self.points.items()
        ]
        specs.extend(
            DoorSpec(
                key,
                door.station,
                street_label(door.street),
                door.number,
                door.building,
                door.stairwell,
                self._floors(key),
                1,
                door.lon,
                door.lat,
            )
            for key, door in self.addresses.items()
        )
        return specs


def doors_for_area(campaign: Campaign, area: Any) -> list[DoorSpec]:
    """The doors of the area (see the module's docstring). Raises ValidationError."""
    kind = area_kind(area)
    doors = _AreaDoors()
    if kind == "stations":
        station_ids = _station_ids(campaign, area)
        points = AddressPoint.objects.filter(station_id__in=station_ids)
        doors.add_points(points.values_list("pk", "station__code", "street", "number", "dwellings", "lon", "lat"))
        # A station without address points (none imported for its commune) takes its
        # doors from the people's addresses alone.
        with_points = {station for station, *_rest in doors.points.values()}
        addresses = PostalAddress.objects.filter(person__campaign=campaign, polling_station_id__in=station_ids)
        for row in addresses.order_by("pk").values_list(*ADDRESS_FIELDS, "lon", "lat").iterator(chunk_size=5000):
            doors.add_address(row[:-2], lon=row[-2], lat=row[-1], plain=row[0] not in with_points)
    elif kind == "polygon":
        _polygon_doors(campaign, _polygon(area["polygon"]), doors)
    else:
        _segment_doors(campaign, _segment(campaign, area["segment"]), doors)
    return doors.specs()


def _inside(shape: shapely.Geometry, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows whose last two values (lon, lat) fall inside the shape."""
    if not rows:
        return []
    lon = [row[-2] for row in rows]
    lat = [row[-1] for row in rows]
    inside = shapely.contains_xy(shape, lon, lat)
    return [row for row, keep in zip(rows, inside.tolist(), strict=True) if keep]


def _polygon_doors(campaign: Campaign, shape: shapely.Geometry, doors: _AreaDoors) -> None:
    west, south, east, north = shape.bounds
    shapely.prepare(shape)
    communes = campaign.communes.values("commune__code")
    points = AddressPoint.objects.filter(
        commune_code__in=communes, lon__range=(west, east), lat__range=(south, north)
    ).values_list("pk", "station__code", "street", "number", "dwellings", "lon", "lat")
    doors.add_points(_inside(shape, list(points)))
    addresses = (
        PostalAddress.objects.filter(person__campaign=campaign, lon__range=(west, east), lat__range=(south, north))
        .order_by("pk")
        .values_list(*ADDRESS_FIELDS, "lon", "lat")
    )
    for row in _inside(shape, list(addresses)):
        doors.add_address(row[:-2], lon=row[-2], lat=row[-1], plain=True)


def _segment_doors(campaign: Campaign, segment: Segment, doors: _AreaDoors) -> None:
    try:
        people = segment_members(segment)
    except FilterError as error:
        raise ValidationError({"segment": str(error)}) from None
    addresses = list(
        PostalAddress.objects.filter(person__in=people.values("pk"))
        .order_by("pk")
        .values_list(*ADDRESS_FIELDS, "lon", "lat", "polling_station_id")
    )
    # The address points at these addresses give the doors their dwellings and position.
    stations = {row[-1] for row in addresses if row[-1]}
    streets = {street_key(row[1] or "") for row in addresses}
    points = (
        AddressPoint.objects.filter(station_id__in=stations, street__in=streets - {""})
        .exclude(number="")
        .values_list("pk", "station__code", "street", "number", "dwellings", "lon", "lat")
    )
    wanted = {
        (row[0] or "", street_key(row[1] or ""), number_key(f"{row[2]}{row[3]}"))
        for row in addresses
        if not (row[4] or "").strip() and not (row[5] or "").strip()
    }
    chosen, seen = [], set()
    for row in points.order_by("pk"):
        place = (row[1], row[2], row[3])
        if place in wanted and place not in seen:  # one door per address
            seen.add(place)
            chosen.append(row)
    doors.add_points(chosen)
    for row in addresses:
        doors.add_address(row[:-3], lon=row[-3], lat=row[-2], plain=True)
