"""Official results files by polling station, read into one shape.

Pure functions: no database, no file access. The import pipeline reads the file
(`suffrage.imports.readers`: encoding, delimiter, stripped cells) and hands us the
header row and the data rows; we recognise the layout from the header and turn
each row into a `StationResult`, or into a `RowProblem` when it cannot be read.
A bad row never raises: only a header that matches no format does.

Known formats (DOMAIN.md §1):
- the Ministry's wide files, one row per polling station and a block of columns
  per candidate or list: legislative 2024, European 2024 (every block named,
  "Voix 1", "Voix 2"…), presidential 2022, legislative 2017/2022 and municipal
  2020 (only the first block is named: later blocks are found by position);
- the community "cleaned history" files: one column per candidate or family;
- OpenElections (US): long format, one row per precinct × office × candidate.

Choices worth knowing:
- Percent columns are ignored: they are rounded and can be recomputed.
- Commune codes are 5-character INSEE codes. Where a file splits them, they are
  joined from the département and the commune (`commune_insee_code`), including
  the Ministry's letter codes for overseas ("ZA" + "101" -> "97101").
- Station numbers are zero-padded to 4 digits ("1" -> "0001"), so that a file
  re-saved by a spreadsheet joins the same polling stations as the original.
- "Elu" (legislative 2024) and "Sièges / Elu" (municipal 2020): "élu" (and
  yes-words, or a seat count above 0) is True; an empty cell, "non élu",
  "QUALIF T2" (through to round 2, not elected) or 0 seats is False; anything
  else is None (the file says something we do not understand). Formats without
  such a column (presidential, legislative 2017/2022, cleaned history,
  OpenElections) give None. European "Sièges" are national seats, not a result
  of the polling station: None too.
- Sex "MASCULIN"/"FEMININ" (2024) and "M"/"F" (older files) become "M"/"F".
- Each data row of a French file gives exactly one item (a result or its first
  problem), so the caller can record one verdict per row.
- Cleaned history: an empty candidate cell means no such candidate at that
  polling station; abstentions and null ballots are not in the files (None),
  blank ballots only in some; a sum with an unknown term is not checked.
- OpenElections: rows are grouped over the whole file by (county, precinct,
  office, district), one result each, with `office` set; the county stands for
  the commune and the precinct is kept as found (not padded). "Registered
  Voters" and "Ballots Cast" rows fill `registered` and `voters`; without them
  `registered` is 0 (unknown) and `voters` the sum of the votes. "Over Votes" and
  "Under Votes" fill `null` and `blank`. The party goes in `nuance`, as found.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# Invariant names used as RowProblem.field: the official French terms, stable across languages.
TURNOUT_INVARIANT = "Inscrits = Votants + Abstentions"
BALLOTS_INVARIANT = "Votants = Exprimés + Blancs + Nuls"
VOTES_INVARIANT = "Σ Voix = Exprimés"

# More digits than any electorate: longer "numbers" are mistakes (and would be slow to convert).
MAX_COUNT_DIGITS = 12
COUNT = re.compile(r"[0-9]+")
# OpenElections writes some counts with thousands commas ("1,057"); a French file never does.
US_COUNT = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
# Spaces Excel and the Ministry put inside numbers: "1 234", "1\u00a0234", "1\u202f234".
NUMBER_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")
STATION_NUMBER = re.compile(r"([0-9]+)(.*)", re.DOTALL)
BLOCK_NUMBER = re.compile(r"\s+[0-9]+$")  # "Voix 12" -> "Voix"

# Political-family codes that name a column of the cleaned-history files (their
# other columns are candidates' names). Only used to fill `nuance` there: the
# authoritative list of each election's families is data, kept with the election.
NUANCE_CODES = frozenset(
    {
        # Legislative 2017, 2022, 2024
        *("EXG", "DXG", "COM", "FI", "SOC", "RDG", "VEC", "DVG", "UG", "NUP", "ECO", "REG", "DIV", "REN", "REM"),
        *("MDM", "HOR", "ENS", "DVC", "UDI", "LR", "DVD", "DSV", "DLF", "RN", "FN", "REC", "UXD", "EXD", "DXD"),
        # European and municipal lists (2014, 2019, 2020, 2024)
        *("LEXG", "LCOM", "LFI", "LFG", "LSOC", "LRDG", "LDVG", "LUG", "LVEC", "LECO", "LDIV"),
        *("LREG", "LGJ", "LREM", "LREN", "LMDM", "LHOR", "LENS", "LUDI", "LUC", "LDVC", "LLR"),
        *("LUMP", "LUD", "LDVD", "LDLF", "LDSV", "LRN", "LFN", "LREC", "LEXD", "LNC"),
    }
)
# Ministry letter codes for overseas départements and collectivities, to INSEE prefixes.
# Their commune codes are 3 digits whose first one repeats the département's last
# ("ZA" "101" -> "97101"), except Mayotte's, numbered from its former code 985
# ("ZM" "508" -> "97608"). "ZW" (Wallis-et-Futuna, communes "1"…) and "ZZ" (French
# people abroad) have no INSEE code: they keep their letters ("ZZ" "25" -> "ZZ025").
OVERSEAS_DEPARTMENTS = {
    "ZA": "971",
    "ZB": "972",
    "ZC": "973",
    "ZD": "974",
    "ZS": "975",
    "ZM": "976",
    "ZP": "987",
    "ZN": "988",
}
SEXES = {
    **dict.fromkeys(("m", "masculin", "h", "homme", "male"), "M"),
    **dict.fromkeys(("f", "feminin", "femme", "female"), "F"),
}
ELECTED_WORDS = frozenset({"elu", "elue", "true", "vrai", "oui", "yes", "x"})
NOT_ELECTED_WORDS = frozenset(
    {"", "nonelu", "nonelue", "false", "faux", "non", "no", "qualift2", "qualifie", "qualifiee", "ballottage"}
)
# OpenElections rows that are precinct or contest totals, not candidates.
US_TOTALS = {
    "registeredvoters": "registered",
    "ballotscast": "voters",
    "undervotes": "blank",
    "overvotes": "null",
}
SHOWN_CHARS = 40


# --- The normalised shape ---------------------------------------------------


@dataclass(frozen=True)
class CandidateResult:
    panel: str  # "Numéro de panneau" / "N°Panneau" / list number; "" if none (cleaned format)
    nuance: str  # political-family code ("RN", "UG", "ENS"…), the US party as found, or "" if unknown
    name: str  # family name, list label (European, municipal), column name (cleaned format)
    first_name: str
    sex: str  # "M", "F" or ""
    votes: int
    elected: bool | None  # None when the file does not say


@dataclass(frozen=True)
class StationResult:
    row: int  # row number in the file, as given by the caller (the first row of the group for OpenElections)
    commune_code: str  # 5-character INSEE code ("29019"); the county for OpenElections
    commune_name: str
    station_number: str  # "0001", "0001A"; the precinct as found for OpenElections
    registered: int
    voters: int
    abstentions: int | None
    blank: int | None
    null: int | None
    valid: int
    candidates: tuple[CandidateResult, ...]
    constituency: str = ""  # circonscription (French files), district (OpenElections)
    office: str = ""  # OpenElections only: one precinct gives one result per office

    @property
    def station_code(self) -> str:
        return f"{self.commune_code}_{self.station_number}"


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str  # the column (as named in the file) or the invariant concerned
    message: str  # user-facing, translated; the caller shows the row number beside it


class ResultsFormatError(ValueError):
    """The header matches no known format. str(exc) is a user-facing message."""


@dataclass(frozen=True)
class ResultsFormat:
    key: str
    label: str  # English, marked for translation: show it with gettext(label)
    encoding_hint: str  # how the Ministry publishes it; informational (the reader detects the encoding)


FORMATS = {
    fmt.key: fmt
    for fmt in (
        ResultsFormat(
            "legislative_2024", gettext_noop("Legislative elections 2024 (Ministry of the Interior)"), "utf-8"
        ),
        ResultsFormat("european_2024", gettext_noop("European elections 2024 (Ministry of the Interior)"), "utf-8"),
        ResultsFormat(
            "presidential_2022", gettext_noop("Presidential election 2017/2022 (Ministry of the Interior)"), "cp1252"
        ),
        ResultsFormat(
            "legislative_2017_2022",
            gettext_noop("Legislative elections 2017/2022 (Ministry of the Interior)"),
            "cp1252",
        ),
        ResultsFormat("municipal_2020", gettext_noop("Municipal elections 2020 (Ministry of the Interior)"), "cp1252"),
        ResultsFormat("cleaned_history", gettext_noop("Cleaned results history (one column per candidate)"), "utf-8"),
        ResultsFormat("openelections", gettext_noop("OpenElections (US, one row per precinct and candidate)"), "utf-8"),
    )
}


# --- Layouts: which header names hold what ----------------------------------


@dataclass(frozen=True)
class _Layout:
    kind: Literal["blocks", "columns", "long"]
    # role -> header name as the file spells it (matched ignoring case, accents, spaces)
    fixed: dict[str, str]
    optional: frozenset[str] = frozenset({"constituency"})
    # "blocks" only: role -> header name inside a candidate block; the first one starts a block.
    block: dict[str, str] = field(default_factory=dict)
    # "blocks" only: True when every block is named ("Voix 1", "Voix 2"…): rows then have the header's width.
    named_blocks: bool = False


_COUNTS_2024 = {
    "registered": "Inscrits",
    "voters": "Votants",
    "abstentions": "Abstentions",
    "valid": "Exprimés",
    "blank": "Blancs",
    "null": "Nuls",
}
_FIXED_2024 = {
    "department": "Code département",
    "commune": "Code commune",
    "commune_name": "Libellé commune",
    "station": "Code BV",
    "constituency": "Code circonscription législative",
    **_COUNTS_2024,
}
_FIXED_2017_2022 = {
    "department": "Code du département",
    "constituency": "Code de la circonscription",
    "commune": "Code de la commune",
    "commune_name": "Libellé de la commune",
    "station": "Code du b.vote",
    **_COUNTS_2024,
}
_BLOCK_2017_2022 = {"panel": "N°Panneau", "sex": "Sexe", "name": "Nom", "first_name": "Prénom", "votes": "Voix"}

# In detection order: a format whose names include another's comes first.
_LAYOUTS = {
    "openelections": _Layout(
        kind="long",
        fixed={
            "county": "county",
            "precinct": "precinct",
            "office": "office",
            "district": "district",
            "party": "party",
            "candidate": "candidate",
            "votes": "votes",
        },
        optional=frozenset({"district", "party"}),
    ),
    "cleaned_history": _Layout(
        kind="columns",
        fixed={
            "department": "departement",
            "commune": "commune",
            "station": "bureau",
            "constituency": "circonscription",
            "commune_name": "commune_libelle",
            "registered": "inscrits",
            "voters": "votants",
            "abstentions": "abstentions",
            "blank": "blancs",
            "null": "nuls",
            "valid": "exprimes",
        },
        optional=frozenset({"constituency", "abstentions", "blank", "null"}),
    ),
    "european_2024": _Layout(
        kind="blocks",
        fixed=_FIXED_2024,
        optional=frozenset({"constituency", "department"}),
        block={
            "panel": "Numéro de panneau",
            "nuance": "Nuance liste",
            "short_name": "Libellé abrégé de liste",
            "list_name": "Libellé de liste",
            "votes": "Voix",
        },
        named_blocks=True,
    ),
    "legislative_2024": _Layout(
        kind="blocks",
        fixed=_FIXED_2024,
        optional=frozenset({"constituency", "department"}),
        block={
            "panel": "Numéro de panneau",
            "nuance": "Nuance candidat",
            "name": "Nom candidat",
            "first_name": "Prénom candidat",
            "sex": "Sexe candidat",
            "votes": "Voix",
            "elected": "Elu",
        },
        named_blocks=True,
    ),
    "municipal_2020": _Layout(
        kind="blocks",
        fixed={**_FIXED_2017_2022, "station": "Code B.Vote"},
        block={
            "panel": "N.Pan.",
            "nuance": "Code Nuance",
            "sex": "Sexe",
            "name": "Nom",
            "first_name": "Prénom",
            "list_name": "Liste",
            "elected": "Sièges / Elu",
            "votes": "Voix",
        },
    ),
    "legislative_2017_2022": _Layout(
        kind="blocks", fixed=_FIXED_2017_2022, block={**_BLOCK_2017_2022, "nuance": "Nuance"}
    ),
    "presidential_2022": _Layout(kind="blocks", fixed=_FIXED_2017_2022, block=_BLOCK_2017_2022),
}


def _fold(text: str) -> str:
    """Lowercase, without accents or spaces: how header names and words are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char) and not char.isspace()).casefold()


