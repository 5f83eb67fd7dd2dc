"""Social audiences through the import pipeline (imports.pipeline, kind "social").

A platform's export (or an API's follower listing) is first read into `SocialRecord`s
(exports.py, clients/), then written as a CSV of fixed columns — the batch's file — so
that the generic pipeline gives it what every import has: a dry run, a background run
with progress, a verdict per row, resuming after a crash.

Each record: a profile already known is skipped; with an email or a phone (lead forms,
some connections) the person is found or created by them and the profile attached,
with the consent given on the platform and its wording; with a name and a town that
match someone, a suggestion waits for an organiser; otherwise a social-only contact is
created — no channel, a first-contact notice owed, never messaged in bulk."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from suffrage.engagement.services import person_arrive
from suffrage.imports.models import ImportBatch, ImportRow
from suffrage.imports.normalise import InvalidValue, normalise_phone, search_key
from suffrage.imports.pipeline import MappedRow, Verdict
from suffrage.people.models import LegalBasis, Person, SocialProfile, Source
from suffrage.people.services import consent_record, person_create
from suffrage.social.models import NetworkArrival, ProfileSuggestion
from suffrage.social.records import ParseResult, RowProblem, SocialRecord

COLUMNS = [
    "network",
    "source_row",
    "handle",
    "url",
    "external_id",
    "display_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "town",
    "postcode",
    "consents",
    "consent_wording",
    "answers",
    "collected_at",
    "problems",
]
SOURCE_CONSENT = "social"


# --- Records to the batch's file ------------------------------------------------------


def records_csv(result: ParseResult) -> bytes:
    """One line per row of the export, in its order: a record, or only its problems."""
    problems: dict[int, list[RowProblem]] = {}
    for problem in result.problems:
        problems.setdefault(problem.row, []).append(problem)
    lines: list[tuple[int, list[str]]] = []
    for record in result.records:
        lines.append((record.row, _line(record, problems.pop(record.row, []))))
    for row, found in problems.items():
        lines.append((row, _line(None, found, row=row)))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(line for _row, line in sorted(lines, key=lambda item: item[0]))
    return out.getvalue().encode("utf-8")


def _line(record: SocialRecord | None, problems: list[RowProblem], *, row: int = 0) -> list[str]:
    listed = json.dumps([{"field": p.field, "message": p.message} for p in problems], ensure_ascii=False)
    if record is None:
        return ["", str(row), *[""] * (len(COLUMNS) - 3), listed]
    return [*record_cells(record), listed]


def record_values(record: SocialRecord) -> dict[str, str]:
    """A record as the importer reads a line of the batch's file."""
    return dict(zip(COLUMNS, [*record_cells(record), "[]"], strict=True))


def record_cells(record: SocialRecord) -> list[str]:
    return [
        record.network,
        str(record.row),
        record.handle,
        record.url,
        record.external_id,
        record.display_name,
        record.first_name,
        record.last_name,
        record.email,
        record.phone,
        record.town,
        record.postcode,
        ",".join(channel for channel, granted in record.consents.items() if granted),
        record.consent_wording,
        json.dumps(record.answers, ensure_ascii=False) if record.answers else "",
        record.collected_at.isoformat() if record.collected_at else "",
    ]


# --- The batch's rows into the base ---------------------------------------------------------


class SocialImporter:
    """The pipeline's row handler for kind "social"."""

    uses_mapping = False
    chunk_rows = None

    def __init__(self, batch: ImportBatch) -> None:
        detail = str(batch.settings.get("source_detail", "")) or batch.original_name
        self.arrivals = Arrivals(batch.campaign, detail, batch.legal_basis or LegalBasis.LEGITIMATE_INTEREST)
        self.header = batch.headers

    def process(self, rows: list[MappedRow]) -> list[Verdict]:
        return [self._row(dict(zip(self.header, row.cells, strict=False))) for row in rows]

    def _row(self, values: dict[str, str]) -> Verdict:
        messages = [
            {
                "field": p["field"],
                "message": _("Row %(row)s of the export: %(message)s")
                % {"row": values.get("source_row", "?"), "message": p["message"]},
            }
            for p in json.loads(values.get("problems") or "[]")
        ]
        if not values.get("network"):
            return Verdict(ImportRow.Verdict.REJECTED, messages=messages)
        verdict = self.arrivals.arrive(values)
        verdict.messages = messages + verdict.messages
        return verdict


