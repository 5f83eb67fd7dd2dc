"""Reading uploaded CSV and XLSX files without trusting them.

An uploaded file may be huge, mis-encoded, or built to exhaust memory (one
50 MB line, a zip bomb, an XML entity bomb). Everything here reads in bounded
memory and turns every problem with the whole file into `ImportFileError`,
whose message is shown to the user as-is. Problems with one row (wrong number
of cells, a bad email) are the caller's: rows are yielded as found.

Row numbers are spreadsheet rows: the header is row 1, the first data row is
row 2, and a CSV record with a quoted line break still counts as one row.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import math
import re
import zipfile
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from itertools import count, islice
from pathlib import Path
from typing import Any, TextIO, TypeVar

import openpyxl
from defusedxml.common import DefusedXmlException
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

Records = Generator[tuple[int, list[str]], None, None]
T = TypeVar("T")

MEGABYTE = 1024 * 1024
FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx"}
DELIMITERS = (";", ",", "\t", "|")  # on a tie the earliest wins: French Excel writes ";"
SAMPLE_BYTES = MEGABYTE
ZIP_MAGIC = b"PK\x03\x04"
# Bytes the chosen encoding could not decode come back as lone surrogates
# (errors="surrogateescape"), so we can name the exact row that holds them.
UNDECODABLE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int = 200 * MEGABYTE  # file size on disk
    max_rows: int = 2_000_000  # data rows (header excluded)
    max_columns: int = 200
    max_cell_chars: int = 10_000  # longest cell accepted
    max_xlsx_uncompressed: int = 500 * MEGABYTE  # total uncompressed size of an xlsx zip
    max_xlsx_ratio: int = 100  # max compression ratio of any zip member


DEFAULT_LIMITS = ImportLimits()


class ImportFileError(Exception):
    """A problem with the whole file: the import must not start. str(exc) is a clear, user-facing message."""


@dataclass(frozen=True)
class FileSniff:
    format: str  # "csv" or "xlsx"
    encoding: str  # "utf-8", "utf-8-sig" (BOM) or "cp1252"; "" for xlsx
    delimiter: str  # one of ";", ",", "\t", "|"; "" for xlsx
    headers: list[str]  # header row, cells stripped
    preview: list[list[str]]  # first data rows (at most `preview_rows`), as strings


def sniff(path: Path, *, filename: str, limits: ImportLimits = DEFAULT_LIMITS, preview_rows: int = 10) -> FileSniff:
    """Work out how to read the file, and read its header and first rows. Raises ImportFileError."""
    file_format = _format_from_filename(filename)
    _check_size(path, limits)
    encoding = delimiter = ""
    if file_format == "csv":
        encoding, delimiter = _csv_dialect(path)
    else:
        _check_xlsx_container(path, limits)
    with closing(_records(path, file_format, encoding, delimiter, limits)) as records:
        headers = _read_headers(records, file_format, limits)
        preview = list(islice(_data_rows(records, len(headers), file_format, limits), preview_rows))
    return FileSniff(
        format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        headers=headers,
        preview=[cells for _, cells in preview],
    )


def iter_rows(
    path: Path, *, sniffed: FileSniff, limits: ImportLimits = DEFAULT_LIMITS
) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, stripped cells) for each non-blank data row. Raises ImportFileError.

    The checks are repeated because the reading may happen in another process,
    long after `sniff`, on whatever is now stored at `path`.
    """
    _check_size(path, limits)
    if sniffed.format == "xlsx":
        _check_xlsx_container(path, limits)
    records = _records(path, sniffed.format, sniffed.encoding, sniffed.delimiter, limits)
    with closing(records):
        headers = _read_headers(records, sniffed.format, limits)
        if headers != sniffed.headers:
            raise ImportFileError(_("The file has changed since it was uploaded: its columns are not the same."))
        yield from _data_rows(records, len(headers), sniffed.format, limits)


# --- Shared by both formats -------------------------------------------------


