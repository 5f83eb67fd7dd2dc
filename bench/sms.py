"""SMS campaign benchmark (issue 11): the engine's per-message overhead (claim, render,
hand to the transport, record) against a bare HTTP loop posting the same requests to
the same local endpoint, and the sustained rate when the provider allows 100 requests
a second.

Usage (from the repository root):

    .venv/bin/python bench/sms.py [--messages 5000] [--rate-messages 3000]
                                  [--database sqlite|postgres] [--profile 0] [--keep]
    .venv/bin/python bench/sms.py --messages 500 --rate-messages 300     # a quick check

Processes (the driver starts them all; only loopback traffic):

* the endpoint (`--serve`): Twilio's documented Messages API in a process of its own,
  POST /2010-04-01/Accounts/{sid}/Messages.json, form fields To, From, Body
  (StatusCallback), HTTP basic authentication with the account SID and auth token;
  201 with {"sid": "SM…", …}. HTTP/1.1 keep-alive (http.server, one thread per
  connection). It counts requests, connections, numbers received (and received twice),
  and refuses a request without To or Body (400, Twilio's codes 21604/21602), with the
  wrong credentials (401, 20003) or to another path (404, 20404). With a limit of R
  requests a second it answers 429 with Twilio's {"code": 20429, …} to a request that
  would be the (R+1)th accepted in the last second (a sliding window: no interval of one
  second ever holds more than R accepted requests);
* `--child setup`: a fresh database (SQLite file bench/out/sms-<N>.sqlite3, or the
  PostgreSQL database suffrage_bench_sms dropped and created), `migrate`, one campaign
  whose SMS settings open the window to every day from 00:00 to 23:59:59 without the
  public-holiday rule (the run may fall on a Sunday or at night), N people who consented
  to text messages, each with a mobile number (+336…), written by COPY / executemany; a
  segment of everyone, a Twilio transport to the endpoint (no rate limit), a text
  mailing with personalisation; then `mailing_send` (snapshot, audience, one delivery per
  person), timed, its on-commit task dropped (the send is the next child's). It also
  writes, for the anchor, the N form bodies the engine will post (the same fields, the
  text rendered by the engine's own SmsPrepared.text_for), urlencoded;
* the anchor, in the driver: one http.client.HTTPConnection, N POSTs of those bodies
  (the same path and headers, basic auth included), each answer read; run before and
  after the engine, the faster of the two is the reference;
* `--child send` (phase 1, overhead): `services.mailings_tick()`, timed from just before
  the call to its end (Django's start-up excluded): claim, render, post, record every
  message. Light probes (common.PhaseTimer, a few µs a message) sum the time in
  engine.claim, SmsPrepared.message, TwilioTransport.send (and its HttpClient.request),
  engine.flush;
* `--child rate` (phase 2, sustained rate): the transport's rate_per_second set to 100
  (transport_save), a second mailing to the same segment (fresh deliveries) of which
  the first --rate-messages are kept (the rest cancelled before the send), the endpoint
  enforcing 100 a second; `mailings_tick()` timed the same way;
* `--child profile` (with --profile P): a third mailing, no limit, of which
  `engine.mailing_run` sends the first P messages under cProfile.

Goals (issue 11): overhead per message = (engine - bare loop) / N at most 5 ms (ratio =
overhead / 5 ms, ≤ 1 meets it); sustained rate with the provider at 100 requests/s at
least 95 messages/s (ratio = 95 / measured, ≤ 1 meets it), with no 429 answered. The
endpoint must have received exactly one message per recipient. Output:
bench/out/sms-<N>[-postgres].txt (the printed text). One run at a time (bench/out/sms.lock).
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import http.client
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from common import PhaseTimer, Report, Table, child_env, code_snapshot, pg_admin, take_lock

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "suffrage_bench_sms"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
OWNER_EMAIL = "bench-sms-owner@example.org"
SLUG = "bench-sms"
SITE_URL = "https://brest2027.example"
CHUNK = 20_000
SEED = 2027

ACCOUNT_SID = "AC" + "b3c4" * 8  # 34 characters, as Twilio's
AUTH_TOKEN = "bench-twilio-auth-token-not-secret"
SENDER_ID = "Brest2027"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
AUTHORIZATION = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

GOAL_OVERHEAD_MS = 5.0
GOAL_RATE = 95.0
PROVIDER_RATE = 100

# One part in the GSM 7-bit alphabet once framed ("Brest 2027: " … " STOP …"), as a
# campaign would write it to pay one SMS per person.
BODY = "Bonjour {{ first_name }}, réunion publique jeudi 14 mars à 18h30, salle du Quartz à Brest. Venez nombreux !"


# --- Driver ------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5_000, help="recipients of the overhead phase (5,000)")
    parser.add_argument("--rate-messages", type=int, default=3_000, help="messages of the rate phase (3,000)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--profile", type=int, default=0, help="messages sent under cProfile afterwards (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["setup", "send", "rate", "profile"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0 < args.rate_messages <= args.messages:
        parser.error("--rate-messages must be between 1 and --messages (the rate phase texts the same people)")
    return args


def suffix_of(args: argparse.Namespace) -> str:
    return f"{args.messages}" + ("-postgres" if args.database == "postgres" else "")


def sqlite_path(args: argparse.Namespace) -> Path:
    return OUT / f"sms-{args.messages}.sqlite3"


def bodies_path(args: argparse.Namespace) -> Path:
    return OUT / f"sms-{suffix_of(args)}-bodies.txt"


def headers_path(args: argparse.Namespace) -> Path:
    return OUT / f"sms-{suffix_of(args)}-request.json"


def code_and_catalogue() -> str:
    """code_snapshot of suffrage/, and of the compiled translations: the texts sent end
    with a translated mention ("STOP au …"), so a catalogue recompiled during a run
    changes them."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "locale").rglob("*.mo")):
        digest.update(path.read_bytes())
    return f"{code_snapshot(ROOT / 'suffrage')}+mo:{digest.hexdigest()[:8]}"


