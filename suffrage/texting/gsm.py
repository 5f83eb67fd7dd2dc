"""How many SMS a text costs: GSM 03.38 septets or UCS-2 code units, and concatenated parts.

Operators bill per part, so the composer shows the count live (static/texting/sms-counter.js
applies the same rules; tests/e2e/test_sms_counter.py checks that both agree).

Source: 3GPP TS 23.038 ("Alphabets and language-specific information"), section 6.2.1
"GSM 7 bit Default Alphabet" (basic table) and 6.2.1.1 "GSM 7 bit default alphabet
extension table"; the part sizes follow from the 140-octet user data of TS 23.040 minus
the 6-octet concatenation header (UDH): 160 → 153 septets, 70 → 67 UCS-2 code units.
National language shift tables (TS 23.038 annex A) are not used: French operators and
gateways do not apply them, and they would not help French accents anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# The basic table in code order, 0x00 to 0x7F. Position 0x1B is the escape to the
# extension table, not a character: 127 printable characters (with \n and \r).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # the escape (0x1B) sits between Ξ and Æ
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Reached through the escape: each costs two septets (escape + code).
GSM_EXTENSION = "\f^{}\\[~]|€"

_GSM_BASIC_SET = frozenset(GSM_BASIC)
_GSM_EXTENSION_SET = frozenset(GSM_EXTENSION)

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsLength:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int
    per_part: int  # the limit in force: 160/153 (GSM-7) or 70/67 (UCS-2)
    remaining: int  # units still free in the last part
    culprits: tuple[str, ...]  # characters that force UCS-2, sorted; empty for GSM-7


def sms_length(text: str) -> SmsLength:
    """The cost of `text` exactly as it will be sent (suffix included by the caller).

    Newlines count as they are: a browser submits a textarea's line breaks as "\\r\\n",
    two septets, while the live counter sees "\\n"; normalise before measuring.
    """
    culprits = tuple(sorted({char for char in text if not is_gsm(char)}))
    if culprits:
        return _measure("UCS-2", [_utf16_units(char) for char in text], UCS2_SINGLE, UCS2_PART, culprits)
    return _measure("GSM-7", [_septets(char) for char in text], GSM_SINGLE, GSM_PART, ())


def is_gsm(char: str) -> bool:
    return char in _GSM_BASIC_SET or char in _GSM_EXTENSION_SET


def _septets(char: str) -> int:
    return 2 if char in _GSM_EXTENSION_SET else 1


def _utf16_units(char: str) -> int:
    # Outside the Basic Multilingual Plane (most emoji) a character is a surrogate pair.
    return 2 if ord(char) > 0xFFFF else 1


def _measure(encoding: Encoding, widths: list[int], single: int, part: int, culprits: tuple[str, ...]) -> SmsLength:
    units = sum(widths)
    if units <= single:
        parts = 1 if units else 0
        return SmsLength(encoding, units, parts, single, single - units, culprits)
    parts, last_fill = _fill_parts(widths, part)
    return SmsLength(encoding, units, parts, part, part - last_fill, culprits)


def _fill_parts(widths: list[int], part: int) -> tuple[int, int]:
    """Parts needed and the fill of the last one, filling greedily.

    A character is never cut across two parts (an escape and its code, or the two
    halves of a surrogate pair, travel together), so a part may end one unit short
    and the count can exceed ceil(units / part).
    """
    parts, fill = 1, 0
    for width in widths:
        if fill + width > part:
            parts, fill = parts + 1, 0
        fill += width
    return parts, fill


# Typography that word processors and phones put in for the author (curly quotes, dashes,
# non-breaking spaces before French punctuation) and that alone switches a text to UCS-2,
# more than doubling its cost. Letters (ê, ç, œ…) are not touched: spelling is the
# author's choice, the composer only suggests.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u2032": "'",  # ′
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
        "\u2033": '"',  # ″
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # –
        "\u2014": "-",  # —
        "\u2212": "-",  # minus sign
        "\u2026": "...",  # …
        "\u00a0": " ",  # no-break space
        "\u2007": " ",  # figure space
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space (before ; : ! ? in French)
        "\u200b": None,  # zero-width space: invisible, yet it costs the whole message UCS-2
        "\ufeff": None,  # byte order mark pasted from a file
    }
)


def gsm_safe(text: str) -> str:
    """The text with its typographic culprits replaced by their GSM look-alikes."""
    return text.translate(_TYPOGRAPHY)
