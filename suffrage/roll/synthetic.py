"""Synthetic French electoral rolls, and the noisy web signups a campaign would collect.

Everything here is fictitious: no real elector is read or reproduced. The rolls use the
column layout of the electoral-list transmission format (arrêté du 12 novembre 2013,
article 2) and realistic distributions, so that imports, searches and record linkage can
be demonstrated, tested and benchmarked on something that behaves like a real roll:

- ages 18–100 drawn from a rounded French age pyramid, by sex;
- first names drawn by birth decade and sex from INSEE's "Fichier des prénoms" (data/README.md);
- surnames with a long tail: the project's common names (Zipf–Mandelbrot weights) plus
  generated French and Breton names, so that most surnames of a large roll are rare;
- usage names (spouse's name) for married women, households sharing an address,
  people born abroad, a few EU citizens on the complementary lists, partial birth dates.

Generation is deterministic for a seed, streaming (constant memory) and takes about 25 µs a row.
The small tables below are written from general knowledge, rounded, and only meant to look
plausible; they are not statistics to quote.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import itertools
import math
import operator
import random
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Generic, TypeVar

__all__ = [
    "OFFICIAL_COLUMNS",
    "RollStation",
    "Signup",
    "noisy_signups",
    "synthetic_roll",
    "write_roll_csv",
]

DATA = Path(__file__).parent / "data"
COMMON_SURNAMES = Path(__file__).parent.parent / "people" / "data" / "surnames.txt"

OFFICIAL_COLUMNS: list[str] = [
    "TypeListe",
    "InfoListe",
    "DateCreationListe",
    "CodeDepartement",
    "CodeCommune",
    "NomCommune",
    "NoElecteurGeneral",
    "Sexe",
    "NomdeNaissance",
    "NomDusage",
    "Prenoms",
    "DateDeNaissance",
    "NomComNaissance",
    "DeptNaissance",
    "PaysNaissance",
    "Nationalite",
    "NomBureauDeVote",
    "NoBureauDeVote",
    "CodeCanton",
    "CodeCirconscription",
    "ComplementDeLocalisation1",
    "ComplementDeLocalisation2",
    "NumeroVoie",
    "TypeVoie",
    "LibelleVoie",
    "LieuDit",
    "CodePostal",
    "VilleLocalite",
    "Pays",
]

# Shares (of rows unless stated). Kept here so that a benchmark can quote them.
NO_ACCENT_ROWS = 0.30  # rows written without accents, as some municipal software exports them
BORN_ABROAD = 0.25  # of French electors (the brief's figure; real rolls are nearer 10 %)
PARTIAL_BIRTH_DATE = 0.001  # "00/00/1950": only people born abroad, so 0.4 % of them
EU_ELECTORS = 0.008  # households of EU citizens on a complementary list (LCE / LCM)
COMPOUND_FIRST_NAMES = 0.08  # hyphenated (from the data) or 2–3 given names
USAGE_NAME_MEN = 0.02
# InfoListe ("liste électorale" or "tableau" in real files) labels the file synthetic, which importers detect.
LIST_INFO = "LISTE ELECTORALE SYNTHETIQUE"

T = TypeVar("T")
_bisect = bisect.bisect_right


class _Picker(Generic[T]):
    """Weighted draws with precomputed cumulative weights (one random number, one bisection)."""

    __slots__ = ("cumulative", "items")

    def __init__(self, items: Iterable[T], weights: Iterable[float]) -> None:
        values = tuple(items)
        cumulative = list(itertools.accumulate(weights))
        if not values or len(values) != len(cumulative) or cumulative[-1] <= 0:
            raise ValueError("a weighted draw needs items with positive total weight")
        self.cumulative = [weight / cumulative[-1] for weight in cumulative]
        self.items = (*values, values[-1])  # the last one again, should rounding put a draw past the end

    def __call__(self, rng: random.Random) -> T:
        return self.items[_bisect(self.cumulative, rng.random())]


def _zipf(count: int, offset: float = 0.0, exponent: float = 1.0) -> list[float]:
    """Zipf–Mandelbrot weights 1 / (rank + offset) ** exponent for ranks 1..count."""
    return [1.0 / (rank + offset) ** exponent for rank in range(1, count + 1)]


# ---------------------------------------------------------------------------------------
# Text helpers


def _strip_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):  # Latin-1 Supplement and Latin Extended-A and B: "É", "Ç", "Ś"…
        base = unicodedata.normalize("NFKD", chr(code))[0]
        if base.isascii() and base.isalpha():
            table[code] = base
    table.update({ord("Œ"): "OE", ord("œ"): "oe", ord("Æ"): "AE", ord("æ"): "ae", ord("ß"): "ss"})
    table.update({ord("Ł"): "L", ord("ł"): "l"})
    return table


_NO_ACCENTS = _strip_table()


def _plain(text: str) -> str:
    """Accents dropped ("FRANÇOISE" → "FRANCOISE")."""
    return text.translate(_NO_ACCENTS)


def _has_accent(text: str) -> bool:
    return text != text.translate(_NO_ACCENTS)


def _fold(text: str) -> str:
    """Comparison key: upper-case, no accents, hyphens and apostrophes as spaces."""
    return " ".join(_plain(text).upper().replace("-", " ").replace("'", " ").split())


_LOWER_PARTICLES = frozenset({"DE", "DU", "DES", "D'", "DA", "DOS", "VAN", "VON"})
_LOWER_WORDS = frozenset({"DE", "DU", "DES", "LA", "LE", "LES", "L'", "D'", "ET", "AU", "AUX", "SUR", "SOUS", "EN"})


def _capitalize_token(token: str) -> str:
    return token[:1].upper() + token[1:].lower()


def _proper(text: str, small: frozenset[str], keep_first: bool = True) -> str:
    """Upper-case roll text as people write it: "SAINT-POL-DE-LEON" → "Saint-Pol-de-Leon"; after a street
    type (keep_first=False) "DE LA PORTE" → "de la Porte"."""
    words = []
    for position, word in enumerate(text.split(" ")):
        parts = []
        for index, part in enumerate(word.split("-")):
            lowered = (position or index or not keep_first) and part.upper() in small
            parts.append(part.lower() if lowered else _capitalize_token(part))
        words.append("-".join(parts))
    return " ".join(words)


def _proper_surname(text: str) -> str:
    """Surnames as people write them: "LE GALL" → "Le Gall", "DE KERBELEC" → "de Kerbelec"."""
    words = text.split(" ")
    out = []
    for position, word in enumerate(words):
        if word.upper() in _LOWER_PARTICLES and position < len(words) - 1:
            out.append(word.lower())
        else:
            out.append("-".join(_capitalize_token(part) for part in word.split("-")))
    return " ".join(out)


def _proper_given(text: str) -> str:
    return " ".join("-".join(_capitalize_token(part) for part in word.split("-")) for word in text.split(" "))


# ---------------------------------------------------------------------------------------
# Reference tables

# Thousands of residents per year of age, France around 2024, by band of age: (first age, men, women).
_PYRAMID = (
    (18, 420, 400),
    (20, 400, 390),
    (25, 375, 385),
    (30, 385, 405),
    (35, 405, 425),
    (40, 410, 425),
    (45, 420, 430),
    (50, 430, 445),
    (55, 425, 445),
    (60, 400, 430),
    (65, 370, 410),
    (70, 345, 400),
    (75, 280, 345),
    (80, 175, 245),
    (85, 100, 175),
    (90, 40, 95),
    (95, 9, 30),
    (100, 1, 4),
)
MIN_AGE, MAX_AGE = 18, 100

# Share of women with a usage name (spouse's name), by first age of band: married, widowed or
# divorced women who kept it; lower for the young.
_USAGE_NAME_WOMEN = ((25, 0.15), (30, 0.30), (35, 0.42), (45, 0.50), (65, 0.56))

# Birth places in France: (commune, département, weight). Paris is split into arrondissements.
_FRENCH_BIRTHPLACES = (
    ("Paris", "75", 90),
    ("Marseille", "13", 35),
    ("Lyon", "69", 28),
    ("Toulouse", "31", 22),
    ("Nice", "06", 16),
    ("Nantes", "44", 22),
    ("Strasbourg", "67", 14),
    ("Montpellier", "34", 12),
    ("Bordeaux", "33", 16),
    ("Lille", "59", 16),
    ("Rennes", "35", 32),
    ("Reims", "51", 8),
    ("Le Havre", "76", 9),
    ("Saint-Étienne", "42", 8),
    ("Toulon", "83", 10),
    ("Grenoble", "38", 8),
    ("Dijon", "21", 7),
    ("Angers", "49", 9),
    ("Nîmes", "30", 6),
    ("Clermont-Ferrand", "63", 7),
    ("Le Mans", "72", 7),
    ("Aix-en-Provence", "13", 5),
    ("Tours", "37", 7),
    ("Amiens", "80", 6),
    ("Limoges", "87", 6),
    ("Metz", "57", 6),
    ("Caen", "14", 8),
    ("Rouen", "76", 8),
    ("Nancy", "54", 7),
    ("Orléans", "45", 6),
    ("Besançon", "25", 5),
    ("Poitiers", "86", 5),
    ("La Rochelle", "17", 5),
    ("Cherbourg-en-Cotentin", "50", 6),
    ("Versailles", "78", 5),
    ("Boulogne-Billancourt", "92", 4),
    ("Saint-Brieuc", "22", 14),
    ("Lannion", "22", 6),
    ("Guingamp", "22", 5),
    ("Lorient", "56", 16),
    ("Vannes", "56", 11),
    ("Pontivy", "56", 4),
    ("Saint-Malo", "35", 7),
    ("Laval", "53", 4),
    ("Quimper", "29", 8),
    ("Brest", "29", 10),
    ("Saint-Denis", "974", 4),
    ("Fort-de-France", "972", 3),
    ("Pointe-à-Pitre", "971", 3),
    ("Ajaccio", "2A", 2),
    ("Bastia", "2B", 2),
)
# Towns of a few départements for people born near where they vote (Brest's maternity
# hospitals see most births of north Finistère, hence its weight).
_LOCAL_BIRTHPLACES = {
    "29": (
        ("Brest", 60),
        ("Quimper", 30),
        ("Morlaix", 16),
        ("Landerneau", 12),
        ("Concarneau", 7),
        ("Douarnenez", 7),
        ("Quimperlé", 6),
        ("Landivisiau", 6),
        ("Carhaix-Plouguer", 5),
        ("Châteaulin", 4),
        ("Pont-l'Abbé", 4),
        ("Lesneven", 4),
        ("Saint-Pol-de-Léon", 4),
        ("Crozon", 3),
        ("Plougastel-Daoulas", 3),
        ("Guipavas", 3),
        ("Plouzané", 2),
        ("Saint-Renan", 2),
        ("Le Relecq-Kerhuon", 2),
        ("Ploudalmézeau", 2),
    ),
    "35": (("Rennes", 60), ("Saint-Malo", 15), ("Fougères", 8), ("Vitré", 7), ("Redon", 5)),
    "56": (("Lorient", 35), ("Vannes", 30), ("Pontivy", 10), ("Auray", 6), ("Ploërmel", 5)),
    "22": (("Saint-Brieuc", 40), ("Lannion", 15), ("Guingamp", 12), ("Dinan", 10), ("Paimpol", 5)),
}
# Countries of birth of French electors born abroad (INSEE's spelling), weight, towns.
_FOREIGN_BIRTHPLACES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("ALGERIE", 30, ("ALGER", "ORAN", "CONSTANTINE", "ANNABA", "TLEMCEN", "SETIF", "BLIDA")),
    ("MAROC", 18, ("CASABLANCA", "RABAT", "MARRAKECH", "FES", "MEKNES", "OUJDA", "AGADIR")),
    ("TUNISIE", 8, ("TUNIS", "SFAX", "SOUSSE", "BIZERTE")),
    ("ALLEMAGNE", 5, ("BADEN-BADEN", "FRIBOURG-EN-BRISGAU", "TREVES", "BERLIN", "LANDAU")),
    ("PORTUGAL", 6, ("LISBONNE", "PORTO", "BRAGA", "COIMBRA")),
    ("ESPAGNE", 4, ("MADRID", "BARCELONE", "VALENCE", "SEVILLE")),
    ("ITALIE", 4, ("ROME", "NAPLES", "TURIN", "MILAN")),
    ("BELGIQUE", 3, ("BRUXELLES", "LIEGE", "NAMUR")),
    ("SENEGAL", 4, ("DAKAR", "SAINT-LOUIS", "THIES")),
    ("DJIBOUTI", 2, ("DJIBOUTI",)),
    ("COTE D'IVOIRE", 3, ("ABIDJAN", "BOUAKE")),
    ("CAMEROUN", 3, ("DOUALA", "YAOUNDE")),
    ("MADAGASCAR", 3, ("ANTANANARIVO", "TOAMASINA", "MAHAJANGA")),
    ("VIET NAM", 2, ("HANOI", "HO CHI MINH-VILLE")),
    ("TURQUIE", 2, ("ISTANBUL", "ANKARA")),
    ("CONGO", 1, ("BRAZZAVILLE", "POINTE-NOIRE")),
    ("CONGO (REP. DEM.)", 2, ("KINSHASA", "LUBUMBASHI")),
    ("MALI", 1, ("BAMAKO",)),
    ("COMORES", 1, ("MORONI",)),
    ("HAITI", 1, ("PORT-AU-PRINCE",)),
    ("LIBAN", 1, ("BEYROUTH",)),
    ("SUISSE", 2, ("GENEVE", "LAUSANNE")),
    ("ROYAUME-UNI", 2, ("LONDRES",)),
    ("ETATS-UNIS", 2, ("NEW YORK", "WASHINGTON")),
    ("CANADA", 1, ("MONTREAL", "QUEBEC")),
    ("POLOGNE", 1, ("VARSOVIE",)),
    ("ROUMANIE", 1, ("BUCAREST",)),
)
# EU citizens on complementary lists: nationality, country of birth, weight, towns,
# female and male first names, surnames.
_EU_CITIZENS = (
    (
        "PORTUGAISE",
        "PORTUGAL",
        30,
        ("LISBONNE", "PORTO", "BRAGA", "GUIMARAES"),
        ("Maria", "Ana", "Sandra", "Sofia", "Paula", "Fátima"),
        ("José", "António", "Manuel", "João", "Carlos", "Paulo"),
        ("da Silva", "dos Santos", "Pereira", "Ferreira", "Rodrigues", "Martins", "Fernandes", "Gonçalves"),
    ),
    (
        "ESPAGNOLE",
        "ESPAGNE",
        14,
        ("MADRID", "BARCELONE", "VALENCE", "BILBAO"),
        ("María", "Carmen", "Ana", "Laura", "Elena", "Isabel"),
        ("José", "Antonio", "Juan", "Manuel", "Francisco", "Javier"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez"),
    ),
    (
        "ITALIENNE",
        "ITALIE",
        14,
        ("ROME", "NAPLES", "TURIN", "MILAN"),
        ("Giulia", "Francesca", "Chiara", "Sara", "Anna", "Maria"),
        ("Marco", "Luca", "Alessandro", "Giuseppe", "Francesco", "Andrea"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"),
    ),
    (
        "ALLEMANDE",
        "ALLEMAGNE",
        12,
        ("BERLIN", "HAMBOURG", "MUNICH", "COLOGNE"),
        ("Anna", "Julia", "Sabine", "Katharina", "Monika", "Ursula"),
        ("Thomas", "Michael", "Stefan", "Andreas", "Markus", "Jan"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann"),
    ),
    (
        "BELGE",
        "BELGIQUE",
        10,
        ("BRUXELLES", "LIEGE", "NAMUR", "GAND"),
        ("Marie", "Sophie", "Julie", "Nathalie", "An", "Els"),
        ("Pierre", "Jean", "Luc", "Marc", "Pieter", "Koen"),
        ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Dubois", "Lambert"),
    ),
    (
        "ROUMAINE",
        "ROUMANIE",
        8,
        ("BUCAREST", "CLUJ-NAPOCA", "IASI", "TIMISOARA"),
        ("Maria", "Elena", "Ioana", "Andreea", "Ana", "Mihaela"),
        ("Andrei", "Alexandru", "Ionut", "Mihai", "Stefan", "Florin"),
        ("Popescu", "Popa", "Pop", "Radu", "Dumitru", "Stan", "Stoica", "Ionescu"),
    ),
    (
        "POLONAISE",
        "POLOGNE",
        5,
        ("VARSOVIE", "CRACOVIE", "GDANSK", "WROCLAW"),
        ("Anna", "Katarzyna", "Agnieszka", "Magdalena", "Joanna"),
        ("Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski"),
    ),
    (
        "NEERLANDAISE",
        "PAYS-BAS",
        3,
        ("AMSTERDAM", "ROTTERDAM", "UTRECHT"),
        ("Anna", "Emma", "Sanne", "Lisa", "Fleur"),
        ("Jan", "Pieter", "Daan", "Sem", "Thomas"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser"),
    ),
    (
        "IRLANDAISE",
        "IRLANDE",
        2,
        ("DUBLIN", "CORK", "GALWAY"),
        ("Mary", "Siobhan", "Aoife", "Ciara"),
        ("Sean", "Patrick", "Ciaran", "Declan"),
        ("Murphy", "Kelly", "O'Sullivan", "Walsh", "Byrne", "Ryan"),
    ),
)

# Morphemes of generated surnames, most productive first (their draws are Zipf-weighted, so
# their products give a long tail from plausible to rare names).
_FR_STARTS = (
    "Bou", "Cha", "Ma", "Ro", "Gi", "La", "Fou", "Gau", "Ri", "Pe", "Mi", "Be", "Ga", "Me", "Mo",
    "Ta", "Vi", "Bre", "Cou", "Du", "Gre", "Ve", "Lo", "Jou", "Tho", "Ba", "Bo", "Fa", "Gui", "Pa",
    "Sau", "Che", "Mau", "Tre", "Cla", "Dau", "Fle", "Pou", "Dela", "Ju", "Hu", "No", "Re", "Sa",
)  # fmt: skip
_FR_MIDDLES = (
    "ch", "ll", "r", "l", "n", "rd", "t", "ss", "v", "rn", "m", "bl", "rr", "gn", "nt", "rt", "st",
    "c", "g", "ff", "mb", "z", "p", "qu", "gu", "br", "dr", "tr",
)  # fmt: skip
_FR_LINKS = ("e", "i", "o", "a")
_FR_SECONDS = ("l", "n", "r", "t", "v", "ch", "m", "s", "nn", "ll")
_FR_ENDINGS = (
    "ard", "ier", "et", "ot", "in", "on", "eau", "aud", "and", "ault", "y", "ou", "elin", "ey",
    "as", "at", "ain", "ant", "ert", "ade", "oux", "ac", "el", "ès", "eux", "iot", "elle", "ette",
)  # fmt: skip
_BR_PREFIXES = ("Ker", "Le ", "Pen", "Tré", "Lan", "Guer", "Plou", "Coat", "Ros", "Loc", "Lo", "Kerg")
_BR_ROOTS = (
    "guen", "bel", "mar", "vel", "gall", "mor", "dan", "bras", "hir", "nel", "goff", "rien", "zel",
    "vern", "duff", "gat", "bri", "dren", "moal", "lou", "guer", "hel", "maz", "toul", "pren", "gwen",
    "bihan", "louarn", "coz", "lec", "nev", "stang", "bon", "dour", "tan", "meur", "scao", "gad", "cam",
    "roc", "bars", "quer", "goas", "ven", "lann", "floc", "mao", "ber", "dre", "saout",
)  # fmt: skip
_BR_ENDINGS = ("", "ec", "ou", "en", "ic", "an", "er", "ez", "ennec", "iou", "ven", "ant", "ouen", "eur", "vez")


class _Surnames:
    """Long-tail surnames: common names with Zipf–Mandelbrot weights, then generated ones."""

    def __init__(self) -> None:
        common = list(dict.fromkeys(_lines(COMMON_SURNAMES)))
        self.common = _Picker(common, _zipf(len(common), offset=10.0))
        self.fr_start = _Picker(_FR_STARTS, _zipf(len(_FR_STARTS), 2.0))
        self.fr_middle = _Picker(_FR_MIDDLES, _zipf(len(_FR_MIDDLES), 2.0))
        self.fr_link = _Picker(_FR_LINKS, _zipf(len(_FR_LINKS), 1.0))
        self.fr_second = _Picker(_FR_SECONDS, _zipf(len(_FR_SECONDS), 1.0))
        self.fr_ending = _Picker(_FR_ENDINGS, _zipf(len(_FR_ENDINGS), 2.0))
        self.br_prefix = _Picker(_BR_PREFIXES, _zipf(len(_BR_PREFIXES), 1.0))
        self.br_root = _Picker(_BR_ROOTS, _zipf(len(_BR_ROOTS), 2.0))
        self.br_ending = _Picker(_BR_ENDINGS, _zipf(len(_BR_ENDINGS), 1.0))

    def _french(self, rng: random.Random, syllables: int) -> str:
        start, middle = self.fr_start(rng), self.fr_middle(rng)
        if start[-1] == middle[0]:
            middle = middle[1:] or middle
        name = start + middle
        if syllables > 2:
            name += self.fr_link(rng) + self.fr_second(rng)
        return name + self.fr_ending(rng)

    def _breton(self, rng: random.Random) -> str:
        prefix, root, ending = self.br_prefix(rng), self.br_root(rng), self.br_ending(rng)
        if prefix == "Le ":
            return prefix + root.capitalize() + ending
        return prefix + root + ending

    def rare(self, rng: random.Random) -> str:
        draw = rng.random()
        if draw < 0.40:
            return self._french(rng, 2)
        if draw < 0.52:
            return self._french(rng, 3)
        if draw < 0.90:
            return self._breton(rng)
        particle = rng.random()
        if particle < 0.45:
            return "de " + self._french(rng, 2)
        if particle < 0.75:
            return "de " + self._breton(rng)
        if particle < 0.90:
            return "du " + self._french(rng, 2)
        return "de La " + self._french(rng, 2)

    def single(self, rng: random.Random) -> str:
        return self.common(rng) if rng.random() < 0.45 else self.rare(rng)

    def __call__(self, rng: random.Random, age: int) -> str:
        """A birth name; double names ("Martin-Durand") mostly for those born since 2005."""
        first = self.single(rng)
        if rng.random() < (0.10 if age <= 21 else 0.012):
            second = self.single(rng)
            if second != first and " " not in first and " " not in second:
                return f"{first}-{second}"
        return first


class _FirstNames:
    """Given names by birth decade and sex, with INSEE weights; ~8 % compound."""

    def __init__(self) -> None:
        rows: dict[tuple[int, str], list[tuple[str, int]]] = {}
        with (DATA / "prenoms_decennie.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows.setdefault((int(row["decade"]), row["sex"]), []).append((row["name"].upper(), int(row["n"])))
        self.first: dict[tuple[int, str], _Picker[str]] = {}
        self.extra: dict[tuple[int, str], _Picker[str]] = {}
        self.multiple: dict[tuple[int, str], float] = {}
        for key, names in rows.items():
            self.first[key] = _Picker([name for name, _ in names], [n for _, n in names])
            simple = [(name, n) for name, n in names if "-" not in name]
            self.extra[key] = _Picker([name for name, _ in simple], [n for _, n in simple])
            total = sum(n for _, n in names)
            hyphenated = sum(n for name, n in names if "-" in name) / total
            # Hyphenated names come from the data; the rest of the target share gets 2–3 given names.
            self.multiple[key] = max(0.02, (COMPOUND_FIRST_NAMES - hyphenated) / (1 - hyphenated))
        self.decades = sorted({decade for decade, _ in rows})

    def __call__(self, rng: random.Random, year: int, sex: str) -> str:
        decade = min(max(year // 10 * 10, self.decades[0]), self.decades[-1])
        key = (decade, sex)
        first = self.first[key](rng)
        if rng.random() >= (0.12 if "-" in first else self.multiple[key]):
            return first
        names = [first]
        for _ in range(1 if rng.random() < 0.7 else 2):
            extra = "MARIE" if sex == "F" and rng.random() < 0.2 else self.extra[key](rng)
            if extra not in names and not any(extra in name.split("-") for name in names):
                names.append(extra)
        return " ".join(names)


@cache
def _lines(path: Path) -> tuple[str, ...]:
    return tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


@dataclass(frozen=True)
class _Tables:
    ages: _Picker[tuple[int, str]]
    usage_share: dict[int, float]
    first_names: _FirstNames
    surnames: _Surnames
    national_birthplace: _Picker[tuple[str, str]]
    local_birthplaces: dict[str, _Picker[str]]
    foreign_birthplace: _Picker[tuple[str, tuple[str, ...]]]
    eu_citizens: _Picker[int]


@cache
def _tables() -> _Tables:
    ages: list[tuple[int, str]] = []
    weights: list[float] = []
    bands = [*_PYRAMID, (MAX_AGE + 1, 0, 0)]
    for (start, men, women), (end, _, _) in itertools.pairwise(bands):
        for age in range(start, end):
            ages += [(age, "M"), (age, "F")]
            weights += [men, women]
    usage_share = {age: 0.0 for age in range(MIN_AGE, MAX_AGE + 1)}
    for start, share in _USAGE_NAME_WOMEN:
        for age in range(start, MAX_AGE + 1):
            usage_share[age] = share
    national = _Picker(
        [(name.upper(), dept) for name, dept, _ in _FRENCH_BIRTHPLACES], [w for _, _, w in _FRENCH_BIRTHPLACES]
    )
    local = {
        dept: _Picker([name.upper() for name, _ in towns], [w for _, w in towns])
        for dept, towns in _LOCAL_BIRTHPLACES.items()
    }
    foreign = _Picker(
        [(country, towns) for country, _, towns in _FOREIGN_BIRTHPLACES], [w for _, w, _ in _FOREIGN_BIRTHPLACES]
    )
    eu = _Picker(range(len(_EU_CITIZENS)), [entry[2] for entry in _EU_CITIZENS])
    return _Tables(_Picker(ages, weights), usage_share, _FirstNames(), _Surnames(), national, local, foreign, eu)


# ---------------------------------------------------------------------------------------
# Stations and addresses


@dataclass(frozen=True)
class RollStation:
    code: str  # "29019_0101"
    number: str  # "0101"
    name: str  # polling place, e.g. "École Jean Macé"
    commune_code: str  # "29019"
    commune_name: str  # "Brest"
    postcode: str  # "29200"
    streets: tuple[str, ...]  # street names served by this station (synthetic assignment is fine)


_STREET_TYPES = {
    "rue": "RUE",
    "avenue": "AVENUE",
    "boulevard": "BOULEVARD",
    "place": "PLACE",
    "impasse": "IMPASSE",
    "allee": "ALLÉE",
    "quai": "QUAI",
    "chemin": "CHEMIN",
    "route": "ROUTE",
    "cours": "COURS",
    "square": "SQUARE",
    "passage": "PASSAGE",
    "venelle": "VENELLE",
    "esplanade": "ESPLANADE",
}
_STREET_ABBREVIATIONS = {
    "RUE": "r",
    "AVENUE": "av",
    "BOULEVARD": "bd",
    "PLACE": "pl",
    "IMPASSE": "imp",
    "ALLÉE": "all",
    "ALLEE": "all",
    "CHEMIN": "ch",
    "ROUTE": "rte",
}


def _split_street(street: str) -> tuple[str, str]:
    """("RUE", "DE SIAM") from "rue de Siam"; no type when the name does not start with a known one."""
    words = street.strip().split(None, 1)
    if len(words) == 2:
        kind = _STREET_TYPES.get(_plain(words[0]).lower())
        if kind:
            return kind, words[1].upper()
    return "", street.strip().upper()


def _department(commune_code: str) -> str:
    return commune_code[:3] if commune_code.startswith("97") else commune_code[:2]


@dataclass(frozen=True)
class _Place:
    """A station's fixed values, with and without accents."""

    station: RollStation
    department: str
    canton: str
    constituency: str
    commune: tuple[str, str]
    town: tuple[str, str]
    streets: tuple[tuple[str, str, str, str], ...]  # type, label, type and label without accents


