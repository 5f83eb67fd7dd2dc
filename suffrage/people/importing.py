"""The people import's row handler: validate and normalise each row, match it
to an existing person, and write people, channels, tags and consents in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.core.bulk import insert_rows
from suffrage.imports.models import ImportBatch, ImportRow, MatchOn, OnMatch
from suffrage.imports.normalise import (
    InvalidValue,
    Phone,
    normalise_civility,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_postcode,
    parse_bool,
    parse_date,
)
from suffrage.imports.pipeline import MappedRow, Verdict
from suffrage.people.models import (
    Channel,
    ConsentEvent,
    CustomField,
    Note,
    Person,
    PersonEmail,
    PersonPhone,
    PostalAddress,
    Tag,
)
from suffrage.people.services import compute_search_keys, custom_value_clean, new_addresses_locate
from suffrage.privacy.services import suppressed_among

NAME_FIELDS = ("first_names", "birth_name", "usage_name")
ADDRESS_FIELDS = (
    "number",
    "repetition",
    "street",
    "building",
    "stairwell",
    "floor",
    "complement",
    "town",
    "insee_code",
)
FLAG_FIELDS = ("is_member", "is_volunteer", "is_donor")
TARGETS: list[tuple[str, Promise]] = [
    ("civility", gettext_lazy("Civility")),
    ("first_names", gettext_lazy("First names")),
    ("birth_name", gettext_lazy("Birth name")),
    ("usage_name", gettext_lazy("Usage name (or last name)")),
    ("birth_date", gettext_lazy("Birth date")),
    ("email", gettext_lazy("Email")),
    ("email_2", gettext_lazy("Second email")),
    ("phone", gettext_lazy("Phone")),
    ("phone_2", gettext_lazy("Second phone")),
    ("number", gettext_lazy("Street number")),
    ("repetition", gettext_lazy("bis, ter…")),
    ("street", gettext_lazy("Street")),
    ("building", gettext_lazy("Building")),
    ("stairwell", gettext_lazy("Stairwell")),
    ("floor", gettext_lazy("Floor")),
    ("complement", gettext_lazy("Address complement")),
    ("postcode", gettext_lazy("Postcode")),
    ("town", gettext_lazy("Town")),
    ("insee_code", gettext_lazy("INSEE code")),
    ("external_id", gettext_lazy("External identifier")),
    ("tags", gettext_lazy("Tags (comma-separated)")),
    ("is_member", gettext_lazy("Member (yes/no)")),
    ("is_volunteer", gettext_lazy("Volunteer (yes/no)")),
    ("is_donor", gettext_lazy("Donor (yes/no)")),
    ("note", gettext_lazy("Note")),
    ("consent_email", gettext_lazy("Consents to emails (yes/no)")),
    ("consent_sms", gettext_lazy("Consents to SMS (yes/no)")),
]
# A mapping must give at least one of these, or no row could identify anyone.
IDENTIFYING_TARGETS = {"first_names", "birth_name", "usage_name", "email", "phone", "external_id"}


def targets_for(campaign_id: int) -> list[tuple[str, str]]:
    custom = CustomField.objects.filter(campaign_id=campaign_id)
    return [(key, str(label)) for key, label in TARGETS] + [(f"custom:{f.key}", f.label) for f in custom]


@dataclass
class Record:
    number: int
    fields: dict[str, Any] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    address: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    note: str = ""
    consents: dict[str, bool] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)

    def key(self, match_on: str) -> str | None:
        if match_on == MatchOn.EMAIL and self.emails:
            return self.emails[0]
        if match_on == MatchOn.PHONE and self.phones:
            return self.phones[0].e164
        if match_on == MatchOn.EXTERNAL_ID:
            return self.fields.get("external_id") or None
        return None


@dataclass
class Plan:
    """The rows (in file order) that end up on one person, existing or new."""

    person_id: int | None
    records: list[Record]


class PeopleImporter:
    uses_mapping = True
    chunk_rows = None

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.campaign = batch.campaign
        self.country = self.campaign.country or "FR"
        self.custom_fields = {f.key: f for f in CustomField.objects.filter(campaign=self.campaign)}
        self.tags: dict[str, Tag] = {}
        # Cut the file's name so that the detail with a tool's name and ", row N" stays
        # within the 200 characters of a source or a consent proof.
        self.detail = f"{_('Import')} #{batch.pk} {batch.original_name[:120]}"
        if tool := str(batch.settings.get("source_detail", "")):
            # Another tool's export (imports.presets): named in each person's provenance and consent proof.
            self.detail += f" ({tool})"

    def finish(self) -> None:
        new_addresses_locate(self.campaign, self.batch.created_by)

    # --- Parsing ----------------------------------------------------------------

    def parse(self, row: MappedRow) -> tuple[Record, list[dict[str, str]]]:
        record, problems = Record(row.number), []
        for target, raw in row.values.items():
            try:
                self._parse_value(record, target, raw)
            except InvalidValue as error:
                problems.append({"field": row.columns[target], "message": str(error)})
        if not problems and not (record.emails or record.phones or any(record.fields.get(n) for n in NAME_FIELDS)):
            problems.append({"field": "", "message": _("No name, email or phone: nothing identifies this person.")})
        return record, problems

    def _parse_value(self, record: Record, target: str, raw: str) -> None:
        if target in NAME_FIELDS:
            record.fields[target] = normalise_name(raw)[:200]
        elif target == "civility":
            record.fields[target] = normalise_civility(raw)
        elif target == "birth_date":
            record.fields[target] = parse_date(raw)
        elif target == "external_id":
            record.fields[target] = raw.strip()[:100]
        elif target in FLAG_FIELDS:
            record.fields[target] = bool(parse_bool(raw))
        elif target in ("email", "email_2"):
            if email := normalise_email(raw):
                record.emails.append(email)
        elif target in ("phone", "phone_2"):
            if phone := normalise_phone(raw, default_region=self.country):
                record.phones.append(phone)
        elif target == "postcode":
            record.address["postcode"] = normalise_postcode(raw, country=self.country)
        elif target in ADDRESS_FIELDS:
            record.address[target] = " ".join(raw.split())[:200]
        elif target == "tags":
            record.tags += [name for name in (" ".join(t.split())[:80] for t in raw.split(",")) if name]
        elif target == "note":
            record.note = raw.strip()
        elif target in ("consent_email", "consent_sms"):
            value = parse_bool(raw)
            if value is not None:
                record.consents[target.removeprefix("consent_")] = value
        elif target.startswith("custom:") and (custom_field := self.custom_fields.get(target[7:])):
            record.custom[custom_field.key] = custom_value_clean(custom_field, raw)

    # --- Matching ---------------------------------------------------------------

    def _existing(self, keys: set[str]) -> dict[str, int]:
        match_on = self.batch.match_on
        pairs: list[tuple[str, int]]
        if match_on == MatchOn.EMAIL:
            emails = PersonEmail.objects.filter(campaign=self.campaign, address__in=keys)
            pairs = list(emails.values_list("address", "person_id"))
        elif match_on == MatchOn.PHONE:
            phones = PersonPhone.objects.filter(campaign=self.campaign, number__in=keys)
            pairs = list(phones.values_list("number", "person_id"))
        elif match_on == MatchOn.EXTERNAL_ID:
            people = Person.objects.filter(campaign=self.campaign, external_id__in=keys)
            pairs = list(people.values_list("external_id", "pk"))
        else:
            return {}
        found: dict[str, int] = {}
        # The oldest record wins when several people share the key.
        for key, person_id in sorted(pairs, key=lambda pair: pair[1]):
            found.setdefault(key, person_id)
        return found

    def _plans(self, records: list[Record]) -> list[Plan]:
        keys = {key for record in records if (key := record.key(self.batch.match_on))}
        existing = self._existing(keys)
        plans: dict[str, Plan] = {}
        lone: list[Plan] = []
        for record in records:
            key = record.key(self.batch.match_on)
            if key is None:
                lone.append(Plan(None, [record]))
            elif key in plans:
                plans[key].records.append(record)
            else:
                plans[key] = Plan(existing.get(key), [record])
        return [*plans.values(), *lone]

    # --- Writing ----------------------------------------------------------------

    def process(self, rows: list[MappedRow]) -> list[Verdict]:
        verdicts: dict[int, Verdict] = {}
        records = []
        for row in rows:
            record, problems = self.parse(row)
            if problems:
                verdicts[row.number] = Verdict(ImportRow.Verdict.REJECTED, messages=problems)
            else:
                records.append(record)
        plans = self._plans(records)
        new_plans = [plan for plan in plans if plan.person_id is None]
        old_plans = [plan for plan in plans if plan.person_id is not None]
        verdicts.update(self._create(new_plans))
        verdicts.update(self._update(old_plans))
        return [verdicts[row.number] for row in rows]

    def _merged_fields(self, records: list[Record]) -> dict[str, Any]:
        """Field values of a new person: the first row's, blanks filled by later rows."""
        merged: dict[str, Any] = {}
        for record in records:
            for name, value in record.fields.items():
                if value not in ("", None) and merged.get(name) in ("", None, False):
                    merged[name] = value
        return merged

    def _create(self, plans: list[Plan]) -> dict[int, Verdict]:
        now = timezone.now()
        people = []
        for plan in plans:
            fields = self._merged_fields(plan.records)
            person = Person(
                campaign=self.campaign,
                source=self.batch.source,
                legal_basis=self.batch.legal_basis,
                # The row is part of the record's provenance; values set at creation need no
                # per-field entry (field_sources records only later changes).
                source_detail=f"{self.detail}, {_('row')} {plan.records[0].number}",
                created_by=self.batch.created_by,
                collected_at=now,
                custom={k: v for r in plan.records for k, v in r.custom.items() if v is not None},
                **fields,
            )
            for record in plan.records:
                for channel, granted in record.consents.items():
                    setattr(person, f"consent_{channel}", granted)
            compute_search_keys(
                person,
                emails=_unique(e for r in plan.records for e in r.emails),
                phones=_unique(p.e164 for r in plan.records for p in r.phones),
                addresses=[PostalAddress(**self._address(r)) for r in plan.records[:1] if r.address],
            )
            people.append(person)
        Person.objects.bulk_create(people)
        for plan, person in zip(plans, people, strict=True):
            plan.person_id = person.pk
        self._add_children(plans)
        verdicts = {}
        for plan in plans:
            first, *others = plan.records
            verdicts[first.number] = Verdict(ImportRow.Verdict.CREATED, plan.person_id)
            for record in others:
                verdicts[record.number] = Verdict(ImportRow.Verdict.MERGED, plan.person_id)
        return verdicts

    def _update(self, plans: list[Plan]) -> dict[int, Verdict]:
        if self.batch.on_match == OnMatch.SKIP:
            return {r.number: Verdict(ImportRow.Verdict.SKIPPED, p.person_id) for p in plans for r in p.records}
        people = Person.objects.in_bulk([plan.person_id for plan in plans])
        changed_people, verdicts = [], {}
        changed_fields: set[str] = set()
        gained = self._add_children(plans, people=people)
        for plan in plans:
            person = people[plan.person_id]
            changed = self._apply(person, plan.records, changed_fields) or plan.person_id in gained
            if changed:
                changed_people.append(person)
            # Nothing new for this person: the row is skipped (a re-import changes nothing).
            verdict = ImportRow.Verdict.UPDATED if changed else ImportRow.Verdict.SKIPPED
            for record in plan.records:
                verdicts[record.number] = Verdict(verdict, plan.person_id)
        if changed_people:
            for person in changed_people:
                compute_search_keys(
                    person,
                    emails=person.emails.values_list("address", flat=True),
                    phones=person.phones.values_list("number", flat=True),
                    addresses=person.addresses.all(),
                )
            consent_fields = [f"consent_{channel}" for channel in Channel.values]
            Person.objects.bulk_update(
                changed_people,
                [*changed_fields, *consent_fields, "field_sources", "search_text", "name_key", "updated_at"],
            )
        return verdicts

    def _apply(self, person: Person, records: list[Record], changed_fields: set[str]) -> bool:
        overwrite = self.batch.on_match == OnMatch.UPDATE
        changed = False
        now = timezone.now().isoformat(timespec="seconds")
        for record in records:
            for name, value in record.fields.items():
                current = getattr(person, name)
                if value in ("", None) or current == value or (current not in ("", None, False) and not overwrite):
                    continue
                setattr(person, name, value)
                person.field_sources[name] = {"source": self.batch.source, "detail": self.detail, "at": now}
                changed_fields.add(name)
                changed = True
            for key, value in record.custom.items():
                writable = overwrite or person.custom.get(key) in (None, "", [])
                if value is not None and writable and person.custom.get(key) != value:
                    person.custom[key] = value
                    changed_fields.add("custom")
                    changed = True
        person.updated_at = timezone.now()
        return changed

    def _address(self, record: Record) -> dict[str, str]:
        return {"country": self.country, **record.address}

    def _tag(self, name: str) -> Tag:
        if name not in self.tags:
            self.tags[name], _created = Tag.objects.get_or_create(campaign=self.campaign, name=name)
        return self.tags[name]

    def _add_children(self, plans: list[Plan], *, people: dict[int, Person] | None = None) -> set[int]:
        """Emails, phones, address, tags, notes and consent events, skipping what a
        person already has (so a re-import adds nothing). Returns the ids of
        existing people that gained something."""
        ids = [plan.person_id for plan in plans]
        have = _Existing.load(ids) if people is not None else _Existing()
        writer = _ChildWriter(self.campaign, self.batch, have)
        for plan in plans:
            pid = plan.person_id
            assert pid is not None
            person = people[pid] if people is not None else None
            for record in plan.records:
                writer.add(
                    pid, record, self._address(record) if record.address else None, [self._tag(t) for t in record.tags]
                )
                for channel, granted in record.consents.items():
                    if person is None or _consent_applies(getattr(person, f"consent_{channel}"), granted):
                        writer.consent(pid, channel, granted, f"{self.detail}, {_('row')} {record.number}")
                        if person is not None:
                            setattr(person, f"consent_{channel}", granted)
        writer.save()
        return writer.gained


