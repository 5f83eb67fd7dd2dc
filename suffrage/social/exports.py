"""Reading the files a campaign downloads from the platforms about its own audience:
the leads of its Facebook and Instagram lead forms, and its followers or connections
on X, Instagram and LinkedIn.

Each parser is tolerant of what the platforms really produce (byte-order marks,
UTF-16, CRLF, quoted fields, extra columns, blank lines, column names in French or
English) and strict about what it needs. A row it cannot use becomes a RowProblem
naming the row and the field; a file that is not that kind of export at all raises
ExportError, whose message tells the user what was expected. Nothing else is raised,
whatever the bytes.

Row numbers are what the user can find in the file: for a CSV, the spreadsheet row
(the header counts, and so does each line of LinkedIn's preamble); for a JSON list,
the position of the item (1 for the first), counted on across the files of a zip.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import count, islice
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import SplitResult, unquote, urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from suffrage.imports.normalise import (
    InvalidValue,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_postcode,
    parse_bool,
    search_key,
)
from suffrage.imports.readers import MEGABYTE, megabytes_shown, number_shown, value_shown
from suffrage.social.records import ExportError, ParseResult, RowProblem, SocialRecord

T = TypeVar("T")
Builder = Callable[[int, T, list[RowProblem]], SocialRecord | None]

MAX_BYTES = 50 * MEGABYTE  # an uploaded file, and each file inside a zip
MAX_UNZIPPED = 4 * MAX_BYTES  # all the followers files of a zip together
MAX_RECORDS = 200_000
MAX_ZIP_ENTRIES = 100_000  # zipfile builds an object per entry before we can look at any
# A follower takes a handful of JSON containers and commas; a file with far more
# would only make json build millions of objects in memory.
MAX_JSON_TOKENS = 16 * MAX_RECORDS
HEADER_SEARCH_ROWS = 20  # LinkedIn writes a few lines of notes before its header
SNIFF_CHARS = 64 * 1024
DELIMITERS = (",", "\t", ";")  # Ads Manager and LinkedIn; Leads Center; a French Excel re-save
ZIP_MAGIC = b"PK\x03\x04"
ZIP_ENTRY = b"PK\x01\x02"

EXPORT_KINDS: dict[str, StrOrPromise] = {
    "lead_ads_csv": gettext_lazy("Facebook / Instagram lead form (CSV from Ads Manager or Leads Center)"),
    "x_followers": gettext_lazy("X (Twitter) followers (follower.js from the archive)"),
    "instagram_followers": gettext_lazy("Instagram followers (followers_1.json, or the whole export as .zip)"),
    "linkedin_connections": gettext_lazy("LinkedIn connections (Connections.csv)"),
}


def parse_export(kind: str, data: bytes, filename: str = "") -> ParseResult:
    """Read an export of the given kind (a key of EXPORT_KINDS). Raises ExportError."""
    try:
        parser = PARSERS[kind]
    except KeyError:
        # The caller's mistake, not the user's: kinds come from EXPORT_KINDS.
        raise ValueError(f"Unknown kind of export: {kind!r}") from None
    return parser(data, filename)


# --- Facebook / Instagram Lead Ads ------------------------------------------

# Our field: the keys Meta gives the form's fields, folded by search_key, by
# preference. Meta writes the standard fields' keys in the form's language.
LEAD_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "lead id"),
    "created_time": ("created time",),
    "platform": ("platform", "plateforme"),
    "full_name": ("full name", "nom complet"),
    "first_name": ("first name", "prenom"),
    "last_name": ("last name", "nom de famille", "nom"),
    "email": ("email", "e mail", "adresse e mail", "courriel", "work email", "e mail professionnel"),
    "phone": ("phone number", "numero de telephone", "telephone", "phone", "work phone number"),
    "town": ("city", "ville"),
    "postcode": ("post code", "zip code", "postal code", "zip", "code postal"),
}
CONTACT_FIELDS = ("full_name", "first_name", "last_name", "email", "phone")
# About the ad or the lead's handling, not the person: neither answers nor consent.
LEAD_METADATA = frozenset(
    {
        "ad id",
        "ad name",
        "adset id",
        "adset name",
        "campaign id",
        "campaign name",
        "form id",
        "form name",
        "is organic",
        "lead status",
        "inbox url",
        "retailer item id",
        "home listing",
        "vehicle",
        "partner name",
    }
)
# Meta writes ids, phones and postcodes as "l:123", "p:+336…", "z:29200", so that
# spreadsheets keep them as text.
META_PREFIX = re.compile(r"[a-z]{1,2}:(?=\S)")
# A custom disclaimer or opt-in checkbox: its column is named after its text.
CONSENT_COLUMN = re.compile(r"\b(consent\w*|opt ?ins?|j accepte|i agree|i accept|j autorise|i authori[sz]e)\b")
CONSENT_CHANNELS = (
    ("email", re.compile(r"\b(e ?mails?|courriels?|courrier electronique|newsletters?)\b")),
    ("sms", re.compile(r"\b(sms|textos?|text messages?)\b")),
    ("phone", re.compile(r"\b(telephone|telephoniques?|phone|appels?|calls?)\b")),
    ("post", re.compile(r"\b(courrier(?! electronique)|postal|par la poste|by post)\b")),
)
CHECKED = frozenset({"checked", "coche", "accepte", "j accepte", "agree", "i agree", "opt in"})
UNCHECKED = frozenset({"unchecked", "non coche", "refuse"})


@dataclass(frozen=True)
class _Consent:
    index: int
    wording: str  # the checkbox's text, as shown to the person
    channels: tuple[str, ...]  # empty: a generic consent, for whatever the lead gave


@dataclass(frozen=True)
class _LeadColumns:
    fields: dict[str, int]  # our field -> column index
    consents: tuple[_Consent, ...]
    answers: tuple[tuple[int, str], ...]  # the custom questions: (index, header)

    @property
    def wording(self) -> str:
        return "\n".join(consent.wording for consent in self.consents)


def parse_lead_ads_csv(data: bytes, filename: str = "") -> ParseResult:
    """The leads of a Facebook or Instagram lead form, from Ads Manager's "Download
    leads" CSV (UTF-8, commas) or Leads Center's (UTF-16, tabs)."""
    expected = _(
        "This is not a Facebook / Instagram lead form export: expected the CSV downloaded from Ads Manager "
        "or Leads Center, with the columns id, created_time, and email, phone_number or full_name."
    )
    headers, rows = _table(data, expected, _is_lead_header)
    columns = _lead_columns(headers)
    return _collect(rows, lambda row, cells, problems: _lead(row, cells, columns, problems))


