"""Writes on the roll: configuring a roll import, matching the campaign's people to
the roll (a job: train or reuse the model, score, link or queue for review), the
one-person fast path for a new signup, and review decisions (audited)."""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.bulk import insert_rows
from suffrage.core.jobs import JobProgress, job_create, job_enqueue, job_run
from suffrage.core.models import CalendarElection, Campaign, Job, User
from suffrage.imports.models import ImportBatch
from suffrage.people.models import Person
from suffrage.roll import matching
from suffrage.roll.models import MatchModel, RollLink, RollVersion
from suffrage.roll.prepare import BirthDate, prepared

DECIDED = (RollLink.Status.ACCEPTED, RollLink.Status.REJECTED)


# --- Import -----------------------------------------------------------------------


@transaction.atomic
def roll_batch_configure(
    *,
    batch: ImportBatch,
    mapping: list[str],
    election: CalendarElection,
    scope: str,
    extracted_on: datetime.date,
    synthetic: bool = False,
) -> ImportBatch:
    if election.campaign_id != batch.campaign_id:
        raise ValidationError(_("This election belongs to another campaign."))
    if len(mapping) != len(batch.headers):
        raise ValidationError(_("The mapping does not match the file's columns."))
    batch.mapping = mapping
    batch.settings = {
        "election_id": election.pk,
        "scope": scope,
        "extracted_on": extracted_on.isoformat(),
        "synthetic": synthetic,
    }
    batch.status = ImportBatch.Status.DRAFT
    batch.save(update_fields=["mapping", "settings", "status"])
    return batch


# --- Preparing records ------------------------------------------------------------


def entry_record(entry: dict[str, Any]) -> dict[str, object]:
    return prepared(
        unique_id=f"e{entry['pk']}",
        first_names=entry["first_names"],
        birth_name=entry["birth_name"],
        usage_name=entry["usage_name"],
        born=BirthDate(entry["birth_year"], entry["birth_month"], entry["birth_day"]),
        number=entry["number"],
        street=entry["street"],
        postcode=entry["postcode"],
        commune=entry["town"],
        identifier=entry["elector_number"],
    )


ENTRY_FIELDS = (
    "pk",
    "first_names",
    "birth_name",
    "usage_name",
    "birth_year",
    "birth_month",
    "birth_day",
    "number",
    "street",
    "postcode",
    "town",
    "elector_number",
)


def roll_records(version: RollVersion) -> list[dict[str, object]]:
    return [entry_record(e) for e in version.entries.values(*ENTRY_FIELDS).iterator(chunk_size=10_000)]


def person_record(person: Person) -> dict[str, object]:
    address = next(iter(person.addresses.all()), None)  # prefetched when matching the whole campaign
    born = person.birth_date
    return prepared(
        unique_id=f"p{person.pk}",
        first_names=person.first_names,
        birth_name=person.birth_name,
        usage_name=person.usage_name,
        born=BirthDate(born.year, born.month, born.day) if born else BirthDate(),
        number=(address.number + address.repetition) if address else "",
        street=address.street if address else "",
        postcode=address.postcode if address else "",
        commune=address.town if address else "",
    )


def people_records(campaign: Campaign) -> list[dict[str, object]]:
    people = Person.objects.filter(campaign=campaign).exclude(first_names="", birth_name="", usage_name="")
    return [person_record(p) for p in people.prefetch_related("addresses").iterator(chunk_size=2000)]


# --- Backends and the index -------------------------------------------------------


def backend() -> matching.Backend:
    if settings.ROLL_MATCH_BACKEND == "spark":
        return matching.SparkBackend(master=settings.SPARK_MASTER, checkpoint_dir=settings.SPARK_CHECKPOINT_DIR)
    return matching.DuckDBBackend(memory_limit=settings.ROLL_MATCH_MEMORY)


def index_path(model: MatchModel) -> Path:
    return Path(settings.PRIVATE_ROOT) / "roll" / str(model.campaign_id) / f"index-{model.pk}.duckdb"


_indexes: OrderedDict[str, matching.RollIndex] = OrderedDict()
_indexes_lock = threading.Lock()