@dataclass
class _Existing:
    """What existing people already have, to add only what is new."""

    emails: set[tuple[int, str]] = field(default_factory=set)
    phones: set[tuple[int, str]] = field(default_factory=set)
    addressed: set[int] = field(default_factory=set)
    tags: set[tuple[int, int]] = field(default_factory=set)
    notes: set[tuple[int, str]] = field(default_factory=set)

    @classmethod
    def load(cls, ids: list[int | None]) -> _Existing:
        return cls(
            emails=set(PersonEmail.objects.filter(person_id__in=ids).values_list("person_id", "address")),
            phones=set(PersonPhone.objects.filter(person_id__in=ids).values_list("person_id", "number")),
            addressed=set(PostalAddress.objects.filter(person_id__in=ids).values_list("person_id", flat=True)),
            tags=set(Person.tags.through.objects.filter(person_id__in=ids).values_list("person_id", "tag_id")),
            notes=set(Note.objects.filter(person_id__in=ids).values_list("person_id", "text")),
        )


class _ChildWriter:
    """Collects the rows to insert for one chunk, as plain values (see core.bulk)."""

    def __init__(self, campaign: Any, batch: ImportBatch, have: _Existing) -> None:
        self.campaign_id, self.batch, self.have = campaign.pk, batch, have
        self.with_email = {pid for pid, _ in have.emails}
        self.rows: dict[type[models.Model], list[dict[str, Any]]] = {
            model: [] for model in (PersonEmail, PersonPhone, PostalAddress, Note, ConsentEvent, Person.tags.through)
        }
        self.gained: set[int] = set()

    def add(self, pid: int, record: Record, address: dict[str, str] | None, tags: list[Tag]) -> None:
        source, have = self.batch.source, self.have
        for email in record.emails:
            if (pid, email) not in have.emails:
                have.emails.add((pid, email))
                primary = pid not in self.with_email
                self.with_email.add(pid)
                self._new(PersonEmail, person_id=pid, address=email, is_primary=primary, source=source)
        for phone in record.phones:
            if (pid, phone.e164) not in have.phones:
                have.phones.add((pid, phone.e164))
                self._new(
                    PersonPhone,
                    person_id=pid,
                    number=phone.e164,
                    kind=phone.kind,
                    sms_capable=phone.sms_capable,
                    source=source,
                )
        if address and pid not in have.addressed:
            have.addressed.add(pid)
            self._new(PostalAddress, person_id=pid, source=source, **address)
        for tag in tags:
            if (pid, tag.pk) not in have.tags:
                have.tags.add((pid, tag.pk))
                self._new(Person.tags.through, person_id=pid, tag_id=tag.pk)
        if record.note and (pid, record.note) not in have.notes:
            have.notes.add((pid, record.note))
            self._new(Note, person_id=pid, text=record.note, author_id=self.batch.created_by_id)

    def consent(self, pid: int, channel: str, granted: bool, form: str) -> None:
        self._new(
            ConsentEvent,
            person_id=pid,
            channel=channel,
            granted=granted,
            source=self.batch.source,
            form=form,
            recorded_by_id=self.batch.created_by_id,
        )

    def _new(self, model: type[models.Model], **values: Any) -> None:
        if any(f.attname == "campaign_id" for f in model._meta.concrete_fields):
            values["campaign_id"] = self.campaign_id
        self.rows[model].append(values)
        self.gained.add(values["person_id"])

    def save(self) -> None:
        self._mark_suppressed()
        for model, rows in self.rows.items():
            insert_rows(model, rows)

    def _mark_suppressed(self) -> None:
        """An address or number on the suppression list comes in marked, never usable."""
        emails, phones = self.rows[PersonEmail], self.rows[PersonPhone]
        blocked_emails = suppressed_among(self.campaign_id, "email", [row["address"] for row in emails])
        blocked_phones = suppressed_among(self.campaign_id, "phone", [row["number"] for row in phones])
        for row in emails:
            if row["address"] in blocked_emails:
                row["status"] = PersonEmail.Status.SUPPRESSED
        for row in phones:
            row["suppressed"] = row["number"] in blocked_phones


def _consent_applies(current: bool | None, granted: bool) -> bool:
    """A file may record a first consent or a withdrawal, never re-grant after a withdrawal."""
    return (granted and current is None) or (not granted and current is not False)


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))
