"""API tokens: made by owners on the API page (the key shown once, only its hash kept),
accepted in the Authorization or OSDI-API-Token header, refused when unknown, revoked,
expired, without the endpoint's scope or over the rate; calls that reach personal data
are audited; the last-used date is kept."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from suffrage.api.models import ApiToken
from suffrage.api.tokens import key_hash
from suffrage.core.models import AuditLog
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_an_owner_creates_a_token_and_sees_its_key_once(campaign, owner, login):
    client = login(owner)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(
        f"/c/{campaign.slug}/api/tokens/", {"name": "Website", "scopes": ["people:read"], "expiry": "30"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = re.search(r'value="(sfg_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get(campaign=campaign)
    assert token.scopes == ["people:read"] and token.created_by == owner
    assert token.key_hash == key_hash(key) and key not in str(token.__dict__)
    assert 29 <= (token.expires_at - timezone.now()).days <= 30
    assert AuditLog.objects.filter(action="api.token_create", object_id=str(token.pk)).exists()
    # The list shows its prefix, never the key again.
    page = client.get(f"/c/{campaign.slug}/api/tokens/").content.decode()
    assert token.prefix in page and key not in page
    assert ApiClient(key).get("/api/v1/").json()["scopes"] == ["people:read"]


@pytest.mark.parametrize("role", ["manager", "organiser", "volunteer", "analyst", "dpo"])
def test_only_owners_manage_tokens(campaign, member, login, role):
    assert login(member(role)).get(f"/c/{campaign.slug}/api/tokens/").status_code == 403


def test_a_token_without_scope_is_refused_at_creation(campaign, owner, login):
    login(owner).post(f"/c/{campaign.slug}/api/tokens/", {"name": "Nothing", "scopes": []})
    assert not ApiToken.objects.exists()


def test_the_root_names_the_campaign_of_the_token(campaign, api):
    body = api.get("/api/v1/").json()
    assert body["campaign"] == {"slug": campaign.slug, "name": campaign.name}


def test_the_osdi_header_is_accepted(campaign, api_token):
    from django.test import Client

    response = Client(HTTP_OSDI_API_TOKEN=api_token.key).get("/api/v1/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header,detail",
    [
        ({}, "An API token is required"),
        ({"HTTP_AUTHORIZATION": "Bearer sfg_nope_nope"}, "not valid"),
        ({"HTTP_AUTHORIZATION": "Bearer something-else"}, "not valid"),
    ],
)
def test_calls_without_a_valid_key_get_401_with_a_reason(db, header, detail):
    from django.test import Client

    response = Client(HTTP_ACCEPT_LANGUAGE="en", **header).get("/api/v1/")
    assert response.status_code == 401
    assert detail in response.json()["detail"] and response.json()["errors"] == []


def test_a_wrong_secret_for_a_known_prefix_is_refused(api_token):
    forged = api_token.key[:-3] + "xyz"
    assert ApiClient(forged).get("/api/v1/").status_code == 401


def test_revoked_and_expired_tokens_are_refused(campaign, owner, login, api_token):
    login(owner).post(f"/c/{campaign.slug}/api/tokens/{api_token.pk}/revoke/")
    response = ApiClient(api_token.key).get("/api/v1/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert AuditLog.objects.filter(action="api.token_revoke", object_id=str(api_token.pk)).exists()

    from tests.factories import ApiTokenFactory

    expired = ApiTokenFactory(campaign=campaign, expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = ApiClient(expired.key).get("/api/v1/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_another_campaigns_owner_cannot_revoke(campaign, other_campaign, member, login, api_token):
    from tests.factories import MembershipFactory, UserFactory

    stranger = UserFactory()
    MembershipFactory(campaign=other_campaign, user=stranger, role="owner")
    response = login(stranger).post(f"/c/{other_campaign.slug}/api/tokens/{api_token.pk}/revoke/")
    assert response.status_code == 404
    api_token.refresh_from_db()
    assert api_token.revoked_at is None


def test_the_rate_limit_answers_429_with_retry_after(settings, api):
    settings.API_RATE_LIMIT = 3
    statuses = [api.get("/api/v1/").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    response = api.get("/api/v1/")
    assert 1 <= int(response["Retry-After"]) <= 60 and "Too many" in response.json()["detail"]


def test_the_last_use_is_recorded(api, api_token):
    assert api_token.last_used_at is None
    api.get("/api/v1/")
    api_token.refresh_from_db()
    assert api_token.last_used_at is not None


def test_calls_in_a_personal_scope_are_audited(campaign, api_token):
    from django.test import RequestFactory

    from suffrage.api.rest.common import token_authenticate

    request = RequestFactory().get("/api/v1/people/", HTTP_AUTHORIZATION=f"Bearer {api_token.key}")
    assert token_authenticate(request, "people:read") == api_token
    assert token_authenticate(request, "analytics:read") == api_token
    rows = AuditLog.objects.filter(action="api.call", campaign=campaign)
    assert [row.changes["scope"] for row in rows] == ["people:read"]
    assert rows[0].changes["path"] == "/api/v1/people/" and rows[0].actor == api_token.created_by


def test_a_token_without_the_scope_gets_403(campaign, api_for):
    from django.test import RequestFactory

    from suffrage.api.rest.common import ApiError, token_authenticate
    from tests.factories import ApiTokenFactory

    token = ApiTokenFactory(campaign=campaign, scopes=["analytics:read"])
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token.key}")
    with pytest.raises(ApiError) as refused:
        token_authenticate(request, "people:read")
    assert refused.value.status_code == 403 and "people:read" in refused.value.detail


def test_the_documentation_and_schema_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