def open_index(model: MatchModel) -> matching.RollIndex | None:
    """The model's roll index, opened once per process (the last few are kept)."""
    path = model.index_path
    if not path or not Path(path).exists():
        return None
    # Keyed by the file's time too: a file rebuilt at the same path is opened afresh.
    key = f"{path}@{Path(path).stat().st_mtime_ns}"
    with _indexes_lock:
        if key not in _indexes:
            _indexes[key] = matching.RollIndex(Path(path), matching.Model(model.parameters, model.training))
            while len(_indexes) > 4:
                _indexes.popitem(last=False)[1].close()
        _indexes.move_to_end(key)
        return _indexes[key]


def index_discard(path: str) -> None:
    """Close and delete a roll index file (its model is gone)."""
    with _indexes_lock:
        for key in [key for key in _indexes if key.rsplit("@", 1)[0] == path]:
            _indexes.pop(key).close()
    Path(path).unlink(missing_ok=True)


# --- Matching the campaign's people -------------------------------------------------


@transaction.atomic
def match_start(
    *,
    version: RollVersion,
    actor: User | None,
    retrain: bool = False,
    upper: float | None = None,
    lower: float | None = None,
) -> Job:
    from suffrage.roll.tasks import match_task

    if upper is not None and lower is not None and not 0 < lower < upper <= 1:
        raise ValidationError(
            _("The review threshold must be below the automatic-link threshold, both between 0 and 1.")
        )
    job = job_create(
        campaign=version.campaign,
        kind="roll_match",
        label=_("Matching people to the roll %(version)s") % {"version": version},
        created_by=actor,
        required_permission="roll.match_roll",
        params={"version_id": version.pk, "retrain": retrain, "upper": upper, "lower": lower},
    )
    audit_record(action="roll.match", campaign=version.campaign, obj=version, actor=actor, changes=job.params)
    job_enqueue(job, match_task)
    return job


def current_model(campaign: Campaign) -> MatchModel | None:
    return MatchModel.objects.filter(campaign=campaign).select_related("version").first()


def _train(
    version: RollVersion, roll: list[dict[str, object]], people: list[dict[str, object]], job: Job
) -> MatchModel:
    engine = backend()
    trained = matching.train(engine, roll, people, u_pairs=min(10_000_000, max(100_000, len(roll) * 5)))
    number = (MatchModel.objects.filter(campaign=version.campaign).aggregate(n=Max("number"))["n"] or 0) + 1
    return MatchModel.objects.create(
        campaign=version.campaign,
        version=version,
        number=number,
        backend=engine.dialect,
        parameters=trained.settings,
        training=trained.summary,
        trained_by=job.created_by,
    )


def match_run(*, job_id: int) -> Job:
    def work(progress: JobProgress) -> dict[str, Any]:
        params = progress.job.params
        version = RollVersion.objects.select_related("campaign").get(pk=params["version_id"])
        progress.set_total(4)
        roll, people = roll_records(version), people_records(version.campaign)
        progress.advance(prepared=len(roll) + len(people))
        if not roll or not people:
            progress.error(_("Nothing to match: the roll or the campaign's people are empty."))
            return progress.summary()
        model = MatchModel.objects.filter(campaign=version.campaign, version=version).first()
        if model is None or params.get("retrain"):
            model = _train(version, roll, people, progress.job)
        if params.get("upper") is not None:
            model.upper, model.lower = params["upper"], params["lower"]
        progress.advance()
        model.index_path = str(index_path(model))
        matching.RollIndex.build(Path(model.index_path), roll)
        model.save()
        progress.advance()
        pairs = matching.predict(
            backend(), matching.Model(model.parameters, model.training), roll, people, threshold=model.lower
        )
        counts = links_replace(model=model, pairs=pairs)
        progress.advance(**counts)
        return progress.summary()

    return job_run(job_id, work)


def _ids(pair: matching.ScoredPair) -> tuple[int, int]:
    return int(pair.person_id[1:]), int(pair.roll_id[1:])