def _is_lead_header(cells: list[str]) -> bool:
    keys = {search_key(cell) for cell in cells}
    has_contact = any(alias in keys for field in CONTACT_FIELDS for alias in LEAD_COLUMNS[field])
    return "id" in keys and "created time" in keys and has_contact


def _lead_columns(headers: list[str]) -> _LeadColumns:
    keys = [search_key(header) for header in headers]
    fields = _find_columns(keys, LEAD_COLUMNS)
    consents: list[_Consent] = []
    answers: list[tuple[int, str]] = []
    for index, (header, key) in enumerate(zip(headers, keys, strict=True)):
        if not key or key in LEAD_METADATA or index in fields.values():
            continue
        if CONSENT_COLUMN.search(key):
            channels = tuple(channel for channel, words in CONSENT_CHANNELS if words.search(key))
            consents.append(_Consent(index, _wording(header), channels))
        else:
            answers.append((index, header))
    return _LeadColumns(fields, tuple(consents), tuple(answers))


def _wording(header: str) -> str:
    # Meta names a column after the checkbox's text with underscores for spaces.
    text = header if " " in header else header.replace("_", " ")
    return " ".join(text.split())


def _lead(row: int, cells: list[str], columns: _LeadColumns, problems: list[RowProblem]) -> SocialRecord | None:
    def cell(field: str) -> str:
        index = columns.fields.get(field)
        return "" if index is None else cells[index]

    external_id = META_PREFIX.sub("", cell("external_id"), count=1)
    if not external_id:
        problems.append(RowProblem(row, "external_id", _("The lead has no id (column “id”): it is skipped.")))
        return None
    email = _email(row, cell("email"), problems)
    phone = _phone(row, META_PREFIX.sub("", cell("phone"), count=1), problems)
    first_name, last_name = normalise_name(cell("first_name")), normalise_name(cell("last_name"))
    display_name = normalise_name(cell("full_name")) or " ".join(filter(None, (first_name, last_name)))
    if not (email or phone or display_name):
        problems.append(RowProblem(row, "email", _("The lead has no email, phone number or name: it is skipped.")))
        return None
    consents = _lead_consents(row, cells, columns, email=email, phone=phone, problems=problems)
    return SocialRecord(
        network="instagram" if search_key(cell("platform")) in ("ig", "instagram") else "facebook",
        row=row,
        external_id=external_id,
        display_name=display_name,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        town=normalise_name(cell("town")),
        postcode=_postcode(row, META_PREFIX.sub("", cell("postcode"), count=1), problems),
        consents=consents,
        consent_wording=columns.wording if consents else "",
        answers={header: cells[index] for index, header in columns.answers if cells[index]},
        collected_at=_lead_time(row, cell("created_time"), problems),
    )


