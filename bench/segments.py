"""Segments benchmark: counts of typical segments over a million people, the same
counts in hand-written SQL, the builder's endpoint work, and a snapshot of ~half the base.

Usage (from the repository root):

    .venv/bin/python bench/segments.py [--people 1000000] [--db sqlite,postgres] [--runs 7]
                                       [--snapshot-runs 3] [--seed 2031] [--timeout 60]
                                       [--only S1,S7] [--pg-set jit=off] [--rebuild] [--no-wait]
    .venv/bin/python bench/segments.py --quick          # 50,000 people, a fast check

The driver runs itself once per database as a child process (`--child sqlite|postgres`)
with DATABASE_URL pointing at that database. The data is built once per database and
kept: bench/out/segments-<people>-<seed>.sqlite3 and the PostgreSQL database
suffrage_bench_segments_<people>, each with a marker table (bench_segments_marker) that
records the parameters it was built with; a mismatch (or --rebuild) rebuilds it. The
child runs `migrate` (a no-op on a kept database), builds the data if needed
(COPY on PostgreSQL, executemany on SQLite, in chunks; explicit ids), then measures:

1. per segment, `segment_people(campaign, document, context).count()` (validation and
   compilation included, as the builder runs it) and an independently written SQL count
   of the same segment, one warm-up each then `--runs` rounds, the two interleaved;
   the counts must be equal (MISMATCH is printed otherwise);
2. the same counts on a small second campaign (isolation: its counts must stay small);
3. the builder's endpoint work (count, by_channel, by_station, sample from
   suffrage/segments/selectors.py) for two segments;
4. `snapshot_create` of the ~500,000-person segment, `--snapshot-runs` times, each
   deleted afterwards, against a hand-written INSERT … SELECT of the same people;
5. the plans (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite) of both
   counts of each segment, written to bench/out/segments-plans-<db><suffix>.txt.

A statement still running after `--timeout` seconds is stopped (PostgreSQL
statement_timeout; on SQLite a progress handler) and reported as a timeout, not waited
for. `--only` measures some segments; `--pg-set NAME=VALUE` sets a PostgreSQL setting
for the child's session (to try jit=off, work_mem=…).

Engagement events are generated too (email and SMS deliveries with opens and clicks,
form and petition submissions, event RSVPs and check-ins, door-to-door visits), and three
segments (S8–S10) select on them.

Only loopback traffic (PostgreSQL on 127.0.0.1, trust auth); nothing is asserted,
everything is printed, and the text goes to bench/out/segments<suffix>.txt (suffix
"-quick" for --quick, "-custom" for --only, --pg-set or another --people).

One heavy benchmark at a time: a full-size run takes bench/out/segments.lock and the
lock files of the other benchmarks (people_import, territory, roll_matching), waiting
while any of them is held (`--no-wait`: give up instead); `--quick` takes only its own.
"""

# The hand-written SQL is assembled from constant fragments and %s placeholders only.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import datetime
import fcntl
import itertools
import json
import math
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Report, Table, child_env, percentiles, pg_admin
from common import code_snapshot as common_code_snapshot

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BASE_URL = "postgres://postgres@127.0.0.1:5432/"
OWNER_EMAIL = "bench-segments-owner@example.org"
SLUG_A, SLUG_B = "bench-segments", "bench-segments-small"
OTHER_LOCKS = ("people_import.lock", "territory.lock", "roll_matching.lock")
GENERATION = "v3"  # bump when this script changes how the data is made
QUICK_PEOPLE = 50_000
CHUNK = 25_000
MARKER = "bench_segments_marker"
SNAPSHOT_PURPOSE = "bench_segments"

# Goals of the issue.
GOAL_P95_MS = {"postgres": 1000.0, "sqlite": 2000.0}
GOAL_RATIO = 1.5
GOAL_SNAPSHOT_S = 10.0

# --- The synthetic territory -----------------------------------------------------
# Brest (100 stations on a 10 x 10 grid), Guipavas (20 stations): the campaign's communes.
# Quimper (5 stations): outside it — roll entries there are "registered elsewhere", and the
# small second campaign lives there.
COMMUNES = {
    "29019": ("Brest", 100, (-4.55, 48.37, -4.43, 48.43), (10, 10)),
    "29075": ("Guipavas", 20, (-4.40, 48.41, -4.35, 48.45), (5, 4)),
    "29232": ("Quimper", 5, (-4.13, 47.98, -4.07, 48.01), (5, 1)),
}
CAMPAIGN_A_COMMUNES = ("29019", "29075")
CAMPAIGN_B_COMMUNES = ("29232",)
# 12 tags, Zipf-like use (weight 1/rank); the same names in both campaigns.
TAGS = (
    "Sympathisant",
    "Newsletter",
    "Militant",
    "Bénévole porte-à-porte",
    "Jeunes",
    "Retraités",
    "Commerçant",
    "Association",
    "Syndicat",
    "Élu",
    "Quartier Nord",
    "Presse",
)
TAG_CUM = list(itertools.accumulate(1 / rank for rank in range(1, len(TAGS) + 1)))
TAGS_PER_PERSON_CUM = [0.25, 0.55, 0.75, 0.90, 1.0]  # 0–4 tags, mean 1.55
QUARTIERS = (
    "Recouvrance",
    "Saint-Martin",
    "Lambézellec",
    "Bellevue",
    "Saint-Marc",
    "Kerinou",
    "Siam",
    "Europe",
    "Saint-Pierre",
    "Quatre-Moulins",
)
QUARTIER_CUM = list(itertools.accumulate(1 / (rank + 1) ** 0.5 for rank in range(len(QUARTIERS))))
SOURCES_CUM = (
    ("import", 0.45),
    ("web_form", 0.65),
    ("manual", 0.75),
    ("event", 0.85),
    ("canvassing", 0.95),
    ("social", 1.0),
)
LINK_STATUS_CUM = (("linked", 0.80), ("accepted", 0.85), ("review", 0.95), ("rejected", 1.0))
EMAIL_STATUS_CUM = (("ok", 0.95), ("bounced", 0.98), ("complained", 0.99), ("suppressed", 1.0))
# Engagement, the same names in both campaigns. Six newsletters, each sent to 60 % of the
# people with an email (3 % failed; 30 % of those sent opened, a quarter of them clicked),
# and one text message to half the SMS-capable numbers.
NEWSLETTERS = tuple(f"Lettre n°{n}" for n in range(1, 7))
NEWSLETTER_REACH, FAILED, OPENED, CLICKED = 0.60, 0.03, 0.30, 0.25
TEXT_MAILING, TEXT_REACH = "SMS rentrée", 0.50
# Forms and petitions: (title, kind, share of the people who submitted it); 10 % of the
# submissions wait for their email confirmation.
ACTIONS = (
    ("Pétition hôpital", "petition", 0.08),
    ("Inscription à la lettre", "signup", 0.05),
    ("Devenir bénévole", "volunteer", 0.015),
    ("Question au candidat", "question", 0.005),
)
# Events: (title, share of the people who answered); going 85 %, waiting list 5 %,
# cancelled 10 %; 60 % of those going were checked in.
EVENTS = (
    ("Réunion publique Bellevue", 0.02),
    ("Meeting final", 0.015),
    ("Porte-à-porte du samedi", 0.005),
    ("Apéro militant", 0.004),
    ("Débat jeunesse", 0.003),
)
# Door to door: 15 % of the people with an address were visited, a fifth of them twice.
VISITED, VISITED_AGAIN = 0.15, 0.20
OUTCOME_CUM = (
    ("not_home", 0.45),
    ("opened", 0.70),
    ("refused", 0.78),
    ("come_back", 0.85),
    ("leaflet", 0.97),
    ("no_access", 1.0),
)
COLLECTED_FROM = datetime.datetime(2024, 11, 1, tzinfo=datetime.UTC)
COLLECTED_SPAN_S = 2 * 365 * 86400


# --- Driver ------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000, help="people in the big campaign (1,000,000)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PEOPLE:,} people: a fast check")
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per count, after one warm-up (7)")
    parser.add_argument("--snapshot-runs", type=int, default=3, help="timed snapshots (3)")
    parser.add_argument("--seed", type=int, default=2031)
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds after which a statement is stopped and reported (60)"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data even if a matching copy exists")
    parser.add_argument("--no-wait", action="store_true", help="give up instead of waiting for the locks")
    parser.add_argument("--only", default="", help="comma-separated segment keys, e.g. S2,S7 (default: all)")
    parser.add_argument(
        "--pg-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the child's session, e.g. jit=off or work_mem=32MB (repeatable)",
    )
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.people = QUICK_PEOPLE
    for setting in args.pg_set:
        if not re.fullmatch(r"[a-z_.]+=[A-Za-z0-9_.]+", setting):
            parser.error(f"--pg-set {setting!r}: expected NAME=VALUE (letters, digits, _ and .)")
    # Runs that are not the default full run write their text beside it, not over it.
    custom = args.only or args.pg_set or (not args.quick and args.people != 1_000_000)
    args.suffix = ("-quick" if args.quick else "") + ("-custom" if custom else "")
    return args


