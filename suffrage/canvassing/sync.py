"""The volunteers' app sends what it recorded at the doors, perhaps after a whole
session offline: `visits_sync` checks every record and applies the good ones in one
transaction.

- **Idempotent.** Each record carries a `client_id` made on the phone when the
  volunteer tapped. A record whose id the server already has is reported as a
  duplicate and not applied again, so a retried sync (the answer lost on the way
  back, the app closed mid-request) never duplicates a visit or a person. Visits
  are written with one `bulk_create` and the unique `client_id` is the last guard.
- **Nothing half-applied, nothing silently dropped.** A bad record is rejected with
  its index, client id, field and reason, and stays on the phone; the others are
  applied. A request that cannot be read at all is refused as a whole.
- **Only the volunteer's turfs.** A record is accepted for a door of a turf the
  volunteer holds now, or held when the record was made (see `_may_record`).
- **People.** Contact details create or find a person (email, then phone; never by
  name) with provenance "door-to-door"; each ticked box is a consent with its proof
  (the fixed wording below, its version and the canvass); a support level only as
  the person said it; "do not contact again" with details is an objection on every
  channel, without details it stays on the door.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from suffrage.api.webhooks import emit as webhook
from suffrage.canvassing.models import DOOR_OUTCOMES, Canvass, Door, Outcome, Question, Turf, Visit
from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.engagement.services import person_find
from suffrage.imports.normalise import InvalidValue, Phone, normalise_email, normalise_phone
from suffrage.people.models import LegalBasis, Person, PersonEmail, PersonPhone, Source
from suffrage.people.services import (
    consent_record,
    person_add_channel,
    person_create,
    person_refresh_search,
    person_set_support_level,
    record_field_sources,
)
from suffrage.privacy.services import person_object

# One request: at most this many records and bytes (the app sends batches of 200).
MAX_RECORDS = 1000
MAX_BODY_BYTES = 2 * 1024 * 1024
NOTE_MAX = 500
TEXT_ANSWER_MAX = 1000
CONTACT_MAX = {"first_names": 200, "last_name": 150, "email": 254, "phone": 40}
# A phone whose clock runs ahead: a time this far in the future is taken as now.
CLOCK_SKEW = datetime.timedelta(minutes=10)
# How long after losing a turf (expired or handed to someone else) a volunteer may
# still send what they recorded on it while they held it.
SYNC_GRACE = datetime.timedelta(hours=24)

# Outcomes where someone talked: only these carry answers, contact details or a support level.
CONVERSATION = frozenset({Outcome.OPENED, Outcome.DO_NOT_CONTACT})
CONSENT_CHANNELS = ("email", "sms", "phone")

# The consent boxes the app shows at the door. The exact words are the proof: change
# them only together with DOOR_CONSENT_VERSION, so that earlier consents keep pointing
# at the words people saw (the version is part of the recorded form).
DOOR_CONSENT_VERSION = 1
DOOR_CONSENT_V1: dict[str, StrOrPromise] = {
    "email": gettext_lazy(
        "I agree to receive emails from %(campaign)s about its campaign. "
        "I can unsubscribe at any time with the link in each email."
    ),
    "sms": gettext_lazy(
        "I agree to receive text messages from %(campaign)s about its campaign. "
        "I can stop them at any time by replying STOP."
    ),
    "phone": gettext_lazy(
        "I agree to be called by %(campaign)s about its campaign. I can ask at any time not to be called again."
    ),
}
# Said to the person before they give their details (GDPR art. 13); shown, not stored.
DOOR_NOTICE = gettext_lazy(
    "%(campaign)s keeps these details to stay in touch during its campaign. They are never sold or "
    "passed on. You can ask at any time to see, correct or erase them, or to be left alone."
)


def door_consent_wording(campaign: Campaign) -> dict[str, str]:
    """{channel: the words shown beside its box}, in the current language."""
    return {channel: str(text) % {"campaign": campaign.name} for channel, text in DOOR_CONSENT_V1.items()}


def door_consent_form(canvass: Canvass) -> str:
    """The "form" of the consent proof: which canvass, at the door, which wording."""
    return f"{canvass.name} · porte-à-porte · v{DOOR_CONSENT_VERSION}"[:200]


@dataclass
class SyncResult:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    # {"client_id", "index", "field", "reason"}; client_id is None when it was unreadable.
    rejected: list[dict[str, Any]] = field(default_factory=list)
    people_created: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "people_created": self.people_created,
        }


class Rejected(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


@dataclass
class Contact:
    first_names: str
    last_name: str
    email: str
    phone: Phone | None
    consents: list[str]  # the channels whose box was ticked


@dataclass
class Parsed:
    index: int
    client_id: uuid.UUID
    sent_id: str  # as the app wrote it
    door_id: int
    outcome: str
    recorded_at: datetime.datetime
    answers: dict[str, Any]
    note: str
    contact: Contact | None
    support_level: int | None
    door: Door | None = None


# --- Reading one record (no database) ------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(raw: dict[str, Any], name: str, limit: int, field_name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Rejected(field_name, _("Must be text."))
    value = value.strip()
    if len(value) > limit:
        raise Rejected(field_name, _("At most %(n)d characters.") % {"n": limit})
    return value


def _client_id(raw: Any) -> uuid.UUID | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("client_id"), str):
        return None
    try:
        return uuid.UUID(raw["client_id"])
    except ValueError:
        return None


def _echo(raw: Any) -> str | None:
    """The record's id as the app sent it (the app finds its records by that text)."""
    return raw["client_id"] if _client_id(raw) is not None else None


