"""A tool receiving webhooks, as the documentation tells one to be written: an HTTP
server on loopback that checks each delivery with the `verify` function printed in
docs/user/webhooks.md (read from the file and run, so the documentation cannot drift
from what is tested). The other webhook tests import `Receiver` from here; the tests
below check the documented function itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "user" / "webhooks.md"


def documented_verify() -> Callable[..., Any]:
    """The `verify` function of the documentation, as a receiver would paste it."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    source = next(block for block in blocks if "def verify(" in block)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


verify = documented_verify()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    event: dict[str, Any] | None  # what verify returned
    refused: str = ""  # why verify refused it


@dataclass
class Receiver:
    """Set `secret` to the webhook's; `answers` is a list of statuses to give in turn
    (then 200); with `hold` set, each request waits until it is cleared (`arrived` tells
    the test a request is being held)."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    location: str = ""  # sent with a 3xx answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/suffrage?from=test"

    @property
    def verified(self) -> list[dict[str, Any]]:
        return [item.event for item in self.received if item.event is not None]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [event for event in self.verified if event["event"] == name]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                item = Received(dict(self.headers.items()), body, verify(receiver.secret, self.headers, body))
            except ValueError as error:
                item = Received(dict(self.headers.items()), body, None, str(error))
            receiver.received.append(item)
            receiver.arrived.set()
            if receiver.hold is not None:
                receiver.hold.wait(30)
            status = receiver.answers.pop(0) if receiver.answers else 200
            if item.refused:
                status = 400
            answer = b"ok" if status < 300 else b"boom " * 200
            try:
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the sender gave up (a timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running(receiver: Receiver | None = None) -> Iterator[Receiver]:
    receiver = receiver or Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()


# --- The documented function ------------------------------------------------------------------


def _signed(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Suffrage-Signature": f"t={timestamp},v1={digest}"}


BODY = json.dumps({"id": "e1", "event": "ping", "data": {}}).encode()


def test_the_documented_function_accepts_a_fresh_delivery_signed_with_the_secret():
    now = int(time.time())
    assert verify("whsec_abc", _signed("whsec_abc", BODY, now), BODY) == {"id": "e1", "event": "ping", "data": {}}


@pytest.mark.parametrize(
    "headers,body,reason",
    [
        (_signed("whsec_other", BODY, 1_800_000_000), BODY, "wrong signature"),
        (_signed("whsec_abc", BODY, 1_800_000_000), BODY.replace(b"ping", b"pong"), "wrong signature"),
        (_signed("whsec_abc", BODY, 1_800_000_000 - 301), BODY, "signed too long ago"),
        ({}, BODY, "no signature"),
        ({"Suffrage-Signature": "t=soon,v1=abc"}, BODY, "no signature"),
    ],
    ids=["another secret", "body altered", "too old", "unsigned", "malformed"],
)
def test_the_documented_function_refuses_what_a_receiver_must_refuse(headers, body, reason):
    with pytest.raises(ValueError, match=reason):
        verify("whsec_abc", headers, body, now=1_800_000_000)
