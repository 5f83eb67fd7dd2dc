"""Turning what people type (or what Excel exports) into clean contact data.

Each normaliser takes text and returns the clean value, an empty value for a
blank input (blanks are allowed everywhere; whether a field is required is the
caller's business), or raises InvalidValue with a message for the user.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
PARTICLES = {"de", "du", "des"}  # lowercase inside a name: "Charles de Gaulle"
APOSTROPHES = "'\u2019"  # typewriter and typographic
CIVILITIES = {
    **dict.fromkeys(("m", "mr", "monsieur", "h", "homme"), "M"),
    **dict.fromkeys(("mme", "madame", "mrs", "ms", "mlle", "mademoiselle", "f", "femme"), "Mme"),
}
TRUE_WORDS = {"1", "oui", "yes", "true", "vrai", "x", "o", "y"}
FALSE_WORDS = {"0", "non", "no", "false", "faux", "n"}

# Letters NFKD does not take apart.
LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ẞ": "ss"})
# Word separators in names and emails: "Le Goff-Kerjean", "d'Arc", "jean_pierre".
# (Escaped: hyphens, dashes and apostrophes other than ASCII's look alike in source.)
SEPARATORS = re.compile("[_.\\-\u2010\u2011\u2012\u2013\u2014'\u2018\u2019\u02bc`\u00b4]")
NOT_WORD = re.compile(r"[^\w\s]")  # \w is what str.isalnum() accepts, plus "_" (already a space here)
NAME_PARTS = re.compile("([\\s\\-'\u2019])")
DAY_FIRST = re.compile(r"([0-9]{1,2})([/.\-])([0-9]{1,2})\2([0-9]+)")
ISO_DATE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
FRENCH_POSTCODE = re.compile(r"[0-9]{4,5}")


class InvalidValue(ValueError):
    """str(exc) is a clear user-facing message (translatable), e.g. 'not a valid email address'."""


@dataclass(frozen=True)
class Phone:
    e164: str  # "+33612345678"
    kind: str  # "mobile", "landline" or "other"
    sms_capable: bool  # True for mobile numbers


def search_key(text: str) -> str:
    """The form of a name or word used to search and to spot duplicates: lowercase,
    without accents or punctuation, single spaces. "Le Goff-Kérjean" -> "le goff kerjean"."""
    key = _fold(text)
    # Decomposing can bring out letters that need folding again ("ᴬ" -> "A",
    # "ǣ" -> "æ"): fold until nothing changes, so that a key is always its own key.
    # Twice is enough for every code point; the bound is a safety net.
    for _attempt in range(5):
        folded = _fold(key)
        if folded == key:
            break
        key = folded
    return key


def _fold(text: str) -> str:
    # casefold() merges more than lower() (the two Greek sigmas), but folds Cherokee to capitals:
    # lower() after it brings those back.
    text = unicodedata.normalize("NFKD", text.translate(LIGATURES).casefold().lower())
    text = SEPARATORS.sub(" ", text)
    # Letters, digits and spaces stay; combining marks (the accents NFKD split off)
    # and other punctuation or symbols go.
    return " ".join(NOT_WORD.sub("", text).split())


def normalise_name(text: str) -> str:
    """Tidy spacing; write a name typed all in capitals or all in lowercase in name
    case ("JEAN-PIERRE" -> "Jean-Pierre", "d'ARC" -> "d'Arc"). A name in mixed case
    ("McDonald", "Jean DUPONT") is kept as typed: we cannot know better."""
    name = " ".join(text.split())
    parts = NAME_PARTS.split(name)
    # A lowercase particle is not "mixed case": "d'ARC" was typed in capitals.
    significant = "".join(part for index, part in enumerate(parts) if not _is_particle(parts, index))
    if significant.isupper() or significant.islower():
        return _name_case(name)
    return name


def _name_case(name: str) -> str:
    parts = NAME_PARTS.split(name.lower())
    words_before = 0
    for index, part in enumerate(parts):
        if not part or NAME_PARTS.fullmatch(part):
            continue
        # "de", "du", "des" start with a capital when they start the name ("De Gaulle" on its own).
        if not (_is_particle(parts, index) and (part == "d" or words_before)):
            parts[index] = part[:1].upper() + part[1:]
        words_before += 1
    return "".join(parts)


def _is_particle(parts: list[str], index: int) -> bool:
    """Whether parts[index] is "de", "du", "des", or an elided "d'" (parts come from NAME_PARTS.split)."""
    part = parts[index]
    if part == "d":
        return index + 1 < len(parts) and parts[index + 1] in APOSTROPHES
    return part in PARTICLES


def normalise_email(text: str) -> str:
    """The address in lowercase; "" for a blank."""
    email = text.strip().lower()
    if not email:
        return ""
    # Django accepts a quoted local part ("a@b"@example.org); no campaign needs one,
    # and refusing it keeps "one @ per address" true for everything stored.
    if email.count("@") != 1 or '"' in email:
        raise _invalid_email(text)
    try:
        validate_email(email)
    except ValidationError:
        raise _invalid_email(text) from None
    return email


def _invalid_email(text: str) -> InvalidValue:
    return InvalidValue(_("%(value)s is not a valid email address.") % {"value": _shown(text)})


def normalise_phone(text: str, *, default_region: str = "FR") -> Phone | None:
    """The number in international form with its kind; None for a blank.

    Numbers without a country code are read as numbers of `default_region`.
    """
    raw = text.strip()
    if not raw:
        return None
    # "+33 (0)6 12 34 56 78": the bracketed trunk zero is dropped when dialling from abroad.
    raw = raw.replace("(0)", " ")
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise _invalid_phone(text) from None
    if not phonenumbers.is_valid_number(number):
        raise _invalid_phone(text)
    number_type = phonenumbers.number_type(number)
    if number_type in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        kind = "mobile"
    elif number_type == phonenumbers.PhoneNumberType.FIXED_LINE:
        kind = "landline"
    else:
        kind = "other"
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        kind=kind,
        # Only a number known to be a mobile: texting a landline is money wasted.
        sms_capable=number_type == phonenumbers.PhoneNumberType.MOBILE,
    )


def _invalid_phone(text: str) -> InvalidValue:
    return InvalidValue(_("%(value)s is not a valid phone number.") % {"value": _shown(text)})


def normalise_postcode(text: str, *, country: str = "FR") -> str:
    """A French postcode as its five digits; other countries' uppercased. "" for a blank."""
    if country.upper() != "FR":
        return " ".join(text.split()).upper()
    digits = "".join(text.split())
    if not digits:
        return ""
    if not FRENCH_POSTCODE.fullmatch(digits):
        raise InvalidValue(_("%(value)s is not a valid French postcode (five digits).") % {"value": _shown(text)})
    # Excel stores 01000 as the number 1000: put the leading zero back.
    postcode = digits.zfill(5)
    if postcode.startswith("00"):
        raise InvalidValue(_("%(value)s is not a valid French postcode (five digits).") % {"value": _shown(text)})
    return postcode