def _lead_consents(
    row: int, cells: list[str], columns: _LeadColumns, *, email: str, phone: str, problems: list[RowProblem]
) -> dict[str, bool]:
    consents: dict[str, bool] = {}
    for consent in columns.consents:
        value = cells[consent.index]
        try:
            given = _checked(value, consent.wording)
        except InvalidValue:
            problems.append(
                RowProblem(
                    row,
                    "consents",
                    _("%(value)s in the column %(column)s is neither yes nor no: no consent is recorded from it.")
                    % {"value": value_shown(value), "column": value_shown(consent.wording)},
                )
            )
            continue
        # A consent that names no channel covers the ways the lead gave to reach them.
        generic = (("email",) if email else ()) + (("sms",) if phone else ())
        for channel in consent.channels or generic:
            consents[channel] = consents.get(channel, False) or given
    return consents


def _checked(value: str, wording: str) -> bool:
    """Whether a consent checkbox was ticked. Raises InvalidValue for an answer that is neither."""
    key = search_key(value)
    # Some exports write the checkbox's own text for a ticked box.
    if key in CHECKED or (key and key == search_key(wording)):
        return True
    if key in UNCHECKED:
        return False
    return bool(parse_bool(value))  # a blank cell: the box was left unticked


def _lead_time(row: int, text: str, problems: list[RowProblem]) -> datetime.datetime | None:
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        problems.append(
            RowProblem(
                row,
                "collected_at",
                _(
                    "%(value)s in the column “created_time” is not a date and time "
                    "(such as 2026-10-12T18:22:31+02:00): the lead is kept without it."
                )
                % {"value": value_shown(text)},
            )
        )
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


# --- X (Twitter) ------------------------------------------------------------

X_ASSIGNMENT = re.compile(r"\s*window\.YTD\.(\w+)\.part[0-9]+\s*=\s*")
X_ACCOUNT_ID = re.compile(r"[0-9]{1,20}")
X_LINK = re.compile(r"https://(?:www\.|mobile\.)?(?:twitter|x)\.com/\S*")


def parse_x_followers(data: bytes, filename: str = "") -> ParseResult:
    """The followers in data/follower.js of the archive X sends: ids and links only,
    the archive does not give their handles."""
    _check_size(data)
    expected = _(
        "This is not the list of your X (Twitter) followers: expected the file data/follower.js "
        "from the archive of your data that X sends."
    )
    text = _text(data, expected)
    assignment = X_ASSIGNMENT.match(text)
    if assignment is None:
        raise ExportError(expected)
    if assignment[1] == "following":
        raise ExportError(
            _("%(file)s is the list of the accounts you follow, not of your followers: choose data/follower.js.")
            % {"file": value_shown(PurePosixPath(filename).name or "following.js")}
        )
    if assignment[1] != "follower":
        raise ExportError(expected)
    items = _json_list(_json(text[assignment.end() :].rstrip().removesuffix(";"), expected), expected)
    return _collect(enumerate(items, start=1), _x_follower)


def _x_follower(row: int, item: Any, problems: list[RowProblem]) -> SocialRecord | None:
    follower = item.get("follower") if isinstance(item, dict) else None
    if not isinstance(follower, dict):
        problems.append(RowProblem(row, "external_id", _("This item is not a follower: it is skipped.")))
        return None
    account_id = _json_text(follower.get("accountId"))
    if not X_ACCOUNT_ID.fullmatch(account_id):
        problems.append(
            RowProblem(row, "external_id", _("The follower has no account id (“accountId”): it is skipped."))
        )
        return None
    link = _json_text(follower.get("userLink"))
    return SocialRecord(
        network="x",
        row=row,
        external_id=account_id,
        url=link if X_LINK.fullmatch(link) else f"https://twitter.com/intent/user?user_id={account_id}",
    )