def _header_key(name: str) -> str:
    """'Voix 12' -> 'voix', 'Exprimés' -> 'exprimes', 'N° Panneau' -> 'n°panneau'."""
    return _fold(BLOCK_NUMBER.sub("", name.strip()))


def _required_keys(layout: _Layout) -> list[str]:
    names = [name for role, name in layout.fixed.items() if role not in layout.optional]
    return [_header_key(name) for name in [*names, *layout.block.values()]]


# --- Format detection -------------------------------------------------------


def detect_format(headers: list[str]) -> ResultsFormat:
    """The format whose columns the header holds. Raises ResultsFormatError."""
    keys = {_header_key(name) for name in headers}
    for key, layout in _LAYOUTS.items():
        if all(required in keys for required in _required_keys(layout)):
            return FORMATS[key]
    raise ResultsFormatError(_unknown_format_message(headers, keys))


def _unknown_format_message(headers: list[str], keys: set[str]) -> str:
    known = ", ".join(_(fmt.label) for fmt in FORMATS.values())
    shown = ", ".join(_shown(name) for name in headers[:8] if name) + (", …" if len(headers) > 8 else "")
    message = _("The columns of this file match no known results format (%(known)s). Its first columns are: %(found)s.")
    message %= {"known": known, "found": shown or _("none")}
    closest, missing = _closest_layout(keys)
    if closest:
        message += " " + _("It looks like %(format)s, but lacks these columns: %(missing)s.") % {
            "format": _(FORMATS[closest].label),
            "missing": ", ".join(missing),
        }
    return message


