"""Reading official results files: golden values from real slices (read from the
original files), constructed files for the layouts without a real sample, bad
rows, the three invariants, and properties over arbitrary input.

Fixture files are read through the import pipeline's own reader, as in production."""

import csv
import dataclasses
import functools
import re
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from suffrage.elections.parsers import (
    BALLOTS_INVARIANT,
    FORMATS,
    TURNOUT_INVARIANT,
    VOTES_INVARIANT,
    CandidateResult,
    ResultsFormatError,
    RowProblem,
    StationResult,
    check_invariants,
    commune_insee_code,
    detect_format,
    normalise_station_number,
    parse_results,
)
from suffrage.imports.readers import iter_rows, sniff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"
T1 = "legislatives-2024-t1-29-circ2-3-slice.csv"
T2 = "legislatives-2024-t2-29-circ2-3-slice.csv"
OPENELECTIONS = "20200707__de__primary__president__precinct-slice.csv"
HISTORY = [
    "history-2014-europeennes-dep29-slice.csv",
    "history-2017-legislatives-1-dep29-slice.csv",
    "history-2017-legislatives-2-dep29-slice.csv",
    "history-2017-presidentielle-1-dep29-slice.csv",
    "history-2017-presidentielle-2-dep29-slice.csv",
]
REAL_FILES = [T1, T2, OPENELECTIONS, *HISTORY]
CONSTRUCTED_FILES = [
    "europeennes-2024-constructed.csv",
    "presidentielle-2022-constructed.csv",
    "legislatives-2022-constructed.csv",
    "municipales-2020-constructed.csv",
]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def read(path):
    """(headers, rows) as the import pipeline reads them."""
    sniffed = sniff(path, filename=path.name)
    return sniffed.headers, list(iter_rows(path, sniffed=sniffed))


@functools.cache
def headers_of(name):
    return read(FIXTURES / name)[0]


def parse_file(name):
    headers, rows = read(FIXTURES / name)
    return list(parse_results(headers, rows))


def results_of(name):
    """Every result of a file that must read without a problem."""
    items = parse_file(name)
    assert [item for item in items if isinstance(item, RowProblem)] == []
    return items


def result_for(name, station_code):
    (result,) = [result for result in results_of(name) if result.station_code == station_code]
    return result


def candidate(result, name):
    (found,) = [candidate for candidate in result.candidates if candidate.name == name]
    return found


# --- Legislative 2024: real files ----------------------------------------------


def test_round_1_re_saved_file_reads_a_brest_station():
    result = result_for(T1, "29019_0001")
    assert (result.commune_name, result.station_number) == ("Brest", "0001")
    assert (result.registered, result.voters, result.abstentions) == (910, 653, 257)
    assert (result.valid, result.blank, result.null) == (628, 25, 0)
    assert len(result.candidates) == 8  # the other 11 blocks of the header are empty
    assert candidate(result, "SMOLARZ") == CandidateResult(
        panel="4", nuance="UG", name="SMOLARZ", first_name="Pierre", sex="M", votes=220, elected=False
    )
    assert candidate(result, "DONVAL").sex == "F"


def test_round_2_quoted_file_reads_a_brest_station_and_its_elected_candidate():
    result = result_for(T2, "29019_0001")
    assert (result.registered, result.voters, result.abstentions) == (911, 651, 260)
    assert (result.valid, result.blank, result.null) == (611, 40, 0)
    assert [(c.panel, c.nuance, c.name, c.votes, c.elected) for c in result.candidates] == [
        ("2", "ENS", "LE GAC", 450, True),
        ("3", "RN", "DONVAL", 161, False),
    ]


def test_three_digit_station_numbers_are_padded_in_both_files():
    assert result_for(T1, "29019_0100").candidates[6].votes == 133  # CADALEN, round 1
    round_2 = result_for(T2, "29019_0100")
    assert (round_2.registered, round_2.voters, round_2.valid) == (790, 519, 504)
    assert candidate(round_2, "CADALEN").elected is True


