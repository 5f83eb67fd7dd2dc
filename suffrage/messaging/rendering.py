"""From a mailing's Markdown to one message per recipient.

The expensive work (Markdown, the branded wrapper, link rewriting) is done once per
mailing: the result is a list of literal strings and placeholders. Personalising a
message is then only joining strings, which keeps the send fast at 100,000 recipients.

Personalisation is a sandbox by construction: `{{ field|filter:"arg" }}` may name only
the fields of PERSON_FIELDS (and the footer's SYSTEM_FIELDS) and the filters of
FILTERS; anything else (another variable, a template tag) is refused when the mailing
is saved, with the offending text in the message."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import mistune
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

PERSON_FIELDS = ("civility", "first_name", "last_name", "full_name", "town", "email")
# Filled by the engine for each message; the footer must contain the first four.
SYSTEM_FIELDS = ("unsubscribe_url", "rights_url", "sender_identity", "data_source")
REQUIRED_IN_FOOTER = SYSTEM_FIELDS
FILTERS: dict[str, Callable[[str, str], str]] = {
    "default": lambda value, arg: value or arg,
    "upper": lambda value, _arg: value.upper(),
    "lower": lambda value, _arg: value.lower(),
    "title": lambda value, _arg: value.title(),
    "capfirst": lambda value, _arg: value[:1].upper() + value[1:],
}

TAG = re.compile(r"\{\{(.*?)\}\}|\{%.*?%\}", re.DOTALL)
EXPRESSION = re.compile(r'^\s*([a-z_]+)((?:\s*\|\s*[a-z]+(?::"[^"]*")?)*)\s*$')
FILTER = re.compile(r'\|\s*([a-z]+)(?::"([^"]*)")?')
# Placeholders survive Markdown as plain words; internal names start with "__".
MARK = "xq9v{}q9x"
MARK_SPLIT = re.compile(r"xq9v(\d+)q9x")
LINK = re.compile(r'<a href="(https?://[^"]+)"')


class TemplateError(ValueError):
    """A personalisation the sandbox refuses; str() is a user-facing message."""


@dataclass(frozen=True)
class Placeholder:
    name: str
    filters: tuple[tuple[str, str], ...] = ()

    def value(self, values: dict[str, str]) -> str:
        text = values.get(self.name, "")
        for name, arg in self.filters:
            text = FILTERS[name](text, arg)
        return text


Part = str | Placeholder


def parse(text: str, *, allowed: Iterable[str] = PERSON_FIELDS) -> list[Part]:
    """Split a text into literals and placeholders, refusing what the sandbox does not allow."""
    allowed = set(allowed)
    parts: list[Part] = []
    position = 0
    for found in TAG.finditer(text):
        parts.append(text[position : found.start()])
        parts.append(_placeholder(found, allowed))
        position = found.end()
    parts.append(text[position:])
    return [part for part in parts if part != ""]


def _placeholder(found: re.Match[str], allowed: set[str]) -> Placeholder:
    if found.group(1) is None:
        raise TemplateError(_("“%(tag)s”: only {{ field }} personalisations are allowed.") % {"tag": found.group(0)})
    expression = EXPRESSION.match(found.group(1))
    if not expression:
        raise TemplateError(_("“%(tag)s” is not a valid personalisation.") % {"tag": found.group(0)})
    name = expression.group(1)
    if name not in allowed:
        raise TemplateError(
            _("“%(tag)s”: unknown field “%(name)s”. Allowed: %(allowed)s.")
            % {"tag": found.group(0), "name": name, "allowed": ", ".join(sorted(allowed))}
        )
    filters = tuple((f.group(1), f.group(2) or "") for f in FILTER.finditer(expression.group(2)))
    for filter_name, _arg in filters:
        if filter_name not in FILTERS:
            raise TemplateError(
                _("“%(tag)s”: unknown filter “%(name)s”.") % {"tag": found.group(0), "name": filter_name}
            )
    return Placeholder(name, filters)


def check_footer(footer: str) -> None:
    """The footer's wording is the campaign's; its legal elements cannot be removed."""
    names = {
        part.name for part in parse(footer, allowed=PERSON_FIELDS + SYSTEM_FIELDS) if isinstance(part, Placeholder)
    }
    missing = [name for name in REQUIRED_IN_FOOTER if name not in names]
    if missing:
        raise TemplateError(
            _("The footer must keep %(fields)s (who sends, where the data came from, the rights, unsubscribing).")
            % {"fields": ", ".join(f"{{{{ {name} }}}}" for name in missing)}
        )


def _with_marks(text: str, table: list[Placeholder], allowed: Iterable[str]) -> str:
    """Replace placeholders with marks Markdown leaves alone; remember them in table."""
    out = []
    for part in parse(text, allowed=allowed):
        if isinstance(part, Placeholder):
            table.append(part)
            out.append(MARK.format(len(table) - 1))
        else:
            out.append(part)
    return "".join(out)


def _split(text: str, table: list[Placeholder]) -> list[Part]:
    pieces = MARK_SPLIT.split(text)
    return [table[int(piece)] if index % 2 else piece for index, piece in enumerate(pieces) if piece != ""]


_markdown = mistune.create_markdown(escape=True, plugins=["strikethrough", "table", "url"])


def markdown_to_html(text: str) -> str:
    return str(_markdown(text))


@dataclass
class CompiledMessage:
    """A mailing ready to personalise: subject, HTML and text as parts, and its links."""

    subject: list[Part]
    html: list[Part]
    text: list[Part]
    links: list[str] = field(default_factory=list)

    def render(self, values: dict[str, str]) -> tuple[str, str, str]:
        """(subject, html, text) for one recipient; values are escaped in the HTML."""
        escaped = {name: html.escape(value) for name, value in values.items()}
        return (
            _join(self.subject, values),
            _join(self.html, escaped, raw={"__open", "__notice_html"}, unescaped=values),
            _join(self.text, values),
        )


def _join(
    parts: list[Part], values: dict[str, str], raw: set[str] | None = None, unescaped: dict[str, str] | None = None
) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif raw and unescaped is not None and part.name in raw:
            out.append(unescaped.get(part.name, ""))  # markup the engine itself made
        else:
            out.append(part.value(values))
    return "".join(out)


def compile_message(
    *,
    subject: str,
    preheader: str,
    body: str,
    footer: str,
    brand_name: str,
    brand_colour: str,
    track_clicks: bool,
    track_opens: bool,
) -> CompiledMessage:
    table: list[Placeholder] = []
    every_field = PERSON_FIELDS + SYSTEM_FIELDS
    body_html = markdown_to_html(_with_marks(body, table, PERSON_FIELDS))
    footer_html = markdown_to_html(_with_marks(footer, table, every_field))
    links: list[str] = []
    if track_clicks:
        body_html = _track_links(body_html, links, table)
    page = render_to_string(
        "messaging/email/wrapper.html",
        {
            "body": mark_safe(body_html),
            "footer": mark_safe(footer_html),
            "preheader": _with_marks(preheader, table, PERSON_FIELDS),
            "brand_name": brand_name,
            "brand_colour": brand_colour if re.fullmatch(r"#[0-9a-fA-F]{6}", brand_colour) else "#1d4ed8",
            "notice": _mark_for(table, "__notice_html"),
            "open_pixel": _mark_for(table, "__open") if track_opens else "",
            "language": get_language(),
        },
    )
    text = "\n\n".join(
        (
            _with_marks(body, table, PERSON_FIELDS),
            _mark_for(table, "__notice_text"),
            "-- ",
            _with_marks(footer, table, every_field),
        )
    )
    return CompiledMessage(subject=parse(subject), html=_split(page, table), text=_split(text, table), links=links)


def _mark_for(table: list[Placeholder], name: str) -> str:
    table.append(Placeholder(name))
    return MARK.format(len(table) - 1)


def _track_links(body_html: str, links: list[str], table: list[Placeholder]) -> str:
    """Point each http(s) link at the click counter; remember the originals in order."""

    def rewrite(found: re.Match[str]) -> str:
        url = html.unescape(found.group(1))
        if MARK_SPLIT.search(url):
            return found.group(0)  # a personalised link is not counted
        links.append(url)
        return f'<a href="{_mark_for(table, f"__click_{len(links) - 1}")}"'

    return LINK.sub(rewrite, body_html)


def links_in(body: str) -> list[str]:
    """The http(s) links of a Markdown body, for the composer's link check."""
    return [html.unescape(url) for url in LINK.findall(markdown_to_html(body))]


def person_values(person: Any, address: str) -> dict[str, str]:
    """The allowed personal fields of one recipient."""
    first = (person.first_names or "").split(" ")[0] if person.first_names else ""
    town = ""
    addresses = getattr(person, "prefetched_addresses", None)
    if addresses:
        town = addresses[0].town
    return {
        "civility": person.get_civility_display() if person.civility else "",
        "first_name": first,
        "last_name": person.last_name,
        "full_name": " ".join(part for part in (first, person.last_name) if part),
        "town": town,
        "email": address,
    }
