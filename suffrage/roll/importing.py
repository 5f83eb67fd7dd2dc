"""Row handler for roll extracts: the official 2013 column list as a preset, any
town-hall export through a column mapping. Each import is a version of the roll
of one commune or constituency; when it finishes, the difference with the previous
version of the same scope is recorded (new electors, removed, moved)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.core.bulk import insert_rows
from suffrage.imports.models import ImportBatch, ImportRow
from suffrage.imports.pipeline import MappedRow, Verdict
from suffrage.roll.models import RollChange, RollEntry, RollVersion
from suffrage.territory.geometry import station_code, street_key
from suffrage.territory.models import PollingStation

TARGETS = [
    ("elector_number", gettext_lazy("Elector number")),
    ("list_type", gettext_lazy("List (main, EU complementary)")),
    ("sex", gettext_lazy("Sex")),
    ("birth_name", gettext_lazy("Birth name")),
    ("usage_name", gettext_lazy("Usage name")),
    ("first_names", gettext_lazy("First names")),
    ("birth_date", gettext_lazy("Birth date")),
    ("birth_place", gettext_lazy("Place of birth")),
    ("birth_departement", gettext_lazy("Département of birth")),
    ("birth_country", gettext_lazy("Country of birth")),
    ("nationality", gettext_lazy("Nationality")),
    ("departement", gettext_lazy("Département code")),
    ("commune_code", gettext_lazy("Commune code (INSEE)")),
    ("station_number", gettext_lazy("Polling station number")),
    ("complement", gettext_lazy("Address complement")),
    ("number", gettext_lazy("Street number")),
    ("street_type", gettext_lazy("Street type")),
    ("street", gettext_lazy("Street")),
    ("locality", gettext_lazy("Locality (lieu-dit)")),
    ("postcode", gettext_lazy("Postcode")),
    ("town", gettext_lazy("Town")),
]
REQUIRED_TARGETS = {"birth_name", "first_names", "station_number"}

# The 2013 transmission format (shared/DOMAIN.md): column -> target.
OFFICIAL_PRESET = {
    "TypeListe": "list_type",
    "CodeDepartement": "departement",
    "CodeCommune": "commune_code",
    "NoElecteurGeneral": "elector_number",
    "Sexe": "sex",
    "NomdeNaissance": "birth_name",
    "NomDusage": "usage_name",
    "Prenoms": "first_names",
    "DateDeNaissance": "birth_date",
    "NomComNaissance": "birth_place",
    "DeptNaissance": "birth_departement",
    "PaysNaissance": "birth_country",
    "Nationalite": "nationality",
    "NoBureauDeVote": "station_number",
    "ComplementDeLocalisation1": "complement",
    "ComplementDeLocalisation2": "complement",
    "NumeroVoie": "number",
    "TypeVoie": "street_type",
    "LibelleVoie": "street",
    "LieuDit": "locality",
    "CodePostal": "postcode",
    "VilleLocalite": "town",
}


def official_mapping(headers: list[str]) -> list[str]:
    """The preset's targets for these headers ("" for columns it leaves out)."""
    known = {column.lower(): target for column, target in OFFICIAL_PRESET.items()}
    return [known.get(header.strip().lower(), "") for header in headers]


def is_synthetic(headers: list[str], preview: list[list[str]]) -> bool:
    """Whether the file says it is synthetic in its InfoListe column."""
    lowered = [header.strip().lower() for header in headers]
    if "infoliste" not in lowered:
        return False
    column = lowered.index("infoliste")
    return any(len(row) > column and "synth" in row[column].lower() for row in preview)


