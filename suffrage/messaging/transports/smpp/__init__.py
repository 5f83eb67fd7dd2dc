"""SMPP 3.4, spoken directly to an operator's or an aggregator's SMS centre: one TCP
connection (TLS optional) bound as a transceiver, which both sends (submit_sm) and
receives the server's delivery receipts and replies (deliver_sm).

Messages are sent one at a time, each waiting for its submit_sm_resp, whose message_id
is the provider id. Whatever the server sends meanwhile is answered and turned into
SmsEvents, handed to `on_events` (or kept in `pending_events`). The long-running
`sms_smpp_listen` command keeps a connection bound with `listen()` to receive them
between campaigns. Not thread-safe: one transport per thread."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

import phonenumbers
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.base import (
    DkimKey,
    PermanentFailure,
    SendResult,
    SmsEvent,
    SmsMessage,
    TemporaryFailure,
    TransportConfigurationError,
    TransportKind,
)
from suffrage.messaging.transports.smpp import pdu
from suffrage.messaging.transports.smpp.pdu import Pdu, PduError, ShortMessage

logger = logging.getLogger(__name__)

DEFAULT_PORT, DEFAULT_TLS_PORT = 2775, 3550  # IANA's smpp and ssmpp

# submit_sm_resp statuses: the destination can never receive, or every message will
# be refused (the sender is); any other refusal may pass later.
DESTINATION_ERRORS = {pdu.ESME_RINVDSTADR, pdu.ESME_RINVDSTTON, pdu.ESME_RINVDSTNPI}
CONFIGURATION_ERRORS = {pdu.ESME_RINVSRCADR, pdu.ESME_RINVSRCTON, pdu.ESME_RINVSRCNPI, pdu.ESME_RINVSERTYP}
BIND_CONFIGURATION_ERRORS = {pdu.ESME_RINVPASWD, pdu.ESME_RINVSYSID, pdu.ESME_RINVSYSTYP}

# Receipts: the final states (stat: in the text, or message_state's value).
MESSAGE_STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 8: "REJECTD"}
FAILED_STATES = {"UNDELIV", "REJECTD", "EXPIRED", "DELETED"}
# GSM MAP errors that many SMS centres quote as `err:` (and in network_error_code) and
# that mean the number will never receive: unknown subscriber, illegal subscriber,
# teleservice not provisioned (no SMS on that line). Other codes vary by operator.
PERMANENT_ERRORS = {1, 9, 11}
NETWORK_GSM = 3
RECEIPT_FIELD = re.compile(r"\b(id|stat|err):(\S*)", re.IGNORECASE)
RECEIPT_TEXT = re.compile(r"\btext:", re.IGNORECASE)  # the message's first words: not read
# Parts of long replies waiting for the others, at most this many (the oldest dropped).
MAX_PARTIAL_REPLIES = 500


class _Dropped(Exception):
    """The connection is gone (closed, reset, unbound by the server)."""


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def source_address(sender: str) -> tuple[int, int, str]:
    """(TON, NPI, address) for a sender: a number in international form ("+33…" or
    digits) TON 1/NPI 1; a short code (up to 8 digits, no "+") TON 3/NPI 0; otherwise
    an alphanumeric sender of up to 11 characters, TON 5/NPI 0."""
    sender = sender.strip()
    if not sender:
        return 0, 0, ""
    if re.fullmatch(r"\+?[0-9]{1,20}", sender):
        if sender.startswith("+") or len(sender) > 8:
            return 1, 1, sender.lstrip("+")
        return 3, 0, sender
    if not re.fullmatch(r"[ -~]{1,11}", sender):
        raise TransportConfigurationError(
            gettext("SMPP: the sender %(sender)s is neither a number nor up to 11 letters and digits.")
            % {"sender": sender}
        )
    return 5, 0, sender


def e164(address: str, ton: int) -> str:
    """A number as the server gives it, in E.164 with its "+" (an alphanumeric sender
    is kept as it is)."""
    digits = address.strip().lstrip("+")
    if ton == 5 or not digits.isdigit():
        return address.strip()
    national = ton == 2 or (ton == 0 and digits.startswith("0"))
    try:
        # A national number is read as French, as elsewhere in Suffrage.
        number = phonenumbers.parse(digits if national else f"+{digits}", "FR")
    except phonenumbers.NumberParseException:
        return f"+{digits}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class SmppTransport:
    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        system_type: str = "",
        sender_id: str = "",
        use_tls: bool = False,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.use_tls, self.timeout = host, port, use_tls, timeout
        self.sender_id, self.ssl_context = sender_id, ssl_context
        try:
            self.bind_body = pdu.Bind(system_id=system_id, password=password, system_type=system_type).encode()
        except PduError:
            raise TransportConfigurationError(
                gettext("SMPP: the system_id (15 characters), password (8) or system_type (12) is too long.")
            ) from None
        source_address(sender_id)  # refuses a malformed sender now rather than at each message
        # Receipts and replies go there as they arrive; kept in pending_events if None.
        self.on_events: Callable[[list[SmsEvent]], None] | None = None
        self.enquire_link_interval = 30.0
        self.pending_events: list[SmsEvent] = []
        self.connections_opened = 0
        self._socket: socket.socket | None = None
        self._buffer = bytearray()
        self._sequence = 0
        self._next_enquire_link = 0.0
        self._enquire_link_waiting: int | None = None
        self._parts: dict[tuple[str, int], dict[int, bytes]] = {}

    # --- The SmsTransport protocol ----------------------------------------------------

    def open(self) -> None:
        """Connect and bind as a transceiver (nothing if already bound)."""
        if self._socket is not None:
            return
        self._socket = self._connect()
        self._buffer.clear()
        try:
            response = self._request(pdu.BIND_TRANSCEIVER, self.bind_body)
        except _Dropped as reason:
            self._discard()
            raise TemporaryFailure(self._lost(reason)) from None
        if response.status != pdu.ESME_ROK:
            self._discard()
            refusal = gettext("SMPP: %(host)s refused the bind: %(status)s") % {
                "host": self.host,
                "status": pdu.status_name(response.status),
            }
            if response.status in BIND_CONFIGURATION_ERRORS:
                raise TransportConfigurationError(refusal)
            raise TemporaryFailure(refusal)
        self.connections_opened += 1
        self._next_enquire_link = time.monotonic() + self.enquire_link_interval
        self._enquire_link_waiting = None

    def send(self, message: SmsMessage) -> SendResult:
        body = self._submit_sm(message)
        response = self._submit(body)
        if response.status == pdu.ESME_RINVBNDSTS:
            # The server lost our bind: once more after binding again.
            self._discard()
            response = self._submit(body, reconnect=False)
        if response.status != pdu.ESME_ROK:
            raise self._refusal(response.status)
        try:
            return SendResult(provider_id=pdu.decode_message_id(response.body))
        except PduError:
            return SendResult()

    def close(self) -> None:
        """Unbind (waiting briefly for the answer) and disconnect."""
        if self._socket is None:
            return
        with contextlib.suppress(_Dropped, TemporaryFailure):
            self._request(pdu.UNBIND, b"", timeout=min(self.timeout, 2.0))
        self._discard()

    # --- Receiving ---------------------------------------------------------------------

    def listen(self, seconds: float) -> None:
        """Stay bound for `seconds`, answering the server and handing over its receipts
        and replies; enquire_link every `enquire_link_interval` seconds to keep the
        connection alive. TemporaryFailure when it is lost (call again to reconnect)."""
        self.open()
        deadline = time.monotonic() + seconds
        try:
            while (now := time.monotonic()) < deadline:
                if now >= self._next_enquire_link:
                    if self._enquire_link_waiting is not None:
                        raise _Dropped(gettext("no answer to enquire_link"))
                    self._enquire_link_waiting = self._write_request(pdu.ENQUIRE_LINK, b"")
                    self._next_enquire_link = now + self.enquire_link_interval
                received = self._read(min(deadline, self._next_enquire_link))
                if received is not None:
                    self._handle(received)
        except _Dropped as reason:
            self._discard()
            raise TemporaryFailure(self._lost(reason)) from None

    def _handle(self, received: Pdu) -> None:
        """A PDU that is not the response being waited for."""
        if received.command_id == pdu.DELIVER_SM:
            status = self._deliver_sm(received)
            self._write(Pdu(pdu.DELIVER_SM | pdu.RESPONSE, received.sequence, status, pdu.encode_message_id("")))
        elif received.command_id == pdu.ENQUIRE_LINK:
            self._write(Pdu(pdu.ENQUIRE_LINK | pdu.RESPONSE, received.sequence))
        elif received.command_id == pdu.UNBIND:
            self._write(Pdu(pdu.UNBIND | pdu.RESPONSE, received.sequence))
            raise _Dropped(gettext("the server unbound"))
        elif received.command_id == pdu.ENQUIRE_LINK | pdu.RESPONSE:
            if received.sequence == self._enquire_link_waiting:
                self._enquire_link_waiting = None
        elif not received.is_response:
            self._write(Pdu(pdu.GENERIC_NACK, received.sequence, pdu.ESME_RINVCMDID))
        else:
            logger.info("SMPP %s: unexpected 0x%08X ignored", self.host, received.command_id)

    def _deliver_sm(self, received: Pdu) -> int:
        """deliver_sm_resp's status for a receipt or a reply, handed over as events."""
        try:
            events = self._events(ShortMessage.decode(received.body))
        except (ValueError, IndexError) as error:
            logger.warning("SMPP %s: unreadable deliver_sm refused (%s)", self.host, error)
            return pdu.ESME_RX_P_APPN
        if not events:
            return pdu.ESME_ROK
        if self.on_events is None:
            self.pending_events.extend(events)
            return pdu.ESME_ROK
        try:
            self.on_events(events)
        except Exception:
            # Not recorded: the server will deliver it again later.
            logger.exception("SMPP %s: recording a receipt or reply failed", self.host)
            return pdu.ESME_RX_T_APPN
        return pdu.ESME_ROK

    def _events(self, message: ShortMessage) -> list[SmsEvent]:
        number = e164(message.source_addr, message.source_addr_ton)
        if message.esm_class & pdu.ESM_DELIVERY_RECEIPT:
            receipt = _receipt(message, number)
            return [receipt] if receipt else []
        reply = self._reassemble(message)
        if reply is None:
            return []
        data_coding, content = reply
        return [SmsEvent(kind="reply", number=number, text=pdu.decode_text(data_coding, content))]

    def _reassemble(self, message: ShortMessage) -> tuple[int, bytes] | None:
        """A reply's octets, or None while a long reply's parts are still arriving
        (split with a user data header, or with the sar_* parameters)."""
        content, reference, total, part = message.content, 0, 1, 1
        if message.esm_class & pdu.ESM_UDHI and content:
            header, content = content[1 : 1 + content[0]], content[1 + content[0] :]
            position = 0
            while position + 2 <= len(header):
                element, size = header[position], header[position + 1]
                value = header[position + 2 : position + 2 + size]
                position += 2 + size
                if element == 0x00 and len(value) == 3:  # concatenation, 8-bit reference
                    reference, total, part = value[0], value[1], value[2]
                elif element == 0x08 and len(value) == 4:  # concatenation, 16-bit reference
                    reference, total, part = int.from_bytes(value[:2], "big"), value[2], value[3]
        elif pdu.SAR_TOTAL_SEGMENTS in message.tlvs:
            reference = int.from_bytes(message.tlvs.get(pdu.SAR_MSG_REF_NUM, b""), "big")
            total = message.tlvs[pdu.SAR_TOTAL_SEGMENTS][0]
            part = message.tlvs.get(pdu.SAR_SEGMENT_SEQNUM, b"\1")[0]
        if total <= 1:
            return message.data_coding, content
        key = (message.source_addr, reference)
        parts = self._parts.setdefault(key, {})
        parts[part] = content
        if len(parts) < total:
            while len(self._parts) > MAX_PARTIAL_REPLIES:
                del self._parts[next(iter(self._parts))]
            return None
        del self._parts[key]
        return message.data_coding, b"".join(parts[index] for index in sorted(parts))

    # --- The connection ----------------------------------------------------------------

    def _connect(self) -> socket.socket:
        try:
            connection = socket.create_connection((self.host, self.port), timeout=self.timeout)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if not self.use_tls:
                return connection
            if self.ssl_context is None:
                self.ssl_context = ssl.create_default_context()
            try:
                return self.ssl_context.wrap_socket(connection, server_hostname=self.host)
            except BaseException:
                connection.close()
                raise
        except ssl.SSLCertVerificationError as error:
            raise TransportConfigurationError(
                gettext("SMPP: the certificate of %(host)s is not valid: %(error)s")
                % {"host": self.host, "error": error.verify_message}
            ) from None
        except OSError as error:
            raise TemporaryFailure(
                gettext("SMPP: could not connect to %(host)s:%(port)s: %(error)s")
                % {"host": self.host, "port": self.port, "error": error}
            ) from None

    def _discard(self) -> None:
        connection, self._socket = self._socket, None
        self._buffer.clear()
        if connection is not None:
            connection.close()

    def _lost(self, reason: _Dropped) -> str:
        return gettext("SMPP: the connection to %(host)s was lost: %(reason)s") % {"host": self.host, "reason": reason}

    def _write(self, outgoing: Pdu) -> None:
        if self._socket is None:
            raise _Dropped(gettext("not connected"))
        try:
            self._socket.settimeout(self.timeout)
            self._socket.sendall(pdu.encode(outgoing))
        except OSError as error:
            raise _Dropped(str(error)) from None

    def _write_request(self, command_id: int, body: bytes) -> int:
        self._sequence = self._sequence % 0x7FFFFFFF + 1
        self._write(Pdu(command_id, self._sequence, body=body))
        return self._sequence

    def _request(self, command_id: int, body: bytes, timeout: float | None = None) -> Pdu:
        """Send a request and wait for its response, handling what comes meanwhile."""
        sequence = self._write_request(command_id, body)
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        while (received := self._read(deadline)) is not None:
            if received.sequence == sequence and received.command_id in (command_id | pdu.RESPONSE, pdu.GENERIC_NACK):
                return received
            self._handle(received)
        # The request's fate is unknown: start afresh rather than read a late answer.
        self._discard()
        raise TemporaryFailure(
            gettext("SMPP: %(host)s did not answer within %(seconds)s s.") % {"host": self.host, "seconds": wait}
        )

    def _drain(self) -> None:
        """Handle what the server sent while we were not reading (receipts, enquire_link,
        an unbind or a closed connection, noticed before sending rather than after)."""
        while (received := self._read(0.0)) is not None:
            self._handle(received)

    def _read(self, deadline: float) -> Pdu | None:
        """The next PDU, or None if none has arrived by `deadline` (time.monotonic())."""
        while True:
            if len(self._buffer) >= 4:
                try:
                    length = pdu.pdu_length(self._buffer)
                except PduError as error:
                    raise _Dropped(str(error)) from None
                if len(self._buffer) >= length:
                    data = bytes(self._buffer[:length])
                    del self._buffer[:length]
                    return pdu.decode(data)
            if self._socket is None:
                raise _Dropped(gettext("not connected"))
            try:
                self._socket.settimeout(max(deadline - time.monotonic(), 0.0))
                chunk = self._socket.recv(65536)
            except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
                return None
            except OSError as error:
                raise _Dropped(str(error)) from None
            if not chunk:
                raise _Dropped(gettext("the server closed the connection"))
            self._buffer += chunk

    # --- Messages ----------------------------------------------------------------------

    def _submit_sm(self, message: SmsMessage) -> bytes:
        source_ton, source_npi, source = source_address(message.sender_id or self.sender_id)
        destination = re.sub(r"[^0-9]", "", message.to)
        if not 3 <= len(destination) <= 20:
            raise PermanentFailure(gettext("SMPP: %(number)s is not a phone number.") % {"number": message.to})
        data_coding, text = pdu.encode_text(message.body)
        single = pdu.fits_short_message(data_coding, text)
        return ShortMessage(
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            source_addr=source,
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=destination,
            registered_delivery=1,
            data_coding=data_coding,
            short_message=text if single else b"",
            tlvs={} if single else {pdu.MESSAGE_PAYLOAD: text},
        ).encode()

    def _submit(self, body: bytes, reconnect: bool = True) -> Pdu:
        """submit_sm's response. A connection found gone (most likely closed by the
        server while idle) is opened again once and the message sent on it."""
        self.open()
        try:
            self._drain()
            return self._request(pdu.SUBMIT_SM, body)
        except _Dropped as reason:
            self._discard()
            if not reconnect:
                raise TemporaryFailure(self._lost(reason)) from None
        return self._submit(body, reconnect=False)

    def _refusal(self, status: int) -> Exception:
        text = gettext("SMPP: %(host)s refused the message: %(status)s") % {
            "host": self.host,
            "status": pdu.status_name(status),
        }
        if status in DESTINATION_ERRORS:
            return PermanentFailure(text)
        if status in CONFIGURATION_ERRORS:
            return TransportConfigurationError(text)
        return TemporaryFailure(text)


