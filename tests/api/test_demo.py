"""The demo's read-only API key, printed in the API guide, works on the demo campaign."""

import pytest

from suffrage.api import demo
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_the_documented_demo_key_reads_but_cannot_write(campaign, owner):
    demo.load(campaign)
    demo.load(campaign)  # the demo loader runs at every start
    client = ApiClient(demo.DEMO_KEY)
    body = client.get("/api/v1/").json()
    assert body["campaign"]["slug"] == campaign.slug and "people:write" not in body["scopes"]
    assert client.post("/api/v1/people", {"first_names": "Anne"}).status_code == 403
