"""Writes on public engagement: organisers' edits, and what citizens do (a form
submitted, a petition signed, an RSVP, a check-in, a call to action answered).

Every citizen's act finds or creates one person, matched on email or phone and
never on a name alone, records where it came from and the consent it carried
(with the exact words shown), and lands on the person's timeline."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from suffrage.api.webhooks import emit as webhook
from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.core.secrets import secret_digest
from suffrage.engagement.models import (
    RSVP,
    Action,
    CallToAction,
    ConsentWording,
    Event,
    PageView,
    PublicSite,
    Response,
    Status,
    Submission,
)
from suffrage.messaging.notices import notice_cancel, notice_queue
from suffrage.messaging.transports.base import Attachment
from suffrage.people.models import LegalBasis, Person, PersonEmail, PersonPhone, Source
from suffrage.people.services import (
    consent_record,
    person_add_channel,
    person_create,
    person_refresh_search,
    record_field_sources,
)

# --- The public site and organisers' edits ---------------------------------------------------


def site_for(campaign: Campaign) -> PublicSite:
    site, _created = PublicSite.objects.get_or_create(campaign=campaign)
    return site


def _save(obj: models.Model, *, actor: User | None, action: str, campaign: Campaign) -> None:
    creating = obj.pk is None
    obj.full_clean()
    obj.save()
    audit_record(action=f"{action}.{'create' if creating else 'update'}", campaign=campaign, obj=obj, actor=actor)


@transaction.atomic
def site_save(*, site: PublicSite, actor: User, logo: tuple[bytes, str] | None = None) -> PublicSite:
    """`logo` is (content, content type); the key for the JSON endpoint never changes here."""
    if logo is not None:
        site.logo, site.logo_type = logo
    _save(site, actor=actor, action="public_site", campaign=site.campaign)
    return site


@transaction.atomic
def site_key_rotate(*, site: PublicSite, actor: User) -> str:
    from suffrage.engagement.models import new_key

    site.api_key = new_key()
    site.save(update_fields=["api_key"])
    audit_record(action="public_site.rotate_key", campaign=site.campaign, obj=site, actor=actor)
    return site.api_key


@transaction.atomic
def action_save(*, action: Action, actor: User, consents: dict[str, str] | None = None) -> Action:
    """Save a form or petition; `consents` is {channel: wording} for the checkboxes it shows."""
    if action.pk is None:
        action.created_by = actor
    _save(action, actor=actor, action="action", campaign=action.campaign)
    if consents is not None:
        wordings_set(owner=action, texts=consents)
    return action


@transaction.atomic
def event_save(*, event: Event, actor: User, consents: dict[str, str] | None = None) -> Event:
    if event.pk is None:
        event.created_by = actor
    if event.ends_at and event.starts_at and event.ends_at < event.starts_at:
        raise ValidationError({"ends_at": _("An event cannot end before it starts.")})
    _save(event, actor=actor, action="event", campaign=event.campaign)
    if consents is not None:
        wordings_set(owner=event, texts=consents)
    return event


@transaction.atomic
def call_save(*, call: CallToAction, actor: User) -> CallToAction:
    if call.kind == CallToAction.Kind.DONATE and not call.url:
        raise ValidationError({"url": _("A donation needs the link to the payment page.")})
    _save(call, actor=actor, action="call_to_action", campaign=call.campaign)
    return call


def _owner_filter(owner: Action | Event) -> dict[str, Any]:
    return {"action": owner} if isinstance(owner, Action) else {"event": owner}


def wordings_current(owner: Action | Event) -> list[ConsentWording]:
    """The consent checkboxes shown now: the newest version per channel, unless retired."""
    latest: dict[str, ConsentWording] = {}
    for wording in ConsentWording.objects.filter(**_owner_filter(owner)).order_by("channel", "-version"):
        latest.setdefault(wording.channel, wording)
    return [wording for wording in latest.values() if wording.retired_at is None]


def wordings_set(*, owner: Action | Event, texts: dict[str, str]) -> None:
    """A changed wording becomes a new version; a removed channel is retired. Earlier
    versions stay: submissions point at the words they showed."""
    current = {wording.channel: wording for wording in wordings_current(owner)}
    for channel, text in texts.items():
        text = text.strip()
        shown = current.pop(channel, None)
        if not text or (shown and shown.text == text):
            if shown and not text:
                current[channel] = shown  # retired below
            continue
        previous = ConsentWording.objects.filter(**_owner_filter(owner), channel=channel).aggregate(
            n=models.Max("version")
        )["n"]
        ConsentWording.objects.create(**_owner_filter(owner), channel=channel, text=text, version=(previous or 0) + 1)
    for wording in current.values():
        ConsentWording.objects.filter(pk=wording.pk).update(retired_at=timezone.now())


# --- A person arrives ------------------------------------------------------------------------

PERSON_ATTRIBUTES = {"civility": "civility", "first_names": "first_names", "last_name": "usage_name"}
ADDRESS_KEYS = ("street", "postcode", "town")


@dataclass
class Arrival:
    person: Person
    created: bool


def person_find(campaign: Campaign, *, email: str = "", phone: Any = None) -> Person | None:
    """The person with this email, else this phone number (the oldest record if several)."""
    if email:
        found = PersonEmail.objects.filter(campaign=campaign, address=email).order_by("person_id").first()
        if found:
            return found.person
    if phone is not None:
        found_phone = PersonPhone.objects.filter(campaign=campaign, number=phone.e164).order_by("person_id").first()
        if found_phone:
            return found_phone.person
    return None


def person_arrive(*, campaign: Campaign, data: dict[str, Any], source: str, detail: str, consenting: bool) -> Arrival:
    """Find the person by email or phone and complete what they gave, or create them.

    What the person typed fills empty fields only: a form does not overwrite what the
    campaign verified (a roll match, a hand correction)."""
    from suffrage.engagement.fields import custom_values

    email, phone = data.get("email") or "", data.get("phone")
    attributes = {field: data[key] for key, field in PERSON_ATTRIBUTES.items() if data.get(key)}
    if data.get("birth_date"):
        attributes["birth_date"] = data["birth_date"]
    custom = custom_values(campaign, data)
    address = {key: data[key][:200] for key in ADDRESS_KEYS if data.get(key)}
    person = person_find(campaign, email=email, phone=phone)
    if person is None:
        person = person_create(
            campaign=campaign,
            actor=None,
            source=source,
            source_detail=detail,
            legal_basis=LegalBasis.CONSENT if consenting else LegalBasis.LEGITIMATE_INTEREST,
            email=email,
            phone=phone,
            address=address or None,
            custom=custom,
            **attributes,
        )
        return Arrival(person, True)
    filled = {name: value for name, value in attributes.items() if not getattr(person, name)}
    new_custom = {key: value for key, value in custom.items() if person.custom.get(key) in (None, "", [])}
    if filled or new_custom:
        for name, value in filled.items():
            setattr(person, name, value)
        person.custom = {**person.custom, **new_custom}
        record_field_sources(person, [*filled, *(f"custom:{key}" for key in new_custom)], source=source, detail=detail)
        person.save()
        person_refresh_search(person)
    if email and not person.emails.filter(address=email).exists():
        person_add_channel(person=person, kind="email", value=email, actor=None)
    if phone is not None and not person.phones.filter(number=phone.e164).exists():
        person_add_channel(person=person, kind="phone", value=phone, actor=None)
    if address and not person.addresses.exists():
        person_add_channel(person=person, kind="address", value=address, actor=None)
    return Arrival(person, False)


def _consents_ticked(data: dict[str, Any], wordings: list[ConsentWording]) -> dict[str, int]:
    return {wording.channel: wording.pk for wording in wordings if data.get(f"consent_{wording.channel}")}


def _consents_record(person: Person, consents: dict[str, int], *, source: str, form: str, ip: str | None) -> None:
    """The proof: which words were ticked, on which form, when, from which address."""
    wordings = ConsentWording.objects.in_bulk(consents.values())
    for channel, wording_id in consents.items():
        wording = wordings.get(wording_id)
        if wording is None:
            continue
        consent_record(
            person=person,
            channel=channel,
            granted=True,
            source=source,
            form=f"{form} · v{wording.version}",
            wording=wording.text,
            ip=ip,
        )


def _link(name: str, *args: Any) -> str:
    return f"{settings.SITE_URL}{reverse(name, args=args)}"


def _email_of(data: dict[str, Any]) -> str:
    return str(data.get("email") or "")


def _with_language(campaign: Campaign) -> Any:
    """Automatic messages in the campaign's first language."""
    return translation.override(campaign.language)


