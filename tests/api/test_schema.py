"""The REST API against its own OpenAPI schema, property-based (schemathesis): every
operation of /api/v1/openapi.json, served by the live Django WSGI application, gets
generated requests (valid and invalid) with a token holding every scope, about a
campaign that has one of everything. No answer may be a server error, an undeclared
status code or content type, or a body that does not match the declared schema.

Path parameters are either generated (mostly unknown ids: a 404 or a 422) or the
seeded campaign's real objects, so that the successful answers are checked too.
Deterministic (derandomized, no example database) and a few examples per operation,
so that it stays quick on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import strategies as st

from tests import factories

pytestmark = pytest.mark.django_db

# Examples per operation and phase: enough to meet every parameter and filter, few
# enough for CI (the whole test takes well under a minute on SQLite and PostgreSQL).
MAX_EXAMPLES = 20

CONFIG = schemathesis.Config.from_dict(
    {
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The token is ours (below); generated Authorization headers would only test 401s.
            "with-security-parameters": False,
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def _load_schema() -> Any:
    """/api/v1/openapi.json as the application serves it (read when the tests are
    collected, so that each operation is a test of its own)."""
    with override_settings(ALLOWED_HOSTS=["localhost"]):  # the WSGI client's Host
        return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APPLICATION, config=CONFIG)


APPLICATION = get_wsgi_application()
schema = _load_schema()

# The ids of the seeded campaign's objects, by path parameter, for the test running now
# (the hook below is registered once, the objects are made for each test).
KNOWN: dict[str, Any] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Either the generated path parameters or the seeded campaign's real objects."""
    if not path_parameters:
        return st.just(path_parameters)
    real = {name: KNOWN[name] for name in path_parameters if name in KNOWN}
    return st.sampled_from([path_parameters, {**path_parameters, **real}])


@pytest.fixture
def token(settings, campaign) -> Iterator[str]:
    """A token with every scope of a campaign with one of everything; the application
    answering inside the test's transaction."""
    made = factories.campaign_with_everything(campaign)
    KNOWN.update(
        {
            "person_id": made["people"][0].pk,
            "tag_id": made["tag"].pk,
            "segment_id": made["segment"].pk,
            "event_id": made["event"].pk,
            "rsvp_id": made["rsvp"].pk,
            "action_id": made["petition"].pk,
            "submission_id": made["submission"].pk,
            "mailing_id": made["mailing"].pk,
            "canvass_id": made["canvass"].pk,
            "visit_id": made["visit"].pk,
            "station_code": made["stations"][0].code,
            "election_id": made["election"].pk,
        }
    )
    settings.ALLOWED_HOSTS = ["localhost"]
    settings.API_RATE_LIMIT = 1_000_000
    # As Django's test client does: a request must not close the connection that holds
    # the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield factories.ApiTokenFactory(campaign=campaign).key
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        KNOWN.clear()


@schema.parametrize()
def test_the_api_keeps_to_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