def test_quoted_and_re_saved_files_both_give_four_digit_station_numbers():
    round_1 = [result.station_code for result in results_of(T1)]
    round_2 = [result.station_code for result in results_of(T2)]
    assert round_1 == round_2  # the slices hold the same polling stations, in the same order
    assert all(len(code.split("_")[1]) == 4 for code in round_1)
    assert round_1[0] == "29011_0001"


def test_a_file_re_saved_without_quotes_or_padding_gives_the_same_results(tmp_path):
    """What Excel does to the official file: quotes dropped, "0001" becomes 1."""
    headers, rows = read(FIXTURES / T2)
    re_saved = tmp_path / "re-saved.csv"
    with re_saved.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
        writer.writerow(headers)
        for _, cells in rows:
            writer.writerow([cells[0], *cells[1:4], str(int(cells[4])), *cells[5:]])
    assert "0001" not in re_saved.read_text(encoding="utf-8").splitlines()[1]
    assert list(parse_results(*read(re_saved))) == results_of(T2)


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_rows_obey_the_three_invariants(name):
    results = results_of(name)
    assert results
    assert [problem for result in results for problem in check_invariants(result)] == []


# --- Cleaned history: real files ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "figures", "column", "nuance", "votes"),
    [
        # (registered, voters, blank, valid, constituency), read from the original files
        (HISTORY[0], (871, 430, None, 401, ""), "LFN", "LFN", 42),
        (HISTORY[1], (872, 509, 12, 497, "3"), "REM", "REM", 190),
        (HISTORY[2], (872, 404, 33, 371, "3"), "DVG", "DVG", 176),
        (HISTORY[3], (886, 729, 19, 710, "3"), "MÉLENCHON", "", 121),
        (HISTORY[4], (886, 685, 85, 600, "3"), "MACRON", "", 498),
    ],
)
def test_history_files_read_brest_station_1(name, figures, column, nuance, votes):
    result = result_for(name, "29019_0001")
    assert (result.registered, result.voters, result.blank, result.valid, result.constituency) == figures
    assert (result.abstentions, result.null) == (None, None)  # not in this format
    assert candidate(result, column) == CandidateResult(
        panel="", nuance=nuance, name=column, first_name="", sex="", votes=votes, elected=None
    )


def test_history_files_join_departement_and_3_digit_commune():
    assert [result.station_code for result in results_of(HISTORY[0])][:3] == [
        "29001_0001",
        "29002_0001",
        "29003_0001",
    ]


def test_an_empty_history_cell_means_no_such_candidate_here():
    headers, rows = read(FIXTURES / HISTORY[4])
    number, cells = rows[0]
    (result,) = parse_results(headers, [(number, [*cells[:-1], ""])])
    assert [c.name for c in result.candidates] == ["LE PEN"]


def test_a_history_file_without_candidate_columns_reads_no_candidates():
    headers = ["departement", "commune", "bureau", "commune_libelle", "inscrits", "votants", "exprimes"]
    (result,) = parse_results(headers, [(2, ["29", "19", "1", "Brest", "10", "5", "0"])])
    assert (result.station_code, result.candidates) == ("29019_0001", ())


# --- OpenElections: real file (sorted by candidate, not by precinct) ---------------


def test_openelections_rows_are_grouped_by_precinct_and_office():
    results = results_of(OPENELECTIONS)
    assert [result.station_code for result in results] == [
        "New Castle_01~01",
        "NA_02~18",
        "New Castle_08~05",
        "Kent_11~05",
    ]
    first = results[0]
    assert (first.row, first.office, first.constituency) == (2, "President and Vice President", "1")
    assert [(c.nuance, c.votes) for c in first.candidates] == [
        ("Democratic Party", 725),
        ("Republican Party", 51),
        ("Green Party Of Delaware", 4),
        ("Libertarian Party", 10),
    ]
    # No "Registered Voters" or "Ballots Cast" rows in this file.
    assert (first.registered, first.voters, first.valid, first.abstentions) == (0, 790, 790, None)


def test_openelections_reads_the_votes_column_not_the_comma_grouped_ones():
    result = result_for(OPENELECTIONS, "New Castle_08~05")  # election_day "1,057" + absentee 443
    assert result.candidates[0].votes == 1500


