"""Writes on people: one transaction and one audit row each."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from suffrage.api.webhooks import emit as webhook
from suffrage.core.audit import audit_record, diff, snapshot
from suffrage.core.bulk import insert_rows
from suffrage.core.models import Campaign, User
from suffrage.imports.models import ImportRow
from suffrage.imports.normalise import InvalidValue, parse_bool, parse_date, search_key
from suffrage.people.models import (
    Channel,
    ConsentEvent,
    CustomField,
    DuplicateDismissal,
    Note,
    Person,
    PersonEmail,
    PersonPhone,
    PostalAddress,
    SocialProfile,
    Source,
    Tag,
)
from suffrage.privacy.services import is_suppressed

# Chosen field by field when two records are merged.
MERGE_FIELDS = ("civility", "first_names", "birth_name", "usage_name", "birth_date", "external_id", "support_level")


# --- Search keys ------------------------------------------------------------------


def compute_search_keys(
    person: Person, *, emails: Iterable[str] = (), phones: Iterable[str] = (), addresses: Iterable[PostalAddress] = ()
) -> None:
    """Fill person.search_text and name_key from the person and their channels (not saved)."""
    person.name_key = search_key(f"{person.last_name} {person.first_names}")
    parts = [person.first_names, person.birth_name, person.usage_name, person.external_id]
    parts += list(emails)
    # Phones are searchable as typed in France ("0612…") and in E.164 digits.
    for number in phones:
        parts += [number.lstrip("+"), "0" + number[3:] if number.startswith("+33") else ""]
    for address in addresses:
        parts += [address.postcode, address.town, address.street]
    person.search_text = " ".join(dict.fromkeys(search_key(" ".join(p for p in parts if p)).split()))


def person_refresh_search(person: Person) -> None:
    compute_search_keys(
        person,
        emails=person.emails.values_list("address", flat=True),
        phones=person.phones.values_list("number", flat=True),
        addresses=person.addresses.all(),
    )
    Person.objects.filter(pk=person.pk).update(search_text=person.search_text, name_key=person.name_key)


def record_field_sources(person: Person, fields: Iterable[str], *, source: str, detail: str) -> None:
    stamp = {"source": source, "detail": detail, "at": timezone.now().isoformat(timespec="seconds")}
    for name in fields:
        person.field_sources[name] = stamp


# --- Create and edit ----------------------------------------------------------------


@transaction.atomic
def person_create(
    *,
    campaign: Campaign,
    actor: User | None,
    source: str,
    legal_basis: str,
    source_detail: str = "",
    email: str = "",
    phone: Any = None,
    address: dict[str, str] | None = None,
    **fields: Any,
) -> Person:
    person = Person(
        campaign=campaign,
        source=source,
        legal_basis=legal_basis,
        source_detail=source_detail or (actor.email if actor else ""),
        created_by=actor,
        **fields,
    )
    filled = [name for name, value in fields.items() if value not in ("", None, False, {})]
    person.full_clean(exclude=["search_text", "name_key"])
    person.save()
    if email:
        PersonEmail.objects.create(
            person=person,
            campaign=campaign,
            address=email,
            is_primary=True,
            source=source,
            status=_email_status(campaign, email),
        )
    if phone is not None:
        PersonPhone.objects.create(
            person=person,
            campaign=campaign,
            number=phone.e164,
            kind=phone.kind,
            sms_capable=phone.sms_capable,
            source=source,
            suppressed=is_suppressed(campaign, "phone", phone.e164),
        )
    if address and any(address.values()):
        PostalAddress.objects.create(person=person, source=source, **address)
        new_addresses_locate(campaign, actor)
    person_refresh_search(person)
    _roll_match_on_arrival(person)
    audit_record(
        action="person.create", campaign=campaign, obj=person, changes=diff({}, snapshot(person, filled)), actor=actor
    )
    webhook.person_created(person)
    return person


def new_addresses_locate(campaign: Campaign, actor: User | None) -> None:
    """New addresses are located in their polling stations by a job, once the campaign has stations."""
    from suffrage.territory.selectors import campaign_stations
    from suffrage.territory.services import geocode_start

    if campaign_stations(campaign).exists():
        geocode_start(campaign=campaign, actor=actor, only_new=True)


def _roll_match_on_arrival(person: Person) -> None:
    """A new person (a signup, a hand entry) is looked up on the indexed roll at once,
    without re-running the campaign's whole matching job."""
    from suffrage.roll.services import person_match_enqueue

    person_match_enqueue(person)


