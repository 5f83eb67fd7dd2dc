"""Built-in presets for the people exports of other campaign tools — NationBuilder,
Action Network, CiviCRM and Qomon — so that a campaign can move in.

A preset is code, not a row (the campaign's own saved mappings are `MappingPreset`
rows). It knows the tool's column names and recognises an export by the columns
only that tool writes; it maps each column to a people-import target, converts the
values the tool writes its own way (tag lists, opt-in and do-not-contact flags, US
dates, numbers protected from Excel) and says why each other column is left out.

Consent is never invented. Only an explicit opt-in in the tool becomes consent, and
the people import records it with the export named as its proof; a do-not-contact
or opt-out flag becomes a withdrawal; a blank, or a "no" that is not a refusal,
records nothing.

The column names come from each tool's public documentation and from published
code that reads these exports. Where that documentation is thin, the preset says so:
Qomon publishes no description of its export; CiviCRM's headers are its field
titles, which an administrator can rename or translate. An unknown column is simply
left out, with the reason, and the user can still map it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.imports.normalise import ISO_DATE, InvalidValue, normalise_civility, parse_bool, search_key
from suffrage.imports.readers import value_shown

if TYPE_CHECKING:
    from suffrage.imports.models import ImportBatch

SELF = ""  # in a converter's result: the value for the column's own target
YES, NO = "yes", "no"  # as the people import reads consent columns
# (cell, tool name) -> {target: value}; raises InvalidValue to reject the row.
Converter = Callable[[str, str], dict[str, str]]

# A file is recognised when it has at least two of the columns only one tool writes:
# the score is the share of four such columns found (four or more is certain).
CERTAIN_SIGNATURE = 4
THRESHOLD = 0.5
# What a preset keeps in the batch's settings: its key, the provenance it gives
# ("NationBuilder export") and whether it was recognised or chosen.
SETTINGS = ("preset", "source_detail", "recognised")


@dataclass(frozen=True)
class Column:
    header: str
    target: str = ""  # "" leaves the column out
    convert: Converter | None = None
    # What the conversion does, or why the column is left out ("%(tool)s" is the tool's name).
    note: Promise | str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preset:
    key: str
    tool: str  # a product name, the same in every language
    label: Promise  # shown in the list of presets
    columns: tuple[Column, ...]
    signature: tuple[str, ...]  # headers that only this tool writes

    @cached_property
    def by_key(self) -> dict[str, Column]:
        known: dict[str, Column] = {}
        for column in self.columns:
            for name in (column.header, *column.aliases):
                known[header_key(name)] = column
        return known

    def column(self, header: str) -> Column | None:
        return self.by_key.get(header_key(header))


@dataclass(frozen=True)
class Recognition:
    preset: Preset
    score: float


def header_key(header: str) -> str:
    """Headers compare without case, accents, punctuation or extra spaces
    ("Téléphone" is "telephone", "can2_user_tags" is "can2 user tags")."""
    return search_key(header.lstrip("\ufeff"))


# --- Converters ------------------------------------------------------------------------


def excel_text(cell: str, tool: str) -> dict[str, str]:
    """Some exports write a leading apostrophe so that Excel keeps a number as text ('0612…, '01000)."""
    return {SELF: cell.strip().removeprefix("'").strip()}


INTERNATIONAL_DIGITS = re.compile(r"[1-9][0-9]{10,14}")


def phone(cell: str, tool: str) -> dict[str, str]:
    """A number as the import reads it; international digits written without their "+"
    (33612345678) get it back. A French number that lost its leading zero in Excel
    (612345678) is read as French already."""
    number = excel_text(cell, tool)[SELF]
    digits = re.sub(r"[\s.\-()]", "", number)
    if INTERNATIONAL_DIGITS.fullmatch(digits):
        number = f"+{digits}"
    return {SELF: number}


def tags(cell: str, tool: str) -> dict[str, str]:
    """Tools separate tags with commas, semicolons, vertical bars or line breaks; the import with commas."""
    names = (" ".join(name.split()) for name in re.split(r"[,;|\n]", cell))
    return {SELF: ",".join(dict.fromkeys(name for name in names if name))}


def civility(cell: str, tool: str) -> dict[str, str]:
    """Mr, Mrs, Ms, M., Mme… become a civility. A title (Dr, Pr) is left out rather
    than refusing the row: it says nothing of how to address the person."""
    try:
        return {SELF: normalise_civility(cell)}
    except InvalidValue:
        return {}


US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def us_date(cell: str, tool: str) -> dict[str, str]:
    """Month first, as NationBuilder writes dates (12/31/1980); an ISO date passes as it is."""
    value = cell.strip()
    if ISO_DATE.fullmatch(value):
        return {SELF: value}
    if match := US_DATE.fullmatch(value):
        month, day, year = (int(part) for part in match.groups())
        try:
            return {SELF: datetime.date(year, month, day).isoformat()}
        except ValueError:
            pass
    raise InvalidValue(
        _("%(value)s is not a date as %(tool)s writes them (month/day/year, e.g. 12/31/1980).")
        % {"value": value_shown(cell), "tool": tool}
    )


STREET_NUMBER = re.compile(
    r"([0-9]{1,5})\s*(bis|ter|quater|quinquies|[a-z](?=\s))?\b[\s,]*(\S.*)", re.IGNORECASE | re.DOTALL
)
# "12 rue de Siam, 29200 Brest": the postcode and the town have their own columns.
TRAILING_TOWN = re.compile(r",\s*[0-9]{4,5}\s+[^,]*$")


def street_line(cell: str, tool: str) -> dict[str, str]:
    """ "12 bis rue de Siam" becomes number 12, repetition bis, street "rue de Siam",
    as the address is stored (and located in its polling station)."""
    line = TRAILING_TOWN.sub("", " ".join(cell.split()))
    if match := STREET_NUMBER.fullmatch(line):
        number, repetition, street = match.groups()
        return {"number": number, "repetition": (repetition or "").lower(), SELF: street}
    return {SELF: line}


def opt_in(cell: str, tool: str) -> dict[str, str]:
    """true: the person opted in (consent, with the export as proof); false: they did not,
    or no longer: recorded as not consenting, so that no legal basis reaches them."""
    value = parse_bool(cell)
    return {} if value is None else {SELF: YES if value else NO}


def consent_only(cell: str, tool: str) -> dict[str, str]:
    """Yes is consent; no or blank only means that none was recorded (not a refusal)."""
    return {SELF: YES} if parse_bool(cell) else {}


SUBSCRIBED = {"subscribed"}
REFUSED = {"unsubscribed", "spam complaint", "spam complaints", "spam"}
NO_STATEMENT = {"bouncing", "bounced", "not subscribed", "pending"}


def subscription(cell: str, tool: str) -> dict[str, str]:
    """Action Network's list status: subscribed is consent (Action Network requires an
    opt-in), unsubscribed or a spam complaint a withdrawal; a bouncing address says
    nothing about the person's wishes."""
    status = search_key(cell)
    if status in SUBSCRIBED:
        return {SELF: YES}
    if status in REFUSED:
        return {SELF: NO}
    if status in NO_STATEMENT:
        return {}
    raise InvalidValue(
        _("%(value)s is not a subscription status of %(tool)s (subscribed, unsubscribed, bouncing, spam complaint).")
        % {"value": value_shown(cell), "tool": tool}
    )


