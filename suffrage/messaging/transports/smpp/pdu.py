"""SMPP 3.4 protocol data units: the few we speak, as pure functions and dataclasses.

A PDU is a 16-octet header (command_length, command_id, command_status,
sequence_number, all big-endian 32-bit) and a body of fixed-order fields: integers of
one octet, C-octet strings (ASCII ended by a NUL, each with a maximum size counting
the NUL), and after them optional parameters as TLVs (tag and length on 16 bits).

Text is carried in GSM 03.38 (data_coding 0, one septet per octet, unpacked, as SMPP
servers expect) when every character is in its basic or extension table, otherwise
in UCS-2 (data_coding 8, sent as UTF-16 big-endian so that emoji survive)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

HEADER = struct.Struct(">IIII")
HEADER_SIZE = HEADER.size
MAX_PDU_SIZE = 65536  # ours never exceed a few hundred octets; a bigger length is garbage

# command_id
GENERIC_NACK = 0x80000000
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
RESPONSE = 0x80000000  # a request's command_id | RESPONSE is its response's

# command_status
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RINVSERTYP = 0x15
ESME_RSUBMITFAIL = 0x45
ESME_RINVSRCTON = 0x48
ESME_RINVSRCNPI = 0x49
ESME_RINVDSTTON = 0x50
ESME_RINVDSTNPI = 0x51
ESME_RINVSYSTYP = 0x53
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RX_P_APPN = 0x65
ESME_RUNKNOWNERR = 0xFF

STATUS_NAMES = {value: name for name, value in globals().items() if name.startswith("ESME_")}

# Optional parameters (TLV tags)
RECEIPTED_MESSAGE_ID = 0x001E
SAR_MSG_REF_NUM = 0x020C
SAR_TOTAL_SEGMENTS = 0x020E
SAR_SEGMENT_SEQNUM = 0x020F
SC_INTERFACE_VERSION = 0x0210
NETWORK_ERROR_CODE = 0x0423
MESSAGE_PAYLOAD = 0x0424
MESSAGE_STATE = 0x0427

# esm_class bits
ESM_DELIVERY_RECEIPT = 0x04
ESM_UDHI = 0x40

# data_coding
DC_DEFAULT = 0x00  # the SMSC's default alphabet: GSM 03.38 here
DC_IA5 = 0x01
DC_LATIN1 = 0x03
DC_UCS2 = 0x08

INTERFACE_VERSION = 0x34


class PduError(ValueError):
    """Octets that are not the PDU they claim to be, or a value that does not fit."""


def status_name(status: int) -> str:
    return f"{STATUS_NAMES.get(status, 'ESME_R?')} (0x{status:02X})"


# --- Header -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pdu:
    command_id: int
    sequence: int
    status: int = ESME_ROK
    body: bytes = b""

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE)


def encode(pdu: Pdu) -> bytes:
    return HEADER.pack(HEADER_SIZE + len(pdu.body), pdu.command_id, pdu.status, pdu.sequence) + pdu.body


def pdu_length(prefix: bytes | bytearray) -> int:
    """The command_length announced by a PDU's first four octets."""
    (length,) = struct.unpack_from(">I", prefix)
    if not HEADER_SIZE <= length <= MAX_PDU_SIZE:
        raise PduError(f"command_length {length}")
    return int(length)


def decode(data: bytes) -> Pdu:
    """One whole PDU (as many octets as its command_length says)."""
    if len(data) < HEADER_SIZE or pdu_length(data) != len(data):
        raise PduError("truncated PDU")
    _length, command_id, status, sequence = HEADER.unpack_from(data)
    return Pdu(command_id=command_id, sequence=sequence, status=status, body=bytes(data[HEADER_SIZE:]))


# --- Fields -------------------------------------------------------------------------


def cstring(value: str, max_size: int) -> bytes:
    """A C-octet string of at most `max_size` octets, the NUL included."""
    try:
        data = value.encode("ascii")
    except UnicodeEncodeError:
        raise PduError("not ASCII") from None
    if b"\0" in data or len(data) + 1 > max_size:
        raise PduError(f"longer than {max_size - 1} characters")
    return data + b"\0"


def encode_tlvs(tlvs: dict[int, bytes]) -> bytes:
    return b"".join(struct.pack(">HH", tag, len(value)) + value for tag, value in tlvs.items())


class Reader:
    """Reads a body's fields in order."""

    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def octet(self) -> int:
        return self.octets(1)[0]

    def octets(self, size: int) -> bytes:
        end = self.position + size
        if end > len(self.data):
            raise PduError("body too short")
        value, self.position = self.data[self.position : end], end
        return value

    def cstring(self, max_size: int) -> str:
        end = self.data.find(b"\0", self.position)
        if end < 0 or end - self.position + 1 > max_size:
            raise PduError("unterminated C-octet string")
        value, self.position = self.data[self.position : end], end + 1
        return value.decode("ascii", "replace")

    def tlvs(self) -> dict[int, bytes]:
        tlvs = {}
        while self.position < len(self.data):
            tag, size = struct.unpack(">HH", self.octets(4))
            tlvs[tag] = self.octets(size)
        return tlvs


def tlv_cstring(value: bytes) -> str:
    return value.split(b"\0", 1)[0].decode("ascii", "replace")