def links_replace(*, model: MatchModel, pairs: Iterable[matching.ScoredPair]) -> dict[str, int]:
    """Replace the machine's links with these pairs, keeping every human decision:
    an accepted link stands, a rejected pair is never proposed again."""
    with transaction.atomic():
        links = RollLink.objects.filter(campaign_id=model.campaign_id)
        decided = {
            (p, e): s for p, e, s in links.filter(status__in=DECIDED).values_list("person_id", "entry_id", "status")
        }
        links.exclude(status__in=DECIDED).delete()
        accepted_people = {p for (p, _e), s in decided.items() if s == RollLink.Status.ACCEPTED}
        accepted_entries = {e for (_p, e), s in decided.items() if s == RollLink.Status.ACCEPTED}
        candidates = [p for p in pairs if _ids(p) not in decided and _ids(p)[0] not in accepted_people]
        kept, conflicts = matching.best_pairs(candidates)
        rows = []
        counts = {"linked": 0, "review": 0, "conflicts": 0}
        for pair, conflict in [(p, False) for p in kept] + [(p, True) for p in conflicts]:
            person_id, entry_id = _ids(pair)
            conflict = conflict or entry_id in accepted_entries
            status = (
                RollLink.Status.LINKED if pair.probability >= model.upper and not conflict else RollLink.Status.REVIEW
            )
            counts["conflicts" if conflict else str(status)] += 1
            rows.append(_link_row(model, person_id, entry_id, pair, status, conflict))
        insert_rows(RollLink, rows)
    return counts


def _link_row(
    model: MatchModel, person_id: int, entry_id: int, pair: matching.ScoredPair, status: str, conflict: bool
) -> dict[str, Any]:
    return {
        "campaign_id": model.campaign_id,
        "person_id": person_id,
        "entry_id": entry_id,
        "model_id": model.pk,
        "probability": pair.probability,
        "weight": pair.weight,
        "explanation": pair.explanation,
        "status": status,
        "conflict": conflict,
        "decided_by_id": None,
        "decided_at": None,
        "created_at": timezone.now(),
    }


def person_match(person: Person) -> RollLink | None:
    """The fast path: match one new person against the indexed roll, on arrival."""
    model = current_model(person.campaign)
    index = open_index(model) if model else None
    if model is None or index is None or RollLink.objects.filter(person=person).exists():
        return None  # no indexed roll yet, or already matched or decided: the full job re-matches
    pairs = index.match(person_record(person), threshold=model.lower)
    if not pairs:
        return None
    best = pairs[0]
    person_id, entry_id = _ids(best)
    taken = RollLink.objects.filter(
        entry_id=entry_id, status__in=[RollLink.Status.LINKED, RollLink.Status.ACCEPTED]
    ).exclude(person_id=person_id)
    conflict = taken.exists()
    status = RollLink.Status.LINKED if best.probability >= model.upper and not conflict else RollLink.Status.REVIEW
    return RollLink.objects.create(**_link_row(model, person_id, entry_id, best, status, conflict))


def person_match_enqueue(person: Person) -> None:
    """Called when a person arrives (a signup, a hand entry): matched after commit."""
    from suffrage.roll.tasks import person_match_task

    if MatchModel.objects.filter(campaign_id=person.campaign_id).exclude(index_path="").exists():
        transaction.on_commit(lambda: person_match_task.enqueue(person.pk))


# --- Review ------------------------------------------------------------------------


@transaction.atomic
def link_decide(*, link: RollLink, accept: bool, actor: User) -> RollLink:
    """Accept or reject a proposed pair. A person has one entry and an entry one
    person: accepting a pair whose entry is already someone else's is refused."""
    link = RollLink.objects.select_for_update().get(pk=link.pk)
    before = link.status
    if accept:
        other = (
            RollLink.objects.filter(
                entry_id=link.entry_id, status__in=[RollLink.Status.LINKED, RollLink.Status.ACCEPTED]
            )
            .exclude(person_id=link.person_id)
            .select_related("person")
            .first()
        )
        if other:
            raise ValidationError(
                _("This roll entry is already linked to %(person)s: reject that link first.") % {"person": other.person}
            )
        # The person's other candidate entries lose.
        RollLink.objects.filter(person_id=link.person_id).exclude(pk=link.pk).exclude(
            status=RollLink.Status.REJECTED
        ).update(status=RollLink.Status.REJECTED, decided_by=actor, decided_at=timezone.now())
    link.status = RollLink.Status.ACCEPTED if accept else RollLink.Status.REJECTED
    link.conflict = False if accept else link.conflict
    link.decided_by, link.decided_at = actor, timezone.now()
    link.save(update_fields=["status", "conflict", "decided_by", "decided_at"])
    audit_record(
        action="roll.link_accept" if accept else "roll.link_reject",
        campaign=link.campaign,
        obj=link,
        actor=actor,
        changes={
            "status": [before, link.status],
            "person": link.person_id,
            "entry": link.entry_id,
            "model": link.model_id,
            "probability": round(link.probability, 4),
        },
    )
    return link