def test_openelections_totals_rows_fill_registered_voters_blank_and_null():
    headers = ["county", "precinct", "office", "district", "party", "candidate", "votes"]
    rows = [
        (2, ["Kent", "P1", "Governor", "", "DEM", "Ada", "1,200"]),
        (3, ["Kent", "P1", "Registered Voters", "", "", "", "4,000"]),
        (4, ["Kent", "P1", "Governor", "", "REP", "Bob", "700"]),
        (5, ["Kent", "P1", "Ballots Cast", "", "", "", "2,000"]),
        (6, ["Kent", "P1", "Governor", "", "", "Over Votes", "40"]),
        (7, ["Kent", "P1", "Governor", "", "", "Under Votes", "60"]),
        (8, ["Kent", "P1", "Senate", "2", "DEM", "Cy", "not a number"]),
        (9, ["Kent", "P1", "Senate", "2", "DEM", "Cy", "1900"]),
        (10, ["Kent", "P1", "Senate", "2"]),
    ]
    problem_1, problem_2, governor, senate = parse_results(headers, rows)
    assert (problem_1.row, problem_1.field) == (8, "votes")
    assert problem_2.row == 10
    assert (governor.office, governor.registered, governor.voters) == ("Governor", 4000, 2000)
    assert (governor.valid, governor.blank, governor.null) == (1900, 60, 40)
    assert [c.name for c in governor.candidates] == ["Ada", "Bob"]
    assert (senate.row, senate.constituency, senate.valid, senate.registered) == (9, "2", 1900, 4000)
    assert check_invariants(governor) == check_invariants(senate) == []


# --- Constructed files: the layouts without a real sample -----------------------------


def test_european_2024_lists_read_with_their_full_label():
    result = result_for("europeennes-2024-constructed.csv", "29019_0001")
    assert (result.registered, result.voters, result.abstentions) == (1000, 520, 480)
    assert (result.valid, result.blank, result.null) == (500, 12, 8)
    assert result.candidates[0] == CandidateResult(
        panel="5",
        nuance="LRN",
        name="EUROPE DES NATIONS - LISTE D'EXEMPLE",
        first_name="",
        sex="",
        votes=180,
        elected=None,  # "Sièges" are national seats, not this polling station's
    )
    assert [c.nuance for c in result.candidates] == ["LRN", "LENS", "LUG"]


def test_presidential_2022_finds_unnamed_candidate_blocks_by_position():
    results = results_of("presidentielle-2022-constructed.csv")  # Windows-1252, header one block wide
    assert [result.station_code for result in results] == ["01001_0001", "2A004_0001", "97101_0001", "29019_0001"]
    first = results[0]
    assert (first.registered, first.abstentions, first.voters, first.blank, first.null, first.valid) == (
        643,
        131,
        512,
        9,
        3,
        500,
    )
    assert (first.commune_name, first.constituency) == ("L'Abergement-Clémenciat", "01")
    assert first.candidates[2] == CandidateResult(
        panel="3", nuance="", name="LE GALL", first_name="Anne-Marie", sex="F", votes=119, elected=None
    )


def test_legislative_2017_2022_blocks_carry_a_nuance_and_rows_vary_in_length():
    headers, rows = read(FIXTURES / "legislatives-2022-constructed.csv")
    assert detect_format(headers).key == "legislative_2017_2022"
    assert [len(cells) for _, cells in rows] == [21 + 3 * 8, 21 + 3 * 8, 21 + 2 * 8]
    brest, _, bohars = parse_results(headers, rows)
    assert [(c.name, c.nuance, c.votes) for c in brest.candidates] == [
        ("DURAND", "NUP", 250),
        ("MARTIN", "ENS", 200),
        ("KERGUELEN", "RN", 94),
    ]
    assert (bohars.station_code, bohars.constituency, len(bohars.candidates)) == ("29011_0001", "03", 2)


