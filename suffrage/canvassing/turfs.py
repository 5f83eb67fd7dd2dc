"""Cutting the doors of a canvass into turfs (walk lists): a pure function, no database.

Per polling station:

- **streets** follow one another by proximity: a nearest-neighbour chain over the
  streets' centroids, from the westernmost street (streets without coordinates come
  after, alphabetically; doors without a street name last, along a Hilbert curve of
  their coordinates, so that a turf of them is a compact patch);
- **along a street** the walk goes up the odd side (1, 3, 3bis, 5…) and back down the
  even side (…6, 4bis, 4, 2); numbers without digits come last;
- a **building** (the doors of one street, number and building name: its stairwells)
  is never split across turfs. Doors with neither a number nor a building name are
  each their own building: nothing says they share an entrance;
- **turfs** are runs of that walk of about `size` doors, always between
  ceil(size/2) and floor(size·1.5) doors, with these exceptions:

  1. a building of more than size·1.5 doors is a turf on its own (too big);
  2. when a station has fewer than size/2 doors (besides such buildings), they make
     one small turf;
  3. rarely, big buildings (over size/2 doors) leave no way to cut the rest within
     bounds: they become turfs of their own, and a few doors left over join one of
     them if that stays within size·1.5, or else make one small turf.

  So a turf below size/2 is its station's only such turf, and every other turf of
  the station is a single building too big to take its doors.

The result depends only on the set of doors, not on their order (ties are broken by
the doors' keys). A door is an address: nothing here knows who lives there.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Above this many streets in one station, the streets' order is a Hilbert sweep of their
# centroids rather than a nearest-neighbour chain (quadratic).
NEAREST_CHAIN_LIMIT = 2000
HILBERT_ORDER = 16
LEADING_NUMBER = re.compile(r"\s*(\d+)\s*(.*)")
# French repetition indices, in their order; single letters (12A, 12B) after them.
REPETITIONS = {"bis": 1, "b": 1, "ter": 2, "t": 2, "quater": 3, "q": 3, "quinquies": 4, "sexies": 5}
DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class DoorSpec:
    """A door to knock at: an address (a building entrance, or one of its stairwells)."""

    key: str  # unique: the door's identity across re-cuts
    station: str  # polling station code, "" when unknown
    street: str  # as shown to the volunteer; "" when the address point has none
    number: str  # "12", "12bis", "" when none
    building: str = ""
    stairwell: str = ""
    floors: str = ""  # floors where the campaign has contacts, if known ("RDC, 1, 3")
    dwellings: int = 1
    lon: float | None = None
    lat: float | None = None


@dataclass
class TurfPlan:
    """One turf: doors of one polling station, in walking order."""

    station: str
    name: str
    doors: list[DoorSpec]


def size_bounds(size: int) -> tuple[int, int]:
    """The smallest and largest turf for a target size: [size/2, size·1.5], in whole doors."""
    if size < 1:
        raise ValueError("A turf holds at least one door.")
    return (size + 1) // 2, size + size // 2


def building_of(door: DoorSpec) -> tuple[str, ...]:
    """What may not be split: same street, number and building name. A door with
    neither number nor building name is its own building."""
    if door.number or door.building:
        return ("b", door.street, door.number, door.building)
    return ("d", door.key)


def cut(doors: Iterable[DoorSpec], size: int, *, unnamed_street: str = "—") -> list[TurfPlan]:
    """The doors cut into turfs of about `size` doors: per station (by code), in
    walking order. `unnamed_street` names turfs that start on a door without street."""
    low, high = size_bounds(size)
    ordered = sorted(doors, key=lambda door: door.key)
    for previous, door in itertools.pairwise(ordered):
        if previous.key == door.key:
            raise ValueError(f"Two doors have the key {door.key!r}.")
    by_station: dict[str, list[DoorSpec]] = defaultdict(list)
    for door in ordered:
        by_station[door.station].append(door)
    plans: list[TurfPlan] = []
    for station in sorted(by_station):
        units = _walk(by_station[station])
        groups = _cut_units([len(unit) for unit in units], size, low, high)
        for index, group in enumerate(groups, start=1):
            turf_doors = [door for unit_index in group for door in units[unit_index]]
            plans.append(TurfPlan(station, _name(station, turf_doors[0].street or unnamed_street, index), turf_doors))
    return plans


def _name(station: str, street: str, index: int) -> str:
    number = (station.rsplit("_", 1)[-1].lstrip("0") or "0") if station else "?"
    return f"{number} · {street[:150]} ({index})"


# --- Walking order ----------------------------------------------------------------


@functools.lru_cache(maxsize=65_536)
def _number_key(number: str) -> tuple[int, int, str] | None:
    """ "12" → (12, 0, ""), "12 bis" → (12, 1, "bis"), "12B" → (12, 11, "b"); None without digits."""
    match = LEADING_NUMBER.match(number)
    if not match:
        return None
    suffix = "".join(match.group(2).lower().split()).strip(".-/")
    if not suffix:
        rank = 0
    elif suffix in REPETITIONS:
        rank = REPETITIONS[suffix]
    elif len(suffix) == 1 and suffix.isalpha():
        rank = 10 + ord(suffix) - ord("a")
    else:
        rank = 100
    return int(match.group(1)), rank, suffix


@functools.lru_cache(maxsize=65_536)
def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """ "Bât 10" after "Bât 9"; case does not matter."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in DIGITS.split(text.lower()) if part)


