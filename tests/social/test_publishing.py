"""Publishing a post on Mastodon, Bluesky and a Facebook Page, end to end: the service,
the task it enqueues and the tick, against one local server speaking each network's
documented API (tests/social/test_clients.py). What could go wrong is checked: a
network that refuses, one that asks to wait, an expired token, two ticks in a row, a
worker that died holding a claim, an electoral silence."""

from __future__ import annotations

import datetime
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone, translation

from suffrage.core.models import AuditLog
from suffrage.social import posts
from suffrage.social.models import Post, Publication, SocialAccount
from tests.factories import SOCIAL_PNG, EventFactory, PostFactory, PublicationFactory
from tests.social.conftest import (
    MASTODON_TOKEN,
    PAGE_ID,
    accounts_for,
    compose,
    networks_answer,
    publish,
    silence_covering,
    tick,
)
from tests.social.test_clients import POST_URI

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def accounts(campaign, owner, fake):
    return accounts_for(campaign, owner, fake)


def via(link: str) -> str:
    return parse_qs(urlsplit(link).query)["via"][0]


def test_a_post_goes_out_on_each_network_with_its_own_tracked_link(campaign, owner, accounts, petition, fake):
    networks_answer(fake)
    post = compose(
        campaign,
        owner,
        accounts.values(),
        target=petition,
        versions={accounts["bluesky"].pk: "Le tram jusqu'à Plougastel 🚋 : signez !"},
    )
    post = publish(post, owner)

    assert post.status == Post.Status.PUBLISHED and post.published_at is not None
    by_network = {p.network: p for p in post.publications.all()}
    assert {network: p.status for network, p in by_network.items()} == dict.fromkeys(by_network, "published")
    assert by_network["mastodon"].remote_url == "https://mastodon.example/@brest/110"
    assert by_network["bluesky"].remote_id == POST_URI
    assert by_network["facebook"].remote_url == f"https://www.facebook.com/{PAGE_ID}_998877"

    (status,) = fake.calls("/api/v1/statuses")
    text, link = status.form()["status"][0].split("\n\n")
    assert text == "Signez la pétition pour le tram !"
    assert link.startswith(f"{settings.SITE_URL}/e/{campaign.slug}/f/tram/?via=")
    assert via(link) == f"post-{post.code}-mastodon"
    assert status.headers["idempotency-key"] == f"suffrage-{post.code}-{by_network['mastodon'].pk}"
    assert status.headers["authorization"] == f"Bearer {MASTODON_TOKEN}"

    record = fake.calls("/xrpc/com.atproto.repo.createRecord")[0].json()["record"]
    version, bluesky_link = record["text"].split("\n\n")
    assert version == "Le tram jusqu'à Plougastel 🚋 : signez !"
    assert via(bluesky_link) == f"post-{post.code}-bluesky"
    assert record["facets"][0]["features"][0]["uri"] == bluesky_link

    (page_post,) = fake.calls(f"/v21.0/{PAGE_ID}/feed")
    assert page_post.form()["message"] == ["Signez la pétition pour le tram !"]
    assert via(page_post.form()["link"][0]) == f"post-{post.code}-facebook"

    actions = list(AuditLog.objects.filter(campaign=campaign).values_list("action", flat=True))
    assert actions.count("social_post.published") == 3 and "social_post.publish" in actions


def test_an_image_goes_with_its_description(campaign, owner, accounts, fake):
    networks_answer(fake)
    fake.route("POST", "/api/v2/media", (200, {"id": "23", "url": "https://files.example/23.png"}, {}))
    post = PostFactory(campaign=campaign, illustrated=True, image_alt="L'affiche de la réunion")
    PublicationFactory(post=post, account=accounts["mastodon"])
    publish(post, owner)
    (upload,) = fake.calls("/api/v2/media")
    assert upload.parts()["file"]["content"] == SOCIAL_PNG
    assert upload.parts()["description"]["content"].decode() == "L'affiche de la réunion"
    assert fake.calls("/api/v1/statuses")[0].form()["media_ids[]"] == ["23"]