def _closest_layout(keys: set[str]) -> tuple[str, list[str]]:
    """The format of which the header holds most columns (at least half), and the names it lacks."""
    best, best_share = "", 0.5
    best_missing: list[str] = []
    for key, layout in _LAYOUTS.items():
        names = [name for role, name in layout.fixed.items() if role not in layout.optional]
        names += list(layout.block.values())
        missing = [name for name in names if _header_key(name) not in keys]
        share = 1 - len(missing) / len(names)
        if share > best_share:
            best, best_missing, best_share = key, missing, share
    return best, best_missing


# --- Parsing ----------------------------------------------------------------


class _BadCell(Exception):
    """A cell that stops the row from being read; becomes a RowProblem."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class _Plan:
    """Where each value sits in this file's rows."""

    layout: _Layout
    headers: list[str]
    fixed: dict[str, int]  # role -> column index
    block_start: int = 0
    block_width: int = 0
    block: dict[str, int] = field(default_factory=dict)  # role -> offset inside a block
    candidate_columns: tuple[int, ...] = ()  # "columns" layouts: one column per candidate

    def name(self, role: str) -> str:
        return self.headers[self.fixed[role]]

    def block_column(self, role: str, number: int) -> str:
        """A block column's name for messages: as in the header when named, else "Voix 3"."""
        index = self.block_start + (number - 1) * self.block_width + self.block[role]
        if self.layout.named_blocks and index < len(self.headers) and self.headers[index]:
            return self.headers[index]
        base = BLOCK_NUMBER.sub("", self.headers[self.block_start + self.block[role]])
        return f"{base} {number}"