def test_municipal_2020_lists_read_with_seats_as_elected():
    result = result_for("municipales-2020-constructed.csv", "29011_0002")
    assert (result.registered, result.voters, result.valid) == (890, 450, 435)
    assert result.candidates[0] == CandidateResult(
        panel="1", nuance="LDVG", name="BOHARS ENSEMBLE", first_name="", sex="F", votes=250, elected=True
    )
    assert [c.elected for c in result.candidates] == [True, True, False]  # 22, 5 and 0 seats


@pytest.mark.parametrize("name", CONSTRUCTED_FILES)
def test_constructed_files_obey_the_three_invariants(name):
    assert [problem for result in results_of(name) for problem in check_invariants(result)] == []


# --- Format detection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        (T1, "legislative_2024"),
        (T2, "legislative_2024"),
        (HISTORY[0], "cleaned_history"),
        (HISTORY[3], "cleaned_history"),
        (OPENELECTIONS, "openelections"),
        ("europeennes-2024-constructed.csv", "european_2024"),
        ("presidentielle-2022-constructed.csv", "presidential_2022"),
        ("legislatives-2022-constructed.csv", "legislative_2017_2022"),
        ("municipales-2020-constructed.csv", "municipal_2020"),
    ],
)
def test_each_format_is_recognised_from_its_header(name, key):
    headers, _ = read(FIXTURES / name)
    assert detect_format(headers) == FORMATS[key]


def test_header_case_accents_and_spaces_do_not_matter():
    headers, _ = read(FIXTURES / T2)
    assert detect_format([header.upper().replace("É", "E") for header in headers]).key == "legislative_2024"


def test_an_unknown_header_names_the_known_formats_and_what_was_found():
    with pytest.raises(ResultsFormatError) as error:
        detect_format(["Nom", "Prénom", "Email"])
    message = str(error.value)
    assert "match no known results format" in message
    assert "Legislative elections 2024" in message and "OpenElections" in message
    assert "“Nom”, “Prénom”, “Email”" in message


def test_a_header_close_to_a_format_says_which_columns_it_lacks():
    headers, _ = read(FIXTURES / T2)
    with pytest.raises(
        ResultsFormatError, match=r"looks like Legislative elections 2024.*lacks these columns: Code BV"
    ):
        detect_format([header for header in headers if header != "Code BV"])


def test_an_empty_header_is_an_unknown_format():
    with pytest.raises(ResultsFormatError):
        detect_format([])


def test_a_format_imposed_on_the_wrong_header_is_refused_at_once():
    headers, _ = read(FIXTURES / HISTORY[0])
    with pytest.raises(ResultsFormatError, match="lacks columns of the format"):
        parse_results(headers, [], fmt=FORMATS["legislative_2024"])  # before any row is read


# --- Invariants -----------------------------------------------------------------------


def station(**changes):
    """A consistent result (all three invariants hold), with some figures changed."""
    consistent = StationResult(
        row=7,
        commune_code="29019",
        commune_name="Brest",
        station_number="0001",
        registered=1000,
        voters=700,
        abstentions=300,
        blank=15,
        null=5,
        valid=680,
        candidates=(
            CandidateResult("1", "UG", "A", "", "F", 400, None),
            CandidateResult("2", "RN", "B", "", "M", 280, None),
        ),
    )
    return dataclasses.replace(consistent, **changes)


def test_a_consistent_result_has_no_problem():
    assert check_invariants(station()) == []


def test_registered_must_be_voters_plus_abstentions():
    assert check_invariants(station(abstentions=250)) == [
        RowProblem(7, TURNOUT_INVARIANT, "Registered (1,000) ≠ voters (700) + abstentions (250).")
    ]


def test_voters_must_be_valid_plus_blank_plus_null():
    assert check_invariants(station(null=6)) == [
        RowProblem(7, BALLOTS_INVARIANT, "Voters (700) ≠ valid (680) + blank (15) + null (6).")
    ]


def test_candidates_votes_must_add_up_to_the_valid_votes():
    short = (station().candidates[0], dataclasses.replace(station().candidates[1], votes=279))
    assert check_invariants(station(candidates=short)) == [
        RowProblem(7, VOTES_INVARIANT, "Sum of the candidates' votes (679) ≠ valid votes (680).")
    ]