def test_one_network_refusing_leaves_the_others_published_and_says_why(campaign, owner, accounts, fake):
    networks_answer(fake)
    message = "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
    fake.route(
        "POST", "/xrpc/com.atproto.repo.createRecord", (400, {"error": "InvalidRequest", "message": message}, {})
    )
    post = publish(compose(campaign, owner, [accounts["mastodon"], accounts["bluesky"]]), owner)

    assert post.status == Post.Status.PARTIAL
    mastodon, bluesky = (post.publications.get(network=n) for n in ("mastodon", "bluesky"))
    assert mastodon.status == "published" and bluesky.status == "failed"
    assert message in bluesky.error

    # Publishing again goes only where the post is not out.
    fake.route("POST", "/xrpc/com.atproto.repo.createRecord", (200, {"uri": POST_URI, "cid": "bafyrei"}, {}))
    post = publish(post, owner)
    assert post.status == Post.Status.PUBLISHED
    assert len(fake.calls("/api/v1/statuses")) == 1
    assert len(fake.calls("/xrpc/com.atproto.repo.createRecord")) == 2


def test_the_detail_page_shows_each_networks_outcome(campaign, owner, accounts, fake, english):
    networks_answer(fake)
    fake.route("POST", "/xrpc/com.atproto.repo.createRecord", (400, {"error": "InvalidRequest", "message": "Nope"}, {}))
    post = publish(compose(campaign, owner, [accounts["mastodon"], accounts["bluesky"]]), owner)
    page = english(owner).get(f"/c/{campaign.slug}/social/posts/{post.pk}/").content.decode()
    assert "Partly published" in page
    assert "https://mastodon.example/@brest/110" in page
    assert "Bluesky: Nope (HTTP 400)" in page
    assert "Publish again where it is not out" in page