def parse_date(text: str) -> datetime.date | None:
    """A birth date written day first (31/12/1980, 31-12-1980, 31.12.1980) or in ISO
    form (1980-12-31, with or without a time); None for a blank."""
    value = text.strip()
    if not value:
        return None
    if day_first := DAY_FIRST.fullmatch(value):
        day, _separator, month, year = day_first.groups()
    elif iso := ISO_DATE.fullmatch(value):
        year, month, day = iso.groups()
    else:
        raise InvalidValue(_("%(value)s is not a date: write it as DD/MM/YYYY.") % {"value": _shown(text)})
    if len(year) != 4:
        # 01/02/30 could be 1930 or 2030: guessing would invent birth dates.
        raise InvalidValue(
            _("%(value)s has a year that is not written in full: write all four digits, e.g. 1987.")
            % {"value": _shown(text)}
        )
    try:
        date = datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise InvalidValue(_("%(value)s is not a date that exists.") % {"value": _shown(text)}) from None
    if not EARLIEST_BIRTH_DATE <= date <= timezone.localdate():
        raise InvalidValue(
            _("%(value)s is not a possible birth date: it must be between 1900 and today.") % {"value": _shown(text)}
        )
    return date


def normalise_civility(text: str) -> str:
    """ "M" or "Mme" from the many ways of writing them; "" for a blank."""
    key = search_key(text)
    if not key:
        return ""
    try:
        return CIVILITIES[key]
    except KeyError:
        raise InvalidValue(_("%(value)s is not a known civility: use M or Mme.") % {"value": _shown(text)}) from None


def parse_bool(text: str) -> bool | None:
    """Yes or no from the ways French and English spreadsheets write them; None for a blank."""
    key = search_key(text)
    if not key:
        return None
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    raise InvalidValue(_("%(value)s is not yes or no: use oui or non.") % {"value": _shown(text)})


def _shown(text: str, length: int = 60) -> str:
    """A value quoted in a message, cut short so that a hostile one cannot flood it."""
    text = text.strip()
    return f"“{text}”" if len(text) <= length else f"“{text[:length]}…”"