def flag(tag: Promise | None, *, withdraw: Iterable[str] = ()) -> Converter:
    """A yes/no flag such as "do not contact": yes adds a tag naming the tool (for what the
    import cannot record: phone and post) and withdraws consent on the given channels."""
    channels = tuple(withdraw)

    def convert(cell: str, tool: str) -> dict[str, str]:
        if not parse_bool(cell):
            return {}
        produced = {f"consent_{channel}": NO for channel in channels}
        if tag is not None:
            produced[SELF] = str(tag) % {"tool": tool}
        return produced

    return convert


def not_deceased(cell: str, tool: str) -> dict[str, str]:
    if parse_bool(cell):
        raise InvalidValue(_("Marked as deceased in %(tool)s: not imported.") % {"tool": tool})
    return {}


NOT_PEOPLE = {"organization", "organisation", "household", "foyer", "menage"}


def individuals_only(cell: str, tool: str) -> dict[str, str]:
    if search_key(cell) in NOT_PEOPLE:
        raise InvalidValue(
            _("A contact of type %(value)s in %(tool)s, not a person: only individuals are imported.")
            % {"value": value_shown(cell), "tool": tool}
        )
    return {}


# --- What the mapping page says about a column ---------------------------------------------

ID_NOTE = gettext_lazy("The identifier in %(tool)s: importing a later export matched by it updates the same people.")
TAGS_NOTE = gettext_lazy("A list of tags: each becomes a tag.")
GROUPS_NOTE = gettext_lazy("Group memberships: each group becomes a tag.")
PHONE_NOTE = gettext_lazy("Read as a French number unless it starts with its country code.")
CIVILITY_NOTE = gettext_lazy("Mr, Mrs, Ms… become M or Mme; a title (Dr, Pr) is left out.")
STREET_NOTE = gettext_lazy("Split into number, bis/ter and street.")
US_DATE_NOTE = gettext_lazy("Dates written month first (12/31/1980), as %(tool)s writes them.")
OPT_IN_NOTE = gettext_lazy(
    "true: consent to this channel, with the export as proof; false: recorded as not consenting."
)
QOMON_CONSENT_NOTE = gettext_lazy(
    "Yes: consent to this channel, with the export as proof; no or blank: nothing recorded."
)
SUBSCRIPTION_NOTE = gettext_lazy(
    "subscribed: consent, with the export as proof; unsubscribed or spam complaint: consent withdrawn; "
    "bouncing: nothing recorded."
)
DO_NOT_CONTACT_NOTE = gettext_lazy(
    "Yes: consent to emails and SMS withdrawn, and a tag to block phone and post (see the help)."
)
DO_NOT_EMAIL_NOTE = gettext_lazy("Yes: consent to emails withdrawn. No is not consent: nothing recorded.")
DO_NOT_SMS_NOTE = gettext_lazy("Yes: consent to SMS withdrawn. No is not consent: nothing recorded.")
OPT_OUT_NOTE = gettext_lazy("Yes: consent to emails withdrawn, and a tag.")
UNSUBSCRIBED_SMS_NOTE = gettext_lazy("Yes: consent to SMS withdrawn, and a tag.")
TAG_ONLY_NOTE = gettext_lazy("Yes: a tag, to block this channel on the people page (see the help).")
DECEASED_NOTE = gettext_lazy("Rows marked deceased are rejected, with the reason.")
CONTACT_TYPE_NOTE = gettext_lazy(
    "Organisations and households are rejected, with the reason: only people are imported."
)