def parse_results(
    headers: list[str], rows: Iterable[tuple[int, list[str]]], *, fmt: ResultsFormat | None = None
) -> Iterator[StationResult | RowProblem]:
    """One StationResult per readable row (per precinct and office for OpenElections), a RowProblem per
    unreadable one. Raises ResultsFormatError at once if the header is not of a known format (or of `fmt`)."""
    fmt = fmt or detect_format(headers)
    plan = _plan(fmt, headers)
    if plan.layout.kind == "long":
        return _parse_long(plan, rows)
    return _parse_wide(plan, rows)


def _plan(fmt: ResultsFormat, headers: list[str]) -> _Plan:
    layout = _LAYOUTS[fmt.key]
    keys = [_header_key(name) for name in headers]
    fixed = {role: keys.index(_header_key(name)) for role, name in layout.fixed.items() if _header_key(name) in keys}
    missing = [name for role, name in layout.fixed.items() if role not in fixed and role not in layout.optional]
    if layout.kind == "blocks":
        return _block_plan(fmt, layout, headers, keys, fixed, missing)
    if missing:
        raise _missing_columns(fmt, missing)
    if layout.kind == "columns":
        taken = set(fixed.values())
        candidates = tuple(index for index, name in enumerate(headers) if name and index not in taken)
        return _Plan(layout, headers, fixed, candidate_columns=candidates)
    return _Plan(layout, headers, fixed)


