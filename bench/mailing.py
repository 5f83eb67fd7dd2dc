"""Mailing benchmark (issue 7): a personalised mailing to N people through the SMTP
transport, against a bare smtplib loop sending the same pre-rendered message to the
same loopback server in the same run.

Usage (from the repository root):

    .venv/bin/python bench/mailing.py [--messages 100000] [--database sqlite|postgres]
                                      [--dkim rsa|ed25519|none] [--profile 5000] [--keep]
    .venv/bin/python bench/mailing.py --messages 5000 --profile 1000     # a quick check

Processes (the driver starts them all; only loopback traffic):

* the SMTP server: aiosmtpd in a process of its own (`--serve`), counting messages,
  recipients, messages with a recipient count other than one, addresses received twice,
  bytes and DKIM-signed messages, per phase (the driver resets it between phases);
* `--child setup`: a fresh database (SQLite file bench/out/mailing-<N>.sqlite3, or the
  PostgreSQL database suffrage_bench_mailing dropped and created), `migrate`, one
  campaign, N people each with one email address, email consent and (80 %) a postal
  address (town), written in chunks (COPY on PostgreSQL, executemany on SQLite); a
  dynamic segment of everyone, a sender with a DKIM key, an SMTP transport (security
  "none", no rate limit) to the server, a mailing; then `mailing_send` (snapshot,
  audience, one delivery per recipient), timed; the task it enqueues on commit is
  dropped (the send runs in the next child). It also renders the first delivery's
  message with the engine's own code (engine.message_for, then the SMTP transport's
  render_message and DKIM signature) and writes the bytes and the recipients' addresses
  for the anchor;
* the anchor, in the driver: one smtplib connection, N sendmail() of those bytes, only
  the To: header (and the envelope recipient) changed per message, run before and after
  the engine; the faster of the two is the reference;
* `--child send`: the engine, `services.mailings_tick()` (what `manage.py mailings_tick`
  runs): claim, render, sign, send and record every message. Its time is from just
  before the tick to its end (Django's start-up excluded), its peak memory the child's
  maximum RSS over its whole life (os.wait4), i.e. the sending side only;
* `--child profile` (unless --profile 0): a second mailing to the same people (their
  first-contact notices reset, so the messages are the same mix), of which
  `mailing_run` sends the first --profile messages under cProfile.

Goals: the engine at least 50 % of the bare loop's rate; peak RSS of the sending
process at most 200 MB. The time for 1,000,000 is projected linearly (sending plus the
deliveries' creation). Output: bench/out/mailing-<N>[-postgres][-<dkim>].txt (the
printed text) and mailing-<N>...prof (the profile). One run at a time
(bench/out/mailing.lock).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import smtplib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from common import MB, PhaseTimer, Report, Table, child_env, code_snapshot, current_rss_mb, pg_admin, take_lock

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "suffrage_bench_mailing"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
OWNER_EMAIL = "bench-mailing-owner@example.org"
SLUG = "bench-mailing"
CHUNK = 20_000
SEED = 2027

GOAL_RATIO = 0.5
GOAL_RSS_MB = 200.0
PROJECT_TO = 1_000_000

DKIM_ALGORITHMS = {"rsa": "rsa-sha256", "ed25519": "ed25519-sha256", "none": "rsa-sha256"}
TOWNS = (
    ("Brest", "29200", 0.55),
    ("Guipavas", "29490", 0.65),
    ("Plouzané", "29280", 0.72),
    ("Le Relecq-Kerhuon", "29480", 0.78),
    ("Gouesnou", "29850", 0.82),
    ("Quimper", "29000", 0.90),
    ("Landerneau", "29800", 1.0),
)
# Source of the data: the indirect ones (import, social) owe a first-contact notice.
SOURCES_CUM = (("import", 0.40), ("web_form", 0.65), ("manual", 0.75), ("event", 0.85), ("canvassing", 0.95))

SUBJECT = '{{ first_name|default:"Bonjour" }}, rendez-vous le 14 mars à {{ town|default:"Brest" }}'
PREHEADER = "Réunion publique, porte-à-porte et programme : les nouvelles de la semaine."
BODY = """Bonjour {{ first_name|default:"Madame, Monsieur" }},