SENSITIVE = gettext_lazy("Political opinion, religion or origin (special-category data): never imported.")
SUPPORT = gettext_lazy("A support level is sensitive: record only what each person tells you, on their page.")
GENDER = gettext_lazy("A gender is not a civility: Suffrage does not guess how to address someone.")
TOOL_DATE = gettext_lazy("A date in %(tool)s: the import records its own date, and names the export.")
ANOTHER_ID = gettext_lazy("Another identifier: the one %(tool)s gives each person is kept.")
US_ONLY = gettext_lazy("A United States field (state, county, ZIP+4, federal do-not-call list).")
COUNTRY = gettext_lazy("Addresses take the campaign's country; the region comes from the postcode.")
EXTRA_LINE = gettext_lazy("Suffrage keeps one address complement: this line is left out.")
MIDDLE_NAME = gettext_lazy("Suffrage keeps first names in one field: add a middle name by hand if you need it.")
THIRD_PHONE = gettext_lazy("Two numbers per person are imported (mobile and main phone).")
DELIVERY = gettext_lazy("A delivery problem in %(tool)s: Suffrage learns it again from its own sends.")
DONATIONS = gettext_lazy("Donation history is not imported.")
SOCIAL = gettext_lazy("Social profiles are not imported from files: add them on the person's page.")
BUILT = gettext_lazy("Built by %(tool)s from the name columns.")
TOOL_USER = gettext_lazy("A user of %(tool)s: Suffrage records who ran the import.")
NOT_SHARED = gettext_lazy("About sharing data with other organisations: Suffrage never does.")
NO_FIELD = gettext_lazy("No field of Suffrage takes this column: map it to a custom field if you need it.")
YOUR_CHOICE = gettext_lazy("Your choice: the value is taken as it is, without the preset's conversion.")

