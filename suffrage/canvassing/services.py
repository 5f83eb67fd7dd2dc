"""Writes on canvassing from the organisers' pages and the phone banks: a canvass and
its survey, building a call list, claiming a contact to call and recording the call.

Cutting an area into doors and turfs, and assigning and releasing turfs, live in
`planning.py`.

Phone banks hand out one contact at a time: `call_next` claims a single row with a
conditional UPDATE (the database is the queue), so two volunteers never get the same
person, and a volunteer never sees the list itself."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from suffrage.api.webhooks import emit as webhook
from suffrage.canvassing.area import area_validate
from suffrage.canvassing.models import PHONE_OUTCOMES, CallTarget, Canvass, Outcome, Question, Visit
from suffrage.core.audit import audit_record, diff, snapshot
from suffrage.core.models import Campaign, User
from suffrage.people.models import Channel, Person, PersonPhone, reachable
from suffrage.segments.compiler import context_for, segment_members
from suffrage.segments.models import Segment

# A claim not followed by an outcome within this time goes back to the list
# (the volunteer closed the page, or their phone died).
CLAIM_MINUTES = 15
# After no answer: try again this much later, and give up after this many unanswered calls.
RETRY_AFTER = datetime.timedelta(hours=2)
MAX_UNANSWERED = 3
SCALE = range(1, 6)
TEXT_ANSWER_MAX = 500

CANVASS_FIELDS = (
    "name",
    "kind",
    "status",
    "starts_on",
    "ends_on",
    "goal_doors",
    "goal_conversations",
    "script",
    "area",
    "turf_size",
)


# --- Canvasses and their survey ----------------------------------------------------------------


def area_check(campaign: Campaign, kind: str, area: dict[str, Any]) -> dict[str, Any]:
    """The area as stored, or a ValidationError saying what is wrong with it.

    One of {"stations": [codes], "ranking": id, "top": n}, {"polygon": GeoJSON geometry}
    or {"segment": id} (see area.py, which cuts it into doors). A phone bank calls a
    segment; door-to-door covers any of the three. An empty area is a draft's."""
    if kind == Canvass.Kind.PHONE and "segment" not in area:
        raise ValidationError(_("A phone bank calls the people of a segment: choose one."))
    if not area:
        return {}
    if "stations" in area:
        checked: dict[str, Any] = {"stations": list(dict.fromkeys(str(code) for code in area["stations"]))}
        if area.get("ranking"):
            checked.update(ranking=int(area["ranking"]), top=int(area.get("top") or len(checked["stations"])))
    elif "polygon" in area:
        checked = {"polygon": polygon_check(area["polygon"])}
    elif "segment" in area:
        checked = {"segment": int(area["segment"])}
    else:
        checked = dict(area)  # area_validate says what is wrong with it
    area_validate(campaign, checked)
    return checked