def _receipt(message: ShortMessage, number: str) -> SmsEvent | None:
    """A delivery receipt's event; None for a state that is not final (ENROUTE…)."""
    content = message.content
    text = content.decode("utf-16-be", "replace") if message.data_coding == pdu.DC_UCS2 else content.decode("latin-1")
    fields: dict[str, str] = {}
    for name, value in RECEIPT_FIELD.findall(RECEIPT_TEXT.split(text, maxsplit=1)[0]):
        fields.setdefault(name.lower(), value)
    provider_id = fields.get("id", "")
    if pdu.RECEIPTED_MESSAGE_ID in message.tlvs:
        provider_id = pdu.tlv_cstring(message.tlvs[pdu.RECEIPTED_MESSAGE_ID])
    state = fields.get("stat", "").upper()
    if message.tlvs.get(pdu.MESSAGE_STATE):
        state = MESSAGE_STATES.get(message.tlvs[pdu.MESSAGE_STATE][0], state)
    if state == "DELIVRD":
        return SmsEvent(kind="delivered", number=number, provider_id=provider_id)
    if state not in FAILED_STATES:
        return None
    error = fields.get("err", "")
    errors = {int(error)} if error.isdigit() else set()
    network_error = message.tlvs.get(pdu.NETWORK_ERROR_CODE, b"")
    if len(network_error) == 3 and network_error[0] == NETWORK_GSM:
        errors.add(int.from_bytes(network_error[1:], "big"))
    return SmsEvent(
        kind="failed",
        number=number,
        provider_id=provider_id,
        reason=f"{state} err:{error}" if error else state,
        permanent=state in ("UNDELIV", "REJECTD") and bool(errors & PERMANENT_ERRORS),
    )


def build(settings: dict[str, Any], secrets: dict[str, Any], dkim: DkimKey | None) -> SmppTransport:
    host, system_id = str(settings.get("host") or "").strip(), str(secrets.get("system_id") or "")
    if not host or not system_id:
        raise TransportConfigurationError(gettext("SMPP: the host and the system_id are needed."))
    use_tls = _flag(settings.get("use_tls"))
    try:
        port = int(settings.get("port") or (DEFAULT_TLS_PORT if use_tls else DEFAULT_PORT))
    except (TypeError, ValueError):
        raise TransportConfigurationError(gettext("SMPP: the port must be a number.")) from None
    return SmppTransport(
        host=host,
        port=port,
        system_id=system_id,
        password=str(secrets.get("password") or ""),
        system_type=str(settings.get("system_type") or ""),
        sender_id=str(settings.get("sender_id") or ""),
        use_tls=use_tls,
    )


KIND = TransportKind(
    kind="smpp",
    label=_("SMPP (direct operator or aggregator connection)"),
    settings_fields=("host", "port", "system_type", "sender_id", "use_tls"),
    secret_fields=("system_id", "password"),
    spf_hint="",
    build=build,
    channel="sms",
)
