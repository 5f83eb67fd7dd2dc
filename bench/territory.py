"""Territory benchmark: a national results import against a plain CSV read, geocoding
throughput, and the map endpoint.

Usage (from the repository root):

    .venv/bin/python bench/territory.py [--databases sqlite,postgres] [--stations 69000]
                                        [--points 1000000] [--queries 100000]
                                        [--map-stations 1000] [--requests 100]
                                        [--keep] [--skip-geocode] [--profile]

The driver writes one national-size results file under bench/out/ (the real rows of
suffrage/elections/demo_data/legislatives-2024-t1-29-circ2-3.csv repeated with new
commune codes and polling-station numbers, every row padded to 20 candidate blocks;
see write_national_csv), then runs itself as child processes:

- `--child geocode`, once, with no database: a Geocoder over Brest's real polling-station
  boundaries (translated copies of them, with new commune codes) and `--points`
  synthetic address points along synthetic streets; `--queries` addresses located with
  locate_many (60 % exact street and number, 10 % misspelt street, 10 % number not on the
  street, 20 % coordinates only), in chunks of the geocoding job's size;
- `--child sqlite|postgres`, once per database, with DATABASE_URL pointing at a fresh
  database (SQLite file under bench/out/territory-sqlite/, PostgreSQL database
  suffrage_bench_territory created and dropped via the `postgres` database):
  1. the anchor: the same file read with a plain csv.reader loop touching every cell
     (best of 3, same encoding and delimiter);
  2. the results import through the pipeline (batch_create, batch_set_settings,
     import_start -> job finished, run inline once by TASKS_BACKEND=immediate);
  3. the map endpoint (territory:map_data, measure=share, one family) for a campaign of
     `--map-stations` polling stations with real shapes (Brest's 122 polygons translated),
     whose results are (a) in the national round just imported and (b) in a round of their
     own: the first request (cold shape cache) separately, then `--requests` GETs, p50/p95,
     and the mean time per request in the view's helpers (families_of, station_values,
     map_geojson).

One run at a time (bench/out/territory.lock): runs share their database names and files.
Each child also records its load average and a hash of suffrage/**/*.py (the driver warns
when the children ran different code). Each prints one `RESULT {json}` line; the driver prints a table and the goals,
MET or NOT MET with the measured value. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import PhaseTimer, peak_rss_mb, percentiles, pg_admin, reset_peak_rss, take_lock
from common import child_env as common_child_env

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "suffrage_bench_territory"
PG_BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
SOURCE_CSV = ROOT / "suffrage" / "elections" / "demo_data" / "legislatives-2024-t1-29-circ2-3.csv"
BOUNDARIES = ROOT / "suffrage" / "territory" / "demo_data" / "brest-bureaux-de-vote.geojson"
PEOPLE_DATA = ROOT / "suffrage" / "people" / "data"
MB = 1024 * 1024
OWNER_EMAIL = "bench-owner@example.org"
RESULTS_SLUG, MAP_SLUG = "bench-results", "bench-map"
ELECTION = {"kind": "legislative", "year": 2024, "name": "Bench national", "round": 1, "date": "2024-06-30"}
OWN_ROUND_ELECTION = "Bench map only"

# The national file.
BLOCKS = 20  # candidate blocks per row
FIXED_COLUMNS = 19  # columns before the first candidate block in the 2024 legislative layout
BLOCK_WIDTH = 9
# Added candidates: minor families, as in constituencies with many candidates.
MINOR_NUANCES = ("DIV", "EXG", "DVG", "ECO", "REG", "DSV", "EXD", "DVD", "DVC", "DXG", "DIV", "ECO")
ADDED_VOTES = (0, 0, 0, 1, 1, 2, 3)  # per added candidate, taken from the row's leading candidate

# Geocoding.
POINTS_PER_COPY = 50_000  # address points per copy of the boundary file (Brest and two neighbours)
MEAN_SPACING_M = 18.0  # metres between consecutive numbers on one side of a street
SIDE_OFFSET_M = 8.0  # odd numbers on one side, even on the other
METRES_PER_DEGREE = 111_320.0
QUERY_MIX = (("exact", 0.6), ("typo", 0.1), ("unknown_number", 0.1), ("coordinates", 0.2))
ABBREVIATIONS = {"rue": "r", "avenue": "av", "boulevard": "bd", "impasse": "imp", "place": "pl", "allée": "all"}
STREET_TYPES = (
    ("rue", 60),
    ("avenue", 8),
    ("boulevard", 3),
    ("impasse", 9),
    ("place", 3),
    ("allée", 7),
    ("chemin", 5),
    ("route", 3),
    ("square", 2),
)


# --- Small helpers (the same as bench/people_import.py's) ----------------------------


def code_snapshot() -> dict[str, Any]:
    """Which application code a child runs: a hash of suffrage/**/*.py and the newest change,
    so that children that ran different code (the code changed during the run) can be told apart."""
    import hashlib

    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted((ROOT / "suffrage").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    changed = time.strftime("%H:%M:%S", time.gmtime(newest))
    return {"hash": digest.hexdigest()[:10], "newest_change_utc": changed}


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# --- The national results file ----------------------------------------------------------


def commune_codes() -> Any:
    """Synthetic INSEE codes spread over the départements: 01001, 02001, … 2B001, 01002, …"""
    departments = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
    for index in range(len(departments) * 899):  # numbers 001-899: 9xx stays free for the map's communes
        yield departments[index % len(departments)] + f"{1 + index // len(departments):03d}"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%".replace(".", ",") if whole else ""


def padded_rows(seed: int) -> tuple[list[str], list[list[str]], Counter[int]]:
    """The source header and rows, every row with BLOCKS candidate blocks.

    The real blocks (8 or 10 candidates) are kept as they are; the added ones are minor
    candidates (the same ones, slot by slot, on every row) with 0 to 3 votes each, taken
    from the row's leading candidate: Inscrits, Votants, Exprimés, Blancs and Nuls are
    untouched and Σ Voix = Exprimés still holds. The percentages of the changed blocks are
    recomputed (the importer ignores them anyway)."""
    rng = random.Random(seed)
    surnames = [line.strip() for line in (PEOPLE_DATA / "surnames.txt").read_text(encoding="utf-8").splitlines()]
    first_names = [
        line.split(",")[:2] for line in (PEOPLE_DATA / "prenoms.csv").read_text(encoding="utf-8").splitlines()[1:]
    ]
    with SOURCE_CSV.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream, delimiter=";")
        header = next(reader)
        rows = [row for row in reader if any(row)]
    block_names = [name.removesuffix(" 1") for name in header[FIXED_COLUMNS : FIXED_COLUMNS + BLOCK_WIDTH]]
    new_header = header[:FIXED_COLUMNS] + [f"{name} {n}" for n in range(1, BLOCKS + 1) for name in block_names]
    voix, registered_at, valid_at = block_names.index("Voix"), header.index("Inscrits"), header.index("Exprimés")
    added = {}
    for slot in range(BLOCKS):
        sex, first = rng.choice(first_names)
        added[slot] = (MINOR_NUANCES[slot % len(MINOR_NUANCES)], rng.choice(surnames).upper(), first, sex)
    real_blocks: Counter[int] = Counter()
    padded = []
    for row in rows:
        blocks = [row[start : start + BLOCK_WIDTH] for start in range(FIXED_COLUMNS, len(row), BLOCK_WIDTH)]
        blocks = [block for block in blocks if any(cell.strip() for cell in block)]
        real_blocks[len(blocks)] += 1
        registered, valid = int(row[registered_at]), int(row[valid_at])
        leader = max(range(len(blocks)), key=lambda i: int(blocks[i][voix]))
        for slot in range(len(blocks), BLOCKS):
            nuance, name, first, sex = added[slot]
            votes = min(rng.choice(ADDED_VOTES), int(blocks[leader][voix]))
            blocks[leader][voix] = str(int(blocks[leader][voix]) - votes)
            sexe = "FEMININ" if sex == "F" else "MASCULIN"
            blocks.append([str(slot + 1), nuance, name, first, sexe, str(votes), "", "", ""])
        for block in blocks:
            block[voix + 1], block[voix + 2] = _percent(int(block[voix]), registered), _percent(int(block[voix]), valid)
        assert sum(int(block[voix]) for block in blocks) == valid  # the generator's own check
        padded.append(row[:FIXED_COLUMNS] + [cell for block in blocks for cell in block])
    return new_header, padded, real_blocks


def write_national_csv(stations: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """About `stations` rows: the source rows repeated. Per repetition, the largest commune
    (Brest, 104 of the 201 rows) becomes one new city keeping its polling-station numbers, and
    every other row a commune of its own with polling station 0001: 98 communes per 201 rows,
    so 69,000 rows give about 33,600 communes (France: about 69,000 stations in 34,900 communes)."""
    header, rows, real_blocks = padded_rows(seed)
    department_at, department_name_at = header.index("Code département"), header.index("Libellé département")
    commune_at, station_at = header.index("Code commune"), header.index("Code BV")
    city = Counter(row[commune_at] for row in rows).most_common(1)[0][0]
    codes = commune_codes()
    path = OUT / f"territory-results-{stations}.csv"
    written, communes, repetitions = 0, 0, 0
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        while written < stations:
            repetitions += 1
            city_code = next(codes)
            communes += 1
            for row in rows:
                if written >= stations:
                    break
                out = list(row)
                if row[commune_at] == city:
                    code, number = city_code, row[station_at].zfill(4)
                else:
                    code, number = next(codes), "0001"
                    communes += 1
                out[department_at], out[department_name_at] = code[:2], f"Département {code[:2]}"
                out[commune_at], out[station_at] = code, number
                writer.writerow(out)
                written += 1
    info = {
        "path": str(path),
        "rows": written,
        "communes": communes,
        "repetitions": repetitions,
        "columns": len(header),
        "bytes": path.stat().st_size,
        "source_rows": len(rows),
        "real_blocks": dict(real_blocks),
        "seconds": time.perf_counter() - started,
    }
    return path, info


# --- Driver ------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--stations", type=int, default=69_000, help="rows (polling stations) of the national file")
    parser.add_argument("--points", type=int, default=1_000_000, help="address points of the geocoder")
    parser.add_argument("--queries", type=int, default=100_000, help="addresses to locate")
    parser.add_argument("--map-stations", type=int, default=1_000, help="polling stations on the map")
    parser.add_argument("--requests", type=int, default=100, help="timed GETs of the map data per round")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--keep", action="store_true", help="keep the bench databases and stored files")
    parser.add_argument("--skip-geocode", action="store_true", help="do not run the geocoding part")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the results import under cProfile (its time is then not comparable) and print the top",
    )
    parser.add_argument("--child", choices=["sqlite", "postgres", "geocode"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def data_dir(name: str) -> Path:
    return OUT / f"territory-{name}"


def sqlite_path() -> Path:
    return data_dir("sqlite") / "bench.sqlite3"


def reset_database(name: str) -> None:
    shutil.rmtree(data_dir(name), ignore_errors=True)
    (data_dir(name) / "static").mkdir(parents=True)  # STATIC_ROOT: whitenoise warns when it is missing
    if name == "postgres":
        pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        pg_admin(PG_ADMIN_URL, f"CREATE DATABASE {PG_BENCH_DB} ENCODING 'UTF8' TEMPLATE template0")


def cleanup(name: str) -> None:
    shutil.rmtree(data_dir(name), ignore_errors=True)
    if name == "postgres":
        try:
            pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        except Exception as error:
            print(f"  could not drop {PG_BENCH_DB}: {error}", flush=True)


def child_env(name: str) -> dict[str, str]:
    # The geocoding child never opens its database.
    database_url = PG_BENCH_URL if name == "postgres" else f"sqlite:///{sqlite_path()}"
    return common_child_env(data_dir=data_dir(name), database_url=database_url)


def run_child(name: str, csv_path: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    print(f"\n=== {name} ===", flush=True)
    try:
        reset_database(name)
    except Exception as error:  # no server: report and go on with the rest
        print(f"  cannot prepare the {name} database: {error}", flush=True)
        return None
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--csv", str(csv_path)]
    for option in ("points", "queries", "map_stations", "requests", "seed"):
        command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    command += ["--profile"] if args.profile else []
    result = None
    process = subprocess.Popen(command, cwd=ROOT, env=child_env(name), stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        else:
            print(line, end="", flush=True)
    if process.wait() != 0:
        print(f"  child {name} exited with {process.returncode}", flush=True)
    return result


def driver(args: argparse.Namespace) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    lock = take_lock(OUT / "territory.lock")
    if lock is None:
        return 3
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(databases) - {"sqlite", "postgres"}
    if unknown:
        print(f"Unknown database(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    print(f"Writing the national results file ({args.stations:,} rows) …", flush=True)
    csv_path, national = write_national_csv(args.stations, args.seed)
    print(
        f"  {csv_path.relative_to(ROOT)}: {national['rows']:,} rows, {national['communes']:,} communes, "
        f"{national['columns']} columns, {national['bytes'] / MB:.1f} MB in {national['seconds']:.1f} s",
        flush=True,
    )
    children = ([] if args.skip_geocode else ["geocode"]) + databases
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in children:
            result = run_child(name, csv_path, args)
            if result is not None:
                results[name] = result
    finally:
        if not args.keep:
            for name in children:
                cleanup(name)
    print_report(results, national, args, time.perf_counter() - started)
    return 0 if len(results) == len(children) else 1


# --- Report --------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _table(title: str, names: list[str], rows: list[tuple[str, list[str]]]) -> None:
    if not rows:
        return
    label_width = max(len(label) for label, _ in rows)
    widths = [max(len(name), *(len(cells[i]) for _, cells in rows)) for i, name in enumerate(names)]
    print(f"\n{title}")
    print(" " * label_width + "  " + "  ".join(name.rjust(w) for name, w in zip(names, widths, strict=True)))
    for label, cells in rows:
        print(label.ljust(label_width) + "  " + "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))


def _rows(
    results: dict[str, dict[str, Any]], names: list[str], spec: list[tuple[str, Any]]
) -> list[tuple[str, list[str]]]:
    rows = []
    for label, fn in spec:
        cells = []
        for name in names:
            try:
                cells.append(fn(results[name]))
            except (KeyError, TypeError, ZeroDivisionError, IndexError):
                cells.append("-")
        rows.append((label, cells))
    return rows


BREAKDOWN = (
    "families_of (form)",
    "station_values",
    "  of which station_rows",
    "map_geojson",
    "rest (middleware, session, form, response)",
)


def _breakdown_rows(scenario: str) -> list[tuple[str, Any]]:
    return [
        (f"    {name.strip()}", lambda r, name=name: f"{r['map'][scenario]['breakdown_ms'][name]:,.0f} ms")
        for name in BREAKDOWN
    ]


def _map_cell(r: dict[str, Any], scenario: str, key: str) -> str:
    figures = r["map"][scenario]
    if key == "p50/p95":
        return f"{_ms(figures['p50_ms'])} / {_ms(figures['p95_ms'])}"
    if key == "mean/max":
        return f"{_ms(figures['mean_ms'])} / {_ms(figures['max_ms'])}"
    if key == "cold":
        return _ms(figures["cold_ms"])
    if key == "queries":
        return f"{figures['queries']} ({figures['sql_ms']:.0f} ms SQL)"
    if key == "size":
        return f"{figures['bytes'] / 1024:,.0f} KB, {figures['features']:,} features"
    raise KeyError(key)


def print_report(
    results: dict[str, dict[str, Any]], national: dict[str, Any], args: argparse.Namespace, seconds: float
) -> None:
    databases = [name for name in results if name != "geocode"]
    print(
        f"\nTerritory benchmark — {national['rows']:,} polling stations × {BLOCKS} candidates "
        f"({national['communes']:,} communes, {national['bytes'] / MB:.1f} MB), "
        f"{args.map_stations:,} stations on the map, {args.requests} requests per round; total {seconds:.0f} s"
    )
    spec: list[tuple[str, Any]] = [
        ("plain csv read (best of 3)", lambda r: f"{r['plain']['seconds']:.2f} s"),
        ("plain read rate", lambda r: f"{r['plain']['rows_per_s']:,.0f} rows/s"),
        ("batch_create (store+hash+sniff)", lambda r: f"{r['import']['batch_create_seconds']:.2f} s"),
        ("import (start→finished)", lambda r: f"{r['import']['seconds']:.1f} s"),
        ("import rate", lambda r: f"{r['import']['rows_per_s']:,.0f} rows/s"),
        ("import / plain read", lambda r: f"{r['import']['seconds'] / r['plain']['seconds']:.1f} ×"),
        (
            "  incl. batch_create / plain read",
            lambda r: f"{(r['import']['seconds'] + r['import']['batch_create_seconds']) / r['plain']['seconds']:.1f} ×",
        ),
        ("  first pass (count_rows)", lambda r: f"{r['import']['phases']['count_rows']:.1f} s"),
        ("  parse + invariants", lambda r: f"{r['import']['phases']['parse_and_check']:.1f} s"),
        ("  _stations (communes, stations)", lambda r: f"{r['import']['phases']['stations']:.1f} s"),
        ("  _store (results, candidates)", lambda r: f"{r['import']['phases']['store']:.1f} s"),
        ("  ImportRow verdicts", lambda r: f"{r['import']['phases']['verdict_rows']:.1f} s"),
        ("  rest (read, progress, commits)", lambda r: f"{r['import']['phases']['rest']:.1f} s"),
        ("import_run calls", lambda r: str(r["import"]["runs"])),
        ("job status", lambda r: r["import"]["status"]),
        ("verdicts", lambda r: ", ".join(f"{k} {v:,}" for k, v in sorted(r["import"]["counts"].items()))),
        (
            "stations / communes in db",
            lambda r: f"{r['import']['db']['stations']:,} / {r['import']['db']['communes']:,}",
        ),
        (
            "results / candidate votes",
            lambda r: f"{r['import']['db']['results']:,} / {r['import']['db']['candidate_votes']:,}",
        ),
        ("peak RSS import", lambda r: f"{r['import']['peak_rss_mb']:.0f} MB"),
        ("map setup (+analyze)", lambda r: f"{r['map']['setup_seconds']:.1f} s ({r['map']['analyze']})"),
        ("map, national round: cold", lambda r: _map_cell(r, "national", "cold")),
        ("  p50 / p95", lambda r: _map_cell(r, "national", "p50/p95")),
        ("  mean / max", lambda r: _map_cell(r, "national", "mean/max")),
        ("  SQL per request (execute time¹)", lambda r: _map_cell(r, "national", "queries")),
        *_breakdown_rows("national"),
        ("  response", lambda r: _map_cell(r, "national", "size")),
        ("map, own round: cold", lambda r: _map_cell(r, "own", "cold")),
        ("  p50 / p95", lambda r: _map_cell(r, "own", "p50/p95")),
        ("  mean / max", lambda r: _map_cell(r, "own", "mean/max")),
        ("  SQL per request (execute time¹)", lambda r: _map_cell(r, "own", "queries")),
        *_breakdown_rows("own"),
        ("child total", lambda r: f"{r['total_seconds']:.0f} s"),
        ("load average at start / end", lambda r: f"{r['load']['start']:.1f} / {r['load']['end']:.1f}"),
        ("code (hash, newest change UTC)", lambda r: f"{r['code']['hash']} {r['code']['newest_change_utc']}"),
    ]
    _table("Results import and map", databases, _rows(results, databases, spec))
    print(
        "¹ time in cursor.execute: PostgreSQL computes the result there; SQLite mostly while the rows are\n"
        "  fetched, so its figure under-counts (the breakdown above times the view's helpers instead)."
    )
    hashes = {r["code"]["hash"] for r in results.values() if "code" in r}
    if len(hashes) > 1:
        print("WARNING: the application code changed during the run: the children did not all run the same code.")

    geo = results.get("geocode")
    if geo:
        rows = [
            ("address points / communes", f"{geo['points']:,} / {geo['communes']} ({geo['streets']:,} streets)"),
            ("station areas", f"{geo['areas']:,} (the file's {geo['brest_areas']} × {geo['copies']} copies)"),
            ("points generated in", f"{geo['generate_seconds']:.1f} s"),
            ("Geocoder built in", f"{geo['build_seconds']:.1f} s"),
            ("locate_many, all queries", f"{geo['queries']:,} in {geo['locate_seconds']:.2f} s"),
            ("throughput", f"{geo['addresses_per_s']:,.0f} addresses/s"),
        ]
        for category, figures in geo["categories"].items():
            rows.append(
                (
                    f"  {category} ({figures['n']:,})",
                    f"{figures['addresses_per_s']:,.0f}/s alone, right {100 * figures['right']:.1f} %, "
                    + ", ".join(f"{k} {v:,}" for k, v in sorted(figures["methods"].items())),
                )
            )
        rows.append(("peak RSS", f"{geo['peak_rss_mb']:,.0f} MB"))
        rows.append(("load average at start / end", f"{geo['load']['start']:.1f} / {geo['load']['end']:.1f}"))
        rows.append(("code (hash, newest change UTC)", f"{geo['code']['hash']} {geo['code']['newest_change_utc']}"))
        _table("Geocoding (no database)", ["geocode"], [(label, [value]) for label, value in rows])

    print("\nGoals:")
    for name in databases:
        r = results[name]
        if r.get("profiled"):
            print(f"  {name}: import goals not measured (profiled run)")
            continue
        ratio = r["import"]["seconds"] / r["plain"]["seconds"]
        print(f"  {name} import ≤ 3× plain read: {'MET' if ratio <= 3 else 'NOT MET'} ({ratio:.1f} ×)")
        seconds = r["import"]["seconds"]
        print(f"  {name} import ≤ 60 s: {'MET' if seconds <= 60 else 'NOT MET'} ({seconds:.1f} s)")
    if geo:
        rate = geo["addresses_per_s"]
        print(f"  geocoding ≥ 5,000 addresses/s: {'MET' if rate >= 5000 else 'NOT MET'} ({rate:,.0f} addresses/s)")
    else:
        print("  geocoding ≥ 5,000 addresses/s: not measured")
    for name in databases:
        for scenario, label in (("national", "national round"), ("own", "own round")):
            try:
                p95 = results[name]["map"][scenario]["p95_ms"]
            except KeyError:
                print(f"  {name} map p95 ≤ 300 ms ({label}): not measured")
                continue
            print(f"  {name} map p95 ≤ 300 ms ({label}): {'MET' if p95 <= 300 else 'NOT MET'} ({p95:,.0f} ms)")


# --- Geocoding child ---------------------------------------------------------------------


def spare_commune_codes() -> Any:
    """Commune codes the national file never uses (its numbers stop at 899): 29900, 29901, … 56999."""
    for department in ("29", "22", "56"):
        for number in range(900, 1000):
            yield f"{department}{number}"


def translated_copies(areas: list[Any], count: int, *, keep_first: bool = False) -> list[list[Any]]:
    """`count` copies of the boundary file's areas side by side (a grid). Each commune of each
    copy gets a code of its own (the file holds Brest and two neighbours); with keep_first,
    copy 0 keeps the real codes."""
    import numpy as np
    import shapely

    from suffrage.territory.geometry import StationArea, station_code

    west, south, east, north = (float(v) for v in shapely.total_bounds([area.geometry for area in areas]))
    columns = math.ceil(math.sqrt(count))
    spare = spare_commune_codes()
    copies = []
    for index in range(count):
        offset = np.array([(index % columns) * (east - west) * 1.02, (index // columns) * (north - south) * 1.02])
        codes: dict[str, str] = {}
        for area in areas:
            if area.commune_code not in codes:
                codes[area.commune_code] = area.commune_code if index == 0 and keep_first else next(spare)
        copies.append(
            [
                StationArea(
                    code=station_code(codes[area.commune_code], area.number),
                    commune_code=codes[area.commune_code],
                    number=area.number,
                    name=area.name,
                    geometry=shapely.transform(area.geometry, lambda xy, offset=offset: xy + offset),
                )
                for area in areas
            ]
        )
    return copies


def _street_names(rng: random.Random, count: int, used: set[str]) -> list[str]:
    """`count` street names as a register writes them ("Rue Marie Le Gall"), distinct once keyed."""
    from suffrage.territory.geometry import street_key

    surnames = [
        line.strip() for line in (PEOPLE_DATA / "surnames.txt").read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    first_names = [
        line.split(",")[1] for line in (PEOPLE_DATA / "prenoms.csv").read_text(encoding="utf-8").splitlines()[1:]
    ]
    real = [
        line.strip()
        for line in (PEOPLE_DATA / "brest_streets.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    kinds, weights = zip(*STREET_TYPES, strict=True)
    names: list[str] = []
    candidates = iter(real)
    while len(names) < count:
        name = next(candidates, None)
        if name is None:
            kind = rng.choices(kinds, weights)[0]
            style = rng.random()
            if style < 0.55:
                name = f"{kind} {rng.choice(first_names)} {rng.choice(surnames)}"
            elif style < 0.8:
                name = f"{kind} {rng.choice(surnames)}"
            else:
                name = f"{kind} de {rng.choice(surnames)}"
        name = name[0].upper() + name[1:]
        key = street_key(name)
        if key not in used:
            used.add(key)
            names.append(name)
    return names


def geocode_child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    total_started = time.perf_counter()
    snapshot = code_snapshot()
    start_load = load_average()
    reset_peak_rss()
    import django

    django.setup()
    import numpy as np
    import shapely

    from suffrage.territory.geometry import AddressPoint, Geocoder, read_boundaries, street_key
    from suffrage.territory.services import GEOCODE_CHUNK

    brest, problems = read_boundaries(BOUNDARIES.read_bytes())
    if problems:
        print(f"  boundary problems: {problems[:3]}", flush=True)
    copy_count = max(1, round(args.points / POINTS_PER_COPY))
    copies = translated_copies(brest, copy_count, keep_first=True)
    areas = [area for copy in copies for area in copy]
    by_commune: dict[str, list[Any]] = {}
    for area in areas:
        by_commune.setdefault(area.commune_code, []).append(area)
    communes = list(by_commune.items())
    print(
        f"  {args.points:,} address points in {copy_count} copies of the boundaries ({len(communes)} communes, "
        f"{len(areas):,} areas), {args.queries:,} queries …",
        flush=True,
    )

    # 1. Address points along synthetic streets: odd numbers on one side, even on the other,
    # numbers 1…k in order along the street; each point's station is the area it falls in.
    # Each commune gets points in proportion to its surface.
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    pyrng = random.Random(args.seed)
    surfaces = np.array([sum(area.geometry.area for area in commune_areas) for _code, commune_areas in communes])
    per_commune = np.floor(args.points * surfaces / surfaces.sum()).astype(int)
    per_commune[: args.points - int(per_commune.sum())] += 1
    points: list[Any] = []
    streets_total = 0
    street_of_point: list[int] = []  # index into street_info
    street_info: list[tuple[str, str, int]] = []  # (commune, display name, first point index)
    for (code, commune_areas), wanted in zip(communes, per_commune.tolist(), strict=True):
        geometries = np.array([area.geometry for area in commune_areas], dtype=object)
        union = shapely.union_all(geometries)
        west, south, east, north = union.bounds
        cos_lat = math.cos(math.radians((south + north) / 2))
        lengths: list[int] = []
        total = 0
        while total < wanted:
            lengths.append(int(rng.integers(4, 65)))  # numbers on the street: 34 on average
            total += lengths[-1]
        lengths[-1] -= total - wanted
        count = len(lengths)
        # Street starts: uniform inside the commune (rejection sampling in its bounding box).
        starts = np.empty((0, 2))
        while len(starts) < count:
            x = rng.uniform(west, east, count * 2)
            y = rng.uniform(south, north, count * 2)
            inside = shapely.contains_xy(union, x, y)
            starts = np.vstack([starts, np.column_stack([x[inside], y[inside]])])
        starts = starts[:count]
        angles = rng.uniform(0, math.pi, count)
        spacing = rng.uniform(0.6, 1.4, count) * MEAN_SPACING_M
        sizes = np.array(lengths)
        street = np.repeat(np.arange(count), sizes)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        j = np.arange(sizes.sum()) - offsets[street]  # 0-based position: number j + 1
        along = (j // 2) * spacing[street] + rng.normal(0, 1.5, len(j))
        side = np.where(j % 2 == 0, 1.0, -1.0) * SIDE_OFFSET_M  # number 1, 3, … on the left
        dx = np.cos(angles[street]) * along - np.sin(angles[street]) * side
        dy = np.sin(angles[street]) * along + np.cos(angles[street]) * side
        lon = starts[street, 0] + dx / (METRES_PER_DEGREE * cos_lat)
        lat = starts[street, 1] + dy / METRES_PER_DEGREE
        tree = shapely.STRtree(geometries)
        point_index, area_index = tree.query(shapely.points(lon, lat), predicate="intersects")
        found = np.full(len(lon), len(commune_areas), dtype=np.int64)
        np.minimum.at(found, point_index, area_index)
        names = _street_names(pyrng, count, set())
        keys = [street_key(name) for name in names]
        base = len(street_info)
        for index, name in enumerate(names):
            street_info.append((code, name, len(points) + int(offsets[index])))
        for s, n, x, y, a in zip(
            street.tolist(), (j + 1).tolist(), lon.tolist(), lat.tolist(), found.tolist(), strict=True
        ):
            points.append(
                AddressPoint(
                    lon=x,
                    lat=y,
                    station_code=commune_areas[a].code if a < len(commune_areas) else "",
                    street=keys[s],
                    number=str(n),
                    commune_code=code,
                )
            )
            street_of_point.append(base + s)
        streets_total += count
    generate_seconds = time.perf_counter() - started
    without_station = sum(1 for point in points if not point.station_code)
    print(
        f"    {len(points):,} points on {streets_total:,} streets in {generate_seconds:.1f} s "
        f"({without_station:,} outside every area)",
        flush=True,
    )

    # 2. The queries, with the station each should find.
    queries, categories, expected = make_queries(args, pyrng, by_commune, points, street_of_point, street_info)

    # 3. Build, then locate.
    reset_peak_rss()
    started = time.perf_counter()
    geocoder = Geocoder(areas=areas, points=points)
    build_seconds = time.perf_counter() - started
    print(f"    Geocoder built in {build_seconds:.1f} s", flush=True)

    def locate(batch: list[dict[str, Any]]) -> tuple[list[Any], float]:
        found: list[Any] = []
        began = time.perf_counter()
        for start in range(0, len(batch), GEOCODE_CHUNK):
            found += geocoder.locate_many(batch[start : start + GEOCODE_CHUNK])
        return found, time.perf_counter() - began

    answers, locate_seconds = locate(queries)
    rate = len(queries) / locate_seconds
    print(f"    located {len(queries):,} addresses in {locate_seconds:.2f} s: {rate:,.0f} addresses/s", flush=True)
    per_category: dict[str, Any] = {}
    for category, _share in QUERY_MIX:
        picked = [i for i, c in enumerate(categories) if c == category]
        if not picked:
            continue
        geocoder._fuzzy_cache.clear()  # each category alone starts from a cold fuzzy-street cache
        _alone, seconds = locate([queries[i] for i in picked])
        right = sum(1 for i in picked if (answers[i].station_code or "") == expected[i])
        per_category[category] = {
            "n": len(picked),
            "seconds": seconds,
            "addresses_per_s": len(picked) / seconds,
            "right": right / len(picked),
            "methods": dict(Counter(answers[i].method for i in picked)),
        }
        print(
            f"      {category}: {len(picked):,} alone in {seconds:.2f} s ({len(picked) / seconds:,.0f}/s), "
            f"right {100 * right / len(picked):.1f} %, {dict(Counter(answers[i].method for i in picked))}",
            flush=True,
        )
    result = {
        "points": len(points),
        "without_station": without_station,
        "copies": copy_count,
        "communes": len(communes),
        "streets": streets_total,
        "areas": len(areas),
        "brest_areas": len(brest),
        "queries": len(queries),
        "generate_seconds": generate_seconds,
        "build_seconds": build_seconds,
        "locate_seconds": locate_seconds,
        "addresses_per_s": rate,
        "chunk": GEOCODE_CHUNK,
        "categories": per_category,
        "peak_rss_mb": peak_rss_mb(),
        "code": snapshot,
        "load": {"start": start_load, "end": load_average()},
        "total_seconds": time.perf_counter() - total_started,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def _typo(rng: random.Random, name: str) -> str:
    """One edit (substitution, deletion, insertion or swap) in the street's name, after its type word."""
    first_space = name.find(" ")
    positions = [i for i in range(first_space + 1, len(name)) if name[i].isalpha()]
    i = rng.choice(positions)
    letters = "abcdefghijklmnopqrstuvwxyz"
    operation = rng.choice(("substitute", "delete", "insert", "swap"))
    if operation == "substitute":
        return name[:i] + rng.choice(letters.replace(name[i].lower(), "")) + name[i + 1 :]
    if operation == "delete":
        return name[:i] + name[i + 1 :]
    if operation == "insert":
        return name[:i] + rng.choice(letters) + name[i:]
    if i + 1 < len(name) and name[i + 1] != name[i]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + name[i + 1 :]