def test_a_sum_with_unknown_terms_is_not_checked():
    assert check_invariants(station(abstentions=None, blank=None, registered=5, voters=9999)) == []
    assert check_invariants(station(null=None, abstentions=None, voters=1)) == []


def test_every_broken_invariant_is_reported():
    problems = check_invariants(station(registered=1, voters=2, valid=3))
    assert [problem.field for problem in problems] == [TURNOUT_INVARIANT, BALLOTS_INVARIANT, VOTES_INVARIANT]


# --- Bad rows: a problem for the row, and the next row is read ------------------------------


def t2_with(row_index, change):
    """The round-2 slice with one row's cells changed by `change`."""
    headers, rows = read(FIXTURES / T2)
    number, cells = rows[row_index]
    rows[row_index] = (number, change(list(cells)))
    return list(parse_results(headers, rows)), number


def set_cell(index, value):
    def change(cells):
        cells[index] = value
        return cells

    return change


def test_a_non_numeric_count_is_a_problem_naming_the_row_and_column():
    items, number = t2_with(2, set_cell(5, "9x7"))
    assert items[2] == RowProblem(number, "Inscrits", "Inscrits must be a whole number, not “9x7”.")
    assert [isinstance(item, StationResult) for item in items] == [True, True, False, True, True, True, True]


def test_a_ragged_row_is_a_problem():
    items, number = t2_with(0, lambda cells: cells[:-5])
    assert items[0] == RowProblem(
        number, "", "This row has 50 cells but the header has 55: check separators and quotes."
    )
    assert all(isinstance(item, StationResult) for item in items[1:])


def test_empty_cells_after_the_last_column_are_harmless():
    items, _ = t2_with(0, lambda cells: [*cells, "", ""])
    assert items == results_of(T2)


def test_an_empty_vote_count_in_a_used_block_is_a_problem():
    items, number = t2_with(0, set_cell(19 + 9 + 5, ""))  # Voix 2
    assert items[0] == RowProblem(number, "Voix 2", "Voix 2 is empty: a number is needed.")


@pytest.mark.parametrize(
    ("index", "column", "message"),
    [
        (2, "Code commune", "The commune code is empty."),
        (4, "Code BV", "The polling station number is empty."),
    ],
)
def test_missing_commune_or_station_is_a_problem(index, column, message):
    items, number = t2_with(0, set_cell(index, ""))
    assert items[0] == RowProblem(number, column, message)


def test_an_unnamed_block_is_named_by_position_in_problems():
    headers, rows = read(FIXTURES / "presidentielle-2022-constructed.csv")
    number, cells = rows[0]
    cells = list(cells)
    cells[21 + 2 * 7 + 4] = "beaucoup"
    (problem,) = parse_results(headers, [(number, cells)])
    assert (problem.field, problem.message) == ("Voix 3", "Voix 3 must be a whole number, not “beaucoup”.")


def test_a_row_shorter_than_the_fixed_columns_is_a_problem():
    headers, rows = read(FIXTURES / "presidentielle-2022-constructed.csv")
    number, cells = rows[0]
    (problem,) = parse_results(headers, [(number, cells[:10])])
    assert problem.message == "This row has 10 cells but the fixed columns alone need 21."


@pytest.mark.parametrize(
    ("cell", "count"),
    [("1234", 1234), ("1 234", 1234), ("1\u202f234", 1234), ("1\u00a0234", 1234), (" 0012 ", 12)],
)
def test_counts_may_hold_spaces_between_thousands(cell, count):
    items, _ = t2_with(0, set_cell(5, cell))
    assert items[0].registered == count


@pytest.mark.parametrize("cell", ["12,5", "-3", "1,234", "½", "١٢", "9" * 13])
def test_other_counts_are_problems(cell):
    items, _ = t2_with(0, set_cell(5, cell))
    assert isinstance(items[0], RowProblem) and items[0].field == "Inscrits"


