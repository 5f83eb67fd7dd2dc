"""Door-to-door sync benchmark (issue "Door-to-door and phone canvassing"): a volunteer's
phone sends 500 queued records in one request; the issue's anchor is 2 s for that
request, on SQLite and on PostgreSQL.

Usage (from the repository root):

    .venv/bin/python bench/sync.py                          # SQLite (or PostgreSQL if DATABASE_URL says so)
    .venv/bin/python bench/sync.py --database postgres
    .venv/bin/python bench/sync.py --records 500 --contacts 50 --runs 5 --keep

What it does. The driver runs itself as a child process (production-like settings:
DEBUG=0, inline tasks, its own DATA_DIR) on a fresh database: the SQLite file
bench/out/sync.sqlite3, or the PostgreSQL database suffrage_bench_sync (dropped and
created) on 127.0.0.1:5432. The child runs `migrate`, then creates one campaign, one
volunteer holding one turf of --records doors of a door-to-door canvass with three
questions (one choice, several choices, a scale), and 2,000 people already in the base
with an email address (so that looking a contact up is not a lookup in an empty table).

Each run builds the phone's queue afresh, as app.js sends it: --records records with
new client ids (UUID v4), one per door, of which --contacts are conversations with
contact details (first name, last name, a new email address and a French mobile
number, consent to email and SMS ticked, answers to the three questions, one in five
with a support level) and the others one-tap outcomes (not home, leaflet, come back,
refused, no access). The record queue is serialised to JSON and POSTed to the sync
endpoint through Django's test client, logged in as the volunteer (the whole request:
middleware, session, access check, JSON parsing, validation, people, consents, the
visits' bulk insert, the audit row, the JSON answer). One small request (20 records,
2 contacts) warms the process up first, untimed. Timed: the request, from the client's
call to its answer. Every run must answer 200 with all records accepted, none
refused, and --contacts people created; the database must then hold exactly runs ×
--records visits.

Also measured, not goals: the queries per request and the cost of one trivial query
(SELECT 1, best of 3 × 1,000) on that database, the same request sent again (a retry after a lost answer:
all duplicates, nothing written), the part of the request spent on the contacts
(sync._contact_apply, a benchmark-side probe), and a floor: a bare `bulk_create` of
--records visit rows in a transaction (rolled back; the best of three), which no sync
can beat.

Output: the median of --runs runs and its ratio to the anchor (≤ 1 meets the goal),
written to bench/out/sync-<records>[-postgres].txt. One run at a time (bench/out/sync.lock).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from common import PhaseTimer, Report, child_env, code_snapshot, pg_admin, take_lock

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "suffrage_bench_sync"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
SLUG = "bench-sync"
VOLUNTEER_EMAIL = "bench-sync-volunteer@example.org"
KNOWN_PEOPLE = 2_000
ANCHOR_SECONDS = 2.0
ONE_TAP = ("not_home", "leaflet", "come_back", "refused", "no_access")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    default_db = "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default=default_db)
    parser.add_argument("--records", type=int, default=500, help="records in the request (500)")
    parser.add_argument("--contacts", type=int, default=50, help="of which conversations with contact details (50)")
    parser.add_argument("--runs", type=int, default=5, help="timed requests, each with new records (5)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def sqlite_path() -> Path:
    return OUT / "sync.sqlite3"


def drop_database(args: argparse.Namespace) -> None:
    if args.database == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{sqlite_path()}{suffix}").unlink(missing_ok=True)
    else:
        pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def driver(args: argparse.Namespace) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    lock = take_lock(OUT / "sync.lock")
    if lock is None:
        return 3
    say = Report()
    say(
        f"Sync benchmark — {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {args.records} records "
        f"({args.contacts} with contact details) per request, {args.runs} runs, {args.database}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, code {code_snapshot(ROOT / 'suffrage')}"
    )
    drop_database(args)
    if args.database == "postgres":
        pg_admin(PG_ADMIN_URL, f"CREATE DATABASE {PG_NAME} ENCODING 'UTF8' TEMPLATE template0")
    url = f"sqlite:///{sqlite_path()}" if args.database == "sqlite" else PG_URL
    env = child_env(data_dir=OUT / "data-sync", database_url=url)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--database", args.database]
    command += ["--records", str(args.records), "--contacts", str(args.contacts), "--runs", str(args.runs)]
    result: dict[str, Any] = {}
    try:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT ") :])
            else:
                say(line.rstrip("\n"))
        if process.wait() != 0:
            raise SystemExit(f"the child exited with {process.returncode}")
    finally:
        if not args.keep:
            drop_database(args)

    seconds = result["seconds"]
    median = statistics.median(seconds)
    ratio = median / ANCHOR_SECONDS
    say(
        f"\n=== Results: {args.records} records ({args.contacts} with contact details) in one request, "
        f"{args.database} ==="
    )
    say(f"sync request, {len(seconds)} runs: " + ", ".join(f"{s * 1000:,.0f}" for s in seconds) + " ms")
    say(
        f"  median {median * 1000:,.0f} ms (min {min(seconds) * 1000:,.0f}, max {max(seconds) * 1000:,.0f}); "
        f"{median / args.records * 1e6:,.0f} µs per record"
    )
    say(
        f"  of which contacts (sync._contact_apply, {args.contacts} per run): median "
        f"{statistics.median(result['contact_seconds']) * 1000:,.0f} ms"
    )
    say(f"  request body {result['body_bytes'] / 1024:,.0f} KiB; answers all 200, all accepted: {result['all_ok']}")
    say(
        f"  queries per request: {statistics.median(result['queries']):,.0f}; one trivial query (SELECT 1) costs "
        f"{result['round_trip_seconds'] * 1e6:,.0f} µs here, so the round trips alone take about "
        f"{statistics.median(result['queries']) * result['round_trip_seconds'] * 1000:,.0f} ms"
    )
    say(f"retry of the last request (all duplicates): {result['retry_seconds'] * 1000:,.0f} ms")
    say(
        f"floor: bare bulk_create of {args.records} visits in a transaction (best of 3): "
        f"{result['floor_seconds'] * 1000:,.0f} ms"
    )
    say(
        f"database: {result['visits']:,} visits (expected {args.records * args.runs:,}), "
        f"{result['people_created']:,} people created by the syncs (expected {args.contacts * args.runs:,})"
    )
    say("\nGoal:")
    say(
        f"  sync of {args.records} queued records in one request ≤ {ANCHOR_SECONDS:.0f} s: "
        f"{'MET' if median <= ANCHOR_SECONDS and result['all_ok'] else 'NOT MET'} "
        f"(median {median:.3f} s, ratio to the anchor {ratio:.2f})"
    )
    suffix = f"{args.records}" + ("-postgres" if args.database == "postgres" else "")
    path = OUT / f"sync-{suffix}.txt"
    path.write_text("\n".join(say.lines) + "\n", encoding="utf-8")
    print(f"\nWritten to {path.relative_to(ROOT)}", flush=True)
    return 0


# --- The child: Django set up on the bench database ----------------------------------------------


def setup(args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from suffrage.canvassing.models import Canvass, Door, Question, Turf
    from suffrage.core.models import Membership, User
    from suffrage.core.roles import Role
    from suffrage.core.services import campaign_create
    from suffrage.people.models import Person, PersonEmail, Source

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"  migrate: {time.perf_counter() - started:.1f} s", flush=True)
    owner = User.objects.create_user("bench-sync-owner@example.org", "bench-password-not-secret")
    volunteer = User.objects.create_user(VOLUNTEER_EMAIL, "bench-password-not-secret")
    campaign = campaign_create(name="Brest 2027", slug=SLUG, owner=owner, require_mfa=False)
    Membership.objects.create(campaign=campaign, user=volunteer, role=Role.VOLUNTEER)
    with transaction.atomic():
        people = Person.objects.bulk_create(
            Person(
                campaign=campaign, first_names="Connu", usage_name=f"N{i}", source=Source.IMPORT, legal_basis="consent"
            )
            for i in range(KNOWN_PEOPLE)
        )
        PersonEmail.objects.bulk_create(
            PersonEmail(person=person, campaign=campaign, address=f"connu{i}@example.org", is_primary=True)
            for i, person in enumerate(people)
        )
        canvass = Canvass.objects.create(
            campaign=campaign, name="Recouvrance, mars", status=Canvass.Status.ACTIVE, script="Bonjour…"
        )
        questions = [
            Question.objects.create(canvass=canvass, position=position, kind=kind, text=text, choices=choices)
            for position, (kind, text, choices) in enumerate(
                [("single", "Sujet ?", ["A", "B", "C"]), ("multiple", "Quoi ?", ["X", "Y"]), ("scale", "Note ?", [])]
            )
        ]
        turf = Turf.objects.create(
            campaign=campaign, canvass=canvass, name="Secteur 1", assigned_to=volunteer, assigned_at=timezone.now()
        )
        doors = Door.objects.bulk_create(
            Door(campaign=campaign, canvass=canvass, turf=turf, street="rue de Siam", number=str(i + 1), position=i)
            for i in range(args.records)
        )
        turf.doors_count = len(doors)
        turf.save()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
    return {"volunteer": volunteer, "questions": questions, "door_ids": [door.pk for door in doors]}


def queue(args: argparse.Namespace, run: int, door_ids: list[int], questions: list[Any]) -> list[dict[str, Any]]:
    """What the phone has queued: one record per door, as app.js sends them."""
    single, several, scale = questions
    step = max(1, len(door_ids) // max(1, args.contacts))
    talked = set(range(0, len(door_ids), step)[: args.contacts])
    records = []
    for index, door_id in enumerate(door_ids):
        record: dict[str, Any] = {
            "client_id": str(uuid.uuid4()),
            "door_id": door_id,
            "outcome": ONE_TAP[index % len(ONE_TAP)],
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 3600 + index)),
            "answers": {},
            "note": "",
            "contact": None,
            "support_level": None,
        }
        if index in talked:
            number = run * 10_000 + index
            record.update(
                outcome="opened",
                answers={str(single.pk): "B", str(several.pk): ["X", "Y"], str(scale.pk): 4},
                note="Intéressée par le programme transports",
                contact={
                    "first_names": "Anne",
                    "last_name": f"Porte{number}",
                    "email": f"porte{number}@example.org",
                    "phone": f"06 {number // 1_000_000 % 100:02d} {number // 10_000 % 100:02d} "
                    f"{number // 100 % 100:02d} {number % 100:02d}",
                    "consent_email": True,
                    "consent_sms": True,
                    "consent_phone": False,
                },
                support_level=2 if index % 5 == 0 else None,
            )
        records.append(record)
    return records


def floor(args: argparse.Namespace, door_ids: list[int]) -> float:
    """A bare bulk_create of as many visits, rolled back: the least any sync costs."""
    from django.db import transaction

    from suffrage.canvassing.models import Door, Visit

    doors = list(Door.objects.filter(pk__in=door_ids).values_list("pk", "campaign_id", "canvass_id", "turf_id"))

    class Rollback(Exception):
        pass

    timings = []
    for _attempt in range(3):
        started = time.perf_counter()
        try:
            with transaction.atomic():
                Visit.objects.bulk_create(
                    Visit(campaign_id=campaign, canvass_id=canvass, door_id=pk, turf_id=turf, outcome="not_home")
                    for pk, campaign, canvass, turf in doors
                )
                timings.append(time.perf_counter() - started)
                raise Rollback
        except Rollback:
            pass
    return min(timings)


class QueryCounter:
    """Counts the queries a request runs (connection.execute_wrapper: next to nothing per query)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def round_trip() -> float:
    """The database's cost of one trivial query (SELECT 1), the best of three series of 1,000."""
    from django.db import connection

    best = float("inf")
    with connection.cursor() as cursor:
        for _series in range(3):
            started = time.perf_counter()
            for _query in range(1000):
                cursor.execute("SELECT 1")
                cursor.fetchone()
            best = min(best, (time.perf_counter() - started) / 1000)
    return best


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from suffrage.canvassing import sync
    from suffrage.canvassing.models import Visit
    from suffrage.people.models import Person

    code = code_snapshot(ROOT / "suffrage")
    made = setup(args)
    client = Client(HTTP_HOST="testserver")
    client.force_login(made["volunteer"])
    url = reverse("canvassing_app:sync", args=[SLUG])
    # A warm server: the first request of a process compiles templates, regexes and translations.
    warm = queue(argparse.Namespace(records=20, contacts=2), args.runs, made["door_ids"][:20], made["questions"])
    client.post(url, json.dumps({"records": warm}), content_type="application/json")
    people_before = Person.objects.count()
    visits_before = Visit.objects.count()
    seconds, contact_seconds, queries, all_ok, body = [], [], [], True, b""
    for run in range(args.runs):
        body = json.dumps({"records": queue(args, run, made["door_ids"], made["questions"])}).encode()
        probe = PhaseTimer(sync, "_contact_apply")
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.post(url, body, content_type="application/json")
            elapsed = time.perf_counter() - started
        probe.restore()
        queries.append(counter.count)
        answer = response.json()
        ok = (
            response.status_code == 200
            and len(answer["accepted"]) == args.records
            and not answer["rejected"]
            and answer["people_created"] == args.contacts
        )
        all_ok = all_ok and ok
        seconds.append(elapsed)
        contact_seconds.append(probe.seconds)
        print(
            f"  run {run + 1}: {elapsed * 1000:,.0f} ms (contacts {probe.seconds * 1000:,.0f} ms), "
            f"HTTP {response.status_code}, {len(answer['accepted'])} accepted, {len(answer['rejected'])} refused, "
            f"{answer['people_created']} people created, {counter.count:,} queries"
            f"{'' if ok else ' — UNEXPECTED'}",
            flush=True,
        )
    started = time.perf_counter()
    retry = client.post(url, body, content_type="application/json")
    retry_seconds = time.perf_counter() - started
    all_ok = all_ok and len(retry.json()["duplicates"]) == args.records
    result = {
        "seconds": seconds,
        "queries": queries,
        "round_trip_seconds": round_trip(),
        "contact_seconds": contact_seconds,
        "retry_seconds": retry_seconds,
        "floor_seconds": floor(args, made["door_ids"]),
        "body_bytes": len(body),
        "all_ok": all_ok,
        "visits": Visit.objects.count() - visits_before,
        "people_created": Person.objects.count() - people_before,
        "code": code,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def main() -> int:
    args = parse_args()
    return child(args) if args.child else driver(args)


if __name__ == "__main__":
    sys.exit(main())