# Tags for what an import cannot record itself (phone and post channels), named after the tool.
DO_NOT_CONTACT_TAG = gettext_lazy("Do not contact (%(tool)s)")
DO_NOT_CALL_TAG = gettext_lazy("Do not call (%(tool)s)")
DO_NOT_MAIL_TAG = gettext_lazy("Do not mail (%(tool)s)")
OPTED_OUT_TAG = gettext_lazy("No bulk emails (%(tool)s)")
UNSUBSCRIBED_EMAIL_TAG = gettext_lazy("Unsubscribed from emails (%(tool)s)")
UNSUBSCRIBED_SMS_TAG = gettext_lazy("Unsubscribed from SMS (%(tool)s)")


# --- The presets --------------------------------------------------------------------------

# NationBuilder: People → Export, all fields. Column names are NationBuilder's import and
# export field names (nationbuilder.com, "What fields are available for imports?", and
# published code converting its people exports): flags true/false, an apostrophe before
# numbers for Excel. Dates are read month first, as its import documentation writes
# them; whether every export writes born_at that way (not ISO) is not documented, and
# ISO dates are accepted too.
NATIONBUILDER = Preset(
    key="nationbuilder",
    tool="NationBuilder",
    label=gettext_lazy("NationBuilder (people export)"),
    signature=(
        "nationbuilder_id",
        "email_opt_in",
        "mobile_opt_in",
        "do_not_contact",
        "do_not_call",
        "federal_donotcall",
        "primary_address1",
        "primary_address2",
        "primary_city",
        "primary_zip",
        "primary_state",
        "tag_list",
        "born_at",
        "is_mobile_bad",
        "support_level",
    ),
    columns=(
        Column("nationbuilder_id", "external_id", excel_text, ID_NOTE),
        Column("prefix", "civility", civility, CIVILITY_NOTE),
        Column("first_name", "first_names"),
        Column("middle_name", note=MIDDLE_NAME),
        Column("last_name", "usage_name"),
        Column("email", "email"),
        Column("email_opt_in", "consent_email", opt_in, OPT_IN_NOTE),
        Column("mobile_number", "phone", phone, PHONE_NOTE),
        Column("mobile_opt_in", "consent_sms", opt_in, OPT_IN_NOTE),
        Column("phone_number", "phone_2", phone, PHONE_NOTE),
        Column("work_phone_number", note=THIRD_PHONE),
        Column("do_not_contact", "tags", flag(DO_NOT_CONTACT_TAG, withdraw=("email", "sms")), DO_NOT_CONTACT_NOTE),
        Column("do_not_call", "tags", flag(DO_NOT_CALL_TAG), TAG_ONLY_NOTE),
        Column("is_deceased", "", not_deceased, DECEASED_NOTE),
        Column("primary_address1", "street", street_line, STREET_NOTE),
        Column("primary_address2", "complement"),
        Column("primary_address3", note=EXTRA_LINE),
        Column("primary_city", "town"),
        Column("primary_zip", "postcode", excel_text),
        Column("born_at", "birth_date", us_date, US_DATE_NOTE),
        Column("tag_list", "tags", tags, TAGS_NOTE),
        Column("note", "note"),
        Column("is_volunteer", "is_volunteer"),
        Column("sex", note=GENDER),
        Column("support_level", note=SUPPORT),
        Column("party", note=SENSITIVE),
        Column("ethnicity", note=SENSITIVE),
        Column("religion", note=SENSITIVE),
        Column("church", note=SENSITIVE),
        Column("created_at", note=TOOL_DATE),
        Column("updated_at", note=TOOL_DATE),
        Column("external_id", note=ANOTHER_ID),
        Column("civicrm_id", note=ANOTHER_ID),
        Column("email1_is_bad", note=DELIVERY),
        Column("is_mobile_bad", note=DELIVERY),
        Column("federal_donotcall", note=US_ONLY),
        Column("primary_state", note=US_ONLY),
        Column("primary_county", note=US_ONLY),
        Column("primary_country_code", note=COUNTRY),
        Column("primary_country", note=COUNTRY),
        Column("twitter_login", note=SOCIAL),
        Column("facebook_username", note=SOCIAL),
        Column("full_name", note=BUILT),
    ),
)