def _door_order(door: DoorSpec) -> tuple[object, ...]:
    return (_natural(door.stairwell), door.stairwell, door.floors, door.key)


def _walk(doors: list[DoorSpec]) -> list[list[DoorSpec]]:
    """One station's buildings in walking order, each a list of its doors in order."""
    buildings: dict[tuple[str, ...], list[DoorSpec]] = {}
    for door in doors:
        buildings.setdefault(building_of(door), []).append(door)
    by_street: dict[str, list[list[DoorSpec]]] = defaultdict(list)
    for unit in buildings.values():
        if len(unit) > 1:
            unit.sort(key=_door_order)
        by_street[unit[0].street].append(unit)
    walk: list[list[DoorSpec]] = []
    for street in _street_order(by_street):
        units = by_street[street]
        walk.extend(_along_street(units) if street else _along_curve(units))
    return walk


def _along_street(units: list[list[DoorSpec]]) -> list[list[DoorSpec]]:
    """Up the odd side, down the even side, then the doors without a number."""
    odd, even, other = [], [], []
    for unit in units:
        first = unit[0]
        number = _number_key(first.number)
        detail = (first.number, _natural(first.building), first.building, first.key)
        if number is None:
            other.append(((first.number.lower(), *detail), unit))
        elif number[0] % 2:
            odd.append(((number, *detail), unit))
        else:
            even.append(((number, *detail), unit))
    odd.sort(key=lambda item: item[0])
    other.sort(key=lambda item: item[0])
    # Down the even side: numbers descending, but the buildings of one number in order.
    ranks = {number: rank for rank, number in enumerate(sorted({key[0] for key, _unit in even}))}
    even.sort(key=lambda item: (-ranks[item[0][0]], item[0][1:]))
    return [unit for _key, unit in odd + even + other]


