"""Synthetic electoral rolls and noisy signups: shape, distributions and noise (no database)."""

import csv
import datetime
import re
import unicodedata
from collections import Counter

import pytest

from suffrage.roll.synthetic import OFFICIAL_COLUMNS, RollStation, Signup, noisy_signups, synthetic_roll, write_roll_csv

STREETS = (
    "rue de Siam",
    "rue Jean Jaurès",
    "boulevard Gambetta",
    "place de la Liberté",
    "avenue Foch",
    "allée des Tilleuls",
    "impasse des Lilas",
    "quai de la Douane",
    "chemin du Moulin",
    "route du Conquet",
    "Cité Kérangoff",
)
BREST_STATIONS = tuple(
    RollStation(
        code=f"29019_{n:04d}",
        number=f"{n:04d}",
        name=f"École {n}",
        commune_code="29019",
        commune_name="Brest",
        postcode="29200",
        streets=STREETS[n % 7 : n % 7 + 5],
    )
    for n in range(1, 11)
)
GUIPAVAS = RollStation("29075_0001", "0001", "Mairie", "29075", "Guipavas", "29490", ("rue de Paris", "rue de Brest"))
STATIONS = (*BREST_STATIONS, GUIPAVAS)
CREATED_ON = datetime.date(2026, 3, 1)
DATE = re.compile(r"(\d\d)/(\d\d)/(\d{4})")
PARTIAL_DATE = re.compile(r"00/(00|0[1-9]|1[0-2])/\d{4}")


def plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def fold(text: str) -> str:
    return " ".join(plain(text).upper().replace("-", " ").split())


def age(row: dict[str, str]) -> int:
    day, month, year = (int(part) for part in row["DateDeNaissance"].split("/"))
    return CREATED_ON.year - year - ((max(month, 1), max(day, 1)) > (CREATED_ON.month, CREATED_ON.day))


def address(row: dict[str, str]) -> tuple[str, ...]:
    keys = ("CodeCommune", "NoBureauDeVote", "NumeroVoie", "TypeVoie", "LibelleVoie", "ComplementDeLocalisation1")
    return tuple(fold(row[key]) for key in keys)


@pytest.fixture(scope="module")
def roll() -> list[dict[str, str]]:
    return list(synthetic_roll(40_000, STATIONS, seed=11, created_on=CREATED_ON))


@pytest.fixture(scope="module")
def signups(roll) -> list[Signup]:
    return list(noisy_signups(roll, 5_000, seed=12))


# Rolls


def test_rows_have_the_official_columns(roll):
    assert len(OFFICIAL_COLUMNS) == 29
    assert OFFICIAL_COLUMNS[:3] == ["TypeListe", "InfoListe", "DateCreationListe"]
    assert OFFICIAL_COLUMNS[-1] == "Pays"
    assert all(list(row) == OFFICIAL_COLUMNS for row in roll[:1000])
    assert all(isinstance(value, str) for row in roll[:1000] for value in row.values())
    assert {row["DateCreationListe"] for row in roll} == {"01/03/2026"}
    assert all("SYNTH" in row["InfoListe"] for row in roll)  # labelled fictitious in the file itself
    assert {row["Sexe"] for row in roll} == {"F", "M"}


def test_generation_is_deterministic_for_a_seed():
    first = list(synthetic_roll(800, STATIONS, seed=5))
    assert first == list(synthetic_roll(800, STATIONS, seed=5))
    assert first != list(synthetic_roll(800, STATIONS, seed=6))
    assert len(first) == 800
    assert list(synthetic_roll(0, STATIONS)) == []


def test_elector_numbers_are_unique(roll):
    numbers = [row["NoElecteurGeneral"] for row in roll[:20_000]]
    assert len(set(numbers)) == 20_000
    assert all(re.fullmatch(r"[1-9]\d{8}", number) for number in numbers)


def test_birth_dates_parse_except_the_rare_partial_ones(roll):
    partial = [row for row in roll if PARTIAL_DATE.fullmatch(row["DateDeNaissance"])]
    for row in roll:
        if PARTIAL_DATE.fullmatch(row["DateDeNaissance"]):
            continue
        day, month, year = DATE.fullmatch(row["DateDeNaissance"]).groups()
        datetime.date(int(year), int(month), int(day))
    assert 0 < len(partial) <= 0.003 * len(roll)
    assert all(row["DeptNaissance"] == "99" and row["PaysNaissance"] for row in partial)


