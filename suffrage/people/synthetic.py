"""Fictitious French contacts for the demo campaign and the benchmarks.

Names are drawn from real frequencies (data/README.md), so lists and searches
behave as with a real base; every person is invented.
"""

from __future__ import annotations

import csv
import datetime
import random
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
BREST_POSTCODES = ("29200", "29200", "29200", "29238")
EMAIL_DOMAINS = ("example.org", "example.net", "example.com")
# Metropolitan mobile prefixes (0639 and 0690 to 0697 belong to overseas departments).
MOBILE_PREFIXES = [f"06 {n}" for n in range(10, 90) if n != 39] + [f"07 {n}" for n in range(50, 90)]


@cache
def _first_names() -> dict[str, tuple[list[str], list[int]]]:
    names: dict[str, tuple[list[str], list[int]]] = {"F": ([], []), "M": ([], [])}
    with (DATA / "prenoms.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            names[row["sex"]][0].append(row["name"])
            names[row["sex"]][1].append(int(row["n"]))
    return names


@cache
def _lines(name: str) -> list[str]:
    return [line.strip() for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def street_names() -> list[str]:
    """Brest's street names (data/README.md): the demo's addresses."""
    return _lines("brest_streets.txt")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c in "-.")


def synthetic_contacts(count: int, *, seed: int = 2027) -> Iterator[dict[str, str]]:
    """Rows with the columns of a typical contact export (French headers' meaning)."""
    rng = random.Random(seed)
    surnames, streets = _lines("surnames.txt"), _lines("brest_streets.txt")
    for index in range(count):
        sex = rng.choice("FM")
        names, weights = _first_names()[sex]
        first = rng.choices(names, weights)[0]
        last = rng.choice(surnames)
        born = datetime.date(1930, 1, 1) + datetime.timedelta(days=rng.randrange(0, 76 * 365))
        yield {
            "civility": "Mme" if sex == "F" else "M",
            "first_names": first,
            "last_name": last,
            "birth_date": born.strftime("%d/%m/%Y"),
            "email": f"{_ascii(first)}.{_ascii(last).replace(' ', '')}{index}@{rng.choice(EMAIL_DOMAINS)}",
            "phone": f"{rng.choice(MOBILE_PREFIXES)} {rng.randrange(10, 100)} {rng.randrange(10, 100)} {index % 100:02d}",  # noqa: E501
            "number": str(rng.randrange(1, 120)),
            "street": rng.choice(streets),
            "postcode": rng.choice(BREST_POSTCODES),
            "town": "Brest",
        }


# The file's columns: (header, key in synthetic_contacts rows, import target).
CSV_COLUMNS = [
    ("Civilité", "civility", "civility"),
    ("Prénom", "first_names", "first_names"),
    ("Nom", "last_name", "usage_name"),
    ("Date de naissance", "birth_date", "birth_date"),
    ("Courriel", "email", "email"),
    ("Portable", "phone", "phone"),
    ("N°", "number", "number"),
    ("Voie", "street", "street"),
    ("CP", "postcode", "postcode"),
    ("Ville", "town", "town"),
]
CSV_HEADERS = [header for header, _key, _target in CSV_COLUMNS]
CSV_MAPPING = [target for _header, _key, target in CSV_COLUMNS]


def write_contacts_csv(path: Path, count: int, *, seed: int = 2027) -> None:
    """A `;`-separated UTF-8 file as a campaign would export it from a spreadsheet."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(CSV_HEADERS)
        for row in synthetic_contacts(count, seed=seed):
            writer.writerow(row[key] for _header, key, _target in CSV_COLUMNS)
