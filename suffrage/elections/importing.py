"""Row handler for official results files: rows are read whole by the format's
parser (parsers.py), checked against the arithmetic invariants, and stored as
results of one round. Rows that break an invariant are rejected with the figures,
never loaded silently."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from suffrage.core.bulk import insert_rows
from suffrage.elections import parsers
from suffrage.elections.models import CandidateVotes, Election, Round, StationResult
from suffrage.imports.models import ImportBatch, ImportRow
from suffrage.imports.pipeline import MappedRow, Verdict
from suffrage.territory.models import CampaignCommune, Commune, PollingStation, departement_of

FIGURES = ("registered", "voters", "abstentions", "blank", "null", "valid")


def round_for(batch: ImportBatch) -> Round:
    """The round a results batch is about, from the election the user described at upload."""
    settings = batch.settings
    election, _created = Election.objects.get_or_create(
        kind=settings["kind"], year=settings["year"], name=settings["name"]
    )
    date = datetime.date.fromisoformat(settings["date"]) if settings.get("date") else None
    round_, _created = Round.objects.get_or_create(election=election, number=settings["round"], defaults={"date": date})
    return round_


# Long formats (one row per candidate) group a precinct's rows from anywhere in the
# file: those files are read in one chunk (a state's file is a few thousand rows).
WHOLE_FILE_FORMATS = {"openelections"}


class ResultsImporter:
    uses_mapping = False

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.format = parsers.detect_format(batch.headers)
        self.chunk_rows = 10**9 if self.format.key in WHOLE_FILE_FORMATS else None
        self.round = round_for(batch)
        self.known_communes: set[str] = set()
        self.seen: dict[str, int] = {}  # station code → the row that gave its result
        self.office: str | None = None  # long formats: the one office this round is about

    def process(self, rows: list[MappedRow]) -> list[Verdict]:
        verdicts: dict[int, Verdict] = {}
        results: list[parsers.StationResult] = []
        for item in parsers.parse_results(
            self.batch.headers, [(row.number, row.cells) for row in rows], fmt=self.format
        ):
            if isinstance(item, parsers.RowProblem):
                verdicts[item.row] = _rejected([item])
            elif problems := parsers.check_invariants(item):
                verdicts[item.row] = _rejected(problems)
            elif self.office is not None and item.office != self.office:
                message = _("This file mixes offices (%(first)s, %(other)s): import one office per election round.") % {
                    "first": self.office,
                    "other": item.office,
                }
                verdicts[item.row] = _rejected([parsers.RowProblem(item.row, "office", message)])
            elif item.station_code in self.seen:
                message = _("Polling station %(code)s already appears on row %(row)s.") % {
                    "code": item.station_code,
                    "row": self.seen[item.station_code],
                }
                verdicts[item.row] = _rejected([parsers.RowProblem(item.row, _("polling station"), message)])
            else:
                self.seen[item.station_code] = item.row
                self.office = item.office
                results.append(item)
        stations = self._stations(results)
        verdicts.update(self._store(results, stations))
        # Rows folded into another row's result (one precinct over several rows in long formats).
        return [verdicts.get(row.number, Verdict(ImportRow.Verdict.MERGED)) for row in rows]

    def _stations(self, results: list[parsers.StationResult]) -> dict[str, PollingStation]:
        """Polling stations by code, created (with their commune) when results name new ones."""
        self._communes({r.commune_code: r.commune_name for r in results if r.commune_code not in self.known_communes})
        codes = {result.station_code for result in results}
        stations = {station.code: station for station in PollingStation.objects.filter(code__in=codes)}
        communes = dict(Commune.objects.filter(code__in={r.commune_code for r in results}).values_list("code", "pk"))
        missing = [
            PollingStation(code=r.station_code, commune_id=communes[r.commune_code], number=r.station_number)
            for r in {r.station_code: r for r in results if r.station_code not in stations}.values()
        ]
        PollingStation.objects.bulk_create(missing, ignore_conflicts=True)
        if missing:
            stations.update({s.code: s for s in PollingStation.objects.filter(code__in=[m.code for m in missing])})
        self._constituencies(results, stations)
        return stations

    @staticmethod
    def _constituencies(results: list[parsers.StationResult], stations: dict[str, PollingStation]) -> None:
        """Legislative files say which constituency each station votes in: segments target by it."""
        changed = []
        for result in results:
            station = stations.get(result.station_code)
            if station and result.constituency and station.constituency != result.constituency[:20]:
                station.constituency = result.constituency[:20]
                changed.append(station)
        PollingStation.objects.bulk_update(changed, ["constituency"], batch_size=1000)

    def _communes(self, names: dict[str, str]) -> None:
        """Create the communes a chunk names for the first time and add them to the campaign."""
        if not names:
            return
        existing = dict(Commune.objects.filter(code__in=names).values_list("code", "name"))
        Commune.objects.bulk_create(
            [
                Commune(code=code, name=name, departement=departement_of(code))
                for code, name in names.items()
                if code not in existing
            ],
            ignore_conflicts=True,
        )
        for code, name in existing.items():
            if name == code and names[code]:
                # Created by a boundaries file, which carries no name: results do.
                Commune.objects.filter(code=code).update(name=names[code])
        ids = Commune.objects.filter(code__in=names).values_list("pk", flat=True)
        CampaignCommune.objects.bulk_create(
            [CampaignCommune(campaign=self.batch.campaign, commune_id=pk) for pk in ids], ignore_conflicts=True
        )
        self.known_communes.update(names)

    def _store(self, results: list[parsers.StationResult], stations: dict[str, PollingStation]) -> dict[int, Verdict]:
        existing = {
            r.station_id: r
            for r in StationResult.objects.filter(round=self.round, station__in=stations.values()).prefetch_related(
                "candidates"
            )
        }
        verdicts: dict[int, Verdict] = {}
        new: list[StationResult] = []
        replaced: list[StationResult] = []
        for result in results:
            station = stations[result.station_code]
            figures = {name: getattr(result, name) for name in FIGURES}
            current = existing.get(station.pk)
            if current is None:
                new.append(StationResult(round=self.round, station=station, **figures))
                verdicts[result.row] = Verdict(ImportRow.Verdict.CREATED)
            elif _same(current, figures, result.candidates):
                verdicts[result.row] = Verdict(ImportRow.Verdict.SKIPPED)
            else:
                for name, value in figures.items():
                    setattr(current, name, value)
                replaced.append(current)
                verdicts[result.row] = Verdict(ImportRow.Verdict.UPDATED)
        StationResult.objects.bulk_create(new)
        if replaced:
            StationResult.objects.bulk_update(replaced, list(FIGURES))
            CandidateVotes.objects.filter(result__in=replaced).delete()
        by_station = {r.station_id: r for r in [*new, *replaced]}
        insert_rows(
            CandidateVotes,
            [
                _candidate(by_station[stations[result.station_code].pk].pk, candidate)
                for result in results
                if stations[result.station_code].pk in by_station
                for candidate in result.candidates
            ],
        )
        return verdicts


def _same(current: StationResult, figures: dict[str, Any], candidates: tuple[parsers.CandidateResult, ...]) -> bool:
    if any(getattr(current, name) != value for name, value in figures.items()):
        return False
    stored = sorted((c.nuance, c.name, c.votes) for c in current.candidates.all())
    return stored == sorted((c.nuance, c.name, c.votes) for c in candidates)


def _candidate(result_id: int, candidate: parsers.CandidateResult) -> dict[str, Any]:
    return {
        "result_id": result_id,
        "panel": candidate.panel,
        "nuance": candidate.nuance,
        "name": candidate.name,
        "first_name": candidate.first_name,
        "votes": candidate.votes,
        "elected": candidate.elected,
    }


def _rejected(problems: list[parsers.RowProblem]) -> Verdict:
    return Verdict(ImportRow.Verdict.REJECTED, messages=[{"field": p.field, "message": p.message} for p in problems])