def _format_from_filename(filename: str) -> str:
    file_format = FORMATS.get(Path(filename).suffix.lower())
    if file_format is None:
        raise ImportFileError(
            _("%(name)s is not a supported file: upload a CSV (.csv, .txt) or Excel (.xlsx) file.")
            % {"name": value_shown(Path(filename).name)}
        )
    return file_format


def _check_size(path: Path, limits: ImportLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ImportFileError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": megabytes_shown(size), "limit": megabytes_shown(limits.max_bytes)}
        )


def _records(path: Path, file_format: str, encoding: str, delimiter: str, limits: ImportLimits) -> Records:
    if file_format == "xlsx":
        return _xlsx_records(path)
    return _csv_records(path, encoding, delimiter, limits)


def _read_headers(records: Iterator[tuple[int, list[str]]], file_format: str, limits: ImportLimits) -> list[str]:
    first = next(records, None)
    if first is None:
        raise ImportFileError(_("The file is empty."))
    row_number, headers = first
    if file_format == "xlsx":
        # Formatting often stretches a sheet's used range past the last named column.
        headers = _without_trailing_blanks(headers)
    if not any(headers):
        raise ImportFileError(_("The first row is empty: it must hold the column names."))
    if len(headers) > limits.max_columns:
        raise ImportFileError(
            _("The file has %(count)s columns; the limit is %(limit)s.")
            % {"count": number_shown(len(headers)), "limit": number_shown(limits.max_columns)}
        )
    _check_cell_lengths(row_number, headers, limits)
    _check_distinct(headers)
    return headers


def _check_distinct(headers: list[str]) -> None:
    # Case-insensitive, because columns are matched to fields (and presets) ignoring case.
    # Unnamed columns are allowed, and are simply left unmapped.
    seen: dict[str, str] = {}
    repeated: dict[str, str] = {}
    for name in filter(None, headers):
        if name.casefold() in seen:
            repeated.setdefault(name.casefold(), seen[name.casefold()])
        seen.setdefault(name.casefold(), name)
    if repeated:
        raise ImportFileError(
            _("These column names appear more than once: %(names)s. Each column needs its own name.")
            % {"names": ", ".join(value_shown(name) for name in repeated.values())}
        )


def _data_rows(
    records: Iterator[tuple[int, list[str]]], width: int, file_format: str, limits: ImportLimits
) -> Iterator[tuple[int, list[str]]]:
    data_rows = 0
    for row_number, cells in records:
        if not any(cells):
            continue
        data_rows += 1
        if data_rows > limits.max_rows:
            raise ImportFileError(
                _("The file has more than %(limit)s rows: split it into smaller files.")
                % {"limit": number_shown(limits.max_rows)}
            )
        _check_cell_lengths(row_number, cells, limits)
        yield row_number, _fit_to_width(cells, width) if file_format == "xlsx" else cells


def _check_cell_lengths(row_number: int, cells: list[str], limits: ImportLimits) -> None:
    longest = max(map(len, cells), default=0)
    if longest > limits.max_cell_chars:
        raise ImportFileError(
            _("Row %(row)s has a cell of %(length)s characters; the limit is %(limit)s.")
            % {
                "row": number_shown(row_number),
                "length": number_shown(longest),
                "limit": number_shown(limits.max_cell_chars),
            }
        )


# --- CSV --------------------------------------------------------------------


def _csv_dialect(path: Path) -> tuple[str, str]:
    """The encoding and the delimiter, guessed from the start of the file."""
    with path.open("rb") as stream:
        sample = stream.read(SAMPLE_BYTES)
        complete = not stream.read(1)
    if not sample:
        raise ImportFileError(_("The file is empty."))
    if b"\x00" in sample:
        raise ImportFileError(_("This is a binary file, not CSV: save the spreadsheet as CSV or .xlsx and try again."))
    encoding = _csv_encoding(sample, complete=complete)
    return encoding, _csv_delimiter(sample.decode(encoding, errors="replace"))


