"""The REST API: one NinjaAPI at /api/v1/, its error bodies, and a router per domain.

OpenAPI 3 schema at /api/v1/openapi.json, browsable documentation at /api/v1/docs
(Swagger UI served from our own static files)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from suffrage.api.rest import actions, canvassing, events, mailings, people, segments, tags, territory
from suffrage.api.rest.common import ERRORS, ApiError, TokenAuth, campaign_of, token_of

api = NinjaAPI(
    title="Suffrage",
    version="1",
    urls_namespace="rest",
    description=(
        "The campaign's data for other tools. Every call carries an API token "
        "(`Authorization: Bearer sfg_…`) created by an owner on the campaign's API page; "
        "the token decides the campaign and what may be read or written (its scopes). "
        'Errors are `{"detail": …, "errors": [{"field": …, "message": …}]}`.'
    ),
)


def _error(request: HttpRequest, status: int, detail: str, errors: list[dict[str, str]] | None = None) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def _field_name(location: Any) -> str:
    # Ninja reports ("query", "page") or ("body", "payload", "email"): drop the parameter's own name.
    parts = [str(part) for part in location]
    if len(parts) > 2 and parts[0] == "body":
        parts = [parts[0], *parts[2:]]
    return ".".join(parts)


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _field_name(error.get("loc", ())), "message": str(error.get("msg", ""))} for error in exc.errors
    ]
    return _error(request, 422, _("The request is not valid."), errors)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    response = _error(request, exc.status_code, exc.detail, exc.errors)
    if hasattr(exc, "retry_after"):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("An API token is required."))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("Not found."))


@api.exception_handler(DjangoValidationError)
def _refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """A service refused the change: its messages, by field when it named them."""
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": f"body.{field}" if field != "__all__" else "body", "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [{"field": "body", "message": message} for message in exc.messages]
    return _error(request, 422, _("The change was refused."), errors)


class CampaignOut(Schema):
    slug: str
    name: str


class RootOut(Schema):
    campaign: CampaignOut
    token: str
    scopes: list[str]
    docs: str
    osdi: str


@api.get("/", auth=TokenAuth(), response={200: RootOut, **ERRORS}, url_name="api-root", tags=["root"])
def root(request: HttpRequest) -> dict[str, Any]:
    """The token's campaign and scopes: a first call to check a token."""
    campaign = campaign_of(request)
    token = token_of(request)
    return {
        "campaign": {"slug": campaign.slug, "name": campaign.name},
        "token": token.name,
        "scopes": token.scopes,
        "docs": request.build_absolute_uri("/api/v1/docs"),
        "osdi": request.build_absolute_uri("/api/osdi/v1/"),
    }


api.add_router("/people", people.router)
api.add_router("/tags", tags.router)
api.add_router("/segments", segments.router)
api.add_router("/events", events.router)
api.add_router("/actions", actions.router)
api.add_router("/mailings", mailings.router)
api.add_router("/canvassing", canvassing.router)
api.add_router("/territory", territory.router)