# --- Forms and petitions ---------------------------------------------------------------------


class Closed(Exception):
    """The form, petition or event no longer takes answers."""


@transaction.atomic
def submission_record(
    *, action: Action, data: dict[str, Any], ip: str | None = None, via: str = "page", referral: str = ""
) -> Submission:
    """A citizen filled a form or signed a petition (`data`: the cleaned public form;
    `referral`: where the link they followed came from, e.g. a social post)."""
    if action.status != Status.OPEN:
        raise Closed
    campaign = action.campaign
    consents = _consents_ticked(data, wordings_current(action))
    source = Source.WEB_FORM
    arrival = person_arrive(
        campaign=campaign, data=data, source=source, detail=action.title[:200], consenting=bool(consents)
    )
    person, email = arrival.person, _email_of(data)
    confirm = bool(action.double_opt_in and consents and email)
    secret = secrets.token_urlsafe(24) if confirm else ""
    submission = Submission.objects.create(
        campaign=campaign,
        action=action,
        person=person,
        status=Submission.Status.PENDING if confirm else Submission.Status.CONFIRMED,
        answers={key: str(data[key])[:5000] for key in ("message",) if data.get(key)},
        consents=consents,
        show_name=bool(action.public_signers and data.get("show_name")),
        via=via,
        referral=referral[:40],
        ip=ip,
        confirm_hash=secret_digest(secret) if secret else "",
        confirmed_at=None if confirm else timezone.now(),
    )
    if not confirm:
        _consents_record(person, consents, source=source, form=action.title, ip=ip)
    if action.tag_id:
        person.tags.add(action.tag_id)
    audit_record(
        action="engagement.submission",
        campaign=campaign,
        obj=person,
        changes={"form": [None, action.title], "via": [None, via]},
    )
    if email:
        _submission_messages(submission, email, secret)
    webhook.submission_created(submission)
    return submission


