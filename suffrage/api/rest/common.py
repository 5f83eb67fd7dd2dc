"""What every REST endpoint shares: the token auth (scope, rate limit, audit), error
bodies, pagination and sorting.

Every endpoint is tenant-scoped by its token: `campaign_of(request)` is the token's
campaign, and objects are fetched with `get_or_404(queryset_of_that_campaign, …)`, so
another campaign's id is a 404, exactly as in the pages."""

from __future__ import annotations

import datetime
import math
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer

from suffrage.api.models import ApiToken
from suffrage.api.scopes import PERSONAL_SCOPES, Scope
from suffrage.api.services import token_touch
from suffrage.api.tokens import token_for_key
from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign
from suffrage.core.ratelimit import over_limit, seconds_left

ModelT = TypeVar("ModelT", bound=models.Model)


class ApiError(HttpError):
    """An error answered as {"detail": …, "errors": [{"field": …, "message": …}]}."""

    def __init__(self, status_code: int, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(status_code, detail)
        self.detail = detail
        self.errors = errors or []


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = []


# The error answers every authenticated endpoint can give, for its OpenAPI `response=`.
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


# Text that PostgreSQL can store: no NUL character.
NO_NUL = r"^[^\x00]*$"


def invalid(field: str, message: str) -> ApiError:
    """A 422 naming the parameter or body field at fault."""
    return ApiError(422, _("The request is not valid."), [{"field": field, "message": message}])


def utc(moment: datetime.datetime, field: str) -> datetime.datetime:
    """A date-time from the request, in UTC; one without an offset is read in the
    server's time zone. One that falls outside the calendar once in UTC (year 1 at
    +14:00) is a 422 naming the field, not a 500."""
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        raise invalid(field, _("This date-time is out of range.")) from None


def responses(schema: Any, status: int = 200) -> dict[int, Any]:
    """`response=` for an endpoint: its success schema and the common errors."""
    return {status: schema, **ERRORS}


def presented_key(request: HttpRequest) -> str:
    """The key from `Authorization: Bearer …` or, for OSDI clients, `OSDI-API-Token`."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("OSDI-API-Token", "").strip()


def token_authenticate(request: HttpRequest, scope: str | None) -> ApiToken:
    """The request's token once it is known, active, allowed `scope` and within its rate;
    an ApiError (401, 403, 429) otherwise. Calls in a personal-data scope are audited."""
    key = presented_key(request)
    if not key:
        raise ApiError(
            401, _("An API token is required: send it as “Authorization: Bearer <key>” or “OSDI-API-Token: <key>”.")
        )
    token = token_for_key(key)
    if token is None:
        raise ApiError(401, _("This API token is not valid."))
    if token.revoked_at is not None:
        raise ApiError(401, _("This API token was revoked."))
    if not token.is_active():
        raise ApiError(401, _("This API token has expired."))
    if scope is not None and scope not in token.scopes:
        raise ApiError(403, _("This token does not have the scope “%(scope)s”.") % {"scope": scope})
    if over_limit(f"api:{token.pk}", limit=settings.API_RATE_LIMIT):
        wait = seconds_left()
        error = ApiError(429, _("Too many calls with this token: try again in %(seconds)s s.") % {"seconds": wait})
        error.retry_after = wait  # type: ignore[attr-defined]
        raise error
    token_touch(token)
    if scope in PERSONAL_SCOPES:
        audit_record(
            action="api.call",
            campaign=token.campaign,
            obj=token,
            changes={"method": request.method, "path": request.path[:300], "scope": scope},
            actor=token.created_by,
        )
    return token


class TokenAuth(HttpBearer):
    """Ninja auth for one scope (None: any valid token). `request.auth` is the ApiToken."""

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__()
        self.scope = scope.value if scope is not None else None

    def __call__(self, request: HttpRequest) -> ApiToken:
        return token_authenticate(request, self.scope)

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:  # pragma: no cover - __call__ does it
        return token_authenticate(request, self.scope)


def scoped(scope: Scope) -> TokenAuth:
    return TokenAuth(scope)


def token_of(request: HttpRequest) -> ApiToken:
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, ApiToken)
    return token


def campaign_of(request: HttpRequest) -> Campaign:
    return token_of(request).campaign


def get_or_404(queryset: models.QuerySet[ModelT], **lookup: Any) -> ModelT:
    """One object of an already campaign-scoped queryset, or a 404 with our error body."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404
    return found


def ordered(queryset: models.QuerySet[ModelT], sort: str | None, allowed: dict[str, str]) -> models.QuerySet[ModelT]:
    """Sort by `sort` (a key of `allowed`, "-" in front for descending), then by id so
    that pages never overlap. An unknown key is a 422 naming the accepted ones."""
    if not sort:
        return queryset.order_by("pk")
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in allowed:
        raise ApiError(
            422,
            _("Cannot sort by “%(key)s”.") % {"key": key},
            [{"field": "query.sort", "message": _("Accepted: %(keys)s.") % {"keys": ", ".join(sorted(allowed))}}],
        )
    field = allowed[key]
    return queryset.order_by(f"-{field}" if descending else field, "-pk" if descending else "pk")


class Page(PaginationBase):
    """?page=1&per_page=50 (at most 200): {count, page, per_page, pages, results}."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        per_page: int = Field(50, ge=1, le=200)

    class Output(Schema):
        count: int
        page: int
        per_page: int
        pages: int
        results: list[Any]

    items_attribute = "results"

    def paginate_queryset(self, queryset: Any, pagination: Input, request: HttpRequest, **params: Any) -> Any:
        count = self._items_count(queryset)
        start = (pagination.page - 1) * pagination.per_page
        return {
            "count": count,
            "page": pagination.page,
            "per_page": pagination.per_page,
            "pages": max(1, math.ceil(count / pagination.per_page)),
            "results": list(queryset[start : start + pagination.per_page]),
        }