# --- Instagram --------------------------------------------------------------

FOLLOWERS_FILE = re.compile(r"followers_([0-9]+)\.(json|html)")
INSTAGRAM_HANDLE = re.compile(r"[A-Za-z0-9._]{1,30}")


def parse_instagram_followers(data: bytes, filename: str = "") -> ParseResult:
    """The followers in followers_1.json of Instagram's "Download your information"
    (JSON format), or in every followers_N.json of the whole export as a zip."""
    _check_size(data)
    documents = _instagram_zip(data) if data.startswith(ZIP_MAGIC) else iter([(filename, data)])
    return _collect(_numbered(_instagram_items(name, document) for name, document in documents), _ig_follower)


def _instagram_expected() -> str:
    return _(
        "This is not the list of your Instagram followers: expected followers_1.json from “Download your "
        "information” (in JSON format), or the whole export as a .zip file."
    )


def _instagram_html() -> ExportError:
    return ExportError(
        _(
            "This is the HTML version of the Instagram export, which cannot be read: download your information "
            "again and choose the JSON format."
        )
    )


def _instagram_items(name: str, document: bytes) -> list[Any]:
    expected = _instagram_expected()
    text = _text(document, expected)
    if text.lstrip().startswith("<"):
        raise _instagram_html()
    content = _json(text, expected)
    if isinstance(content, dict):
        if "relationships_following" in content:
            raise ExportError(
                _("%(file)s is the list of the accounts you follow, not of your followers: choose followers_1.json.")
                % {"file": value_shown(PurePosixPath(name).name or "following.json")}
            )
        # Older exports wrap the list in an object, as following.json still does.
        content = content.get("relationships_followers")
    return _json_list(content, expected)


def _ig_follower(row: int, item: Any, problems: list[RowProblem]) -> SocialRecord | None:
    entries = item.get("string_list_data") if isinstance(item, dict) else None
    entry = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
    # Older exports give the username as "value"; newer ones as the item's "title".
    title = item.get("title") if isinstance(item, dict) else None
    handle = _json_text(entry.get("value")) or _json_text(title) or _instagram_handle(_json_text(entry.get("href")))
    handle = handle.removeprefix("@")
    if not INSTAGRAM_HANDLE.fullmatch(handle):
        message = (
            _("%(value)s is not an Instagram username: the follower is skipped.") % {"value": value_shown(handle)}
            if handle
            else _("The follower has no username: it is skipped.")
        )
        problems.append(RowProblem(row, "handle", message))
        return None
    return SocialRecord(
        network="instagram",
        row=row,
        handle=handle,
        url=f"https://www.instagram.com/{handle}",
        collected_at=_timestamp(row, entry.get("timestamp"), problems),
    )


def _instagram_handle(href: str) -> str:
    """The username at the end of a profile address (newer exports: instagram.com/_u/alice)."""
    parts = _url_parts(href)
    if parts is None or not (parts.hostname or "").endswith("instagram.com"):
        return ""
    return PurePosixPath(parts.path).name


def _timestamp(row: int, value: Any, problems: list[RowProblem]) -> datetime.datetime | None:
    if value in (None, "", 0):
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    except (ValueError, OverflowError, OSError):
        problems.append(
            RowProblem(
                row,
                "collected_at",
                _("%(value)s is not a time (“timestamp”): the follower is kept without it.")
                % {"value": value_shown(str(value))},
            )
        )
        return None


