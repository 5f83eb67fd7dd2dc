"""French-aware preparation of names, birth dates and addresses for matching people
to roll entries. Both sides go through the same functions, so a comparison never
depends on how a town hall or a web form wrote a name.

"Le Goff", "LE GOFF", "Le-Goff" and "Legoff" give the same surname key; leading
particles ("de", "d'", "du", "de la") are dropped; given names are split into
their parts so "Jean" can be recognised in "JEAN-PIERRE" or "JEAN PIERRE MARIE".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from suffrage.imports.normalise import search_key
from suffrage.territory.geometry import number_key, street_key

LEADING_PARTICLES = ("de la ", "de l ", "des ", "du ", "de ", "d ")
PARTIAL_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$")
ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")


def surname_key(text: str) -> str:
    """One word, letters only: "d'Arvor" -> "arvor", "LE GOFF" -> "legoff"."""
    folded = search_key(text.replace("'", " ").replace("’", " "))
    for particle in LEADING_PARTICLES:
        if folded.startswith(particle) and len(folded) > len(particle) + 1:
            folded = folded[len(particle) :]
            break
    return folded.replace(" ", "")


def given_names(text: str) -> list[str]:
    """The given names as keys, compounds kept whole and also split:
    "Jean-Pierre Marie" -> ["jeanpierre", "jean", "pierre", "marie"]."""
    names: list[str] = []
    for written in text.replace(",", " ").split():
        parts = [search_key(part) for part in written.split("-") if search_key(part)]
        whole = "".join(parts)
        for name in [whole, *parts] if len(parts) > 1 else parts:
            if name and name not in names:
                names.append(name.replace(" ", ""))
    return names


def first_given_name(text: str) -> str:
    names = given_names(text)
    return names[0] if names else ""


@dataclass(frozen=True)
class BirthDate:
    """A birth date as far as it is known: rolls write "00/00/1950" for some people born abroad."""

    year: int | None = None
    month: int | None = None
    day: int | None = None

    @property
    def iso(self) -> str | None:
        if self.year and self.month and self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        return None


def birth_date(text: str) -> BirthDate:
    """Day first (JJ/MM/AAAA) or ISO; zeros mean unknown parts. Unreadable gives an empty date."""
    if match := PARTIAL_DATE.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        return BirthDate()
    return BirthDate(year or None, month if 1 <= month <= 12 else None, day if 1 <= day <= 31 else None)


def prepared(
    *,
    unique_id: str,
    first_names: str,
    birth_name: str,
    usage_name: str,
    born: BirthDate,
    number: str,
    street: str,
    postcode: str,
    commune: str,
    identifier: str = "",
) -> dict[str, object]:
    """One record in the shape the matching model reads (the same for a person and an entry)."""
    names = given_names(first_names)
    surname = surname_key(birth_name) or surname_key(usage_name)
    usage = surname_key(usage_name) if birth_name else ""
    return {
        "unique_id": unique_id,
        "first_name": names[0] if names else None,
        "given_names": names or None,
        "surname": surname or None,
        # The other name a person is known by (usage name of a married person); None when the same.
        "other_surname": usage if usage and usage != surname else None,
        "birth_date": born.iso,
        "birth_year": born.year,
        "birth_month": born.month,
        "birth_day": born.day,
        "street": street_key(street) or None,
        "house": (number_key(number) + "|" + street_key(street)) if number and street else None,
        "postcode": postcode.strip() or None,
        "commune": search_key(commune) or None,
        "identifier": identifier.strip() or None,
    }
