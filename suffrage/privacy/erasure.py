"""Erasure (GDPR art. 17): what the campaign holds about a person, and removing it.

Every app that stores rows about people says so in its `erasers.py` (a list
ERASERS of `Eraser`), gathered like the menus are. An eraser is a list of parts,
one per model whose rows point at a person: how to find those rows for a set of
people, and what erasing does to them (deleted, or kept without the personal
content, with the legal reason). The same registry gives the access report its
sections (`Eraser.report`), so an app that holds data cannot forget either duty;
tests/privacy/test_erasure.py fails for any model related to a person that no part
covers.

Erasers work on sets of people (a campaign and a chunk of ids): one query per part
per chunk, whether one person is erased or ten thousand.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from suffrage.core.audit import audit_record
from suffrage.core.models import AppendOnlyQuerySet, Campaign, User
from suffrage.privacy.models import Suppression, suppression_digest
from suffrage.privacy.services import suppression_add

if TYPE_CHECKING:
    from suffrage.people.models import Person
    from suffrage.privacy.models import RightsRequest

# People erased per round of queries (keeps IN lists well under SQLite's variable limit).
CHUNK = 500

# Reasons for which the addresses and numbers go on the suppression list: the person
# asked never to be contacted again. Other reasons (retention) only delete.
SUPPRESSING_REASONS = frozenset({Suppression.Reason.ERASURE, Suppression.Reason.OBJECTION})


@dataclass(frozen=True)
class Targets:
    """The people an eraser works on: a campaign and some of its people's ids."""

    campaign_id: int
    ids: tuple[int, ...]


@dataclass(frozen=True)
class Found:
    """A line of the review screen: how many rows of a kind, and their fate."""

    model: str  # "people.personemail"
    label: StrOrPromise
    count: int
    kept: bool = False
    reason: StrOrPromise = ""  # why the rows are kept (the legal ground), when they are


def delete_rows(rows: models.QuerySet[Any]) -> int:
    """The usual fate: the rows go; append-only ledgers (consent) too, through their
    `purge`: erasure is one of its two documented uses."""
    deleted, _by_model = rows.purge() if isinstance(rows, AppendOnlyQuerySet) else rows.delete()
    return deleted


@dataclass(frozen=True)
class Part:
    """One model's rows about the people being erased.

    `rows` finds them (always within the campaign); `erase` removes them, or, for a
    part that is kept (`kept` gives the legal reason), strips what identifies the person
    and returns how many rows it touched."""

    model: str  # app label and model name, as in apps.get_model: "people.PersonEmail"
    label: StrOrPromise
    rows: Callable[[Targets], models.QuerySet[Any]]
    erase: Callable[[models.QuerySet[Any]], int] = delete_rows
    kept: StrOrPromise = ""

    @property
    def key(self) -> str:
        return self.model.lower()


@dataclass(frozen=True)
class Eraser:
    """What an app holds about people: its parts, in the order they are erased, and
    its sections of the access report."""

    app_label: str
    label: StrOrPromise
    parts: tuple[Part, ...]
    # Sections of the access report: {key: section} (see privacy.access.table).
    report: Callable[[Person], dict[str, Any]] | None = None
    # Erasers run in this order; the people app's, which deletes the Person rows, last.
    order: int = 100
    # Sections appear in the access report in this order (the person's record first).
    report_order: int = 100

    @property
    def kept(self) -> tuple[Part, ...]:
        """The parts whose rows stay (anonymised), each with its legal reason."""
        return tuple(part for part in self.parts if part.kept)

    @property
    def models(self) -> frozenset[str]:
        """The models covered, as lowercase labels ("people.personemail")."""
        return frozenset(part.key for part in self.parts)

    def collect(self, targets: Targets) -> list[Found]:
        return [
            Found(part.key, part.label, part.rows(targets).count(), kept=bool(part.kept), reason=part.kept)
            for part in self.parts
        ]

    def erase(self, targets: Targets) -> dict[str, int]:
        return {part.key: part.erase(part.rows(targets)) for part in self.parts}


@functools.cache
def all_erasers() -> list[Eraser]:
    """Every app's ERASERS, in the order they run."""
    erasers: list[Eraser] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("suffrage."):
            continue
        module_name = f"{config.name}.erasers"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        erasers.extend(module.ERASERS)
    return sorted(erasers, key=lambda eraser: eraser.order)


def covered_models() -> frozenset[str]:
    """Lowercase labels of every model some eraser covers."""
    return frozenset().union(*(eraser.models for eraser in all_erasers()))


def _chunks(ids: list[int]) -> Iterator[tuple[int, ...]]:
    for start in range(0, len(ids), CHUNK):
        yield tuple(ids[start : start + CHUNK])


# --- Review -----------------------------------------------------------------------------


def erasure_collect(person: Person) -> list[Found]:
    """What erasing this person removes, and what stays and why (the review screen).
    Kinds of data the person has none of are left out."""
    targets = Targets(person.campaign_id, (person.pk,))
    found: list[Found] = []
    for eraser in all_erasers():
        found.extend(item for item in eraser.collect(targets) if item.count)
    return found


# --- Erasure ----------------------------------------------------------------------------