def _submission_messages(submission: Submission, email: str, secret: str) -> None:
    """The confirmation link (double opt-in), then the automatic reply."""
    action, campaign = submission.action, submission.campaign
    context = {"campaign": campaign, "action": action, "person": submission.person}
    with _with_language(campaign):
        if secret:
            link = _link("engagement_public:confirm", campaign.slug, secret)
            notice_queue(
                campaign=campaign,
                person=submission.person,
                to=email,
                kind="confirmation",
                key=f"submission:{submission.pk}:confirm",
                subject=_("Please confirm: %(title)s") % {"title": action.title},
                text=render_to_string("engagement/email/confirm.txt", {**context, "link": link}),
            )
        subject = action.autoreply_subject or (
            _("Thank you for signing: %(title)s") % {"title": action.title} if action.is_petition else ""
        )
        if subject:
            notice_queue(
                campaign=campaign,
                person=submission.person,
                to=email,
                kind="autoreply",
                key=f"submission:{submission.pk}:reply",
                subject=subject,
                text=render_to_string("engagement/email/autoreply.txt", context),
            )


def submission_for_secret(*, campaign: Campaign, secret: str) -> Submission | None:
    """The submission a double opt-in link points at (the confirm page shows it first)."""
    return (
        Submission.objects.select_related("action", "person")
        .filter(campaign=campaign, confirm_hash=secret_digest(secret))
        .first()
    )