def _place(station: RollStation) -> _Place:
    if not station.streets:
        raise ValueError(f"station {station.code} has no streets")
    department = _department(station.commune_code)
    digits = int("".join(c for c in station.number if c.isdigit()) or "0")
    seed = zlib.crc32(station.commune_code.encode())
    canton = 1 + (seed % 20 + digits // 25) % 40
    constituency = 1 + (seed % 3 + digits // 60) % 6
    commune = station.commune_name.upper()
    streets = tuple((kind, label, _plain(kind), _plain(label)) for kind, label in map(_split_street, station.streets))
    return _Place(
        station,
        department,
        f"{department}{canton:02d}",
        f"{department}{constituency:02d}",
        (commune, _plain(commune)),
        (commune, _plain(commune)),
        streets,
    )


_RESIDENCES = (
    "LES GLYCINES",
    "LES HORTENSIAS",
    "LE BEL AIR",
    "LES MOUETTES",
    "KERBERNIER",
    "LE PANORAMIQUE",
    "LES JARDINS",
    "LE BEAU SITE",
    "LES CAMELIAS",
    "LE FLORIDE",
)


def _address(rng: random.Random, place: _Place) -> tuple[str, int, str, str]:
    """(number, street index, complement 1, complement 2)."""
    number = str(1 + int(149 * rng.random() ** 1.6))
    draw = rng.random()
    if draw < 0.02:
        number += "B"
    elif draw < 0.035:
        number += " BIS"
    elif draw < 0.04:
        number += " TER"
    complement1 = complement2 = ""
    draw = rng.random()
    if draw < 0.12:
        complement1 = f"APPT {rng.randint(1, 80)}"
    elif draw < 0.17:
        complement1 = f"ETAGE {rng.randint(1, 9)}"
    elif draw < 0.20:
        complement1 = f"ESC {'ABCD'[rng.randrange(4)]} APPT {rng.randint(1, 40)}"
    draw = rng.random()
    if draw < 0.05:
        complement2 = f"RESIDENCE {_RESIDENCES[rng.randrange(len(_RESIDENCES))]}"
    elif draw < 0.08:
        complement2 = f"BAT {'ABCDEF'[rng.randrange(6)]}"
    return number, int(rng.random() * len(place.streets)), complement1, complement2


# ---------------------------------------------------------------------------------------
# People and households


class _Person:
    __slots__ = ("birth", "birth_name", "country", "dept", "given", "list_type", "nationality", "place", "sex", "usage")

    def __init__(self, sex: str, birth: str, given: str, birth_name: str) -> None:
        self.sex = sex
        self.birth = birth
        self.given = given
        self.birth_name = birth_name
        self.usage = ""
        self.place = ""
        self.dept = ""
        self.country = ""
        self.nationality = ""
        self.list_type = "LP"


class _People:
    """Draws electors and households for one roll."""

    def __init__(self, rng: random.Random, created_on: datetime.date) -> None:
        self.rng = rng
        self.t = _tables()
        self.home = ("", "")  # the household's commune and département, for birth places nearby
        self.births: dict[int, tuple[int, int]] = {}
        for age in range(MIN_AGE, MAX_AGE + 1):
            latest = _years_before(created_on, age)
            earliest = _years_before(created_on, age + 1) + datetime.timedelta(days=1)
            self.births[age] = (earliest.toordinal(), latest.toordinal() - earliest.toordinal() + 1)

    def person(self, sex: str, age: int, birth_name: str | None = None) -> _Person:
        rng, t = self.rng, self.t
        age = min(max(age, MIN_AGE), MAX_AGE)
        start, span = self.births[age]
        born = datetime.date.fromordinal(start + int(rng.random() * span))
        person = _Person(sex, f"{born.day:02d}/{born.month:02d}/{born.year}", "", "")
        person.given = t.first_names(rng, born.year, sex)
        person.birth_name = birth_name if birth_name is not None else t.surnames(rng, age)
        if rng.random() < BORN_ABROAD:
            country, towns = t.foreign_birthplace(rng)
            person.place, person.dept, person.country = towns[int(rng.random() * len(towns))], "99", country
            if rng.random() < PARTIAL_BIRTH_DATE / BORN_ABROAD:
                month = "00" if rng.random() < 0.8 else f"{born.month:02d}"
                person.birth = f"00/{month}/{born.year}"
        else:
            person.place, person.dept = self.birthplace()
        return person

    def birthplace(self) -> tuple[str, str]:
        """In the commune where they vote, in its département, or in a big city."""
        rng = self.rng
        commune, department = self.home
        draw = rng.random()
        if draw < 0.3:
            return commune, department
        local = self.t.local_birthplaces.get(department)
        if local is not None and draw < 0.5:
            return local(rng), department
        name, dept = self.t.national_birthplace(rng)
        if name == "PARIS":
            arrondissement = 1 + int(20 * rng.random())
            name = f"PARIS {arrondissement}{'ER' if arrondissement == 1 else 'E'} ARRONDISSEMENT"
        return name, dept

    def usage_name(self, person: _Person, age: int, spouse: str | None, share: float = 1.0) -> None:
        """Married women (and a few men) use their spouse's name, sometimes joined to theirs."""
        rng = self.rng
        if person.sex == "F":
            if rng.random() >= self.t.usage_share[min(max(age, MIN_AGE), MAX_AGE)] * share:
                return
        elif rng.random() >= USAGE_NAME_MEN:
            return
        other = spouse if spouse is not None else self.t.surnames.single(rng)
        for _ in range(3):
            if _fold(other) != _fold(person.birth_name):
                break
            other = self.t.surnames.single(rng)
        else:
            return
        if person.sex == "M" or rng.random() < 0.08:
            person.usage = f"{person.birth_name}-{other}" if rng.random() < 0.6 else f"{other}-{person.birth_name}"
        else:
            person.usage = other

    def eu_household(self) -> list[_Person]:
        rng = self.rng
        nationality, country, _, towns, women, men, surnames = _EU_CITIZENS[self.t.eu_citizens(rng)]
        age, sex = self.t.ages(rng)
        person = self.person(sex, age, surnames[rng.randrange(len(surnames))])
        names = women if sex == "F" else men
        person.given = names[rng.randrange(len(names))].upper()
        person.place, person.dept, person.country = towns[rng.randrange(len(towns))], "99", country
        person.nationality = nationality
        person.list_type = "LCM" if rng.random() < 0.65 else "LCE"
        return [person]

    def household(self, commune: str, department: str) -> list[_Person]:
        rng = self.rng
        self.home = (commune, department)
        if rng.random() < EU_ELECTORS:
            return self.eu_household()
        draw = rng.random()
        size = 1 if draw < 0.78 else 2 if draw < 0.945 else 3 if draw < 0.987 else 4
        age, sex = self.t.ages(rng)
        if size == 1:
            head = self.person(sex, age)
            if age >= 25:
                self.usage_name(head, age, None)
            return [head]
        kind = rng.random()
        if kind < 0.70:  # a couple, and their adult children
            for _ in range(4):
                if size == 2 or age >= 40:
                    break
                age, sex = self.t.ages(rng)
            partner_sex = ("F" if sex == "M" else "M") if rng.random() < 0.97 else sex
            gap = round(rng.gauss(2.0, 4.0))
            partner_age = age + (gap if partner_sex == "M" else -gap)
            head = self.person(sex, age)
            partner = self.person(partner_sex, partner_age)
            members = [head, partner]
            husband = head if sex == "M" else partner if partner_sex == "M" else None
            for member, member_age, other in ((head, age, partner), (partner, partner_age, head)):
                if member_age >= 25 or member.sex == "M":
                    self.usage_name(member, member_age, other.birth_name)
            family = husband.birth_name if husband is not None else head.birth_name
            mother = head if sex == "F" else partner if partner_sex == "F" else None
            for _ in range(size - 2):
                members.append(self.child(min(age, partner_age), family, mother))
            return members
        head = self.person(sex, age)
        if age >= 25:
            self.usage_name(head, age, None)
        members = [head]
        for _ in range(size - 1):
            if kind < 0.85:  # a parent and adult children
                family = head.usage if head.sex == "F" and head.usage and "-" not in head.usage else head.birth_name
                members.append(self.child(age, family, head if head.sex == "F" else None))
            elif kind < 0.90:  # siblings
                sibling_age = age + rng.randint(-8, 8)
                sibling = self.person(rng.choice("FM"), sibling_age, head.birth_name)
                if sibling.sex == "F" and sibling_age >= 25:
                    self.usage_name(sibling, sibling_age, None, 0.5)
                members.append(sibling)
            else:  # flatmates
                mate_age = MIN_AGE + int(abs(rng.gauss(0, 1)) * 12) if age < 40 else age + rng.randint(-10, 10)
                mate = self.person(rng.choice("FM"), mate_age)
                if mate_age >= 25:
                    self.usage_name(mate, mate_age, None)
                members.append(mate)
        return members

    def child(self, parent_age: int, family: str, mother: _Person | None) -> _Person:
        rng = self.rng
        if parent_age - 20 < MIN_AGE:
            age = MIN_AGE + rng.randint(0, 10)
            return self.person(rng.choice("FM"), age)
        age = max(MIN_AGE, parent_age - rng.randint(20, 40))
        name = family
        if age <= 21 and mother is not None and rng.random() < 0.10:
            other = mother.birth_name
            if _fold(other) != _fold(family) and " " not in other and " " not in family and "-" not in family:
                name = f"{family}-{other}"
        child = self.person(rng.choice("FM"), age, name)
        if age >= 25:
            self.usage_name(child, age, None, 0.5)
        return child


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# ---------------------------------------------------------------------------------------
# Rolls

_ELECTOR_SPACE = 900_000_000  # 9-digit numbers 100000000–999999999


def _elector_numbers(rng: random.Random) -> Iterator[str]:
    """Distinct, random-looking 9-digit numbers: an affine permutation of the index."""
    while True:
        step = rng.randrange(100_000_001, _ELECTOR_SPACE)
        if math.gcd(step, _ELECTOR_SPACE) == 1:
            break
    offset = rng.randrange(_ELECTOR_SPACE)
    for index in range(_ELECTOR_SPACE):
        yield str(100_000_000 + (offset + index * step) % _ELECTOR_SPACE)


def _places(stations: Sequence[RollStation]) -> list[_Place]:
    if not stations:
        raise ValueError("a roll needs at least one station")
    return [_place(station) for station in stations]


def _roll_rows(places: list[_Place], seed: int, created_on: datetime.date) -> Iterator[dict[str, str]]:
    rng = random.Random(seed)  # noqa: S311 - fictitious data, not cryptography
    people = _People(rng, created_on)
    numbers = _elector_numbers(rng)
    created = created_on.strftime("%d/%m/%Y")
    count = len(places)
    while True:
        place = places[int(rng.random() * count)]
        station = place.station
        number, street, complement1, complement2 = _address(rng, place)
        kind, label, kind_plain, label_plain = place.streets[street]
        for person in people.household(place.commune[0], place.department):
            plain = rng.random() < NO_ACCENT_ROWS
            birth_name, usage, given = person.birth_name.upper(), person.usage.upper(), person.given
            birth_place = person.place
            if plain:
                birth_name, usage, given, birth_place = (
                    _plain(birth_name),
                    _plain(usage),
                    _plain(given),
                    _plain(birth_place),
                )
            yield {
                "TypeListe": person.list_type,
                "InfoListe": LIST_INFO,
                "DateCreationListe": created,
                "CodeDepartement": place.department,
                "CodeCommune": station.commune_code,
                "NomCommune": place.commune[plain],
                "NoElecteurGeneral": next(numbers),
                "Sexe": person.sex,
                "NomdeNaissance": birth_name,
                "NomDusage": usage,
                "Prenoms": given,
                "DateDeNaissance": person.birth,
                "NomComNaissance": birth_place,
                "DeptNaissance": person.dept,
                "PaysNaissance": person.country,
                "Nationalite": person.nationality,
                "NomBureauDeVote": station.name,
                "NoBureauDeVote": station.number,
                "CodeCanton": place.canton,
                "CodeCirconscription": place.constituency,
                "ComplementDeLocalisation1": complement1,
                "ComplementDeLocalisation2": complement2,
                "NumeroVoie": number,
                "TypeVoie": kind_plain if plain else kind,
                "LibelleVoie": label_plain if plain else label,
                "LieuDit": "",
                "CodePostal": station.postcode,
                "VilleLocalite": place.town[plain],
                "Pays": "",
            }


def synthetic_roll(
    count: int,
    stations: Sequence[RollStation],
    *,
    seed: int = 2027,
    created_on: datetime.date = datetime.date(2026, 3, 1),
) -> Iterator[dict[str, str]]:
    """Rows keyed by OFFICIAL_COLUMNS, values as text as in the file (dates JJ/MM/AAAA, Sexe M/F,
    TypeListe "LP" (liste principale), a few "LCE"/"LCM" EU complementary-list electors with Nationalite set).

    Households are written one after the other (real files sort by station and name);
    the last household may be cut by `count`.
    """
    if count < 0:
        raise ValueError("count must be positive")
    if count > _ELECTOR_SPACE:
        raise ValueError("too many electors for 9-digit numbers")
    return itertools.islice(_roll_rows(_places(stations), seed, created_on), count)


def write_roll_csv(path: Path, rows: Iterable[dict[str, str]]) -> int:
    """A `;`-separated UTF-8 file with the official header, as communes transmit rolls; returns rows written."""
    values = operator.itemgetter(*OFFICIAL_COLUMNS)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(OFFICIAL_COLUMNS)
        for row in rows:
            writer.writerow(values(row))
            written += 1
    return written


# ---------------------------------------------------------------------------------------
# Web signups

EMAIL_DOMAINS = ("example.org", "example.net", "example.com")
NOISE_RATES = {
    "typo_last_name": 0.08,
    "typo_first_name": 0.05,
    "swap_day_month": 0.03,
    "missing_birth_date": 0.15,
    "moved": 0.10,
    "no_accents": 0.30,
    "hyphen_space": 0.20,
}
_AZERTY = ("azertyuiop", "qsdfghjklm", "wxcvbn")


def _keyboard_neighbours() -> dict[str, str]:
    neighbours: dict[str, str] = {}
    for row_index, row in enumerate(_AZERTY):
        for column, char in enumerate(row):
            near = [row[column - 1]] if column else []
            near += [row[column + 1]] if column + 1 < len(row) else []
            for other in (row_index - 1, row_index + 1):
                if 0 <= other < len(_AZERTY) and column < len(_AZERTY[other]):
                    near.append(_AZERTY[other][column])
            neighbours[char] = "".join(near)
    return neighbours


_NEIGHBOURS = _keyboard_neighbours()


def _typo(rng: random.Random, text: str) -> str:
    """One insertion, deletion, substitution (a neighbouring key) or transposition of letters."""
    letters = [index for index, char in enumerate(text) if char.isalpha()]
    if not letters:
        return text
    for _ in range(10):
        operation = rng.randrange(4)
        index = letters[rng.randrange(len(letters))]
        char = text[index]
        base = _plain(char).lower()
        replacement = rng.choice(_NEIGHBOURS.get(base, "aeiou"))
        replacement = replacement.upper() if char.isupper() else replacement
        if operation == 0:
            result = text[:index] + replacement + text[index:]
        elif operation == 1 and len(letters) > 2:
            result = text[:index] + text[index + 1 :]
        elif operation == 2:
            result = text[:index] + replacement + text[index + 1 :]
        else:
            pairs = [i for i in letters if i + 1 < len(text) and text[i + 1].isalpha() and text[i] != text[i + 1]]
            if not pairs:
                continue
            index = pairs[rng.randrange(len(pairs))]
            result = text[:index] + text[index + 1] + text[index] + text[index + 2 :]
        if result != text:
            return result
    return text + ("E" if text.isupper() else "e")


def _typed_case(rng: random.Random, proper: str, weights: tuple[float, float, float]) -> str:
    """Proper case most often, else all upper, all lower, or only the first letter up ("Jean-pierre")."""
    draw = rng.random()
    if draw < weights[0]:
        return proper
    if draw < weights[1]:
        return proper.upper()
    if draw < weights[2]:
        return proper.lower()
    return proper[:1].upper() + proper[1:].lower()


def _email_part(text: str) -> str:
    folded = _plain(text).lower()
    return "".join(char for char in folded if char.isalnum() or char == "-")


@dataclass(frozen=True)
class Signup:
    values: dict[str, str]  # keys: first_names, last_name, birth_date (JJ/MM/AAAA or ""), email, postcode, town,
    # number, street
    elector: str | None  # NoElecteurGeneral of the roll row it was derived from, None if not on the roll
    noise: tuple[str, ...]  # labels of the noise applied, e.g. ("typo_last_name", "usage_name")


def _identity(row: dict[str, str]) -> tuple[str, str, str]:
    given = row["Prenoms"].split(" ")[0]
    return _fold(row["NomdeNaissance"]), _fold(given), row["DateDeNaissance"]


def _stations_of(rows: Sequence[dict[str, str]]) -> list[RollStation]:
    """The roll's stations and their streets (written with accents when some row has them)."""
    found: dict[tuple[str, str], tuple[dict[str, str], dict[str, str]]] = {}
    for row in rows:
        key = (row["CodeCommune"], row["NoBureauDeVote"])
        entry = found.get(key)
        if entry is None:
            entry = found[key] = (row, {})
        street = f"{row['TypeVoie']} {row['LibelleVoie']}".strip()
        known = entry[1].setdefault(_fold(street), street)
        if known != street and _has_accent(street):
            entry[1][_fold(street)] = street
    return [
        RollStation(
            code=f"{commune}_{number}",
            number=number,
            name=row["NomBureauDeVote"],
            commune_code=commune,
            commune_name=row["NomCommune"],
            postcode=row["CodePostal"],
            streets=tuple(streets.values()),
        )
        for (commune, number), (row, streets) in found.items()
    ]


class _SignupMaker:
    def __init__(self, rng: random.Random, stations: list[RollStation]) -> None:
        self.rng = rng
        self.stations = stations
        self.index = {(station.commune_code, station.number): station for station in stations}
        self.emails: set[str] = set()

    def __call__(self, row: dict[str, str], elector: str | None) -> Signup:
        rng = self.rng
        noise: list[str] = []
        # What the person calls themselves.
        given = row["Prenoms"].split(" ")
        first = given[0]
        if len(given) > 1 and rng.random() < 0.85:
            noise.append("first_given_only")
        else:
            first = " ".join(given)
        if "-" in first and " " not in first and rng.random() < 0.15:
            first = first.split("-")[0]
            noise.append("compound_cut")
        last = row["NomdeNaissance"]
        if row["NomDusage"] and rng.random() < 0.7:
            last = row["NomDusage"]
            noise.append("usage_name")
        first, last = _proper_given(first), _proper_surname(last)
        # Where they live.
        number, kind, label = row["NumeroVoie"], row["TypeVoie"], row["LibelleVoie"]
        postcode, town = row["CodePostal"], row["VilleLocalite"]
        if rng.random() < NOISE_RATES["moved"]:
            station = self.index.get((row["CodeCommune"], row["NoBureauDeVote"]))
            if station is None or rng.random() < 0.5 or len(station.streets) < 2:
                station = self.stations[rng.randrange(len(self.stations))]
            street = station.streets[rng.randrange(len(station.streets))]
            moved_kind, moved_label = _split_street(street)
            moved_number = str(1 + int(149 * rng.random() ** 1.6))
            moved_to = (moved_number, _fold(moved_kind), _fold(moved_label), station.postcode)
            if moved_to != (number, _fold(kind), _fold(label), postcode):
                number, kind, label = moved_number, moved_kind, moved_label
                postcode, town = station.postcode, station.commune_name.upper()
                noise.append("moved")
        street = _proper(label, _LOWER_WORDS, keep_first=not kind)
        if kind:
            short = _STREET_ABBREVIATIONS.get(kind)
            if short and rng.random() < 0.08:
                street = f"{short} {street}"
                noise.append("street_abbrev")
            else:
                street = f"{kind.lower() if rng.random() < 0.6 else kind.capitalize()} {street}"
        street = street.upper() if rng.random() < 0.1 else street
        number = number.lower() if rng.random() < 0.7 else number.replace(" ", "")
        town = _typed_case(rng, _proper(town, _LOWER_WORDS), (0.8, 0.92, 1.0))
        # When they were born.
        birth = row["DateDeNaissance"]
        if birth.startswith("00/"):
            birth = f"01/01/{birth[-4:]}"
            noise.append("partial_birth_date")
        missing = rng.random() < NOISE_RATES["missing_birth_date"]
        swap = rng.random() < NOISE_RATES["swap_day_month"]
        if missing:
            birth = ""
            noise.append("missing_birth_date")
        elif swap and birth[:2] <= "12" and birth[:2] != birth[3:5]:
            birth = f"{birth[3:5]}/{birth[:2]}/{birth[6:]}"
            noise.append("swap_day_month")
        email = self.email(first.split(" ")[0], last, row["DateDeNaissance"][-4:])
        # How they type.
        first = _typed_case(rng, first, (0.78, 0.86, 0.92))
        last = _typed_case(rng, last, (0.62, 0.86, 0.95))
        if rng.random() < NOISE_RATES["hyphen_space"] and ("-" in first or "-" in last):
            first, last = first.replace("-", " "), last.replace("-", " ")
            noise.append("hyphen_space")
        if rng.random() < NOISE_RATES["no_accents"] and any(map(_has_accent, (first, last, street, town))):
            first, last, street, town = _plain(first), _plain(last), _plain(street), _plain(town)
            noise.append("no_accents")
        if rng.random() < NOISE_RATES["typo_last_name"]:
            last = _typo(rng, last)
            noise.append("typo_last_name")
        if rng.random() < NOISE_RATES["typo_first_name"]:
            first = _typo(rng, first)
            noise.append("typo_first_name")
        values = {
            "first_names": first,
            "last_name": last,
            "birth_date": birth,
            "email": email,
            "postcode": postcode,
            "town": town,
            "number": number,
            "street": street,
        }
        return Signup(values=values, elector=elector, noise=tuple(noise))

    def email(self, first: str, last: str, year: str) -> str:
        rng = self.rng
        f, l = _email_part(first), _email_part(last.replace(" ", ""))  # noqa: E741
        draw = rng.random()
        if draw < 0.35:
            local = f"{f}.{l}"
        elif draw < 0.45:
            local = f"{f}{l}"
        elif draw < 0.60:
            local = f"{f[:1]}{l}"
        elif draw < 0.70:
            local = f"{f}.{l}{year[-2:]}"
        elif draw < 0.78:
            local = f"{l}.{f}"
        elif draw < 0.83:
            local = f"{f}_{l}"
        elif draw < 0.93:
            local = f"{f}.{l}{rng.randint(1, 99)}"
        else:
            local = f"{f}{year}"
        domain = EMAIL_DOMAINS[rng.randrange(len(EMAIL_DOMAINS))]
        email = f"{local}@{domain}"
        suffix = 2
        while email in self.emails:
            email = f"{local}{suffix}@{domain}"
            suffix += 1
        self.emails.add(email)
        return email


def noisy_signups(
    roll_rows: Sequence[dict[str, str]], count: int, *, on_roll_share: float = 0.7, seed: int = 2028
) -> Iterator[Signup]:
    """Web-form signups: `on_roll_share` of them (rounded) from distinct roll rows, the others
    invented people (same distributions, checked not to be on the roll).

    Noise is drawn for every signup at the rates of `NOISE_RATES` and recorded when it changed
    something (a swap needs day ≤ 12 and day ≠ month, accents need accented letters, …).
    Other labels: "usage_name" (the usage name was typed), "first_given_only" (only the first
    of several given names), "compound_cut" ("Jean-Pierre" → "Jean"), "street_abbrev" ("bd"),
    "partial_birth_date" (the roll's "00/00/1950" typed as "01/01/1950").
    """
    if not 0.0 <= on_roll_share <= 1.0:
        raise ValueError("on_roll_share must be between 0 and 1")
    on_roll = round(count * on_roll_share)
    if on_roll > len(roll_rows):
        raise ValueError(f"{on_roll} signups on the roll need as many roll rows, got {len(roll_rows)}")
    if count and not roll_rows:
        raise ValueError("signups need a roll to take stations from")
    return _signups(roll_rows, count, on_roll, seed)


def _signups(roll_rows: Sequence[dict[str, str]], count: int, on_roll: int, seed: int) -> Iterator[Signup]:
    rng = random.Random(seed)  # noqa: S311 - fictitious data, not cryptography
    picks = iter(rng.sample(range(len(roll_rows)), on_roll))
    stations = _stations_of(roll_rows)
    make = _SignupMaker(rng, stations)
    invented: Iterator[dict[str, str]] = iter(())
    known: set[tuple[str, str, str]] = set()
    if count > on_roll:
        known = {_identity(row) for row in roll_rows}
        created = roll_rows[0]["DateCreationListe"]
        try:
            created_on = datetime.datetime.strptime(created, "%d/%m/%Y").date()
        except ValueError:
            created_on = datetime.date(2026, 3, 1)
        invented = _roll_rows(_places(stations), seed * 7919 + 1, created_on)
    remaining_on = on_roll

    def is_new(row: dict[str, str]) -> bool:
        return _identity(row) not in known

    for remaining in range(count, 0, -1):
        if rng.random() * remaining < remaining_on:
            remaining_on -= 1
            row = roll_rows[next(picks)]
            yield make(row, row["NoElecteurGeneral"])
        else:
            yield make(next(filter(is_new, invented)), None)