@transaction.atomic
def person_update(
    *, person: Person, actor: User | None, provenance: tuple[str, str] | None = None, **fields: Any
) -> Person:
    """Change fields; `provenance` (source, detail) says where the new values came from
    (an API token…), by default a manual edit by the actor."""
    before = snapshot(person, fields)
    for name, value in fields.items():
        setattr(person, name, value)
    changes = diff(before, snapshot(person, fields))
    if not changes:
        return person
    source, detail = provenance or (Source.MANUAL, actor.email if actor else "")
    record_field_sources(person, changes, source=source, detail=detail)
    person.full_clean(exclude=["search_text", "name_key"])
    person.save()
    person_refresh_search(person)
    audit_record(action="person.update", campaign=person.campaign, obj=person, changes=changes, actor=actor)
    webhook.person_updated(person, changes)
    return person


@transaction.atomic
def person_set_support_level(*, person: Person, level: int | None, actor: User) -> None:
    """Special-category data: stored only as said by the person, audited without the value."""
    person.support_level = level
    person.save(update_fields=["support_level", "updated_at"])
    audit_record(action="person.support_level", campaign=person.campaign, obj=person, actor=actor)


def _email_status(campaign: Campaign, address: str) -> str:
    """A new address on the suppression list arrives unusable (erased or objected before)."""
    return PersonEmail.Status.SUPPRESSED if is_suppressed(campaign, "email", address) else PersonEmail.Status.OK


@transaction.atomic
def person_add_channel(*, person: Person, kind: str, value: Any, actor: User | None) -> None:
    """Add an email (str), a phone (normalise.Phone) or a postal address (dict)."""
    campaign = person.campaign
    if kind == "email":
        PersonEmail.objects.get_or_create(
            person=person,
            address=value,
            defaults={
                "campaign": campaign,
                "is_primary": not person.emails.exists(),
                "status": _email_status(campaign, value),
            },
        )
    elif kind == "phone":
        PersonPhone.objects.get_or_create(
            person=person,
            number=value.e164,
            defaults={
                "campaign": campaign,
                "kind": value.kind,
                "sms_capable": value.sms_capable,
                "suppressed": is_suppressed(campaign, "phone", value.e164),
            },
        )
    else:
        PostalAddress.objects.create(person=person, **value)
        new_addresses_locate(person.campaign, actor)
    person_refresh_search(person)
    shown = value if kind == "email" else getattr(value, "e164", "")
    audit_record(
        action=f"person.add_{kind}", campaign=person.campaign, obj=person, changes={kind: [None, shown]}, actor=actor
    )


@transaction.atomic
def note_add(*, person: Person, text: str, actor: User) -> Note:
    note = Note.objects.create(person=person, text=text, author=actor)
    audit_record(action="person.note", campaign=person.campaign, obj=person, actor=actor)
    return note


# --- Consent ------------------------------------------------------------------------


def _consent_event(person: Person, *, channel: str, granted: bool, **proof: Any) -> ConsentEvent:
    if channel not in Channel.values:
        raise ValidationError(_("Unknown channel."))
    event = ConsentEvent.objects.create(
        person=person, campaign=person.campaign, channel=channel, granted=granted, **proof
    )
    Person.objects.filter(pk=person.pk).update(**{f"consent_{channel}": granted})
    setattr(person, f"consent_{channel}", granted)
    return event


@transaction.atomic
def consent_record(
    *,
    person: Person,
    channel: str,
    granted: bool,
    source: str,
    actor: User | None = None,
    form: str = "",
    wording: str = "",
    ip: str | None = None,
) -> ConsentEvent:
    """Append a consent (granted) or withdrawal to the ledger and update the current state."""
    event = _consent_event(
        person, channel=channel, granted=granted, source=source, form=form, wording=wording, ip=ip, recorded_by=actor
    )
    action = "consent.grant" if granted else "consent.withdraw"
    audit_record(action=action, campaign=person.campaign, obj=person, changes={channel: [None, granted]}, actor=actor)
    if not granted:
        webhook.consent_withdrawn(person, channel=channel, source=source)
    return event