def test_ages_look_like_the_adult_population(roll):
    ages = sorted(map(age, roll))
    assert ages[0] >= 18 and ages[-1] <= 100
    assert 45 <= ages[len(ages) // 2] <= 56
    assert 0.13 < sum(a < 30 for a in ages) / len(ages) < 0.24
    assert 0.04 < sum(a >= 80 for a in ages) / len(ages) < 0.12
    assert 0.48 < sum(row["Sexe"] == "F" for row in roll) / len(roll) < 0.56
    later = list(synthetic_roll(2000, STATIONS, created_on=datetime.date(2040, 6, 1)))
    assert min(int(row["DateDeNaissance"][-4:]) for row in later) >= 1939


def top_first_names(roll, sex: str, decade: int, count: int) -> list[str]:
    names = Counter(
        fold(row["Prenoms"].split(" ")[0])
        for row in roll
        if row["Sexe"] == sex and int(row["DateDeNaissance"][-4:]) // 10 * 10 == decade
    )
    return [name for name, _ in names.most_common(count)]


def test_first_names_follow_the_birth_decade(roll):
    women_1950s = top_first_names(roll, "F", 1950, 10)
    assert "MARTINE" in women_1950s[:4]
    assert len(set(women_1950s) & {"MARIE", "MARTINE", "FRANCOISE", "CHANTAL", "CATHERINE", "BRIGITTE", "MONIQUE"}) >= 5
    assert not set(top_first_names(roll, "F", 1950, 60)) & {"LEA", "EMMA", "MANON", "CHLOE", "INES", "JADE", "LAURA"}
    women_1990s = top_first_names(roll, "F", 1990, 10)
    assert len(set(women_1990s) & {"LAURA", "CAMILLE", "MARINE", "MANON", "JULIE", "MARIE", "PAULINE", "SARAH"}) >= 4
    assert "MARTINE" not in top_first_names(roll, "F", 1990, 100)
    men_1950s = top_first_names(roll, "M", 1950, 8)
    assert len(set(men_1950s) & {"JEAN", "MICHEL", "ALAIN", "PATRICK", "CHRISTIAN", "PHILIPPE", "DANIEL"}) >= 5
    assert "KEVIN" not in top_first_names(roll, "M", 1950, 100)


def test_some_electors_have_compound_first_names(roll):
    hyphenated = sum("-" in row["Prenoms"].split(" ")[0] for row in roll) / len(roll)
    several = sum(" " in row["Prenoms"] for row in roll) / len(roll)
    assert 0.02 < hyphenated < 0.07
    assert 0.02 < several < 0.07
    assert 0.06 < hyphenated + several < 0.11
    assert all(1 <= len(row["Prenoms"].split(" ")) <= 3 for row in roll)


def test_usage_names_of_married_women(roll):
    women = [row for row in roll if row["Sexe"] == "F" and age(row) >= 25]
    men = [row for row in roll if row["Sexe"] == "M"]
    assert 0.35 <= sum(bool(row["NomDusage"]) for row in women) / len(women) <= 0.55
    assert 0.005 < sum(bool(row["NomDusage"]) for row in men) / len(men) < 0.04
    assert not any(row["NomDusage"] for row in roll if row["Sexe"] == "F" and age(row) < 25)
    assert all(fold(row["NomDusage"]) != fold(row["NomdeNaissance"]) for row in roll if row["NomDusage"])


def test_names_are_upper_case_with_accents_on_most_rows(roll):
    for row in roll:
        for key in ("NomdeNaissance", "NomDusage", "Prenoms", "LibelleVoie", "VilleLocalite"):
            assert row[key] == row[key].upper()
    accented = [row for row in roll if fold(row["LibelleVoie"]) in {"JEAN JAURES", "DE LA LIBERTE"}]
    plain = sum(row["LibelleVoie"] == fold(row["LibelleVoie"]) for row in accented) / len(accented)
    assert 0.26 < plain < 0.34
    assert any("Ç" in row["Prenoms"] for row in roll) and any("FRANCOISE" in row["Prenoms"] for row in roll)


def test_surnames_have_a_long_tail():
    names = Counter(row["NomdeNaissance"] for row in synthetic_roll(200_000, STATIONS, seed=3))
    once = sum(count == 1 for count in names.values())
    assert once >= 0.20 * len(names)
    assert names.most_common(1)[0][1] < 0.03 * 200_000
    assert sum(count >= 100 for count in names.values()) >= 100  # and a body of common names
    assert any(" " not in name and "-" in name for name in names)  # Martin-Durand
    assert any(name.startswith(("DE ", "DU ")) for name in names)


def test_birth_places_and_complementary_lists(roll):
    main = [row for row in roll if row["TypeListe"] == "LP"]
    abroad = [row for row in main if row["DeptNaissance"] == "99"]
    france = [row for row in main if row["DeptNaissance"] != "99"]
    assert 0.20 < len(abroad) / len(main) < 0.30
    assert all(row["PaysNaissance"] and row["NomComNaissance"] for row in abroad)
    assert all(not row["PaysNaissance"] and row["NomComNaissance"] for row in france)
    assert all(re.fullmatch(r"\d\d|2[AB]|97\d", row["DeptNaissance"]) for row in france)
    assert not any(row["Nationalite"] for row in main)
    european = [row for row in roll if row["TypeListe"] != "LP"]
    assert {row["TypeListe"] for row in european} == {"LCE", "LCM"}
    assert 0 < len(european) < 0.02 * len(roll)
    assert all(row["Nationalite"] for row in european)


def test_addresses_come_from_the_stations(roll):
    stations = {(station.commune_code, station.number): station for station in STATIONS}
    streets = {station.code: {fold(street) for street in station.streets} for station in STATIONS}
    for row in roll:
        station = stations[row["CodeCommune"], row["NoBureauDeVote"]]
        assert row["NomBureauDeVote"] == station.name
        assert (row["CodePostal"], fold(row["VilleLocalite"])) == (station.postcode, fold(station.commune_name))
        assert fold(f"{row['TypeVoie']} {row['LibelleVoie']}") in streets[station.code]
        assert row["CodeDepartement"] == "29"
        assert re.fullmatch(r"29\d\d", row["CodeCanton"]) and re.fullmatch(r"29\d\d", row["CodeCirconscription"])
        number = re.fullmatch(r"(\d+)(B| BIS| TER)?", row["NumeroVoie"])
        assert number and 1 <= int(number.group(1)) <= 150
    street_types = Counter(row["TypeVoie"] for row in roll)
    assert {"RUE", "BOULEVARD", "PLACE", "AVENUE", "IMPASSE", "QUAI", "CHEMIN", "ROUTE", ""} <= set(street_types)
    assert fold(next(row["LibelleVoie"] for row in roll if row["TypeVoie"] == "")) == "CITE KERANGOFF"
    assert Counter(row["NoBureauDeVote"] for row in roll if row["CodeCommune"] == "29019").most_common()[-1][1] > 2500
    assert any(row["NumeroVoie"].endswith(("B", "BIS")) for row in roll)


def test_households_share_addresses(roll):
    addresses = [address(row) for row in roll]
    same_as_next = [addresses[i] == addresses[i + 1] for i in range(len(roll) - 1)]
    shared = sum(a or b for a, b in zip([False, *same_as_next], [*same_as_next, False], strict=True))
    assert 0.33 < shared / len(roll) < 0.47
    pairs = [(roll[i], roll[i + 1]) for i, same in enumerate(same_as_next) if same]

    def names(row: dict[str, str]) -> set[str]:
        return {fold(part) for key in ("NomdeNaissance", "NomDusage") for part in row[key].split("-") if part}

    # Couples where she took his name, parents and children, siblings (not unmarried couples or flatmates).
    assert sum(bool(names(a) & names(b)) for a, b in pairs) > 0.4 * len(pairs)


def test_write_roll_csv_round_trips(tmp_path, roll):
    path = tmp_path / "liste.csv"
    assert write_roll_csv(path, iter(roll[:2000])) == 2000
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        assert reader.fieldnames == OFFICIAL_COLUMNS
        assert list(reader) == roll[:2000]


# Signups


def test_signups_on_the_roll_come_from_distinct_rows(roll, signups):
    assert len(signups) == 5000
    on_roll = [signup for signup in signups if signup.elector is not None]
    assert abs(len(on_roll) / len(signups) - 0.7) <= 0.02
    electors = {row["NoElecteurGeneral"] for row in roll}
    assert all(signup.elector in electors for signup in on_roll)
    assert len({signup.elector for signup in on_roll}) == len(on_roll)
    assert all(
        set(signup.values)
        == {"first_names", "last_name", "birth_date", "email", "postcode", "town", "number", "street"}
        for signup in signups
    )
    emails = [signup.values["email"] for signup in signups]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9._-]+@example\.(org|net|com)", email) for email in emails)
    assert sum(s.elector is not None for s in noisy_signups(roll, 1000, on_roll_share=0.3)) == 300


