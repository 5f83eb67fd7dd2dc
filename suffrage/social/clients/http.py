"""What the social-network clients share: one HTTP request at a time over the standard
library (JSON, form-encoded or multipart bodies, a timeout, no redirects followed so
that a token is never sent to another host), the answer's status, headers and body,
the `Link` header, the dates the platforms put in their rate-limit headers, and the
few text rules the networks count by (links, grapheme clusters).

Errors raised here never quote a URL (which may carry a token) nor a header: they name
the platform and the network error."""

from __future__ import annotations

import datetime
import http.client
import json
import mimetypes
import re
import secrets
import ssl
import unicodedata
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from suffrage.social.records import ApiError

TIMEOUT = 20.0
MAX_PAGES = 10_000  # a listing stops there, whatever the server says about a next page
MAX_ANSWER = 16 * 1024 * 1024  # bytes read from an answer at most
USER_AGENT = "Suffrage (campaign CRM)"

Params = Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass(frozen=True)
class File:
    """A file part of a multipart body."""

    field: str
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # names in lower case; repeated headers joined by ", "
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def object(self) -> dict[str, Any]:
        """The body as a JSON object, or {}."""
        data = self.json()
        return data if isinstance(data, dict) else {}


def _describe(error: Exception) -> str:
    """A network error in words that never quote the address."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return str(error.strerror)
    return error.__class__.__name__


def multipart(fields: Sequence[tuple[str, str]], files: Sequence[File]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type (RFC 7578)."""
    boundary = "suffrage-" + secrets.token_hex(16)
    chunks: list[bytes] = []

    def quoted(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", " ").replace("\n", " ")

    for name, value in fields:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{quoted(name)}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for file in files:
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{quoted(file.field)}"; filename="{quoted(file.filename)}"\r\n'
            f"Content-Type: {file.content_type}\r\n\r\n"
        )
        chunks.append(head.encode() + file.content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def with_query(url: str, params: Params | None) -> str:
    """`url` with `params` added to its query string."""
    if not params:
        return url
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + items
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def request(
    method: str,
    url: str,
    *,
    provider: str,
    params: Params | None = None,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    form: Params | None = None,
    files: Sequence[File] = (),
    body: bytes | None = None,
    content_type: str = "",
    timeout: float = TIMEOUT,
) -> Response:
    """Send one request and read the answer, whatever its status.

    The body is `json_body` (serialised), `form` (form-encoded, or multipart with
    `files`) or `body` as given with its `content_type`. Raises ApiError only when the
    server cannot be reached or its answer cannot be read."""
    sent = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    if json_body is not None:
        body = json.dumps(json_body, ensure_ascii=False).encode()
        sent["Content-Type"] = "application/json"
    elif files:
        fields = list(form.items()) if isinstance(form, Mapping) else list(form or [])
        body, sent["Content-Type"] = multipart(fields, files)
    elif form is not None:
        body = urllib.parse.urlencode(list(form.items()) if isinstance(form, Mapping) else list(form)).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        sent["Content-Type"] = content_type or "application/octet-stream"
    if body is not None or method.upper() in ("POST", "PUT", "PATCH"):
        sent["Content-Length"] = str(len(body or b""))
    full = with_query(url, params)
    parts = urllib.parse.urlsplit(full)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(gettext("%(provider)s: the API address is not valid.") % {"provider": provider})
    try:
        port = parts.port
    except ValueError:
        raise ApiError(gettext("%(provider)s: the API address is not valid.") % {"provider": provider}) from None
    connection: http.client.HTTPConnection
    if scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method.upper(), target, body=body, headers=sent)
        answer = connection.getresponse()
        raw = answer.read(MAX_ANSWER + 1)
        received: dict[str, str] = {}
        for name, value in answer.getheaders():
            key = name.lower()
            received[key] = f"{received[key]}, {value}" if key in received else value
    except (OSError, http.client.HTTPException) as error:
        raise ApiError(
            gettext("%(provider)s cannot be reached (%(error)s): try again later.")
            % {"provider": provider, "error": _describe(error)}
        ) from None
    finally:
        connection.close()
    if len(raw) > MAX_ANSWER:
        raise ApiError(gettext("%(provider)s sent an answer too large to read.") % {"provider": provider})
    return Response(status=answer.status, headers=received, body=raw)