def _block_plan(
    fmt: ResultsFormat, layout: _Layout, headers: list[str], keys: list[str], fixed: dict[str, int], missing: list[str]
) -> _Plan:
    start_key = _header_key(next(iter(layout.block.values())))
    if start_key not in keys:
        raise _missing_columns(fmt, [*missing, *layout.block.values()])
    start = keys.index(start_key)
    # A block ends where the next one starts, or at the first unnamed column (later blocks unnamed).
    end = next((i for i in range(start + 1, len(keys)) if keys[i] in ("", start_key)), len(keys))
    offsets = {key: offset for offset, key in reversed(list(enumerate(keys[start:end])))}
    block = {role: offsets[_header_key(name)] for role, name in layout.block.items() if _header_key(name) in offsets}
    missing += [name for role, name in layout.block.items() if role not in block]
    if missing:
        raise _missing_columns(fmt, missing)
    return _Plan(layout, headers, fixed, block_start=start, block_width=end - start, block=block)


def _missing_columns(fmt: ResultsFormat, missing: list[str]) -> ResultsFormatError:
    return ResultsFormatError(
        _("This file lacks columns of the format %(format)s: %(missing)s.")
        % {"format": _(fmt.label), "missing": ", ".join(missing)}
    )


def _parse_wide(plan: _Plan, rows: Iterable[tuple[int, list[str]]]) -> Iterator[StationResult | RowProblem]:
    for row, cells in rows:
        try:
            yield _station(plan, row, cells)
        except _BadCell as problem:
            yield RowProblem(row=row, field=problem.column, message=problem.message)