def _written(rng: random.Random, name: str) -> str:
    """How a contact file writes a street: mostly as is, sometimes in capitals or abbreviated."""
    style = rng.random()
    if style < 0.15:
        return name.upper()
    kind, _space, rest = name.partition(" ")
    if style < 0.3 and kind.lower() in ABBREVIATIONS:
        return f"{ABBREVIATIONS[kind.lower()]} {rest}"
    return name


def make_queries(
    args: argparse.Namespace,
    rng: random.Random,
    by_commune: dict[str, list[Any]],
    points: list[Any],
    street_of_point: list[int],
    street_info: list[tuple[str, str, int]],
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    import shapely

    counts = {category: int(args.queries * share) for category, share in QUERY_MIX}
    counts["coordinates"] += args.queries - sum(counts.values())
    plan = [category for category, n in counts.items() for _ in range(n)]
    rng.shuffle(plan)
    street_sizes = [
        (street_info[s + 1][2] if s + 1 < len(street_info) else len(points)) - street_info[s][2]
        for s in range(len(street_info))
    ]
    with_station = [i for i, point in enumerate(points) if point.station_code]
    commune_geometry = {code: shapely.union_all([a.geometry for a in areas]) for code, areas in by_commune.items()}
    commune_tree = {code: shapely.STRtree([a.geometry for a in areas]) for code, areas in by_commune.items()}
    areas_of = by_commune
    codes = list(by_commune)
    surfaces = [commune_geometry[code].area for code in codes]
    queries: list[dict[str, Any]] = [{} for _ in plan]
    expected = [""] * len(plan)
    for position, category in enumerate(plan):
        if category in ("exact", "typo"):
            index = rng.choice(with_station)
            point = points[index]
            _code, name, _first = street_info[street_of_point[index]]
            street = _written(rng, name) if category == "exact" else _typo(rng, name)
            queries[position] = {"commune_code": point.commune_code, "street": street, "number": point.number}
            expected[position] = point.station_code
        elif category == "unknown_number":
            s = rng.randrange(len(street_info))
            code, name, first = street_info[s]
            size = street_sizes[s]
            number = size + rng.randint(1, 6)  # past the end of the street
            nearest = size if size % 2 == number % 2 else size - 1  # same side, the highest number
            queries[position] = {"commune_code": code, "street": _written(rng, name), "number": str(number)}
            expected[position] = points[first + nearest - 1].station_code if nearest >= 1 else ""
        else:
            code = rng.choices(codes, surfaces)[0]  # a random place: communes by surface
            west, south, east, north = commune_geometry[code].bounds
            while True:
                x, y = rng.uniform(west, east), rng.uniform(south, north)
                if shapely.contains_xy(commune_geometry[code], x, y):
                    break
            x, y = round(x, 6), round(y, 6)
            hits = commune_tree[code].query(shapely.Point(x, y), predicate="intersects").tolist()
            queries[position] = {"commune_code": code, "lon": x, "lat": y}
            # Where areas overlap, the Geocoder prefers the smallest code.
            expected[position] = min((areas_of[code][hit].code for hit in hits), default="")
    return queries, plan, expected


# --- Database child -------------------------------------------------------------------------


def plain_read(csv_path: Path, encoding: str, delimiter: str) -> dict[str, Any]:
    """The anchor: csv.reader over the file, touching every cell (the sum of their lengths). Best of 3."""
    runs, rows, chars = [], 0, 0
    for _ in range(3):
        started = time.perf_counter()
        rows = chars = 0
        with csv_path.open(encoding=encoding, newline="") as stream:
            reader = csv.reader(stream, delimiter=delimiter)
            next(reader)
            for row in reader:
                rows += 1
                chars += sum(map(len, row))
        runs.append(time.perf_counter() - started)
    best = min(runs)
    return {"seconds": best, "runs": runs, "rows": rows, "chars": chars, "rows_per_s": rows / best}


def print_profile(profiler: Any, name: str, top: int = 25) -> None:
    import io
    import pstats

    path = OUT / f"territory-profile-{name}.prof"
    profiler.dump_stats(path)
    print(f"  profile written to {path.relative_to(ROOT)}", flush=True)
    for title, sort, restriction in (
        ("cumulative, suffrage/ code", "cumulative", r"suffrage/"),
        ("own time, suffrage/ code", "tottime", r"suffrage/"),
        ("own time, all code", "tottime", None),
    ):
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream).sort_stats(sort)
        stats.print_stats(*([restriction, top] if restriction else [top]))
        print(f"  --- {title} ---")
        print(stream.getvalue().split("   ncalls", 1)[-1].join(["   ncalls", ""]), flush=True)


