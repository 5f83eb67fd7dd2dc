"""The writes of the OSDI entry point: the person signup and record attendance
helpers, tags and taggings. Bodies are read and checked here (every fault named by
its property); the writes go through the people and engagement services, as the
public pages' do, so matching, provenance, consent proof and audit rows hold.

Matching: a person is found by email, else by phone (engagement's `person_find`),
never by name; what the body brings fills empty fields only (`person_arrive`).

Consent: an OSDI `status: "subscribed"` is not proof of consent, and is ignored.
Consent is recorded only from our extension `suffrage:consents`, which carries
the words the person agreed to (see docs/user/api-osdi.md)."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from suffrage.api.osdi.filters import osdi_number
from suffrage.api.osdi.hal import Osdi, OsdiError
from suffrage.core.models import User
from suffrage.engagement import services as engagement
from suffrage.engagement.fields import build_form, catalogue
from suffrage.engagement.models import RSVP, Event
from suffrage.engagement.public import OSDI_PATHS, signup_data
from suffrage.people.models import Channel, Person, Source, Tag
from suffrage.people.services import consent_record, people_tag, tag_get_or_create

MAX_BODY = 64 * 1024
# What a signup may bring about the person: every field the public forms know, none required.
PERSON_KEYS = ("first_names", "last_name", "email", "phone", "street", "postcode", "town")
WORDING_MAX = 2000
FORM_MAX = 200
ATTENDANCE_STATUSES = ("accepted", "declined")
PERSON_HREF = re.compile(r"/people/(\d+)/?$")

Problems = dict[str, list[str]]


def invalid(problems: Problems) -> OsdiError:
    pairs = [(prop, reason) for prop, reasons in problems.items() for reason in reasons]
    return OsdiError(400, _("The request is not valid."), pairs)


def read_body(request: HttpRequest) -> Any:
    """The JSON body, at most MAX_BODY bytes."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    too_large = _("The request is larger than %(size)d bytes.") % {"size": MAX_BODY}
    if declared > MAX_BODY:
        raise OsdiError(413, too_large)
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise OsdiError(413, too_large)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise OsdiError(400, _("The body is not valid JSON."), [("body", _("Expected a JSON object."))]) from None


def _actor(osdi: Osdi) -> User:
    # The services type their actor as a user and only record it (audit rows, who
    # checked in); a token whose creator has left records nobody.
    return cast(User, osdi.token.created_by)


# --- A person in a helper's body ------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentGiven:
    """One line of `suffrage:consents`: the proof the ledger keeps."""

    channel: str
    granted: bool
    wording: str
    form: str
    ip: str | None


@dataclass(frozen=True)
class Signup:
    data: dict[str, Any]  # the public form's cleaned data: what person_arrive takes
    tags: list[str]
    consents: list[ConsentGiven]


def _path(field: str) -> str:
    """The OSDI property of one of the public form's fields."""
    if field.startswith("custom:"):
        return f"person.custom_fields.{field.removeprefix('custom:')}"
    return OSDI_PATHS.get(field, field)


def _with_osdi_numbers(payload: Any) -> Any:
    """OSDI numbers may be JSON numbers (19876543210) or digits without "+": read as texts
    with their country code, before the public endpoint's parser sees them."""
    person = payload.get("person") if isinstance(payload, dict) else None
    phones = person.get("phone_numbers") if isinstance(person, dict) else None
    if not isinstance(phones, list):
        return payload
    payload = copy.deepcopy(payload)
    for phone in payload["person"]["phone_numbers"]:
        if isinstance(phone, dict) and isinstance(phone.get("number"), int | str):
            phone["number"] = osdi_number(str(phone["number"]))
    return payload


