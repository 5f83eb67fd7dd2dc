"""Emitting events: `webhook_emit`, and one emitter per event for the services to call.

A service calls its emitter inside its transaction, after the write. Nothing happens
until the transaction commits (`transaction.on_commit`: a rolled-back act sends
nothing); then one query finds the campaign's active subscriptions listening to the
event, and only if there is one is the payload built (from the database as committed)
and one delivery made per subscription, handed to the workers. A campaign without
webhooks pays one query per act, after the commit.

Payloads are minimal (docs/user/webhooks.md): ids, the event's own fields, and the
person's id, names, first email and phone, so a receiving tool can file the event
without calling back. Never the support level, the birth date, the notes, nor a
canvassing survey's answers (which may reveal opinions): a tool that needs more reads
it through the API, with a token whose scopes say so.

File imports do not emit `person.created` (they insert people in bulk, not through
`person_create`): an import of 50,000 rows would queue 50,000 deliveries per
subscription. A tool learns about imported people from the API. Social-network
imports, which add people one by one through `person_create`, do emit; without a
subscription that costs one query per person added, after each chunk commits."""

from __future__ import annotations

import datetime
import functools
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from suffrage.api.models import WebhookDelivery, WebhookSubscription
from suffrage.api.webhooks import events

if TYPE_CHECKING:
    from suffrage.canvassing.models import Visit
    from suffrage.core.models import Campaign
    from suffrage.engagement.models import RSVP, Submission
    from suffrage.people.models import Person

Data = Mapping[str, Any]
# What one event carries: its data and the id of the person it is about (or None).
Item = tuple[Data, int | None]
# The fields of person.updated never named in `changed` (sensitive, or internal).
UNSHOWN_FIELDS = frozenset({"support_level", "field_sources", "search_text", "name_key"})


def webhook_emit(
    campaign: Campaign | int, event: str, payload: Data | Callable[[], Data], *, person_id: int | None = None
) -> None:
    """Send `event` to the campaign's subscriptions listening to it, once the current
    transaction commits. `payload` may be a function: it is then called only if some
    subscription listens (after the commit), so an unheard event costs nothing more."""

    def build() -> list[Item]:
        return [(payload() if callable(payload) else payload, person_id)]

    webhook_emit_many(campaign, event, build)


def webhook_emit_many(campaign: Campaign | int, event: str, build: Callable[[], Sequence[Item]]) -> None:
    """Several events of one kind (a synced batch of visits, a bulk withdrawal): one
    query, one insert. `build` returns (data, person id) for each."""
    if event not in events.EVENTS and event != events.PING:
        raise ValueError(f"unknown webhook event {event!r}")
    campaign_id = campaign if isinstance(campaign, int) else campaign.pk
    occurred_at = timezone.now()
    callback = functools.partial(_deliveries_make, campaign_id, event, build, occurred_at)
    transaction.on_commit(callback, robust=True)


def _deliveries_make(
    campaign_id: int, event: str, build: Callable[[], Sequence[Item]], occurred_at: datetime.datetime
) -> None:
    listening = [
        (pk, slug)
        for pk, subscribed, slug in WebhookSubscription.objects.filter(campaign_id=campaign_id, active=True)
        .order_by("pk")
        .values_list("pk", "events", "campaign__slug")
        if isinstance(subscribed, list) and event in subscribed
    ]
    if not listening:
        return
    rows = []
    for data, person_id in build():
        event_id = uuid.uuid4()
        body = envelope(event_id, event, occurred_at, listening[0][1], data)
        rows += [
            WebhookDelivery(
                campaign_id=campaign_id,
                subscription_id=subscription_id,
                event_id=event_id,
                event=event,
                payload=body,
                person_id=person_id,
                next_attempt_at=occurred_at,
            )
            for subscription_id, _slug in listening
        ]
    created = WebhookDelivery.objects.bulk_create(rows, batch_size=500)
    from suffrage.api.webhooks.sending import enqueue_sends

    enqueue_sends([delivery.pk for delivery in created])


def envelope(
    event_id: uuid.UUID, event: str, occurred_at: datetime.datetime, campaign_slug: str, data: Data
) -> dict[str, Any]:
    """The JSON body of every delivery."""
    return {
        "id": str(event_id),
        "event": event,
        "occurred_at": _when(occurred_at),
        "campaign": campaign_slug,
        "data": dict(data),
    }


