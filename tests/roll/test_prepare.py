"""French-aware preparation: the same person written two ways gives the same keys."""

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from suffrage.roll.importing import parse_birth_date
from suffrage.roll.prepare import BirthDate, birth_date, given_names, prepared, surname_key


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("LE GOFF", "legoff"),
        ("Le Goff", "legoff"),
        ("Le-Goff", "legoff"),
        ("d'Arvor", "arvor"),
        ("D’ARVOR", "arvor"),
        ("de la Fontaine", "fontaine"),
        ("Du Pont", "pont"),
        ("Kérébel", "kerebel"),
        ("DE", "de"),  # a name that is only a particle stays
    ],
)
def test_surname_keys(written, key):
    assert surname_key(written) == key


def test_given_names_split_compounds_and_lists():
    assert given_names("Jean-Pierre Marie") == ["jeanpierre", "jean", "pierre", "marie"]
    assert given_names("JEAN PIERRE") == ["jean", "pierre"]
    assert given_names("Hélène") == ["helene"]
    assert given_names("") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/05/1970", BirthDate(1970, 5, 12)),
        ("1970-05-12", BirthDate(1970, 5, 12)),
        ("00/00/1950", BirthDate(1950, None, None)),
        ("", BirthDate()),
        ("unknown", BirthDate()),
    ],
)
def test_birth_dates_keep_what_is_known(text, expected):
    assert birth_date(text) == expected


@pytest.mark.parametrize(
    ("text", "year", "month", "day", "problem"),
    [
        ("12/05/1970", 1970, 5, 12, ""),
        ("00/00/1950", 1950, None, None, ""),
        ("31/02/1990", 1990, None, None, "not a date that exists"),
        ("05/13/1980", 1980, None, None, "swapped"),
        ("12/05/70", None, None, None, "no plausible year"),
        ("hier", None, None, None, "not a date"),
    ],
)
def test_roll_dates_say_what_is_wrong(text, year, month, day, problem):
    with translation.override("en"):
        parsed = parse_birth_date(text)
    assert parsed[:3] == (year, month, day)
    assert (problem in parsed[3]) if problem else parsed[3] == ""


def test_a_married_womans_usage_name_is_the_other_surname():
    record = prepared(
        unique_id="e1",
        first_names="MARIE ANNE",
        birth_name="LE GALL",
        usage_name="QUÉRÉ",
        born=BirthDate(1960, 1, 2),
        number="3 bis",
        street="Rue de Siam",
        postcode="29200",
        commune="BREST",
    )
    assert (record["surname"], record["other_surname"]) == ("legall", "quere")
    assert record["first_name"] == "marie"
    assert record["birth_date"] == "1960-01-02"
    assert record["house"] == "3bis|rue de siam"


@given(st.text(max_size=40))
def test_keys_never_hold_spaces_or_capitals(text):
    key = surname_key(text)
    assert " " not in key and key == key.lower()
    for name in given_names(text):
        assert name and " " not in name