def numbers_digest(numbers: Any) -> str:
    return hashlib.sha256("\n".join(sorted(numbers)).encode()).hexdigest()[:16]


def message_key(to: str, body: str) -> str:
    return hashlib.sha256(f"{to}\t{body}".encode()).hexdigest()[:16]


def messages_digest(keys: Any) -> str:
    """The same for (number, text) pairs, whatever their order."""
    return numbers_digest(keys)


class Endpoint:
    """The endpoint process, driven through its stdin/stdout."""

    def __init__(self) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve"]
        self.process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self._read()
        if not line.startswith("READY "):
            raise RuntimeError(f"the endpoint did not start: {line!r}")
        self.port = int(line.split()[1])

    def _read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def reset(self, limit: int = 0) -> None:
        self.ask(f"RESET {limit}")

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
) -> tuple[dict[str, Any], float]:
    """(its RESULT, its wall time); RESULT is {} when an optional child fails."""
    url = f"sqlite:///{sqlite_path(args)}" if args.database == "sqlite" else PG_URL
    env = child_env(data_dir=OUT / "sms-data", database_url=url)
    env["SITE_URL"] = SITE_URL  # the StatusCallback the engine gives Twilio
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--port", str(port)]
    command += ["--messages", str(args.messages), "--rate-messages", str(args.rate_messages)]
    command += ["--database", args.database, "--profile", str(args.profile)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    result: dict[str, Any] = {}
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        else:
            say(line.rstrip("\n"))
    process.wait()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        if required:
            raise SystemExit(f"child {kind} exited with {process.returncode}")
        say(f"  child {kind} exited with {process.returncode}: its figures are missing")
        result = {}
    return result, wall


def bare_loop(args: argparse.Namespace, port: int) -> dict[str, Any]:
    """N POSTs of the engine's form bodies over one http.client connection, each answer read."""
    request = json.loads(headers_path(args).read_text(encoding="utf-8"))
    bodies = [line.encode("ascii") for line in bodies_path(args).read_text(encoding="ascii").split("\n") if line]
    path, headers = request["path"], request["headers"]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    statuses: collections.Counter[int] = collections.Counter()
    started = time.perf_counter()
    for body in bodies:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        statuses[response.status] += 1
    seconds = time.perf_counter() - started
    connection.close()
    return {
        "messages": len(bodies),
        "seconds": seconds,
        "rate": len(bodies) / seconds,
        "per_message_us": seconds / len(bodies) * 1e6,
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "bytes": sum(len(body) for body in bodies),
    }


def prepare_database(args: argparse.Namespace) -> None:
    drop_database(args)
    if args.database == "postgres":
        pg_admin(PG_ADMIN_URL, f"CREATE DATABASE {PG_NAME} ENCODING 'UTF8' TEMPLATE template0")


def drop_database(args: argparse.Namespace) -> None:
    if args.database == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{sqlite_path(args)}{suffix}").unlink(missing_ok=True)
    else:
        pg_admin(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def expected_path(args: argparse.Namespace, phase: int) -> Path:
    return OUT / f"sms-{suffix_of(args)}-expected-{phase}.json"


def check(endpoint: Endpoint, args: argparse.Namespace, phase: int) -> tuple[dict[str, Any], str, bool]:
    """What the endpoint received against the (number, text) pairs a child wrote for this
    phase: every number once, each with its text. On a difference, a few examples."""
    stats = endpoint.stats()
    expected = [tuple(pair) for pair in json.loads(expected_path(args, phase).read_text(encoding="utf-8"))]
    same_numbers = stats["numbers_digest"] == numbers_digest(number for number, _text in expected)
    same_texts = stats["messages_digest"] == messages_digest(message_key(*pair) for pair in expected)
    ok = (
        stats["accepted"] == len(expected)
        and stats["distinct"] == len(expected)
        and stats["twice"] == 0
        and stats["refused"] == 0
        and same_numbers
        and same_texts
    )
    text = (
        f"{stats['requests']:,} requests on {stats['connections']} connection(s): {stats['accepted']:,} accepted "
        f"(201) to {stats['distinct']:,} distinct numbers ({stats['twice']:,} received twice), "
        f"{stats['throttled']:,} answered 429, {stats['refused']:,} refused (400/401/404); "
        f"numbers {'the same as' if same_numbers else 'DIFFERENT FROM'} the deliveries', "
        f"texts {'the same as' if same_texts else 'DIFFERENT FROM'} the expected ones; "
        f"expected {len(expected):,}: " + ("OK" if ok else "MISMATCH")
    )
    if not (same_numbers and same_texts):
        dump = OUT / f"sms-{suffix_of(args)}-received-{phase}.json"
        endpoint.ask(f"DUMP {dump}")
        received = dict(json.loads(dump.read_text(encoding="utf-8")))
        wanted = dict(expected)
        missing = [number for number in wanted if number not in received]
        extra = [number for number in received if number not in wanted]
        differ = [number for number, body in wanted.items() if number in received and received[number] != body]
        text += (
            f"\n    not received: {len(missing):,}{' (' + ', '.join(missing[:3]) + ')' if missing else ''}; "
            f"not expected: {len(extra):,}; texts that differ: {len(differ):,} "
            f"(what was received: {dump.relative_to(ROOT)})"
        )
        for number in differ[:3]:
            text += (
                f"\n    {number}: expected {wanted[number]!r}\n    {' ' * len(number)}  received {received[number]!r}"
            )
    return stats, text, ok


def driver(args: argparse.Namespace) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    lock = take_lock(OUT / "sms.lock")
    if lock is None:
        return 3
    say = Report()
    n, m = args.messages, args.rate_messages
    say(
        f"SMS benchmark — {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {n:,} messages (rate phase {m:,}), "
        f"{args.database}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
        f"code {code_and_catalogue()}"
    )
    endpoint = Endpoint()
    say(
        f"Twilio-compatible endpoint (http.server, HTTP/1.1, own process {endpoint.process.pid}) "
        f"on 127.0.0.1:{endpoint.port}"
    )
    loads: dict[str, float] = {}
    try:
        prepare_database(args)
        say("\n--- setup (child process) ---")
        setup, setup_wall = run_child("setup", args, endpoint.port, say)
        say(f"  setup child: {setup_wall:.1f} s in all")

        say("\n--- anchor: bare http.client loop #1 ---")
        endpoint.reset()
        bare1 = bare_loop(args, endpoint.port)
        _stats, bare1_text, bare1_ok = check(endpoint, args, 1)
        say(f"  {bare1['messages']:,} in {bare1['seconds']:.2f} s: {bare1['per_message_us']:,.0f} µs per message")
        say(f"  endpoint: {bare1_text}")

        say("\n--- phase 1, overhead: mailings_tick() in a child process, no rate limit ---")
        endpoint.reset()
        loads["send"] = os.getloadavg()[0]
        send, send_wall = run_child("send", args, endpoint.port, say)
        _stats, send_text, send_ok = check(endpoint, args, 1)
        say(f"  endpoint: {send_text}")

        say("\n--- anchor: bare http.client loop #2 ---")
        endpoint.reset()
        bare2 = bare_loop(args, endpoint.port)
        _stats, bare2_text, bare2_ok = check(endpoint, args, 1)
        say(f"  {bare2['messages']:,} in {bare2['seconds']:.2f} s: {bare2['per_message_us']:,.0f} µs per message")
        say(f"  endpoint: {bare2_text}")

        say(
            f"\n--- phase 2, sustained rate: transport at {PROVIDER_RATE}/s, the endpoint enforcing "
            f"{PROVIDER_RATE}/s, {m:,} messages ---"
        )
        endpoint.reset(PROVIDER_RATE)
        loads["rate"] = os.getloadavg()[0]
        rate, _wall = run_child("rate", args, endpoint.port, say)
        rate_stats, rate_text, rate_ok = check(endpoint, args, 2)
        say(f"  endpoint: {rate_text}")
        endpoint.reset()

        profile: dict[str, Any] = {}
        if args.profile:
            say(f"\n--- profile: {min(args.profile, n):,} messages of a third mailing under cProfile ---")
            profile, _wall = run_child("profile", args, endpoint.port, say, required=False)
            say(f"  endpoint: {endpoint.stats()['accepted']:,} accepted")
        codes = {
            kind: result.get("code")
            for kind, result in (("setup", setup), ("send", send), ("rate", rate), ("profile", profile))
        }
    finally:
        endpoint.stop()
        if not args.keep:
            drop_database(args)

    bare = min((bare1, bare2), key=lambda b: b["seconds"])
    engine_us = send["send_seconds"] / n * 1e6
    overhead_ms = (send["send_seconds"] - bare["seconds"]) / n * 1000
    overhead_ratio = overhead_ms / GOAL_OVERHEAD_MS
    rate_value = rate["sent"] / rate["send_seconds"]
    rate_ratio = GOAL_RATE / rate_value if rate_value else math.inf

    say(f"\n=== Results: {n:,} personalised text messages, {args.database} ===")
    say(
        f"message: {setup['body_chars']} characters, {setup['encoding']}, {setup['parts']} part(s) "
        f"(the first one: {setup['example']!r}); form body {bare['bytes'] / n:,.0f} bytes"
    )
    phases = setup["phases"]
    say(
        f"mailing_send (snapshot + audience + {setup['deliveries']:,} deliveries): {setup['start_seconds']:.2f} s "
        f"(snapshot_create {phases['snapshot_create']:.2f} s, audience_breakdown {phases['audience_breakdown']:.2f} s, "
        f"sms_deliveries_create {phases['sms_deliveries_create']:.2f} s)"
    )
    say("\nPhase 1, overhead (transport without rate limit):")
    say(
        f"  engine (mailings_tick): {send['send_seconds']:.2f} s for {n:,}, {n / send['send_seconds']:,.0f} msg/s, "
        f"{engine_us:,.0f} µs per message (child {send_wall:.1f} s with Django's start-up; mailing "
        f"{send['mailing_status']}, deliveries {', '.join(f'{k} {v:,}' for k, v in send['deliveries'].items())}; "
        f"parts recorded {send['parts']:,})"
    )
    inside = {name: seconds / n * 1e6 for name, seconds in send["phases"].items()}
    probed = inside["claim"] + inside["message"] + inside["send"] + inside["flush"]
    say(
        "  inside (µs per message, probes): "
        + ", ".join(f"{name} {value:,.0f}" for name, value in inside.items())
        + f"; rest {engine_us - probed:,.0f} (transport.send includes HttpClient.request)"
    )
    say(
        f"  bare http.client loop: #1 {bare1['per_message_us']:,.0f} µs per message ({bare1['seconds']:.2f} s), "
        f"#2 {bare2['per_message_us']:,.0f} µs ({bare2['seconds']:.2f} s); reference: the faster, "
        f"{bare['per_message_us']:,.0f} µs, {bare['rate']:,.0f} msg/s"
    )
    say(
        f"  overhead per message = (engine − bare) / N = ({send['send_seconds']:.2f} − {bare['seconds']:.2f}) s / "
        f"{n:,} = {overhead_ms:.3f} ms; ratio to the 5 ms goal {overhead_ratio:.3f}"
    )
    say(f"  endpoint after the engine: {send_text}")

    say(f"\nPhase 2, sustained rate (transport rate_per_second {PROVIDER_RATE}, endpoint limit {PROVIDER_RATE}/s):")
    say(
        f"  mailing_send of the second mailing: {rate['start_seconds']:.2f} s; {rate['cancelled']:,} deliveries "
        f"beyond the first {m:,} cancelled before the send"
    )
    say(
        f"  engine (mailings_tick): {rate['sent']:,} sent in {rate['send_seconds']:.2f} s = {rate_value:.2f} msg/s "
        f"(mailing {rate['mailing_status']}, outcome {rate['outcome']}, deliveries "
        f"{', '.join(f'{k} {v:,}' for k, v in rate['deliveries'].items())})"
    )
    rate_inside = {name: seconds / max(1, rate["sent"]) * 1e6 for name, seconds in rate["phases"].items()}
    say(
        "  inside (µs per message, probes): "
        + ", ".join(f"{name} {value:,.0f}" for name, value in rate_inside.items())
        + " (RateLimit.wait: time spent waiting for the limiter)"
    )
    span = rate_stats["span_seconds"]
    server_rate = (rate_stats["accepted"] - 1) / span if span else 0.0
    min_span = rate_stats["min_span"]
    say(
        f"  endpoint: {rate_stats['accepted']:,} accepted, first to last {span:.2f} s "
        f"({server_rate:.2f}/s between them), at most {rate_stats['max_window']} accepted in any one-second "
        f"window, {rate_stats['throttled']:,} answered 429; shortest time between a request and the "
        f"{PROVIDER_RATE}th after it: "
        + (f"{min_span:.4f} s" if min_span is not None else "—")
        + f" ({rate_stats['spans_under_one_second']:,} such spans under one second)"
    )
    say(f"  ratio to the goal: {GOAL_RATE:.0f} / {rate_value:.2f} = {rate_ratio:.3f}")

    say("\nGoals:")
    say(
        f"  overhead per message ≤ {GOAL_OVERHEAD_MS:.0f} ms: "
        f"{'MET' if overhead_ratio <= 1 else 'NOT MET'} ({overhead_ms:.3f} ms, ratio {overhead_ratio:.3f})"
    )
    say(
        f"  sustained rate ≥ {GOAL_RATE:.0f} msg/s at a provider limit of {PROVIDER_RATE}/s: "
        f"{'MET' if rate_ratio <= 1 else 'NOT MET'} ({rate_value:.2f} msg/s, ratio {rate_ratio:.3f})"
    )
    throttled = rate_stats["throttled"]
    say(
        f"  the engine within the provider's limit (no 429): {'yes' if not throttled else 'NO'} "
        f"({throttled} answered 429"
        + (": each is a temporary failure, the delivery queued again for a retry a minute later" if throttled else "")
        + ")"
    )
    first = send_ok and bare1_ok and bare2_ok
    say(
        "  every recipient exactly once, with the expected text: phase 1 and the anchor "
        + ("yes" if first else "NO (see the endpoint lines)")
        + "; phase 2 "
        + (
            "yes"
            if rate_ok
            else "NO (see the endpoint line" + (": a 429 is retried a minute later)" if throttled else ")")
        )
    )
    say(f"  load average when phase 1 / phase 2 started: {loads['send']:.2f} / {loads['rate']:.2f}")
    if len({code for code in codes.values() if code}) > 1:
        say(
            "\nWARNING: suffrage/ or locale/ changed during the run, the children ran different code: "
            + ", ".join(f"{kind} {code}" for kind, code in codes.items() if code)
        )
    if profile:
        say(
            f"\n=== Profile: {profile['messages']:,} messages, mailing_run {profile['seconds']:.2f} s under cProfile "
            f"({profile['seconds'] / profile['messages'] * 1e6:,.0f} µs per message; {profile['path']}) ==="
        )
        say("Top 25 by cumulative time:")
        say(profile["cumulative"].rstrip())
        say("\nTop 25 by own time:")
        say(profile["tottime"].rstrip())
    path = OUT / f"sms-{suffix_of(args)}.txt"
    path.write_text("\n".join(say.lines) + "\n", encoding="utf-8")
    print(f"\nWritten to {path.relative_to(ROOT)}", flush=True)
    return 0


# --- The endpoint ------------------------------------------------------------------------


def twilio_error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class Counting:
    """What the endpoint received since the last reset; the sliding-window limit."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset(0)

    def reset(self, limit: int) -> None:
        with self.lock:
            self.limit = limit
            self.requests = self.accepted = self.throttled = self.refused = self.connections = 0
            self.numbers: collections.Counter[str] = collections.Counter()
            self.received: list[tuple[str, str]] = []  # (To, Body) of each accepted request
            self.times: list[float] = []  # accepted requests
            self.arrivals: list[float] = []  # every message request, 429s included
            self.window: collections.deque[float] = collections.deque()

    def answer(self, path: str, authorization: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests += 1
        if path != MESSAGES_PATH:
            return self._refuse(*twilio_error(404, 20404, f"The requested resource {path} was not found"))
        if authorization != AUTHORIZATION:
            return self._refuse(*twilio_error(401, 20003, "Authenticate"))
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8")))
        to, body = form.get("To", ""), form.get("Body", "")
        if not to:
            return self._refuse(*twilio_error(400, 21604, "A 'To' phone number is required."))
        if not body:
            return self._refuse(*twilio_error(400, 21602, "Message body is required."))
        with self.lock:
            now = time.monotonic()
            self.arrivals.append(now)
            if self.limit:
                while self.window and self.window[0] <= now - 1.0:
                    self.window.popleft()
                if len(self.window) >= self.limit:
                    self.throttled += 1
                    return twilio_error(429, 20429, "Too Many Requests")
                self.window.append(now)
            self.accepted += 1
            self.times.append(now)
            self.numbers[to] += 1
            self.received.append((to, body))
            sid = f"SM{self.accepted:032x}"
        return 201, {
            "account_sid": ACCOUNT_SID,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From", ""),
            "messaging_service_sid": None,
            "num_segments": "1",
            "price": None,
            "sid": sid,
            "status": "queued",
            "to": to,
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
        }

    def _refuse(self, status: int, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.refused += 1
        return status, payload

    def stats(self) -> dict[str, Any]:
        with self.lock:
            times, arrivals, limit = list(self.times), list(self.arrivals), self.limit
            # With a limit R: the shortest time between a request and the R-th after it
            # (under one second, R + 1 requests arrived within one second).
            spans = [arrivals[i + limit] - arrivals[i] for i in range(len(arrivals) - limit)] if limit else []
            most, start = 0, 0
            for end, moment in enumerate(times):  # the most accepted in any half-open second
                while times[start] <= moment - 1.0:
                    start += 1
                most = max(most, end - start + 1)
            return {
                "requests": self.requests,
                "connections": self.connections,
                "accepted": self.accepted,
                "throttled": self.throttled,
                "refused": self.refused,
                "distinct": len(self.numbers),
                "twice": sum(count - 1 for count in self.numbers.values() if count > 1),
                "numbers_digest": numbers_digest(self.numbers),
                "messages_digest": messages_digest(message_key(to, body) for to, body in self.received),
                "span_seconds": times[-1] - times[0] if len(times) > 1 else 0.0,
                "max_window": most,
                "min_span": min(spans) if spans else None,
                "spans_under_one_second": sum(span < 1.0 for span in spans),
            }


def serve() -> int:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = Counting()
    reasons = {201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with state.lock:
                state.connections += 1

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload = state.answer(self.path, self.headers.get("Authorization", ""), raw)
            body = json.dumps(payload).encode()
            head = (
                f"HTTP/1.1 {status} {reasons[status]}\r\nContent-Type: application/json; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            self.wfile.write(head.encode("ascii") + body)  # one write: no Nagle/delayed-ACK stall

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {port}", flush=True)
    for line in sys.stdin:
        command, _space, argument = line.strip().partition(" ")
        if command == "RESET":
            state.reset(int(argument or 0))
            print("OK", flush=True)
        elif command == "STATS":
            print(json.dumps(state.stats()), flush=True)
        elif command == "DUMP":
            with state.lock:
                Path(argument).write_text(json.dumps(state.received, ensure_ascii=False), encoding="utf-8")
            print("OK", flush=True)
        elif command == "QUIT":
            break
    server.shutdown()
    server.server_close()
    return 0


# --- Children ------------------------------------------------------------------------


def build_people(campaign_id: int, count: int) -> dict[str, int]:
    """N people who consented to text messages, each with one mobile number."""
    import itertools
    import random
    import unicodedata

    from django.core.management.color import no_style
    from django.db import connection, transaction

    from suffrage.people.models import Person, PersonPhone
    from suffrage.people.synthetic import _first_names, _lines

    rng = random.Random(SEED)
    sqlite = connection.vendor == "sqlite"
    stamp = "2026-11-01 09:00:00" + ("" if sqlite else "+00")
    names = {sex: (pool, list(itertools.accumulate(weights))) for sex, (pool, weights) in _first_names().items()}
    surnames = _lines("surnames.txt")

    def folded(text: str) -> str:
        return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()

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
            "consent_sms",
            "search_text",
            "name_key",
            "created_at",
            "updated_at",
        ],
    )
    phone_t = Table(PersonPhone, ["person_id", "campaign_id", "number", "kind", "sms_capable", "source", "created_at"])
    for person_id in range(1, count + 1):
        female = rng.random() < 0.52
        pool, cum = names["F" if female else "M"]
        first = rng.choices(pool, cum_weights=cum)[0]
        last = rng.choice(surnames)
        key = f"{folded(last)} {folded(first)}"
        number = f"+336{person_id:08d}"
        person_t.add(
            person_id,
            campaign_id,
            "Mme" if female else "M",
            first,
            last,
            "web_form",
            "consent",
            stamp,
            True,
            f"{key} {number}",
            key,
            stamp,
            stamp,
        )
        phone_t.add(person_id, campaign_id, number, "mobile", True, "web_form", stamp)
        if person_id % CHUNK == 0 or person_id == count:
            with transaction.atomic():
                person_t.flush()
                phone_t.flush()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Person]):
            cursor.execute(sql)
    return {person_t.table: person_t.written, phone_t.table: phone_t.written}


def start_timed(mailing: Any, owner: Any) -> tuple[float, dict[str, float]]:
    """mailing_send with its on-commit task dropped: the send runs when the benchmark says."""
    from suffrage.messaging import services
    from suffrage.texting import sending

    enqueue = services._enqueue
    services._enqueue = lambda mailing, at=None: None  # type: ignore[assignment]
    timers = [
        PhaseTimer(services, "snapshot_create"),
        PhaseTimer(sending, "audience_breakdown"),
        PhaseTimer(sending, "sms_deliveries_create"),
    ]
    try:
        started = time.perf_counter()
        services.mailing_send(mailing=mailing, actor=owner)
        seconds = time.perf_counter() - started
    finally:
        services._enqueue = enqueue  # type: ignore[assignment]
        for timer in timers:
            timer.restore()
    return seconds, {timer.name: timer.seconds for timer in timers}


def transport_values(port: int) -> dict[str, str]:
    return {"account_sid": ACCOUNT_SID, "sender_id": SENDER_ID, "api_url": f"http://127.0.0.1:{port}"}


def new_mailing(campaign: Any, owner: Any, name: str) -> Any:
    from suffrage.segments.models import Segment
    from suffrage.texting import services as texting
    from suffrage.texting.models import sms_settings

    values = {
        "name": name,
        "transport": sms_settings(campaign).transport,
        "segment": Segment.objects.get(campaign=campaign, name="Tout le monde"),
        "body": BODY,
        "consent_request": "",
    }
    return texting.sms_mailing_save(campaign=campaign, values=values, actor=owner)


def set_rate(campaign: Any, owner: Any, port: int, rate: float) -> None:
    from suffrage.messaging import services
    from suffrage.texting.models import sms_settings

    transport = sms_settings(campaign).transport
    services.transport_save(
        campaign=campaign,
        kind="twilio",
        name=transport.name,
        values=transport_values(port),  # the auth token left blank: kept
        rate_per_second=rate,
        actor=owner,
        transport=transport,
        price_per_part=transport.price_per_part,
    )


def rendered(mailing: Any, deliveries: Any) -> list[tuple[str, str]]:
    """(number, text) of each delivery in id order, rendered by the engine's own code in
    the campaign's language (engine.mailing_run's override)."""
    from django.utils.translation import override

    from suffrage.texting.sending import sms_prepare

    campaign = mailing.campaign
    with override(campaign.languages[0] if campaign.languages else None):
        prepared = sms_prepare(mailing, with_transport=False)
        rows = deliveries.select_related("person").order_by("pk").iterator(chunk_size=2_000)
        return [(delivery.address, prepared.text_for(delivery.person, delivery.variant)) for delivery in rows]


def child_setup(args: argparse.Namespace) -> dict[str, Any]:
    import datetime

    from django.core.management import call_command
    from django.db import connection
    from django.utils.translation import override

    from suffrage.core.models import User
    from suffrage.core.services import campaign_create
    from suffrage.messaging import services
    from suffrage.messaging.models import Delivery
    from suffrage.segments.models import Segment
    from suffrage.texting.gsm import sms_length
    from suffrage.texting.models import sms_settings
    from suffrage.texting.sending import sms_prepare

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"  migrate: {time.perf_counter() - started:.1f} s", flush=True)
    owner = User.objects.create_user(OWNER_EMAIL, "bench-password-not-secret")
    campaign = campaign_create(name="Brest 2027", slug=SLUG, owner=owner, require_mfa=False)
    started = time.perf_counter()
    rows = build_people(campaign.pk, args.messages)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
    build_seconds = time.perf_counter() - started
    print(f"  data: {', '.join(f'{t} {n:,}' for t, n in rows.items())} in {build_seconds:.1f} s", flush=True)

    Segment.objects.create(
        campaign=campaign, name="Tout le monde", document={"version": 1, "filter": {"all": []}}, created_by=owner
    )
    transport = services.transport_save(
        campaign=campaign,
        kind="twilio",
        name="Twilio (local)",
        values=transport_values(args.port) | {"auth_token": AUTH_TOKEN},
        rate_per_second=0,
        actor=owner,
        price_per_part="0.0450",
    )
    options = sms_settings(campaign)
    options.transport = transport
    options.sender_id = SENDER_ID
    options.signature = "Brest 2027"
    options.stop_number = "36111"
    # Every day, all day, holidays included: the benchmark may run on a Sunday or at night.
    options.send_days = [0, 1, 2, 3, 4, 5, 6]
    options.send_from, options.send_until = datetime.time(0), datetime.time(23, 59, 59)
    options.skip_public_holidays = False
    options.save()
    mailing = new_mailing(campaign, owner, "SMS n°1")
    seconds, phases = start_timed(mailing, owner)
    deliveries = Delivery.objects.filter(mailing=mailing)
    count = deliveries.count()
    print(f"  mailing_send: {seconds:.2f} s, {count:,} deliveries", flush=True)

    # The anchor's requests: the form the engine's transport posts (captured for the
    # first delivery, in the campaign's language as the engine runs), then the same
    # fields for every delivery, the text rendered by the engine's own code.
    mailing.refresh_from_db()
    first = deliveries.select_related("person").order_by("pk").first()
    assert first is not None
    captured: list[tuple[str, dict[str, str], dict[str, str]]] = []

    def capture(url: str, *, form: dict[str, str], headers: dict[str, str], **_rest: Any) -> tuple[int, dict[str, Any]]:
        captured.append((url, dict(form), dict(headers)))
        return 201, {"sid": "SMcaptured"}

    with override(campaign.languages[0] if campaign.languages else None):
        prepared = sms_prepare(mailing)
        prepared.transport.http.post = capture
        prepared.transport.send(prepared.message(first))
    url, form, headers = captured[0]
    callback = form.get("StatusCallback")
    texts = rendered(mailing, deliveries)
    expected_path(args, 1).write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    lines = []
    for number, text in texts:
        fields = {"To": number, "From": form["From"], "Body": text}
        if callback is not None:
            fields["StatusCallback"] = callback
        lines.append(urllib.parse.urlencode(fields))
    assert lines[0] == urllib.parse.urlencode(form), "the anchor's form differs from the engine's"
    parsed = urllib.parse.urlsplit(url)
    request_headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        **headers,
    }
    headers_path(args).write_text(json.dumps({"path": parsed.path, "headers": request_headers}), encoding="utf-8")
    bodies_path(args).write_text("\n".join(lines) + "\n", encoding="ascii")
    example = texts[0][1]
    length = sms_length(example)
    return {
        "build_seconds": build_seconds,
        "rows": rows,
        "start_seconds": seconds,
        "phases": phases,
        "deliveries": count,
        "example": example,
        "body_chars": len(example),
        "encoding": length.encoding,
        "parts": length.parts,
        "callback": bool(callback),
    }


def probes() -> list[PhaseTimer]:
    from suffrage.messaging import engine
    from suffrage.messaging.transports import sms_http, twilio
    from suffrage.texting import sending

    return [
        PhaseTimer(engine, "claim"),
        PhaseTimer(sending.SmsPrepared, "message"),
        PhaseTimer(twilio.TwilioTransport, "send"),
        PhaseTimer(sms_http.HttpClient, "request"),
        PhaseTimer(engine, "flush"),
    ]


def deliveries_by_status(mailing: Any) -> dict[str, int]:
    from django.db.models import Count

    from suffrage.messaging.models import Delivery

    rows = Delivery.objects.filter(mailing=mailing).values_list("status").annotate(n=Count("pk"))
    return dict(rows.values_list("status", "n"))


def tick_timed(timers: list[PhaseTimer]) -> tuple[float, int]:
    from suffrage.messaging import services

    started = time.perf_counter()
    worked_on = services.mailings_tick()
    seconds = time.perf_counter() - started
    for timer in timers:
        timer.restore()
    return seconds, worked_on


def child_send(args: argparse.Namespace) -> dict[str, Any]:
    from django.db.models import Sum

    from suffrage.messaging.models import Delivery, Mailing

    timers = probes()
    seconds, worked_on = tick_timed(timers)
    mailing = Mailing.objects.get(campaign__slug=SLUG, name="SMS n°1")
    counts = deliveries_by_status(mailing)
    parts = Delivery.objects.filter(mailing=mailing).aggregate(n=Sum("parts"))["n"] or 0
    print(f"  mailings_tick: {seconds:.2f} s, {worked_on} mailing(s) worked on; deliveries {counts}", flush=True)
    return {
        "send_seconds": seconds,
        "mailing_status": mailing.status,
        "deliveries": counts,
        "parts": parts,
        "phases": {timer.name: timer.seconds for timer in timers},
    }


def child_rate(args: argparse.Namespace) -> dict[str, Any]:
    from suffrage.core.models import Campaign, User
    from suffrage.messaging import engine
    from suffrage.messaging.models import Delivery, Mailing

    campaign = Campaign.objects.get(slug=SLUG)
    owner = User.objects.get(email=OWNER_EMAIL)
    set_rate(campaign, owner, args.port, PROVIDER_RATE)
    mailing = new_mailing(campaign, owner, "SMS n°2 (débit)")
    start_seconds, _phases = start_timed(mailing, owner)
    ids = list(Delivery.objects.filter(mailing=mailing).order_by("pk").values_list("pk", flat=True))
    kept = ids[: args.rate_messages]
    cancelled = Delivery.objects.filter(mailing=mailing, pk__gt=kept[-1]).update(status=Delivery.Status.CANCELLED)
    texts = rendered(mailing, Delivery.objects.filter(pk__in=kept))
    expected_path(args, 2).write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    timers = [*probes(), PhaseTimer(engine.RateLimit, "wait")]
    seconds, worked_on = tick_timed(timers)
    mailing.refresh_from_db()
    counts = deliveries_by_status(mailing)
    sent = counts.get(Delivery.Status.SENT, 0)
    outcome = "finished" if mailing.status == Mailing.Status.SENT else "not finished"
    print(
        f"  mailings_tick: {seconds:.2f} s, {sent:,} sent ({sent / seconds:.2f}/s); deliveries {counts}",
        flush=True,
    )
    return {
        "start_seconds": start_seconds,
        "cancelled": cancelled,
        "send_seconds": seconds,
        "sent": sent,
        "mailing_status": mailing.status,
        "outcome": outcome,
        "worked_on": worked_on,
        "deliveries": counts,
        "phases": {timer.name: timer.seconds for timer in timers},
    }


def child_profile(args: argparse.Namespace) -> dict[str, Any]:
    import cProfile
    import io
    import pstats

    from suffrage.core.models import Campaign, User
    from suffrage.messaging import engine, services

    campaign = Campaign.objects.get(slug=SLUG)
    owner = User.objects.get(email=OWNER_EMAIL)
    set_rate(campaign, owner, args.port, 0)
    mailing = new_mailing(campaign, owner, "SMS n°3 (profil)")
    start_timed(mailing, owner)
    messages = min(args.profile, args.messages)
    batches = math.ceil(messages / engine.CLAIM_SIZE)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(engine.mailing_run, mailing.pk, max_batches=batches)
    elapsed = time.perf_counter() - started
    mailing.refresh_from_db()
    if mailing.is_running:
        services.mailing_cancel(mailing=mailing, actor=owner)
    path = OUT / f"sms-{suffix_of(args)}.prof"
    profiler.dump_stats(path)
    outputs = {}
    for order in ("cumulative", "tottime"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats(order).print_stats(25)
        text = stream.getvalue()
        outputs[order] = text[text.index("   ncalls") :] if "   ncalls" in text else text
    return {
        "messages": deliveries_by_status(mailing).get("sent", 0),
        "seconds": elapsed,
        "cumulative": outputs["cumulative"],
        "tottime": outputs["tottime"],
        "path": str(path.relative_to(ROOT)),
    }


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    handlers = {"setup": child_setup, "send": child_send, "rate": child_rate, "profile": child_profile}
    code = code_and_catalogue()  # the code and translations this process loaded
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