# Action Network: Start Organizing → Reports → a report of the list, downloaded as CSV
# (the "can2_" columns). Action Network documents its activist fields but not the
# report's column names: these are the ones published code that reads these reports
# uses. The SMS columns (can2_sms_phone, can2_sms_status) appear only for groups with
# SMS, and their names are the least certain.
ACTION_NETWORK = Preset(
    key="action_network",
    tool="Action Network",
    label=gettext_lazy("Action Network (activists report)"),
    signature=(
        "can2_phone",
        "can2_sms_phone",
        "can2_subscription_status",
        "can2_sms_status",
        "can2_user_tags",
        "can2_user_address",
        "can2_user_city",
        "can2_state_abbreviated",
        "can2_county",
        "can2_subscription_date",
        "can2_lifetime_value",
    ),
    columns=(
        Column("uuid", "external_id", note=ID_NOTE, aliases=("action_network_id",)),
        Column("first_name", "first_names"),
        Column("last_name", "usage_name"),
        Column("email", "email"),
        Column("can2_phone", "phone", phone, PHONE_NOTE),
        Column("can2_sms_phone", "phone_2", phone, PHONE_NOTE),
        Column("can2_user_address", "street", street_line, STREET_NOTE),
        Column("can2_user_city", "town"),
        Column("zip_code", "postcode", excel_text),
        Column("can2_subscription_status", "consent_email", subscription, SUBSCRIPTION_NOTE),
        Column("can2_sms_status", "consent_sms", subscription, SUBSCRIPTION_NOTE),
        Column("can2_user_tags", "tags", tags, TAGS_NOTE),
        Column("can2_state_abbreviated", note=US_ONLY, aliases=("can2_user_state", "state")),
        Column("can2_county", note=US_ONLY),
        Column("can2_country", note=COUNTRY, aliases=("country",)),
        Column("can2_subscription_date", note=TOOL_DATE),
        Column("created_at", note=TOOL_DATE),
        Column("can2_lifetime_value", note=DONATIONS),
        Column("can2_largest_donation", note=DONATIONS),
    ),
)

# CiviCRM: Search → Find Contacts → Export contacts, primary fields (or your own set).
# Headers are CiviCRM's field titles in English, as in its data dictionary; "Is Opt Out"
# is the older title of "No Bulk Emails (User Opt Out)". Flags are 1/0 (or Yes/No),
# dates ISO; a French site may translate the titles, then map by hand and save.
CIVICRM = Preset(
    key="civicrm",
    tool="CiviCRM",
    label=gettext_lazy("CiviCRM (contacts export)"),
    signature=(
        "Contact ID",
        "Contact Type",
        "Contact Subtype",
        "Do Not Email",
        "Do Not Phone",
        "Do Not Mail",
        "Do Not SMS",
        "Do Not Trade",
        "No Bulk Emails (User Opt Out)",
        "Is Opt Out",
        "Individual Prefix",
        "Supplemental Address 1",
        "Group(s)",
        "Tag(s)",
        "Sort Name",
        "Postal Code Suffix",
    ),
    columns=(
        Column("Contact ID", "external_id", note=ID_NOTE),
        Column("Contact Type", "", individuals_only, CONTACT_TYPE_NOTE),
        Column("Individual Prefix", "civility", civility, CIVILITY_NOTE, aliases=("Prefix",)),
        Column("First Name", "first_names"),
        Column("Middle Name", note=MIDDLE_NAME),
        Column("Last Name", "usage_name"),
        Column("Birth Date", "birth_date"),
        Column("Deceased", "", not_deceased, DECEASED_NOTE, aliases=("Is Deceased",)),
        Column("Email", "email"),
        Column("Phone", "phone", phone, PHONE_NOTE),
        Column("Street Address", "street", street_line, STREET_NOTE),
        Column("Supplemental Address 1", "complement"),
        Column("Postal Code", "postcode"),
        Column("City", "town"),
        Column("Do Not Email", "consent_email", flag(None, withdraw=("email",)), DO_NOT_EMAIL_NOTE),
        Column("Do Not SMS", "consent_sms", flag(None, withdraw=("sms",)), DO_NOT_SMS_NOTE),
        Column("Do Not Phone", "tags", flag(DO_NOT_CALL_TAG), TAG_ONLY_NOTE),
        Column("Do Not Mail", "tags", flag(DO_NOT_MAIL_TAG), TAG_ONLY_NOTE),
        Column(
            "No Bulk Emails (User Opt Out)",
            "tags",
            flag(OPTED_OUT_TAG, withdraw=("email",)),
            OPT_OUT_NOTE,
            aliases=("Is Opt Out",),
        ),
        Column("Group(s)", "tags", tags, GROUPS_NOTE, aliases=("Groups",)),
        Column("Tag(s)", "tags", tags, TAGS_NOTE, aliases=("Tags",)),
        Column("Note(s)", "note", aliases=("Note", "Notes")),
        Column("Do Not Trade", note=NOT_SHARED),
        Column("Gender", note=GENDER),
        Column("External Identifier", note=ANOTHER_ID),
        Column("Display Name", note=BUILT),
        Column("Sort Name", note=BUILT),
        Column("On Hold", note=DELIVERY),
        Column("Supplemental Address 2", note=EXTRA_LINE),
        Column("Supplemental Address 3", note=EXTRA_LINE),
        Column("Postal Code Suffix", note=US_ONLY),
        Column("State", note=COUNTRY, aliases=("State/Province", "County")),
        Column("Country", note=COUNTRY),
    ),
)