@transaction.atomic
def submission_confirm(*, campaign: Campaign, secret: str, ip: str | None = None) -> Submission | None:
    """The double opt-in link was opened: the consent counts from now, with both proofs."""
    submission = (
        Submission.objects.select_for_update()
        .select_related("action", "person")
        .filter(campaign=campaign, confirm_hash=secret_digest(secret))
        .first()
    )
    if submission is None:
        return None
    if submission.status == Submission.Status.PENDING:
        submission.status = Submission.Status.CONFIRMED
        submission.confirmed_at = timezone.now()
        submission.save(update_fields=["status", "confirmed_at"])
        form = f"{submission.action.title} · {_('confirmed by email')}"
        _consents_record(submission.person, submission.consents, source=Source.WEB_FORM, form=form, ip=ip)
    return submission


def signatures_count(action: Action) -> int:
    return Submission.objects.filter(action=action, status=Submission.Status.CONFIRMED).count()


# --- Events ----------------------------------------------------------------------------------


class EventFull(Exception):
    """No seat left and no waiting list."""


def seats_taken(event: Event, *, excluding: RSVP | None = None) -> int:
    going = RSVP.objects.filter(event=event, status=RSVP.Status.GOING)
    if excluding is not None:
        going = going.exclude(pk=excluding.pk)
    return int(going.aggregate(n=models.Sum(models.F("guests") + 1))["n"] or 0)


@transaction.atomic
def rsvp_record(
    *,
    event: Event,
    data: dict[str, Any],
    ip: str | None = None,
    via: str = "page",
    guests: int = 0,
    referral: str = "",
) -> RSVP:
    """Someone says they are coming. When the event is full they go on the waiting
    list (or are refused when it has none); their confirmation carries an .ics file."""
    if event.status != Event.Status.OPEN or event.is_past:
        raise Closed
    # One RSVP at a time per event, so two last seats are not given twice.
    Event.objects.select_for_update().filter(pk=event.pk).first()
    campaign = event.campaign
    consents = _consents_ticked(data, wordings_current(event))
    arrival = person_arrive(
        campaign=campaign, data=data, source=Source.EVENT, detail=event.title[:200], consenting=bool(consents)
    )
    person = arrival.person
    rsvp = RSVP.objects.filter(event=event, person=person).first()
    if rsvp is not None and rsvp.status != RSVP.Status.CANCELLED:
        # Anyone can type an address: an existing place is left as it is, and its
        # holder gets their ticket again (to change it, they follow its link).
        email = _email_of(data)
        if email:
            _rsvp_confirmation(rsvp, email, again=True)
        return rsvp
    rsvp = rsvp or RSVP(campaign=campaign, event=event, person=person)
    rsvp.guests, rsvp.via, rsvp.consents = max(0, min(guests, 10)), via, consents
    if referral:
        rsvp.referral = referral[:40]
    full = event.capacity is not None and seats_taken(event, excluding=rsvp) + rsvp.seats > event.capacity
    if full and not event.waitlist:
        raise EventFull
    rsvp.status = RSVP.Status.WAITLIST if full else RSVP.Status.GOING
    rsvp.save()
    _consents_record(person, consents, source=Source.EVENT, form=event.title, ip=ip)
    if event.tag_id:
        person.tags.add(event.tag_id)
    audit_record(
        action="engagement.rsvp",
        campaign=campaign,
        obj=person,
        changes={"event": [None, event.title], "status": [None, rsvp.status]},
    )
    email = _email_of(data)
    if email:
        _rsvp_confirmation(rsvp, email)
    webhook.rsvp_changed(rsvp, created=True)
    return rsvp


def _rsvp_confirmation(rsvp: RSVP, email: str, *, again: bool = False) -> None:
    from suffrage.engagement.calendar import event_ics

    event, campaign = rsvp.event, rsvp.campaign
    with _with_language(campaign):
        going = rsvp.status == RSVP.Status.GOING
        subject = (_("You are coming: %(title)s") if going else _("On the waiting list: %(title)s")) % {
            "title": event.title
        }
        text = render_to_string(
            "engagement/email/rsvp.txt",
            {
                "campaign": campaign,
                "event": event,
                "rsvp": rsvp,
                "going": going,
                "ticket": _link("engagement_public:ticket", campaign.slug, rsvp.token),
            },
        )
        notice_queue(
            campaign=campaign,
            person=rsvp.person,
            to=email,
            kind="rsvp",
            key=f"rsvp:{rsvp.pk}:{rsvp.status}:{int((timezone.now() if again else rsvp.updated_at).timestamp())}",
            subject=subject,
            text=text,
            attachments=[Attachment("event.ics", event_ics(event, rsvp), "text/calendar; charset=utf-8")]
            if going
            else [],
        )