def test_signups_are_deterministic(roll):
    first = list(noisy_signups(roll[:3000], 300, seed=1))
    assert first == list(noisy_signups(roll[:3000], 300, seed=1))
    assert first != list(noisy_signups(roll[:3000], 300, seed=2))
    with pytest.raises(ValueError):
        list(noisy_signups(roll[:10], 100))


def test_invented_signups_are_not_on_the_roll(roll, signups):
    on_roll = {(fold(row["NomdeNaissance"]), row["DateDeNaissance"]) for row in roll}
    invented = [signup for signup in signups if signup.elector is None]
    clean = [s for s in invented if not s.noise and s.values["birth_date"]]
    assert clean
    # Same distributions: some share a name and a birth date with an elector only by chance.
    matching = sum((fold(s.values["last_name"]), s.values["birth_date"]) in on_roll for s in clean)
    assert matching < 0.02 * len(clean)


def test_signups_are_typed_like_a_web_form(roll, signups):
    lasts = [signup.values["last_name"] for signup in signups]
    assert any(name.isupper() for name in lasts) and any(name.islower() for name in lasts)
    assert sum(name[:1].isupper() and not name.isupper() for name in lasts) > 0.5 * len(lasts)
    rows = {row["NoElecteurGeneral"]: row for row in roll}
    used = with_usage = 0
    for signup in signups:
        if signup.elector is None:
            continue
        row, values, noise = rows[signup.elector], signup.values, signup.noise
        if "typo_first_name" not in noise:
            assert fold(row["Prenoms"]).startswith(fold(values["first_names"]))
        if row["NomDusage"]:
            with_usage += 1
            used += "usage_name" in noise
        if not {"typo_last_name"} & set(noise):
            expected = row["NomDusage"] if "usage_name" in noise else row["NomdeNaissance"]
            assert fold(values["last_name"]) == fold(expected)
        if "moved" not in noise:
            assert values["postcode"] == row["CodePostal"] and fold(values["town"]) == fold(row["VilleLocalite"])
            assert fold(values["number"]).replace(" ", "") == fold(row["NumeroVoie"]).replace(" ", "")
            assert fold(values["street"]).endswith(fold(row["LibelleVoie"]))
        else:
            same_street = fold(values["street"]).endswith(fold(row["LibelleVoie"]))
            assert not (same_street and fold(values["number"]) == fold(row["NumeroVoie"]))
    assert 0.62 < used / with_usage < 0.78
    first_only = [s for s in signups if "first_given_only" in s.noise]
    assert first_only and all(" " not in s.values["first_names"] for s in first_only if "hyphen_space" not in s.noise)