def small_people(people: int) -> int:
    return max(2_000, people // 200)


def params_of(args: argparse.Namespace) -> dict[str, Any]:
    return {"people": args.people, "small": small_people(args.people), "seed": args.seed, "generation": GENERATION}


def sqlite_path(args: argparse.Namespace) -> Path:
    return OUT / f"segments-{args.people}-{args.seed}.sqlite3"


def pg_name(args: argparse.Namespace) -> str:
    return f"suffrage_bench_segments_{args.people}"


def code_snapshot() -> str:
    return common_code_snapshot(ROOT / "suffrage")


def take_locks(paths: list[Path], wait: bool, say: Report) -> list[Any] | None:
    """All the locks or none; while one is held by another run, wait (polling every 30 s)."""
    announced = 0.0
    while True:
        handles, busy = [], None
        for path in paths:
            handle = path.open("a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                busy = f"{path.name} ({handle.read().strip() or 'no owner written'})"
                handle.close()
                break
            handles.append(handle)
        if busy is None:
            for handle in handles:
                handle.seek(0)
                handle.truncate()
                handle.write(f"pid {os.getpid()} (bench/segments.py), started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
                handle.flush()
            return handles
        for handle in handles:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        if not wait:
            say(f"Another run holds {busy}: giving up (--no-wait).")
            return None
        if time.monotonic() - announced > 600:
            say(f"Waiting for {busy} … (polling every 30 s)")
            announced = time.monotonic()
        time.sleep(30)


def read_marker_sqlite(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(path)
        try:
            row = connection.execute(f"SELECT params FROM {MARKER}").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return json.loads(row[0]) if row else None


def read_marker_pg(name: str) -> tuple[bool, dict[str, Any] | None]:
    """(the database exists, its marker)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
    if not exists:
        return False, None
    try:
        with psycopg.connect(PG_BASE_URL + name, autocommit=True) as connection:
            row = connection.execute(f"SELECT params FROM {MARKER}").fetchone()
    except psycopg.Error:
        return True, None
    return True, (json.loads(row[0]) if row else None)


def prepare_database(database: str, args: argparse.Namespace, say: Report) -> str:
    """The DATABASE_URL of the child; drops a copy built with other parameters (or all, --rebuild)."""
    wanted = params_of(args)
    if database == "sqlite":
        path = sqlite_path(args)
        marker = read_marker_sqlite(path)
        if path.exists() and (args.rebuild or marker != wanted):
            say(f"  {path.relative_to(ROOT)}: {'--rebuild' if args.rebuild else 'no matching marker'}, rebuilt")
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        elif marker == wanted:
            say(f"  reusing {path.relative_to(ROOT)} ({path.stat().st_size / 1024**2:,.0f} MB)")
        return f"sqlite:///{path}"
    name = pg_name(args)
    exists, marker = read_marker_pg(name)
    if exists and (args.rebuild or marker != wanted):
        say(f"  {name}: {'--rebuild' if args.rebuild else 'no matching marker'}, dropped and rebuilt")
        pg_admin(PG_ADMIN_URL, f"DROP DATABASE {name} WITH (FORCE)")
        exists = False
    elif exists:
        say(f"  reusing PostgreSQL database {name}")
    if not exists:
        pg_admin(PG_ADMIN_URL, f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    return PG_BASE_URL + name


def run_child(database: str, args: argparse.Namespace, say: Report) -> dict[str, Any] | None:
    say(f"\n=== {database} ===")
    try:
        url = prepare_database(database, args, say)
    except Exception as error:  # no server: report and go on with the other database
        say(f"  cannot prepare the {database} database: {error}")
        return None
    command = [sys.executable, str(Path(__file__).resolve()), "--child", database]
    command += ["--people", str(args.people), "--seed", str(args.seed), "--runs", str(args.runs)]
    command += ["--snapshot-runs", str(args.snapshot_runs), "--timeout", str(args.timeout)]
    command += ["--quick"] if args.quick else []
    command += ["--only", args.only] if args.only else []
    command += [f"--pg-set={setting}" for setting in args.pg_set]
    env = child_env(data_dir=OUT / f"data-segments-{database}", database_url=url)
    result = None
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        else:
            say(line.rstrip("\n"))
    if process.wait() != 0:
        say(f"  child for {database} exited with {process.returncode}")
    return result


def _pair(figures: dict[str, Any]) -> str:
    if figures["p50_ms"] is None:
        return f"timeout (> {figures['timeout_s']:g} s)"
    return f"{figures['p50_ms']:,.0f} / {figures['p95_ms']:,.0f}"


def _ms(seconds: float | None) -> str:
    return "timeout" if seconds is None else f"{seconds * 1000:,.0f}"


def _s(seconds: float | None) -> str:
    return "timeout" if seconds is None else f"{seconds:.2f} s"


def _n(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}×"


def print_results(results: dict[str, dict[str, Any]], args: argparse.Namespace, say: Report) -> None:
    if not results:
        say("\nNo database produced figures: see the errors above.")
        return
    hashes = {r["code"] for r in results.values()}
    for name, r in results.items():
        say(f"\n--- {name}: {r['people']:,} + {r['small']:,} people (campaign A + B), {r['build']} ---")
        say(
            f"rows: {', '.join(f'{table} {n:,}' for table, n in r['rows'].items())}; "
            f"load average {r['load_average']:.1f}; code {r['code']}; timeout {r['timeout_s']:g} s per statement"
            + (f"; session settings {', '.join(r['pg_set'])}" if r.get("pg_set") else "")
        )
        header = ("segment", "people", "ORM p50/p95 ms", "SQL p50/p95 ms", "ORM/SQL p50", "B: people, ORM p95")
        table = [header]
        for seg in r["segments"]:
            b = seg.get("small") or {}
            small = "-"
            if b:
                small = f"{_n(b['count'] if b['count'] is not None else b['hand_count'])}, "
                small += "timeout" if b["orm"]["p95_ms"] is None else f"{b['orm']['p95_ms']:,.0f} ms"
                small += " MISMATCH" if b["equal"] is False else ""
            people = _n(seg["count"] if seg["count"] is not None else seg["hand_count"])
            if seg["equal"] is False:
                people += f" ≠ {seg['hand_count']:,} MISMATCH"
            title = f"{seg['key']} {seg['title']}"
            table.append((title, people, _pair(seg["orm"]), _pair(seg["hand"]), _ratio(seg["ratio"]), small))
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for index, row in enumerate(table):
            say(
                "  ".join(
                    cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(row, widths, strict=True))
                )
            )
            if index == 0:
                say("  ".join("-" * w for w in widths))
        for endpoint in r["endpoint"]:
            parts = ", ".join(f"{part} {_pair(f)}" for part, f in endpoint["parts"].items())
            say(
                f"builder endpoint work, {endpoint['key']} ({endpoint['runs']} runs, p50 / p95 ms): {parts}; "
                f"total {_pair(endpoint['total'])}"
            )
        snap = r["snapshot"]
        if snap:
            seconds = ", ".join(_s(s) for s in snap["orm_seconds"])
            hand = ", ".join(_s(s) for s in snap["hand_seconds"])
            say(
                f"snapshot_create of {snap['key']} ({_n(snap['count'])} members): {seconds}; "
                f"hand INSERT … SELECT: {hand}; ratio (medians) {_ratio(snap['ratio'])}"
            )
    if len(hashes) > 1:
        say("\nWARNING: the children ran different code (suffrage/ changed between them): compare with care.")

    def worst_ms(seg: dict[str, Any]) -> float:
        return math.inf if seg["orm"]["p95_ms"] is None else float(seg["orm"]["p95_ms"])

    say(
        "\nGoals (for 1,000,000 people" + ("" if args.people == 1_000_000 else f"; this run has {args.people:,}") + "):"
    )
    for name, r in results.items():
        if not r["segments"]:
            say(f"  {name}: no segment measured (--only {args.only!r})")
            continue
        worst = max(r["segments"], key=worst_ms)
        goal = GOAL_P95_MS[name]
        met = "MET" if worst_ms(worst) <= goal else "NOT MET"
        shown = "timeout" if worst["orm"]["p95_ms"] is None else f"{worst['orm']['p95_ms']:,.0f} ms"
        slow = [s["key"] for s in r["segments"] if worst_ms(s) > goal]
        say(
            f"  {name}: count p95 ≤ {goal / 1000:.0f} s (worst segment): {met} ({shown}, {worst['key']}"
            + (f"; over the goal: {', '.join(slow)}" if slow else "")
            + ")"
        )
        ratios = [s for s in r["segments"] if s["ratio"] is not None]
        unknown = [s["key"] for s in r["segments"] if s["ratio"] is None]
        if ratios:
            worst_ratio = max(ratios, key=lambda s: s["ratio"])
            met = "MET" if worst_ratio["ratio"] <= GOAL_RATIO and not unknown else "NOT MET"
            over = [s["key"] for s in ratios if s["ratio"] > GOAL_RATIO]
            say(
                f"  {name}: ORM/hand SQL ≤ {GOAL_RATIO}× (worst, p50): {met} "
                f"({worst_ratio['ratio']:.2f}×, {worst_ratio['key']}"
                + (f"; over: {', '.join(over)}" if over else "")
                + (f"; ORM timed out: {', '.join(unknown)}" if unknown else "")
                + ")"
            )
        snap = r["snapshot"]
        if snap:
            done = [s for s in snap["orm_seconds"] if s is not None]
            timed_out = len(done) < len(snap["orm_seconds"])
            slowest = math.inf if timed_out else max(done)
            met = "MET" if slowest <= GOAL_SNAPSHOT_S else "NOT MET"
            shown = f"timeout after {snap['timeout_s']:g} s" if timed_out else f"{slowest:.2f} s"
            say(
                f"  {name}: snapshot of a ~500,000-person segment ≤ {GOAL_SNAPSHOT_S:.0f} s: {met} "
                f"({shown}, slowest of {len(snap['orm_seconds'])}, {_n(snap['count'])} members)"
            )
        mismatches = [
            s["key"] for s in r["segments"] if s["equal"] is False or (s.get("small") or {}).get("equal") is False
        ]
        if mismatches:
            say(f"  {name}: COUNT MISMATCH between the ORM and the hand SQL for {', '.join(mismatches)}")


def driver(args: argparse.Namespace) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    say = Report()
    databases = [name.strip() for name in args.db.split(",") if name.strip()]
    unknown = set(databases) - {"sqlite", "postgres"}
    if unknown:
        print(f"Unknown database(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    locks = [OUT / "segments.lock"] + ([] if args.quick else [OUT / name for name in OTHER_LOCKS])
    handles = take_locks(locks, not args.no_wait, say)
    if handles is None:
        return 3
    say(
        f"Segments benchmark — {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {args.people:,} people, seed {args.seed}, "
        f"{args.runs} runs after 1 warm-up, {os.cpu_count()} CPUs, code {code_snapshot()}, "
        f"locks held: {', '.join(p.name for p in locks)}"
        + (f", only {args.only}" if args.only else "")
        + (f", PostgreSQL session settings: {', '.join(args.pg_set)}" if args.pg_set else "")
    )
    results: dict[str, dict[str, Any]] = {}
    for database in databases:
        result = run_child(database, args, say)
        if result is not None:
            results[database] = result
    print_results(results, args, say)
    path = OUT / f"segments{args.suffix}.txt"
    path.write_text("\n".join(say.lines) + "\n", encoding="utf-8")
    print(f"\nWritten to {path.relative_to(ROOT)}", flush=True)
    return 0 if len(results) == len(databases) else 1


# --- Child: building the data -----------------------------------------------------


def pick(rng: random.Random, cumulative: Iterable[tuple[str, float]]) -> str:
    draw = rng.random()
    for value, bound in cumulative:
        if draw < bound:
            return value
    return value


def consent(rng: random.Random) -> bool | None:
    draw = rng.random()
    return True if draw < 0.30 else False if draw < 0.40 else None  # 30 % granted, 10 % withdrawn, 60 % unknown


class Engagement:
    """The engagement rows of one person: deliveries, submissions, RSVPs and visits."""

    def __init__(self, campaigns: dict[str, Any], stamp: str) -> None:
        from suffrage.canvassing.models import Canvass, Visit
        from suffrage.engagement.models import RSVP, Action, Event, Submission
        from suffrage.messaging.models import Delivery, Mailing, TransportConfig

        sent_on = datetime.datetime(2026, 10, 1, 18, tzinfo=datetime.UTC)
        self.ids: dict[str, dict[str, Any]] = {}
        for key, campaign in campaigns.items():
            transport = TransportConfig.objects.create(campaign=campaign, name="Fichier", kind="file")

            def mailing(name: str, channel: str, campaign: Any = campaign, transport: Any = transport) -> int:
                return int(
                    Mailing.objects.create(
                        campaign=campaign,
                        channel=channel,
                        name=name,
                        transport=transport,
                        subject=name,
                        body="…",
                        footer="…",
                        status=Mailing.Status.SENT,
                        started_at=sent_on,
                        finished_at=sent_on,
                    ).pk
                )

            self.ids[key] = {
                "newsletters": [mailing(name, "email") for name in NEWSLETTERS],
                "text": mailing(TEXT_MAILING, "sms"),
                "actions": [
                    Action.objects.create(
                        campaign=campaign, kind=kind, status="open", title=title, slug=f"action-{index}"
                    ).pk
                    for index, (title, kind, _share) in enumerate(ACTIONS)
                ],
                "events": [
                    Event.objects.create(
                        campaign=campaign,
                        status="closed",
                        title=title,
                        slug=f"event-{index}",
                        starts_at=sent_on,
                        ends_at=sent_on + datetime.timedelta(hours=2),
                    ).pk
                    for index, (title, _share) in enumerate(EVENTS)
                ],
                "canvass": Canvass.objects.create(campaign=campaign, name="Porte-à-porte automne", status="open").pk,
            }
        self.stamp = stamp
        self.rsvps = 0
        # Who can receive the mailings, kept until every person is written: a send
        # inserts its deliveries together, so they are written mailing by mailing.
        self.audiences: dict[tuple[str, str], list[tuple[int, str]]] = {
            (key, channel): [] for key in campaigns for channel in ("email", "mobile")
        }
        self.deliveries = Table(
            Delivery, ["mailing_id", "person_id", "address", "status", "attempts", "sent_at", "opened_at", "clicked_at"]
        )
        self.submissions = Table(
            Submission,
            ["campaign_id", "action_id", "person_id", "status", "answers", "consents", "confirmed_at", "created_at"],
        )
        self.rsvp_t = Table(
            RSVP,
            [
                "campaign_id",
                "event_id",
                "person_id",
                "status",
                "consents",
                "token",
                "checked_in_at",
                "created_at",
                "updated_at",
            ],
        )
        self.visits = Table(
            Visit,
            ["campaign_id", "canvass_id", "person_id", "outcome", "answers", "client_id", "recorded_at", "synced_at"],
        )
        self.tables = [self.deliveries, self.submissions, self.rsvp_t, self.visits]

    def add(
        self, rng: random.Random, key: str, campaign_id: int, person_id: int, contacts: dict[str, str | None]
    ) -> None:
        """Submissions, RSVPs and visits are written with the person; deliveries later."""
        ids, stamp = self.ids[key], self.stamp
        for channel in ("email", "mobile"):
            if contacts[channel]:
                self.audiences[key, channel].append((person_id, contacts[channel]))
        for action_id, (_title, _kind, share) in zip(ids["actions"], ACTIONS, strict=True):
            if rng.random() < share:
                confirmed = rng.random() < 0.90
                self.submissions.add(
                    campaign_id,
                    action_id,
                    person_id,
                    "confirmed" if confirmed else "pending",
                    "{}",
                    "{}",
                    stamp if confirmed else None,
                    stamp,
                )
        for event_id, (_title, share) in zip(ids["events"], EVENTS, strict=True):
            if rng.random() < share:
                draw = rng.random()
                status = "going" if draw < 0.85 else "waitlist" if draw < 0.90 else "cancelled"
                checked_in = stamp if status == "going" and rng.random() < 0.60 else None
                self.rsvps += 1
                self.rsvp_t.add(
                    campaign_id, event_id, person_id, status, "{}", f"bench{self.rsvps:035d}", checked_in, stamp, stamp
                )
        if contacts["address"] and rng.random() < VISITED:
            for _visit in range(2 if rng.random() < VISITED_AGAIN else 1):
                client_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
                outcome = pick(rng, OUTCOME_CUM)
                self.visits.add(campaign_id, ids["canvass"], person_id, outcome, "{}", client_id, stamp, stamp)

    def send_mailings(self, rng: random.Random) -> None:
        from django.db import transaction

        for key, ids in self.ids.items():
            sends = [(mailing_id, "email", NEWSLETTER_REACH, True) for mailing_id in ids["newsletters"]]
            sends.append((ids["text"], "mobile", TEXT_REACH, False))
            for mailing_id, channel, reach, opens in sends:
                for person_id, address in self.audiences[key, channel]:
                    if rng.random() < reach:
                        self._delivery(rng, mailing_id, person_id, address, opens)
                with transaction.atomic():
                    self.deliveries.flush()

    def _delivery(self, rng: random.Random, mailing_id: int, person_id: int, address: str, opens: bool) -> None:
        if rng.random() < FAILED:
            self.deliveries.add(mailing_id, person_id, address, "failed", 3, None, None, None)
            return
        opened = opens and rng.random() < OPENED
        clicked = opened and rng.random() < CLICKED
        stamp = self.stamp
        self.deliveries.add(
            mailing_id, person_id, address, "sent", 1, stamp, stamp if opened else None, stamp if clicked else None
        )


def build(people: int, small: int, seed: int) -> dict[str, Any]:
    """The two campaigns and everything the segments read. Deterministic for a seed."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from suffrage.core.models import CalendarElection, User
    from suffrage.core.services import campaign_create
    from suffrage.imports.normalise import search_key
    from suffrage.people.models import CustomField, Person, PersonEmail, PersonPhone, PostalAddress, Tag
    from suffrage.people.synthetic import _first_names, _lines
    from suffrage.roll.models import MatchModel, RollEntry, RollLink, RollVersion
    from suffrage.territory.models import CampaignCommune, Commune, PollingStation

    rng = random.Random(seed)
    sqlite = connection.vendor == "sqlite"
    stamp = "2026-11-01 09:00:00" + ("" if sqlite else "+00")
    owner = User.objects.create_user(OWNER_EMAIL, "bench-password-not-secret")
    campaigns = {
        "A": campaign_create(name="Benchmark segments", slug=SLUG_A, owner=owner, require_mfa=False),
        "B": campaign_create(name="Benchmark segments (small)", slug=SLUG_B, owner=owner, require_mfa=False),
    }
    # Stations: centres on a grid over each commune's box.
    stations: dict[str, list[tuple[int, str, float, float]]] = {}
    cell: dict[str, tuple[float, float]] = {}
    for code, (name, count, (west, south, east, north), (cols, rows)) in COMMUNES.items():
        commune = Commune.objects.create(code=code, name=name, departement="29")
        dx, dy = (east - west) / cols, (north - south) / rows
        cell[code] = (dx, dy)
        stations[code] = []
        for index in range(count):
            col, row = index % cols, index // cols
            station = PollingStation.objects.create(
                code=f"{code}_{index + 1:04d}",
                commune=commune,
                number=f"{index + 1:04d}",
                name=f"École {name} {index + 1}",
                constituency="2" if code == "29019" else "3",
            )
            stations[code].append((station.pk, station.code, west + (col + 0.5) * dx, south + (row + 0.5) * dy))
        for key, codes in (("A", CAMPAIGN_A_COMMUNES), ("B", CAMPAIGN_B_COMMUNES)):
            if code in codes:
                CampaignCommune.objects.create(campaign=campaigns[key], commune=commune)
    tags = {
        key: [Tag.objects.create(campaign=campaign, name=name).pk for name in TAGS]
        for key, campaign in campaigns.items()
    }
    for campaign in campaigns.values():
        CustomField.objects.create(
            campaign=campaign, label="Quartier", key="quartier", kind=CustomField.Kind.CHOICE, choices=list(QUARTIERS)
        )
        CustomField.objects.create(campaign=campaign, label="Dons (€)", key="dons", kind=CustomField.Kind.NUMBER)
    election = CalendarElection.objects.create(
        campaign=campaigns["A"], name="Municipales 2026", kind="municipal", first_round_on=datetime.date(2026, 3, 15)
    )
    version = RollVersion.objects.create(
        campaign=campaigns["A"], election=election, scope="29019", extracted_on=datetime.date(2026, 1, 15)
    )
    model = MatchModel.objects.create(
        campaign=campaigns["A"], version=version, number=1, index_path="bench/out/segments-no-index"
    )

    names_f, weights_f = _first_names()["F"]
    names_m, weights_m = _first_names()["M"]
    cum_f = list(itertools.accumulate(weights_f))
    cum_m = list(itertools.accumulate(weights_m))
    surnames = _lines("surnames.txt")
    streets = _lines("brest_streets.txt")
    keys: dict[str, str] = {}

    def key_of(text: str) -> str:
        if text not in keys:
            keys[text] = search_key(text)
        return keys[text]

    person_t = Table(
        Person,
        [
            "id",
            "campaign_id",
            "civility",
            "first_names",
            "birth_name",
            "birth_date",
            "is_member",
            "is_volunteer",
            "is_donor",
            "support_level",
            "source",
            "legal_basis",
            "collected_at",
            "custom",
            "consent_email",
            "consent_sms",
            "consent_phone",
            "consent_post",
            "search_text",
            "name_key",
            "created_at",
            "updated_at",
        ],
    )
    email_t = Table(
        PersonEmail, ["person_id", "campaign_id", "address", "is_primary", "status", "source", "created_at"]
    )
    phone_t = Table(
        PersonPhone,
        ["person_id", "campaign_id", "number", "kind", "sms_capable", "suppressed", "source", "created_at"],
    )
    address_t = Table(
        PostalAddress,
        [
            "person_id",
            "number",
            "street",
            "postcode",
            "town",
            "insee_code",
            "country",
            "source",
            "polling_station_id",
            "geocode_method",
            "lon",
            "lat",
        ],
    )
    tag_t = Table(Person.tags.through, ["person_id", "tag_id"])
    entry_t = Table(
        RollEntry,
        [
            "id",
            "campaign_id",
            "version_id",
            "elector_number",
            "birth_name",
            "first_names",
            "birth_year",
            "station_id",
            "station_code",
        ],
    )
    link_t = Table(
        RollLink,
        ["campaign_id", "person_id", "entry_id", "model_id", "probability", "weight", "status", "created_at"],
    )
    engagement = Engagement(campaigns, stamp)
    tables = [person_t, email_t, phone_t, address_t, tag_t, entry_t, link_t, *engagement.tables]
    epoch = COLLECTED_FROM.timestamp()
    fmt = "%Y-%m-%d %H:%M:%S"
    tz_suffix = "" if sqlite else "+00"
    person_id, entry_id = 0, 0
    plan = [("A", people), ("B", small)]
    started = time.perf_counter()
    for key, count in plan:
        campaign_id = campaigns[key].pk
        communes = CAMPAIGN_A_COMMUNES if key == "A" else CAMPAIGN_B_COMMUNES
        own_stations = [(code, s) for code in communes for s in stations[code]]
        elsewhere = stations["29232"]
        for index in range(count):
            person_id += 1
            female = rng.random() < 0.52
            first = rng.choices(names_f, cum_weights=cum_f)[0] if female else rng.choices(names_m, cum_weights=cum_m)[0]
            last = rng.choice(surnames)
            born = None
            if rng.random() < 0.60:
                born = datetime.date(rng.randrange(1930, 2008), rng.randrange(1, 13), rng.randrange(1, 29))
            basis_draw = rng.random()
            basis = "consent" if basis_draw < 0.50 else "member" if basis_draw < 0.65 else "legitimate_interest"
            is_member = basis == "member" or rng.random() < 0.02
            custom = "{}"
            if rng.random() < 0.5:
                quartier = QUARTIERS[rng.choices(range(len(QUARTIERS)), cum_weights=QUARTIER_CUM)[0]]
                custom = json.dumps({"quartier": quartier, "dons": rng.choice((0, 0, 0, 10, 20, 50, 100, 250))})
            collected = time.strftime(fmt, time.gmtime(epoch + rng.randrange(COLLECTED_SPAN_S))) + tz_suffix
            name_key = f"{key_of(last)} {key_of(first)}"
            person_t.add(
                person_id,
                campaign_id,
                "Mme" if female else "M",
                first,
                last,
                born.isoformat() if born else None,
                is_member,
                rng.random() < 0.06,
                rng.random() < 0.08,
                rng.randrange(1, 6) if rng.random() < 0.20 else None,
                pick(rng, SOURCES_CUM),
                basis,
                collected,
                custom,
                consent(rng),
                consent(rng),
                consent(rng),
                consent(rng),
                name_key,
                name_key,
                stamp,
                stamp,
            )
            contacts: dict[str, str | None] = {"email": None, "mobile": None, "address": None}
            if rng.random() < 0.40:
                email_status = pick(rng, EMAIL_STATUS_CUM)
                address = f"p{person_id}@example.org"
                email_t.add(person_id, campaign_id, address, True, email_status, "import", stamp)
                contacts["email"] = address if email_status == "ok" else None
            if rng.random() < 0.50:
                sms = rng.random() < 0.70
                suppressed = rng.random() < 0.02
                number = f"+336{person_id:08d}"
                phone_t.add(
                    person_id,
                    campaign_id,
                    number,
                    "mobile" if sms else "landline",
                    sms,
                    suppressed,
                    "import",
                    stamp,
                )
                contacts["mobile"] = number if sms and not suppressed else None
            station = None
            if rng.random() < 0.80:
                commune = rng.choice(communes)
                located = rng.random() < 0.80
                lon = lat = None
                if rng.random() < 0.95:
                    commune, station = rng.choice(own_stations)
                    if located:
                        dx, dy = cell[commune]
                        lon, lat = rng.gauss(station[2], dx / 2), rng.gauss(station[3], dy / 2)
                elif located:
                    west, south, east, north = COMMUNES[commune][2]
                    lon, lat = rng.uniform(west, east), rng.uniform(south, north)
                address_t.add(
                    person_id,
                    str(rng.randrange(1, 120)),
                    rng.choice(streets),
                    "29200",
                    COMMUNES[commune][0],
                    commune,
                    "FR",
                    "import",
                    station[0] if station else None,
                    "street" if located else "",
                    lon,
                    lat,
                )
                contacts["address"] = "yes"
            engagement.add(rng, key, campaign_id, person_id, contacts)
            drawn = rng.random()
            wanted = next(n for n, bound in enumerate(TAGS_PER_PERSON_CUM) if drawn < bound)
            chosen: set[int] = set()
            for _attempt in range(20):
                if len(chosen) >= wanted:
                    break
                chosen.add(rng.choices(range(len(TAGS)), cum_weights=TAG_CUM)[0])
            for tag_index in sorted(chosen):
                tag_t.add(person_id, tags[key][tag_index])
            if key == "A" and rng.random() < 0.50:
                entry_id += 1
                _code, roll_station = (
                    rng.choice(own_stations) if rng.random() < 0.85 else ("29232", rng.choice(elsewhere))
                )
                if station and rng.random() < 0.7:
                    roll_station = station
                year = born.year if born else rng.randrange(1930, 2008)
                entry_t.add(
                    entry_id,
                    campaign_id,
                    version.pk,
                    str(entry_id),
                    last.upper(),
                    first,
                    year,
                    roll_station[0],
                    roll_station[1],
                )
                status = pick(rng, LINK_STATUS_CUM)
                probability = rng.uniform(0.99, 1.0) if status in ("linked", "accepted") else rng.uniform(0.5, 0.99)
                link_t.add(campaign_id, person_id, entry_id, model.pk, probability, 10.0 * probability, status, stamp)
            if person_id % CHUNK == 0 or index == count - 1:
                with transaction.atomic():
                    # Parents first: entries before links, people before their rows.
                    for table in tables:
                        table.flush()
                if person_id % (CHUNK * 8) == 0:
                    elapsed = time.perf_counter() - started
                    print(f"    {person_id:,} people written in {elapsed:.0f} s", flush=True)
    engagement.send_mailings(rng)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Person, RollEntry]):
            cursor.execute(sql)
    return {table.table: table.written for table in tables}


# --- Child: the segments ----------------------------------------------------------


@dataclass
class Spec:
    key: str
    title: str
    document: dict[str, Any]
    hand: Callable[[], tuple[str, list[Any]]]  # WHERE clause on people_person p, and its parameters


def paris_midnight_utc(day: datetime.date, sqlite: bool) -> str:
    """Midnight at the start of `day` in the project's time zone, as the database stores UTC."""
    local = datetime.datetime.combine(day, datetime.time(), tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    utc = local.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S") + ("" if sqlite else "+00")


def segment_specs(campaign_id: int, sqlite: bool, today: datetime.date) -> list[Spec]:
    """The segments, each as the builder's document and as SQL written by hand for the
    same meaning (consent rule: granted, or unknown and a basis that allows it)."""
    brest = [f"29019_{n:04d}" for n in range(1, 101, 5)]  # 20 stations spread over the city
    some_roll_stations = [f"29019_{n:04d}" for n in range(1, 101, 10)]

    def marks(values: list[Any]) -> str:
        return ", ".join(["%s"] * len(values))

    def tagged(names: list[str], column: str = "p.id") -> tuple[str, list[Any]]:
        sql = (
            f"{column} IN (SELECT pt.person_id FROM people_person_tags pt JOIN people_tag t ON t.id = pt.tag_id "
            f"WHERE t.campaign_id = %s AND t.name IN ({marks(names)}))"
        )
        return sql, [campaign_id, *names]

    def not_tagged(name: str) -> tuple[str, list[Any]]:
        sql = (
            "NOT EXISTS (SELECT 1 FROM people_person_tags pt JOIN people_tag t ON t.id = pt.tag_id "
            "WHERE pt.person_id = p.id AND t.campaign_id = %s AND t.name = %s)"
        )
        return sql, [campaign_id, name]

    def may(channel: str) -> str:
        bases = "'member'" if channel in ("email", "sms") else "'member', 'legitimate_interest'"
        return f"(p.consent_{channel} IS TRUE OR (p.consent_{channel} IS NULL AND p.legal_basis IN ({bases})))"

    # Somewhere to reach them: an address that has not bounced, complained or been
    # suppressed; a number not on the suppression list.
    has_email = "EXISTS (SELECT 1 FROM people_personemail e WHERE e.person_id = p.id AND e.status = 'ok')"
    has_mobile = (
        "EXISTS (SELECT 1 FROM people_personphone ph WHERE ph.person_id = p.id "
        "AND ph.sms_capable IS TRUE AND ph.suppressed IS FALSE)"
    )
    has_phone = "EXISTS (SELECT 1 FROM people_personphone ph WHERE ph.person_id = p.id AND ph.suppressed IS FALSE)"
    has_address = "EXISTS (SELECT 1 FROM people_postaladdress a WHERE a.person_id = p.id)"
    linked = "('linked', 'accepted')"

    def join(parts: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
        return " AND ".join(f"({sql})" for sql, _ in parts), [value for _, params in parts for value in params]

    def document(*nodes: dict[str, Any]) -> dict[str, Any]:
        return {"version": 1, "filter": {"all": list(nodes)}}

    reach = {
        channel: {"field": "reachable", "op": "is", "value": channel} for channel in ("email", "sms", "phone", "post")
    }
    specs: list[Spec] = []

    # S1 — supporters reachable by email in 20 stations, without the press.
    def s1() -> tuple[str, list[Any]]:
        militant, params = tagged(["Militant"])
        return join(
            [
                (f"{may('email')} AND {has_email}", []),
                (f"{militant} OR p.support_level IN (1, 2)", params),
                (
                    "p.id IN (SELECT a.person_id FROM people_postaladdress a "
                    "JOIN territory_pollingstation s ON s.id = a.polling_station_id "
                    f"WHERE s.code IN ({marks(brest)}))",
                    brest,
                ),
                not_tagged("Presse"),
            ]
        )

    specs.append(
        Spec(
            "S1",
            "email, Militant or support 1–2, 20 stations, not Presse",
            document(
                reach["email"],
                {
                    "any": [
                        {"field": "tag", "op": "any_of", "value": ["Militant"]},
                        {"field": "support_level", "op": "in", "value": [1, 2]},
                    ]
                },
                {"field": "polling_station", "op": "in", "value": brest},
                {"not": {"field": "tag", "op": "any_of", "value": ["Presse"]}},
            ),
            s1,
        )
    )

    # S2 — young people reachable by SMS, volunteers or tagged Jeunes, found on the roll.
    year = today.year

    def s2() -> tuple[str, list[Any]]:
        jeunes, params = tagged(["Jeunes"])
        low, high = year - 34, year - 18  # 25-34 and 18-24: born low..high
        return join(
            [
                (f"{may('sms')} AND {has_mobile}", []),
                (
                    "(p.birth_date BETWEEN %s AND %s) OR (p.birth_date IS NULL AND p.id IN ("
                    "SELECT l.person_id FROM roll_rolllink l JOIN roll_rollentry r ON r.id = l.entry_id "
                    f"WHERE l.status IN {linked} AND r.birth_year BETWEEN %s AND %s))",
                    [f"{low}-01-01", f"{high}-12-31", low, high],
                ),
                (f"p.is_volunteer IS TRUE OR {jeunes}", params),
                (
                    # "not found" only means something once the campaign has matched its people.
                    "NOT EXISTS (SELECT 1 FROM roll_matchmodel m WHERE m.campaign_id = %s AND m.index_path <> '') "
                    "OR EXISTS (SELECT 1 FROM roll_rolllink l WHERE l.person_id = p.id "
                    "AND l.status IN ('linked', 'accepted', 'review'))",
                    [campaign_id],
                ),
            ]
        )

    specs.append(
        Spec(
            "S2",
            "SMS, 18–34, volunteer or Jeunes, not 'not found'",
            document(
                reach["sms"],
                {"field": "age_band", "op": "in", "value": ["18-24", "25-34"]},
                {
                    "any": [
                        {"field": "flag", "op": "is", "value": "volunteer"},
                        {"field": "tag", "op": "any_of", "value": ["Jeunes"]},
                    ]
                },
                {"not": {"field": "roll_status", "op": "in", "value": ["not_found"]}},
            ),
            s2,
        )
    )

    # S3 — Brest, registered here, post allowed by consent or membership, not donors, collected in 2025.
    def s3() -> tuple[str, list[Any]]:
        start = paris_midnight_utc(datetime.date(2025, 1, 1), sqlite)
        end = paris_midnight_utc(datetime.date(2026, 1, 1), sqlite)
        return join(
            [
                (
                    "p.id IN (SELECT a.person_id FROM people_postaladdress a WHERE a.insee_code = %s "
                    "OR a.polling_station_id IN (SELECT s.id FROM territory_pollingstation s "
                    "JOIN territory_commune c ON c.id = s.commune_id WHERE c.code = %s))",
                    ["29019", "29019"],
                ),
                (
                    "p.id IN (SELECT l.person_id FROM roll_rolllink l JOIN roll_rollentry r ON r.id = l.entry_id "
                    "JOIN territory_pollingstation s ON s.id = r.station_id "
                    f"WHERE l.status IN {linked} AND s.commune_id IN "
                    "(SELECT cc.commune_id FROM territory_campaigncommune cc WHERE cc.campaign_id = %s))",
                    [campaign_id],
                ),
                ("p.consent_post IS TRUE OR p.legal_basis = 'member'", []),
                ("p.is_donor IS FALSE", []),
                ("p.collected_at >= %s AND p.collected_at < %s", [start, end]),
            ]
        )

    specs.append(
        Spec(
            "S3",
            "Brest, registered here, post consent or member, not donor, collected 2025",
            document(
                {"field": "commune", "op": "in", "value": ["29019"]},
                {"field": "roll_status", "op": "in", "value": ["registered_here"]},
                {
                    "any": [
                        {"field": "consent", "op": "is", "value": {"channel": "post", "state": "granted"}},
                        {"field": "legal_basis", "op": "in", "value": ["member"]},
                    ]
                },
                {"not": {"field": "flag", "op": "is", "value": "donor"}},
                {"field": "collected", "op": "between", "value": {"from": "2025-01-01", "to": "2025-12-31"}},
            ),
            s3,
        )
    )

    # S4 — one neighbourhood (custom field), by phone, imported or from the web form, not the press.
    def s4() -> tuple[str, list[Any]]:
        quartier = "json_extract(p.custom, '$.quartier')" if sqlite else "p.custom ->> 'quartier'"
        return join(
            [
                (f"{quartier} = %s", ["Recouvrance"]),
                (f"{may('phone')} AND {has_phone}", []),
                ("p.source = 'import' OR p.source = 'web_form'", []),
                not_tagged("Presse"),
            ]
        )

    specs.append(
        Spec(
            "S4",
            "quartier Recouvrance, phone, import or web form, not Presse",
            document(
                {"field": "custom", "key": "quartier", "op": "equals", "value": "Recouvrance"},
                reach["phone"],
                {
                    "any": [
                        {"field": "source", "op": "in", "value": ["import"]},
                        {"field": "source", "op": "in", "value": ["web_form"]},
                    ]
                },
                {"not": {"field": "tag", "op": "any_of", "value": ["Presse"]}},
            ),
            s4,
        )
    )

    # S5 — 800 m around a point (the geometry path), reachable by email, Sympathisant or Newsletter, not members.
    lon0, lat0, metres = -4.486, 48.39, 800

    def s5() -> tuple[str, list[Any]]:
        dlat = math.degrees(metres / 6_371_000)
        dlon = dlat / math.cos(math.radians(lat0))
        tags, params = tagged(["Sympathisant", "Newsletter"])
        least = "MIN" if sqlite else "LEAST"
        haversine = (
            f"2 * 6371000 * asin({least}(1.0, sqrt("
            "sin((radians(a.lat) - radians(%s)) / 2) * sin((radians(a.lat) - radians(%s)) / 2) + "
            "cos(radians(%s)) * cos(radians(a.lat)) * sin(radians(a.lon - %s) / 2) * sin(radians(a.lon - %s) / 2))))"
        )
        return join(
            [
                (
                    "p.id IN (SELECT a.person_id FROM people_postaladdress a "
                    f"WHERE a.lon BETWEEN %s AND %s AND a.lat BETWEEN %s AND %s AND {haversine} <= %s)",
                    [lon0 - dlon, lon0 + dlon, lat0 - dlat, lat0 + dlat, lat0, lat0, lat0, lon0, lon0, metres],
                ),
                (f"{may('email')} AND {has_email}", []),
                (tags, params),
                ("p.is_member IS FALSE", []),
            ]
        )

    specs.append(
        Spec(
            "S5",
            "800 m around a point, email, Sympathisant or Newsletter, not member",
            document(
                {"field": "near", "op": "within", "value": {"lon": lon0, "lat": lat0, "metres": metres}},
                reach["email"],
                {
                    "any": [
                        {"field": "tag", "op": "any_of", "value": ["Sympathisant"]},
                        {"field": "tag", "op": "any_of", "value": ["Newsletter"]},
                    ]
                },
                {"not": {"field": "flag", "op": "is", "value": "member"}},
            ),
            s5,
        )
    )

    # S6 — the big one (~half the base): post or phone, collected since March 2025, not the press.
    def s6() -> tuple[str, list[Any]]:
        return join(
            [
                (f"({may('post')} AND {has_address}) OR ({may('phone')} AND {has_phone})", []),
                ("p.collected_at >= %s", [paris_midnight_utc(datetime.date(2025, 3, 1), sqlite)]),
                not_tagged("Presse"),
            ]
        )

    specs.append(
        Spec(
            "S6",
            "post or phone, collected since 2025-03, not Presse (snapshot)",
            document(
                {"any": [reach["post"], reach["phone"]]},
                {"field": "collected", "op": "between", "value": {"from": "2025-03-01"}},
                {"not": {"field": "tag", "op": "any_of", "value": ["Presse"]}},
            ),
            s6,
        )
    )

    # S7 — seniors by roll station, Retraités or donors of 50 € or more, whom we cannot email (a letter).
    def s7() -> tuple[str, list[Any]]:
        retraites, params = tagged(["Retraités"])
        dons = "json_extract(p.custom, '$.dons')" if sqlite else "(p.custom ->> 'dons')::numeric"
        low, high = year - 79, year - 50
        return join(
            [
                (
                    "p.id IN (SELECT l.person_id FROM roll_rolllink l JOIN roll_rollentry r ON r.id = l.entry_id "
                    f"WHERE l.status IN {linked} AND r.station_code IN ({marks(some_roll_stations)}))",
                    some_roll_stations,
                ),
                (
                    "(p.birth_date BETWEEN %s AND %s) OR (p.birth_date IS NULL AND p.id IN ("
                    "SELECT l.person_id FROM roll_rolllink l JOIN roll_rollentry r ON r.id = l.entry_id "
                    f"WHERE l.status IN {linked} AND r.birth_year BETWEEN %s AND %s))",
                    [f"{low}-01-01", f"{high}-12-31", low, high],
                ),
                (f"{retraites} OR {dons} >= %s", [*params, 50]),
                (f"NOT ({may('email')} AND {has_email})", []),
            ]
        )

    specs.append(
        Spec(
            "S7",
            "10 roll stations, 50–79, Retraités or dons ≥ 50, not reachable by email",
            document(
                {"field": "roll_station", "op": "in", "value": some_roll_stations},
                {"field": "age_band", "op": "in", "value": ["50-64", "65-79"]},
                {
                    "any": [
                        {"field": "tag", "op": "any_of", "value": ["Retraités"]},
                        {"field": "custom", "key": "dons", "op": "range", "value": {"min": 50}},
                    ]
                },
                {"not": reach["email"]},
            ),
            s7,
        )
    )
    specs.extend(engagement_specs(campaign_id, join, document, reach, may, has_email, has_mobile, has_address))
    return specs


def engagement_specs(
    campaign_id: int,
    join: Callable[[list[tuple[str, list[Any]]]], tuple[str, list[Any]]],
    document: Callable[..., dict[str, Any]],
    reach: dict[str, dict[str, Any]],
    may: Callable[[str], str],
    has_email: str,
    has_mobile: str,
    has_address: str,
) -> list[Spec]:
    """S8–S10: segments on what people did — mailings received or opened, forms signed,
    events, doors knocked at. The campaign's objects are found by name."""
    from suffrage.engagement.models import Action, Event
    from suffrage.messaging.models import Mailing

    mailing = dict(Mailing.objects.filter(campaign_id=campaign_id).values_list("name", "pk"))
    action = dict(Action.objects.filter(campaign_id=campaign_id).values_list("title", "pk"))
    event = dict(Event.objects.filter(campaign_id=campaign_id).values_list("title", "pk"))
    letters = [mailing[name] for name in NEWSLETTERS]
    petition, volunteer_form = action["Pétition hôpital"], action["Devenir bénévole"]
    meeting, final = event["Réunion publique Bellevue"], event["Meeting final"]
    text = mailing[TEXT_MAILING]

    def delivered(where: str) -> str:
        return f"p.id IN (SELECT d.person_id FROM messaging_delivery d WHERE d.mailing_id = %s AND {where})"

    signed = (
        "p.id IN (SELECT s.person_id FROM engagement_submission s WHERE s.action_id = %s AND s.status = 'confirmed')"
    )
    specs: list[Spec] = []

    # S8 — readers and signers in Brest, reachable by email, whom no one turned away at the door.
    def s8() -> tuple[str, list[Any]]:
        return join(
            [
                (f"{may('email')} AND {has_email}", []),
                (
                    f"{delivered('d.opened_at IS NOT NULL')} OR {delivered('d.clicked_at IS NOT NULL')} OR {signed}",
                    [letters[4], letters[5], petition],
                ),
                (
                    "p.id IN (SELECT a.person_id FROM people_postaladdress a WHERE a.insee_code = %s "
                    "OR a.polling_station_id IN (SELECT s.id FROM territory_pollingstation s "
                    "JOIN territory_commune c ON c.id = s.commune_id WHERE c.code = %s))",
                    ["29019", "29019"],
                ),
                (
                    "NOT EXISTS (SELECT 1 FROM canvassing_visit v WHERE v.person_id = p.id "
                    "AND v.outcome IN ('refused', 'do_not_contact'))",
                    [],
                ),
            ]
        )

    specs.append(
        Spec(
            "S8",
            "email, any(opened letter 5, clicked letter 6, signed the petition), Brest, not refused at the door",
            document(
                reach["email"],
                {
                    "any": [
                        {"field": "mailing", "op": "opened", "value": letters[4]},
                        {"field": "mailing", "op": "clicked", "value": letters[5]},
                        {"field": "form", "op": "submitted", "value": petition},
                    ]
                },
                {"field": "commune", "op": "in", "value": ["29019"]},
                {"not": {"field": "visit", "op": "in", "value": ["refused", "do_not_contact"]}},
            ),
            s8,
        )
    )

    # S9 — the event people and would-be volunteers, by SMS, who did not get the last text.
    def s9() -> tuple[str, list[Any]]:
        def rsvp(where: str) -> str:
            return f"p.id IN (SELECT r.person_id FROM engagement_rsvp r WHERE r.event_id = %s AND {where})"

        return join(
            [
                (
                    " OR ".join([rsvp("r.checked_in_at IS NOT NULL"), rsvp("r.status = 'going'"), signed]),
                    [meeting, final, volunteer_form],
                ),
                (f"{may('sms')} AND {has_mobile}", []),
                (
                    "NOT EXISTS (SELECT 1 FROM messaging_delivery d WHERE d.person_id = p.id "
                    "AND d.mailing_id = %s AND d.status = 'sent')",
                    [text],
                ),
            ]
        )

    specs.append(
        Spec(
            "S9",
            "any(came to the meeting, coming to the final rally, volunteer form), SMS, not sent the text",
            document(
                {
                    "any": [
                        {"field": "event", "op": "attended", "value": meeting},
                        {"field": "event", "op": "rsvp", "value": final},
                        {"field": "form", "op": "submitted", "value": volunteer_form},
                    ]
                },
                reach["sms"],
                {"not": {"field": "mailing", "op": "received", "value": text}},
            ),
            s9,
        )
    )

    # S10 — sent the first letter but opened none of the first three: a paper letter instead.
    def s10() -> tuple[str, list[Any]]:
        return join(
            [
                (delivered("d.status = 'sent'"), [letters[0]]),
                (f"{may('post')} AND {has_address}", []),
                (
                    "NOT EXISTS (SELECT 1 FROM messaging_delivery d WHERE d.person_id = p.id "
                    "AND d.mailing_id IN (%s, %s, %s) AND d.opened_at IS NOT NULL)",
                    letters[:3],
                ),
            ]
        )

    specs.append(
        Spec(
            "S10",
            "sent letter 1, reachable by post, opened none of letters 1–3",
            document(
                {"field": "mailing", "op": "received", "value": letters[0]},
                reach["post"],
                {"not": {"any": [{"field": "mailing", "op": "opened", "value": letter} for letter in letters[:3]]}},
            ),
            s10,
        )
    )
    return specs


SNAPSHOT_SEGMENT = "S6"
# The typical segment with --runs runs; the big one (slow on SQLite) with at most 3.
ENDPOINT_SEGMENTS = (("S1", None), ("S6", 3))


TIMEOUT = {"seconds": 60.0, "deadline": math.inf}


def install_timeout(seconds: float, pg_settings: list[str]) -> None:
    """Stop any statement after `seconds`: PostgreSQL's statement_timeout; on SQLite a
    progress handler that interrupts the running statement once the timed call is over
    its deadline (set by `timed`). A timed-out call is reported, never waited for."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    TIMEOUT["seconds"] = seconds

    def guard() -> int:
        return 1 if time.monotonic() > TIMEOUT["deadline"] else 0

    def setup(sender: Any = None, connection: Any = connection, **kwargs: Any) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(seconds * 1000)}")
                for setting in pg_settings:  # checked by parse_args: NAME=VALUE, no quotes
                    name, value = setting.split("=", 1)
                    cursor.execute(f"SET {name} = '{value}'")
        else:
            connection.connection.set_progress_handler(guard, 100_000)

    connection_created.connect(setup, weak=False)
    connection.ensure_connection()
    setup(connection=connection)


def timed(fn: Callable[[], Any]) -> tuple[float | None, Any]:
    """(seconds, value), or (None, None) when the database stopped the call (TIMEOUT)."""
    TIMEOUT["deadline"] = time.monotonic() + TIMEOUT["seconds"]
    started = time.perf_counter()
    try:
        value = fn()
    except Exception as error:  # Django's OperationalError, or the driver's own through a raw cursor
        # A parallel query stopped by statement_timeout may report its workers' message,
        # "canceling statement due to user request" (nothing else cancels statements here).
        if not any(text in str(error) for text in ("statement timeout", "due to user request", "interrupted")):
            raise
        return None, None
    finally:
        TIMEOUT["deadline"] = math.inf
    return time.perf_counter() - started, value


def figures(samples: list[float | None]) -> dict[str, Any]:
    """Percentiles of the samples, or a timeout marker when one of them timed out."""
    if not samples or any(sample is None for sample in samples):
        return {"timeout_s": TIMEOUT["seconds"], "p50_ms": None, "p95_ms": None}
    return percentiles([sample for sample in samples if sample is not None])


def ratio_of(orm: dict[str, Any], hand: dict[str, Any]) -> float | None:
    if orm["p50_ms"] is None or hand["p50_ms"] is None:
        return None
    return float(orm["p50_ms"] / hand["p50_ms"])


def hand_count(spec: Spec, campaign_id: int) -> int:
    from django.db import connection

    where, params = spec.hand()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM people_person p WHERE p.campaign_id = %s AND {where}", [campaign_id, *params]
        )
        return int(cursor.fetchone()[0])


def measure_segments(campaign: Any, specs: list[Spec], runs: int, label: str) -> list[dict[str, Any]]:
    from suffrage.segments.compiler import context_for, segment_people

    context = context_for(campaign, can_sensitive=True)
    results = []
    for spec in specs:

        def orm(spec: Spec = spec) -> int:
            return segment_people(campaign, spec.document, context).count()

        def hand(spec: Spec = spec) -> int:
            return hand_count(spec, campaign.pk)

        first_orm, count = timed(orm)
        first_hand, hand_n = timed(hand)
        orm_samples: list[float | None] = [] if first_orm is not None else [None]
        hand_samples: list[float | None] = [] if first_hand is not None else [None]
        for _run in range(runs):
            # After a timeout, that side is not run again: one timeout is the figure.
            if first_orm is not None:
                orm_samples.append(timed(orm)[0])
            if first_hand is not None:
                hand_samples.append(timed(hand)[0])
        row = {
            "key": spec.key,
            "title": spec.title,
            "count": count,
            "hand_count": hand_n,
            "equal": None if count is None or hand_n is None else count == hand_n,
            "orm": figures(orm_samples),
            "hand": figures(hand_samples),
        }
        row["ratio"] = ratio_of(row["orm"], row["hand"])
        flag = "" if row["equal"] is not False else f"   *** MISMATCH: ORM {count:,} ≠ hand SQL {hand_n:,} ***"
        print(
            f"    {label} {spec.key}: {_n(count if count is not None else hand_n)} people; "
            f"ORM p50/p95 {_pair(row['orm'])} ms, SQL {_pair(row['hand'])} ms, ratio {_ratio(row['ratio'])} "
            f"(warm-up {_ms(first_orm)} / {_ms(first_hand)} ms){flag}",
            flush=True,
        )
        results.append(row)
    return results


def measure_endpoint(campaign: Any, spec: Spec, runs: int) -> dict[str, Any]:
    from suffrage.segments import selectors
    from suffrage.segments.compiler import context_for, segment_people

    samples: dict[str, list[float | None]] = {"count": [], "by_channel": [], "by_station": [], "sample": []}
    totals: list[float | None] = []
    for run in range(runs + 1):

        def count() -> int:
            # As the view: the context per request, then the queryset (validation and
            # compilation, which for some fields queries the database), counted with the count.
            context = context_for(campaign, can_sensitive=True)
            return segment_people(campaign, spec.document, context).count()

        people = segment_people(campaign, spec.document, context_for(campaign, can_sensitive=True))
        times = {
            "count": timed(count)[0],
            "by_channel": timed(lambda people=people: selectors.by_channel(people))[0],
            "by_station": timed(lambda people=people: selectors.by_station(people))[0],
            "sample": timed(lambda people=people: selectors.sample(people))[0],
        }
        timed_out = any(seconds is None for seconds in times.values())
        if run == 0 and not timed_out:
            continue  # warm-up
        for part, seconds in times.items():
            samples[part].append(seconds)
        totals.append(None if timed_out else sum(s for s in times.values() if s is not None))
        if timed_out:
            break  # one timeout is the figure
    result = {
        "key": spec.key,
        "runs": runs,
        "parts": {part: figures(values) for part, values in samples.items()},
        "total": figures(totals),
    }
    print(
        f"    endpoint {spec.key}: "
        + ", ".join(f"{part} {_pair(f)}" for part, f in result["parts"].items())
        + f"; total {_pair(result['total'])} ms",
        flush=True,
    )
    return result


def measure_snapshot(campaign: Any, spec: Spec, runs: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from suffrage.segments.compiler import context_for
    from suffrage.segments.models import Snapshot, SnapshotMember
    from suffrage.segments.services import snapshot_create

    context = context_for(campaign, can_sensitive=True)
    members = SnapshotMember._meta.db_table

    def drop(snapshot_id: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {members} WHERE snapshot_id = %s", [snapshot_id])
            cursor.execute(f"DELETE FROM {Snapshot._meta.db_table} WHERE id = %s", [snapshot_id])

    orm_seconds: list[float | None] = []
    hand_seconds: list[float | None] = []
    count, hand_n = None, None
    for _run in range(runs):
        seconds, snapshot = timed(
            lambda: snapshot_create(
                campaign=campaign, document=spec.document, purpose=SNAPSHOT_PURPOSE, actor=None, context=context
            )
        )
        orm_seconds.append(seconds)
        if snapshot is not None:
            count = snapshot.count
            drop(snapshot.pk)
        # The anchor: the same people by hand, INSERT … SELECT and a count, in one transaction.
        anchor = Snapshot.objects.create(campaign=campaign, purpose=SNAPSHOT_PURPOSE, document={})
        where, params = spec.hand()

        def insert(anchor_id: int = anchor.pk, where: str = where, params: list[Any] = params) -> int:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {members} (snapshot_id, person_id) SELECT %s, p.id FROM people_person p "
                    f"WHERE p.campaign_id = %s AND {where}",
                    [anchor_id, campaign.pk, *params],
                )
                cursor.execute(f"SELECT COUNT(*) FROM {members} WHERE snapshot_id = %s", [anchor_id])
                return int(cursor.fetchone()[0])

        hand_s, hand_n = timed(insert)
        hand_seconds.append(hand_s)
        drop(anchor.pk)
        mismatch = count is not None and hand_n is not None and count != hand_n
        print(
            f"    snapshot {spec.key}: snapshot_create {_s(seconds)} ({_n(count)}), "
            f"hand INSERT … SELECT {_s(hand_s)} ({_n(hand_n)})" + ("  *** MISMATCH ***" if mismatch else ""),
            flush=True,
        )
        if seconds is None:
            break  # one timeout is the figure
    done = [s for s in orm_seconds if s is not None]
    hand_done = [s for s in hand_seconds if s is not None]
    ratio = None
    if len(done) == len(orm_seconds) and hand_done:
        ratio = sorted(done)[len(done) // 2] / sorted(hand_done)[len(hand_done) // 2]
    return {
        "key": spec.key,
        "count": count if count is not None else hand_n,
        "hand_count": hand_n,
        "equal": None if count is None or hand_n is None else count == hand_n,
        "orm_seconds": orm_seconds,
        "hand_seconds": hand_seconds,
        "ratio": ratio,
        "timeout_s": TIMEOUT["seconds"],
    }


def captured_count_sql(people: Any, database: str) -> str | None:
    """The SQL of `people.count()`. On PostgreSQL it is captured from a run stopped after
    1 ms (a slow count is not run twice); on SQLite from a run under the usual timeout."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        if database == "postgres":
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 1")
            try:
                timed(people.count)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET statement_timeout = {int(TIMEOUT['seconds'] * 1000)}")
        elif timed(people.count)[0] is None:
            return None
    counts = [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"]]
    return counts[-1] if counts else None


def write_plans(campaign: Any, specs: list[Spec], database: str, suffix: str) -> Path:
    """EXPLAIN ANALYZE (PostgreSQL; plain EXPLAIN when it times out) or EXPLAIN QUERY PLAN
    (SQLite) of both counts of every segment."""
    from django.db import connection

    from suffrage.segments.compiler import context_for, segment_people

    context = context_for(campaign, can_sensitive=True)
    path = OUT / f"segments-plans-{database}{suffix}.txt"
    lines = [f"Plans of the segment counts on {database}, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}"]
    for spec in specs:
        orm_sql = captured_count_sql(segment_people(campaign, spec.document, context), database)
        where, params = spec.hand()
        hand_sql = f"SELECT COUNT(*) FROM people_person p WHERE p.campaign_id = %s AND {where}"
        for label, sql, values in (("ORM", orm_sql, None), ("hand SQL", hand_sql, [campaign.pk, *params])):
            if sql is None:
                lines += ["", f"=== {spec.key} {spec.title} — {label} ===", "(count timed out: no plan)"]
                continue

            def explain(prefix: str, sql: str = sql, values: list[Any] | None = values) -> list[Any]:
                with connection.cursor() as cursor:
                    if values is None:
                        cursor.cursor.execute(prefix + sql)  # the captured SQL has its values inlined
                    else:
                        cursor.execute(prefix + sql, values)
                    return list(cursor.fetchall())

            note = ""
            if database == "postgres":
                rows = timed(lambda explain=explain: explain("EXPLAIN (ANALYZE, BUFFERS) "))[1]
                if rows is None:
                    note = f"(EXPLAIN ANALYZE timed out after {TIMEOUT['seconds']:g} s: the plan without ANALYZE)"
                    rows = explain("EXPLAIN ")
            else:
                rows = explain("EXPLAIN QUERY PLAN ")
            shown = sql if len(sql) < 4000 else sql[:4000] + f" … ({len(sql):,} characters)"
            lines += ["", f"=== {spec.key} {spec.title} — {label} ===", shown, "", *([note] if note else [])]
            if database == "postgres":
                lines += [row[0] for row in rows]
            else:
                lines += [f"{row[0]:>4} {row[1]:>4}  {row[-1]}" for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    database: str = args.child
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from suffrage.core.models import Campaign

    total_started = time.perf_counter()
    code = code_snapshot()  # the code this process imported (others may change suffrage/ meanwhile)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"  migrate: {time.perf_counter() - started:.1f} s", flush=True)
    wanted = params_of(args)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (params TEXT NOT NULL, built TEXT NOT NULL)")
        cursor.execute(f"SELECT params, built FROM {MARKER}")
        row = cursor.fetchone()
    if row and json.loads(row[0]) == wanted:
        build_note = f"reused ({row[1]})"
        print(f"  data: {build_note}", flush=True)
    else:
        if Campaign.objects.exists():
            raise SystemExit("The database holds data but no matching marker: the driver should have reset it.")
        print(f"  building {args.people:,} + {small_people(args.people):,} people …", flush=True)
        started = time.perf_counter()
        counts = build(args.people, small_people(args.people), args.seed)
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with connection.cursor() as cursor:
            # What autovacuum (PostgreSQL) would do after a big load; SQLite never analyzes on its own.
            cursor.execute("VACUUM (ANALYZE)" if database == "postgres" else "ANALYZE")
        analyze_seconds = time.perf_counter() - started
        build_note = (
            f"built {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: load {load_seconds:.0f} s, "
            f"{'VACUUM ANALYZE' if database == 'postgres' else 'ANALYZE'} {analyze_seconds:.0f} s"
        )
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {MARKER} (params, built) VALUES (%s, %s)", [json.dumps(wanted), build_note])
        print(f"  data {build_note}; rows {counts}", flush=True)

    from suffrage.canvassing.models import Visit
    from suffrage.engagement.models import RSVP, Submission
    from suffrage.messaging.models import Delivery
    from suffrage.people.models import Person, PersonEmail, PersonPhone, PostalAddress
    from suffrage.roll.models import RollEntry, RollLink
    from suffrage.segments.models import Snapshot

    Snapshot.objects.filter(purpose=SNAPSHOT_PURPOSE).delete()  # left by an interrupted run
    install_timeout(args.timeout, args.pg_set)
    rows = {
        "people": Person.objects.count(),
        "emails": PersonEmail.objects.count(),
        "phones": PersonPhone.objects.count(),
        "addresses": PostalAddress.objects.count(),
        "tags": Person.tags.through.objects.count(),
        "roll entries": RollEntry.objects.count(),
        "roll links": RollLink.objects.count(),
        "deliveries": Delivery.objects.count(),
        "submissions": Submission.objects.count(),
        "RSVPs": RSVP.objects.count(),
        "visits": Visit.objects.count(),
    }
    campaign = Campaign.objects.get(slug=SLUG_A)
    small = Campaign.objects.get(slug=SLUG_B)
    sqlite = connection.vendor == "sqlite"
    today = datetime.date.today()
    only = {key.strip() for key in args.only.split(",") if key.strip()}

    def chosen(all_specs: list[Spec]) -> list[Spec]:
        return [spec for spec in all_specs if not only or spec.key in only]

    specs = chosen(segment_specs(campaign.pk, sqlite, today))
    print(f"  counts, campaign A ({args.people:,} people), {args.runs} runs after a warm-up:", flush=True)
    segments = measure_segments(campaign, specs, args.runs, "A")
    print(f"  counts, campaign B ({small_people(args.people):,} people):", flush=True)
    small_specs = chosen(segment_specs(small.pk, sqlite, today))
    for row, small_row in zip(segments, measure_segments(small, small_specs, args.runs, "B"), strict=True):
        row["small"] = small_row
    by_key = {spec.key: spec for spec in specs}
    print("  the builder's endpoint work (count + by_channel + by_station + sample):", flush=True)
    endpoint = [
        measure_endpoint(campaign, by_key[key], min(args.runs, most or args.runs))
        for key, most in ENDPOINT_SEGMENTS
        if key in by_key
    ]
    print("  snapshots:", flush=True)
    snapshot = None
    if args.snapshot_runs and SNAPSHOT_SEGMENT in by_key:
        snapshot = measure_snapshot(campaign, by_key[SNAPSHOT_SEGMENT], args.snapshot_runs)
    plans = write_plans(campaign, specs, database, args.suffix)
    print(f"  plans written to {plans.relative_to(ROOT)}", flush=True)
    result = {
        "database": database,
        "people": args.people,
        "small": small_people(args.people),
        "build": build_note,
        "rows": rows,
        "segments": segments,
        "endpoint": endpoint,
        "snapshot": snapshot,
        "load_average": os.getloadavg()[0],
        "code": code,
        "timeout_s": args.timeout,
        "pg_set": args.pg_set if database == "postgres" else [],
        "total_seconds": time.perf_counter() - total_started,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def main() -> int:
    args = parse_args()
    if args.child:
        return child(args)
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