@transaction.atomic
def rsvp_cancel(*, rsvp: RSVP, actor: User | None = None) -> RSVP:
    """Cancelled by the person (their link) or an organiser; the first on the waiting list
    who fits takes the seat and is told."""
    rsvp = RSVP.objects.select_for_update().select_related("event", "person").get(pk=rsvp.pk)
    if rsvp.status == RSVP.Status.CANCELLED:
        return rsvp
    rsvp.status = RSVP.Status.CANCELLED
    rsvp.save(update_fields=["status", "updated_at"])
    notice_cancel(campaign=rsvp.campaign, key_prefix=f"event:{rsvp.event_id}:rsvp:{rsvp.pk}:")
    audit_record(
        action="engagement.rsvp_cancel",
        campaign=rsvp.campaign,
        obj=rsvp.person,
        changes={"event": [None, rsvp.event.title]},
        actor=actor,
    )
    webhook.rsvp_changed(rsvp)
    _waitlist_promote(rsvp.event)
    return rsvp


def _waitlist_promote(event: Event) -> None:
    for waiting in RSVP.objects.filter(event=event, status=RSVP.Status.WAITLIST).select_related("person", "event"):
        if event.capacity is not None and seats_taken(event) + waiting.seats > event.capacity:
            break
        waiting.status = RSVP.Status.GOING
        waiting.save(update_fields=["status", "updated_at"])
        webhook.rsvp_changed(waiting)
        email = waiting.person.emails.filter(status=PersonEmail.Status.OK).values_list("address", flat=True).first()
        if email:
            _rsvp_confirmation(waiting, email)


@transaction.atomic
def rsvp_check_in(*, rsvp: RSVP, actor: User) -> bool:
    """Mark them present (a QR code scanned or a name found). False if already checked in."""
    updated = RSVP.objects.filter(pk=rsvp.pk, checked_in_at__isnull=True).update(
        checked_in_at=timezone.now(), checked_in_by=actor
    )
    if updated:
        audit_record(
            action="engagement.check_in",
            campaign=rsvp.campaign,
            obj=rsvp.person,
            changes={"event": [None, rsvp.event.title]},
            actor=actor,
        )
        webhook.rsvp_changed(rsvp)
    rsvp.refresh_from_db()
    return bool(updated)


@transaction.atomic
def walk_in_record(*, event: Event, data: dict[str, Any], actor: User) -> RSVP:
    """Someone came without an RSVP: recorded as coming and checked in at once."""
    arrival = person_arrive(
        campaign=event.campaign, data=data, source=Source.EVENT, detail=event.title[:200], consenting=False
    )
    rsvp, _created = RSVP.objects.get_or_create(
        event=event, person=arrival.person, defaults={"campaign": event.campaign, "via": "door"}
    )
    if _created:
        webhook.rsvp_changed(rsvp, created=True)
    if rsvp.status != RSVP.Status.GOING:
        rsvp.status = RSVP.Status.GOING
        rsvp.save(update_fields=["status", "updated_at"])
    rsvp_check_in(rsvp=rsvp, actor=actor)
    return rsvp


# --- Reminders and follow-ups ----------------------------------------------------------------


