"""French public holidays: Easter, the movable feasts, and the Alsace-Moselle days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation
from django.utils.functional import Promise
from hypothesis import given
from hypothesis import strategies as st

from suffrage.texting.holidays import easter_sunday, french_public_holidays, is_public_holiday


@pytest.fixture(autouse=True)
def _english():
    """Messages in English, whatever the French catalogue says."""
    with translation.override("en"):
        yield


years = st.integers(min_value=1900, max_value=2200)


@pytest.mark.parametrize(
    "easter",
    [date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5), date(2027, 3, 28), date(2038, 4, 25)],
)
def test_easter_of_known_years(easter):
    assert easter_sunday(easter.year) == easter


@pytest.mark.parametrize(
    "easter",
    # The extremes of the Gregorian computus: 22 March and 25 April.
    [date(1818, 3, 22), date(2285, 3, 22), date(1943, 4, 25), date(2038, 4, 25)],
)
def test_easter_at_its_extremes(easter):
    assert easter_sunday(easter.year) == easter


@given(years)
def test_easter_is_a_sunday_between_22_march_and_25_april(year):
    easter = easter_sunday(year)
    assert easter.weekday() == 6
    assert date(year, 3, 22) <= easter <= date(year, 4, 25)


def ascension_on_1_or_8_may(year: int) -> bool:
    return easter_sunday(year) + timedelta(days=39) in (date(year, 5, 1), date(year, 5, 8))


@given(years)
def test_a_year_has_eleven_holidays(year):
    expected = 10 if ascension_on_1_or_8_may(year) else 11
    assert len(french_public_holidays(year)) == expected


@given(years)
def test_alsace_moselle_adds_good_friday_and_26_december(year):
    national = french_public_holidays(year)
    local = french_public_holidays(year, alsace_moselle=True)
    assert len(local) == len(national) + 2
    assert set(local) - set(national) == {easter_sunday(year) - timedelta(days=2), date(year, 12, 26)}


@given(years)
def test_movable_feasts_follow_easter(year):
    easter = easter_sunday(year)
    holidays = french_public_holidays(year)
    assert "Easter Monday" in str(holidays[easter + timedelta(days=1)])
    assert "Ascension Day" in str(holidays[easter + timedelta(days=39)])
    assert "Whit Monday" in str(holidays[easter + timedelta(days=50)])


def test_the_holidays_of_2026():
    assert {day: str(name) for day, name in french_public_holidays(2026).items()} == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 4, 6): "Easter Monday",
        date(2026, 5, 1): "Labour Day",
        date(2026, 5, 8): "Victory in Europe Day",
        date(2026, 5, 14): "Ascension Day",
        date(2026, 5, 25): "Whit Monday",
        date(2026, 7, 14): "National Day",
        date(2026, 8, 15): "Assumption Day",
        date(2026, 11, 1): "All Saints' Day",
        date(2026, 11, 11): "Armistice Day",
        date(2026, 12, 25): "Christmas Day",
    }


def test_ascension_on_labour_day_keeps_both_names():
    # 2008: Easter on 23 March, Ascension on 1 May.
    assert str(french_public_holidays(2008)[date(2008, 5, 1)]) == "Labour Day / Ascension Day"


def test_names_are_lazy_so_they_follow_the_language_of_the_page():
    assert all(isinstance(name, Promise) for name in french_public_holidays(2026, alsace_moselle=True).values())


def test_is_public_holiday():
    assert is_public_holiday(date(2026, 7, 14))
    assert is_public_holiday(date(2026, 5, 14))  # Ascension
    assert not is_public_holiday(date(2026, 7, 15))
    assert not is_public_holiday(date(2026, 4, 3))  # Good Friday, outside Alsace-Moselle
    assert is_public_holiday(date(2026, 4, 3), alsace_moselle=True)
    assert is_public_holiday(date(2026, 12, 26), alsace_moselle=True)
    assert not is_public_holiday(date(2026, 12, 26))


def test_is_public_holiday_agrees_with_the_table():
    holidays = set(french_public_holidays(2027, alsace_moselle=True))
    day = date(2027, 1, 1)
    while day.year == 2027:
        assert is_public_holiday(day, alsace_moselle=True) == (day in holidays)
        day += timedelta(days=1)
