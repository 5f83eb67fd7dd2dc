"""Robots and bad input on the public pages: floods stop at the rate limits, honeypot
posts create nothing, the proof of work is required when on and used once, and
oversized input is refused."""

import json
import re
import time

import pytest
from django.urls import reverse

from suffrage.engagement import public, services
from suffrage.people.models import Person
from tests.factories import ActionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(campaign):
    campaign.languages = ["en", "fr"]
    campaign.save()
    return campaign


@pytest.fixture
def action(campaign):
    return ActionFactory(campaign=campaign)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Rate limits count per minute: the flood must not straddle two minutes."""
    now = time.time()
    monkeypatch.setattr("time.time", lambda: now)
    return now


def form_url(campaign, action):
    return reverse("engagement_public:action", args=[campaign.slug, action.slug])


def page_fields(response):
    content = response.content.decode()
    return dict(re.findall(r'<input type="hidden" name="(_token|_pow_challenge)" value="([^"]*)"', content))


def person(n):
    return {"first_names": f"Robot {n}", "last_name": "Bot", "email": f"robot{n}@example.org"}


def test_a_flood_from_one_address_creates_at_most_the_rate_limits_worth_of_people(
    client, campaign, action, frozen_clock
):
    url = form_url(campaign, action)
    token = page_fields(client.get(url))["_token"]

    statuses = [
        client.post(url, {**person(n), "_token": token}, REMOTE_ADDR="192.0.2.66").status_code for n in range(1000)
    ]

    assert Person.objects.filter(campaign=campaign).count() == public.PER_IP_LIMIT
    assert statuses.count(302) == public.PER_IP_LIMIT
    assert statuses.count(429) == 1000 - public.PER_IP_LIMIT
    refused = client.post(url, {**person(0), "_token": token}, REMOTE_ADDR="192.0.2.66")
    assert "Wait a minute" in refused.content.decode()
    # Another address is not affected.
    assert client.post(url, {**person(1001), "_token": token}, REMOTE_ADDR="192.0.2.67").status_code == 302


def test_a_flood_of_honeypot_posts_from_many_addresses_creates_nobody(client, campaign, action, frozen_clock):
    url = form_url(campaign, action)
    token = page_fields(client.get(url))["_token"]

    responses = [
        client.post(
            url,
            {**person(n), "website": "https://cheap-pills.example", "_token": token},
            REMOTE_ADDR=f"10.{n // 250}.{n % 250}.1",
        )
        for n in range(1000)
    ]

    assert not Person.objects.exists()
    # Pretended success: the robot learns nothing.
    thanks = reverse("engagement_public:action_thanks", args=[campaign.slug, action.slug])
    assert {(response.status_code, response["Location"]) for response in responses} == {(302, thanks)}


def test_the_honeypot_is_out_of_reach_of_people(client, campaign, action):
    content = client.get(form_url(campaign, action)).content.decode()
    honeypot = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', content, re.S).group(0)
    assert 'name="website"' in honeypot and 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot


def test_a_flood_from_many_addresses_stops_at_the_forms_ceiling(client, campaign, action, frozen_clock, monkeypatch):
    monkeypatch.setattr(public, "PER_FORM_LIMIT", 5)
    url = form_url(campaign, action)
    token = page_fields(client.get(url))["_token"]

    statuses = [
        client.post(url, {**person(n), "_token": token}, REMOTE_ADDR=f"10.0.0.{n + 1}").status_code for n in range(20)
    ]

    assert Person.objects.count() == 5
    assert statuses.count(429) == 15


def solve(challenge):
    bits = int(challenge.split(":")[0].split(".")[1])
    nonce = 0
    while not public.pow_solves(challenge, str(nonce), bits):
        nonce += 1
    return str(nonce)


@pytest.fixture
def proof_of_work(campaign):
    site = services.site_for(campaign)
    site.proof_of_work = True
    site.save()
    return site


def test_with_proof_of_work_on_the_page_carries_a_challenge_and_says_it_needs_javascript(
    client, campaign, action, proof_of_work
):
    content = client.get(form_url(campaign, action)).content.decode()
    assert "data-pow" in content and "engagement/pow.js" in content
    assert '<noscript><p class="message warning">This form needs JavaScript' in content
    challenge = page_fields(client.get(form_url(campaign, action)))["_pow_challenge"]
    assert challenge.split(":")[0].endswith(f".{public.POW_BITS}")


def test_a_solved_challenge_passes_once(client, campaign, action, proof_of_work):
    url = form_url(campaign, action)
    fields = page_fields(client.get(url))
    solved = {**fields, "_pow_nonce": solve(fields["_pow_challenge"])}

    assert client.post(url, {**person(1), **solved}).status_code == 302
    reused = client.post(url, {**person(2), **solved})

    assert reused.status_code == 400
    assert "already used" in reused.content.decode()
    assert Person.objects.count() == 1


def test_a_wrong_or_missing_nonce_is_refused(client, campaign, action, proof_of_work):
    url = form_url(campaign, action)
    fields = page_fields(client.get(url))
    nonce = int(solve(fields["_pow_challenge"]))
    wrong = next(
        str(n) for n in range(nonce + 1, nonce + 1000) if not public.pow_solves(fields["_pow_challenge"], str(n), 16)
    )

    for attempt in ({"_pow_nonce": wrong}, {"_pow_nonce": ""}, {"_pow_challenge": "forged.0:1:abc", "_pow_nonce": "1"}):
        response = client.post(url, {**person(1), **fields, **attempt})
        assert response.status_code == 400
        assert "This form needs JavaScript" in response.content.decode()
    assert not Person.objects.exists()


def test_an_expired_challenge_is_refused(client, campaign, action, proof_of_work, monkeypatch):
    url = form_url(campaign, action)
    fields = page_fields(client.get(url))
    nonce = solve(fields["_pow_challenge"])
    later = time.time() + public.POW_AGE + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)

    response = client.post(url, {**person(1), **fields, "_pow_nonce": nonce})

    assert response.status_code == 400
    assert "has expired" in response.content.decode()
    assert not Person.objects.exists()


def test_without_proof_of_work_no_challenge_is_asked(client, campaign, action):
    content = client.get(form_url(campaign, action)).content.decode()
    assert "_pow_challenge" not in content and "pow.js" not in content


def test_an_oversize_json_body_is_refused(client, campaign, action):
    site = services.site_for(campaign)
    payload = {
        "person": {"given_name": "A" * 30_000, "email_addresses": [{"address": "a@example.org"}]},
        "form": action.slug,
    }
    response = client.post(
        reverse("engagement_public:api_signup", args=[campaign.slug]),
        json.dumps(payload),
        content_type="application/json",
        headers={"OSDI-API-Token": site.api_key},
    )
    assert response.status_code == 413
    assert "body" in response.json()["errors"]
    assert not Person.objects.exists()


def test_the_json_endpoint_is_rate_limited_per_address(client, campaign, action, frozen_clock):
    site = services.site_for(campaign)
    url = reverse("engagement_public:api_signup", args=[campaign.slug])
    statuses = [
        client.post(
            url,
            json.dumps(
                {
                    "person": {"given_name": "A", "email_addresses": [{"address": f"a{n}@example.org"}]},
                    "form": action.slug,
                }
            ),
            content_type="application/json",
            headers={"OSDI-API-Token": site.api_key},
            REMOTE_ADDR="192.0.2.80",
        ).status_code
        for n in range(public.API_PER_IP_LIMIT + 5)
    ]
    assert statuses.count(201) == public.API_PER_IP_LIMIT
    assert statuses[-1] == 429
