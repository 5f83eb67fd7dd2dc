"""Every operation of the REST API, read from its OpenAPI schema when the tests are
collected (a new endpoint is covered without touching this file):

- a token of another campaign, with every scope, gets a 404 for this campaign's
  objects (and the same call with this campaign's token succeeds, so the 404 is not
  an accident); a list without path parameters never shows another campaign's objects;
- a token of the right campaign without the operation's scope gets a 403;
- no token gets a 401.

What an endpoint author provides: a factory for each new path parameter in
`tests/url_kwargs.OBJECT_FACTORIES` (or in `API_OBJECTS` below when the API's meaning
differs from the pages'); a new child object in `CHILDREN` when its path also names its
parent; something to list in `tests.factories.campaign_with_everything` for a new list.
The operation's scope is read from its `auth=scoped(...)`: nothing to declare."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import models
from django.test import Client

from suffrage.api.rest.api import api
from suffrage.api.rest.common import TokenAuth
from suffrage.api.scopes import Scope
from suffrage.canvassing.models import Visit
from suffrage.core.models import Campaign
from suffrage.engagement.models import RSVP, Submission
from tests import factories
from tests.api.conftest import ApiClient
from tests.url_kwargs import OBJECT_FACTORIES

pytestmark = pytest.mark.django_db


def _official_election(campaign: Campaign) -> int:
    """The pages' `election_id` is the campaign's own calendar; the API's is an official
    election, the campaign's when it has results in one of its polling stations."""
    station = factories.station_in(campaign)
    round_ = factories.RoundFactory(election=factories.ElectionFactory(name=f"Élection {station.code}"))
    factories.result_in(station, round_)
    return round_.election_id


API_OBJECTS: dict[str, Callable[[Campaign], int | str]] = {**OBJECT_FACTORIES, "election_id": _official_election}

