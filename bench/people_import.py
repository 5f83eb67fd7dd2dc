"""People import benchmark: the import pipeline against a raw load, and the people list at scale.

Usage (from the repository root):

    .venv/bin/python bench/people_import.py [--rows 1000000] [--databases sqlite,postgres] [--requests 100]
                                            [--keep] [--reuse-csv] [--no-analyze] [--profile]

The driver writes one synthetic contacts CSV (French names, Brest addresses) under
bench/out/, then runs itself once per database as a child process (`--child sqlite|postgres`)
with DATABASE_URL pointing at a fresh database, so that Django reads its settings per
database. Each child measures, in this order:

1. the raw load of the file into a table of 10 text columns (PostgreSQL: COPY into an
   UNLOGGED table, streaming the file's bytes; SQLite: executemany in one transaction);
2. the full import through the pipeline (batch_create, batch_configure, import_start ->
   job finished), with validation, normalisation, matching and bulk writes;
3. with the N people loaded: the people list's first page and a search by surname,
   `--requests` GETs each through Django's test client (p50/p95).

Peak RSS is measured per phase: the kernel's high-water mark is reset before each phase
(Linux /proc/self/clear_refs), so "pipeline peak" is the largest resident size of this
process while the pipeline ran (Python, Django and everything already resident included),
not the growth. The database server's own memory is not counted.

One run at a time (bench/out/people_import.lock): runs share the database `suffrage_bench`
and the file bench/out/bench.sqlite3, and each drops them when it starts and ends.

Only loopback traffic (PostgreSQL on 127.0.0.1); nothing is asserted, everything is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import PhaseTimer, current_rss_mb, peak_rss_mb, percentiles, pg_admin, reset_peak_rss, take_lock
from common import child_env as common_child_env

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "suffrage_bench"
PG_BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
SQLITE_PATH = OUT / "bench.sqlite3"
SLUG = "bench"
MB = 1024 * 1024
RAW_COLUMNS = 10
DEFAULT_IMPORT_MAX_MB = 200  # settings.IMPORT_LIMITS' default


# --- Memory ------------------------------------------------------------------------


# --- Driver ------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows in the CSV (default 1,000,000)")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--requests", type=int, default=100, help="timed GETs per page kind (default 100)")
    parser.add_argument("--seed", type=int, default=2027, help="seed of the CSV and of the searched surnames")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases and stored files")
    parser.add_argument("--reuse-csv", action="store_true", help="reuse bench/out/contacts-<rows>.csv if present")
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="measure the pages right after the import, without VACUUM ANALYZE / ANALYZE first",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the pipeline under cProfile (slower: its time is then not comparable) and print the top",
    )
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def write_csv(rows: int, seed: int, reuse: bool) -> tuple[Path, float]:
    sys.path.insert(0, str(ROOT))
    from suffrage.people.synthetic import write_contacts_csv  # plain Python: no Django setup needed

    path = OUT / f"contacts-{rows}.csv"
    if reuse and path.exists():
        print(f"Reusing {path.relative_to(ROOT)} ({path.stat().st_size / MB:.1f} MB)", flush=True)
        return path, 0.0
    print(f"Writing {rows:,} rows to {path.relative_to(ROOT)} …", flush=True)
    started = time.perf_counter()
    write_contacts_csv(path, rows, seed=seed)
    seconds = time.perf_counter() - started
    print(f"  {path.stat().st_size / MB:.1f} MB in {seconds:.1f} s", flush=True)
    return path, seconds


def sqlite_reset() -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)


def pg_reset() -> None:
    pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
    pg_admin(PG_ADMIN_URL, f"CREATE DATABASE {PG_BENCH_DB} ENCODING 'UTF8' TEMPLATE template0")


def child_env(database: str, csv_bytes: int) -> dict[str, str]:
    # Stored uploads and collected static files of this run, away from var/.
    env = common_child_env(
        data_dir=OUT / f"data-{database}",
        database_url=f"sqlite:///{SQLITE_PATH}" if database == "sqlite" else PG_BENCH_URL,
    )
    needed_mb = csv_bytes // MB + 1
    if needed_mb > int(env.get("IMPORT_MAX_MB", DEFAULT_IMPORT_MAX_MB)):
        env["IMPORT_MAX_MB"] = str(needed_mb)
        print(f"  note: the file exceeds the default upload limit; IMPORT_MAX_MB={needed_mb} for this run", flush=True)
    return env


def run_child(database: str, csv_path: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    print(f"\n=== {database} ===", flush=True)
    try:
        if database == "sqlite":
            sqlite_reset()
        else:
            pg_reset()
    except Exception as error:  # no server: report and go on with the other database
        print(f"  cannot prepare the {database} database: {error}", flush=True)
        return None
    shutil.rmtree(OUT / f"data-{database}", ignore_errors=True)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        database,
        "--csv",
        str(csv_path),
        "--requests",
        str(args.requests),
        "--seed",
        str(args.seed),
    ]
    command += ["--no-analyze"] if args.no_analyze else []
    command += ["--profile"] if args.profile else []
    result = None
    process = subprocess.Popen(
        command, cwd=ROOT, env=child_env(database, csv_path.stat().st_size), stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        else:
            print(line, end="", flush=True)
    if process.wait() != 0:
        print(f"  child for {database} exited with {process.returncode}", flush=True)
    return result


def cleanup(database: str) -> None:
    shutil.rmtree(OUT / f"data-{database}", ignore_errors=True)
    if database == "sqlite":
        sqlite_reset()
    else:
        try:
            pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        except Exception as error:
            print(f"  could not drop {PG_BENCH_DB}: {error}", flush=True)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def print_table(results: dict[str, dict[str, Any]], args: argparse.Namespace, csv_path: Path) -> None:
    names = list(results)
    if not names:
        print("\nNo database produced figures: see the errors above.")
        return
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn: Any) -> None:
        cells = []
        for name in names:
            try:
                cells.append(fn(results[name]))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("-")
        rows.append((label, cells))

    row("rows in file", lambda r: f"{r['rows']:,}")
    row("raw load", lambda r: f"{r['raw']['seconds']:.1f} s")
    row("raw rate", lambda r: f"{r['raw']['rows_per_s']:,.0f} rows/s")
    row("batch_create (store+sniff)", lambda r: f"{r['pipeline']['batch_create_seconds']:.2f} s")
    row("pipeline (start→finished)", lambda r: f"{r['pipeline']['seconds']:.1f} s")
    row("pipeline rate", lambda r: f"{r['pipeline']['rows_per_s']:,.0f} rows/s")
    row("pipeline/raw rate", lambda r: f"{r['ratio_percent']:.2f} %")
    row("  first pass (count_rows)", lambda r: f"{r['pipeline']['phases']['count_rows_seconds']:.1f} s")
    row("  row handler (process)", lambda r: f"{r['pipeline']['phases']['handler_seconds']:.1f} s")
    row("  rest (read, map, verdicts)", lambda r: f"{r['pipeline']['phases']['rest_seconds']:.1f} s")
    row("job status", lambda r: r["pipeline"]["status"])
    row("verdicts", lambda r: ", ".join(f"{k} {v:,}" for k, v in sorted(r["pipeline"]["counts"].items())))
    row("people in database", lambda r: f"{r['pipeline']['people']:,}")
    row("peak RSS: setup+migrate", lambda r: f"{r['memory']['setup_peak_mb']:.0f} MB")
    row("peak RSS: raw load", lambda r: f"{r['memory']['raw_peak_mb']:.0f} MB")
    row("peak RSS: pipeline", lambda r: f"{r['memory']['pipeline_peak_mb']:.0f} MB")
    row("peak RSS: pages", lambda r: f"{r['memory']['pages_peak_mb']:.0f} MB")
    row("analyze before pages", lambda r: r["pages"]["analyze"])
    row("list p50 / p95", lambda r: f"{_ms(r['pages']['list']['p50_ms'])} / {_ms(r['pages']['list']['p95_ms'])}")
    row(
        "search p50 / p95",
        lambda r: f"{_ms(r['pages']['search']['p50_ms'])} / {_ms(r['pages']['search']['p95_ms'])}",
    )
    row(
        "search hits (warm-up query)",
        lambda r: f"{r['pages']['search']['warmup_hits']:,} ({r['pages']['search']['warmup_q']})",
    )
    row(
        "counts fragment p50 / p95",
        lambda r: f"{_ms(r['pages']['counts']['p50_ms'])} / {_ms(r['pages']['counts']['p95_ms'])}",
    )
    row("slowest search", lambda r: "{} ({:,} ms)".format(*r["pages"]["search"]["slowest"][0]))
    row("child total", lambda r: f"{r['total_seconds']:.0f} s")

    label_width = max(len(label) for label, _ in rows)
    widths = [max(len(name), *(len(cells[i]) for _, cells in rows)) for i, name in enumerate(names)]
    print()
    print(f"People import benchmark — {args.rows:,} rows, {args.requests} requests per page kind, {csv_path.name}")
    print(" " * label_width + "  " + "  ".join(name.rjust(w) for name, w in zip(names, widths, strict=True)))
    for label, cells in rows:
        print(label.ljust(label_width) + "  " + "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))

    print("\nGoals:")
    pg = results.get("postgres")
    if pg and not pg.get("profiled"):
        ratio = pg["ratio_percent"]
        print(f"  PostgreSQL pipeline/raw ≥ 40 %: {'MET' if ratio >= 40 else 'NOT MET'} ({ratio:.2f} %)")
    else:
        print("  PostgreSQL pipeline/raw ≥ 40 %: not measured" + (" (profiled run)" if pg else ""))
    if results:
        worst_name = max(results, key=lambda n: results[n]["memory"]["overall_peak_mb"])
        worst = results[worst_name]["memory"]["overall_peak_mb"]
        print(f"  peak memory < 1 GB: {'MET' if worst < 1024 else 'NOT MET'} ({worst:.0f} MB, {worst_name})")
    for kind in ("search", "list"):
        if pg:
            p95 = pg["pages"][kind]["p95_ms"]
            print(f"  PostgreSQL {kind} p95 ≤ 150 ms: {'MET' if p95 <= 150 else 'NOT MET'} ({p95:.0f} ms)")
        else:
            print(f"  PostgreSQL {kind} p95 ≤ 150 ms: not measured")


def driver(args: argparse.Namespace) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    lock = take_lock(OUT / "people_import.lock")
    if lock is None:
        return 3
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(databases) - {"sqlite", "postgres"}
    if unknown:
        print(f"Unknown database(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    csv_path, _seconds = write_csv(args.rows, args.seed, args.reuse_csv)
    results: dict[str, dict[str, Any]] = {}
    try:
        for database in databases:
            result = run_child(database, csv_path, args)
            if result is not None:
                results[database] = result
    finally:
        if not args.keep:
            for database in databases:
                cleanup(database)
    print_table(results, args, csv_path)
    return 0 if len(results) == len(databases) else 1


# --- Child -------------------------------------------------------------------------


def raw_load_postgres(csv_path: Path) -> tuple[int, float]:
    import psycopg

    columns = ", ".join(f"c{i} text" for i in range(1, RAW_COLUMNS + 1))
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS raw_contacts")
        cursor.execute(f"CREATE UNLOGGED TABLE raw_contacts ({columns})")
        connection.commit()
        started = time.perf_counter()
        with (
            cursor.copy("COPY raw_contacts FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)") as copy,
            csv_path.open("rb") as stream,
        ):
            while block := stream.read(MB):
                copy.write(block)
        loaded = cursor.rowcount
        connection.commit()
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE raw_contacts")
        connection.commit()
    return loaded, seconds


def raw_load_sqlite(csv_path: Path) -> tuple[int, float]:
    import csv
    import sqlite3

    from django.conf import settings

    connection = sqlite3.connect(settings.DATABASES["default"]["NAME"])
    # The same journal settings as the application's connections (settings.py).
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    columns = ", ".join(f"c{i} text" for i in range(1, RAW_COLUMNS + 1))
    connection.execute("DROP TABLE IF EXISTS raw_contacts")
    connection.execute(f"CREATE TABLE raw_contacts ({columns})")
    connection.commit()
    placeholders = ", ".join("?" * RAW_COLUMNS)
    started = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream, delimiter=";")
        next(reader)  # header
        cursor = connection.executemany(f"INSERT INTO raw_contacts VALUES ({placeholders})", reader)  # noqa: S608
        loaded = cursor.rowcount
    connection.commit()
    seconds = time.perf_counter() - started
    connection.execute("DROP TABLE raw_contacts")
    connection.commit()
    connection.close()
    return loaded, seconds


def time_gets(client: Any, url: str, params: list[dict[str, str]], label: str = "") -> list[float]:
    samples = []
    phase_started = time.perf_counter()
    for index, query in enumerate(params, 1):
        started = time.perf_counter()
        response = client.get(url, query)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} {query} answered {response.status_code}")
        if label and (index % 25 == 0 or index == len(params)):
            print(f"    {label}: {index}/{len(params)} in {time.perf_counter() - phase_started:.0f} s", flush=True)
    return samples


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    database: str = args.child
    csv_path: Path = args.csv
    total_started = time.perf_counter()
    rows = sum(1 for _ in csv_path.open("rb")) - 1  # the synthetic file has no quoted line breaks
    result: dict[str, Any] = {"database": database, "rows": rows, "csv_bytes": csv_path.stat().st_size}
    result["profiled"] = bool(args.profile)
    can_reset = reset_peak_rss()

    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    # DEBUG=0 serves pages with the manifest static storage: it needs collectstatic.
    call_command("collectstatic", verbosity=0, interactive=False)
    print(f"  migrate + collectstatic: {time.perf_counter() - started:.1f} s", flush=True)
    memory: dict[str, Any] = {"per_phase": can_reset, "setup_peak_mb": peak_rss_mb()}

    # 1. Raw load.
    reset_peak_rss()
    print(f"  raw load of {rows:,} rows …", flush=True)
    loaded, seconds = raw_load_postgres(csv_path) if database == "postgres" else raw_load_sqlite(csv_path)
    memory["raw_peak_mb"] = peak_rss_mb()
    result["raw"] = {
        "method": "COPY into UNLOGGED table" if database == "postgres" else "executemany, one transaction",
        "loaded": loaded,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
    }
    print(f"    {loaded:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)", flush=True)

    # 2. The pipeline.
    reset_peak_rss()
    result["pipeline"] = run_pipeline(csv_path, rows, profile=args.profile)
    memory["pipeline_peak_mb"] = peak_rss_mb()
    result["ratio_percent"] = 100 * result["pipeline"]["rows_per_s"] / result["raw"]["rows_per_s"]

    # 3. The people list with the people loaded.
    reset_peak_rss()
    result["pages"] = measure_pages(database, args)
    memory["pages_peak_mb"] = peak_rss_mb()
    memory["overall_peak_mb"] = max(
        memory[k] for k in ("setup_peak_mb", "raw_peak_mb", "pipeline_peak_mb", "pages_peak_mb")
    )
    memory["rss_at_end_mb"] = current_rss_mb()
    result["memory"] = memory
    result["total_seconds"] = time.perf_counter() - total_started
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def run_pipeline(csv_path: Path, rows: int, *, profile: bool) -> dict[str, Any]:
    from django.core.files import File

    from suffrage.core.models import Job, User
    from suffrage.core.services import campaign_create
    from suffrage.imports import pipeline
    from suffrage.imports.services import batch_configure, batch_create, import_start
    from suffrage.people.importing import PeopleImporter
    from suffrage.people.models import Person
    from suffrage.people.synthetic import CSV_MAPPING

    owner = User.objects.create_user("bench-owner@example.org", "bench-password-not-secret")
    campaign = campaign_create(name="Benchmark", slug=SLUG, owner=owner, require_mfa=False)

    print("  batch_create (store, hash, sniff) …", flush=True)
    started = time.perf_counter()
    with csv_path.open("rb") as stream:
        batch = batch_create(campaign=campaign, upload=File(stream, name="contacts.csv"), actor=owner)
    create_seconds = time.perf_counter() - started
    options = {"source": "import", "legal_basis": "consent", "match_on": "email", "on_match": "fill"}
    batch = batch_configure(batch=batch, mapping=list(CSV_MAPPING), options=options, actor=owner)

    count_timer = PhaseTimer(pipeline, "count_rows")
    handler_timer = PhaseTimer(PeopleImporter, "process")
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    print(f"  pipeline import of {rows:,} rows …", flush=True)
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    # TASKS_BACKEND=immediate and no surrounding transaction: import_start's on-commit
    # enqueue runs import_run inline, once, before import_start returns.
    job = import_start(batch=batch, actor=owner, dry_run=False)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    count_timer.restore()
    handler_timer.restore()
    job.refresh_from_db()
    if job.status != Job.Status.SUCCEEDED:
        print(f"  the job did not succeed: {job.status} {job.errors[:3]}", flush=True)
    counts = {k: v for k, v in job.counts.items() if k != "errors"}
    people = Person.objects.filter(campaign=campaign).count()
    job_seconds = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
    print(
        f"    {job.status} in {seconds:.1f} s ({rows / seconds:,.0f} rows/s); counts {job.counts}; "
        f"sum {sum(counts.values()):,} / {rows:,}; people {people:,}",
        flush=True,
    )
    if sum(counts.values()) != rows:
        print(f"  WARNING: the verdicts add up to {sum(counts.values()):,}, not {rows:,}", flush=True)
    if profiler:
        print_profile(profiler)
    return {
        "batch_create_seconds": create_seconds,
        "seconds": seconds,
        "job_seconds": job_seconds,
        "rows_per_s": rows / seconds,
        "status": job.status,
        "counts": counts,
        "errors": job.counts.get("errors", 0),
        "sum_ok": sum(counts.values()) == rows,
        "people": people,
        "phases": {
            "count_rows_seconds": count_timer.seconds,
            "handler_seconds": handler_timer.seconds,
            "rest_seconds": seconds - count_timer.seconds - handler_timer.seconds,
        },
    }


def print_profile(profiler: Any) -> None:
    import io
    import pstats

    path = OUT / f"people_import-profile-{os.environ['DATABASE_URL'].split(':', 1)[0]}.prof"
    profiler.dump_stats(path)
    print(f"  profile written to {path.relative_to(ROOT)}", flush=True)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats("cumulative")
    stats.print_stats(r"suffrage/", 25)
    print("  --- cumulative, suffrage/ code ---")
    print(stream.getvalue().split("   ncalls", 1)[-1].join(["   ncalls", ""]), flush=True)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(20)
    print("  --- own time, all code ---")
    print(stream.getvalue().split("   ncalls", 1)[-1].join(["   ncalls", ""]), flush=True)


def measure_pages(database: str, args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from suffrage.core.models import User
    from suffrage.imports.normalise import search_key
    from suffrage.people.models import Person
    from suffrage.people.synthetic import DATA

    analyze = "no"
    if not args.no_analyze:
        # What autovacuum (PostgreSQL) would leave after a big insert; SQLite has no automatic ANALYZE.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)" if database == "postgres" else "ANALYZE")
        analyze = f"{'VACUUM ANALYZE' if database == 'postgres' else 'ANALYZE'} {time.perf_counter() - started:.0f} s"
        print(f"  {analyze}", flush=True)

    client = Client(HTTP_HOST="testserver")
    client.force_login(User.objects.get(email="bench-owner@example.org"))
    url = reverse("people:list", args=[SLUG])
    rng = random.Random(args.seed)
    surnames = [
        line.strip() for line in (DATA / "surnames.txt").read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    warmup_q = rng.choice(surnames)
    queries = [{"q": rng.choice(surnames)} for _ in range(args.requests)]

    print(f"  {args.requests} GETs of the first page, {args.requests} searches by surname …", flush=True)
    time_gets(client, url, [{}])  # warm-up
    list_samples = time_gets(client, url, [{}] * args.requests, "list")
    time_gets(client, url, [{"q": warmup_q}])  # warm-up
    search_samples = time_gets(client, url, queries, "search")
    warmup_hits = Person.objects.filter(campaign__slug=SLUG).search(search_key(warmup_q)).count()
    # The reachability counts, where the list page loads them afterwards (htmx): not a goal of
    # the issue, but the user waits for them too, and they scan the whole base.
    counts = None
    try:
        counts_url = reverse("people:counts", args=[SLUG])
    except NoReverseMatch:
        counts_url = None
    if counts_url:
        time_gets(client, counts_url, [{}])  # warm-up
        counts = percentiles(time_gets(client, counts_url, [{}] * args.requests, "counts"))
    # The slowest searches, by query text: which words make a search slow.
    slowest = sorted(zip(search_samples, (q["q"] for q in queries), strict=True), reverse=True)[:5]
    pages: dict[str, Any] = {
        "analyze": analyze,
        "list": percentiles(list_samples),
        "search": {
            **percentiles(search_samples),
            "warmup_q": warmup_q,
            "warmup_hits": warmup_hits,
            "slowest": [[q, round(seconds * 1000)] for seconds, q in slowest],
        },
        "counts": counts,
    }
    for kind in ("list", "search", "counts"):
        figures = pages[kind]
        if figures is None:
            continue
        print(
            f"    {kind}: p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, "
            f"mean {figures['mean_ms']:.0f} ms, max {figures['max_ms']:.0f} ms",
            flush=True,
        )
    print("    slowest searches: " + ", ".join(f"{q!r} {ms:,} ms" for q, ms in pages["search"]["slowest"]), flush=True)
    return pages


def main() -> int:
    args = parse_args()
    if args.child:
        return child(args)
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
