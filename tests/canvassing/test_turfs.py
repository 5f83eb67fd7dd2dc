"""Cutting doors into turfs: properties that hold for any set of doors, and a few
walks checked by hand."""

import re
from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suffrage.canvassing.turfs import DoorSpec, TurfPlan, cut, size_bounds

STATIONS = ["29019_0001", "29019_0002", "29019_0013", ""]
STREETS = ["Rue de Siam", "Rue Jean Jaurès", "Place de la Liberté", "Rue Louis Pasteur", ""]
NUMBERS = ["1", "2", "3", "4", "5", "6", "7", "10", "12", "12bis", "12 bis", "12ter", "13", "15B", "28", "", "Ker"]
BUILDINGS = ["", "", "Bât A", "Bât B", "Résidence Les Mouettes"]


def building(door: DoorSpec) -> tuple[str, ...]:
    """Same street, number and building name; a door with neither number nor building stands alone."""
    if door.number or door.building:
        return (door.station, door.street, door.number, door.building)
    return ("alone", door.key)


def house_number(door: DoorSpec) -> int | None:
    match = re.match(r"\s*(\d+)", door.number)
    return int(match.group(1)) if match else None


buildings = st.tuples(
    st.sampled_from(STATIONS),
    st.sampled_from(STREETS),
    st.sampled_from(NUMBERS),
    st.sampled_from(BUILDINGS),
    st.one_of(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.integers(20, 60)),  # stairwells
    st.integers(1, 40),  # dwellings
    st.one_of(st.none(), st.tuples(st.floats(-4.52, -4.46), st.floats(48.38, 48.41))),
)


@st.composite
def door_sets(draw: st.DrawFn) -> list[DoorSpec]:
    """Buildings of 1 to 6 stairwells, now and then one far bigger than any turf."""
    doors = []
    for index, (station, street, number, name, stairwells, dwellings, point) in enumerate(
        draw(st.lists(buildings, max_size=45))
    ):
        lon, lat = point or (None, None)
        doors.extend(
            DoorSpec(
                key=f"d{index}-{stairwell}",
                station=station,
                street=street,
                number=number,
                building=name,
                stairwell=chr(ord("A") + stairwell) if stairwells > 1 else "",
                dwellings=dwellings,
                lon=lon,
                lat=lat,
            )
            for stairwell in range(stairwells)
        )
    return doors


turf_sizes = st.integers(1, 40)
examples = settings(max_examples=100, deadline=None)


@examples
@given(door_sets(), turf_sizes)
def test_every_door_is_in_exactly_one_turf(doors, size):
    plans = cut(doors, size)
    keys = Counter(door.key for plan in plans for door in plan.doors)
    assert keys == Counter(door.key for door in doors)
    assert all(count == 1 for count in keys.values())
    assert all(plan.doors for plan in plans)


@examples
@given(door_sets(), turf_sizes)
def test_turf_sizes_stay_within_bounds_but_for_the_documented_exceptions(doors, size):
    low, high = size_bounds(size)
    assert low >= size / 2 and high <= size * 1.5
    plans = cut(doors, size)
    by_station: dict[str, list[TurfPlan]] = defaultdict(list)
    for plan in plans:
        by_station[plan.station].append(plan)
    for plan in plans:
        count = len(plan.doors)
        if count > high:  # a building too big for any turf, alone
            assert len({building(door) for door in plan.doors}) == 1
        elif count < low:
            # Its station's only small turf; each other turf is one building too big to take its doors.
            others = [other for other in by_station[plan.station] if other is not plan]
            assert all(len(other.doors) >= low for other in others)
            for other in others:
                assert len({building(door) for door in other.doors}) == 1
                assert len(other.doors) + count > high


@examples
@given(door_sets(), turf_sizes)
def test_buildings_are_never_split_and_turfs_never_mix_stations(doors, size):
    turf_of: dict[tuple[str, ...], int] = {}
    for index, plan in enumerate(cut(doors, size)):
        assert {door.station for door in plan.doors} == {plan.station}
        for door in plan.doors:
            assert turf_of.setdefault(building(door), index) == index


@examples
@given(door_sets(), turf_sizes)
def test_along_a_street_the_walk_goes_up_the_odd_side_and_down_the_even_side(doors, size):
    for plan in cut(doors, size):
        by_street: dict[str, list[DoorSpec]] = defaultdict(list)
        for door in plan.doors:
            by_street[door.street].append(door)
        for street, street_doors in by_street.items():
            if not street:
                continue
            # Each street's doors are one stretch of the turf's walk.
            positions = [i for i, door in enumerate(plan.doors) if door.street == street]
            assert positions == list(range(positions[0], positions[0] + len(positions)))
            numbers = [house_number(door) for door in street_doors]
            sides = [2 if n is None else n % 2 == 0 for n in numbers]
            assert sides == sorted(sides), numbers  # odd, then even, then no number
            odd = [n for n in numbers if n is not None and n % 2]
            even = [n for n in numbers if n is not None and n % 2 == 0]
            assert odd == sorted(odd)
            assert even == sorted(even, reverse=True)