def _instagram_zip(data: bytes) -> Iterator[tuple[str, bytes]]:
    """The followers files of a whole Instagram export, one at a time, each read
    within the size limits whatever sizes the zip declares."""
    if data.count(ZIP_ENTRY) > MAX_ZIP_ENTRIES:
        raise ExportError(_("The .zip holds too many files: extract followers_1.json from it and send that."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise ExportError(_("This .zip file is damaged: download the Instagram export again.")) from error
    with archive:
        unzipped = 0
        for member in _followers_members(archive):
            content = _read_member(archive, member)
            unzipped += len(content)
            if unzipped > MAX_UNZIPPED:
                raise ExportError(
                    _("The followers files in the .zip hold more than %(limit)s MB once uncompressed.")
                    % {"limit": megabytes_shown(MAX_UNZIPPED)}
                )
            yield member.filename, content


def _followers_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    found: list[tuple[int, str, zipfile.ZipInfo]] = []
    for member in archive.infolist():
        match = FOLLOWERS_FILE.fullmatch(PurePosixPath(member.filename).name)
        if match and not member.is_dir():
            found.append((int(match[1]), match[2], member))
    members = [member for _number, extension, member in sorted(found, key=lambda each: each[0]) if extension == "json"]
    if not members and found:
        raise _instagram_html()
    if not members:
        raise ExportError(
            _(
                "The .zip holds no followers_1.json: expected the Instagram export from “Download your "
                "information”, with “Followers and following” in JSON format."
            )
        )
    return members


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    too_big = ExportError(
        _("%(file)s is more than %(limit)s MB once uncompressed: it cannot be read safely.")
        % {"file": value_shown(member.filename), "limit": megabytes_shown(MAX_BYTES)}
    )
    if member.file_size > MAX_BYTES:
        raise too_big
    try:
        with archive.open(member) as stream:
            # Bounded whatever the zip declares: a lying header cannot make us inflate more.
            content = stream.read(MAX_BYTES + 1)
    except Exception as error:
        # Any exception, on purpose: a crafted zip reaches many error paths (zlib,
        # CRC, encryption, unknown compression...) and each means the same to the user.
        raise ExportError(
            _("%(file)s in the .zip is damaged: download the Instagram export again.")
            % {"file": value_shown(member.filename)}
        ) from error
    if len(content) > MAX_BYTES:
        raise too_big
    return content


# --- LinkedIn ---------------------------------------------------------------

LINKEDIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "prenom"),
    "last_name": ("last name", "nom", "nom de famille"),
    "url": ("url", "profile url", "url du profil"),
    "email": ("email address", "adresse e mail", "adresse email", "e mail", "email"),
    "company": ("company", "entreprise", "societe"),
    "position": ("position", "poste", "intitule du poste"),
    "connected_on": ("connected on", "date de connexion", "connecte le", "connecte e le"),
}
MONTHS = {
    **dict.fromkeys(("jan", "january", "janv", "janvier"), 1),
    **dict.fromkeys(("feb", "february", "fev", "fevr", "fevrier"), 2),
    **dict.fromkeys(("mar", "march", "mars"), 3),
    **dict.fromkeys(("apr", "april", "avr", "avril"), 4),
    **dict.fromkeys(("may", "mai"), 5),
    **dict.fromkeys(("jun", "june", "juin"), 6),
    **dict.fromkeys(("jul", "july", "juil", "juillet"), 7),
    **dict.fromkeys(("aug", "august", "aout"), 8),
    **dict.fromkeys(("sep", "sept", "september", "septembre"), 9),
    **dict.fromkeys(("oct", "october", "octobre"), 10),
    **dict.fromkeys(("nov", "november", "novembre"), 11),
    **dict.fromkeys(("dec", "december", "decembre"), 12),
}
# "12 Oct 2024", or in French "12 oct. 2024" and "1er déc. 2022", once folded by search_key.
DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2})(?:er)? ([a-z]+) ([0-9]{4})")


def parse_linkedin_connections(data: bytes, filename: str = "") -> ParseResult:
    """The connections in Connections.csv of LinkedIn's "Get a copy of your data"."""
    expected = _(
        "This is not a LinkedIn connections export: expected Connections.csv from “Get a copy of your data”, "
        "with the columns First Name, Last Name, URL and Connected On."
    )
    headers, rows = _table(data, expected, _is_linkedin_header)
    keys = [search_key(header) for header in headers]
    columns = _find_columns(keys, LINKEDIN_COLUMNS)
    return _collect(rows, lambda row, cells, problems: _connection(row, cells, headers, columns, problems))


def _is_linkedin_header(cells: list[str]) -> bool:
    keys = {search_key(cell) for cell in cells}
    return "url" in keys and any(alias in keys for alias in LINKEDIN_COLUMNS["first_name"])