def polygon_check(value: Any) -> dict[str, Any]:
    """A GeoJSON Polygon or MultiPolygon geometry from what the page sends: the map's
    text, or pasted GeoJSON (a geometry, a Feature, or a FeatureCollection of one shape).
    Its coordinates are checked by area.area_validate."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ValidationError({"polygon": _("The area is not valid GeoJSON.")}) from error
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = value.get("features") or []
        if len(features) != 1:
            raise ValidationError({"polygon": _("Paste one area (a FeatureCollection with a single shape).")})
        value = features[0]
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError({"polygon": _("Draw the area on the map, or paste a GeoJSON polygon.")})
    return {"type": value["type"], "coordinates": value.get("coordinates")}


@transaction.atomic
def canvass_save(*, canvass: Canvass, actor: User) -> Canvass:
    """Create or update a canvass (its fields already set on the instance)."""
    if canvass.starts_on and canvass.ends_on and canvass.ends_on < canvass.starts_on:
        raise ValidationError({"ends_on": _("The end comes before the start.")})
    if not canvass.turf_size:
        raise ValidationError({"turf_size": _("A turf has at least one door.")})
    old = Canvass.objects.filter(pk=canvass.pk).first() if canvass.pk else None
    if old is not None and old.kind != canvass.kind and (old.doors.exists() or old.call_targets.exists()):
        raise ValidationError({"kind": _("This canvass has doors or a call list already: its kind cannot change.")})
    canvass.area = area_check(canvass.campaign, canvass.kind, canvass.area or {})
    before = snapshot(old, CANVASS_FIELDS) if old else {}
    if old is None:
        canvass.created_by = canvass.created_by or actor
    canvass.full_clean(exclude=["area", "created_by"])
    canvass.save()
    audit_record(
        action="canvass.update" if old else "canvass.create",
        campaign=canvass.campaign,
        obj=canvass,
        changes=diff(before, snapshot(canvass, CANVASS_FIELDS)),
        actor=actor,
    )
    return canvass


def choices_check(kind: str, choices: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(choice.strip() for choice in choices if choice.strip()))
    if kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
        if len(cleaned) < 2:
            raise ValidationError({"choices": _("Give at least two choices, one a line.")})
        return cleaned
    return []


@transaction.atomic
def question_save(*, question: Question, actor: User) -> Question:
    question.text = question.text.strip()
    if not question.text:
        raise ValidationError({"text": _("Write the question.")})
    question.choices = choices_check(question.kind, list(question.choices or []))
    created = question.pk is None
    before = (
        snapshot(Question.objects.get(pk=question.pk), ("kind", "text", "choices", "position")) if question.pk else {}
    )
    question.save()
    audit_record(
        action="canvass.question_create" if created else "canvass.question_update",
        campaign=question.canvass.campaign,
        obj=question,
        changes=diff(before, snapshot(question, ("kind", "text", "choices", "position"))),
        actor=actor,
    )
    return question


@transaction.atomic
def question_delete(*, question: Question, actor: User) -> None:
    """Remove a question. Answers already given stay in the visits (under its old id)
    but are no longer shown."""
    audit_record(
        action="canvass.question_delete",
        campaign=question.canvass.campaign,
        obj=question,
        changes={"text": [question.text, None]},
        actor=actor,
    )
    question.delete()


def answers_clean(questions: list[Question], raw: dict[str, Any]) -> dict[str, Any]:
    """Answers keyed by question id (as text), each checked against its question; empty
    or unknown answers are dropped. Raises ValidationError for an answer that cannot be."""
    answers: dict[str, Any] = {}
    for question in questions:
        value = raw.get(str(question.pk))
        if value in (None, "", []):
            continue
        if question.kind == Question.Kind.SINGLE:
            if value not in question.choices:
                raise ValidationError(_("“%(answer)s” is not a choice of this question.") % {"answer": value})
        elif question.kind == Question.Kind.MULTIPLE:
            value = [value] if isinstance(value, str) else list(value)
            if any(item not in question.choices for item in value):
                raise ValidationError(_("One of the answers is not a choice of this question."))
        elif question.kind == Question.Kind.SCALE:
            try:
                value = int(value)
            except (TypeError, ValueError) as error:
                raise ValidationError(_("Answer on the scale from 1 to 5.")) from error
            if value not in SCALE:
                raise ValidationError(_("Answer on the scale from 1 to 5."))
        else:
            value = str(value).strip()[:TEXT_ANSWER_MAX]
            if not value:
                continue
        answers[str(question.pk)] = value
    return answers


# --- Phone banks -----------------------------------------------------------------------------------


def callable_people() -> QuerySet[Person]:
    """People a phone bank may call now: a lawful basis for the phone, and a number not suppressed."""
    return Person.objects.filter(reachable(Channel.PHONE))


@transaction.atomic
def call_list_build(*, canvass: Canvass, actor: User) -> int:
    """Put the segment's people who can be called on the canvass's call list. Safe to
    run again: someone already on the list is never added twice (a constraint makes
    it impossible). Returns how many were added."""
    if canvass.kind != Canvass.Kind.PHONE:
        raise ValidationError(_("Only a phone bank has a call list."))
    segment_id = (canvass.area or {}).get("segment")
    found = Segment.objects.filter(campaign=canvass.campaign, pk=segment_id) if isinstance(segment_id, int) else None
    segment = found.first() if found is not None else None
    if segment is None:
        raise ValidationError(_("Choose the segment to call in the phone bank's settings first."))
    # Read with the right to use the support level, as a mailing does: the segment was
    # checked against its author's role when saved.
    members = segment_members(segment, context_for(canvass.campaign, can_sensitive=True))
    already = CallTarget.objects.filter(canvass=canvass, person_id=OuterRef("pk"))
    people = members.filter(reachable(Channel.PHONE)).filter(~Exists(already)).order_by("pk")
    person_ids = list(people.values_list("pk", flat=True))
    CallTarget.objects.bulk_create(
        [CallTarget(campaign=canvass.campaign, canvass=canvass, person_id=pk) for pk in person_ids],
        batch_size=1000,
        ignore_conflicts=True,
    )
    audit_record(
        action="canvass.call_list_build",
        campaign=canvass.campaign,
        obj=canvass,
        changes={"segment": segment.pk, "added": len(person_ids)},
        actor=actor,
    )
    return len(person_ids)


def _claimable(canvass: Canvass, volunteer: User, now: datetime.datetime) -> Q:
    """Targets this volunteer may take now: not done, due, unclaimed (or their own, or
    abandoned), and still callable (an objection since the list was built wins)."""
    stale = now - datetime.timedelta(minutes=CLAIM_MINUTES)
    return (
        Q(canvass=canvass, done=False)
        & (Q(next_call_at__isnull=True) | Q(next_call_at__lte=now))
        & (Q(claimed_by__isnull=True) | Q(claimed_by=volunteer) | Q(claimed_at__lt=stale) | Q(claimed_at__isnull=True))
        & Q(person__in=callable_people().filter(campaign=canvass.campaign).values("pk"))
    )


def call_next(*, canvass: Canvass, volunteer: User) -> CallTarget | None:
    """The one contact this volunteer calls now, claimed for them; None when no one is left.

    A volunteer who has an unfinished claim gets it back. Otherwise the first free
    target (due call-backs first, then in list order) is claimed with a conditional
    UPDATE; if another volunteer took it in between, the next one is tried."""
    if canvass.kind != Canvass.Kind.PHONE or canvass.status != Canvass.Status.ACTIVE:
        return None
    now = timezone.now()
    claimable = CallTarget.objects.filter(_claimable(canvass, volunteer, now))
    mine = claimable.filter(claimed_by=volunteer).order_by("claimed_at", "pk").first()
    if mine is not None:
        CallTarget.objects.filter(pk=mine.pk, claimed_by=volunteer).update(claimed_at=now)
        mine.claimed_at = now
        return mine
    for _attempt in range(10):
        candidate = (
            claimable.order_by(F("next_call_at").asc(nulls_last=True), "pk").values_list("pk", flat=True).first()
        )
        if candidate is None:
            return None
        # The WHERE repeats the conditions: it updates nothing if someone claimed it meanwhile.
        taken = (
            CallTarget.objects.filter(_claimable(canvass, volunteer, now), pk=candidate)
            .exclude(claimed_by=volunteer)
            .update(claimed_by=volunteer, claimed_at=now)
        )
        if taken == 1:
            return CallTarget.objects.select_related("person").get(pk=candidate)
    return None


def target_phone(target: CallTarget) -> PersonPhone | None:
    """The number to dial: a number of the person that is not suppressed, mobile first."""
    mobile_first = Case(When(kind=PersonPhone.Kind.MOBILE, then=Value(0)), default=Value(1))
    return PersonPhone.objects.filter(person_id=target.person_id, suppressed=False).order_by(mobile_first, "pk").first()


@transaction.atomic
def call_record(
    *,
    target: CallTarget,
    volunteer: User,
    outcome: str,
    answers: dict[str, Any] | None = None,
    note: str = "",
    callback_at: datetime.datetime | None = None,
) -> Visit:
    """Record a call to a claimed contact and decide what happens next:

    - no answer: tried again in 2 hours, given up after the third unanswered call;
    - call back: called again from the time given;
    - talked (with the survey's answers), wrong number: done;
    - do not call: the person objects (no more contact on any channel) and is done.

    A wrong number is not suppressed (suppression is for objections and would follow
    the number to whoever really holds it): a note on the person says which number was
    wrong, for whoever keeps the base, and the contact is done."""
    # Read the row again, locked: the claim is checked against the database, not the page.
    locked = CallTarget.objects.select_for_update().filter(pk=target.pk).select_related("person", "canvass").first()
    if locked is None or locked.claimed_by_id != volunteer.pk or locked.done:
        raise ValidationError(_("This contact is not yours to call (any more). Take the next one."))
    target = locked
    if outcome not in PHONE_OUTCOMES:
        raise ValidationError(_("Choose what happened on the call."))
    now = timezone.now()
    if outcome == Outcome.CALL_BACK and (callback_at is None or callback_at <= now):
        raise ValidationError(_("Give the date and time to call back, in the future."))
    canvass = target.canvass
    dialled = target_phone(target) if outcome == Outcome.WRONG_NUMBER else None
    kept_answers = answers_clean(list(canvass.questions.all()), answers or {}) if outcome == Outcome.OPENED else {}
    visit = Visit.objects.create(
        campaign=canvass.campaign,
        canvass=canvass,
        door=None,
        turf=None,
        volunteer=volunteer,
        person=target.person,
        outcome=outcome,
        answers=kept_answers,
        note=note.strip()[:500],
        callback_at=callback_at if outcome == Outcome.CALL_BACK else None,
        recorded_at=now,
        synced_at=now,
    )
    target.attempts += 1
    target.claimed_by, target.claimed_at = None, None
    target.next_call_at = None
    if outcome == Outcome.NO_ANSWER:
        unanswered = Visit.objects.filter(canvass=canvass, person=target.person, outcome=Outcome.NO_ANSWER).count()
        if unanswered >= MAX_UNANSWERED:
            target.done = True
        else:
            target.next_call_at = now + RETRY_AFTER
    elif outcome == Outcome.CALL_BACK:
        target.next_call_at = callback_at
    else:
        target.done = True
    target.save(update_fields=["attempts", "claimed_by", "claimed_at", "next_call_at", "done"])
    if outcome == Outcome.WRONG_NUMBER:
        _note_wrong_number(target, dialled, volunteer)
    elif outcome == Outcome.DO_NOT_CONTACT:
        from suffrage.privacy.services import person_object  # privacy imports people, which imports much

        person_object(person=target.person, actor=volunteer)
    audit_record(
        action="canvass.call",
        campaign=canvass.campaign,
        obj=visit,
        changes={"canvass": canvass.pk, "outcome": outcome},
        actor=volunteer,
    )
    webhook.visits_recorded(canvass.campaign, [visit])
    return visit


def _note_wrong_number(target: CallTarget, dialled: PersonPhone | None, volunteer: User) -> None:
    from suffrage.people.services import note_add

    text = _("Phone bank “%(canvass)s”: wrong number (%(number)s).") % {
        "canvass": target.canvass.name,
        "number": dialled.number if dialled else "—",
    }
    note_add(person=target.person, text=text, actor=volunteer)