def _station(plan: _Plan, row: int, cells: list[str]) -> StationResult:
    _check_width(plan, cells)

    def text(role: str) -> str:
        return cells[plan.fixed[role]].strip() if role in plan.fixed else ""

    def count(role: str) -> int | None:
        return _count(text(role), plan.name(role)) if role in plan.fixed else None

    commune = text("commune")
    if not commune:
        raise _BadCell(plan.name("commune"), _("The commune code is empty."))
    station = text("station")
    if not station:
        raise _BadCell(plan.name("station"), _("The polling station number is empty."))
    return StationResult(
        row=row,
        commune_code=_commune_code(text("department"), commune, plan),
        commune_name=text("commune_name"),
        station_number=normalise_station_number(station),
        registered=_count(text("registered"), plan.name("registered")),
        voters=_count(text("voters"), plan.name("voters")),
        abstentions=count("abstentions"),
        blank=count("blank"),
        null=count("null"),
        valid=_count(text("valid"), plan.name("valid")),
        candidates=tuple(
            _column_candidates(plan, cells) if plan.layout.kind == "columns" else _block_candidates(plan, cells)
        ),
        constituency=text("constituency"),
    )


def _check_width(plan: _Plan, cells: list[str]) -> None:
    expected = len(plan.headers)
    if plan.layout.kind == "blocks" and not plan.layout.named_blocks:
        # Later blocks have no header names: rows are as long as their candidates need.
        needed = max(plan.block_start, *(index + 1 for index in plan.fixed.values()))
        if len(cells) < needed:
            raise _BadCell(
                "",
                _("This row has %(found)s cells but the fixed columns alone need %(expected)s.")
                % {"found": _number(len(cells)), "expected": _number(needed)},
            )
        return
    # A spreadsheet may add empty cells at the end of a row: harmless.
    if len(cells) < expected or any(cell.strip() for cell in cells[expected:]):
        raise _BadCell(
            "",
            _("This row has %(found)s cells but the header has %(expected)s: check separators and quotes.")
            % {"found": _number(len(cells)), "expected": _number(expected)},
        )


def _block_candidates(plan: _Plan, cells: list[str]) -> Iterator[CandidateResult]:
    width = plan.block_width
    for number, start in enumerate(range(plan.block_start, len(cells), width), start=1):
        block = [cell.strip() for cell in cells[start : start + width]]
        if not any(block):
            continue  # an unused block
        block += [""] * (width - len(block))

        def text(role: str, block: list[str] = block) -> str:
            return block[plan.block[role]] if role in plan.block else ""

        list_name = text("list_name") or text("short_name")
        yield CandidateResult(
            panel=text("panel"),
            nuance=text("nuance"),
            name=list_name or text("name"),
            first_name="" if list_name else text("first_name"),
            sex=SEXES.get(_fold(text("sex")), ""),
            votes=_count(text("votes"), plan.block_column("votes", number)),
            elected=_elected(text("elected")) if "elected" in plan.block else None,
        )


def _column_candidates(plan: _Plan, cells: list[str]) -> Iterator[CandidateResult]:
    for index in plan.candidate_columns:
        votes = cells[index].strip()
        if not votes:
            continue  # no candidate of that name or family at this polling station
        name = plan.headers[index]
        yield CandidateResult(
            panel="",
            nuance=name if name.upper() in NUANCE_CODES else "",
            name=name,
            first_name="",
            sex="",
            votes=_count(votes, name),
            elected=None,
        )


def _elected(value: str) -> bool | None:
    folded = _fold(value)
    if COUNT.fullmatch(folded) and len(folded) <= MAX_COUNT_DIGITS:
        return int(folded) > 0  # a seat count
    if folded in ELECTED_WORDS:
        return True
    if folded in NOT_ELECTED_WORDS:
        return False
    return None


def _count(value: str, column: str, *, thousands_commas: bool = False) -> int:
    compact = value.strip().translate(NUMBER_SPACES)
    if thousands_commas and US_COUNT.fullmatch(compact):
        compact = compact.replace(",", "")
    if not compact:
        raise _BadCell(column, _("%(column)s is empty: a number is needed.") % {"column": column})
    if not COUNT.fullmatch(compact):
        raise _BadCell(
            column,
            _("%(column)s must be a whole number, not %(value)s.") % {"column": column, "value": _shown(value)},
        )
    if len(compact.lstrip("0")) > MAX_COUNT_DIGITS:
        raise _BadCell(
            column, _("%(column)s is far too large: %(value)s.") % {"column": column, "value": _shown(value)}
        )
    return int(compact)