def _connection(
    row: int, cells: list[str], headers: list[str], columns: dict[str, int], problems: list[RowProblem]
) -> SocialRecord | None:
    def cell(field: str) -> str:
        index = columns.get(field)
        return "" if index is None else cells[index]

    first_name, last_name = normalise_name(cell("first_name")), normalise_name(cell("last_name"))
    url, handle = _linkedin_profile(row, cell("url"), problems)
    if not (first_name or last_name or url):
        problems.append(
            RowProblem(row, "url", _("The connection has neither a name nor a profile address: it is skipped."))
        )
        return None
    return SocialRecord(
        network="linkedin",
        row=row,
        handle=handle,
        url=url,
        display_name=" ".join(filter(None, (first_name, last_name))),
        first_name=first_name,
        last_name=last_name,
        email=_email(row, cell("email"), problems),
        # Company and position are the only other things LinkedIn gives: kept as
        # answers, under the file's own column names.
        answers={headers[columns[field]]: cell(field) for field in ("company", "position") if cell(field)},
        collected_at=_connected_on(row, cell("connected_on"), problems),
    )


def _linkedin_profile(row: int, text: str, problems: list[RowProblem]) -> tuple[str, str]:
    """The profile's address and its public name ("alice-martin" in /in/alice-martin)."""
    if not text:
        return "", ""
    parts = _url_parts(text)
    host = (parts.hostname or "") if parts else ""
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not (host == "linkedin.com" or host.endswith(".linkedin.com"))
    ):
        problems.append(
            RowProblem(
                row,
                "url",
                _("%(value)s is not a LinkedIn profile address: the connection is kept without it.")
                % {"value": value_shown(text)},
            )
        )
        return "", ""
    path = PurePosixPath(parts.path)
    return text, unquote(path.name) if path.parent.name == "in" else ""


def _connected_on(row: int, text: str, problems: list[RowProblem]) -> datetime.datetime | None:
    """The day of the connection, as midnight UTC: LinkedIn gives no time."""
    if not text:
        return None
    day: datetime.date | None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        day = _day_month_year(text)
    if day is None:
        problems.append(
            RowProblem(
                row,
                "collected_at",
                _("%(value)s is not a date (such as 12 Oct 2024): the connection is kept without it.")
                % {"value": value_shown(text)},
            )
        )
        return None
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def _day_month_year(text: str) -> datetime.date | None:
    found = DAY_MONTH_YEAR.fullmatch(search_key(text))
    if found is None or found[2] not in MONTHS:
        return None
    try:
        return datetime.date(int(found[3]), MONTHS[found[2]], int(found[1]))
    except ValueError:  # 31 Feb
        return None


# --- Shared: values ---------------------------------------------------------


def _email(row: int, text: str, problems: list[RowProblem]) -> str:
    try:
        return normalise_email(text)
    except InvalidValue as error:
        problems.append(
            RowProblem(row, "email", _("%(error)s The row is kept without this email address.") % {"error": error})
        )
        return ""


def _phone(row: int, text: str, problems: list[RowProblem]) -> str:
    try:
        phone = normalise_phone(text, default_region="FR")
    except InvalidValue as error:
        problems.append(
            RowProblem(row, "phone", _("%(error)s The row is kept without this phone number.") % {"error": error})
        )
        return ""
    return phone.e164 if phone else ""


def _postcode(row: int, text: str, problems: list[RowProblem]) -> str:
    try:
        return normalise_postcode(text)
    except InvalidValue as error:
        problems.append(
            RowProblem(row, "postcode", _("%(error)s The row is kept without this postcode.") % {"error": error})
        )
        return ""


def _url_parts(text: str) -> SplitResult | None:
    try:
        return urlsplit(text)
    except ValueError:  # "http://[oops"
        return None