def _held_values(targets: Targets) -> tuple[set[str], set[str]]:
    from suffrage.people.models import PersonEmail, PersonPhone

    emails = PersonEmail.objects.filter(campaign_id=targets.campaign_id, person_id__in=targets.ids)
    phones = PersonPhone.objects.filter(campaign_id=targets.campaign_id, person_id__in=targets.ids)
    return (
        {address.strip().lower() for address in emails.values_list("address", flat=True)},
        {number.strip() for number in phones.values_list("number", flat=True)},
    )


def _suppress_one(campaign: Campaign, targets: Targets, reason: str, actor: User | None) -> int:
    emails, phones = _held_values(targets)
    added = 0
    for channel, values in (("email", emails), ("phone", phones)):
        for value in sorted(values):
            added += suppression_add(campaign=campaign, channel=channel, value=value, reason=reason, actor=actor)
    return added


def _suppress_many(campaign: Campaign, targets: Targets, reason: str) -> int:
    """suppression_add for many values at once: one insert per channel, and the other
    people of the campaign holding the same values lose them too (as suppression_add does)."""
    from suffrage.people.models import PersonEmail, PersonPhone

    emails, phones = _held_values(targets)
    added = 0
    for channel, values in (("email", emails), ("phone", phones)):
        if not values:
            continue
        digests = {suppression_digest(value) for value in values}
        present = set(
            Suppression.objects.filter(campaign=campaign, channel=channel, digest__in=digests).values_list(
                "digest", flat=True
            )
        )
        new = [
            Suppression(campaign=campaign, channel=channel, digest=digest, reason=reason)
            for digest in sorted(digests - present)
        ]
        Suppression.objects.bulk_create(new, ignore_conflicts=True)
        added += len(new)
        if channel == "email":
            held = PersonEmail.objects.filter(campaign=campaign, address__in=values, status=PersonEmail.Status.OK)
            held.exclude(person_id__in=targets.ids).update(status=PersonEmail.Status.SUPPRESSED)
        else:
            held_phones = PersonPhone.objects.filter(campaign=campaign, number__in=values, suppressed=False)
            held_phones.exclude(person_id__in=targets.ids).update(suppressed=True)
    return added


def _run_erasers(targets: Targets, counts: Counter[str]) -> None:
    for eraser in all_erasers():
        counts.update(eraser.erase(targets))


@transaction.atomic
def person_erase(*, person: Person, actor: User | None, request: RightsRequest | None = None) -> dict[str, int]:
    """Erase a person: their email addresses and phone numbers go on the suppression
    list (as keyed hashes: never imported or messaged again), every app erases what it
    holds, the record goes. The audit row holds counts and the request's id only.

    Returns {model label: rows removed or anonymised, "suppressed": values added}."""
    from suffrage.people.models import Person

    campaign = person.campaign
    if request is not None and request.campaign_id != campaign.pk:
        raise ValidationError(_("This request belongs to another campaign."))
    # Lock the record: two officers erasing at once do it once.
    if not Person.objects.select_for_update().filter(campaign=campaign, pk=person.pk).exists():
        raise ValidationError(_("This person no longer exists."))
    targets = Targets(campaign.pk, (person.pk,))
    counts: Counter[str] = Counter()
    counts["suppressed"] = _suppress_one(campaign, targets, Suppression.Reason.ERASURE, actor)
    _run_erasers(targets, counts)
    if request is not None and request.person_id == person.pk:
        request.person = None  # the eraser detached it in the database; the caller may save it next
    result = dict(counts)
    audit_record(
        action="person.erase",
        campaign=campaign,
        obj=request,  # "Erasure #12": no personal data
        changes={"counts": result, "request": request.pk if request is not None else None},
        actor=actor,
    )
    return result


@transaction.atomic
def people_erase(
    *,
    campaign: Campaign,
    people: models.QuerySet[Person],
    actor: User | None,
    reason: str,
    suppress: bool | None = None,
) -> int:
    """Erase many people of the campaign (retention, bulk erasure), set-based: one query
    per part per chunk of CHUNK people. Their addresses and numbers go on the suppression
    list when the reason is an erasure or an objection (or `suppress` says so): expired
    data (retention) is deleted without keeping even a hash. Returns how many people
    were erased; one audit row, with counts only."""
    ids = sorted(people.filter(campaign=campaign).values_list("pk", flat=True))
    if suppress is None:
        suppress = reason in SUPPRESSING_REASONS
    suppression_reason = reason if reason in Suppression.Reason.values else Suppression.Reason.ERASURE
    counts: Counter[str] = Counter()
    for chunk in _chunks(ids):
        targets = Targets(campaign.pk, chunk)
        if suppress:
            counts["suppressed"] += _suppress_many(campaign, targets, suppression_reason)
        _run_erasers(targets, counts)
    if ids:
        if counts["suppressed"]:
            audit_record(
                action="suppression.add",
                campaign=campaign,
                changes={"reason": suppression_reason, "count": counts["suppressed"]},
                actor=actor,
            )
        audit_record(
            action="people.erase",
            campaign=campaign,
            changes={"reason": reason, "people": len(ids), "counts": dict(counts)},
            actor=actor,
        )
    return len(ids)