def _parse(index: int, raw: Any, *, country: str, now: datetime.datetime) -> Parsed:
    if not isinstance(raw, dict):
        raise Rejected("", _("A record must be an object."))
    client_id = _client_id(raw)
    if client_id is None:
        raise Rejected("client_id", _("Missing or not a UUID."))
    door_id: Any = raw.get("door_id")
    if not _is_int(door_id) or not 0 < door_id < 2**63:
        raise Rejected("door_id", _("Missing or not a door number."))
    outcome = raw.get("outcome")
    if outcome not in DOOR_OUTCOMES:
        raise Rejected("outcome", _("Not an outcome at a door."))
    recorded_at = _recorded_at(raw.get("recorded_at"), now)
    note = _text(raw, "note", NOTE_MAX, "note")
    answers = raw.get("answers") or {}
    if not isinstance(answers, dict):
        raise Rejected("answers", _("Must be an object of question ids and answers."))
    contact = _contact(raw.get("contact"), country)
    support_level = raw.get("support_level")
    if support_level is not None and (not _is_int(support_level) or not 1 <= support_level <= 5):
        raise Rejected("support_level", _("Must be a whole number from 1 to 5, or nothing."))
    talked = outcome in CONVERSATION
    if not talked:
        for name, given in (("answers", answers), ("contact", contact), ("support_level", support_level)):
            if given:
                raise Rejected(name, _("Only recorded when someone talked at the door."))
    if support_level is not None and contact is None:
        raise Rejected("support_level", _("A support level is recorded only with the person's details."))
    if outcome == Outcome.DO_NOT_CONTACT and contact is not None:
        if contact.consents:
            raise Rejected(
                f"contact.consent_{contact.consents[0]}",
                _("Someone who asks not to be contacted cannot consent at the same time."),
            )
        if support_level is not None:
            raise Rejected("support_level", _("Not recorded for someone who asks not to be contacted."))
    return Parsed(
        index, client_id, raw["client_id"], door_id, outcome, recorded_at, answers, note, contact, support_level
    )


def _recorded_at(value: Any, now: datetime.datetime) -> datetime.datetime:
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed, not a date: "2027-02-30T10:00:00Z"
        parsed = None
    if parsed is None:
        raise Rejected("recorded_at", _("Missing or not an ISO 8601 date and time."))
    if timezone.is_naive(parsed):
        raise Rejected("recorded_at", _("The time needs its offset from UTC (e.g. Z or +01:00)."))
    return min(parsed, now) if parsed > now + CLOCK_SKEW else parsed


