"""The composer: a post written once with a version per account, each checked on the
server by its network's rules (the browser's counters are only a help), an image kept
in private storage and served to the campaign's members only, roles, isolation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from suffrage.core.models import AuditLog
from suffrage.social.clients.mastodon import URL_LENGTH
from suffrage.social.limits import length_problem, published_text
from suffrage.social.models import Post, Publication, SocialAccount
from tests.factories import (
    SOCIAL_PNG,
    ActionFactory,
    EventFactory,
    PostFactory,
    PublicationFactory,
    SocialAccountFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mastodon(campaign):
    return SocialAccountFactory(campaign=campaign, network="mastodon", name="Mastodon")


@pytest.fixture
def bluesky(campaign):
    return SocialAccountFactory(campaign=campaign, network="bluesky", name="Bluesky", handle="brest.bsky.social")


def new_post(client, campaign, **data):
    return client.post(f"/c/{campaign.slug}/social/posts/new/", data)


def test_a_post_is_saved_with_a_version_per_account_and_a_tracked_link(campaign, owner, english, mastodon, bluesky):
    petition = ActionFactory(campaign=campaign, kind="petition", slug="tram")
    response = new_post(
        english(owner),
        campaign,
        text="Signez pour le tram !\r\nC'est important.",
        accounts=[mastodon.pk, bluesky.pk],
        target=f"action:{petition.pk}",
        **{f"text_{bluesky.pk}": "Le tram, signez !"},
    )
    post = Post.objects.get(campaign=campaign)
    assert response.status_code == 302 and response["Location"].endswith(f"/social/posts/{post.pk}/")
    assert post.text == "Signez pour le tram !\nC'est important."  # line breaks as the networks count them
    assert post.action == petition and post.author == owner and post.status == Post.Status.DRAFT
    versions = dict(post.publications.values_list("account__network", "text"))
    assert versions == {"mastodon": "", "bluesky": "Le tram, signez !"}
    assert AuditLog.objects.filter(action="social_post.create", object_id=str(post.pk)).exists()

    page = english(owner).get(f"/c/{campaign.slug}/social/posts/{post.pk}/").content.decode()
    assert f"/e/{campaign.slug}/f/tram/?via=post-{post.code}-mastodon" in page
    assert f"Le tram, signez !\n\nhttp://127.0.0.1:8000/e/{campaign.slug}/f/tram/?via=post-{post.code}-bluesky" in page


def test_the_composer_carries_each_pages_tracked_address_and_each_accounts_limit(
    campaign, owner, english, mastodon, bluesky
):
    event = EventFactory(campaign=campaign, slug="reunion")
    mastodon.character_limit = 1000
    mastodon.save()
    page = english(owner).get(f"/c/{campaign.slug}/social/posts/new/").content.decode()
    assert (
        f'value="event:{event.pk}" data-url="http://127.0.0.1:8000/e/{campaign.slug}/events/reunion/?via=post-' in page
    )
    assert f'data-social-counter="{mastodon.pk}" data-network="mastodon" data-limit="1000"' in page
    assert f'data-social-counter="{bluesky.pk}" data-network="bluesky" data-limit="300" data-max-bytes="3000"' in page
    assert 'src="/static/social/composer.js"' in page and "<script>" not in page


def test_a_text_too_long_for_mastodon_is_refused_naming_the_account(campaign, owner, english, mastodon):
    # 480 characters, a space and the address, which counts 23: 504 > 500.
    response = new_post(
        english(owner),
        campaign,
        text="a" * 480 + " https://brest2027.fr/un/lien/vraiment/tres/long",
        accounts=[mastodon.pk],
    )
    assert response.status_code == 400
    assert "Too long for Mastodon · Mastodon: 504 characters, 500 at most." in response.content.decode()
    assert not Post.objects.exists()


def test_a_too_long_version_is_named_on_its_own_field(campaign, owner, english, mastodon, bluesky):
    response = new_post(
        english(owner),
        campaign,
        text="Court.",
        accounts=[mastodon.pk, bluesky.pk],
        **{f"text_{bluesky.pk}": "é" * 301},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "Too long for Bluesky · Bluesky: 301 characters, 300 at most." in form.errors[f"text_{bluesky.pk}"][0]
    assert "text" not in form.errors


def test_a_larger_instance_limit_is_honoured(campaign, owner, english, mastodon):
    mastodon.character_limit = 1000
    mastodon.save()
    response = new_post(english(owner), campaign, text="a" * 900, accounts=[mastodon.pk])
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("network", "text", "limit", "too_long"),
    [
        ("mastodon", "x" * 476 + " https://example.org/" + "y" * 200, 500, False),  # the address counts 23
        ("mastodon", "x" * 478 + " https://example.org/", 500, True),
        ("bluesky", "👨‍👩‍👧‍👦" * 300, 300, True),  # 300 graphemes, but 7,500 bytes
        ("bluesky", "é" * 300, 300, False),
        ("facebook", "a" * 63206, 63206, False),
        ("facebook", "a" * 63207, 63206, True),
    ],
)
def test_each_networks_rule(network, text, limit, too_long):
    account = SocialAccount(network=network, name="Compte")
    assert bool(length_problem(account, text)) is too_long


def test_the_link_counts_as_mastodon_counts_it():
    account = SocialAccount(network="mastodon", name="Compte")
    body = "x" * (500 - 2 - URL_LENGTH)
    assert not length_problem(account, published_text(body, "https://brest2027.fr/" + "tres-long/" * 30))
    assert length_problem(account, published_text(body + "x", "https://brest2027.fr/"))


def test_both_a_page_and_an_address_is_refused(campaign, owner, english, mastodon):
    petition = ActionFactory(campaign=campaign)
    response = new_post(
        english(owner),
        campaign,
        text="Bonjour",
        accounts=[mastodon.pk],
        target=f"action:{petition.pk}",
        url="https://brest2027.fr",
    )
    assert response.status_code == 400
    assert "not both" in response.content.decode()


def test_another_campaigns_account_or_page_cannot_be_chosen(campaign, other_campaign, owner, english, mastodon):
    theirs = SocialAccountFactory(campaign=other_campaign)
    their_page = ActionFactory(campaign=other_campaign)
    client = english(owner)
    assert new_post(client, campaign, text="Bonjour", accounts=[theirs.pk]).status_code == 400
    response = new_post(client, campaign, text="Bonjour", accounts=[mastodon.pk], target=f"action:{their_page.pk}")
    assert response.status_code == 400
    assert not Post.objects.exists()


def test_an_image_is_stored_privately_and_served_to_members_only(
    campaign, owner, outsider, member, english, login, mastodon
):
    upload = SimpleUploadedFile("affiche.png", SOCIAL_PNG, content_type="image/png")
    response = english(owner).post(
        f"/c/{campaign.slug}/social/posts/new/",
        {"text": "Notre affiche", "accounts": [mastodon.pk], "image": upload, "image_alt": "L'affiche"},
    )
    post = Post.objects.get()
    assert response.status_code == 302
    assert post.image.name.startswith("social/") and not post.image.name.endswith("affiche.png")
    assert post.image_name == "affiche.png"
    url = f"/c/{campaign.slug}/social/posts/{post.pk}/image/"
    image = login(member("analyst")).get(url)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == SOCIAL_PNG
    assert login(outsider).get(url).status_code == 404
    assert login(member("volunteer")).get(url).status_code == 403


def test_a_file_that_is_not_an_image_is_refused(campaign, owner, english, mastodon):
    upload = SimpleUploadedFile("affiche.png", b"%PDF-1.7 not an image", content_type="image/png")
    response = english(owner).post(
        f"/c/{campaign.slug}/social/posts/new/", {"text": "Affiche", "accounts": [mastodon.pk], "image": upload}
    )
    assert response.status_code == 400
    assert "must be a PNG, JPEG, GIF or WebP file" in response.content.decode()


def test_an_image_over_blueskys_limit_is_refused_for_bluesky(campaign, owner, english, bluesky):
    big = SOCIAL_PNG + b"\x00" * 1_000_001
    upload = SimpleUploadedFile("grande.png", big, content_type="image/png")
    response = english(owner).post(
        f"/c/{campaign.slug}/social/posts/new/", {"text": "Affiche", "accounts": [bluesky.pk], "image": upload}
    )
    assert response.status_code == 400
    assert "too large for Bluesky" in response.content.decode()


def test_editing_keeps_only_the_accounts_chosen(campaign, owner, english, mastodon, bluesky):
    post = PostFactory(campaign=campaign)
    PublicationFactory(post=post, account=mastodon)
    PublicationFactory(post=post, account=bluesky)
    response = english(owner).post(
        f"/c/{campaign.slug}/social/posts/{post.pk}/edit/", {"text": "Nouveau texte", "accounts": [bluesky.pk]}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.text == "Nouveau texte"
    assert list(post.publications.values_list("account", flat=True)) == [bluesky.pk]


def test_a_published_post_cannot_be_edited_or_deleted(campaign, owner, english, mastodon):
    post = PostFactory(campaign=campaign, status=Post.Status.PUBLISHED)
    PublicationFactory(post=post, account=mastodon, status=Publication.Status.PUBLISHED)
    client = english(owner)
    response = client.post(f"/c/{campaign.slug}/social/posts/{post.pk}/edit/", {"text": "X", "accounts": [mastodon.pk]})
    assert response.status_code == 302
    client.post(f"/c/{campaign.slug}/social/posts/{post.pk}/delete/")
    post.refresh_from_db()
    assert post.text != "X"


def test_a_draft_is_deleted_with_its_image(campaign, owner, english):
    post = PostFactory(campaign=campaign, illustrated=True)
    storage, name = post.image.storage, post.image.name
    assert storage.exists(name)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = english(owner).post(f"/c/{campaign.slug}/social/posts/{post.pk}/delete/")
    assert response.status_code == 302 and response["Location"].endswith("/social/posts/")
    assert not Post.objects.exists() and not storage.exists(name)
    assert AuditLog.objects.filter(action="social_post.delete").exists()


def test_scheduling_reads_the_time_in_the_campaigns_zone(campaign, owner, english, mastodon):
    post = PostFactory(campaign=campaign)
    PublicationFactory(post=post, account=mastodon)
    english(owner).post(f"/c/{campaign.slug}/social/posts/{post.pk}/schedule/", {"at": "2031-06-12T18:30"})
    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED
    assert post.scheduled_at.isoformat() == "2031-06-12T16:30:00+00:00"  # 18:30 in Paris, summer time
    english(owner).post(f"/c/{campaign.slug}/social/posts/{post.pk}/cancel/")
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT and post.scheduled_at is None


def test_a_time_in_the_past_is_refused(campaign, owner, english, mastodon):
    post = PostFactory(campaign=campaign)
    PublicationFactory(post=post, account=mastodon)
    response = english(owner).post(
        f"/c/{campaign.slug}/social/posts/{post.pk}/schedule/", {"at": "2020-01-01T10:00"}, follow=True
    )
    assert "Choose a time in the future." in response.content.decode()
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


def test_an_analyst_reads_the_posts_but_cannot_write_or_publish(campaign, member, login, mastodon):
    analyst = login(member("analyst"))
    post = PostFactory(campaign=campaign)
    PublicationFactory(post=post, account=mastodon)
    assert analyst.get(f"/c/{campaign.slug}/social/posts/").status_code == 200
    assert analyst.get(f"/c/{campaign.slug}/social/posts/{post.pk}/").status_code == 200
    assert analyst.get(f"/c/{campaign.slug}/social/posts/new/").status_code == 403
    assert analyst.post(f"/c/{campaign.slug}/social/posts/{post.pk}/publish/").status_code == 403


def test_an_organiser_writes_and_publishes(campaign, member, login, mastodon):
    organiser = login(member("organiser"))
    assert new_post(organiser, campaign, text="Bonjour", accounts=[mastodon.pk]).status_code == 302


def test_a_volunteer_sees_nothing_of_the_posts(campaign, volunteer, login):
    post = PostFactory(campaign=campaign)
    client = login(volunteer)
    assert client.get(f"/c/{campaign.slug}/social/posts/").status_code == 403
    assert client.get(f"/c/{campaign.slug}/social/posts/{post.pk}/").status_code == 403


def test_another_campaigns_post_is_a_404(campaign, other_campaign, owner, login):
    theirs = PostFactory(campaign=other_campaign, text="Secret de Quimper")
    client = login(owner)
    for suffix in ("", "edit/", "image/"):
        assert client.get(f"/c/{campaign.slug}/social/posts/{theirs.pk}/{suffix}").status_code == 404
    assert client.post(f"/c/{campaign.slug}/social/posts/{theirs.pk}/publish/").status_code == 404
    assert "Secret de Quimper" not in client.get(f"/c/{campaign.slug}/social/posts/").content.decode()


def test_a_composer_without_accounts_says_to_connect_one(campaign, owner, english):
    page = english(owner).get(f"/c/{campaign.slug}/social/posts/new/").content.decode()
    assert "no account to publish on yet" in page
    assert f"/c/{campaign.slug}/social/accounts/new/" in page


def test_a_mastodon_accounts_own_limit_is_set_on_its_page(campaign, owner, english):
    client = english(owner)
    client.post(
        f"/c/{campaign.slug}/social/accounts/new/",
        {
            "network": "mastodon",
            "name": "Campagne",
            "handle": "@brest@mastodon.example",
            "server": "https://mastodon.example",
            "character_limit": "1000",
            "token": "jeton",
        },
    )
    account = SocialAccount.objects.get(campaign=campaign)
    assert account.character_limit == 1000
    assert new_post(client, campaign, text="a" * 900, accounts=[account.pk]).status_code == 302