# Qomon: People database → Export. Qomon publishes no description of its export file:
# these French headers follow the contact properties and the consent and unsubscribe
# columns its help pages describe for imports (help.qomon.com). The file is written for
# French Excel (UTF-8 with a byte-order mark, semicolons, dates day first). Check them
# against a real export; a column named otherwise is left out for you to map.
QOMON = Preset(
    key="qomon",
    tool="Qomon",
    label=gettext_lazy("Qomon (contacts export)"),
    signature=(
        "Nom marital",
        "Consentement email",
        "Consentement SMS",
        "Désabonné email",
        "Désabonné SMS",
        "Désabonné appels",
        "Niveau de soutien",
        "Créé par",
    ),
    columns=(
        Column("ID", "external_id", note=ID_NOTE, aliases=("Identifiant", "ID contact")),
        Column("Civilité", "civility", civility, CIVILITY_NOTE),
        Column("Prénom", "first_names"),
        Column("Nom", "birth_name", aliases=("Nom de naissance", "Nom de famille")),
        Column("Nom marital", "usage_name", aliases=("Nom d'usage",)),
        Column("Date de naissance", "birth_date"),
        Column("Email", "email", aliases=("E-mail", "Adresse email")),
        Column("Téléphone", "phone", phone, PHONE_NOTE, aliases=("Mobile", "Téléphone mobile")),
        Column("Téléphone fixe", "phone_2", phone, PHONE_NOTE, aliases=("Téléphone 2",)),
        Column("Adresse", "street", street_line, STREET_NOTE),
        Column("Complément d'adresse", "complement"),
        Column("Code postal", "postcode"),
        Column("Ville", "town", aliases=("Commune",)),
        Column("Tags", "tags", tags, TAGS_NOTE, aliases=("Étiquettes",)),
        Column("Commentaire", "note", aliases=("Commentaires", "Notes")),
        Column("Consentement email", "consent_email", consent_only, QOMON_CONSENT_NOTE),
        Column("Consentement SMS", "consent_sms", consent_only, QOMON_CONSENT_NOTE),
        Column("Désabonné email", "tags", flag(UNSUBSCRIBED_EMAIL_TAG, withdraw=("email",)), OPT_OUT_NOTE),
        Column("Désabonné SMS", "tags", flag(UNSUBSCRIBED_SMS_TAG, withdraw=("sms",)), UNSUBSCRIBED_SMS_NOTE),
        Column("Désabonné appels", "tags", flag(DO_NOT_CALL_TAG), TAG_ONLY_NOTE),
        Column("Genre", note=GENDER),
        Column("Niveau de soutien", note=SUPPORT),
        Column("Date de création", note=TOOL_DATE),
        Column("Date de modification", note=TOOL_DATE),
        Column("Créé par", note=TOOL_USER),
        Column("Pays", note=COUNTRY),
    ),
)