# --- Codes ------------------------------------------------------------------


def normalise_station_number(code: str) -> str:
    """Polling-station number padded to 4 digits, letters kept: "1" -> "0001", "12B" -> "0012B".
    Codes that do not start with a digit are kept as found."""
    code = code.strip()
    match = STATION_NUMBER.fullmatch(code)
    if not match:
        return code
    digits, rest = match.groups()
    return (digits.lstrip("0") or "0").zfill(4) + rest


def commune_insee_code(department: str, commune: str) -> str:
    """The 5-character INSEE code of a commune, from a file's département and commune codes.

    A commune code of 4 characters or more is already whole (a spreadsheet may have
    dropped its leading zero: "1001" -> "01001"). Otherwise: "29" + "19" -> "29019",
    "1" + "2" -> "01002", "2A" + "4" -> "2A004", "971" + "101" -> "97101",
    "ZA" + "101" -> "97101", "ZM" + "508" -> "97608"."""
    department, commune = department.strip().upper(), commune.strip().upper()
    if len(commune) >= 4:
        if COUNT.fullmatch(commune):
            return commune.zfill(5)
        prefix, number = commune[:2], commune[2:]
        if (prefix in OVERSEAS_DEPARTMENTS or prefix == "ZX") and COUNT.fullmatch(number) and len(number) == 3:
            department, commune = prefix, number  # "ZA101"
        else:
            return commune
    commune = commune.zfill(3)
    if department == "ZX":  # Saint-Barthélemy "701" -> 97701, Saint-Martin "801" -> 97801
        return "97" + commune
    department = OVERSEAS_DEPARTMENTS.get(department, department)
    if len(department) == 3 and COUNT.fullmatch(department):
        return department + commune[-2:]
    return department.zfill(2) + commune


def _commune_code(department: str, commune: str, plan: _Plan) -> str:
    if len(commune) < 4 and not department:
        column = plan.name("department") if "department" in plan.fixed else plan.name("commune")
        raise _BadCell(column, _("The département code is empty: the commune code alone is not enough."))
    return commune_insee_code(department, commune)


# --- OpenElections: one row per precinct × office × candidate ---------------


@dataclass
class _Precinct:
    """What has been read so far of one precinct's contest."""

    row: int
    county: str
    precinct: str
    office: str
    district: str
    candidates: list[CandidateResult] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)


def _parse_long(plan: _Plan, rows: Iterable[tuple[int, list[str]]]) -> Iterator[StationResult | RowProblem]:
    """Rows are grouped by (county, precinct, office, district) over the whole file, because the
    files are not sorted by precinct (the Delaware sample lists one candidate's precincts, then the
    next candidate's). State files are small (a few thousand precincts); problems come first, as found."""
    contests: dict[tuple[str, str, str, str], _Precinct] = {}
    precinct_totals: dict[tuple[str, str], dict[str, int]] = {}
    for row, cells in rows:
        try:
            _read_long_row(plan, row, cells, contests, precinct_totals)
        except _BadCell as problem:
            yield RowProblem(row=row, field=problem.column, message=problem.message)
    for contest in contests.values():
        yield _contest_result(contest, precinct_totals.get((contest.county, contest.precinct), {}))


