"""API test helpers: a client that calls the REST API with a token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from suffrage.api.models import ApiToken
from tests.factories import ApiTokenFactory


class ApiClient:
    """A Django test client sending `Authorization: Bearer <key>` in English."""

    def __init__(self, key: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT_LANGUAGE="en")

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, params or {})

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(path, body, content_type="application/json")

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(path, body, content_type="application/json")

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(path, body, content_type="application/json")

    def delete(self, path: str) -> Any:
        return self.client.delete(path)


@pytest.fixture
def api_token(campaign) -> ApiToken:
    """A token of `campaign` with every scope."""
    return ApiTokenFactory(campaign=campaign)


@pytest.fixture
def api(api_token) -> ApiClient:
    return ApiClient(api_token.key)


@pytest.fixture
def api_for() -> Callable[..., ApiClient]:
    """api_for(campaign, scopes=[...]): a client with a token of that campaign."""

    def make(campaign, scopes: list[str] | None = None, **fields: Any) -> ApiClient:
        kwargs: dict[str, Any] = {"campaign": campaign, **fields}
        if scopes is not None:
            kwargs["scopes"] = scopes
        return ApiClient(ApiTokenFactory(**kwargs).key)

    return make


def ids(response) -> list[int]:
    """The ids of a list answer's page, once it is known to be a 200."""
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]
