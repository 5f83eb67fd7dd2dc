"""The value normalisers: examples for each rule, properties for arbitrary input."""

import contextlib
import datetime
import unicodedata

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from suffrage.imports.normalise import (
    InvalidValue,
    Phone,
    normalise_civility,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_postcode,
    parse_bool,
    parse_date,
    search_key,
)

# A margin of a day: the test machine's date and the campaign's time zone may disagree.
YESTERDAY = datetime.date.today() - datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- search_key ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["Le Goff-Kerjean", "LE GOFF KERJEAN", "le goff  kérjean", " le_goff.kerjean "])
def test_spellings_of_one_name_share_a_search_key(text):
    assert search_key(text) == "le goff kerjean"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Œuvre", "oeuvre"),
        ("Lætitia", "laetitia"),
        ("Straße", "strasse"),
        ("François", "francois"),
        ("Hélène-Éloïse", "helene eloise"),
        ("d\u2019Arc", "d arc"),  # a typographic apostrophe
        ("O'Neill", "o neill"),
        ("Dupont (née Martin)!", "dupont nee martin"),
        ("  ", ""),
        ("", ""),
        ("Rue du 8 Mai 1945", "rue du 8 mai 1945"),
    ],
)
def test_search_key_drops_case_accents_and_punctuation(text, key):
    assert search_key(text) == key


@given(st.text())
def test_search_key_is_its_own_key(text):
    assert search_key(search_key(text)) == search_key(text)


@given(st.text())
def test_search_key_has_no_capitals_accents_or_stray_spaces(text):
    key = search_key(text)
    assert not any(char.isupper() for char in key)
    assert not any(unicodedata.combining(char) for char in key)
    assert "  " not in key
    assert key == key.strip()


def _round_trips(char):
    return char.upper().lower() == char.lower() and char.lower().upper() == char.upper()


@given(st.text(st.characters(categories=["L", "N", "Zs", "P"]).filter(_round_trips)))
def test_search_key_ignores_case(text):
    assert search_key(text.upper()) == search_key(text.lower())


# --- normalise_name -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("JEAN-PIERRE", "Jean-Pierre"),
        ("le goff", "Le Goff"),
        ("d'ARC", "d'Arc"),
        ("jeanne d'arc", "Jeanne d'Arc"),
        ("CHARLES DE GAULLE", "Charles de Gaulle"),
        ("DE GAULLE", "De Gaulle"),
        ("jean du bellay", "Jean du Bellay"),
        ("o'neill", "O'Neill"),
        ("HÉLÈNE", "Hélène"),
        ("  marie   claire  ", "Marie Claire"),
        ("McDonald", "McDonald"),
        ("Jean DUPONT", "Jean DUPONT"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_names_typed_in_one_case_are_written_in_name_case(text, name):
    assert normalise_name(text) == name


# --- normalise_email ----------------------------------------------------------


def test_an_email_is_stripped_and_lowercased():
    assert normalise_email("  Jean.Dupont@Example.FR ") == "jean.dupont@example.fr"


def test_a_blank_email_is_allowed():
    assert normalise_email("  ") == ""


@pytest.mark.parametrize(
    "text", ["jean.dupont", "jean@", "@example.fr", "jean@@example.fr", '"a@b"@example.fr', "a b@c.fr"]
)
def test_an_invalid_email_is_refused(text):
    with pytest.raises(InvalidValue, match="is not a valid email address"):
        normalise_email(text)


@given(st.text())
def test_an_email_is_refused_or_lowercase_with_one_at_sign(text):
    try:
        email = normalise_email(text)
    except InvalidValue:
        return
    assert email == email.lower()
    assert email == "" or email.count("@") == 1


@given(st.emails())
def test_generated_emails_are_accepted(email):
    # Hypothesis generates a few addresses valid by the RFC that Django refuses (very long labels).
    with contextlib.suppress(InvalidValue):
        assert normalise_email(email) == email.lower()


# --- normalise_phone ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "(0)6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
    ],
)
def test_the_ways_of_writing_a_french_mobile(text):
    assert normalise_phone(text) == Phone(e164="+33612345678", kind="mobile", sms_capable=True)


def test_a_landline_cannot_receive_texts():
    assert normalise_phone("02 98 12 34 56") == Phone(e164="+33298123456", kind="landline", sms_capable=False)


def test_other_numbers_are_neither_mobile_nor_landline():
    assert normalise_phone("0800 123 456") == Phone(e164="+33800123456", kind="other", sms_capable=False)


def test_a_foreign_number_keeps_its_country():
    assert normalise_phone("+44 7911 123456") == Phone(e164="+447911123456", kind="mobile", sms_capable=True)


def test_the_default_region_reads_national_numbers():
    assert normalise_phone("07911 123456", default_region="GB") == Phone(
        e164="+447911123456", kind="mobile", sms_capable=True
    )


def test_a_number_that_may_be_a_mobile_is_not_texted():
    # In the United States the same ranges serve mobiles and landlines.
    phone = normalise_phone("+1 201 555 0123")
    assert phone is not None
    assert (phone.kind, phone.sms_capable) == ("mobile", False)


def test_a_blank_phone_is_none():
    assert normalise_phone("  ") is None


@pytest.mark.parametrize("text", ["12", "abc", "06 12 34", "+33 6 12 34 56 78 90 12", "01 00 00 00 00 00"])
def test_an_invalid_phone_is_refused_with_its_value(text):
    with pytest.raises(InvalidValue, match="is not a valid phone number") as error:
        normalise_phone(text)
    assert text in str(error.value)