def _read_long_row(
    plan: _Plan,
    row: int,
    cells: list[str],
    contests: dict[tuple[str, str, str, str], _Precinct],
    precinct_totals: dict[tuple[str, str], dict[str, int]],
) -> None:
    _check_width(plan, cells)

    def text(role: str) -> str:
        return cells[plan.fixed[role]].strip() if role in plan.fixed else ""

    county, precinct, office, candidate = text("county"), text("precinct"), text("office"), text("candidate")
    for role in ("county", "precinct"):
        if not text(role):
            raise _BadCell(plan.name(role), _("%(column)s is empty.") % {"column": plan.name(role)})
    votes = _count(text("votes"), plan.name("votes"), thousands_commas=True)
    # Totals come either as an office with no candidate ("Registered Voters") or as a candidate
    # of an office ("Over Votes"). Registered voters are the precinct's, whatever the office.
    office_total, candidate_total = US_TOTALS.get(_fold(office)), US_TOTALS.get(_fold(candidate))
    precinct_total = office_total if office_total in ("registered", "voters") else None
    if precinct_total or candidate_total == "registered":
        precinct_totals.setdefault((county, precinct), {})[precinct_total or "registered"] = votes
        return
    key = (county, precinct, office, text("district"))
    contest = contests.setdefault(key, _Precinct(row, county, precinct, office, text("district")))
    if candidate_total:
        contest.totals[candidate_total] = contest.totals.get(candidate_total, 0) + votes
        return
    contest.candidates.append(
        CandidateResult(
            panel="", nuance=text("party"), name=candidate, first_name="", sex="", votes=votes, elected=None
        )
    )


def _contest_result(contest: _Precinct, precinct_totals: dict[str, int]) -> StationResult:
    """Registered voters and ballots cast come from their total rows when the file has them;
    otherwise registered is 0 (unknown) and voters are the valid votes."""
    valid = sum(candidate.votes for candidate in contest.candidates)
    totals = {**precinct_totals, **contest.totals}
    return StationResult(
        row=contest.row,
        commune_code=contest.county,
        commune_name=contest.county,
        station_number=contest.precinct,
        registered=totals.get("registered", 0),
        voters=totals.get("voters", valid),
        abstentions=None,
        blank=totals.get("blank"),
        null=totals.get("null"),
        valid=valid,
        candidates=tuple(contest.candidates),
        constituency=contest.district,
        office=contest.office,
    )


# --- Invariants -------------------------------------------------------------


def check_invariants(result: StationResult) -> list[RowProblem]:
    """The sums a consistent result obeys; each broken one gives a RowProblem.
    A sum whose terms the file does not give (abstentions, blank or null unknown) is not checked."""
    checks = (_check_turnout(result), _check_ballots(result), _check_votes(result))
    return [RowProblem(result.row, invariant, message) for invariant, message in filter(None, checks)]


def _check_turnout(result: StationResult) -> tuple[str, str] | None:
    if result.abstentions is None or result.registered == result.voters + result.abstentions:
        return None
    message = _("Registered (%(registered)s) ≠ voters (%(voters)s) + abstentions (%(abstentions)s).") % {
        "registered": _number(result.registered),
        "voters": _number(result.voters),
        "abstentions": _number(result.abstentions),
    }
    return TURNOUT_INVARIANT, message


def _check_ballots(result: StationResult) -> tuple[str, str] | None:
    if result.blank is None or result.null is None or result.voters == result.valid + result.blank + result.null:
        return None
    message = _("Voters (%(voters)s) ≠ valid (%(valid)s) + blank (%(blank)s) + null (%(null)s).") % {
        "voters": _number(result.voters),
        "valid": _number(result.valid),
        "blank": _number(result.blank),
        "null": _number(result.null),
    }
    return BALLOTS_INVARIANT, message


def _check_votes(result: StationResult) -> tuple[str, str] | None:
    total = sum(candidate.votes for candidate in result.candidates)
    if total == result.valid:
        return None
    message = _("Sum of the candidates' votes (%(total)s) ≠ valid votes (%(valid)s).") % {
        "total": _number(total),
        "valid": _number(result.valid),
    }
    return VOTES_INVARIANT, message


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def _shown(text: str) -> str:
    """A value quoted in a message, cut short so that a hostile one cannot flood it."""
    return f"“{text}”" if len(text) <= SHOWN_CHARS else f"“{text[:SHOWN_CHARS]}…”"
