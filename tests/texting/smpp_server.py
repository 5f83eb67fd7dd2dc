"""A small SMPP 3.4 server (an SMS centre) for the tests, written with its own struct
code from the specification, not with suffrage's pdu.py: an encoding mistake there
shows here as a wrong field rather than cancelling itself out.

It binds transceivers with one system_id/password, answers submit_sm with message ids
(recording each decoded), can refuse destinations or throttle, answers enquire_link
and unbind, and pushes receipts and replies (deliver_sm) to the bound client."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number

BIND_TRANSCEIVER, BIND_TRANSCEIVER_RESP = 0x00000009, 0x80000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006
GENERIC_NACK = 0x80000000

ESME_ROK, ESME_RINVCMDID, ESME_RINVBNDSTS, ESME_RINVPASWD = 0x00, 0x03, 0x04, 0x0E
MESSAGE_PAYLOAD, RECEIPTED_MESSAGE_ID, MESSAGE_STATE = 0x0424, 0x001E, 0x0427
STATES = {"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "ACCEPTD": 6, "REJECTD": 8}

# GSM 03.38, written out again from the specification's table.
GSM = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_ESCAPED = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|"}
GSM_ESCAPED[0x65] = "€"


def gsm_decode(data: bytes) -> str:
    text, escaped = "", False
    for octet in data:
        if escaped:
            text, escaped = text + GSM_ESCAPED[octet], False
        elif octet == 0x1B:
            escaped = True
        else:
            text += GSM[octet]
    return text


def gsm_encode(text: str) -> bytes:
    escapes = {char: code for code, char in GSM_ESCAPED.items()}
    return b"".join(bytes([0x1B, escapes[char]]) if char in escapes else bytes([GSM.index(char)]) for char in text)


def cstr(text: str) -> bytes:
    return text.encode("ascii") + b"\0"


class Body:
    """Reads a body's fields in order."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def cstr(self) -> str:
        end = self.data.index(b"\0", self.at)
        text, self.at = self.data[self.at : end].decode("ascii"), end + 1
        return text

    def int8(self) -> int:
        self.at += 1
        return self.data[self.at - 1]

    def octets(self, size: int) -> bytes:
        self.at += size
        return self.data[self.at - size : self.at]

    def tlvs(self) -> dict[int, bytes]:
        found = {}
        while self.at < len(self.data):
            tag, size = struct.unpack(">HH", self.octets(4))
            found[tag] = self.octets(size)
        return found


@dataclass
class Submit:
    """A submit_sm as received."""

    service_type: str
    source_ton: int
    source_npi: int
    source: str
    dest_ton: int
    dest_npi: int
    destination: str
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes]
    status: int = ESME_ROK
    message_id: str = ""

    @property
    def content(self) -> bytes:
        return self.tlvs.get(MESSAGE_PAYLOAD, self.short_message)

    @property
    def text(self) -> str:
        return self.content.decode("utf-16-be") if self.data_coding == 8 else gsm_decode(self.content)


def parse_submit(body: bytes) -> Submit:
    read = Body(body)
    service_type = read.cstr()
    source_ton, source_npi, source = read.int8(), read.int8(), read.cstr()
    dest_ton, dest_npi, destination = read.int8(), read.int8(), read.cstr()
    esm_class, _protocol_id, _priority = read.int8(), read.int8(), read.int8()
    _schedule, _validity = read.cstr(), read.cstr()
    registered_delivery, _replace, data_coding, _default_id = read.int8(), read.int8(), read.int8(), read.int8()
    short_message = read.octets(read.int8())
    return Submit(
        service_type=service_type,
        source_ton=source_ton,
        source_npi=source_npi,
        source=source,
        dest_ton=dest_ton,
        dest_npi=dest_npi,
        destination=destination,
        esm_class=esm_class,
        registered_delivery=registered_delivery,
        data_coding=data_coding,
        short_message=short_message,
        tlvs=read.tlvs(),
    )