PRESETS: dict[str, Preset] = {preset.key: preset for preset in (NATIONBUILDER, ACTION_NETWORK, CIVICRM, QOMON)}


# --- Recognising a file and mapping it ------------------------------------------------------


def preset_score(preset: Preset, headers: Iterable[str]) -> float:
    """How surely these headers are the tool's export: the share of its own columns found,
    out of CERTAIN_SIGNATURE (0 to 1)."""
    present = {header_key(header) for header in headers if header}
    found = sum(1 for name in preset.signature if header_key(name) in present)
    return min(1.0, found / CERTAIN_SIGNATURE)


def recognise(headers: list[str]) -> Recognition | None:
    """The preset these headers most look like, if it scores THRESHOLD or more."""
    scored = [Recognition(preset, preset_score(preset, headers)) for preset in PRESETS.values()]
    best = max(scored, key=lambda recognition: recognition.score)
    return best if best.score >= THRESHOLD else None


def preset_targets(preset: Preset, headers: list[str]) -> list[str]:
    """The preset's target for each column, "" for the columns it leaves out or does not know."""
    return [column.target if (column := preset.column(header)) else "" for header in headers]


def source_detail(preset: Preset) -> str:
    """Where the people came from, as the batch and each person's provenance name it."""
    return _("%(tool)s export") % {"tool": preset.tool}


def column_notes(preset: Preset, headers: list[str], mapping: list[str]) -> list[str]:
    """For the mapping page: what the preset does with each column, or why it is left out."""
    notes = []
    for header, target in zip(headers, mapping, strict=True):
        column = preset.column(header)
        note: Promise | str
        if column is None:
            note = "" if target else NO_FIELD
        elif target == column.target:
            note = column.note or ("" if target else NO_FIELD)
        elif target:
            note = YOUR_CHOICE if column.target or column.convert else ""
        else:
            note = ""  # the user left out a column the preset maps
        note = str(note)
        notes.append(note % {"tool": preset.tool} if note else "")
    return notes


# --- Converting a row (called by the pipeline for a batch mapped with a preset) -------------


@dataclass(frozen=True)
class _Step:
    header: str
    target: str
    convert: Converter | None


@lru_cache(maxsize=32)
def _steps(preset_key: str, headers: tuple[str, ...], mapping: tuple[str, ...]) -> tuple[_Step, ...]:
    """What to do with each column. A column converts as the preset says only while the
    user keeps the preset's target for it; otherwise its value is taken as it is."""
    preset = PRESETS[preset_key]
    steps = []
    for header, target in zip(headers, mapping, strict=True):
        column = preset.column(header)
        kept = column is not None and column.target == target
        steps.append(_Step(header, target, column.convert if kept and column else None))
    return tuple(steps)


def converted_row(batch: ImportBatch, cells: list[str]) -> tuple[dict[str, str], dict[str, str], list[dict[str, str]]]:
    """The row's values by target and the column each came from, as the pipeline maps
    them, after the preset's conversions; or the problems that reject the row."""
    preset = PRESETS[batch.settings["preset"]]
    values: dict[str, str] = {}
    columns: dict[str, str] = {}
    problems: list[dict[str, str]] = []
    # Tags made here (do not contact…) are data: named in the campaign's language.
    with translation.override(batch.campaign.language):
        for step, cell in zip(_steps(preset.key, tuple(batch.headers), tuple(batch.mapping)), cells, strict=True):
            if not cell:
                continue
            if step.convert is None:
                _put(values, columns, step.target, cell, step.header)
                continue
            try:
                produced = step.convert(cell, preset.tool)
            except InvalidValue as error:
                problems.append({"field": step.header, "message": str(error)})
                continue
            for target, value in produced.items():
                _put(values, columns, target or step.target, value, step.header)
    return values, columns, problems


def _put(values: dict[str, str], columns: dict[str, str], target: str, value: str, header: str) -> None:
    if not target or not value:
        return
    current = values.get(target)
    if current is None:
        values[target], columns[target] = value, header
    elif target == "tags":
        values[target] = f"{current},{value}"
    elif target.startswith("consent_") and value == NO:
        # A refusal wins over a consent in the same row (do_not_contact beats email_opt_in).
        values[target], columns[target] = value, header
    # Otherwise the first column wins: the number split from a street does not replace a number column.