def unavailable(provider: str, status: int) -> ApiError:
    """A server error (5xx) or an answer that is not what the API documents."""
    return ApiError(
        gettext("%(provider)s is not answering properly (HTTP %(status)s): try again later.")
        % {"provider": provider, "status": status}
    )


def redact(text: str, *hidden: str, limit: int = 300) -> str:
    """A platform's own words for a message: each secret in `hidden` blanked out (in
    case the platform echoes one), on one line, at most `limit` characters."""
    for secret in hidden:
        if secret:
            text = text.replace(secret, "…")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Link header (RFC 8288) ---------------------------------------------------------------

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))', re.IGNORECASE)


def links(header: str) -> dict[str, str]:
    """{rel: URL} from a Link header: `<https://…?max_id=7>; rel="next", <…>; rel="prev"`."""
    found: dict[str, str] = {}
    for match in _LINK.finditer(header or ""):
        rel = _REL.search(match.group(2) or "")
        if not rel:
            continue
        for name in (rel.group(1) or rel.group(2) or "").split():
            found.setdefault(name.lower(), match.group(1).strip())
    return found


# --- Dates -----------------------------------------------------------------------------------


def parse_datetime(value: Any) -> datetime.datetime | None:
    """An ISO 8601 date and time (`2024-05-01T12:00:00.000Z`, `…+0000`) in UTC, or None.
    A time without an offset is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    # Python 3.11 reads "Z" and "+00:00" but not Facebook's "+0000".
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def from_epoch(value: Any) -> datetime.datetime | None:
    """A Unix time in seconds (an integer or a decimal string) in UTC, or None."""
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    if seconds <= 0:
        return None
    try:
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


# --- Images ----------------------------------------------------------------------------------

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(content: bytes, filename: str = "") -> str:
    """The image's media type, from its first bytes, else its name."""
    for magic, kind in _MAGIC:
        if content.startswith(magic):
            return kind
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    guessed, _encoding = mimetypes.guess_type(filename or "")
    return guessed or "application/octet-stream"


def image_filename(name: str, content_type: str) -> str:
    """The image's file name as given, else "image" with the extension of its type."""
    if name.strip():
        return name.strip()
    return "image" + {"image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}.get(content_type, ".jpg")


# --- Text --------------------------------------------------------------------------------------

# An http(s) address up to the next space; punctuation closing a sentence is left out.
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?…'\"’”»)]}"


def url_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) for each http(s) address in `text`, in characters. A final
    ")" stays when the address opened one (Wikipedia's `…_(ville)`)."""
    spans: list[tuple[int, int, str]] = []
    for match in _URL.finditer(text):
        url = match.group(0)
        while url and url[-1] in _TRAILING:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if len(url) <= len("https://") or "://" not in url or not url.split("://", 1)[1]:
            continue
        spans.append((match.start(), match.start() + len(url), url))
    return spans


def with_link(text: str, link: str) -> str:
    """The text of a post with `link` on its last line, unless the text already has it."""
    text, link = text.strip(), link.strip()
    if not link or link in text:
        return text
    return f"{text}\n\n{link}" if text else link


_JOINING = {
    0x200D,  # ZERO WIDTH JOINER (the next character joins too)
    0x034F,  # COMBINING GRAPHEME JOINER
}


def _extends(code: int, char: str) -> bool:
    """True when the character belongs to the cluster before it."""
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (emoji or text presentation)
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tags (subdivision flags)
        or 0x1160 <= code <= 0x11FF  # Hangul vowels and final consonants after a syllable start
        or code in _JOINING
    )


def graphemes(text: str) -> int:
    """How many user-perceived characters `text` has, approximately (UAX #29 without
    its tables): a character starts a new cluster unless it is a combining mark, a
    variation selector, a skin tone, a tag, a joiner or follows a zero width joiner; two
    regional indicators make one flag; CR LF is one. Exact for French text and the
    common emoji (families, flags, skin tones, keycaps); Indic conjuncts and some
    Hangul sequences may count one or two more than the networks do."""
    count = 0
    after_joiner = False
    pending_flag = False  # a regional indicator waiting for its pair
    previous = ""
    for char in text:
        code = ord(char)
        regional = 0x1F1E6 <= code <= 0x1F1FF
        joined = bool(count) and (
            after_joiner or _extends(code, char) or (previous == "\r" and char == "\n") or (regional and pending_flag)
        )
        if not joined:
            count += 1
        pending_flag = regional and not (joined and pending_flag)
        after_joiner = code == 0x200D
        previous = char
    return count