@pytest.mark.parametrize(
    ("cell", "elected"),
    [
        ("élu", True),
        ("ELU", True),
        ("Elue", True),
        ("true", True),
        ("", False),
        ("QUALIF T2", False),
        ("Non élu", False),
        ("peut-être", None),
    ],
)
def test_elu_column_values(cell, elected):
    items, _ = t2_with(0, set_cell(19 + 8, cell))  # Elu 1
    assert items[0].candidates[0].elected is elected


# --- Codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("department", "commune", "insee"),
    [
        ("29", "019", "29019"),
        ("29", "19", "29019"),
        ("1", "2", "01002"),  # leading zeros dropped by a spreadsheet
        ("01", "001", "01001"),
        ("2A", "004", "2A004"),
        ("2b", "33", "2B033"),
        ("971", "101", "97101"),
        ("971", "01", "97101"),
        ("ZA", "101", "97101"),  # the Ministry's letter codes for overseas
        ("ZA", "110", "97110"),
        ("ZB", "209", "97209"),
        ("ZC", "302", "97302"),
        ("ZD", "416", "97416"),
        ("ZM", "508", "97608"),  # Mayotte keeps its former numbering (985…)
        ("ZN", "818", "98818"),
        ("ZP", "14", "98714"),
        ("ZS", "502", "97502"),
        ("ZX", "701", "97701"),  # Saint-Barthélemy
        ("ZX", "801", "97801"),  # Saint-Martin
        ("ZZ", "25", "ZZ025"),  # French people abroad: no INSEE code
        ("29", "29019", "29019"),  # already whole
        ("", "1001", "01001"),
        ("ZA", "ZA101", "97101"),
        ("2A", "2A004", "2A004"),
    ],
)
def test_commune_insee_code(department, commune, insee):
    assert commune_insee_code(department, commune) == insee


@pytest.mark.parametrize(
    ("code", "number"),
    [
        *[("1", "0001"), ("0001", "0001"), ("12", "0012"), ("100", "0100"), ("00001", "0001"), ("12345", "12345")],
        *[("1A", "0001A"), ("0001A", "0001A"), ("A1", "A1"), (" 7 ", "0007"), ("0", "0000")],
    ],
)
def test_station_numbers_are_padded_to_four_digits(code, number):
    assert normalise_station_number(code) == number


# --- Properties ---------------------------------------------------------------------------

FIXED_2024 = [
    "Code département",
    "Libellé département",
    "Code commune",
    "Libellé commune",
    "Code BV",
    "Inscrits",
    "Votants",
    "% Votants",
    "Abstentions",
    "% Abstentions",
    "Exprimés",
    "% Exprimés/inscrits",
    "% Exprimés/votants",
    "Blancs",
    "% Blancs/inscrits",
    "% Blancs/votants",
    "Nuls",
    "% Nuls/inscrits",
    "% Nuls/votants",
]
BLOCK_2024 = [
    "Numéro de panneau",
    "Nuance candidat",
    "Nom candidat",
    "Prénom candidat",
    "Sexe candidat",
    "Voix",
    "% Voix/inscrits",
    "% Voix/exprimés",
    "Elu",
]
SEX_WORDS = {"M": "MASCULIN", "F": "FEMININ", "": ""}
UNPADDED = re.compile(r"^0+(?=[0-9])")  # "0001" -> "1", as a spreadsheet re-saves it


def legislative_2024_header(blocks):
    return FIXED_2024 + [f"{name} {number}" for number in range(1, blocks + 1) for name in BLOCK_2024]