def rate(signups: list[Signup], label: str) -> float:
    return sum(label in signup.noise for signup in signups) / len(signups)


def test_noise_rates(signups):
    assert abs(rate(signups, "typo_last_name") - 0.08) < 0.02
    assert abs(rate(signups, "typo_first_name") - 0.05) < 0.015
    assert abs(rate(signups, "missing_birth_date") - 0.15) < 0.025
    assert abs(rate(signups, "moved") - 0.10) < 0.02
    # Noise that needs something to act on is recorded only when it did: rate among the
    # signups where it could have (those left untouched still show accents, hyphens…).
    accents = sum("no_accents" in s.noise for s in signups)
    kept = sum(
        any(fold(s.values[key]) != s.values[key].upper() for key in ("first_names", "last_name", "street", "town"))
        for s in signups
    )
    assert abs(accents / (accents + kept) - 0.30) < 0.05
    hyphens = sum("hyphen_space" in s.noise for s in signups)
    kept = sum("-" in s.values["first_names"] + s.values["last_name"] for s in signups)
    assert abs(hyphens / (hyphens + kept) - 0.20) < 0.07
    swaps = sum("swap_day_month" in s.noise for s in signups)
    eligible = 0
    for signup in signups:
        date = DATE.fullmatch(signup.values["birth_date"])
        eligible += bool(date and int(date[1]) <= 12 and date[1] != date[2])
    assert abs(swaps / eligible - 0.03) < 0.015
    assert all(s.values["birth_date"] == "" for s in signups if "missing_birth_date" in s.noise)


def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment: insertions, deletions, substitutions, adjacent transpositions."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def test_noise_does_what_its_label_says(roll, signups):
    rows = {row["NoElecteurGeneral"]: row for row in roll}
    swapped = typos = 0
    for signup in signups:
        if signup.elector is None:
            continue
        row, values, noise = rows[signup.elector], signup.values, signup.noise
        if "swap_day_month" in noise:
            day, month, year = row["DateDeNaissance"].split("/")
            assert values["birth_date"] == f"{month}/{day}/{year}" and day != month and int(day) <= 12
            swapped += 1
        elif values["birth_date"] and "partial_birth_date" not in noise:
            assert values["birth_date"] == row["DateDeNaissance"]
        if "typo_last_name" in noise:
            expected = row["NomDusage"] if "usage_name" in noise else row["NomdeNaissance"]
            typed = values["last_name"]
            if "hyphen_space" in noise:
                expected = expected.replace("-", " ")
            if "no_accents" in noise:
                expected = plain(expected)
            assert osa_distance(typed.lower(), expected.lower()) == 1
            typos += 1
    assert swapped > 10 and typos > 100
