"""French public holidays: days on which campaign texts are not sent.

Source: Code du travail, article L3133-1 (the eleven national "fêtes légales"), and
article L3134-13 for the two extra days of Alsace-Moselle (Bas-Rhin, Haut-Rhin,
Moselle): Good Friday and 26 December. Today's list is applied to every year, past
ones included: the sending rules look forward.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (the "anonymous" algorithm: Meeus/Jones/Butcher)."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    moon_correction = (century + 8) // 25
    solar_correction = (century - moon_correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - solar_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday_offset = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    late_correction = (golden + 11 * epact + 22 * weekday_offset) // 451
    month, day = divmod(epact + weekday_offset - 7 * late_correction + 114, 31)
    return date(year, month, day + 1)


def french_public_holidays(year: int, *, alsace_moselle: bool = False) -> dict[date, StrOrPromise]:
    """The year's public holidays, in date order, with their (translatable) names.

    Ascension falls on 1 or 8 May in some years (2008: 1 May): the day is then one
    entry bearing both names, so such a year has one date fewer.
    """
    holidays: dict[date, StrOrPromise] = {}
    for day, name in _fixed_and_movable(year, alsace_moselle):
        holidays[day] = format_lazy("{} / {}", holidays[day], name) if day in holidays else name
    return dict(sorted(holidays.items()))


def _fixed_and_movable(year: int, alsace_moselle: bool) -> list[tuple[date, StrOrPromise]]:
    easter = easter_sunday(year)
    holidays: list[tuple[date, StrOrPromise]] = [
        (date(year, 1, 1), _("New Year's Day")),
        (easter + timedelta(days=1), _("Easter Monday")),
        (date(year, 5, 1), _("Labour Day")),
        (date(year, 5, 8), _("Victory in Europe Day")),
        (easter + timedelta(days=39), _("Ascension Day")),
        (easter + timedelta(days=50), _("Whit Monday")),
        (date(year, 7, 14), _("National Day")),
        (date(year, 8, 15), _("Assumption Day")),
        (date(year, 11, 1), _("All Saints' Day")),
        (date(year, 11, 11), _("Armistice Day")),
        (date(year, 12, 25), _("Christmas Day")),
    ]
    if alsace_moselle:
        holidays += [(easter - timedelta(days=2), _("Good Friday")), (date(year, 12, 26), _("St Stephen's Day"))]
    return holidays


def is_public_holiday(day: date, *, alsace_moselle: bool = False) -> bool:
    return day in _holiday_dates(day.year, alsace_moselle)


@lru_cache(maxsize=64)
def _holiday_dates(year: int, alsace_moselle: bool) -> frozenset[date]:
    # A frozenset, not the dict: a cached value must not be mutable by a caller.
    return frozenset(french_public_holidays(year, alsace_moselle=alsace_moselle))