def reminders_queue(*, now: datetime.datetime | None = None) -> int:
    """Queue the reminders and follow-ups now due, once per person (the notice key makes a
    second run, or a run after a worker restart, queue nothing new). Called by the tick."""
    now = now or timezone.now()
    queued = 0
    horizon = now + datetime.timedelta(days=15)  # reminders are at most two weeks ahead
    events = Event.objects.filter(status__in=[Event.Status.OPEN, Event.Status.CLOSED]).select_related("campaign")
    for event in events.filter(starts_at__gt=now, starts_at__lte=horizon).exclude(reminder_hours=[]):
        for hours in event.reminder_hours:
            due_at = event.starts_at - datetime.timedelta(hours=float(hours))
            if due_at <= now:
                queued += _event_notices(event, f"reminder:{hours}", since=due_at)
    past = events.filter(followup_hours__isnull=False, ends_at__lt=now, ends_at__gte=now - datetime.timedelta(days=7))
    for event in past:
        if event.ends_at + datetime.timedelta(hours=event.followup_hours or 0) <= now:
            queued += _event_notices(event, "followup", since=None)
    return queued


def _event_notices(event: Event, what: str, *, since: datetime.datetime | None) -> int:
    """One notice per person coming (a follow-up: per person who came, or was expected)."""
    campaign = event.campaign
    rsvps = RSVP.objects.filter(event=event, status=RSVP.Status.GOING).select_related("person")
    if since is not None:
        rsvps = rsvps.filter(created_at__lt=since)  # who said yes after the reminder time just got the confirmation
    emails = dict(
        PersonEmail.objects.filter(person__in=rsvps.values("person_id"), status=PersonEmail.Status.OK)
        .order_by("-is_primary", "-pk")
        .values_list("person_id", "address")
    )
    queued = 0
    with _with_language(campaign):
        for rsvp in rsvps:
            to = emails.get(rsvp.person_id)
            if not to:
                continue
            template = "engagement/email/followup.txt" if what == "followup" else "engagement/email/reminder.txt"
            subject = (_("Thank you for coming: %(title)s") if what == "followup" else _("Reminder: %(title)s")) % {
                "title": event.title
            }
            context = {
                "campaign": campaign,
                "event": event,
                "rsvp": rsvp,
                "ticket": _link("engagement_public:ticket", campaign.slug, rsvp.token),
            }
            notice = notice_queue(
                campaign=campaign,
                person=rsvp.person,
                to=to,
                kind=what.split(":")[0],
                key=f"event:{event.pk}:rsvp:{rsvp.pk}:{what}",
                subject=subject,
                text=render_to_string(template, context),
            )
            queued += notice is not None
    return queued


# --- Calls to action and page views ----------------------------------------------------------


@transaction.atomic
def call_respond(*, call: CallToAction, kind: str, person: Person | None = None, detail: str = "") -> Response:
    """A tracked answer: a donation link followed (an intent, not a donation), a share, a shift taken."""
    response = Response.objects.create(campaign=call.campaign, call=call, person=person, kind=kind, detail=detail[:40])
    if person is not None:
        audit_record(
            action="engagement.call_to_action",
            campaign=call.campaign,
            obj=person,
            changes={"call": [None, call.title], "kind": [None, kind]},
        )
    return response


@transaction.atomic
def shift_take(*, call: CallToAction, data: dict[str, Any], ip: str | None = None) -> Response:
    """A volunteer takes a shift: they become a volunteer in the base."""
    if call.status != Status.OPEN:
        raise Closed
    taken = Response.objects.filter(call=call, kind=Response.Kind.COMMIT).count()
    if call.slots is not None and taken >= call.slots:
        raise EventFull
    arrival = person_arrive(
        campaign=call.campaign, data=data, source=Source.WEB_FORM, detail=call.title[:200], consenting=False
    )
    if not arrival.person.is_volunteer:
        Person.objects.filter(pk=arrival.person.pk).update(is_volunteer=True)
    return call_respond(call=call, kind=Response.Kind.COMMIT, person=arrival.person)


def page_viewed(campaign: Campaign, page: str) -> None:
    """Count a view of a public page for today (no cookie, nothing about the visitor)."""
    today = timezone.localdate()
    updated = PageView.objects.filter(campaign=campaign, page=page, day=today).update(count=models.F("count") + 1)
    if not updated:
        try:
            with transaction.atomic():
                PageView.objects.create(campaign=campaign, page=page, day=today, count=1)
        except IntegrityError:  # another request created today's row first
            PageView.objects.filter(campaign=campaign, page=page, day=today).update(count=models.F("count") + 1)