# Objects whose path also names their parent: the parent's id is read from the child.
CHILDREN: dict[str, type[models.Model]] = {"rsvp_id": RSVP, "submission_id": Submission, "visit_id": Visit}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    path_params: tuple[str, ...]
    scope: str | None
    authenticated: bool
    body: Any  # a minimal valid JSON body, None without one
    lists: bool  # a page of results

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def minimal(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest value the JSON schema accepts: required properties only, the first
    choice, the shortest text. Enough to get past body validation, so that what is
    tested is the campaign check that follows."""
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [option for option in schema[key] if _resolve(option, components).get("type") != "null"]
            return minimal(options[0] if options else schema[key][0], components)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(minimal(part, components))
        return merged
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: minimal(properties.get(name, {}), components) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal(schema.get("items", {}), components) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        formats = {"email": "anne@example.org", "date-time": "2024-06-30T08:00:00Z", "date": "2024-06-30"}
        return formats.get(schema.get("format", ""), "x" * max(1, schema.get("minLength", 1)))
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return None


def _scopes() -> dict[str, tuple[bool, str | None]]:
    """operationId → (has the token auth, its scope), from each operation's `auth=`."""
    found: dict[str, tuple[bool, str | None]] = {}
    # The bound routers are what Ninja itself walks to write the schema.
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                operation_id = operation.operation_id or api.get_openapi_operation_id(operation)
                auths = [auth for auth in operation.auth_callbacks if isinstance(auth, TokenAuth)]
                found[operation_id] = (bool(auths), auths[0].scope if auths else None)
    return found


def operations() -> list[Operation]:
    schema = api.get_openapi_schema()
    components = schema.get("components", {}).get("schemas", {})
    scopes = _scopes()
    found = []
    for path, methods in schema["paths"].items():
        for method, details in methods.items():
            authenticated, scope = scopes[details["operationId"]]
            params = tuple(p["name"] for p in details.get("parameters", []) if p["in"] == "path")
            content = details.get("requestBody", {}).get("content", {}).get("application/json")
            body = minimal(content["schema"], components) if content else None
            # Ninja's schema keys the responses by int; the JSON one by text.
            success = next(code for code in details["responses"] if str(code).startswith("2"))
            answer = details["responses"][success].get("content", {}).get("application/json", {}).get("schema", {})
            lists = "results" in _resolve(answer, components).get("properties", {}) if answer else False
            found.append(Operation(method, path, details["operationId"], params, scope, authenticated, body, lists))
    return found


OPERATIONS = operations()


def _client(campaign: Campaign, scopes: list[str] | None = None) -> ApiClient:
    return ApiClient(factories.ApiTokenFactory(campaign=campaign, scopes=scopes or list(Scope.values)).key)


def _call(client: ApiClient | Client, operation: Operation, values: dict[str, Any]) -> Any:
    url = re.sub(r"{(\w+)}", lambda match: str(values[match.group(1)]), operation.path)
    method = operation.method.lower()
    if operation.body is None:
        return getattr(client, method)(url) if method in ("get", "delete") else getattr(client, method)(url, {})
    if isinstance(client, ApiClient):
        return getattr(client, method)(url, operation.body)
    return getattr(client, method)(url, operation.body, content_type="application/json")


def _objects(campaign: Campaign, operation: Operation) -> dict[str, Any]:
    """An object of `campaign` for each path parameter, children first so that their
    parents are theirs (an RSVP and its event)."""
    values: dict[str, Any] = {}
    for name in reversed(operation.path_params):
        if name in values:
            continue
        assert name in API_OBJECTS, f"Add a factory for “{name}” to tests/url_kwargs.py (OBJECT_FACTORIES)."
        values[name] = API_OBJECTS[name](campaign)
        if name in CHILDREN:
            child = CHILDREN[name].objects.get(pk=values[name])
            for parent in operation.path_params:
                if parent not in values and hasattr(child, parent):
                    values[parent] = getattr(child, parent)
    return values


def _ids(response: Any) -> set[Any]:
    assert response.status_code == 200, response.content
    return {row.get("id", row.get("code")) for row in response.json()["results"]}


def test_every_operation_needs_a_token_and_names_its_scope():
    assert len(OPERATIONS) > 30
    for operation in OPERATIONS:
        assert operation.authenticated, f"{operation} takes no API token: give it auth=scoped(Scope.…)."
        if operation.path != "/api/v1/":
            assert operation.scope in Scope.values, f"{operation} needs a scope: auth=scoped(Scope.…)."


WITH_OBJECTS = [op for op in OPERATIONS if op.path_params]
LISTS = [op for op in OPERATIONS if not op.path_params and op.method == "get" and op.lists]


@pytest.mark.parametrize("operation", WITH_OBJECTS, ids=str)
def test_another_campaigns_token_gets_a_404(campaign, other_campaign, operation):
    values = _objects(campaign, operation)

    response = _call(_client(other_campaign), operation, values)

    assert response.status_code == 404, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"] and response.json()["errors"] == []
    # The same call with the campaign's own token reaches the object: the 404 above
    # was about the campaign, not about a missing object.
    own = _call(_client(campaign), operation, values)
    assert own.status_code not in (401, 403, 404), own.content
    if operation.method == "get":
        assert own.status_code == 200, own.content


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_another_campaigns_token_never_lists_these_objects(campaign, other_campaign, operation):
    factories.campaign_with_everything(campaign)
    factories.campaign_with_everything(
        other_campaign,
        commune=factories.CommuneFactory(code="29232", name="Quimper"),
        election=factories.ElectionFactory(kind="municipal", year=2020, name="Municipales 2020"),
    )

    mine = _ids(_call(_client(campaign), operation, {}))
    theirs = _ids(_call(_client(other_campaign), operation, {}))

    assert mine, f"Nothing to list: add some to tests.factories.campaign_with_everything for {operation}."
    assert theirs and not mine & theirs


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op.scope], ids=str)
def test_a_token_without_the_scope_gets_a_403(campaign, operation):
    values = _objects(campaign, operation)
    others = [scope for scope in Scope.values if scope != operation.scope]

    response = _call(_client(campaign, others), operation, values)

    assert response.status_code == 403, response.content
    assert operation.scope in response.json()["detail"]


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_no_token_gets_a_401(campaign, operation):
    values = _objects(campaign, operation)

    response = _call(Client(HTTP_ACCEPT_LANGUAGE="en"), operation, values)

    assert response.status_code == 401, response.content
    assert "token" in response.json()["detail"]