class Arrivals:
    """Where each lead or follower goes: the person with its email or phone, a
    profile already known, a suggestion, or a new social-only contact."""

    def __init__(self, campaign: Any, detail: str, legal_basis: str) -> None:
        self.campaign, self.detail, self.legal_basis = campaign, detail, legal_basis

    def arrive(self, values: dict[str, str]) -> Verdict:
        verdict = self._arrive(values)
        if verdict.person_id and verdict.verdict in (ImportRow.Verdict.CREATED, ImportRow.Verdict.UPDATED):
            arrival_record(self.campaign.pk, values["network"], verdict.person_id)
        return verdict

    def _arrive(self, values: dict[str, str]) -> Verdict:
        phone = self._phone(values)
        if values["email"] or phone is not None:
            return self._with_channels(values, phone)
        known = known_profile(self.campaign.pk, values)
        if known is not None:
            message = _("Already in the base (%(name)s).") % {"name": known.person.display_name}
            return Verdict(
                ImportRow.Verdict.SKIPPED, person_id=known.person_id, messages=[{"field": "", "message": message}]
            )
        candidate = self._same_name_and_town(values)
        if candidate is not None:
            self._suggest(values, candidate)
            message = _("Perhaps %(name)s: waiting for an organiser's review.") % {"name": candidate.display_name}
            return Verdict(ImportRow.Verdict.SKIPPED, messages=[{"field": "", "message": message}])
        person = social_contact_create(self.campaign, values, detail=self.detail, legal_basis=self.legal_basis)
        return Verdict(ImportRow.Verdict.CREATED, person_id=person.pk)

    def _phone(self, values: dict[str, str]) -> Any:
        try:
            return normalise_phone(values["phone"]) if values["phone"] else None
        except InvalidValue:
            return None  # the parser reported it already

    def _with_channels(self, values: dict[str, str], phone: Any) -> Verdict:
        """A lead: found or created by its email or phone, given on the platform."""
        consents = [channel for channel in values["consents"].split(",") if channel]
        data = {
            "email": values["email"],
            "phone": phone,
            "first_names": values["first_name"],
            "last_name": values["last_name"],
            "town": values["town"],
            "postcode": values["postcode"],
        }
        arrival = person_arrive(
            campaign=self.campaign, data=data, source=Source.SOCIAL, detail=self.detail, consenting=bool(consents)
        )
        profile_attach(arrival.person, values)
        for channel in consents:
            if getattr(arrival.person, f"consent_{channel}", None) is not True:
                consent_record(
                    person=arrival.person,
                    channel=channel,
                    granted=True,
                    source=SOURCE_CONSENT,
                    form=self.detail,
                    wording=values["consent_wording"],
                )
        verdict = ImportRow.Verdict.CREATED if arrival.created else ImportRow.Verdict.UPDATED
        return Verdict(verdict, person_id=arrival.person.pk)

    def _same_name_and_town(self, values: dict[str, str]) -> Person | None:
        first, last = names_of(values)
        if not (first and last and values["town"]):
            return None
        key = search_key(f"{last} {first}")
        town = search_key(values["town"])
        for person in Person.objects.filter(campaign=self.campaign, name_key=key).prefetch_related("addresses"):
            if any(search_key(address.town) == town for address in person.addresses.all()):
                return person
        return None

    def _suggest(self, values: dict[str, str], candidate: Person) -> None:
        ProfileSuggestion.objects.get_or_create(
            campaign=self.campaign,
            candidate=candidate,
            network=values["network"],
            handle=values["handle"],
            url=values["url"],
            defaults={
                "external_id": values["external_id"],
                "display_name": values["display_name"],
                "source_detail": self.detail,
            },
        )


def arrival_record(campaign_id: int, network: str, person_id: int) -> None:
    """The person came from this network (kept the first time only, for the reports)."""
    NetworkArrival.objects.get_or_create(campaign_id=campaign_id, network=network, person_id=person_id)


def names_of(values: dict[str, str]) -> tuple[str, str]:
    """First and last names, from the export's or split from the display name."""
    if values.get("first_name") or values.get("last_name"):
        return values.get("first_name", ""), values.get("last_name", "")
    words = values.get("display_name", "").split()
    if len(words) >= 2:
        return words[0], " ".join(words[1:])
    return "", ""


def known_profile(campaign_id: int, values: dict[str, str]) -> SocialProfile | None:
    same = Q()
    if values.get("handle"):
        same |= Q(handle__iexact=values["handle"])
    if values.get("url"):
        same |= Q(url=values["url"])
    if not same:
        return None
    return (
        SocialProfile.objects.filter(same, person__campaign_id=campaign_id, network=values["network"])
        .select_related("person")
        .first()
    )


def profile_attach(person: Person, values: dict[str, str]) -> None:
    if not (values.get("handle") or values.get("url")) or known_profile(person.campaign_id, values):
        return
    SocialProfile.objects.create(
        person=person, network=values["network"], handle=values.get("handle", "")[:200], url=values.get("url", "")[:200]
    )


def social_contact_create(campaign: Any, values: dict[str, str], *, detail: str, legal_basis: str) -> Person:
    """A person known only by a profile: no channel, a first-contact notice owed."""
    first, last = names_of(values)
    person = person_create(
        campaign=campaign,
        actor=None,
        source=Source.SOCIAL,
        source_detail=detail,
        legal_basis=legal_basis,
        first_names=first[:200],
        usage_name=last[:150],
    )
    profile_attach(person, values)
    return person
