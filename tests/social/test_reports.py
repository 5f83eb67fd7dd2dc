"""Who came from each post and each network, and what they did next: a post's tracked
link followed to a public page (the view counted), through its form (the referral kept
on the submission or RSVP), into the reports — in aggregate, a group under three shown
as "< 3"."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.utils import timezone

from suffrage.engagement.models import RSVP, PageView, Submission
from suffrage.people.services import person_merge
from suffrage.privacy import erasure
from suffrage.social import links, selectors
from suffrage.social.importing import Arrivals
from suffrage.social.models import NetworkArrival, Post
from tests.factories import (
    ActionFactory,
    CallToActionFactory,
    ConsentEventFactory,
    ConsentWordingFactory,
    EventFactory,
    PersonFactory,
    PostFactory,
    RSVPFactory,
    SocialProfileFactory,
    SubmissionFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


@pytest.fixture
def campaign(campaign):
    campaign.languages = ["en"]
    campaign.save()
    return campaign


def published_post(campaign, **kwargs):
    return PostFactory(campaign=campaign, status=Post.Status.PUBLISHED, published_at=timezone.now(), **kwargs)


def local(link: str) -> str:
    return link.removeprefix(settings.SITE_URL)


def token_of(content: str) -> str:
    return re.search(r'name="_token" value="([^"]+)"', content).group(1)


def test_a_tracked_link_counts_the_view_and_reaches_the_submission(client, campaign):
    petition = ActionFactory(campaign=campaign, kind="petition", slug="tram")
    ConsentWordingFactory(action=petition, channel="email")
    post = published_post(campaign, action=petition)
    url = local(links.post_link(post, "mastodon"))
    referral = f"post-{post.code}-mastodon"

    page = client.get(url, REMOTE_ADDR=IP).content.decode()
    assert f'<input type="hidden" name="via" value="{referral}">' in page
    assert PageView.objects.get(campaign=campaign, page=f"via:{referral}").count == 1
    assert PageView.objects.get(campaign=campaign, page=f"action:{petition.pk}").count == 1

    data = {
        "first_names": "Anne",
        "last_name": "Le Gall",
        "email": "anne@example.org",
        "consent_email": "on",
        "_token": token_of(page),
        "via": referral,
    }
    response = client.post(f"/e/{campaign.slug}/f/tram/", data, REMOTE_ADDR=IP)
    assert response.status_code == 302
    assert Submission.objects.get(action=petition).referral == referral


def test_a_tracked_link_reaches_the_rsvp_even_through_a_call_to_action(client, campaign):
    event = EventFactory(campaign=campaign, slug="reunion")
    call = CallToActionFactory(campaign=campaign, kind="event", event=event, slug="venir", url="")
    post = published_post(campaign, call=call)
    referral = f"post-{post.code}-bluesky"

    call_page = client.get(local(links.post_link(post, "bluesky"))).content.decode()
    event_link = f"/e/{campaign.slug}/events/reunion/?via={referral}"
    assert event_link in call_page
    page = client.get(event_link, REMOTE_ADDR=IP).content.decode()
    data = {
        "first_names": "Yann",
        "email": "yann@example.org",
        "guests": "0",
        "_token": token_of(page),
        "via": referral,
    }
    assert client.post(f"/e/{campaign.slug}/events/reunion/", data, REMOTE_ADDR=IP).status_code == 302
    assert RSVP.objects.get(event=event).referral == referral
    assert PageView.objects.get(campaign=campaign, page=f"via:{referral}").count == 2  # the call's page, the event's


def test_a_referral_that_is_not_one_is_ignored(client, campaign):
    petition = ActionFactory(campaign=campaign, slug="tram")
    page = client.get(f"/e/{campaign.slug}/f/tram/?via=%22%3E%3Cscript%3E").content.decode()
    assert 'name="via"' not in page and "<script>" not in page
    assert not PageView.objects.filter(page__startswith="via:").exists()
    data = {"first_names": "Anne", "email": "anne@example.org", "_token": token_of(page), "via": "x" * 80}
    client.post(f"/e/{campaign.slug}/f/tram/", data, REMOTE_ADDR=IP)
    assert Submission.objects.get(action=petition).referral == ""


def _later(hours: int = 1) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=hours)


def test_a_posts_figures_and_what_its_people_did_next(campaign, owner, english):
    petition = ActionFactory(campaign=campaign, kind="petition")
    post = published_post(campaign, action=petition)
    other_post = published_post(campaign)
    mastodon, bluesky = f"post-{post.code}-mastodon", f"post-{post.code}-bluesky"
    people = [PersonFactory(campaign=campaign) for _ in range(6)]
    for person in people[:5]:
        SubmissionFactory(action=petition, person=person, referral=mastodon)
    SubmissionFactory(action=petition, person=people[5], referral=bluesky)
    PageView.objects.create(campaign=campaign, page=f"via:{mastodon}", day=timezone.localdate(), count=40)
    PageView.objects.create(campaign=campaign, page=f"via:{bluesky}", day=timezone.localdate(), count=2)
    # What they did next: four signed another form, one came to a meeting, one was met at
    # home, three agreed to emails. Someone who did not come from the post counts for nothing.
    later_form = ActionFactory(campaign=campaign)
    for person in people[:4]:
        SubmissionFactory(action=later_form, person=person, created_at=_later())
    RSVPFactory(event__campaign=campaign, person=people[4], created_at=_later(), checked_in_at=_later(48))
    VisitFactory(door__turf__canvass__campaign=campaign, person=people[5], outcome="opened", recorded_at=_later())
    for person in people[:3]:
        ConsentEventFactory(person=person, channel="email", granted=True, at=_later())
    bystander = PersonFactory(campaign=campaign)
    SubmissionFactory(action=later_form, person=bystander, created_at=_later())
    # Before the post, it does not count.
    SubmissionFactory(action=later_form, person=people[5], created_at=timezone.now() - datetime.timedelta(days=3))

    rows = {row.post.pk: row for row in selectors.post_report(campaign)}
    row = rows[post.pk]
    assert row.views == 42 and row.submissions == "6" and row.rsvps == "0"
    assert row.steps.shown == ["6", "4", "< 3", "< 3", "< 3", "3", "0"]
    assert row.by_network == [("Bluesky", "< 3"), ("Mastodon", "5")]
    assert rows[other_post.pk].steps.people == 0

    page = english(owner).get(f"/c/{campaign.slug}/social/reports/").content.decode()
    assert "&lt; 3" in page and "Mastodon: 5" in page


def test_people_from_each_network_and_what_they_did_next(campaign, owner, english):
    long_ago = timezone.now() - datetime.timedelta(days=30)
    followers = [PersonFactory(campaign=campaign) for _ in range(4)]
    for person in followers:
        NetworkArrival.objects.create(campaign=campaign, network="mastodon", person_id=person.pk, at=long_ago)
    SocialProfileFactory(person=followers[0], network="mastodon")  # counted once
    # A profile entered by hand: since the person entered the base.
    by_hand = PersonFactory(campaign=campaign, collected_at=long_ago)
    SocialProfileFactory(person=by_hand, network="instagram")
    for person in followers[:3]:
        SubmissionFactory(action__campaign=campaign, person=person)
    RSVPFactory(event__campaign=campaign, person=by_hand)
    # Before they came from the network: not "next".
    ConsentEventFactory(person=followers[3], channel="sms", granted=True, at=long_ago - datetime.timedelta(days=1))
    # Through a post on Mastodon.
    post = published_post(campaign)
    SubmissionFactory(
        action__campaign=campaign, person=PersonFactory(campaign=campaign), referral=f"post-{post.code}-mastodon"
    )

    rows = {row.network: row for row in selectors.network_report(campaign)}
    assert set(rows) == {"mastodon", "instagram"}
    assert rows["mastodon"].audience.shown == ["4", "3", "0", "0", "0", "0", "0"]
    assert rows["mastodon"].through_posts.shown[0] == "< 3"
    assert rows["instagram"].audience.shown == ["< 3", "0", "< 3", "0", "0", "0", "0"]

    page = english(owner).get(f"/c/{campaign.slug}/social/reports/").content.decode()
    assert "Audience brought in" in page and "Instagram" in page


def test_an_import_notes_where_people_came_from_once(campaign):
    arrivals = Arrivals(campaign, "Followers", "legitimate_interest")
    values = {
        "network": "bluesky",
        "handle": "anne.bsky.social",
        "url": "https://bsky.app/profile/anne.bsky.social",
        "external_id": "did:plc:anne",
        "display_name": "Anne",
        "first_name": "",
        "last_name": "",
        "email": "",
        "phone": "",
        "town": "",
        "postcode": "",
        "consents": "",
        "consent_wording": "",
    }
    verdict = arrivals.arrive(values)
    arrival = NetworkArrival.objects.get(campaign=campaign)
    assert (arrival.network, arrival.person_id) == ("bluesky", verdict.person_id)
    arrivals.arrive(values)  # the same follower again: already known, nothing new
    assert NetworkArrival.objects.filter(campaign=campaign).count() == 1


def test_a_merged_records_arrival_counts_for_the_kept_one_and_goes_with_its_erasure(campaign, owner):
    keep, other = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    NetworkArrival.objects.create(campaign=campaign, network="x", person_id=other.pk)
    other_pk = other.pk
    person_merge(keep=keep, other=other, actor=owner)
    assert selectors.audience(campaign)["x"].keys() == {keep.pk}

    erasure.person_erase(person=keep, actor=owner)
    assert not NetworkArrival.objects.filter(person_id__in=[keep.pk, other_pk]).exists()


def test_the_reports_show_nothing_of_another_campaign(campaign, other_campaign, owner, english):
    theirs = PostFactory(campaign=other_campaign, status=Post.Status.PUBLISHED, text="Quimper d'abord")
    SubmissionFactory(action__campaign=other_campaign, referral=f"post-{theirs.code}-mastodon")
    NetworkArrival.objects.create(
        campaign=other_campaign, network="x", person_id=PersonFactory(campaign=other_campaign).pk
    )
    page = english(owner).get(f"/c/{campaign.slug}/social/reports/").content.decode()
    assert "Quimper" not in page
    assert "Nobody has come from a social network yet." in page
    assert selectors.network_report(campaign) == []


def test_reports_are_for_analysts_too_not_for_volunteers(campaign, member, login):
    assert login(member("analyst")).get(f"/c/{campaign.slug}/social/reports/").status_code == 200
    assert login(member("volunteer")).get(f"/c/{campaign.slug}/social/reports/").status_code == 403
