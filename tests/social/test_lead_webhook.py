"""Meta's Lead Ads webhook: the subscription check, signatures checked on the raw body,
and each lead announced read from the Graph API (served locally with its documented
format) into the base with the consent given on the form."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import TestCase

from suffrage.people.models import ConsentEvent, Person
from suffrage.social import services
from tests.social.test_clients import fake  # noqa: F401 (a local API server fixture)

pytestmark = pytest.mark.django_db

APP_SECRET = "app-secret"


@pytest.fixture
def page(campaign, owner, fake):  # noqa: F811
    return services.account_save(
        campaign=campaign,
        values={
            "network": "facebook",
            "name": "Brest en commun",
            "handle": "1234567890",
            "server": fake.url,
            "page_token": "page-token",
            "app_secret": APP_SECRET,
            "verify_token": "verifie-moi",
        },
        actor=owner,
    )


def _notify(client, page, payload, secret=APP_SECRET):
    """Post as Meta does, then run what the answer enqueued (the task reading the leads)."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            f"/hooks/social/{page.webhook_key}/",
            body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=signature,
        )


def test_the_subscription_check_echoes_the_challenge_only_with_our_token(client, page):
    url = f"/hooks/social/{page.webhook_key}/"
    ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "verifie-moi", "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "autre", "hub.challenge": "1"})
    assert wrong.status_code == 403


def test_a_signed_notification_brings_the_lead_in_with_its_consent(client, page, fake):  # noqa: F811
    fake.route(
        "GET",
        "/987654321",
        (
            200,
            {
                "id": "987654321",
                "created_time": "2026-11-20T10:00:00+0000",
                "field_data": [
                    {"name": "full_name", "values": ["Anne Le Gall"]},
                    {"name": "email", "values": ["anne@example.org"]},
                    {"name": "J'accepte de recevoir les courriels de la campagne", "values": ["Oui"]},
                ],
            },
            {},
        ),
    )
    payload = {
        "object": "page",
        "entry": [{"id": "1234567890", "changes": [{"field": "leadgen", "value": {"leadgen_id": "987654321"}}]}],
    }

    assert _notify(client, page, payload, secret="wrong").status_code == 403
    assert not Person.objects.exists()

    assert _notify(client, page, payload).status_code == 200
    person = Person.objects.get(emails__address="anne@example.org")
    assert person.source == "social"
    proof = ConsentEvent.objects.get(person=person, channel="email", granted=True)
    assert "recevoir les courriels" in proof.wording
    (call,) = fake.calls("/987654321")
    assert call.headers["authorization"] == "Bearer page-token"


def test_another_networks_account_has_no_lead_webhook(client, campaign, owner):
    mastodon = services.account_save(
        campaign=campaign,
        values={"network": "mastodon", "name": "M", "handle": "@a@b.example", "server": "https://b.example"},
        actor=owner,
    )
    assert client.get(f"/hooks/social/{mastodon.webhook_key}/").status_code == 404
