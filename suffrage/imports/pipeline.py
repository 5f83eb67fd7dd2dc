"""The generic import run: read, map, hand chunks to the kind's row handler,
record a verdict per row. Dry runs take the same path and roll back.

Guarantees:
- file-level problems (encoding, a 50 MB line, too many rows) are found by a
  first reading pass, before anything is written;
- each chunk is one transaction holding its people *and* its verdicts, so a
  killed run resumes after the last committed chunk and nothing is half-applied;
- every row ends with a verdict, and the counts add up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from suffrage.core.bulk import insert_rows
from suffrage.core.jobs import JobProgress
from suffrage.imports import presets
from suffrage.imports.models import ImportBatch, ImportRow
from suffrage.imports.readers import FileSniff, ImportFileError, ImportLimits, iter_rows

CHUNK_ROWS = 1000

# The permission a member needs to import each kind of file.
KIND_PERMISSIONS = {
    "people": "people.import_people",
    "results": "territory.import_territory",
    "address_points": "territory.import_territory",
    "census": "territory.import_territory",
    "roll": "roll.import_roll",
    "social": "people.import_people",
}

HANDLERS = {
    "people": "suffrage.people.importing.PeopleImporter",
    "results": "suffrage.elections.importing.ResultsImporter",
    "address_points": "suffrage.territory.importing.AddressPointsImporter",
    "census": "suffrage.territory.census.CensusImporter",
    "roll": "suffrage.roll.importing.RollImporter",
    "social": "suffrage.social.importing.SocialImporter",
}


def import_limits() -> ImportLimits:
    return ImportLimits(**getattr(settings, "IMPORT_LIMITS", {}))


@dataclass
class Verdict:
    verdict: str
    person_id: int | None = None
    messages: list[dict[str, str]] = field(default_factory=list)


@dataclass
class MappedRow:
    number: int
    values: dict[str, str]  # target → raw cell
    columns: dict[str, str]  # target → column header (for messages)
    cells: list[str] = field(default_factory=list)  # the row as read, for handlers that parse it themselves


class RowHandler(Protocol):
    # False for kinds whose rows a format parser reads whole (official results files):
    # rows then reach process() unmapped, with their cells.
    uses_mapping: bool
    # Rows per transaction when the default does not suit (a long format grouping rows
    # across the whole file reads it in one chunk).
    chunk_rows: int | None

    def __init__(self, batch: ImportBatch) -> None: ...

    def process(self, rows: list[MappedRow]) -> list[Verdict]: ...

    # Optionally, `finish()`: called once after a real (not dry) run has processed every row.


def handler_for(batch: ImportBatch) -> RowHandler:
    module, name = HANDLERS[batch.kind].rsplit(".", 1)
    handler: RowHandler = getattr(import_module(module), name)(batch)
    return handler


def sniffed(batch: ImportBatch) -> FileSniff:
    return FileSniff(
        format=batch.format,
        encoding=batch.encoding,
        delimiter=batch.delimiter,
        headers=batch.headers,
        preview=[],
    )


def _mapped(batch: ImportBatch, number: int, cells: list[str]) -> MappedRow | Verdict:
    if len(cells) != len(batch.headers):
        message = _("This row has %(found)s cells but the header has %(expected)s: check separators and quotes.") % {
            "found": len(cells),
            "expected": len(batch.headers),
        }
        return Verdict(ImportRow.Verdict.REJECTED, messages=[{"field": "", "message": message}])
    if batch.kind == "people" and batch.settings.get("preset") in presets.PRESETS:
        # Another tool's export (NationBuilder, CiviCRM…): its preset converts values as it maps them.
        converted, sources, problems = presets.converted_row(batch, cells)
        if problems:
            return Verdict(ImportRow.Verdict.REJECTED, messages=problems)
        return MappedRow(number, converted, sources)
    values: dict[str, str] = {}
    columns: dict[str, str] = {}
    for header, target, cell in zip(batch.headers, batch.mapping, cells, strict=True):
        if target and cell:
            values[target] = f"{values[target]},{cell}" if target == "tags" and target in values else cell
            columns[target] = header
    return MappedRow(number, values, columns)


def count_rows(batch: ImportBatch) -> int:
    """The first pass: reads the whole file, so file-level errors stop us before any write."""
    path = Path(batch.file.path)
    return sum(1 for _ in iter_rows(path, sniffed=sniffed(batch), limits=import_limits()))


def _chunks(batch: ImportBatch, start_after: int, size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for number, cells in iter_rows(Path(batch.file.path), sniffed=sniffed(batch), limits=import_limits()):
        if number <= start_after:
            continue
        chunk.append((number, cells))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _DryRunRollback(Exception):
    pass


def _process_chunk(
    batch: ImportBatch, handler: RowHandler, chunk: list[tuple[int, list[str]]]
) -> list[tuple[int, Verdict]]:
    results: list[tuple[int, Verdict | None]] = []
    rows: list[MappedRow] = []
    for number, cells in chunk:
        mapped = _mapped(batch, number, cells) if handler.uses_mapping else MappedRow(number, {}, {}, cells)
        if isinstance(mapped, Verdict):
            results.append((number, mapped))
        else:
            results.append((number, None))
            rows.append(mapped)
    handled = iter(handler.process(rows))
    return [(number, verdict or next(handled)) for number, verdict in results]


def _report(progress: JobProgress, number: int, verdict: Verdict) -> None:
    for message in verdict.messages:
        progress.error(message["message"], row=number, field=message.get("field") or None)
    progress.advance(**{verdict.verdict: 1})


def pipeline_run(batch: ImportBatch, progress: JobProgress, *, dry_run: bool) -> dict[str, Any]:
    """Run (or dry-run) the batch; returns the counts per verdict."""
    progress.reset()
    try:
        progress.set_total(count_rows(batch))
    except ImportFileError as error:
        progress.error(str(error))
        raise
    done_until = 0 if dry_run else batch.rows.aggregate(last=Max("row_number"))["last"] or 0
    if done_until:
        # Resuming: count what earlier attempts already decided, problems included.
        for row in batch.rows.values("row_number", "verdict", "messages").iterator():
            _report(progress, row["row_number"], Verdict(row["verdict"], messages=row["messages"]))
    handler = handler_for(batch)
    for chunk in _chunks(batch, done_until, getattr(handler, "chunk_rows", None) or CHUNK_ROWS):
        try:
            with transaction.atomic():
                verdicts = _process_chunk(batch, handler, chunk)
                if dry_run:
                    raise _DryRunRollback
                insert_rows(
                    ImportRow,
                    [
                        {
                            "batch_id": batch.pk,
                            "row_number": n,
                            "verdict": v.verdict,
                            "person_id": v.person_id,
                            "messages": v.messages,
                        }
                        for n, v in verdicts
                    ],
                )
        except _DryRunRollback:
            pass
        for number, verdict in verdicts:
            _report(progress, number, verdict)
    if not dry_run and hasattr(handler, "finish"):
        handler.finish()
    progress.flush()
    return progress.summary()