@transaction.atomic
def people_do_not_contact(*, campaign: Campaign, people: models.QuerySet[Person], channel: str, actor: User) -> int:
    """One click (or one bulk action): record a withdrawal for each person on the channel.

    Set-based (one insert, one update) so that "all matching" stays quick on a large base."""
    if channel not in Channel.values:
        raise ValidationError(_("Unknown channel."))
    ids = list(people.filter(campaign=campaign).values_list("pk", flat=True))
    event = {
        "campaign_id": campaign.pk,
        "channel": channel,
        "granted": False,
        "source": Source.MANUAL,
        "form": _("Do not contact"),
        "recorded_by_id": actor.pk,
    }
    insert_rows(ConsentEvent, [{**event, "person_id": pk} for pk in ids])
    Person.objects.filter(pk__in=ids).update(**{f"consent_{channel}": False})
    webhook.consents_withdrawn(campaign, ids, channel=channel, source=Source.MANUAL)
    count = len(ids)
    audit_record(
        action="people.bulk_do_not_contact",
        campaign=campaign,
        changes={"channel": [None, channel], "count": [None, count]},
        actor=actor,
    )
    return count


# --- Tags -----------------------------------------------------------------------------


def tag_get_or_create(campaign: Campaign, name: str) -> Tag:
    name = " ".join(name.split())[:80]
    if not name:
        raise ValidationError(_("A tag needs a name."))
    tag, _created = Tag.objects.get_or_create(campaign=campaign, name=name)
    return tag


@transaction.atomic
def people_tag(*, campaign: Campaign, people_ids: list[int], tag_name: str, add: bool, actor: User) -> int:
    tag = tag_get_or_create(campaign, tag_name)
    ids = list(Person.objects.filter(campaign=campaign, pk__in=people_ids).values_list("pk", flat=True))
    through = Person.tags.through
    if add:
        existing = set(through.objects.filter(tag=tag, person_id__in=ids).values_list("person_id", flat=True))
        through.objects.bulk_create([through(person_id=pk, tag=tag) for pk in ids if pk not in existing])
    else:
        through.objects.filter(tag=tag, person_id__in=ids).delete()
    audit_record(
        action="people.bulk_tag" if add else "people.bulk_untag",
        campaign=campaign,
        obj=tag,
        changes={"count": [None, len(ids)]},
        actor=actor,
    )
    return len(ids)


# --- Custom fields ----------------------------------------------------------------------


def custom_value_clean(field: CustomField, raw: Any) -> Any:
    """The stored (JSON) value of a custom field from user or file input; raises InvalidValue."""
    if raw in (None, "", []):
        return None
    kind = field.kind
    if kind == CustomField.Kind.NUMBER:
        try:
            return float(str(raw).replace(",", ".").replace(" ", ""))
        except ValueError:
            raise InvalidValue(_("%(value)s is not a number") % {"value": raw}) from None
    if kind == CustomField.Kind.DATE:
        value = raw if isinstance(raw, datetime.date) else parse_date(str(raw))
        return value.isoformat() if value else None
    if kind == CustomField.Kind.BOOLEAN:
        return raw if isinstance(raw, bool) else parse_bool(str(raw))
    if kind in (CustomField.Kind.CHOICE, CustomField.Kind.MULTIPLE):
        values = raw if isinstance(raw, list) else [v.strip() for v in str(raw).split("|" if "|" in str(raw) else ",")]
        unknown = [v for v in values if v not in field.choices]
        if unknown:
            raise InvalidValue(_("%(value)s is not one of the choices") % {"value": ", ".join(unknown)})
        return values if kind == CustomField.Kind.MULTIPLE else values[0]
    return str(raw).strip()[:1000]


@transaction.atomic
def custom_field_save(
    *, campaign: Campaign, actor: User, field: CustomField | None = None, **values: Any
) -> CustomField:
    field = field or CustomField(campaign=campaign)
    before = snapshot(field, values)
    for name, value in values.items():
        setattr(field, name, value)
    field.full_clean()
    field.save()
    audit_record(
        action="custom_field.save",
        campaign=campaign,
        obj=field,
        changes=diff(before, snapshot(field, values)),
        actor=actor,
    )
    return field