def _csv_encoding(sample: bytes, *, complete: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # Incremental, so that a character cut in two at the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        return "cp1252"  # what Excel writes on French Windows when asked for plain "CSV"
    return "utf-8"


def _csv_delimiter(text: str) -> str:
    """The candidate seen most often in the header line, outside quotes; "," if there is none."""
    counts = dict.fromkeys(DELIMITERS, 0)
    in_quotes = False
    for char in text:
        if char == '"':
            in_quotes = not in_quotes
        elif in_quotes:
            continue
        elif char in "\r\n":
            break
        elif char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def _csv_records(path: Path, encoding: str, delimiter: str, limits: ImportLimits) -> Records:
    """Every record, blank ones included, with its row number and stripped cells."""
    record_cap = _record_cap(limits)
    # The csv module has its own, process-wide, cap on a field; ours is the one that
    # decides, so make sure theirs never fires first. Raising it is harmless: the
    # lines we feed it are bounded.
    if csv.field_size_limit() < record_cap:
        csv.field_size_limit(record_cap)
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as stream:
        lines = _BoundedLines(stream, record_cap, limits.max_cell_chars)
        reader = csv.reader(lines, delimiter=delimiter)
        for row_number in count(1):
            lines.start_record(row_number)
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(
                    _("Row %(row)s could not be read: %(error)s.") % {"row": number_shown(row_number), "error": error}
                ) from error
            yield row_number, [cell.strip() for cell in cells]


def _record_cap(limits: ImportLimits) -> int:
    # The longest record a valid file can hold: every cell full, every character a
    # doubled quote, plus quotes and delimiter.
    return limits.max_columns * (2 * limits.max_cell_chars + 3)


class _BoundedLines:
    """Feeds csv.reader one physical line at a time and stops any record that grows
    past `cap` characters, so a 50 MB line (or an unclosed quote that swallows the
    rest of the file) is refused without being held in memory."""

    def __init__(self, stream: TextIO, cap: int, max_cell_chars: int) -> None:
        self.stream = stream
        self.cap = cap
        self.max_cell_chars = max_cell_chars
        self.remaining = cap
        self.row_number = 0

    def start_record(self, row_number: int) -> None:
        self.row_number = row_number
        self.remaining = self.cap

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.stream.readline(self.remaining + 1)
        if not line:
            raise StopIteration
        if len(line) > self.remaining:
            raise ImportFileError(
                _(
                    "Row %(row)s is longer than %(length)s characters, but a cell may hold at most %(limit)s: "
                    "check for a quote that is never closed."
                )
                % {
                    "row": number_shown(self.row_number),
                    "length": number_shown(self.cap),
                    "limit": number_shown(self.max_cell_chars),
                }
            )
        self.remaining -= len(line)
        if "\x00" in line:
            raise ImportFileError(
                _("Row %(row)s holds binary data, not text: this does not look like a CSV file.")
                % {"row": number_shown(self.row_number)}
            )
        if UNDECODABLE.search(line):
            raise ImportFileError(
                _(
                    "Row %(row)s has characters that cannot be read in the file's encoding (%(encoding)s): "
                    "save the file as CSV UTF-8 and try again."
                )
                % {"row": number_shown(self.row_number), "encoding": self.stream.encoding}
            )
        return line


# --- XLSX -------------------------------------------------------------------


def _check_xlsx_container(path: Path, limits: ImportLimits) -> None:
    """Refuse anything that is not a zip, or would expand to far more than it weighs.

    The sizes checked are the ones the zip declares; zipfile never inflates a member
    past its declared size, so a lying header cannot get around them.
    """
    with path.open("rb") as stream:
        magic = stream.read(len(ZIP_MAGIC))
    if magic != ZIP_MAGIC:
        raise ImportFileError(_not_xlsx())
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise ImportFileError(_not_xlsx()) from error
    if sum(member.file_size for member in members) > limits.max_xlsx_uncompressed:
        raise ImportFileError(
            _("The spreadsheet expands to more than %(limit)s MB when opened: it cannot be imported safely.")
            % {"limit": megabytes_shown(limits.max_xlsx_uncompressed)}
        )
    for member in members:
        if member.file_size / max(member.compress_size, 1) > limits.max_xlsx_ratio:
            raise ImportFileError(
                _("The spreadsheet could not be read safely: %(part)s is compressed suspiciously well (a zip bomb?).")
                % {"part": value_shown(member.filename)}
            )


def _not_xlsx() -> str:
    return _("This is not a valid .xlsx spreadsheet: open it in your spreadsheet software and save it as .xlsx or CSV.")


def _xlsx_records(path: Path) -> Records:
    """Every row of the first worksheet, blank ones included, with its row number."""
    # A file object, not the path: openpyxl refuses paths whose name does not end in
    # .xlsx, and stored uploads may be named otherwise.
    with path.open("rb") as stream:
        workbook = _guarded(lambda: openpyxl.load_workbook(stream, read_only=True, data_only=True))
        try:
            rows = _guarded(lambda: _first_worksheet(workbook).iter_rows(values_only=True))
            for row_number in count(1):
                # Only the parsing is guarded, never the yield: an error raised by the
                # consumer must not be reported as a broken spreadsheet.
                values = _guarded(lambda: next(rows, None))
                if values is None:
                    return
                yield row_number, [_cell_text(value) for value in values]
        finally:
            workbook.close()


def _first_worksheet(workbook: Any) -> Any:
    sheet = workbook.active
    if not isinstance(sheet, ReadOnlyWorksheet):  # the active sheet may be a chart
        sheet = next(iter(workbook.worksheets), None)
    if sheet is None:
        raise ImportFileError(_("The spreadsheet has no worksheet."))
    # The used range a file declares can be wrong either way: too small cuts data
    # off, too large pads every row to thousands of cells. Read what is there.
    sheet.reset_dimensions()
    return sheet


def _guarded(parse: Callable[[], T]) -> T:
    """Run a piece of openpyxl parsing, turning whatever a hostile file makes it raise
    into ImportFileError.

    Any exception, on purpose: a crafted file can reach many error paths in openpyxl
    (KeyError for a missing part, defusedxml's EntitiesForbidden for an entity bomb,
    ParseError, zlib errors, ValueError...), and each means the same to the user.
    """
    try:
        return parse()
    except ImportFileError:
        raise
    except Exception as error:
        raise _unreadable_spreadsheet(error) from error


def _unreadable_spreadsheet(error: BaseException) -> ImportFileError:
    # openpyxl's own messages are not shown: they are technical, and name the
    # file's path on the server.
    if _caused_by(error, DefusedXmlException):
        reason = _("it contains XML declarations that are refused because they can be used to attack servers")
    else:
        reason = _("it seems damaged. Open it in your spreadsheet software, save it again as .xlsx, and retry")
    return ImportFileError(_("The spreadsheet could not be read safely: %(reason)s.") % {"reason": reason})


def _caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    """Whether `error`, or an error it was raised from or while handling, is a `kind`."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _cell_text(value: Any) -> str:
    """A cell as the user sees it: 29200 rather than 29200.0, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float):
        # 15 significant digits, as Excel shows them: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    return str(value).strip()


def _without_trailing_blanks(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _fit_to_width(cells: list[str], width: int) -> list[str]:
    """A spreadsheet has no ragged rows, only empty cells: pad a short row, and drop
    empty cells past the last column. A row with values past it is left as found."""
    if len(cells) > width and not any(cells[width:]):
        return cells[:width]
    return cells + [""] * (width - len(cells))


# --- Messages ---------------------------------------------------------------


def number_shown(value: int) -> str:
    return number_format(value, force_grouping=True)


def megabytes_shown(size: int) -> str:
    # Rounded up to a tenth, so that a file just over the limit never reads as equal to it.
    tenths = math.ceil(size * 10 / MEGABYTE)
    return number_format(tenths // 10 if tenths % 10 == 0 else tenths / 10, force_grouping=True)


def value_shown(text: str, length: int = 60) -> str:
    """A value quoted in a message, cut short so that a hostile one cannot flood it."""
    return f"“{text}”" if len(text) <= length else f"“{text[:length]}…”"
