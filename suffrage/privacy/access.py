"""The right of access (GDPR art. 15) and to portability (art. 20): everything held
about a person, with where it came from, as JSON, an HTML page or a PDF.

The sections come from the erasure registry: each app's Eraser gives `report(person)`,
{key: section}, a section being a titled table built with `table()`. One registry,
so whatever an app must erase, it must also show."""

from __future__ import annotations

import datetime
import decimal
import json
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from suffrage.privacy.erasure import all_erasers

if TYPE_CHECKING:
    from fpdf import FPDF

    from suffrage.people.models import Person

FORMAT = "suffrage.access_report/1"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"


def jsonable(value: Any) -> Any:
    """A value as the report stores it: dates in ISO form (local time), labels as text."""
    if isinstance(value, datetime.datetime):
        return (
            timezone.localtime(value).isoformat(timespec="seconds") if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return value


def table(
    title: StrOrPromise, columns: Mapping[str, StrOrPromise], rows: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """A section of the report: a title, its columns {key: label}, and rows {key: value}."""
    return {
        "title": str(title),
        "columns": {key: str(label) for key, label in columns.items()},
        "rows": [{key: jsonable(row.get(key)) for key in columns} for row in rows],
    }


def access_report(person: Person) -> dict[str, Any]:
    """Everything the campaign holds about the person, JSON-serialisable."""
    sections: dict[str, Any] = {}
    for eraser in sorted(all_erasers(), key=lambda eraser: eraser.report_order):
        if eraser.report is not None:
            sections.update(eraser.report(person))
    return {
        "format": FORMAT,
        "generated_at": jsonable(timezone.now()),
        "controller": person.campaign.name,
        "person": {"id": person.pk, "name": person.display_name},
        "sections": sections,
    }


# --- Renderers --------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A stored value as a reader sees it."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, list):
        return ", ".join(cell_text(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {cell_text(item)}" for key, item in value.items())
    text = str(value)
    # ISO date-times read better without the T and the offset's seconds.
    if len(text) >= 19 and text[4] == "-" and text[10] == "T" and text[13] == ":":
        return f"{text[:10]} {text[11:16]}"
    return text


def _readable(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Sections as plain text tables: title, headers, rows of cells."""
    readable = []
    for key, section in report["sections"].items():
        columns = section["columns"]
        readable.append(
            {
                "key": key,
                "title": section["title"],
                "headers": list(columns.values()),
                "rows": [[cell_text(row.get(column)) for column in columns] for row in section["rows"]],
            }
        )
    return readable


def access_json(person: Person) -> bytes:
    """The report as a file the person can take elsewhere (portability): UTF-8, indented."""
    return json.dumps(access_report(person), ensure_ascii=False, indent=2).encode()


def _context(person: Person) -> dict[str, Any]:
    report = access_report(person)
    return {
        "report": report,
        "sections": _readable(report),
        "generated_at": cell_text(report["generated_at"]),
    }


def access_html(person: Person) -> str:
    """The report as a readable, printable page."""
    return render_to_string("privacy/access_document.html", _context(person))


def _latin1(text: str) -> str:
    """For the core fonts (Latin-1 only): accents kept, other letters without their
    marks, anything else as "?"."""
    out = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
            continue
        bare = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        out.append(bare or {"—": "-", "–": "-", "’": "'", "“": '"', "”": '"', "…": "..."}.get(char, "?"))
    return "".join(out)


def _pdf_document() -> tuple[FPDF, Any]:
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    if FONT_REGULAR.exists() and FONT_BOLD.exists():
        pdf.add_font("DejaVu", "", str(FONT_REGULAR))
        pdf.add_font("DejaVu", "B", str(FONT_BOLD))
        return pdf, ("DejaVu", str)
    return pdf, ("Helvetica", _latin1)


def access_pdf(person: Person) -> bytes:
    """The report as a PDF (fpdf2), DejaVu Sans so every name prints; Helvetica with
    the text reduced to Latin-1 when the font is not installed."""
    context = _context(person)
    report = context["report"]
    pdf, (family, clean) = _pdf_document()
    pdf.set_title(clean(_("Personal data held about %(name)s") % {"name": report["person"]["name"]}))
    pdf.set_creator("Suffrage")
    pdf.add_page()
    pdf.set_font(family, "B", 15)
    from fpdf.enums import XPos, YPos

    def paragraph(height: float, text: str) -> None:
        pdf.multi_cell(0, height, clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    paragraph(8, _("Personal data held about %(name)s") % {"name": report["person"]["name"]})
    pdf.set_font(family, "", 9)
    intro = _(
        "Held by %(controller)s. Document produced on %(date)s, in answer to the right of access "
        "and to portability (GDPR articles 15 and 20)."
    ) % {"controller": report["controller"], "date": context["generated_at"]}
    paragraph(5, intro)
    for section in context["sections"]:
        pdf.ln(4)
        pdf.set_font(family, "B", 11)
        paragraph(6, section["title"])
        pdf.set_font(family, "", 8)
        if not section["rows"]:
            paragraph(5, _("Nothing held."))
            continue
        with pdf.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True) as grid:
            for cells in [section["headers"], *section["rows"]]:
                row = grid.row()
                for cell in cells:
                    row.cell(clean(cell))
    return bytes(pdf.output())