# --- Merge ---------------------------------------------------------------------------


def _move(queryset: models.QuerySet[Any], keep: Person, unique_field: str | None = None) -> None:
    """Re-home rows from the merged record to the kept one, skipping ones it already has."""
    if unique_field:
        existing = set(queryset.model.objects.filter(person=keep).values_list(unique_field, flat=True))
        queryset.filter(**{f"{unique_field}__in": existing}).delete()
    # Plain QuerySet.update: consent events are re-homed, never altered (their ledger forbids update()).
    models.QuerySet.update(queryset, person=keep)


def _move_engagement(other: Person, keep: Person) -> None:
    """Form answers, RSVPs (one per event), answers to calls to action, text
    conversations and suggested social matches follow the person."""
    from suffrage.engagement.models import RSVP, Response, Submission
    from suffrage.social.models import ProfileSuggestion
    from suffrage.texting.models import Conversation

    _move(Submission.objects.filter(person=other), keep)
    _move(RSVP.objects.filter(person=other), keep, "event")
    _move(Response.objects.filter(person=other), keep)
    Conversation.objects.filter(person=other).update(person=keep)
    ProfileSuggestion.objects.filter(candidate=other).update(candidate=keep)


@transaction.atomic
def person_merge(*, keep: Person, other: Person, take_from_other: Iterable[str] = (), actor: User) -> Person:
    """Merge `other` into `keep`: every channel, tag, consent event, note and the
    history are kept; for the fields in take_from_other the other record's value wins."""
    if keep.campaign_id != other.campaign_id or keep.pk == other.pk:
        raise ValidationError(_("These two records cannot be merged."))
    before = snapshot(keep, MERGE_FIELDS)
    for name in MERGE_FIELDS:
        if name in take_from_other or getattr(keep, name) in ("", None):
            setattr(keep, name, getattr(other, name))
    for flag in ("is_member", "is_volunteer", "is_donor"):
        setattr(keep, flag, getattr(keep, flag) or getattr(other, flag))
    keep.custom = {**other.custom, **{k: v for k, v in keep.custom.items() if v not in (None, "", [])}}
    keep.field_sources = {**other.field_sources, **keep.field_sources}
    for channel in Channel.values:
        # The most recent ledger event across both records decides the state.
        latest = ConsentEvent.objects.filter(person__in=[keep, other], channel=channel).order_by("-at", "-pk").first()
        if latest is not None:
            setattr(keep, f"consent_{channel}", latest.granted)
    keep.collected_at = min(keep.collected_at, other.collected_at)
    keep.merged_ids = [*keep.merged_ids, other.pk, *other.merged_ids]
    _move(PersonEmail.objects.filter(person=other), keep, "address")
    _move(PersonPhone.objects.filter(person=other), keep, "number")
    for model in (PostalAddress, SocialProfile, Note, ConsentEvent):
        _move(model.objects.filter(person=other), keep)
    keep.tags.add(*other.tags.all())
    _move_engagement(other, keep)
    ImportRow.objects.filter(batch__campaign=keep.campaign, person_id=other.pk).update(person_id=keep.pk)
    webhook.person_merged(other_id=other.pk, keep=keep)
    changes = diff(before, snapshot(keep, MERGE_FIELDS))
    changes["merged"] = [f"#{other.pk} {other.display_name}", None]
    other.delete()
    keep.save()
    person_refresh_search(keep)
    audit_record(action="person.merge", campaign=keep.campaign, obj=keep, changes=changes, actor=actor)
    return keep


@transaction.atomic
def duplicate_dismiss(*, first: Person, second: Person, actor: User) -> None:
    low, high = sorted([first, second], key=lambda person: person.pk)
    DuplicateDismissal.objects.get_or_create(
        campaign=first.campaign, first=low, second=high, defaults={"dismissed_by": actor}
    )
    audit_record(action="person.not_duplicate", campaign=first.campaign, obj=low, changes={"other": [None, high.pk]})