def _text(problems: Problems, path: str, value: Any, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.setdefault(path, []).append(_("Expected a text."))
        return ""
    if len(value.strip()) > limit:
        problems.setdefault(path, []).append(_("At most %(count)d characters.") % {"count": limit})
    return value.strip()


def _consent_line(problems: Problems, path: str, entry: dict[str, Any]) -> ConsentGiven:
    channel = entry.get("channel")
    if channel not in Channel.values:
        choices = ", ".join(Channel.values)
        problems.setdefault(f"{path}.channel", []).append(_("Expected one of: %(choices)s.") % {"choices": choices})
    granted = entry.get("granted", True)
    if not isinstance(granted, bool):
        problems.setdefault(f"{path}.granted", []).append(_("Expected true or false."))
    wording = _text(problems, f"{path}.wording", entry.get("wording"), WORDING_MAX)
    if granted is True and not wording:
        problems.setdefault(f"{path}.wording", []).append(
            _("Give the exact words the person agreed to: they are the proof of the consent.")
        )
    form = _text(problems, f"{path}.form", entry.get("form"), FORM_MAX)
    ip = entry.get("ip")
    if ip is not None:
        try:
            validate_ipv46_address(ip)
        except ValidationError:
            problems.setdefault(f"{path}.ip", []).append(_("Expected an IPv4 or IPv6 address."))
    return ConsentGiven(str(channel), granted is True, wording, form, ip)


def _consents(problems: Problems, payload: dict[str, Any]) -> list[ConsentGiven]:
    raw = payload.get("suffrage:consents")
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        problems.setdefault("suffrage:consents", []).append(_("Expected a list of objects."))
        return []
    return [_consent_line(problems, f"suffrage:consents[{index}]", entry) for index, entry in enumerate(raw)]


def _signup(osdi: Osdi, payload: Any) -> tuple[Signup, Problems]:
    """The person, tags and consents of a helper's body, checked as the public form
    checks them; the problems found, by property."""
    data, channels, tags, errors = signup_data(_with_osdi_numbers(payload))
    problems: Problems = dict(errors)
    if not isinstance(payload, dict):
        return Signup({}, [], []), problems
    if channels:
        problems.setdefault("consents", []).append(
            _("Send consents as suffrage:consents, each with the words the person agreed to.")
        )
    consents = _consents(problems, payload)
    chosen = [{"key": key, "required": False} for key in PERSON_KEYS]
    known = catalogue(osdi.campaign)
    for key in data:
        if not key.startswith("custom:"):
            continue
        if key in known:
            chosen.append({"key": key, "required": False})
        else:
            problems.setdefault(_path(key), []).append(_("No custom field with this key can be set from outside."))
    form = build_form(osdi.campaign, chosen, [], data=data)
    if not form.is_valid():
        for field, messages in form.errors.items():
            problems.setdefault(_path(field), []).extend(str(message) for message in messages)
    return Signup(form.cleaned_data if not problems else {}, tags, consents), problems


def _tag_and_consent(osdi: Osdi, person: Person, signup: Signup, form: str) -> None:
    for name in signup.tags:
        people_tag(campaign=osdi.campaign, people_ids=[person.pk], tag_name=name, add=True, actor=_actor(osdi))
    for consent in signup.consents:
        consent_record(
            person=person,
            channel=consent.channel,
            granted=consent.granted,
            source=Source.API,
            actor=osdi.token.created_by,
            form=consent.form or form,
            wording=consent.wording,
            ip=consent.ip,
        )


# --- Person signup helper ------------------------------------------------------------------------


def person_signup(osdi: Osdi, payload: Any) -> tuple[Person, bool]:
    """Find the person by email or phone, or create them (provenance: the API, the
    token's name as detail); fill their empty fields, tag them, record their consents.
    Returns the person and whether they were created."""
    signup, problems = _signup(osdi, payload)
    if problems:
        raise invalid(problems)
    with transaction.atomic():
        arrival = engagement.person_arrive(
            campaign=osdi.campaign,
            data=signup.data,
            source=Source.API,
            detail=osdi.token.name[:200],
            consenting=any(consent.granted for consent in signup.consents),
        )
        _tag_and_consent(osdi, arrival.person, signup, osdi.token.name[:FORM_MAX])
    return arrival.person, arrival.created


# --- Record attendance helper --------------------------------------------------------------------


def record_attendance(osdi: Osdi, event: Event, payload: Any) -> tuple[RSVP, bool]:
    """An RSVP (`status` "accepted", the default), its cancellation ("declined"), or a
    check-in (`attended: true`, a walk-in when they had no RSVP). Returns the RSVP and
    whether its person was created."""
    signup, problems = _signup(osdi, payload)
    status = payload.get("status", "accepted") if isinstance(payload, dict) else "accepted"
    attended = payload.get("attended", False) if isinstance(payload, dict) else False
    if status not in ATTENDANCE_STATUSES:
        choices = ", ".join(ATTENDANCE_STATUSES)
        problems.setdefault("status", []).append(_("Expected one of: %(choices)s.") % {"choices": choices})
    if not isinstance(attended, bool):
        problems.setdefault("attended", []).append(_("Expected true or false."))
    elif attended and status == "declined":
        problems.setdefault("attended", []).append(_("Someone who declined cannot have attended."))
    if problems:
        raise invalid(problems)
    data, campaign = signup.data, osdi.campaign
    known = engagement.person_find(campaign, email=data.get("email") or "", phone=data.get("phone"))
    with transaction.atomic():
        if status == "declined":
            rsvp = _rsvp_cancel(osdi, event, known)
        elif attended:
            rsvp = _check_in(osdi, event, data)
        else:
            rsvp = _rsvp(event, data)
        _tag_and_consent(osdi, rsvp.person, signup, f"{event.title} · {osdi.token.name}"[:FORM_MAX])
    return rsvp, known is None and status != "declined"


def _rsvp(event: Event, data: dict[str, Any]) -> RSVP:
    try:
        return engagement.rsvp_record(event=event, data=data, via="api")
    except engagement.EventFull:
        raise invalid({"status": [_("The event is full and has no waiting list.")]}) from None
    except engagement.Closed:
        raise invalid({"status": [_("This event no longer takes RSVPs.")]}) from None


def _check_in(osdi: Osdi, event: Event, data: dict[str, Any]) -> RSVP:
    if event.status in (Event.Status.DRAFT, Event.Status.CANCELLED):
        raise invalid({"attended": [_("Nobody can attend a draft or cancelled event.")]})
    return engagement.walk_in_record(event=event, data=data, actor=_actor(osdi))


def _rsvp_cancel(osdi: Osdi, event: Event, person: Person | None) -> RSVP:
    rsvp = RSVP.objects.filter(event=event, person=person).first() if person is not None else None
    if rsvp is None:
        raise invalid({"person": [_("Nobody with this email or phone has answered this event.")]})
    return engagement.rsvp_cancel(rsvp=rsvp, actor=osdi.token.created_by)


# --- Tags and taggings ---------------------------------------------------------------------------


def tag_create(osdi: Osdi, payload: Any) -> tuple[Tag, bool]:
    """A tag by name (the existing one if the name is taken). Returns it and whether it is new."""
    name = payload.get("name") if isinstance(payload, dict) else None
    if not isinstance(name, str) or not 0 < len(" ".join(name.split())) <= 80:
        raise invalid({"name": [_("Expected a name of 1 to 80 characters.")]})
    name = " ".join(name.split())
    existed = Tag.objects.filter(campaign=osdi.campaign, name=name).exists()
    return tag_get_or_create(osdi.campaign, name), not existed


def tagged_person(osdi: Osdi, payload: Any) -> Person:
    """The person a new tagging links to: `_links["osdi:person"].href`, one of our people's addresses."""
    links = payload.get("_links") if isinstance(payload, dict) else None
    target = links.get("osdi:person") if isinstance(links, dict) else None
    href = target.get("href") if isinstance(target, dict) else None
    match = PERSON_HREF.search(href) if isinstance(href, str) else None
    found = Person.objects.filter(campaign=osdi.campaign, pk=int(match.group(1))).first() if match else None
    if found is None:
        raise invalid({"_links.osdi:person.href": [_("Expected the address of one of the campaign's people.")]})
    return found


def tagging_add(osdi: Osdi, tag: Tag, person: Person) -> None:
    people_tag(campaign=osdi.campaign, people_ids=[person.pk], tag_name=tag.name, add=True, actor=_actor(osdi))


def tagging_remove(osdi: Osdi, tag: Tag, person_id: int) -> None:
    people_tag(campaign=osdi.campaign, people_ids=[person_id], tag_name=tag.name, add=False, actor=_actor(osdi))