Merci pour votre soutien ! La campagne avance, quartier par quartier, et nous voulions
vous en donner des nouvelles avant la réunion publique du **14 mars**.

## Réunion publique

Nous vous attendons à 18 h 30 à la salle des fêtes de {{ town|default:"Brest" }} pour
présenter notre programme et répondre à vos questions. L'entrée est libre ; une garderie
est prévue pour les enfants. [Voir l'agenda](https://brest2027.example/agenda)

## Ce que nous proposons

- des transports en commun gratuits le week-end et une ligne de bus de nuit ;
- la rénovation thermique des écoles, à commencer par les plus anciennes ;
- un budget participatif de 2 millions d'euros, décidé par les habitants ;
- des jardins partagés dans chaque quartier.

Le programme complet est en ligne : [lire le programme](https://brest2027.example/programme).

## Nous rejoindre

Chaque samedi matin, des équipes de bénévoles vont à la rencontre des habitants. Une heure
suffit pour nous aider, et nous formons celles et ceux qui le souhaitent.
[Je deviens bénévole](https://brest2027.example/benevoles)

À très bientôt,

*L'équipe de campagne*
"""


# --- Driver ------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000, help="recipients of the mailing (100,000)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--dkim", choices=list(DKIM_ALGORITHMS), default="rsa", help="signature (rsa: realistic)")
    parser.add_argument("--profile", type=int, default=5_000, help="messages sent under cProfile (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["setup", "send", "profile"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def suffix_of(args: argparse.Namespace) -> str:
    return (
        f"{args.messages}"
        + ("-postgres" if args.database == "postgres" else "")
        + ("" if args.dkim == "rsa" else f"-{args.dkim}")
    )


def sqlite_path(args: argparse.Namespace) -> Path:
    return OUT / f"mailing-{args.messages}.sqlite3"


def recipients_path(args: argparse.Namespace) -> Path:
    return OUT / f"mailing-{suffix_of(args)}-recipients.txt"


def message_path(args: argparse.Namespace) -> Path:
    return OUT / f"mailing-{suffix_of(args)}-message.eml"


class Server:
    """The SMTP server process, driven through its stdin/stdout."""

    def __init__(self) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve"]
        self.process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self._read()
        if not line.startswith("READY "):
            raise RuntimeError(f"the SMTP server did not start: {line!r}")
        self.port = int(line.split()[1])

    def _read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def reset(self) -> None:
        self.ask("RESET")

    def stats(self) -> dict[str, Any]:
        return dict(json.loads(self.ask("STATS")))

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.ask("QUIT")
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def run_child(
    kind: str, args: argparse.Namespace, port: int, say: Report, *, required: bool = True
) -> tuple[dict[str, Any], float, float]:
    """(its RESULT, its peak RSS in MB from the kernel, its wall time); RESULT is {} when an
    optional child fails."""
    url = f"sqlite:///{sqlite_path(args)}" if args.database == "sqlite" else PG_URL
    env = child_env(data_dir=OUT / "data-mailing", database_url=url)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--port", str(port)]
    command += ["--messages", str(args.messages), "--database", args.database, "--dkim", args.dkim]
    command += ["--profile", str(args.profile)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    result: dict[str, Any] = {}
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        else:
            say(line.rstrip("\n"))
    # wait4: this child's own rusage (RUSAGE_CHILDREN would mix in the other children).
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        if required:
            raise SystemExit(f"child {kind} exited with {process.returncode}")
        say(f"  child {kind} exited with {process.returncode}: its figures are missing")
        result = {}
    return result, usage.ru_maxrss / 1024, wall


def bare_loop(args: argparse.Namespace, port: int) -> dict[str, Any]:
    """N sendmail() of the engine's rendered message over one connection, only To: changed."""
    payload = message_path(args).read_bytes()
    recipients = recipients_path(args).read_text(encoding="ascii").split()
    first = recipients[0]
    marker = f"\r\nTo: {first}\r\n".encode("ascii")
    at = payload.index(marker)
    head, tail = payload[: at + len(b"\r\nTo: ")], payload[at + len(marker) - 2 :]
    sender = json.loads((OUT / f"mailing-{suffix_of(args)}-envelope.json").read_text())["from"]
    connection = smtplib.SMTP("127.0.0.1", port, timeout=30)
    connection.ehlo()
    started = time.perf_counter()
    for address in recipients:
        connection.sendmail(sender, [address], head + address.encode("ascii") + tail)
    seconds = time.perf_counter() - started
    connection.quit()
    return {"messages": len(recipients), "seconds": seconds, "rate": len(recipients) / seconds}


def prepare_database(args: argparse.Namespace) -> None:
    if args.database == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{sqlite_path(args)}{suffix}").unlink(missing_ok=True)
    else:
        pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        pg_admin(PG_ADMIN_URL, f"CREATE DATABASE {PG_NAME} ENCODING 'UTF8' TEMPLATE template0")


def drop_database(args: argparse.Namespace) -> None:
    if args.database == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{sqlite_path(args)}{suffix}").unlink(missing_ok=True)
    else:
        pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def server_line(stats: dict[str, Any], expected: int) -> str:
    ok = (
        stats["messages"] == expected
        and stats["recipients"] == expected
        and stats["not_one_recipient"] == 0
        and stats["twice"] == 0
    )
    return (
        f"{stats['messages']:,} messages, {stats['recipients']:,} recipients ({stats['distinct']:,} distinct, "
        f"{stats['twice']:,} received twice), {stats['not_one_recipient']} with ≠ 1 recipient, "
        f"{stats['signed']:,} DKIM-signed, {stats['bytes'] / MB:,.1f} MB; expected {expected:,}: "
        + ("OK" if ok else "MISMATCH")
    )


def driver(args: argparse.Namespace) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    lock = take_lock(OUT / "mailing.lock")
    if lock is None:
        return 3
    say = Report()
    n = args.messages
    say(
        f"Mailing benchmark — {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {n:,} messages, {args.database}, "
        f"DKIM {args.dkim}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
        f"code {code_snapshot(ROOT / 'suffrage')}"
    )
    try:
        import aiosmtplib  # noqa: F401
    except ImportError:
        aiosmtplib_note = "aiosmtplib is not installed: its variant of the anchor is skipped"
    else:
        aiosmtplib_note = "aiosmtplib is installed but its variant is not written yet: skipped"
    server = Server()
    say(f"SMTP server (aiosmtpd, own process {server.process.pid}) on 127.0.0.1:{server.port}")
    try:
        prepare_database(args)
        say("\n--- setup (child process) ---")
        setup, _rss, setup_wall = run_child("setup", args, server.port, say)
        say(f"  setup child: {setup_wall:.1f} s in all")

        say("\n--- anchor: bare smtplib loop #1 ---")
        server.reset()
        bare1 = bare_loop(args, server.port)
        bare1_server = server.stats()
        say(f"  {bare1['messages']:,} in {bare1['seconds']:.1f} s: {bare1['rate']:,.0f} msg/s")
        say(f"  server: {server_line(bare1_server, n)}")

        say("\n--- the engine: mailings_tick() in a child process ---")
        server.reset()
        send, send_rss, send_wall = run_child("send", args, server.port, say)
        send_server = server.stats()
        say(f"  server: {server_line(send_server, n)}")

        say("\n--- anchor: bare smtplib loop #2 ---")
        server.reset()
        bare2 = bare_loop(args, server.port)
        bare2_server = server.stats()
        say(f"  {bare2['messages']:,} in {bare2['seconds']:.1f} s: {bare2['rate']:,.0f} msg/s")
        say(f"  server: {server_line(bare2_server, n)}")

        profile: dict[str, Any] = {}
        if args.profile:
            say(f"\n--- profile: {min(args.profile, n):,} messages of a second mailing under cProfile ---")
            server.reset()
            profile, _rss, _wall = run_child("profile", args, server.port, say, required=False)
            say(f"  server: {server_line(server.stats(), min(args.profile, n))}")
        codes = {kind: result.get("code") for kind, result in (("setup", setup), ("send", send), ("profile", profile))}
    finally:
        server.stop()
        if not args.keep:
            drop_database(args)

    engine_rate = n / send["send_seconds"]
    bare = max((bare1, bare2), key=lambda b: b["rate"])
    ratio = engine_rate / bare["rate"]
    start_s = setup["start_seconds"]
    scale = PROJECT_TO / n
    say(f"\n=== Results: {n:,} personalised messages, {args.database}, DKIM {args.dkim} ===")
    say(
        f"mailing_send (snapshot + audience + {setup['deliveries']:,} deliveries): {start_s:.1f} s "
        f"(snapshot_create {setup['phases']['snapshot_create']:.1f} s, "
        f"audience_breakdown {setup['phases']['audience_breakdown']:.1f} s, "
        f"deliveries_create {setup['phases']['deliveries_create']:.1f} s)"
    )
    say(
        f"engine send: {send['send_seconds']:.1f} s, {engine_rate:,.0f} msg/s "
        f"(child {send_wall:.1f} s with Django start-up; mailing {send['mailing_status']}, deliveries "
        f"{', '.join(f'{k} {v:,}' for k, v in send['deliveries'].items())})"
    )
    phases = send["phases"]
    per_message = {name: phases[name] / n * 1e6 for name in phases}
    say(
        "  inside (µs per message, phase timers): "
        + ", ".join(f"{name} {value:,.0f}" for name, value in per_message.items())
        + f"; total {send['send_seconds'] / n * 1e6:,.0f}"
    )
    say(
        f"bare smtplib loop: #1 {bare1['rate']:,.0f} msg/s ({bare1['seconds']:.1f} s), "
        f"#2 {bare2['rate']:,.0f} msg/s ({bare2['seconds']:.1f} s); reference: the faster, {bare['rate']:,.0f} msg/s"
    )
    say(f"  {aiosmtplib_note}")
    say(
        f"message: {setup['message_bytes']:,} bytes as sent (text {setup['text_chars']:,} and HTML "
        f"{setup['html_chars']:,} characters, {setup['links']} tracked links)"
    )
    say(
        f"peak RSS of the sending process: {send_rss:.0f} MB (kernel, os.wait4; the child says "
        f"{send['peak_rss_mb']:.0f} MB, {send['rss_before_mb']:.0f} MB after Django's start-up)"
    )
    say(f"messages received by the server from the engine: {send_server['messages']:,} of {n:,}")
    projected_send = send["send_seconds"] * scale
    projected_start = start_s * scale
    say(
        f"projection for {PROJECT_TO:,} (linear): sending {projected_send / 60:.1f} min + deliveries' creation "
        f"{projected_start / 60:.1f} min = {(projected_send + projected_start) / 60:.1f} min "
        f"(the bare loop: {PROJECT_TO / bare['rate'] / 60:.1f} min)"
    )
    lost = send_server["messages"] != n or send_server["twice"] or send_server["not_one_recipient"]
    say("\nGoals:")
    say(
        f"  engine ≥ {GOAL_RATIO:.0%} of the bare loop: {'MET' if ratio >= GOAL_RATIO else 'NOT MET'} "
        f"({ratio:.1%}: {engine_rate:,.0f} / {bare['rate']:,.0f} msg/s)"
    )
    say(f"  peak memory ≤ {GOAL_RSS_MB:.0f} MB: {'MET' if send_rss <= GOAL_RSS_MB else 'NOT MET'} ({send_rss:.0f} MB)")
    say(f"  nobody lost, nobody twice: {'NO — see the server line above' if lost else 'yes'}")
    if len({code for code in codes.values() if code}) > 1:
        say(
            "\nWARNING: suffrage/ changed during the run, the children ran different code: "
            + ", ".join(f"{kind} {code}" for kind, code in codes.items() if code)
        )
    if profile:
        say(
            f"\n=== Profile: {profile['messages']:,} messages, mailing_run {profile['seconds']:.2f} s under cProfile "
            f"({profile['messages'] / profile['seconds']:,.0f} msg/s; {profile['path']}) ==="
        )
        say(
            "Share of mailing_run's time (cumulative, so nested entries overlap; the helper thread's "
            "entries run alongside the main thread's, so shares can add up to more than 100 %):"
        )
        for row in profile["shares"]:
            say(f"  {row['share']:6.1%}  {row['seconds']:7.2f} s  {row['calls']:>8,} calls  {row['label']}")
        say("\nTop 15 by cumulative time (main thread):")
        say(profile["cumulative"].rstrip())
        say("\nTop 15 by own time (main thread):")
        say(profile["tottime"].rstrip())
        if profile.get("helper"):
            say("\nThe engine's helper thread (Pipeline._build: render and sign ahead), top 15 by cumulative time:")
            say(profile["helper"].rstrip())
    path = OUT / f"mailing-{suffix_of(args)}.txt"
    path.write_text("\n".join(say.lines) + "\n", encoding="utf-8")
    print(f"\nWritten to {path.relative_to(ROOT)}", flush=True)
    return 0


# --- The SMTP server ------------------------------------------------------------------


class Counting:
    """aiosmtpd handler: accepts everything, counts per phase."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.messages = self.recipients = self.not_one = self.twice = self.size = self.signed = 0
            self.seen: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipients = envelope.rcpt_tos
        with self.lock:
            self.messages += 1
            self.recipients += len(recipients)
            self.not_one += len(recipients) != 1
            for address in recipients:
                if address in self.seen:
                    self.twice += 1
                else:
                    self.seen.add(address)
            self.size += len(envelope.content)
            self.signed += envelope.content.startswith(b"DKIM-Signature:")
        return "250 2.0.0 queued"

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {
                "messages": self.messages,
                "recipients": self.recipients,
                "not_one_recipient": self.not_one,
                "twice": self.twice,
                "distinct": len(self.seen),
                "bytes": self.size,
                "signed": self.signed,
            }


def serve() -> int:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    handler = Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print(f"READY {port}", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "RESET":
            handler.reset()
            print("OK", flush=True)
        elif command == "STATS":
            print(json.dumps(handler.stats()), flush=True)
        elif command == "QUIT":
            break
    controller.stop()
    return 0


# --- Children ------------------------------------------------------------------------


def _pick(rng: random.Random, cumulative: tuple[tuple[str, float], ...]) -> str:
    draw = rng.random()
    for value, bound in cumulative:
        if draw < bound:
            return value
    return cumulative[-1][0]


def build_people(campaign_id: int, count: int) -> dict[str, int]:
    """N people with one email address each, email consent, and (80 %) a postal address."""
    import itertools
    import unicodedata

    from django.core.management.color import no_style
    from django.db import connection, transaction

    from suffrage.people.models import Person, PersonEmail, PostalAddress
    from suffrage.people.synthetic import _first_names, _lines

    rng = random.Random(SEED)
    sqlite = connection.vendor == "sqlite"
    stamp = "2026-11-01 09:00:00" + ("" if sqlite else "+00")
    names = {sex: (names, list(itertools.accumulate(weights))) for sex, (names, weights) in _first_names().items()}
    surnames = _lines("surnames.txt")
    streets = _lines("brest_streets.txt")
    ascii_of: dict[str, str] = {}

    def ascii_name(text: str) -> str:
        if text not in ascii_of:
            folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
            ascii_of[text] = "".join(c for c in folded if c.isalnum() or c == "-") or "x"
        return ascii_of[text]

    person_t = Table(
        Person,
        [
            "id",
            "campaign_id",
            "civility",
            "first_names",
            "birth_name",
            "source",
            "legal_basis",
            "collected_at",
            "consent_email",
            "search_text",
            "name_key",
            "created_at",
            "updated_at",
        ],
    )
    email_t = Table(PersonEmail, ["person_id", "campaign_id", "address", "is_primary", "source", "created_at"])
    address_t = Table(PostalAddress, ["person_id", "number", "street", "postcode", "town", "country", "source"])
    tables = [person_t, email_t, address_t]
    for person_id in range(1, count + 1):
        female = rng.random() < 0.52
        pool, cum = names["F" if female else "M"]
        first = rng.choices(pool, cum_weights=cum)[0]
        if rng.random() < 0.15:
            first += " " + rng.choices(pool, cum_weights=cum)[0]  # "Anne Marie": the message uses the first one
        last = rng.choice(surnames)
        source = _pick(rng, SOURCES_CUM)
        key = f"{ascii_name(last)} {ascii_name(first)}"
        person_t.add(
            person_id,
            campaign_id,
            "Mme" if female else "M",
            first,
            last,
            source,
            "consent",
            stamp,
            True,
            key,
            key,
            stamp,
            stamp,
        )
        address = f"{ascii_name(first.split(' ')[0])}.{ascii_name(last)}.{person_id}@example.org"
        email_t.add(person_id, campaign_id, address, True, source, stamp)
        if rng.random() < 0.80:
            draw = rng.random()
            town, postcode = next((t, p) for t, p, bound in TOWNS if draw < bound)
            address_t.add(person_id, str(rng.randrange(1, 120)), rng.choice(streets), postcode, town, "FR", source)
        if person_id % CHUNK == 0 or person_id == count:
            with transaction.atomic():
                for table in tables:
                    table.flush()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Person]):
            cursor.execute(sql)
    return {table.table: table.written for table in tables}


def mailing_values(sender: Any, transport: Any, segment: Any, name: str) -> dict[str, Any]:
    from suffrage.messaging import services

    return {
        "name": name,
        "sender": sender,
        "transport": transport,
        "segment": segment,
        "subject": SUBJECT,
        "preheader": PREHEADER,
        "body": BODY,
        "footer": services.default_footer(),
    }


def start_timed(mailing: Any, owner: Any) -> tuple[float, dict[str, float]]:
    """mailing_send with its on-commit task dropped: the send runs in another process."""
    from suffrage.messaging import services

    enqueue = services._enqueue
    services._enqueue = lambda mailing, at=None: None  # type: ignore[assignment]
    timers = [PhaseTimer(services, name) for name in ("snapshot_create", "audience_breakdown", "deliveries_create")]
    try:
        started = time.perf_counter()
        services.mailing_send(mailing=mailing, actor=owner)
        seconds = time.perf_counter() - started
    finally:
        services._enqueue = enqueue  # type: ignore[assignment]
        for timer in timers:
            timer.restore()
    return seconds, {timer.name: timer.seconds for timer in timers}


def child_setup(args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    from suffrage.core.models import User
    from suffrage.core.secrets import decrypt_json
    from suffrage.core.services import campaign_create
    from suffrage.messaging import engine, services
    from suffrage.messaging.models import Delivery, mail_settings
    from suffrage.messaging.transports import smtp
    from suffrage.segments.models import Segment

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"  migrate: {time.perf_counter() - started:.1f} s", flush=True)
    owner = User.objects.create_user(OWNER_EMAIL, "bench-password-not-secret")
    campaign = campaign_create(name="Brest 2027", slug=SLUG, owner=owner, require_mfa=False)
    options = mail_settings(campaign)
    options.brand_name = "Brest 2027"
    options.identity = "Brest 2027, liste citoyenne — 12 rue de Siam, 29200 Brest"
    options.save()
    started = time.perf_counter()
    rows = build_people(campaign.pk, args.messages)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
    build_seconds = time.perf_counter() - started
    print(f"  data: {', '.join(f'{t} {n:,}' for t, n in rows.items())} in {build_seconds:.1f} s", flush=True)

    segment = Segment.objects.create(
        campaign=campaign, name="Tout le monde", document={"version": 1, "filter": {"all": []}}, created_by=owner
    )
    sender = services.sender_create(
        campaign=campaign,
        name="Équipe Brest 2027",
        email="equipe@brest2027.example",
        reply_to="contact@brest2027.example",
        algorithm=DKIM_ALGORITHMS[args.dkim],
        actor=owner,
    )
    transport = services.transport_save(
        campaign=campaign,
        kind="smtp",
        name="Relais local",
        values={
            "host": "127.0.0.1",
            "port": str(args.port),
            "security": "none",
            "username": "",
            "password": "",
            # --dkim none: as when the mail server signs (the engine then does not).
            "dkim_by_server": "1" if args.dkim == "none" else "",
        },
        rate_per_second=0,
        actor=owner,
    )
    assert decrypt_json(transport.secrets) == {}
    mailing = services.mailing_save(
        campaign=campaign, values=mailing_values(sender, transport, segment, "Lettre n°1"), actor=owner
    )
    seconds, phases = start_timed(mailing, owner)
    deliveries = Delivery.objects.filter(mailing=mailing).count()
    print(f"  mailing_send: {seconds:.1f} s, {deliveries:,} deliveries", flush=True)

    # The anchor's message: the first delivery rendered by the engine's own code.
    mailing.refresh_from_db()
    prepared = engine.prepare(mailing)
    first = Delivery.objects.filter(mailing=mailing).select_related("person").order_by("pk").first()
    assert first is not None
    outgoing = engine.message_for(prepared, first)
    captured: list[tuple[str, str, bytes]] = []

    class Capture(smtp.SmtpTransport):
        def open(self) -> None:
            pass

        def _deliver(self, sender: str, recipient: str, payload: bytes) -> None:
            captured.append((sender, recipient, payload))

    transport_object = prepared.transport
    transport_object.__class__ = Capture
    transport_object.send(outgoing)
    envelope_from, recipient, payload = captured[0]
    message_path(args).write_bytes(payload)
    (OUT / f"mailing-{suffix_of(args)}-envelope.json").write_text(json.dumps({"from": envelope_from, "to": recipient}))
    addresses = Delivery.objects.filter(mailing=mailing).order_by("pk").values_list("address", flat=True)
    recipients_path(args).write_text("\n".join(addresses.iterator(chunk_size=10_000)) + "\n", encoding="ascii")
    return {
        "build_seconds": build_seconds,
        "rows": rows,
        "start_seconds": seconds,
        "phases": phases,
        "deliveries": deliveries,
        "message_bytes": len(payload),
        "text_chars": len(outgoing.text),
        "html_chars": len(outgoing.html),
        "links": len(prepared.links),
    }


def child_send(args: argparse.Namespace) -> dict[str, Any]:
    from django.db.models import Count

    from suffrage.messaging import engine, services
    from suffrage.messaging.models import Delivery, Mailing
    from suffrage.messaging.transports import smtp

    rss_before = current_rss_mb() or 0.0
    # Benchmark-side probes (a few µs per message): where the time goes, without cProfile.
    timers = [
        PhaseTimer(engine, "claim"),
        PhaseTimer(engine, "message_for"),
        PhaseTimer(smtp, "render_message"),
        PhaseTimer(smtp, "dkim_sign"),
        PhaseTimer(smtp.SmtpTransport, "_deliver"),
        PhaseTimer(engine, "flush"),
    ]
    started = time.perf_counter()
    worked_on = services.mailings_tick()
    seconds = time.perf_counter() - started
    for timer in timers:
        timer.restore()
    mailing = Mailing.objects.get(campaign__slug=SLUG, name="Lettre n°1")
    counts = dict(
        Delivery.objects.filter(mailing=mailing)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    print(f"  mailings_tick: {seconds:.1f} s, {worked_on} mailing(s) worked on; deliveries {counts}", flush=True)
    return {
        "send_seconds": seconds,
        "mailing_status": mailing.status,
        "deliveries": counts,
        "phases": {timer.name: timer.seconds for timer in timers},
        "rss_before_mb": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


INTERESTING = (
    ("engine.py", "claim", "engine.claim (claim a batch + load people and addresses)"),
    ("engine.py", "_build", "engine.Pipeline._build (helper thread: message_for + prepare)"),
    ("engine.py", "message_for", "engine.message_for (token, URLs, personalisation)"),
    ("rendering.py", "render", "rendering.CompiledMessage.render"),
    ("tracking.py", "delivery_token", "tracking.delivery_token (HMAC signing)"),
    ("engine.py", "notice", "engine.notice"),
    ("engine.py", "data_source", "engine.data_source"),
    ("__init__.py", "send", "smtp.SmtpTransport.send (MIME + DKIM + SMTP)"),
    ("__init__.py", "prepare", "smtp.SmtpTransport.prepare (MIME + DKIM)"),
    ("__init__.py", "send_prepared", "smtp.SmtpTransport.send_prepared (SMTP)"),
    ("__init__.py", "render_message", "smtp.render_message (MIME assembly)"),
    ("dkim.py", "dkim_sign", "dkim.dkim_sign"),
    ("dkim.py", "_sign", "dkim._sign (the private-key operation)"),
    ("__init__.py", "_deliver", "smtp.SmtpTransport._deliver (smtplib sendmail: network round trips)"),
    ("engine.py", "flush", "engine.flush (record outcomes, every 10 messages)"),
    ("engine.py", "refresh_from_db", "Mailing.refresh_from_db"),
    ("schedule.py", "send_blocked_until", "schedule.send_blocked_until (once per batch)"),
)


def child_profile(args: argparse.Namespace) -> dict[str, Any]:
    import cProfile
    import io
    import pstats

    from suffrage.core.models import User
    from suffrage.messaging import engine, services
    from suffrage.messaging.models import Mailing
    from suffrage.people.models import Person

    first = Mailing.objects.select_related("campaign").get(campaign__slug=SLUG, name="Lettre n°1")
    owner = User.objects.get(email=OWNER_EMAIL)
    # The same mix as the first mailing: first-contact notices owed again.
    Person.objects.filter(campaign=first.campaign).update(notice_sent_at=None)
    values = mailing_values(first.sender, first.transport, first.segment, "Lettre n°2 (profil)")
    mailing = services.mailing_save(campaign=first.campaign, values=values, actor=owner)
    seconds, _phases = start_timed(mailing, owner)
    print(f"  mailing_send of the second mailing: {seconds:.1f} s", flush=True)
    messages = min(args.profile, args.messages)
    batches = math.ceil(messages / engine.CLAIM_SIZE)
    profiler = cProfile.Profile()
    # cProfile sees only the thread that enables it: the engine's helper thread (Pipeline,
    # which renders and signs ahead) gets a profiler of its own, enabled around each build.
    helper = cProfile.Profile()
    pipeline = getattr(engine, "Pipeline", None)
    build = getattr(pipeline, "_build", None)
    if build is not None:

        def profiled_build(self: Any, *args: Any, **kwargs: Any) -> Any:
            on_main = threading.current_thread() is threading.main_thread()
            if not on_main:
                helper.enable()
            try:
                return build(self, *args, **kwargs)
            finally:
                if not on_main:
                    helper.disable()

        pipeline._build = profiled_build  # type: ignore[union-attr]
    started = time.perf_counter()
    profiler.runcall(engine.mailing_run, mailing.pk, max_batches=batches)
    elapsed = time.perf_counter() - started
    if build is not None:
        pipeline._build = build  # type: ignore[union-attr]
    services.mailing_cancel(mailing=mailing, actor=owner)
    path = OUT / f"mailing-{suffix_of(args)}.prof"
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler)
    helper_used = bool(helper.getstats())
    if helper_used:
        stats.add(helper)
    total = next(
        (entry[3] for key, entry in stats.stats.items() if key[2] == "mailing_run"),  # type: ignore[attr-defined]
        elapsed,
    )
    shares = []
    for filename, function, label in INTERESTING:
        found = [
            (entry[1], entry[3])
            for key, entry in stats.stats.items()  # type: ignore[attr-defined]
            if key[2] == function and key[0].endswith(filename) and "suffrage" in key[0]
        ]
        if function == "refresh_from_db":
            found = [
                (entry[1], entry[3])
                for key, entry in stats.stats.items()  # type: ignore[attr-defined]
                if key[2] == function and "django/db/models/base.py" in key[0]
            ]
        if found:
            calls, cumulative = sum(f[0] for f in found), sum(f[1] for f in found)
            shares.append({"label": label, "calls": calls, "seconds": cumulative, "share": cumulative / total})
    outputs = {}
    sources = [("cumulative", profiler), ("tottime", profiler)]
    sources += [("helper_cumulative", helper)] if helper_used else []
    for order, source in sources:
        stream = io.StringIO()
        pstats.Stats(source, stream=stream).strip_dirs().sort_stats(order.removeprefix("helper_")).print_stats(15)
        text = stream.getvalue()
        outputs[order] = text[text.index("   ncalls") :] if "   ncalls" in text else text
    return {
        "messages": messages,
        "seconds": total,
        "shares": shares,
        "cumulative": outputs["cumulative"],
        "tottime": outputs["tottime"],
        "helper": outputs.get("helper_cumulative", ""),
        "path": str(path.relative_to(ROOT)),
    }


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    handlers = {"setup": child_setup, "send": child_send, "profile": child_profile}
    code = code_snapshot(ROOT / "suffrage")  # the code this process imported
    result = handlers[args.child](args)
    print("RESULT " + json.dumps(result | {"code": code}), flush=True)
    return 0


def main() -> int:
    args = parse_args()
    if args.serve:
        return serve()
    if args.child:
        return child(args)
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