def run_import(csv_path: Path, *, profile: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    from django.core.files import File
    from django.db.models import Sum

    from suffrage.core.models import Job, User
    from suffrage.core.services import campaign_create
    from suffrage.elections.importing import ResultsImporter
    from suffrage.elections.models import CandidateVotes, StationResult
    from suffrage.imports import pipeline, tasks
    from suffrage.imports.services import batch_create, batch_set_settings, import_run, import_start
    from suffrage.territory.models import CampaignCommune, Commune, PollingStation

    owner = User.objects.create_user(OWNER_EMAIL, "bench-password-not-secret")
    campaign = campaign_create(name="Results benchmark", slug=RESULTS_SLUG, owner=owner, require_mfa=False)

    print("  batch_create (store, hash, sniff) …", flush=True)
    started = time.perf_counter()
    with csv_path.open("rb") as stream:
        batch = batch_create(campaign=campaign, upload=File(stream, name=csv_path.name), actor=owner, kind="results")
    create_seconds = time.perf_counter() - started
    batch = batch_set_settings(batch=batch, settings=dict(ELECTION))
    print(
        f"    {create_seconds:.2f} s; {batch.encoding}, '{batch.delimiter}', {len(batch.headers)} columns", flush=True
    )

    print("  plain csv read (best of 3) …", flush=True)
    plain = plain_read(csv_path, batch.encoding, batch.delimiter)
    rows = plain["rows"]
    print(f"    {rows:,} rows in {plain['seconds']:.2f} s ({plain['rows_per_s']:,.0f} rows/s)", flush=True)

    timers = {
        "count_rows": PhaseTimer(pipeline, "count_rows"),
        "process": PhaseTimer(ResultsImporter, "process"),
        "stations": PhaseTimer(ResultsImporter, "_stations"),
        "store": PhaseTimer(ResultsImporter, "_store"),
        "verdict_rows": PhaseTimer(pipeline, "insert_rows"),  # pipeline's own binding: ImportRow rows only
        "task": PhaseTimer(tasks, "import_run"),
    }
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    print(f"  results import of {rows:,} rows …", flush=True)
    explicit = False
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    # No surrounding transaction and TASKS_BACKEND=immediate: import_start's on-commit
    # enqueue runs the task inline, once, before import_start returns.
    job = import_start(batch=batch, actor=owner, dry_run=False)
    job.refresh_from_db()
    if not job.is_finished and timers["task"].calls == 0:
        print("    the task did not run on commit: running import_run explicitly", flush=True)
        import_run(job_id=job.pk)
        explicit = True
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    for timer in timers.values():
        timer.restore()
    job.refresh_from_db()
    if job.status != Job.Status.SUCCEEDED:
        print(f"    the job did not succeed: {job.status} {job.errors[:3]}", flush=True)
    counts = {k: v for k, v in job.counts.items() if k != "errors"}
    round_results = StationResult.objects.filter(round__election__name=ELECTION["name"])
    db = {
        "stations": PollingStation.objects.count(),
        "communes": Commune.objects.count(),
        "campaign_communes": CampaignCommune.objects.filter(campaign=campaign).count(),
        "results": round_results.count(),
        "candidate_votes": CandidateVotes.objects.filter(result__in=round_results).count(),
        "valid": round_results.aggregate(total=Sum("valid"))["total"],
        "votes": CandidateVotes.objects.filter(result__in=round_results).aggregate(total=Sum("votes"))["total"],
    }
    print(
        f"    {job.status} in {seconds:.1f} s ({rows / seconds:,.0f} rows/s, "
        f"{seconds / plain['seconds']:.1f} × the plain read); counts {job.counts}; "
        f"{db['stations']:,} stations, {db['communes']:,} communes, "
        f"{db['results']:,} results, {db['candidate_votes']:,} candidate votes; "
        f"Σ votes {db['votes']:,} {'=' if db['votes'] == db['valid'] else '≠'} Σ valid {db['valid']:,}",
        flush=True,
    )
    if sum(counts.values()) != rows:
        print(f"    WARNING: the verdicts add up to {sum(counts.values()):,}, not {rows:,}", flush=True)
    process = timers["process"].seconds
    phases = {
        "count_rows": timers["count_rows"].seconds,
        "parse_and_check": process - timers["stations"].seconds - timers["store"].seconds,
        "stations": timers["stations"].seconds,
        "store": timers["store"].seconds,
        "verdict_rows": timers["verdict_rows"].seconds,
        "rest": seconds - timers["count_rows"].seconds - process - timers["verdict_rows"].seconds,
    }
    print("    phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()), flush=True)
    if profiler:
        print_profile(profiler, f"import-{os.environ['DATABASE_URL'].split(':', 1)[0]}")
    job_seconds = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
    return plain, {
        "batch_create_seconds": create_seconds,
        "seconds": seconds,
        "job_seconds": job_seconds,
        "rows": rows,
        "rows_per_s": rows / seconds,
        "status": job.status,
        "counts": counts,
        "errors": job.counts.get("errors", 0),
        "runs": timers["task"].calls + (1 if explicit else 0),
        "explicit_run": explicit,
        "db": db,
        "phases": phases,
    }


def map_figures(csv_path: Path, count: int) -> list[Any]:
    """Figures for the map's stations: the national file's first rows, parsed as the importer does."""
    from itertools import cycle, islice

    from suffrage.elections import parsers

    with csv_path.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream, delimiter=";")
        header = next(reader)
        rows = [(number, row) for number, row in enumerate(islice(reader, count), start=2)]
    parsed = [item for item in parsers.parse_results(header, rows) if isinstance(item, parsers.StationResult)]
    return list(islice(cycle(parsed), count))


def measure_map(database: str, csv_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    import shapely
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from suffrage.core.bulk import insert_rows
    from suffrage.core.models import User
    from suffrage.core.services import campaign_create
    from suffrage.elections.models import CandidateVotes, Election, Round, StationResult
    from suffrage.territory import selectors, views
    from suffrage.territory.geometry import read_boundaries
    from suffrage.territory.maps import shapes_changed
    from suffrage.territory.models import CampaignCommune, Commune, PollingStation

    count = args.map_stations
    print(f"  map: {count:,} polling stations with shapes …", flush=True)
    started = time.perf_counter()
    owner = User.objects.get(email=OWNER_EMAIL)
    campaign = campaign_create(name="Map benchmark", slug=MAP_SLUG, owner=owner, require_mfa=False)
    brest, _problems = read_boundaries(BOUNDARIES.read_bytes())
    copies = translated_copies(brest, math.ceil(count / len(brest)))
    areas = [area for copy in copies for area in copy][:count]
    codes = sorted({area.commune_code for area in areas})
    Commune.objects.bulk_create([Commune(code=code, name=f"Brest {code}", departement="29") for code in codes])
    communes = {commune.code: commune for commune in Commune.objects.filter(code__in=codes)}
    CampaignCommune.objects.bulk_create([CampaignCommune(campaign=campaign, commune=c) for c in communes.values()])
    PollingStation.objects.bulk_create(
        [
            PollingStation(
                code=area.code,
                commune=communes[area.commune_code],
                number=area.number,
                name=area.name,
                geometry=shapely.geometry.mapping(area.geometry),
            )
            for area in areas
        ]
    )
    by_code = {s.code: s for s in PollingStation.objects.filter(code__in=[area.code for area in areas])}
    stations = [by_code[area.code] for area in areas]
    vertices = sum(int(shapely.get_num_coordinates(area.geometry)) for area in areas)
    figures = map_figures(csv_path, count)

    election = Election.objects.get_or_create(kind=ELECTION["kind"], year=ELECTION["year"], name=ELECTION["name"])[0]
    national = Round.objects.get_or_create(election=election, number=ELECTION["round"])[0]
    own_election = Election.objects.create(kind=ELECTION["kind"], year=ELECTION["year"], name=OWN_ROUND_ELECTION)
    own = Round.objects.create(election=own_election, number=1)
    for round_ in (national, own):
        results = [
            StationResult(
                round=round_,
                station=station,
                registered=item.registered,
                voters=item.voters,
                abstentions=item.abstentions,
                blank=item.blank,
                null=item.null,
                valid=item.valid,
            )
            for station, item in zip(stations, figures, strict=True)
        ]
        StationResult.objects.bulk_create(results)
        insert_rows(
            CandidateVotes,
            [
                {
                    "result_id": result.pk,
                    "panel": c.panel,
                    "nuance": c.nuance,
                    "name": c.name,
                    "first_name": c.first_name,
                    "votes": c.votes,
                    "elected": c.elected,
                }
                for result, item in zip(results, figures, strict=True)
                for c in item.candidates
            ],
        )
    totals: Counter[str] = Counter()
    for item in figures:
        for candidate in item.candidates:
            totals[candidate.nuance] += candidate.votes
    family = "UG" if "UG" in totals else totals.most_common(1)[0][0]
    expected = {
        station.code: sum(c.votes for c in item.candidates if c.nuance == family) / item.valid if item.valid else None
        for station, item in zip(stations, figures, strict=True)
    }
    analyze_started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if database == "postgres" else "ANALYZE")
    analyze = (
        f"{'VACUUM ANALYZE' if database == 'postgres' else 'ANALYZE'} {time.perf_counter() - analyze_started:.0f} s"
    )
    setup_seconds = time.perf_counter() - started
    print(
        f"    {len(stations):,} stations in {len(codes)} communes, {vertices:,} vertices, results in 2 rounds; "
        f"family {family}; {analyze}; {setup_seconds:.1f} s",
        flush=True,
    )

    client = Client(HTTP_HOST="testserver")
    client.force_login(owner)
    url = reverse("territory:map_data", kwargs={"campaign_slug": MAP_SLUG})
    figures_out: dict[str, Any] = {
        "setup_seconds": setup_seconds,
        "analyze": analyze,
        "family": family,
        "vertices": vertices,
        "communes": len(codes),
    }

    def get(params: dict[str, str]) -> tuple[Any, float]:
        began = time.perf_counter()
        response = client.get(url, params)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} {params} answered {response.status_code}")
        return response, elapsed

    for scenario, round_ in (("national", national), ("own", own)):
        params = {"round": str(round_.pk), "measure": "share", "family": family}
        shapes_changed()  # the application's own invalidation: the next request rebuilds the shapes
        response, cold = get(params)
        data = json.loads(response.content)
        values = {f["properties"]["code"]: f["properties"]["value"] for f in data["features"]}
        wrong = sum(
            1
            for code, value in expected.items()
            if value is None or values.get(code) is None or abs(values[code] - value) > 1e-9
        )
        # Where a request's time goes: the view's helpers, timed around the timed requests only.
        probes = {
            "families_of (form)": PhaseTimer(views, "families_of"),
            "station_values": PhaseTimer(views, "station_values"),
            "  of which station_rows": PhaseTimer(selectors, "station_rows"),
            "map_geojson": PhaseTimer(views, "map_geojson"),
        }
        samples = [get(params)[1] for _ in range(args.requests)]
        for probe in probes.values():
            probe.restore()
        breakdown = {name: probe.seconds * 1000 / len(samples) for name, probe in probes.items() if not probe.missing}
        measured = sum(v for name, v in breakdown.items() if not name.startswith(" "))
        breakdown["rest (middleware, session, form, response)"] = statistics.fmean(samples) * 1000 - measured
        with CaptureQueriesContext(connection) as queries:
            get(params)
        sql_ms = sum(float(query["time"]) for query in queries.captured_queries) * 1000
        figures_out[scenario] = {
            **percentiles(samples),
            "cold_ms": cold * 1000,
            "features": len(data["features"]),
            "wrong_values": wrong,
            "bytes": len(response.content),
            "queries": len(queries.captured_queries),
            "sql_ms": sql_ms,
            "breakdown_ms": breakdown,
            "slowest_sql": sorted(
                ({"ms": float(q["time"]) * 1000, "sql": q["sql"][:300]} for q in queries.captured_queries),
                key=lambda q: -q["ms"],
            )[:3],
        }
        f = figures_out[scenario]
        print(
            f"    {scenario} round: cold {cold * 1000:.0f} ms; p50 {f['p50_ms']:.0f} ms, p95 {f['p95_ms']:.0f} ms, "
            f"mean {f['mean_ms']:.0f} ms, max {f['max_ms']:.0f} ms; {f['features']:,} features "
            f"({wrong} values not as expected), {f['bytes'] / 1024:,.0f} KB; {f['queries']} queries, "
            f"{sql_ms:.0f} ms of SQL",
            flush=True,
        )
        print(
            "      mean per request: " + ", ".join(f"{k.strip()} {v:.0f} ms" for k, v in breakdown.items()), flush=True
        )
        for query in f["slowest_sql"]:
            print(f"      {query['ms']:.0f} ms: {query['sql'][:160]}", flush=True)
        if args.profile and scenario == "national":
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                get(params)
            profiler.disable()
            print("    profile of 5 warm requests (national round):", flush=True)
            print_profile(profiler, f"map-{database}", top=15)
    return figures_out


def db_child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    database: str = args.child
    total_started = time.perf_counter()
    snapshot = code_snapshot()  # before Django imports the code
    print(f"  code {snapshot['hash']} (newest change {snapshot['newest_change_utc']} UTC)", flush=True)
    reset_peak_rss()
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"  migrate: {time.perf_counter() - started:.1f} s", flush=True)
    result: dict[str, Any] = {"database": database, "profiled": bool(args.profile), "code": snapshot}
    result["load"] = {"start": load_average()}
    reset_peak_rss()
    result["plain"], result["import"] = run_import(args.csv, profile=args.profile)
    result["import"]["peak_rss_mb"] = peak_rss_mb()
    reset_peak_rss()
    result["map"] = measure_map(database, args.csv, args)
    result["map"]["peak_rss_mb"] = peak_rss_mb()
    result["load"]["end"] = load_average()
    result["total_seconds"] = time.perf_counter() - total_started
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def main() -> int:
    args = parse_args()
    if args.child == "geocode":
        return geocode_child(args)
    if args.child:
        return db_child(args)
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