def _hilbert(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Positions along a Hilbert curve over the points' bounding box: near on the curve, near on the map."""
    side = 1 << HILBERT_ORDER
    span = max(float(np.ptp(lon)), float(np.ptp(lat))) or 1.0
    x = ((lon - lon.min()) / span * (side - 1)).astype(np.int64)
    y = ((lat - lat.min()) / span * (side - 1)).astype(np.int64)
    distance = np.zeros(len(x), dtype=np.int64)
    step = side >> 1
    while step > 0:
        rx = (x & step) > 0
        ry = (y & step) > 0
        distance += step * step * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        x[flip] = side - 1 - x[flip]
        y[flip] = side - 1 - y[flip]
        swap = ~ry
        x[swap], y[swap] = y[swap], x[swap].copy()
        step >>= 1
    return distance


def _along_curve(units: list[list[DoorSpec]]) -> list[list[DoorSpec]]:
    """Doors without a street: along a Hilbert curve; those without coordinates last, by key."""
    located = [unit for unit in units if unit[0].lon is not None and unit[0].lat is not None]
    rest = sorted((unit for unit in units if unit[0].lon is None or unit[0].lat is None), key=lambda u: u[0].key)
    if not located:
        return rest
    lon = np.array([unit[0].lon for unit in located], dtype=float)
    lat = np.array([unit[0].lat for unit in located], dtype=float)
    positions = _hilbert(lon, lat).tolist()
    order = sorted(range(len(located)), key=lambda i: (positions[i], located[i][0].key))
    return [located[i] for i in order] + rest


def _street_order(by_street: dict[str, list[list[DoorSpec]]]) -> list[str]:
    """Named streets by proximity (nearest-neighbour chain from the westernmost), those
    without coordinates alphabetically after, and doors without a street last."""
    names = sorted(street for street in by_street if street)
    located: list[str] = []
    centroids: list[tuple[float, float]] = []
    unlocated: list[str] = []
    for street in names:
        points = [(d.lon, d.lat) for unit in by_street[street] for d in unit if d.lon is not None and d.lat is not None]
        if points:
            located.append(street)
            count = len(points)
            centroids.append((math.fsum(p[0] for p in points) / count, math.fsum(p[1] for p in points) / count))
        else:
            unlocated.append(street)
    order = [located[i] for i in _chain(centroids)] + unlocated
    return order + ([""] if "" in by_street else [])


def _chain(centroids: Sequence[tuple[float, float]]) -> list[int]:
    if not centroids:
        return []
    lon = np.array([c[0] for c in centroids])
    lat = np.array([c[1] for c in centroids])
    if len(centroids) > NEAREST_CHAIN_LIMIT:
        positions = _hilbert(lon, lat).tolist()
        return sorted(range(len(centroids)), key=lambda i: (positions[i], i))
    # Degrees of longitude shrink with latitude: scale them to compare distances.
    x = lon * math.cos(math.radians(float(lat.mean())))
    y = lat
    current = int(np.argmin(x))  # ties: the first, i.e. alphabetical
    visited = np.zeros(len(centroids), dtype=bool)
    order = [current]
    visited[current] = True
    for _step in range(len(centroids) - 1):
        distance = (x - x[current]) ** 2 + (y - y[current]) ** 2
        distance[visited] = np.inf
        current = int(np.argmin(distance))
        visited[current] = True
        order.append(current)
    return order


# --- Cutting ------------------------------------------------------------------------


def _cut_units(weights: list[int], size: int, low: int, high: int) -> list[list[int]]:
    """Groups of building indexes (each group in walking order, groups ordered by their
    first building) whose door counts stay within [low, high], but for the exceptions."""
    alone = [i for i, weight in enumerate(weights) if weight > high]
    rest = [i for i, weight in enumerate(weights) if weight <= high]
    groups = [[i] for i in alone]
    total = sum(weights[i] for i in rest)
    if 0 < total < low:
        groups.append(rest)
    elif total:
        runs = _balanced(rest, weights, size, low, high)
        if runs is None:
            runs = _big_buildings_apart(rest, weights, size, low, high)
        groups.extend(runs)
    return sorted(groups, key=lambda group: group[0])


def _balanced(indexes: list[int], weights: list[int], size: int, low: int, high: int) -> list[list[int]] | None:
    """Consecutive runs of `indexes` within [low, high], each as close as can be to an
    even share of what is left; None when no such cut exists."""
    prefix = [0]
    for i in indexes:
        prefix.append(prefix[-1] + weights[i])
    count, total = len(indexes), prefix[-1]
    # feasible[j]: the buildings from j on can be cut within bounds (computed backwards).
    feasible = [False] * (count + 1)
    feasible[count] = True
    after = [0] * (count + 2)  # after[j]: how many feasible positions in j..count
    after[count] = 1
    for start in range(count - 1, -1, -1):
        first = bisect.bisect_left(prefix, prefix[start] + low, start + 1)
        last = bisect.bisect_right(prefix, prefix[start] + high, start + 1) - 1
        feasible[start] = first <= last and after[first] - after[last + 1] > 0
        after[start] = after[start + 1] + feasible[start]
    if not feasible[0]:
        return None
    runs: list[list[int]] = []
    start = 0
    while start < count:
        left = total - prefix[start]
        target = prefix[start] + left / max(1, round(left / size))
        first = bisect.bisect_left(prefix, prefix[start] + low, start + 1)
        last = bisect.bisect_right(prefix, prefix[start] + high, start + 1) - 1
        end = _nearest_feasible(prefix, feasible, first, last, target)
        runs.append(indexes[start:end])
        start = end
    return runs


def _nearest_feasible(prefix: list[int], feasible: list[bool], first: int, last: int, target: float) -> int:
    right = bisect.bisect_left(prefix, target, first, last + 1)
    left = right - 1
    while left >= first or right <= last:
        take_left = right > last or (left >= first and target - prefix[left] <= prefix[right] - target)
        candidate = left if take_left else right
        if feasible[candidate]:
            return candidate
        if take_left:
            left -= 1
        else:
            right += 1
    raise AssertionError("a feasible cut was promised")


def _big_buildings_apart(indexes: list[int], weights: list[int], size: int, low: int, high: int) -> list[list[int]]:
    """Exception 3: buildings of at least `low` doors alone (each within bounds); the
    others, all smaller than `low`, can then always be cut within bounds if they add up
    to `low` at least. Fewer join the nearest big building that can take them, or make
    one small turf."""
    big = [i for i in indexes if weights[i] >= low]
    small = [i for i in indexes if weights[i] < low]
    runs = [[i] for i in big]
    left = sum(weights[i] for i in small)
    if left >= low:
        balanced = _balanced(small, weights, size, low, high)
        if balanced is None:
            raise AssertionError("buildings under size/2 always fit within bounds")
        return runs + balanced
    if left:
        hosts = [i for i in big if weights[i] + left <= high]
        if hosts:
            host = min(hosts, key=lambda i: (abs(i - small[0]), i))
            runs.remove([host])
            runs.append(sorted([host, *small]))
        else:
            runs.append(small)
    return runs