def _contact(raw: Any, country: str) -> Contact | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise Rejected("contact", _("Must be an object, or nothing."))
    values = {name: _text(raw, name, limit, f"contact.{name}") for name, limit in CONTACT_MAX.items()}
    try:
        email = normalise_email(values["email"])
    except InvalidValue as error:
        raise Rejected("contact.email", str(error)) from None
    try:
        phone = normalise_phone(values["phone"], default_region=country)
    except InvalidValue as error:
        raise Rejected("contact.phone", str(error)) from None
    consents = []
    for channel in CONSENT_CHANNELS:
        ticked = raw.get(f"consent_{channel}", False)
        if not isinstance(ticked, bool):
            raise Rejected(f"contact.consent_{channel}", _("Must be true or false."))
        if ticked:
            consents.append(channel)
    if "email" in consents and not email:
        raise Rejected("contact.consent_email", _("Consent to emails needs an email address."))
    if "sms" in consents and not (phone and phone.sms_capable):
        raise Rejected("contact.consent_sms", _("Consent to text messages needs a mobile number."))
    if "phone" in consents and not phone:
        raise Rejected("contact.consent_phone", _("Consent to calls needs a phone number."))
    if not (values["first_names"] or values["last_name"] or email or phone):
        if consents:
            raise Rejected("contact", _("A consent needs the person's details."))
        return None
    return Contact(values["first_names"], values["last_name"], email, phone, consents)


def _answers(answers: dict[str, Any], questions: dict[str, Question]) -> dict[str, Any]:
    """The answers kept: each must be a question of the door's canvass, of its kind."""
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        question = questions.get(str(key))
        name = f"answers.{key}"
        if question is None:
            raise Rejected(name, _("Not a question of this canvass."))
        if value in (None, "", []):
            continue
        choices = [str(choice) for choice in question.choices]
        if question.kind == Question.Kind.SINGLE:
            if value not in choices:
                raise Rejected(name, _("Not one of the question's choices."))
        elif question.kind == Question.Kind.MULTIPLE:
            if not isinstance(value, list) or any(item not in choices for item in value):
                raise Rejected(name, _("Must be a list of the question's choices."))
            value = list(dict.fromkeys(value))
        elif question.kind == Question.Kind.SCALE:
            if not _is_int(value) or not 1 <= value <= 5:
                raise Rejected(name, _("Must be a whole number from 1 to 5."))
        else:
            if not isinstance(value, str) or len(value.strip()) > TEXT_ANSWER_MAX:
                raise Rejected(name, _("Must be text of at most %(n)d characters.") % {"n": TEXT_ANSWER_MAX})
            value = value.strip()
        clean[str(question.pk)] = value
    return clean


# --- Whose turf ---------------------------------------------------------------------------


def _may_record(
    turf: Turf, volunteer_id: int, recorded_at: datetime.datetime, now: datetime.datetime, recent: set[int]
) -> bool:
    """Did the volunteer hold the door's turf when the record was made?

    - The turf is theirs now: yes while the assignment runs; after it expired, for
      what was recorded before it expired, during SYNC_GRACE.
    - The turf was handed to someone else (or taken back) since: for what was
      recorded before the new assignment, during SYNC_GRACE, if the volunteer has
      synced a visit on that turf within SYNC_GRACE (the proof they held it; there
      is no assignment history). A volunteer who never synced before the turf was
      reassigned keeps the records on the phone, refused; handing the turf back lets
      them through at the next sync.
    """
    if turf.assigned_to_id == volunteer_id:
        if turf.expires_at is None or now < turf.expires_at:
            return True
        return recorded_at < turf.expires_at and now < turf.expires_at + SYNC_GRACE
    if turf.pk not in recent or now - recorded_at > SYNC_GRACE:
        return False
    return turf.assigned_at is None or recorded_at <= turf.assigned_at


# --- The service ---------------------------------------------------------------------------