# --- Bodies -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bind:
    """bind_transceiver's body (bind_transmitter and bind_receiver have the same)."""

    system_id: str
    password: str
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""

    def encode(self) -> bytes:
        return (
            cstring(self.system_id, 16)
            + cstring(self.password, 9)
            + cstring(self.system_type, 13)
            + bytes([self.interface_version, self.addr_ton, self.addr_npi])
            + cstring(self.address_range, 41)
        )

    @classmethod
    def decode(cls, body: bytes) -> Bind:
        read = Reader(body)
        return cls(
            system_id=read.cstring(16),
            password=read.cstring(9),
            system_type=read.cstring(13),
            interface_version=read.octet(),
            addr_ton=read.octet(),
            addr_npi=read.octet(),
            address_range=read.cstring(41),
        )


def encode_message_id(message_id: str) -> bytes:
    """The body of bind_*_resp (system_id) and submit_sm_resp/deliver_sm_resp (message_id)."""
    return cstring(message_id, 65)


def decode_message_id(body: bytes) -> str:
    """The first field of a response's body; blank when the body is absent, as the
    specification has it for a response with an error status."""
    return Reader(body).cstring(65) if body else ""


@dataclass
class ShortMessage:
    """The body of submit_sm and deliver_sm, which share their fields."""

    source_addr: str = ""
    destination_addr: str = ""
    short_message: bytes = b""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    service_type: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = DC_DEFAULT
    sm_default_msg_id: int = 0
    tlvs: dict[int, bytes] = field(default_factory=dict)

    def encode(self) -> bytes:
        if len(self.short_message) > 254:
            raise PduError("short_message longer than 254 octets: use message_payload")
        return (
            cstring(self.service_type, 6)
            + bytes([self.source_addr_ton, self.source_addr_npi])
            + cstring(self.source_addr, 21)
            + bytes([self.dest_addr_ton, self.dest_addr_npi])
            + cstring(self.destination_addr, 21)
            + bytes([self.esm_class, self.protocol_id, self.priority_flag])
            + cstring(self.schedule_delivery_time, 17)
            + cstring(self.validity_period, 17)
            + bytes([self.registered_delivery, self.replace_if_present_flag, self.data_coding])
            + bytes([self.sm_default_msg_id, len(self.short_message)])
            + self.short_message
            + encode_tlvs(self.tlvs)
        )

    @classmethod
    def decode(cls, body: bytes) -> ShortMessage:
        read = Reader(body)
        message = cls(service_type=read.cstring(6))
        message.source_addr_ton, message.source_addr_npi = read.octet(), read.octet()
        message.source_addr = read.cstring(21)
        message.dest_addr_ton, message.dest_addr_npi = read.octet(), read.octet()
        message.destination_addr = read.cstring(21)
        message.esm_class, message.protocol_id, message.priority_flag = read.octet(), read.octet(), read.octet()
        message.schedule_delivery_time = read.cstring(17)
        message.validity_period = read.cstring(17)
        message.registered_delivery, message.replace_if_present_flag = read.octet(), read.octet()
        message.data_coding, message.sm_default_msg_id = read.octet(), read.octet()
        message.short_message = read.octets(read.octet())
        message.tlvs = read.tlvs()
        return message

    @property
    def content(self) -> bytes:
        """The message's octets, wherever they were put."""
        return self.tlvs.get(MESSAGE_PAYLOAD, self.short_message)


# --- Text ---------------------------------------------------------------------------

# GSM 03.38 default alphabet, in code order (0x1B is the escape to the extension table).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E}
GSM_EXTENSION |= {"|": 0x40, "€": 0x65}
GSM_ESCAPE = 0x1B
_GSM_CODES = {char: code for code, char in enumerate(GSM_BASIC) if code != GSM_ESCAPE}
_GSM_EXTENDED_CHARS = {code: char for char, code in GSM_EXTENSION.items()}

# A single message's room: 160 septets, or 140 octets of UCS-2 (70 characters).
SINGLE_GSM = 160
SINGLE_UCS2 = 140


def gsm7_encode(text: str) -> bytes | None:
    """The text in GSM 03.38, one septet per octet; None if a character is not in it."""
    encoded = bytearray()
    for char in text:
        if (code := _GSM_CODES.get(char)) is not None:
            encoded.append(code)
        elif (code := GSM_EXTENSION.get(char)) is not None:
            encoded += bytes([GSM_ESCAPE, code])
        else:
            return None
    return bytes(encoded)


def gsm7_decode(data: bytes) -> str:
    chars, escaped = [], False
    for octet in data:
        code = octet & 0x7F
        if escaped:
            # An unknown extension shows as the basic table's character (GSM 03.38 §6.2.1.1).
            chars.append(_GSM_EXTENDED_CHARS.get(code, GSM_BASIC[code]))
            escaped = False
        elif code == GSM_ESCAPE:
            escaped = True
        else:
            chars.append(GSM_BASIC[code])
    return "".join(chars)


def encode_text(text: str) -> tuple[int, bytes]:
    """(data_coding, octets): GSM 03.38 when it can carry the text, else UCS-2."""
    gsm = gsm7_encode(text)
    if gsm is not None:
        return DC_DEFAULT, gsm
    return DC_UCS2, text.encode("utf-16-be")


def fits_short_message(data_coding: int, data: bytes) -> bool:
    """Whether the text fits one message (else it goes in message_payload, which the
    server splits and the phone reassembles)."""
    return len(data) <= (SINGLE_UCS2 if data_coding == DC_UCS2 else SINGLE_GSM)


def decode_text(data_coding: int, data: bytes) -> str:
    if data_coding == DC_UCS2:
        return data.decode("utf-16-be", "replace")
    if data_coding == DC_DEFAULT or (data_coding & 0xF4) == 0xF0:  # 0xF0-0xF3: GSM with a message class
        return gsm7_decode(data)
    if data_coding == DC_IA5:
        return data.decode("ascii", "replace")
    return data.decode("latin-1")