class RowProblem(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_birth_date(text: str) -> tuple[int | None, int | None, int | None, str]:
    """(year, month, day, problem). Rolls write unknown parts as zeros ("00/00/1950");
    a date that cannot exist keeps only what is certain and says why."""
    parts = text.replace("-", "/").replace(".", "/").split("/")
    if not text.strip():
        return None, None, None, ""
    if len(parts) != 3 or not all(part.strip().isdigit() for part in parts):
        return None, None, None, _("%(value)s is not a date: the roll writes DD/MM/YYYY.") % {"value": text}
    day, month, year = (int(part) for part in parts)
    if len(parts[2].strip()) != 4 or not 1880 <= year <= datetime.date.today().year:
        return (
            None,
            None,
            None,
            _("%(value)s has no plausible year: the entry is kept without birth date.") % {"value": text},
        )
    if day == 0 and month == 0:
        return year, None, None, ""
    if month > 12 and 1 <= day <= 12:
        return (
            year,
            None,
            None,
            _("%(value)s: there is no month %(month)s; day and month may be swapped. Only the year is kept.")
            % {
                "value": text,
                "month": month,
            },
        )
    try:
        datetime.date(year, month, day)
    except ValueError:
        return year, None, None, _("%(value)s is not a date that exists: only the year is kept.") % {"value": text}
    return year, month, day, ""


class RollImporter:
    uses_mapping = True
    chunk_rows = 5000

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.settings = batch.settings
        self.version = RollVersion.objects.filter(batch=batch).first()
        # Elector numbers seen in this file, with their row: a second listing is skipped.
        self.seen: dict[str, int] = {}
        if self.version:
            self.seen = {
                number: 0
                for number in self.version.entries.exclude(elector_number="").values_list("elector_number", flat=True)
            }
        self.stations: dict[str, int | None] = {}
        # The file's column for each target, to name it in messages even when the cell is empty.
        self.column_of = {
            target: header for header, target in zip(batch.headers, batch.mapping, strict=False) if target
        }

    def _version(self) -> RollVersion:
        if self.version is None or not RollVersion.objects.filter(pk=self.version.pk).exists():
            previous = (
                RollVersion.objects.filter(
                    campaign=self.batch.campaign,
                    election_id=self.settings["election_id"],
                    scope=self.settings["scope"],
                    extracted_on__lte=self.settings["extracted_on"],
                )
                .exclude(batch=self.batch)
                .first()
            )
            self.version = RollVersion.objects.create(
                campaign=self.batch.campaign,
                election_id=self.settings["election_id"],
                scope=self.settings["scope"],
                extracted_on=self.settings["extracted_on"],
                is_synthetic=bool(self.settings.get("synthetic")),
                batch=self.batch,
                previous=previous,
            )
        return self.version

    def process(self, rows: list[MappedRow]) -> list[Verdict]:
        version = self._version()
        entries: list[dict[str, Any]] = []
        verdicts: list[Verdict] = []
        for row in rows:
            try:
                entry, warnings = self._entry(row)
            except RowProblem as problem:
                field = self.column_of.get(problem.field, problem.field)
                verdicts.append(
                    Verdict(ImportRow.Verdict.REJECTED, messages=[{"field": field, "message": str(problem)}])
                )
                continue
            number = entry["elector_number"]
            if number and number in self.seen:
                skipped = _("Elector %(number)s is already listed (row %(row)s): this row is skipped.") % {
                    "number": number,
                    "row": self.seen[number] or _("of an earlier run"),
                }
                field = self.column_of.get("elector_number", "")
                verdicts.append(Verdict(ImportRow.Verdict.SKIPPED, messages=[{"field": field, "message": skipped}]))
                continue
            if number:
                self.seen[number] = row.number
            entries.append({**entry, "campaign_id": version.campaign_id, "version_id": version.pk})
            verdicts.append(Verdict(ImportRow.Verdict.CREATED, messages=warnings))
        insert_rows(RollEntry, entries)
        return verdicts

    def _entry(self, row: MappedRow) -> tuple[dict[str, Any], list[dict[str, str]]]:
        values = {key: " ".join(value.split()) for key, value in row.values.items()}
        warnings: list[dict[str, str]] = []
        for target, label in (("birth_name", _("birth name")), ("first_names", _("first names"))):
            if not values.get(target):
                raise RowProblem(target, _("The %(field)s is missing.") % {"field": label})
        year, month, day, problem = parse_birth_date(values.get("birth_date", ""))
        if problem:
            warnings.append({"field": self.column_of.get("birth_date", ""), "message": problem})
        station, station_problem = self._station(values)
        if station_problem:
            warnings.append({"field": self.column_of.get("station_number", ""), "message": station_problem})
        street = " ".join(part for part in (values.get("street_type", ""), values.get("street", "")) if part)
        street = street or values.get("locality", "")
        place = values.get("birth_place", "")
        if values.get("birth_departement"):
            place = f"{place} ({values['birth_departement']})"
        return {
            "elector_number": values.get("elector_number", "")[:30],
            "list_type": values.get("list_type", "")[:10],
            "sex": values.get("sex", "")[:1].upper(),
            "birth_name": values["birth_name"][:150],
            "usage_name": values.get("usage_name", "")[:150],
            "first_names": values["first_names"][:200],
            "birth_year": year,
            "birth_month": month,
            "birth_day": day,
            "birth_place": place[:150],
            "birth_country": values.get("birth_country", "")[:100],
            "nationality": values.get("nationality", "")[:100],
            "station_id": self.stations.get(station) if station else None,
            "station_code": station,
            "number": values.get("number", "")[:20],
            "street": street[:200],
            "complement": values.get("complement", "")[:200],
            "postcode": values.get("postcode", "")[:10],
            "town": values.get("town", "")[:100],
            "street_key": street_key(street)[:200],
        }, warnings

    def _station(self, values: dict[str, str]) -> tuple[str, str]:
        """The national code of the entry's polling station, and a warning when the
        territory does not know it (the entry is kept without a station)."""
        number = values.get("station_number", "")
        if not number:
            raise RowProblem("station_number", _("The polling station number is missing."))
        commune = values.get("commune_code") or self.settings.get("commune_code", "")
        if len(commune) == 3 and values.get("departement"):
            commune = values["departement"].zfill(2) + commune
        if not commune:
            raise RowProblem("commune_code", _("The commune code is missing: map a column to it."))
        code = station_code(commune, number)
        if code not in self.stations:
            self.stations[code] = PollingStation.objects.filter(code=code).values_list("pk", flat=True).first()
        if self.stations[code] is None:
            message = _(
                "Polling station %(code)s is not known: import its boundaries or results. "
                "The entry is kept without a station."
            )
            return code, message % {"code": code}
        return code, ""

    def finish(self) -> None:
        if self.version is None:
            return
        version = RollVersion.objects.get(pk=self.version.pk)
        with transaction.atomic():
            version.entry_count = version.entries.count()
            version.changes = roll_diff(version)
            version.save(update_fields=["entry_count", "changes"])


def _entry_keys(version: RollVersion) -> dict[tuple[Any, ...], tuple[int, str]]:
    """Entry key -> (id, station code). The elector number when the roll gives one,
    otherwise names and birth date."""
    keys: dict[tuple[Any, ...], tuple[int, str]] = {}
    fields = ("pk", "elector_number", "birth_name", "first_names", "birth_year", "birth_month", "birth_day")
    for pk, number, *identity, station in version.entries.values_list(*fields, "station_code").iterator():
        keys[("n", number) if number else ("i", *identity)] = (pk, station)
    return keys


def roll_diff(version: RollVersion) -> dict[str, int]:
    """Record and count new, removed and moved electors against the previous version."""
    version.change_rows.all().delete()
    if version.previous is None:
        return {}
    current, previous = _entry_keys(version), _entry_keys(version.previous)
    changes: list[dict[str, Any]] = []
    for key, (pk, station) in current.items():
        before = previous.get(key)
        if before is None:
            changes.append({"kind": RollChange.Kind.NEW, "entry_id": pk, "previous_entry_id": None})
        elif before[1] != station:
            changes.append({"kind": RollChange.Kind.MOVED, "entry_id": pk, "previous_entry_id": before[0]})
    for key, (pk, _station) in previous.items():
        if key not in current:
            changes.append({"kind": RollChange.Kind.REMOVED, "entry_id": None, "previous_entry_id": pk})
    insert_rows(RollChange, [{**change, "version_id": version.pk} for change in changes])
    counts = {kind: 0 for kind in RollChange.Kind.values}
    for change in changes:
        counts[change["kind"]] += 1
    return counts
