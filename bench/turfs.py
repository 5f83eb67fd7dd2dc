"""Turf-cutting benchmark (issue "Door-to-door and phone canvassing"): cutting turfs for
100,000 doors over 60 polling stations, against the issue's anchor of 10 s.

Usage (from the repository root):

    .venv/bin/python bench/turfs.py [--doors 100000] [--stations 60] [--turf-size 60]
                                    [--databases sqlite,postgres] [--runs 3] [--seed 2027] [--keep]
    .venv/bin/python bench/turfs.py --doors 10000 --databases sqlite      # a quick check

The synthetic city (the same for every part, from --seed): --stations polling stations
of one commune on a grid of ~900 m cells, ~20 streets each (names as a register writes
them, distinct in the commune), numbers 1, 2, 3… along each street, odd numbers on one
side and even on the other (~9 m apart); 8 % of the numbers are buildings of 2 to 4
stairwells (one door each), the rest one door (a house or a small building, 1–12
dwellings). Street lengths vary (log-normal); the doors add up to exactly --doors.

1. **cut()** (`suffrage/canvassing/turfs.py`), in the driver, on those doors as
   DoorSpec in shuffled order: --runs timings, the median reported; the turfs are
   checked (every door once, buildings whole, sizes within [size/2, size·1.5] or one of
   the documented exceptions).
2. **canvass_plan end to end**, per database, in a child process on a fresh database
   (SQLite file bench/out/turfs.sqlite3, PostgreSQL database suffrage_bench_turfs,
   dropped and created): `migrate`, then outside the timing one campaign, the commune
   and its stations, the single doors as AddressPoints (street key and number), the
   stairwells as addresses of the campaign's people (building, stairwell, floor; one
   person each), then ANALYZE. Timed: `canvass_plan_start` → job finished (the
   immediate task backend runs the job inline on commit), for a canvass whose area is
   the --stations stations, --runs times: the first on an empty canvass, the next ones
   replacing its doors. Probes sum the time in `doors_for_area`, `cut`, the door
   inserts and the removal of the previous doors. Checks: the job succeeded, the doors
   in the database are --doors, the turfs' door counts add up.

The anchor is the issue's goal, 10 s for 100,000 doors: each time is printed with its
ratio to it. Output: bench/out/turfs-<doors>.txt. One run at a time (bench/out/turfs.lock).
Needs PostgreSQL on 127.0.0.1:5432 with trust auth for `postgres` for the PostgreSQL part.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

from common import PhaseTimer, Report, child_env, code_snapshot, pg_admin, take_lock

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PEOPLE_DATA = ROOT / "suffrage" / "people" / "data"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "suffrage_bench_turfs"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
COMMUNE = "29019"
ANCHOR_SECONDS = 10.0  # the issue: 100,000 doors over 60 polling stations in 10 s at most
ANCHOR_DOORS = 100_000
STREETS_PER_STATION = 20
BUILDING_SHARE = 0.08  # numbers that are buildings of several stairwells
SPACING_M = 9.0
METRES_PER_DEGREE = 111_320.0
STREET_KINDS = (("Rue", 60), ("Avenue", 8), ("Boulevard", 4), ("Allée", 8), ("Impasse", 8), ("Chemin", 6), ("Quai", 2))


class CityDoor(NamedTuple):
    station: int  # 0-based index
    street: str
    number: str
    building: str
    stairwell: str
    floor: str  # of the person living there (stairwell doors only)
    dwellings: int
    lon: float
    lat: float


# --- The synthetic city --------------------------------------------------------------


def street_names(rng: random.Random, count: int) -> list[str]:
    """`count` street names, distinct once keyed: Brest's real ones, then "Rue Marie Le Gall"…"""
    sys.path.insert(0, str(ROOT))
    from suffrage.territory.geometry import street_key

    def lines(name: str) -> list[str]:
        return [line.strip() for line in (PEOPLE_DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]

    surnames = lines("surnames.txt")
    first_names = [line.split(",")[1] for line in lines("prenoms.csv")[1:]]
    kinds, weights = zip(*STREET_KINDS, strict=True)
    names: list[str] = []
    used: set[str] = set()
    real = iter(lines("brest_streets.txt"))
    while len(names) < count:
        name = next(real, None)
        if name is None:
            kind = rng.choices(kinds, weights)[0]
            name = (
                f"{kind} {rng.choice(first_names)} {rng.choice(surnames)}"
                if rng.random() < 0.6
                else f"{kind} {rng.choice(surnames)}"
            )
        name = name[0].upper() + name[1:]
        if street_key(name) not in used:
            used.add(street_key(name))
            names.append(name)
    return names


def city(doors: int, stations: int, seed: int) -> list[CityDoor]:
    rng = random.Random(seed)
    names = iter(street_names(rng, stations * STREETS_PER_STATION))
    result: list[CityDoor] = []
    columns = math.ceil(math.sqrt(stations))
    for station in range(stations):
        quota = doors // stations + (1 if station < doors % stations else 0)
        west, south = -4.56 + (station % columns) * 0.012, 48.36 + (station // columns) * 0.008
        weights = [rng.lognormvariate(0, 0.6) for _ in range(STREETS_PER_STATION)]
        lengths = [max(1, round(quota * w / sum(weights))) for w in weights]
        lengths[-1] += quota - sum(lengths)
        while lengths[-1] < 1:  # rounding took too much from the last street
            donor = max(range(len(lengths)), key=lengths.__getitem__)
            lengths[donor] -= 1
            lengths[-1] += 1
        for length in lengths:
            result.extend(_street(rng, station, next(names), length, west, south))
    return result


def _street(rng: random.Random, station: int, name: str, length: int, west: float, south: float) -> list[CityDoor]:
    start_lon, start_lat = west + rng.uniform(0.001, 0.011), south + rng.uniform(0.001, 0.007)
    angle = rng.uniform(0, math.pi)
    metres_lon = METRES_PER_DEGREE * math.cos(math.radians(start_lat))
    doors: list[CityDoor] = []
    number = 0
    while len(doors) < length:
        number += 1
        along = (number - 1) // 2 * SPACING_M
        side = 8.0 if number % 2 else -8.0
        dx = along * math.cos(angle) - side * math.sin(angle)
        dy = along * math.sin(angle) + side * math.cos(angle)
        lon, lat = start_lon + dx / metres_lon, start_lat + dy / METRES_PER_DEGREE
        left = length - len(doors)
        stairwells = min(rng.randint(2, 4), left) if rng.random() < BUILDING_SHARE and left > 1 else 1
        if stairwells == 1:
            dwellings = 1 if rng.random() < 0.7 else rng.randint(2, 12)
            doors.append(CityDoor(station, name, str(number), "", "", "", dwellings, lon, lat))
            continue
        building = f"Bât {rng.choice('ABCDEFGH')}"
        for index in range(stairwells):
            floor = rng.choice(["RDC", "1", "2", "3", "4", "5", "6"])
            doors.append(CityDoor(station, name, str(number), building, f"Esc. {index + 1}", floor, 1, lon, lat))
    return doors


def station_code(index: int) -> str:
    return f"{COMMUNE}_{index + 1:04d}"


# --- Driver ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--doors", type=int, default=100_000)
    parser.add_argument("--stations", type=int, default=60)
    parser.add_argument("--turf-size", type=int, default=60)
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def check_turfs(plans: list[Any], doors: list[Any], size: int) -> dict[str, int]:
    """Every door once, buildings whole, one station per turf; sizes out of bounds counted."""
    from suffrage.canvassing.turfs import building_of, size_bounds

    low, high = size_bounds(size)
    seen = Counter(door.key for plan in plans for door in plan.doors)
    problems = Counter[str]()
    if seen != Counter(door.key for door in doors):
        problems["doors not exactly once"] += 1
    turf_of: dict[tuple[str, ...], int] = {}
    for index, plan in enumerate(plans):
        if len({door.station for door in plan.doors}) != 1:
            problems["turfs mixing stations"] += 1
        for door in plan.doors:
            if turf_of.setdefault((door.station, *building_of(door)), index) != index:
                problems["buildings split"] += 1
    sizes = [len(plan.doors) for plan in plans]
    return {
        **problems,
        "below size/2": sum(size < low for size in sizes),
        "above size*1.5": sum(size > high for size in sizes),
    }


def time_cut(args: argparse.Namespace, say: Report) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from suffrage.canvassing.turfs import DoorSpec, cut

    started = time.perf_counter()
    doors = [
        DoorSpec(
            key=f"d{i}",
            station=station_code(door.station),
            street=door.street,
            number=door.number,
            building=door.building,
            stairwell=door.stairwell,
            floors=door.floor,
            dwellings=door.dwellings,
            lon=door.lon,
            lat=door.lat,
        )
        for i, door in enumerate(city(args.doors, args.stations, args.seed))
    ]
    random.Random(args.seed).shuffle(doors)
    say(f"city: {len(doors):,} doors generated in {time.perf_counter() - started:.1f} s")
    times, plans = [], []
    for _run in range(args.runs):
        started = time.perf_counter()
        plans = cut(doors, args.turf_size)
        times.append(time.perf_counter() - started)
    sizes = sorted(len(plan.doors) for plan in plans)
    return {
        "times": times,
        "turfs": len(plans),
        "sizes": [sizes[0], sizes[len(sizes) // 2], sizes[-1]],
        "checks": check_turfs(plans, doors, args.turf_size),
        "stations": len({plan.station for plan in plans}),
        "stairwell_doors": sum(1 for door in doors if door.stairwell),
    }


def run_child(database: str, args: argparse.Namespace, say: Report) -> dict[str, Any]:
    url = f"sqlite:///{OUT / 'turfs.sqlite3'}" if database == "sqlite" else PG_URL
    env = child_env(data_dir=OUT / "data-turfs", database_url=url)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", database]
    command += ["--doors", str(args.doors), "--stations", str(args.stations), "--turf-size", str(args.turf_size)]
    command += ["--runs", str(args.runs), "--seed", str(args.seed)] + (["--keep"] if args.keep else [])
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    result: dict[str, Any] = {}
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        else:
            say(line.rstrip("\n"))
    if process.wait() != 0:
        say(f"  child {database} exited with {process.returncode}: its figures are missing")
    return result


def ratio(seconds: float, doors: int) -> str:
    """Time against the anchor, scaled linearly to the anchor's 100,000 doors."""
    scaled = seconds * ANCHOR_DOORS / doors
    verdict = "MET" if scaled <= ANCHOR_SECONDS else "NOT MET"
    projected = "" if doors == ANCHOR_DOORS else f", {scaled:.2f} s projected to {ANCHOR_DOORS:,} doors"
    share = scaled / ANCHOR_SECONDS
    return f"{seconds:.2f} s{projected} = {share:.1%} of the {ANCHOR_SECONDS:.0f} s anchor ({verdict})"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args)
    OUT.mkdir(exist_ok=True)
    lock = take_lock(OUT / "turfs.lock")
    if lock is None:
        return 1
    say = Report()
    say(f"Turf cutting: {args.doors:,} doors over {args.stations} polling stations, turfs of {args.turf_size}")
    when = time.strftime("%Y-%m-%d %H:%M")
    say(f"code {code_snapshot(ROOT / 'suffrage')}, load average {os.getloadavg()[0]:.1f}, {when}")
    say()
    found = time_cut(args, say)
    median = statistics.median(found["times"])
    say(f"cut(): {', '.join(f'{t:.2f}' for t in found['times'])} s; median {ratio(median, args.doors)}")
    say(
        f"  {found['turfs']:,} turfs in {found['stations']} stations; doors per turf min/median/max "
        f"{'/'.join(map(str, found['sizes']))}; {found['stairwell_doors']:,} stairwell doors; checks {found['checks']}"
    )
    results = {}
    for database in [name.strip() for name in args.databases.split(",") if name.strip()]:
        say()
        say(f"canvass_plan on {database}:")
        results[database] = run_child(database, args, say)
    say()
    say("Summary (the anchor: 10 s for 100,000 doors over 60 polling stations)")
    say(f"  cut() alone, median of {args.runs}: {ratio(median, args.doors)}")
    for database, result in results.items():
        if not result:
            continue
        first, *again = result["runs"]
        say(f"  {database}, canvass_plan_start → job finished, empty canvass: {ratio(first['seconds'], args.doors)}")
        if again:
            replacing = statistics.median(run["seconds"] for run in again)
            say(f"  {database}, same, replacing its doors (median of {len(again)}): {ratio(replacing, args.doors)}")
    (OUT / f"turfs-{args.doors}.txt").write_text("\n".join(say.lines) + "\n", encoding="utf-8")
    lock.close()
    return 0


# --- Child: one database ---------------------------------------------------------------


def fresh_database(database: str) -> None:
    if database == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT / 'turfs.sqlite3'}{suffix}").unlink(missing_ok=True)
    else:
        pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        pg_admin(PG_ADMIN_URL, f"CREATE DATABASE {PG_NAME}")


def load_city(args: argparse.Namespace) -> tuple[Any, Any, Counter[str]]:
    """The campaign, its owner and its city: single doors as address points, stairwells as people's addresses."""
    from suffrage.core.bulk import insert_rows
    from suffrage.core.models import Campaign, Membership, User
    from suffrage.people.models import Person, PostalAddress
    from suffrage.territory.geometry import number_key, street_key
    from suffrage.territory.models import AddressPoint, CampaignCommune, Commune, PollingStation

    campaign = Campaign.objects.create(name="Bench turfs", slug="bench-turfs")
    owner = User.objects.create_user(email="bench-turfs-owner@example.org", password="bench-turfs-password")
    Membership.objects.create(campaign=campaign, user=owner, role="owner")
    commune = Commune.objects.create(code=COMMUNE, name="Brest", departement="29")
    CampaignCommune.objects.create(campaign=campaign, commune=commune)
    stations = PollingStation.objects.bulk_create(
        PollingStation(code=station_code(i), commune=commune, number=f"{i + 1:04d}") for i in range(args.stations)
    )
    ids = [station.pk for station in stations]
    doors = city(args.doors, args.stations, args.seed)
    points = [
        {
            "source_id": f"bench:{i}",
            "commune_code": COMMUNE,
            "station_id": ids[door.station],
            "lon": door.lon,
            "lat": door.lat,
            "street": street_key(door.street),
            "number": number_key(door.number),
            "dwellings": door.dwellings,
        }
        for i, door in enumerate(doors)
        if not door.stairwell
    ]
    for start in range(0, len(points), 20_000):
        insert_rows(AddressPoint, points[start : start + 20_000])
    stairwells = [door for door in doors if door.stairwell]
    people = Person.objects.bulk_create(
        (Person(campaign=campaign, source="import", legal_basis="consent") for _ in stairwells), batch_size=5000
    )
    addresses = [
        {
            "person_id": person.pk,
            "number": door.number,
            "street": door.street,
            "building": door.building,
            "stairwell": door.stairwell,
            "floor": door.floor,
            "postcode": "29200",
            "town": "Brest",
            "insee_code": COMMUNE,
            "polling_station_id": ids[door.station],
            "geocode_method": "address_exact",
            "lon": door.lon,
            "lat": door.lat,
        }
        for person, door in zip(people, stairwells, strict=True)
    ]
    for start in range(0, len(addresses), 20_000):
        insert_rows(PostalAddress, addresses[start : start + 20_000])
    return campaign, owner, Counter({"address points": len(points), "stairwell addresses": len(addresses)})


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    OUT.mkdir(exist_ok=True)
    fresh_database(args.child)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from suffrage.canvassing import planning
    from suffrage.canvassing.models import Canvass, Door, Turf
    from suffrage.core.models import Job

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    say = print
    say(f"  migrate {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    campaign, owner, loaded = load_city(args)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    say(f"  data loaded in {time.perf_counter() - started:.1f} s (not timed): {dict(loaded)}")
    canvass = Canvass.objects.create(
        campaign=campaign,
        name="Bench",
        area={"stations": [station_code(i) for i in range(args.stations)]},
        turf_size=args.turf_size,
        created_by=owner,
    )
    probes = {name: PhaseTimer(planning, name) for name in ("doors_for_area", "cut", "_write", "_remove_unvisited")}
    runs = []
    for run in range(args.runs):
        for probe in probes.values():
            probe.seconds, probe.calls = 0.0, 0
        started = time.perf_counter()
        job = planning.canvass_plan_start(canvass=canvass, actor=owner)
        seconds = time.perf_counter() - started
        job.refresh_from_db()
        doors = Door.objects.filter(canvass=canvass).count()
        counted = sum(Turf.objects.filter(canvass=canvass).values_list("doors_count", flat=True))
        ok = job.status == Job.Status.SUCCEEDED and doors == counted == args.doors
        phases = {name: round(probe.seconds, 2) for name, probe in probes.items()}
        # The rest: turfs, job and audit rows, and the COMMIT (on PostgreSQL, the deferred
        # foreign-key checks of every door inserted or deleted run there).
        phases["rest"] = round(seconds - sum(phases.values()), 2)
        say(
            f"  run {run + 1}: {seconds:.2f} s, job {job.status} {job.report}; doors in the database {doors:,}, "
            f"in turfs {counted:,} ({'OK' if ok else 'MISMATCH'}); phases {phases}"
        )
        if job.status != Job.Status.SUCCEEDED:
            say(f"  errors: {job.errors[:3]}")
        runs.append({"seconds": seconds, "ok": ok, "phases": phases, "report": job.report})
    connection.close()
    if not args.keep:
        if args.child == "postgres":
            pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{OUT / 'turfs.sqlite3'}{suffix}").unlink(missing_ok=True)
    print("RESULT " + json.dumps({"runs": runs, "loaded": dict(loaded)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
