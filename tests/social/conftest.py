"""What the publishing tests share: the campaign's three accounts, all pointing at one
local server that speaks Mastodon's, Bluesky's and the Graph API's documented formats
(the fake of test_clients.py), and a post to publish on them."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.test import TestCase

from suffrage.social import posts, services
from tests.factories import ActionFactory, CalendarElectionFactory
from tests.social.test_clients import POST_URI, SESSION, Fake, fake  # noqa: F401 (fake: the local server)

MASTODON_TOKEN = "mastodon-token-secret"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
PAGE_TOKEN = "EAAG-page-token"
PAGE_ID = "1234567890"


def accounts_for(campaign, owner, server: Fake) -> dict[str, object]:
    """A Mastodon account, a Bluesky handle and a Facebook Page, with their secrets."""
    values = {
        "mastodon": {"name": "Mastodon", "handle": "@brest@127.0.0.1", "server": server.url, "token": MASTODON_TOKEN},
        "bluesky": {
            "name": "Bluesky",
            "handle": "brest2027.bsky.social",
            "server": server.url,
            "app_password": APP_PASSWORD,
        },
        "facebook": {"name": "Page", "handle": PAGE_ID, "server": f"{server.url}/v21.0", "page_token": PAGE_TOKEN},
    }
    return {
        network: services.account_save(campaign=campaign, values={"network": network, **fields}, actor=owner)
        for network, fields in values.items()
    }


def networks_answer(server: Fake) -> None:
    """Each network publishes what it is given."""
    server.route("POST", "/api/v1/statuses", (200, {"id": "110", "url": "https://mastodon.example/@brest/110"}, {}))
    server.route("POST", "/xrpc/com.atproto.server.createSession", (200, SESSION, {}))
    server.route("POST", "/xrpc/com.atproto.repo.createRecord", (200, {"uri": POST_URI, "cid": "bafyrei"}, {}))
    server.route("POST", f"/v21.0/{PAGE_ID}/feed", (200, {"id": f"{PAGE_ID}_998877"}, {}))


def compose(campaign, owner, accounts, *, text="Signez la pétition pour le tram !", target=None, versions=None):
    return posts.post_save(
        campaign=campaign,
        values=posts.PostValues(text=text, accounts=list(accounts), versions=versions or {}, target=target),
        actor=owner,
    )


def publish(post, owner):
    """Publish now, and run the task it enqueues (the immediate backend runs it at once)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        posts.post_publish(post=post, actor=owner)
    post.refresh_from_db()
    return post


def tick(now=None):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return posts.social_tick(now=now)


def silence_covering(campaign, moment: datetime.datetime):
    """An election whose silence (midnight the day before the round, to 20:00 on the day)
    covers `moment`."""
    day = moment.astimezone(zoneinfo.ZoneInfo(campaign.time_zone)).date()
    return CalendarElectionFactory(
        campaign=campaign, name="Municipales", first_round_on=day + datetime.timedelta(days=1), second_round_on=None
    )


@pytest.fixture
def english(login):
    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


@pytest.fixture
def petition(campaign):
    return ActionFactory(campaign=campaign, kind="petition", slug="tram", title="Pour le tram")