def deliver_sm_body(
    source: str, destination: str, esm_class: int, data_coding: int, message: bytes, tlvs: dict[int, bytes], ton: int
) -> bytes:
    return (
        cstr("")  # service_type
        + bytes([ton, 1])
        + cstr(source)
        + bytes([5, 0])
        + cstr(destination)
        + bytes([esm_class, 0, 0])  # protocol_id, priority_flag
        + cstr("")  # schedule_delivery_time
        + cstr("")  # validity_period
        + bytes([0, 0, data_coding, 0, len(message)])  # registered_delivery, replace, data_coding, default id
        + message
        + b"".join(struct.pack(">HH", tag, len(value)) + value for tag, value in tlvs.items())
    )


class Session:
    """One client connection."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection, self.lock, self.sequence, self.bound = connection, threading.Lock(), 0, False

    def write(self, command_id: int, sequence: int, status: int = ESME_ROK, body: bytes = b"") -> None:
        with self.lock:
            self.connection.sendall(HEADER.pack(16 + len(body), command_id, status, sequence) + body)

    def request(self, command_id: int, body: bytes = b"") -> int:
        with self.lock:
            self.sequence += 1
            sequence = self.sequence
        self.write(command_id, sequence, body=body)
        return sequence

    def read_exactly(self, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            chunk = self.connection.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data


class _Handler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        session = Session(self.request)
        smsc = self.server.smsc
        with smsc.lock:
            smsc.sessions.append(session)
        try:
            while (header := session.read_exactly(16)) is not None:
                length, command_id, status, sequence = HEADER.unpack(header)
                body = session.read_exactly(length - 16) if length > 16 else b""
                if body is None or not smsc.dispatch(session, command_id, status, sequence, body):
                    break
        except OSError:
            pass
        finally:
            session.bound = False
            self.request.close()


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    smsc: SmppServer
    ssl_context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[Any, Any]:
        connection, address = self.socket.accept()
        if self.ssl_context is not None:
            connection = self.ssl_context.wrap_socket(connection, server_side=True)
        return connection, address


@dataclass
class SmppServer:
    system_id: str = "campagne"
    password: str = "s3cret"
    ssl_context: ssl.SSLContext | None = None
    # destination -> command_status to answer its submit_sm with
    refuse: dict[str, int] = field(default_factory=dict)
    throttle_first: int = 0  # this many submit_sm are answered ESME_RTHROTTLED
    lose_bind_once: bool = False  # the next submit_sm is answered ESME_RINVBNDSTS
    # Sent before the submit_sm_resp, to check they are handled while it is awaited.
    receipt_before_resp: bool = False
    enquire_link_before_resp: bool = False
    submits: list[Submit] = field(default_factory=list)
    binds: list[tuple[str, str, str, int]] = field(default_factory=list)  # system_id, password, type, version
    received: list[tuple[int, int, int]] = field(default_factory=list)  # command_id, status, sequence
    sessions: list[Session] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> SmppServer:
        self._server = _TcpServer(("127.0.0.1", 0), _Handler)
        self._server.smsc, self._server.ssl_context = self, self.ssl_context
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self.disconnect()
        self._server.server_close()

    def disconnect(self) -> None:
        """Close every client connection, as an SMS centre does with idle ones."""
        for session in self.sessions:
            with contextlib.suppress(OSError):
                session.connection.shutdown(socket.SHUT_RDWR)
            session.connection.close()

    # --- What the client sent ----------------------------------------------------------

    def dispatch(self, session: Session, command_id: int, status: int, sequence: int, body: bytes) -> bool:
        """Answer one PDU; False to close the connection."""
        with self.lock:
            self.received.append((command_id, status, sequence))
        if command_id == BIND_TRANSCEIVER:
            read = Body(body)
            system_id, password, system_type, version = read.cstr(), read.cstr(), read.cstr(), read.int8()
            self.binds.append((system_id, password, system_type, version))
            if (system_id, password) != (self.system_id, self.password):
                session.write(BIND_TRANSCEIVER_RESP, sequence, ESME_RINVPASWD)
                return True
            session.bound = True
            session.write(BIND_TRANSCEIVER_RESP, sequence, body=cstr("TestSMSC"))
        elif command_id == SUBMIT_SM:
            self._submit(session, sequence, body)
        elif command_id == ENQUIRE_LINK:
            session.write(ENQUIRE_LINK_RESP, sequence)
        elif command_id == UNBIND:
            session.bound = False
            session.write(UNBIND_RESP, sequence)
            return False
        elif not command_id & 0x80000000:
            session.write(GENERIC_NACK, sequence, ESME_RINVCMDID)
        return True

    def _submit(self, session: Session, sequence: int, body: bytes) -> None:
        submit = parse_submit(body)
        with self.lock:
            if not session.bound or self.lose_bind_once:
                self.lose_bind_once = False
                submit.status = ESME_RINVBNDSTS
            elif self.throttle_first > 0:
                self.throttle_first -= 1
                submit.status = 0x58
            else:
                submit.status = self.refuse.get(submit.destination, ESME_ROK)
            if submit.status == ESME_ROK:
                submit.message_id = f"{len(self.submits) + 1:08X}"
            self.submits.append(submit)
        if submit.status != ESME_ROK:
            session.write(SUBMIT_SM_RESP, sequence, submit.status)  # no body with an error
            return
        if self.receipt_before_resp:
            self.push_receipt(submit.message_id)
        if self.enquire_link_before_resp:
            self.enquire_link()
        session.write(SUBMIT_SM_RESP, sequence, body=cstr(submit.message_id))

    @property
    def accepted(self) -> list[Submit]:
        return [submit for submit in self.submits if submit.status == ESME_ROK]

    def answers(self, command_id: int) -> list[tuple[int, int]]:
        """(status, sequence) of each PDU of that kind received (the client's answers)."""
        return [(status, sequence) for received, status, sequence in self.received if received == command_id]

    def count(self, command_id: int) -> int:
        return sum(1 for received, _status, _sequence in self.received if received == command_id)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("the SMPP server waited in vain")
            time.sleep(0.01)

    # --- What it sends -----------------------------------------------------------------

    def bound_session(self) -> Session:
        self.wait_for(lambda: any(session.bound for session in self.sessions))
        return [session for session in self.sessions if session.bound][-1]

    def push_receipt(
        self, message_id: str, stat: str = "DELIVRD", err: str = "000", tlvs: bool = False, text: bool = True
    ) -> int:
        """A delivery receipt for a message sent earlier (its destination then is the
        receipt's source); with `tlvs`, also receipted_message_id and message_state."""
        submit = next(submit for submit in self.submits if submit.message_id == message_id)
        delivered = "001" if stat == "DELIVRD" else "000"
        words = (
            f"id:{message_id} sub:001 dlvrd:{delivered} submit date:2506011200 done date:2506011201 "
            f"stat:{stat} err:{err} text:{submit.text[:20]}"
        )
        optional = {RECEIPTED_MESSAGE_ID: cstr(message_id), MESSAGE_STATE: bytes([STATES[stat]])} if tlvs else {}
        message = words.encode("latin-1") if text else b""
        body = deliver_sm_body(submit.destination, submit.source, 0x04, 0, message, optional, ton=1)
        return self.bound_session().request(DELIVER_SM, body)

    def push_reply(self, from_number: str, text: str, to: str = "BrestEnCom", ton: int = 1, parts: int = 1) -> int:
        """A text message from a phone (in GSM 03.38 if it can be, else UCS-2); in
        `parts` parts joined by a user data header when more than one."""
        try:
            data_coding, encoded = 0, gsm_encode(text)
        except (ValueError, KeyError):
            data_coding, encoded = 8, text.encode("utf-16-be")
        session = self.bound_session()
        if parts == 1:
            body = deliver_sm_body(from_number, to, 0, data_coding, encoded, {}, ton=ton)
            return session.request(DELIVER_SM, body)
        size = -(-len(encoded) // parts)
        if data_coding == 8:
            size += size % 2
        chunks = [encoded[index : index + size] for index in range(0, len(encoded), size)]
        sequence = 0
        # Out of order, as networks may deliver them.
        for number, chunk in reversed(list(enumerate(chunks, start=1))):
            header = bytes([5, 0x00, 3, 0x2A, len(chunks), number])
            body = deliver_sm_body(from_number, to, 0x40, data_coding, header + chunk, {}, ton=ton)
            sequence = session.request(DELIVER_SM, body)
        return sequence

    def enquire_link(self) -> int:
        return self.bound_session().request(ENQUIRE_LINK)

    def unbind(self) -> int:
        return self.bound_session().request(UNBIND)