def test_a_rate_limit_is_retried_at_the_time_the_network_gives(campaign, owner, accounts, fake):
    reset = (timezone.now() + datetime.timedelta(minutes=7)).replace(microsecond=0)
    fake.route(
        "POST",
        "/api/v1/statuses",
        (429, {"error": "Too many requests"}, {"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")}),
        (200, {"id": "111", "url": "https://mastodon.example/@brest/111"}, {}),
    )
    post = publish(compose(campaign, owner, [accounts["mastodon"]]), owner)

    publication = post.publications.get()
    assert post.status == Post.Status.PUBLISHING
    assert publication.status == "waiting" and publication.next_attempt_at == reset
    assert "too many requests" in publication.error.lower()
    tick()  # not yet due: the network is not asked again
    assert len(fake.calls("/api/v1/statuses")) == 1

    # The time comes (moved back, so that the test does not wait for it).
    Publication.objects.filter(pk=publication.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    tick()
    post.refresh_from_db()
    publication.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED and publication.attempts == 2
    statuses = fake.calls("/api/v1/statuses")
    assert len(statuses) == 2 and statuses[0].headers["idempotency-key"] == statuses[1].headers["idempotency-key"]


def test_bluesky_rate_limit_waits_until_its_reset_time(campaign, owner, accounts, fake):
    reset = int((timezone.now() + datetime.timedelta(hours=1)).timestamp())
    fake.route(
        "POST",
        "/xrpc/com.atproto.server.createSession",
        (429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, {"ratelimit-reset": str(reset)}),
    )
    post = publish(compose(campaign, owner, [accounts["bluesky"]]), owner)
    publication = post.publications.get()
    assert publication.status == "waiting"
    assert publication.next_attempt_at == datetime.datetime.fromtimestamp(reset, tz=UTC)


def test_an_expired_token_fails_clearly_on_the_post_and_the_account(campaign, owner, accounts, fake, english):
    fake.route("POST", "/api/v1/statuses", (401, {"error": "The access token is invalid"}, {}))
    post = publish(compose(campaign, owner, [accounts["mastodon"]]), owner)

    publication = post.publications.get()
    assert post.status == Post.Status.FAILED and publication.status == "failed"
    assert "connect the account again" in publication.error
    account = SocialAccount.objects.get(pk=accounts["mastodon"].pk)
    assert "connect the account again" in account.last_error
    client = english(owner)
    for page in (f"/c/{campaign.slug}/social/", f"/c/{campaign.slug}/social/posts/{post.pk}/"):
        content = client.get(page).content.decode()
        assert "connect the account again" in content
        assert MASTODON_TOKEN not in content
    assert "social_post.failed" in AuditLog.objects.filter(campaign=campaign).values_list("action", flat=True)


def test_an_account_without_a_token_is_not_called(campaign, owner, fake):
    account = SocialAccount.objects.create(
        campaign=campaign, network="mastodon", name="Sans jeton", handle="@x@127.0.0.1", server=fake.url
    )
    post = publish(compose(campaign, owner, [account]), owner)
    assert post.status == Post.Status.FAILED
    assert "No access token is stored" in post.publications.get().error
    assert fake.seen == []


def test_two_ticks_in_a_row_publish_once(campaign, owner, accounts, fake):
    networks_answer(fake)
    post = compose(campaign, owner, [accounts["mastodon"], accounts["facebook"]])
    posts.post_schedule(post=post, at=timezone.now() + datetime.timedelta(hours=1), actor=owner)
    later = timezone.now() + datetime.timedelta(hours=1, seconds=1)
    tick(later)
    tick(later)
    assert len(fake.calls("/api/v1/statuses")) == 1
    assert len(fake.calls(f"/v21.0/{PAGE_ID}/feed")) == 1
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED


def test_a_claimed_publication_is_left_to_the_worker_that_claimed_it(campaign, owner, accounts, fake):
    networks_answer(fake)
    post = compose(campaign, owner, [accounts["facebook"]])
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    publication = post.publications.select_related("account", "post__campaign").get()
    first = Publication.objects.select_related("account", "post__campaign").get(pk=publication.pk)
    assert posts._claim(first, timezone.now())  # another worker holds it
    assert posts.publication_publish(publication) == ""
    assert fake.calls(f"/v21.0/{PAGE_ID}/feed") == []


def test_a_dead_workers_claim_is_never_published_twice(campaign, owner, accounts, fake):
    """Bluesky's is marked failed, to be checked by hand; Mastodon's is tried again with
    the same Idempotency-Key, so that Mastodon publishes it once whatever happened."""
    networks_answer(fake)
    post = compose(campaign, owner, [accounts["mastodon"], accounts["bluesky"]])
    twenty_minutes_ago = timezone.now() - datetime.timedelta(minutes=20)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    post.publications.update(status="sending", claimed_at=twenty_minutes_ago, attempts=1)

    tick()

    post.refresh_from_db()
    mastodon, bluesky = (post.publications.get(network=n) for n in ("mastodon", "bluesky"))
    assert bluesky.status == "failed" and "look on Bluesky whether the post is there" in bluesky.error
    assert fake.calls("/xrpc/com.atproto.repo.createRecord") == []
    assert mastodon.status == "published"
    (status,) = fake.calls("/api/v1/statuses")
    assert status.headers["idempotency-key"] == posts.idempotency_key(mastodon)
    assert post.status == Post.Status.PARTIAL


def test_a_recent_claim_is_not_touched_by_the_tick(campaign, owner, accounts, fake):
    networks_answer(fake)
    post = compose(campaign, owner, [accounts["bluesky"]])
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    post.publications.update(status="sending", claimed_at=timezone.now() - datetime.timedelta(minutes=2))
    tick()
    assert post.publications.get().status == "sending"
    assert fake.seen == []


def test_publish_now_is_refused_during_the_electoral_silence(campaign, owner, accounts, fake, english):
    networks_answer(fake)
    silence_covering(campaign, timezone.now())
    post = compose(campaign, owner, [accounts["mastodon"]])
    with pytest.raises(ValidationError, match="Electoral silence for “Municipales”: nothing is published until"):
        posts.post_publish(post=post, actor=owner)

    response = english(owner).post(f"/c/{campaign.slug}/social/posts/{post.pk}/publish/", follow=True)
    page = response.content.decode()
    assert "Electoral silence for “Municipales”: nothing is published until" in page
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    assert fake.seen == []


def test_a_time_in_the_silence_is_refused_when_scheduling(campaign, owner, accounts):
    in_ten_days = timezone.now() + datetime.timedelta(days=10)
    silence_covering(campaign, in_ten_days)
    post = compose(campaign, owner, [accounts["mastodon"]])
    with pytest.raises(ValidationError, match="falls in the electoral silence"):
        posts.post_schedule(post=post, at=in_ten_days, actor=owner)
    posts.post_schedule(post=post, at=in_ten_days - datetime.timedelta(days=3), actor=owner)
    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED


def test_a_scheduled_post_falling_due_in_a_silence_stays_blocked(campaign, owner, accounts, fake, english):
    networks_answer(fake)
    post = compose(campaign, owner, [accounts["mastodon"], accounts["bluesky"]])
    due = timezone.now() + datetime.timedelta(days=5)
    posts.post_schedule(post=post, at=due, actor=owner)
    silence_covering(campaign, due)  # an election added after the post was scheduled

    page = english(owner).get(f"/c/{campaign.slug}/social/posts/{post.pk}/").content.decode()
    assert "falls in an electoral silence" in page

    tick(due + datetime.timedelta(minutes=1))
    post.refresh_from_db()
    assert post.status == Post.Status.BLOCKED
    assert set(post.publications.values_list("status", flat=True)) == {"blocked"}
    assert "Electoral silence for “Municipales”" in post.publications.first().error
    tick(due + datetime.timedelta(days=3))  # after the silence: still not published
    post.refresh_from_db()
    assert post.status == Post.Status.BLOCKED
    assert fake.seen == []


def test_a_scheduled_post_is_published_by_the_tick_when_due(campaign, owner, accounts, fake):
    networks_answer(fake)
    post = compose(campaign, owner, [accounts["mastodon"]])
    due = timezone.now() + datetime.timedelta(hours=2)
    posts.post_schedule(post=post, at=due, actor=owner)

    tick()
    assert fake.seen == []
    tick(due + datetime.timedelta(seconds=30))
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED
    assert post.scheduled_at == due and post.published_at is not None


def test_a_cancelled_schedule_is_not_published(campaign, owner, accounts, fake):
    networks_answer(fake)
    post = compose(campaign, owner, [accounts["mastodon"]])
    due = timezone.now() + datetime.timedelta(hours=2)
    posts.post_schedule(post=post, at=due, actor=owner)
    posts.post_cancel(post=post, actor=owner)
    tick(due + datetime.timedelta(minutes=1))
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT and post.scheduled_at is None
    assert fake.seen == []


def test_a_link_to_a_draft_page_is_refused_before_anything_goes_out(campaign, owner, accounts, fake):
    event = EventFactory(campaign=campaign, status="draft", title="Meeting en préparation")
    post = compose(campaign, owner, [accounts["mastodon"]], target=event)
    with pytest.raises(ValidationError, match="still a draft"):
        posts.post_publish(post=post, actor=owner)
    assert fake.seen == []


def test_a_published_post_can_no_longer_change_nor_go(campaign, owner, accounts, fake):
    networks_answer(fake)
    post = publish(compose(campaign, owner, [accounts["mastodon"]]), owner)
    with pytest.raises(ValidationError):
        compose_again = posts.PostValues(text="Autre chose", accounts=[accounts["mastodon"]])
        posts.post_save(campaign=campaign, values=compose_again, actor=owner, post=post)
    with pytest.raises(ValidationError):
        posts.post_delete(post=post, actor=owner)
    with pytest.raises(ValidationError, match="already published"):
        posts.post_publish(post=post, actor=owner)
    assert Post.objects.filter(pk=post.pk).exists()


def test_the_task_runs_again_later_only_through_the_tick_without_deferral(campaign, owner, accounts, fake):
    """The immediate backend cannot defer: the task says to come back, the tick does."""
    fake.route("POST", "/api/v1/statuses", (429, {"error": "Too many requests"}, {}))
    post = compose(campaign, owner, [accounts["mastodon"]])
    with TestCase.captureOnCommitCallbacks(execute=True):
        posts.post_publish(post=post, actor=owner)
    publication = post.publications.get()
    assert publication.status == "waiting"
    assert publication.next_attempt_at > timezone.now() + datetime.timedelta(minutes=4)


def test_the_tick_command_publishes_what_is_due(campaign, owner, accounts, fake):
    networks_answer(fake)
    post = compose(campaign, owner, [accounts["facebook"]])
    posts.post_schedule(post=post, at=timezone.now() + datetime.timedelta(hours=1), actor=owner)
    Post.objects.filter(pk=post.pk).update(scheduled_at=timezone.now() - datetime.timedelta(minutes=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("social_tick", stdout=io.StringIO())
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED
    assert len(fake.calls(f"/v21.0/{PAGE_ID}/feed")) == 1