def _when(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def person_merged(*, other_id: int, keep: Person) -> None:
    """The deliveries about a record merged into another now name the kept one, so that
    erasing the person finds them (like every other row about the merged record)."""
    WebhookDelivery.objects.filter(campaign_id=keep.campaign_id, person_id=other_id).update(person_id=keep.pk)


# --- Payloads --------------------------------------------------------------------------------


def people_data(person_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{person id: what events say of a person}: three queries per 500 people."""
    ids = sorted(set(person_ids))
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):  # IN lists well under SQLite's variable limit
        found.update(_people_chunk(ids[start : start + 500]))
    return found


def _people_chunk(ids: list[int]) -> dict[int, dict[str, Any]]:
    from suffrage.people.models import Person, PersonEmail, PersonPhone

    emails: dict[int, str] = {}
    primary_first = PersonEmail.objects.filter(person_id__in=ids).order_by("-is_primary", "pk")
    for person_id, address in primary_first.values_list("person_id", "address"):
        emails.setdefault(person_id, address)  # the primary address, else the first added
    phones: dict[int, str] = {}
    for person_id, number in (
        PersonPhone.objects.filter(person_id__in=ids).order_by("pk").values_list("person_id", "number")
    ):
        phones.setdefault(person_id, number)
    return {
        person.pk: {
            "id": person.pk,
            "external_id": person.external_id,
            "first_names": person.first_names,
            "last_name": person.last_name,
            "email": emails.get(person.pk, ""),
            "phone": phones.get(person.pk, ""),
            "source": person.source,
            "created_at": _when(person.created_at),
        }
        for person in Person.objects.filter(pk__in=ids).only(
            "pk", "external_id", "first_names", "usage_name", "birth_name", "source", "created_at"
        )
    }


def person_data(person_id: int) -> dict[str, Any]:
    """A person's part of a payload ({"id": …} alone if they are gone since)."""
    return people_data([person_id]).get(person_id, {"id": person_id})


# --- The emitters (one line in each service) ---------------------------------------------------


def person_created(person: Person) -> None:
    webhook_emit(
        person.campaign_id, events.PERSON_CREATED, lambda: {"person": person_data(person.pk)}, person_id=person.pk
    )


def person_updated(person: Person, changed: Iterable[str]) -> None:
    """`changed`: the names of the fields edited (values are in the person's part)."""
    shown = sorted(set(changed) - UNSHOWN_FIELDS)
    if not shown:
        return
    webhook_emit(
        person.campaign_id,
        events.PERSON_UPDATED,
        lambda: {"person": person_data(person.pk), "changed": shown},
        person_id=person.pk,
    )


def submission_created(submission: Submission) -> None:
    def payload() -> Data:
        action = submission.action
        return {
            "submission": {
                "id": submission.pk,
                "status": submission.status,
                "via": submission.via,
                "answers": submission.answers,
                "consents": sorted(submission.consents),
                "created_at": _when(submission.created_at),
                "form": {"id": action.pk, "kind": action.kind, "title": action.title, "slug": action.slug},
            },
            "person": person_data(submission.person_id),
        }

    webhook_emit(submission.campaign_id, events.SUBMISSION_CREATED, payload, person_id=submission.person_id)


def rsvp_changed(rsvp: RSVP, *, created: bool = False) -> None:
    """rsvp.created for a new RSVP (or one made again after a cancellation), else rsvp.updated."""

    def payload() -> Data:
        event = rsvp.event
        return {
            "rsvp": {
                "id": rsvp.pk,
                "status": rsvp.status,
                "guests": rsvp.guests,
                "via": rsvp.via,
                "checked_in": rsvp.checked_in_at is not None,
                "created_at": _when(rsvp.created_at),
                "event": {
                    "id": event.pk,
                    "title": event.title,
                    "slug": event.slug,
                    "starts_at": _when(event.starts_at),
                },
            },
            "person": person_data(rsvp.person_id),
        }

    name = events.RSVP_CREATED if created else events.RSVP_UPDATED
    webhook_emit(rsvp.campaign_id, name, payload, person_id=rsvp.person_id)


def consent_withdrawn(person: Person, *, channel: str, source: str) -> None:
    payload = functools.partial(_withdrawal, channel, source, person.pk)
    webhook_emit(person.campaign_id, events.CONSENT_WITHDRAWN, payload, person_id=person.pk)


def consents_withdrawn(campaign: Campaign, person_ids: Sequence[int], *, channel: str, source: str) -> None:
    """The same withdrawal for many people at once (a bulk "do not contact")."""
    if not person_ids:
        return

    def build() -> list[Item]:
        people = people_data(person_ids)
        return [(_withdrawal(channel, source, pk, people.get(pk, {"id": pk})), pk) for pk in person_ids]

    webhook_emit_many(campaign, events.CONSENT_WITHDRAWN, build)


def _withdrawal(channel: str, source: str, person_id: int, person: Data | None = None) -> Data:
    return {"channel": channel, "source": source, "person": person or person_data(person_id)}


def visits_recorded(campaign: Campaign, visits: Sequence[Visit]) -> None:
    """Doors knocked or calls made: the outcome, not the survey's answers nor the note."""
    if not visits:
        return

    def build() -> list[Item]:
        from suffrage.canvassing.models import Canvass

        canvasses = dict(Canvass.objects.filter(pk__in={v.canvass_id for v in visits}).values_list("pk", "name"))
        people = people_data(v.person_id for v in visits if v.person_id)
        return [
            (
                {
                    "visit": {
                        "id": visit.pk,
                        "kind": "door" if visit.door_id else "call",
                        "outcome": visit.outcome,
                        "recorded_at": _when(visit.recorded_at),
                        "callback_at": _when(visit.callback_at),
                        "canvass": {"id": visit.canvass_id, "name": canvasses.get(visit.canvass_id, "")},
                        "door": {"id": visit.door_id} if visit.door_id else None,
                    },
                    "person": people.get(visit.person_id, {"id": visit.person_id}) if visit.person_id else None,
                },
                visit.person_id,
            )
            for visit in visits
        ]

    webhook_emit_many(campaign, events.VISIT_RECORDED, build)
