"""HAL+JSON as OSDI speaks it: links, collections with paging, error bodies.

Every answer of the OSDI entry point is `application/hal+json`. A collection carries
`total_pages`, `per_page`, `page`, `total_records`, `_links` (`self`, `next`, `prev`,
one link per item under the collection's relation) and `_embedded` (the items).
A client walks a collection by following `_links.next.href` until it is absent."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from suffrage.api.models import ApiToken
from suffrage.core.models import Campaign

HAL = "application/hal+json"
NAMESPACE = "suffrage"
PER_PAGE = 25
MAX_PAGESIZE = 100
CURIES = [{"name": "osdi", "href": "https://opensupporter.github.io/osdi-docs/{rel}", "templated": True}]

JSON = dict[str, Any]
ModelT = TypeVar("ModelT", bound=models.Model)

# A machine-readable code per status, as OSDI's error descriptions have one.
ERROR_CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "TOO_LARGE",
    429: "TOO_MANY_REQUESTS",
}


class OsdiError(Exception):
    """An answer other than success: its status, a sentence, and for bad input the
    properties at fault with the reason for each ((property, reason) pairs)."""

    def __init__(self, status: int, message: str, problems: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = list(problems)
        self.headers: dict[str, str] = {}


def error_body(error: OsdiError) -> JSON:
    """OSDI's error (an atomic request) flattened: `error` is what Action Network
    clients read, `error_descriptions` names each property at fault."""
    code = ERROR_CODES.get(error.status, "ERROR")
    descriptions = [
        {"error_code": code, "description": reason, "properties": [prop]} for prop, reason in error.problems
    ] or [{"error_code": code, "description": error.message, "properties": []}]
    return {
        "request_type": "atomic",
        "response_code": error.status,
        "error": error.message,
        "error_descriptions": descriptions,
    }


def hal_response(body: JSON, status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type=HAL)
    response["Cache-Control"] = "no-store"
    return response


def identifiers(obj: models.Model) -> list[str]:
    return [f"{NAMESPACE}:{obj.pk}"]


def link(href: str, **extra: Any) -> JSON:
    return {"href": href, **extra}


@dataclass
class Osdi:
    """One call: who calls (the token, hence the campaign) and where the entry point is."""

    request: HttpRequest
    token: ApiToken

    @property
    def campaign(self) -> Campaign:
        return self.token.campaign

    def href(self, *parts: object, **query: object) -> str:
        """The absolute address of a resource under the entry point: href("people", 12)."""
        path = reverse("osdi:entry_point") + "/".join(str(part) for part in parts)
        url = self.request.build_absolute_uri(path)
        shown = {key: value for key, value in query.items() if value not in (None, "")}
        return f"{url}?{urlencode(shown)}" if shown else url


def paging(request: HttpRequest) -> tuple[int, int]:
    """(page, per_page) from the query string; a bad value is a 400 naming it."""
    values = []
    for name, default, highest in (("page", 1, 1_000_000), ("per_page", PER_PAGE, MAX_PAGESIZE)):
        raw = request.GET.get(name, "")
        if raw == "":
            values.append(default)
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= highest:
            reason = _("Expected a whole number from 1 to %(highest)d.") % {"highest": highest}
            raise OsdiError(400, _("The request is not valid."), [(name, reason)])
        values.append(int(raw))
    return values[0], values[1]


def collection(
    osdi: Osdi,
    queryset: models.QuerySet[ModelT],
    *,
    path: tuple[object, ...],
    rel: str,
    render: Callable[[ModelT], JSON],
) -> JSON:
    """One page of `queryset` (already scoped to the campaign and ordered) as a HAL
    collection under `rel` (e.g. "osdi:people"). Links keep the caller's filter."""
    page, per_page = paging(osdi.request)
    total = queryset.count()
    pages = max(1, math.ceil(total / per_page))
    start = (page - 1) * per_page
    items = [render(obj) for obj in queryset[start : start + per_page]]
    kept = {"filter": osdi.request.GET.get("filter", "")}

    def page_link(number: int) -> JSON:
        return link(osdi.href(*path, **kept, page=number, per_page=per_page))

    links: JSON = {"self": page_link(page)}
    if page < pages:
        links["next"] = page_link(page + 1)
    if page > 1:
        links["prev"] = page_link(min(page - 1, pages))
    links[rel] = [item["_links"]["self"] for item in items]
    links["curies"] = CURIES
    return {
        "total_pages": pages,
        "per_page": per_page,
        "page": page,
        "total_records": total,
        "_links": links,
        "_embedded": {rel: items},
    }
