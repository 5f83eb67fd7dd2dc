"""SMS length: checked against an oracle that really encodes the text and cuts it into parts."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from suffrage.texting.gsm import GSM_BASIC, GSM_EXTENSION, SmsLength, gsm_safe, sms_length

# The oracle's own tables, written from 3GPP TS 23.038 §6.2.1 as code → Unicode code
# point (not copied from gsm.py): 0x1B is the escape, not a character.
ESCAPE = 0x1B
BASIC_CODES = {
    0x00: 0x40, 0x01: 0xA3, 0x02: 0x24, 0x03: 0xA5, 0x04: 0xE8, 0x05: 0xE9, 0x06: 0xF9, 0x07: 0xEC,
    0x08: 0xF2, 0x09: 0xC7, 0x0A: 0x0A, 0x0B: 0xD8, 0x0C: 0xF8, 0x0D: 0x0D, 0x0E: 0xC5, 0x0F: 0xE5,
    0x10: 0x394, 0x11: 0x5F, 0x12: 0x3A6, 0x13: 0x393, 0x14: 0x39B, 0x15: 0x3A9, 0x16: 0x3A0, 0x17: 0x3A8,
    0x18: 0x3A3, 0x19: 0x398, 0x1A: 0x39E, 0x1C: 0xC6, 0x1D: 0xE6, 0x1E: 0xDF, 0x1F: 0xC9,
    0x24: 0xA4, 0x40: 0xA1, 0x5B: 0xC4, 0x5C: 0xD6, 0x5D: 0xD1, 0x5E: 0xDC, 0x5F: 0xA7,
    0x60: 0xBF, 0x7B: 0xE4, 0x7C: 0xF6, 0x7D: 0xF1, 0x7E: 0xFC, 0x7F: 0xE0,
}  # fmt: skip
# The rest of 0x20-0x7F is ASCII at its own code.
BASIC_CODES |= {code: code for code in range(0x20, 0x80) if code not in BASIC_CODES}
EXTENSION_CODES = {0x0A: 0x0C, 0x14: 0x5E, 0x28: 0x7B, 0x29: 0x7D, 0x2F: 0x5C, 0x3C: 0x5B, 0x3D: 0x7E, 0x3E: 0x5D,
                   0x40: 0x7C, 0x65: 0x20AC}  # fmt: skip

ENCODE_BASIC = {chr(point): [code] for code, point in BASIC_CODES.items()}
ENCODE_EXTENSION = {chr(point): [ESCAPE, code] for code, point in EXTENSION_CODES.items()}
GSM_ENCODER = ENCODE_BASIC | ENCODE_EXTENSION

BASIC = "".join(sorted(ENCODE_BASIC))
EXTENSION = "".join(sorted(ENCODE_EXTENSION))
# Common in French texts and outside GSM: accents, ligatures, typography, emoji (two
# UTF-16 code units each).
NON_GSM = "êçôâîûëïÿœŒÊÂÀÈÙ’‘“”«»–—…\u00a0\u202f\t😀👍🗳🇫🇷"


def oracle(text: str) -> SmsLength:
    """Encode for real (septets or UTF-16-BE), then cut into parts without breaking a character."""
    if all(char in GSM_ENCODER for char in text):
        septets = [septet for char in text for septet in GSM_ENCODER[char]]
        # A part may not end on an escape: its code would land in the next part.
        return cut("GSM-7", septets, 160, 153, lambda units, end: units[end - 1] == ESCAPE, ())
    encoded = text.encode("utf-16-be")
    code_units = [int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)]
    culprits = tuple(sorted({char for char in text if char not in GSM_ENCODER}))
    # A part may not end on a high surrogate: its low half would land in the next part.
    return cut("UCS-2", code_units, 70, 67, lambda units, end: 0xD800 <= units[end - 1] <= 0xDBFF, culprits)


def cut(encoding, units, single, part, splits_a_character, culprits) -> SmsLength:
    if len(units) <= single:
        return SmsLength(encoding, len(units), 1 if units else 0, single, single - len(units), culprits)
    parts = []
    rest = units
    while rest:
        end = min(part, len(rest))
        if end < len(rest) and splits_a_character(rest, end):
            end -= 1
        parts.append(rest[:end])
        rest = rest[end:]
    return SmsLength(encoding, len(units), len(parts), part, part - len(parts[-1]), culprits)


def naive_parts(units: int, single: int, part: int) -> int:
    """The count if characters could be cut anywhere."""
    if units == 0:
        return 0
    return 1 if units <= single else math.ceil(units / part)


basic_texts = st.text(alphabet=BASIC, max_size=700)
gsm_texts = st.text(alphabet=st.sampled_from(BASIC + EXTENSION), max_size=700)
# Mostly GSM with a few culprits, so that both encodings and all part counts come up.
mixed_texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(BASIC),
        st.sampled_from(EXTENSION),
        st.sampled_from(NON_GSM),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=400,
)
non_gsm_chars = st.one_of(
    st.sampled_from(NON_GSM), st.characters(exclude_categories=("Cs",)).filter(lambda c: c not in GSM_ENCODER)
)


def test_the_tables_are_those_of_the_standard():
    assert len(BASIC) == 127  # 128 codes, one of which is the escape
    assert len(EXTENSION) == 10
    assert (set(GSM_BASIC), set(GSM_EXTENSION)) == (set(BASIC), set(EXTENSION))


@given(mixed_texts)
def test_agrees_with_the_oracle(text):
    assert sms_length(text) == oracle(text)


@given(gsm_texts)
def test_gsm_texts_agree_with_the_oracle(text):
    assert sms_length(text) == oracle(text)


@given(basic_texts)
def test_a_basic_text_costs_one_septet_per_character(text):
    length = sms_length(text)
    assert (length.encoding, length.units, length.culprits) == ("GSM-7", len(text), ())
    assert length.parts == naive_parts(len(text), 160, 153)


@given(gsm_texts)
def test_extension_characters_count_two_septets(text):
    extension_count = sum(char in EXTENSION for char in text)
    assert sms_length(text).units == len(text) + extension_count


@given(gsm_texts, non_gsm_chars, st.integers(min_value=0))
def test_one_character_outside_gsm_switches_to_ucs2(text, culprit, position):
    position %= len(text) + 1
    length = sms_length(text[:position] + culprit + text[position:])
    assert (length.encoding, length.culprits) == ("UCS-2", (culprit,))
    assert length.units == len(text) + len(culprit.encode("utf-16-be")) // 2


@given(mixed_texts)
def test_parts_are_between_the_naive_count_and_one_unit_lost_per_part(text):
    length = sms_length(text)
    single = 160 if length.encoding == "GSM-7" else 70
    naive = naive_parts(length.units, single, length.per_part)
    # Keeping a character whole wastes at most one unit per part.
    at_most = naive if length.parts <= 1 else math.ceil(length.units / (length.per_part - 1))
    assert naive <= length.parts <= at_most


@given(mixed_texts)
def test_the_last_part_has_room_for_what_remains(text):
    length = sms_length(text)
    assert 0 <= length.remaining <= length.per_part
    assert length.remaining < length.per_part or length.units == 0


@given(mixed_texts)
def test_culprits_are_the_sorted_characters_outside_gsm(text):
    culprits = sms_length(text).culprits
    assert list(culprits) == sorted(set(culprits))
    assert set(culprits) == {char for char in text if char not in GSM_ENCODER}


def runs(value):
    """A short test id for a long text: "a152+€+a10"."""
    if not isinstance(value, str) or len(value) < 20:
        return None
    groups = [(char, len(list(group))) for char, group in itertools.groupby(value)]
    return "+".join(char if count == 1 else f"{char}{count}" for char, count in groups)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts", "per_part", "remaining"),
    [
        ("", "GSM-7", 0, 0, 160, 160),
        ("a" * 160, "GSM-7", 160, 1, 160, 0),
        ("a" * 161, "GSM-7", 161, 2, 153, 145),
        ("a" * 153 * 2, "GSM-7", 306, 2, 153, 0),
        ("a" * (153 * 2 + 1), "GSM-7", 307, 3, 153, 152),
        ("€" * 80, "GSM-7", 160, 1, 160, 0),
        # 76 escape pairs fill 152 septets; the 77th opens the second part.
        ("€" * 80 + "a", "GSM-7", 161, 2, 153, 144),
        # An escape pair at septets 153-154 goes whole to the second part.
        ("a" * 152 + "€" + "a" * 10, "GSM-7", 164, 2, 153, 141),
        # ... which can cost a part: 306 septets, yet three parts.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3, 153, 152),
        ("ê" * 70, "UCS-2", 70, 1, 70, 0),
        ("ê" * 71, "UCS-2", 71, 2, 67, 63),
        ("ê" * 67 * 2, "UCS-2", 134, 2, 67, 0),
        ("ê" * (67 * 2 + 1), "UCS-2", 135, 3, 67, 66),
        ("😀" * 35, "UCS-2", 70, 1, 70, 0),
        # A surrogate pair at code units 67-68 goes whole to the second part.
        ("ê" * 66 + "😀" + "ê" * 10, "UCS-2", 78, 2, 67, 55),
        ("ê" * 66 + "😀" + "ê" * 66, "UCS-2", 134, 3, 67, 66),
    ],
    ids=runs,
)
def test_boundaries(text, encoding, units, parts, per_part, remaining):
    length = sms_length(text)
    assert (length.encoding, length.units, length.parts, length.per_part, length.remaining) == (
        encoding,
        units,
        parts,
        per_part,
        remaining,
    )
    assert length == oracle(text)


def test_a_french_text_with_an_accent_outside_gsm():
    length = sms_length("Rendez-vous à la fête du quartier, samedi 10h !")
    assert (length.encoding, length.culprits, length.parts) == ("UCS-2", ("ê",), 1)


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("C’est l’heure", "C'est l'heure"),
        ("« Votez ! »", '" Votez ! "'),
        ("“Oui”", '"Oui"'),
        ("9h–12h — place", "9h-12h - place"),
        ("Merci…", "Merci..."),
        ("Venez\u00a0! Vraiment\u202f?", "Venez ! Vraiment ?"),
        ("mot\u200bcollé", "motcollé"),
    ],
)
def test_gsm_safe_replaces_typography(typed, suggested):
    assert gsm_safe(typed) == suggested


def test_gsm_safe_leaves_letters_to_the_author():
    assert gsm_safe("fête, garçon, cœur, Œuvre, côte") == "fête, garçon, cœur, Œuvre, côte"


@given(gsm_texts)
def test_gsm_safe_does_not_touch_gsm_texts(text):
    assert gsm_safe(text) == text


@given(st.text(alphabet=st.sampled_from(BASIC + EXTENSION + "’‘“”«»–—…\u00a0\u202f\u2009"), max_size=200))
def test_gsm_safe_makes_typography_gsm(text):
    assume(any(char not in GSM_ENCODER for char in text))
    assert sms_length(gsm_safe(text)).encoding == "GSM-7"