@transaction.atomic
def visits_sync(*, campaign: Campaign, volunteer: User, records: list[Any]) -> SyncResult:
    """Apply the records the app sent (see the module's docstring); one transaction."""
    now = timezone.now()
    result = SyncResult()
    # Two syncs of the same volunteer at once (a retry while the first still runs)
    # queue here, so the second sees the first's visits as duplicates (PostgreSQL;
    # SQLite's IMMEDIATE transactions already queue writers).
    list(User.objects.select_for_update().filter(pk=volunteer.pk).values_list("pk", flat=True))

    parsed: list[Parsed] = []
    for index, raw in enumerate(records):
        try:
            parsed.append(_parse(index, raw, country=campaign.country, now=now))
        except Rejected as error:
            result.rejected.append(_rejection(index, _echo(raw), error))

    known = {
        client_id: (campaign_id, volunteer_id)
        for client_id, campaign_id, volunteer_id in Visit.objects.filter(
            client_id__in=[record.client_id for record in parsed]
        ).values_list("client_id", "campaign_id", "volunteer_id")
    }
    doors = Door.objects.filter(campaign=campaign, pk__in={record.door_id for record in parsed}).select_related(
        "turf", "canvass"
    )
    doors_by_id = {door.pk: door for door in doors}
    recent = _recently_synced_turfs(campaign, volunteer, parsed, doors_by_id, now)
    questions = _questions_by_canvass({door.canvass_id for door in doors_by_id.values()})

    fresh: list[Parsed] = []
    seen: set[uuid.UUID] = set()
    for record in parsed:
        client_id = record.sent_id
        if record.client_id in seen or known.get(record.client_id) == (campaign.pk, volunteer.pk):
            result.duplicates.append(client_id)
            continue
        try:
            if record.client_id in known:
                raise Rejected("client_id", _("This record id is already used by another record."))
            record.door = _door_for(record, doors_by_id, volunteer, now, recent)
            record.answers = _answers(record.answers, questions.get(record.door.canvass_id, {}))
        except Rejected as error:
            result.rejected.append(_rejection(record.index, client_id, error))
            continue
        seen.add(record.client_id)
        fresh.append(record)

    visits = []
    reachable = _known_channels(campaign, fresh)
    for record in fresh:
        assert record.door is not None
        person = None
        if record.contact is not None:
            try:
                person, created = _contact_apply(campaign=campaign, volunteer=volunteer, record=record, known=reachable)
            except (ValidationError, Rejected) as error:
                result.rejected.append(_rejection(record.index, record.sent_id, _contact_error(error)))
                continue
            result.people_created += created
        visits.append(
            Visit(
                campaign=campaign,
                canvass_id=record.door.canvass_id,
                door=record.door,
                turf_id=record.door.turf_id,
                volunteer=volunteer,
                person=person,
                outcome=record.outcome,
                answers=record.answers,
                note=record.note,
                client_id=record.client_id,
                recorded_at=record.recorded_at,
                synced_at=now,
            )
        )
        result.accepted.append(record.sent_id)
    Visit.objects.bulk_create(visits)
    webhook.visits_recorded(campaign, visits)
    result.rejected.sort(key=lambda rejection: rejection["index"])
    audit_record(
        action="canvassing.sync",
        campaign=campaign,
        changes={
            "accepted": len(result.accepted),
            "duplicates": len(result.duplicates),
            "rejected": len(result.rejected),
            "people_created": result.people_created,
        },
        actor=volunteer,
    )
    return result


def _rejection(index: int, client_id: str | None, error: Rejected) -> dict[str, Any]:
    return {"client_id": client_id, "index": index, "field": error.field, "reason": error.reason}


def _contact_error(error: ValidationError | Rejected) -> Rejected:
    if isinstance(error, Rejected):
        return error
    fields = getattr(error, "error_dict", {}) or {}
    name = next(iter(fields), "")
    return Rejected(f"contact.{name}" if name else "contact", " ".join(error.messages))


def _door_for(
    record: Parsed, doors_by_id: dict[int, Door], volunteer: User, now: datetime.datetime, recent: set[int]
) -> Door:
    door = doors_by_id.get(record.door_id)
    if door is None:
        raise Rejected("door_id", _("No such door in this campaign."))
    if door.turf is None or not _may_record(door.turf, volunteer.pk, record.recorded_at, now, recent):
        raise Rejected("door_id", _("Not your turf: this door is on a turf you do not hold."))
    return door