@settings(max_examples=60, deadline=None)
@given(door_sets(), turf_sizes, st.randoms(use_true_random=False))
def test_the_cut_depends_on_the_doors_not_on_their_order(doors, size, rng):
    shuffled = list(doors)
    rng.shuffle(shuffled)
    assert cut(shuffled, size) == cut(doors, size)


def _street(name, numbers, *, station="29019_0013", lon=-4.49, lat=48.39, step=0.0001):
    return [
        DoorSpec(key=f"{name}-{number}", station=station, street=name, number=number, lon=lon, lat=lat + i * step)
        for i, number in enumerate(numbers)
    ]


def test_the_walk_goes_up_the_odd_numbers_then_back_down_the_even_ones():
    doors = _street("Rue de Siam", ["2", "1", "12bis", "4", "3", "12", "5", "Ker Huel", "14", "12 ter"])
    [plan] = cut(doors, 20)
    assert [door.number for door in plan.doors] == ["1", "3", "5", "14", "12 ter", "12bis", "12", "4", "2", "Ker Huel"]


def test_stairwells_of_a_building_stay_together_in_order():
    doors = [
        DoorSpec(key=f"k{i}", station="29019_0001", street="Rue de Brest", number="7", building="Bât A", stairwell=s)
        for i, s in enumerate(["C", "A", "B"])
    ] + [DoorSpec(key="k9", station="29019_0001", street="Rue de Brest", number="9")]
    [plan] = cut(doors, 4)
    assert [(door.number, door.stairwell) for door in plan.doors] == [("7", "A"), ("7", "B"), ("7", "C"), ("9", "")]


def test_turfs_are_about_the_size_asked_and_named_after_their_first_street():
    doors = _street("Rue de Siam", [str(n) for n in range(1, 501)]) + _street(
        "Rue Algésiras", [str(n) for n in range(1, 501)], lon=-4.4895
    )
    plans = cut(doors, 60)
    assert len(plans) == 17
    assert all(58 <= len(plan.doors) <= 59 for plan in plans)
    assert plans[0].name == "13 · Rue de Siam (1)"  # the westernmost street first
    assert plans[-1].name == "13 · Rue Algésiras (17)"


def test_neighbouring_streets_follow_one_another():
    # Three streets west to east, and one far east that the alphabet would put second.
    doors = (
        _street("A", ["1", "3"], lon=-4.500)
        + _street("Z", ["1", "3"], lon=-4.499)
        + _street("M", ["1", "3"], lon=-4.498)
        + _street("B", ["1", "3"], lon=-4.400)
    )
    [plan] = cut(doors, 8)
    assert [door.street for door in plan.doors[::2]] == ["A", "Z", "M", "B"]


def test_a_small_station_makes_one_small_turf_and_a_huge_building_stands_alone():
    small = _street("Rue de Siam", ["1", "3", "5"], station="29019_0001")
    tower = [
        DoorSpec(key=f"t{i}", station="29019_0002", street="Rue de Brest", number="1", stairwell=str(i))
        for i in range(40)
    ]
    beside = _street("Rue de Brest", [str(n) for n in range(3, 43, 2)], station="29019_0002")
    plans = cut(small + tower + beside, 20)
    assert [(plan.station, len(plan.doors)) for plan in plans] == [
        ("29019_0001", 3),
        ("29019_0002", 40),
        ("29019_0002", 20),
    ]


def test_doors_without_street_are_walked_as_compact_patches():
    # A 20 × 20 grid of register points without street: 4 turfs of 100, each a compact patch.
    doors = [
        DoorSpec(key=f"p{x}-{y}", station="29046_0001", street="", number="", lon=x / 1000 - 4.33, lat=y / 1000 + 48)
        for x in range(20)
        for y in range(20)
    ]
    plans = cut(doors, 100, unnamed_street="sans nom")
    assert [len(plan.doors) for plan in plans] == [100] * 4
    assert plans[0].name == "1 · sans nom (1)"
    for plan in plans:
        lons = [door.lon for door in plan.doors]
        lats = [door.lat for door in plan.doors]
        assert (max(lons) - min(lons)) * (max(lats) - min(lats)) <= 0.0101 * 0.0101


def test_bad_input_is_refused():
    door = DoorSpec(key="a", station="29019_0001", street="Rue de Siam", number="1")
    with pytest.raises(ValueError, match="key"):
        cut([door, door], 10)
    with pytest.raises(ValueError, match="at least one door"):
        cut([door], 0)
    assert cut([], 10) == []