def legislative_2024_row(result, blocks):
    """A result written as the Ministry writes it (percentages are not read: any text will do)."""
    cells = [result.commune_code[:2], "Finistère", result.commune_code, result.commune_name]
    cells += [UNPADDED.sub("", result.station_number), str(result.registered), str(result.voters), "70,00%"]
    cells += [str(result.abstentions), "30%", str(result.valid), "1%", "2%", str(result.blank), "3%", "4%"]
    cells += [str(result.null), "5%", "6%"]
    for c in result.candidates:
        cells += [c.panel, c.nuance, c.name, c.first_name, SEX_WORDS[c.sex], str(c.votes), "7%", "8%"]
        cells.append("élu" if c.elected else "")
    return cells + [""] * (len(BLOCK_2024) * (blocks - len(result.candidates)))


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=15).map(str.strip)
counts = st.integers(min_value=0, max_value=10**7)
station_numbers = st.builds(
    lambda number, suffix: f"{number:04d}{suffix}", st.integers(0, 9999), st.sampled_from(["", "A", "B", "bis"])
)
commune_codes = st.one_of(st.from_regex(r"[0-9]{5}", fullmatch=True), st.from_regex(r"2[AB][0-9]{3}", fullmatch=True))
candidates = st.builds(
    CandidateResult,
    panel=st.integers(1, 40).map(str),
    nuance=st.one_of(st.sampled_from(["UG", "RN", "ENS", "LR", "DVG", ""]), texts),
    name=texts,
    first_name=texts,
    sex=st.sampled_from(["M", "F", ""]),
    votes=counts,
    elected=st.booleans(),
)
station_results = st.builds(
    StationResult,
    row=st.integers(2, 10**6),
    commune_code=commune_codes,
    commune_name=texts,
    station_number=station_numbers,
    registered=counts,
    voters=counts,
    abstentions=counts,
    blank=counts,
    null=counts,
    valid=counts,
    candidates=st.lists(candidates, min_size=1, max_size=6).map(tuple),
)


@settings(deadline=None)
@given(result=station_results, unused_blocks=st.integers(0, 3))
def test_a_result_written_as_legislative_2024_reads_back_the_same(result, unused_blocks):
    blocks = len(result.candidates) + unused_blocks
    row = legislative_2024_row(result, blocks)
    assert list(parse_results(legislative_2024_header(blocks), [(result.row, row)])) == [result]


@given(code=st.one_of(st.builds(str.__add__, st.integers(0, 10**6).map(str), st.sampled_from(["", "A", "bis"])), texts))
def test_station_number_padding_is_idempotent(code):
    once = normalise_station_number(code)
    assert normalise_station_number(once) == once


@given(number=st.integers(0, 10**6))
def test_a_padded_station_number_keeps_its_value(number):
    padded = normalise_station_number(str(number))
    assert int(padded) == number and len(padded) >= 4


cells = st.one_of(texts, st.text(max_size=8), counts.map(str), st.sampled_from(["", "0001", "ZA", "2A", "élu"]))


def arbitrary_rows(width):
    row = st.one_of(st.lists(cells, min_size=width, max_size=width), st.lists(cells, max_size=width + 20))
    return st.lists(st.tuples(st.integers(2, 10**6), row), max_size=5)


# One file per way of reading: named blocks, unnamed blocks, one column per candidate, long format.
@pytest.mark.parametrize("name", [T2, "presidentielle-2022-constructed.csv", HISTORY[1], OPENELECTIONS])
@settings(deadline=None, max_examples=50)
@given(data=st.data())
def test_arbitrary_cells_give_results_or_problems_never_an_exception(name, data):
    headers = headers_of(name)
    rows = data.draw(arbitrary_rows(len(headers)))
    for item in parse_results(headers, rows):
        assert isinstance(item, StationResult | RowProblem)
        if isinstance(item, StationResult):
            check_invariants(item)


@pytest.mark.parametrize("name", [T2, "presidentielle-2022-constructed.csv", HISTORY[1], OPENELECTIONS])
@settings(deadline=None, max_examples=30)
@given(data=st.data())
def test_a_shuffled_header_is_read_or_refused_never_an_exception(name, data):
    headers = data.draw(st.permutations(headers_of(name)))
    rows = data.draw(arbitrary_rows(len(headers)))
    try:
        items = list(parse_results(headers, rows))
    except ResultsFormatError:
        return
    assert all(isinstance(item, StationResult | RowProblem) for item in items)


@given(headers=st.lists(texts, max_size=30))
def test_any_header_is_recognised_or_refused_with_a_format_error(headers):
    try:
        detect_format(headers)
    except ResultsFormatError as error:
        assert str(error)