@given(st.text())
def test_any_text_gives_a_phone_none_or_invalid_value(text):
    try:
        phone = normalise_phone(text)
    except InvalidValue:
        return
    assert phone is None or phone.e164.startswith("+")


@given(st.from_regex(r"0[1-9]( ?[0-9]{2}){4}", fullmatch=True))
def test_french_numbers_never_raise_anything_but_invalid_value(text):
    try:
        phone = normalise_phone(text)
    except InvalidValue:
        return
    assert phone is not None and phone.e164.startswith("+33")


# --- normalise_postcode -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "postcode"), [("29200", "29200"), (" 29 200 ", "29200"), ("1000", "01000"), ("97400", "97400"), ("", "")]
)
def test_french_postcodes(text, postcode):
    assert normalise_postcode(text) == postcode


@pytest.mark.parametrize("text", ["292000", "29200A", "2A000", "abcde", "00100", "123"])
def test_an_invalid_french_postcode_is_refused(text):
    with pytest.raises(InvalidValue, match="is not a valid French postcode"):
        normalise_postcode(text)


def test_other_countries_postcodes_are_uppercased_and_tidied():
    assert normalise_postcode("  sw1a   2aa ", country="GB") == "SW1A 2AA"
    assert normalise_postcode("1000", country="be") == "1000"


# --- parse_date ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "31/12/1980",
        "31-12-1980",
        "31.12.1980",
        "1980-12-31",
        "1980-12-31T10:30:00",
        "1980-12-31 10:30:00",
        " 31/12/1980 ",
    ],
)
def test_the_ways_of_writing_a_date(text):
    assert parse_date(text) == datetime.date(1980, 12, 31)


def test_a_slashed_date_is_read_day_first():
    assert parse_date("1/2/1980") == datetime.date(1980, 2, 1)


def test_a_blank_date_is_none():
    assert parse_date(" ") is None


def test_a_two_digit_year_is_refused():
    with pytest.raises(InvalidValue, match="four digits"):
        parse_date("01/02/80")


@pytest.mark.parametrize("text", ["31/02/2000", "29/02/1999", "00/01/2000", "01/13/2000"])
def test_an_impossible_date_is_refused(text):
    with pytest.raises(InvalidValue, match="is not a date that exists"):
        parse_date(text)


@pytest.mark.parametrize("text", ["31/12/1899", "01/01/2999"])
def test_a_date_no_one_alive_was_born_on_is_refused(text):
    with pytest.raises(InvalidValue, match="is not a possible birth date"):
        parse_date(text)


def test_the_first_of_january_1900_is_accepted():
    assert parse_date("01/01/1900") == datetime.date(1900, 1, 1)


@pytest.mark.parametrize("text", ["hello", "31/12-1980", "1980/12/31", "12 décembre 1980", "31/12/1980 extra"])
def test_other_text_is_not_a_date(text):
    with pytest.raises(InvalidValue, match="is not a date"):
        parse_date(text)


@given(st.text())
def test_any_text_gives_a_date_none_or_invalid_value(text):
    with contextlib.suppress(InvalidValue):
        parse_date(text)


@given(st.from_regex(r"[0-9]{1,3}[/.-][0-9]{1,3}[/.-][0-9]{1,6}", fullmatch=True))
def test_date_like_text_gives_a_date_or_invalid_value(text):
    with contextlib.suppress(InvalidValue):
        parse_date(text)


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=YESTERDAY))
def test_dates_written_day_first_round_trip(date):
    assert parse_date(date.strftime("%d/%m/%Y")) == date
    assert parse_date(date.isoformat()) == date


# --- normalise_civility -------------------------------------------------------


@pytest.mark.parametrize("text", ["M", "M.", "m", "Mr", "Mr.", "Monsieur", "MONSIEUR", "H", "Homme"])
def test_the_ways_of_writing_monsieur(text):
    assert normalise_civility(text) == "M"


@pytest.mark.parametrize("text", ["Mme", "Mme.", "Madame", "Mrs", "Ms", "Mlle", "Mademoiselle", "F", "femme", "MADAME"])
def test_the_ways_of_writing_madame(text):
    assert normalise_civility(text) == "Mme"


def test_a_blank_civility_is_allowed():
    assert normalise_civility(" ") == ""


@pytest.mark.parametrize("text", ["Dr", "Maître", "X", "Mx"])
def test_an_unknown_civility_is_refused(text):
    with pytest.raises(InvalidValue, match="is not a known civility"):
        normalise_civility(text)


# --- parse_bool ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["1", "oui", "OUI", "Yes", "true", "TRUE", "vrai", "Vrai", "x", "X", "o", "y"])
def test_the_ways_of_saying_yes(text):
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["0", "non", "NON", "no", "false", "FALSE", "faux", "n", "N"])
def test_the_ways_of_saying_no(text):
    assert parse_bool(text) is False


def test_a_blank_is_neither_yes_nor_no():
    assert parse_bool("  ") is None


@pytest.mark.parametrize("text", ["peut-être", "2", "oui non"])
def test_anything_else_is_refused(text):
    with pytest.raises(InvalidValue, match="is not yes or no"):
        parse_bool(text)


@settings(max_examples=200)
@given(st.text())
def test_parse_bool_gives_a_bool_none_or_invalid_value(text):
    with contextlib.suppress(InvalidValue):
        assert parse_bool(text) in (True, False, None)