def _json_text(value: Any) -> str:
    """A JSON string, or number written as one, stripped; "" for anything else."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


# --- Shared: files ----------------------------------------------------------


def _collect(items: Iterable[tuple[int, T]], build: Builder[T]) -> ParseResult:
    result = ParseResult()
    for row, item in items:
        record = build(row, item, result.problems)
        if record is not None:
            result.records.append(record)
    return result


def _numbered(lists: Iterable[list[Any]]) -> Iterator[tuple[int, Any]]:
    """The items of several JSON lists, numbered on from one list to the next."""
    row = count(1)
    for items in lists:
        for item in items:
            number = next(row)
            if number > MAX_RECORDS:
                raise _too_many_records()
            yield number, item


def _check_size(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise ExportError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": megabytes_shown(len(data)), "limit": megabytes_shown(MAX_BYTES)}
        )


def _text(data: bytes, expected: str) -> str:
    """The file as text, in the encoding the platform used; ExportError(expected) if
    it is not text at all."""
    for encoding in _encodings(data):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break  # binary, whatever it decodes as
        return text
    raise ExportError(expected)


def _encodings(data: bytes) -> tuple[str, ...]:
    if data.startswith(codecs.BOM_UTF8):
        return ("utf-8-sig",)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ("utf-16",)  # Leads Center; the codec reads the byte order from the BOM
    # UTF-16 without a BOM: ASCII column names leave every other byte zero.
    head = data[:512]
    if head[1::2].count(0) > len(head) // 4 and 0 not in head[0::2]:
        return ("utf-16-le",)
    if head[0::2].count(0) > len(head) // 4 and 0 not in head[1::2]:
        return ("utf-16-be",)
    # Windows-1252: what Excel writes on French Windows when the file is saved again.
    return ("utf-8", "cp1252")


def _table(
    data: bytes, expected: str, is_header: Callable[[list[str]], bool]
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header of a CSV export (the first row `is_header` accepts) and its data rows."""
    _check_size(data)
    text = _text(data, expected)
    records = _records(text, _delimiter(text))
    for _row, cells in islice(records, HEADER_SEARCH_ROWS):
        if is_header(cells):
            return cells, _data_rows(records, len(cells))
    raise ExportError(expected)


def _delimiter(text: str) -> str:
    """The delimiter seen most often, outside quotes, in the first line that has one
    (LinkedIn's notes have none); "," if there is none."""
    counts = dict.fromkeys(DELIMITERS, 0)
    in_quotes = False
    for char in text[:SNIFF_CHARS]:
        if char == '"':
            in_quotes = not in_quotes
        elif in_quotes:
            continue
        elif char in "\r\n":
            if any(counts.values()):
                break
        elif char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Every CSV record with its row number, blank ones included, cells stripped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for row in count(1):
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ExportError(
                _("Row %(row)s could not be read: %(error)s.") % {"row": number_shown(row), "error": error}
            ) from error
        # A line break inside a quoted cell keeps the file's CRLF: make it a plain newline.
        yield row, [cell.strip().replace("\r\n", "\n") for cell in cells]


def _data_rows(records: Iterator[tuple[int, list[str]]], width: int) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows, cut or padded to the header's width."""
    rows = 0
    for row, cells in records:
        if not any(cells):
            continue  # blank lines, and the rows of empty cells spreadsheets leave
        rows += 1
        if rows > MAX_RECORDS:
            raise _too_many_records()
        yield row, (cells + [""] * width)[:width]


def _find_columns(keys: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Our field -> the index of its column, the first alias found winning."""
    columns: dict[str, int] = {}
    for field, names in aliases.items():
        index = next((keys.index(name) for name in names if name in keys), None)
        if index is not None:
            columns[field] = index
    return columns


def _json(text: str, expected: str) -> Any:
    # Counted before parsing: json builds every object before we could count them.
    tokens = text.count("{") + text.count("[") + text.count(",")
    if tokens > MAX_JSON_TOKENS:
        raise _too_many_records()
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ExportError(expected) from error


def _json_list(content: Any, expected: str) -> list[Any]:
    if not isinstance(content, list):
        raise ExportError(expected)
    if len(content) > MAX_RECORDS:
        raise _too_many_records()
    return content


# --- Shared: messages -------------------------------------------------------


def _too_many_records() -> ExportError:
    return ExportError(
        _("The file holds more than %(limit)s leads or followers, the most that can be read at once.")
        % {"limit": number_shown(MAX_RECORDS)}
    )


PARSERS: dict[str, Callable[[bytes, str], ParseResult]] = {
    "lead_ads_csv": parse_lead_ads_csv,
    "x_followers": parse_x_followers,
    "instagram_followers": parse_instagram_followers,
    "linkedin_connections": parse_linkedin_connections,
}