def _recently_synced_turfs(
    campaign: Campaign, volunteer: User, parsed: list[Parsed], doors_by_id: dict[int, Door], now: datetime.datetime
) -> set[int]:
    """Turfs, among those of the records not held now, where the volunteer synced a visit lately."""
    others = {
        door.turf_id
        for record in parsed
        if (door := doors_by_id.get(record.door_id)) is not None
        and door.turf is not None
        and door.turf.assigned_to_id != volunteer.pk
    }
    if not others:
        return set()
    return set(
        Visit.objects.filter(
            campaign=campaign, volunteer=volunteer, turf_id__in=others, synced_at__gte=now - SYNC_GRACE
        ).values_list("turf_id", flat=True)
    )


def _questions_by_canvass(canvass_ids: set[int]) -> dict[int, dict[str, Question]]:
    by_canvass: dict[int, dict[str, Question]] = {}
    for question in Question.objects.filter(canvass_id__in=canvass_ids):
        by_canvass.setdefault(question.canvass_id, {})[str(question.pk)] = question
    return by_canvass


def _known_channels(campaign: Campaign, records: list[Parsed]) -> set[str]:
    """The emails and numbers of these records that someone in the base already has
    (two queries): only those are looked up one by one (person_find)."""
    emails = {record.contact.email for record in records if record.contact and record.contact.email}
    numbers = {record.contact.phone.e164 for record in records if record.contact and record.contact.phone}
    known: set[str] = set()
    if emails:
        in_base = PersonEmail.objects.filter(campaign=campaign, address__in=emails)
        known |= set(in_base.values_list("address", flat=True))
    if numbers:
        on_file = PersonPhone.objects.filter(campaign=campaign, number__in=numbers)
        known |= set(on_file.values_list("number", flat=True))
    return known


def _contact_apply(*, campaign: Campaign, volunteer: User, record: Parsed, known: set[str]) -> tuple[Person, bool]:
    """Find or create the person who gave their details, then record what they said.
    `known`: the emails and numbers already in the base (this sync's new ones are added).

    No savepoint of its own (two round trips per person): the record was checked
    before (lengths, address, number), and person_create validates before it writes,
    in its own savepoint, so a person who cannot be saved rejects this record only."""
    contact, door = record.contact, record.door
    assert contact is not None and door is not None
    canvass = door.canvass
    names: dict[str, Any] = {"first_names": contact.first_names, "usage_name": contact.last_name}
    channels = {contact.email, contact.phone.e164 if contact.phone else ""} - {""}
    person = person_find(campaign, email=contact.email, phone=contact.phone) if channels & known else None
    created = person is None
    if person is None:
        person = person_create(
            campaign=campaign,
            actor=volunteer,
            source=Source.CANVASSING,
            source_detail=canvass.name[:200],
            legal_basis=LegalBasis.CONSENT if contact.consents else LegalBasis.LEGITIMATE_INTEREST,
            email=contact.email,
            phone=contact.phone,
            collected_at=record.recorded_at,
            **{name: value for name, value in names.items() if value},
        )
    else:
        _person_complete(person, contact, names, volunteer, canvass)
    if contact.consents:
        wording = door_consent_wording(campaign)
        for channel in contact.consents:
            consent_record(
                person=person,
                channel=channel,
                granted=True,
                source=Source.CANVASSING,
                actor=volunteer,
                form=door_consent_form(canvass),
                wording=wording[channel],
            )
    if record.support_level is not None:
        person_set_support_level(person=person, level=record.support_level, actor=volunteer)
    if record.outcome == Outcome.DO_NOT_CONTACT:
        person_object(person=person, actor=volunteer)
    known |= channels
    return person, created


def _person_complete(
    person: Person, contact: Contact, names: dict[str, Any], volunteer: User, canvass: Canvass
) -> None:
    """What the person said at the door fills empty fields only, as a web form does
    (engagement.services.person_arrive), and adds a new email or number."""
    filled = {name: value for name, value in names.items() if value and not getattr(person, name)}
    if filled:
        for name, value in filled.items():
            setattr(person, name, value)
        record_field_sources(person, filled, source=Source.CANVASSING, detail=canvass.name)
        person.save()
        person_refresh_search(person)
    if contact.email and not person.emails.filter(address=contact.email).exists():
        person_add_channel(person=person, kind="email", value=contact.email, actor=volunteer)
    if contact.phone is not None and not person.phones.filter(number=contact.phone.e164).exists():
        person_add_channel(person=person, kind="phone", value=contact.phone, actor=volunteer)
