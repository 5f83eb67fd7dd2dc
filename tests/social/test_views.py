"""The social-network pages: an export file read and handed to the import pages, an
account's tokens stored but never shown back, its followers read from a Mastodon
server (served locally with Mastodon's documented API) into an import batch, and the
suggested matches decided by an organiser."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from suffrage.core.secrets import decrypt_json
from suffrage.imports.models import ImportBatch
from suffrage.social.models import ProfileSuggestion, SocialAccount
from tests.factories import ProfileSuggestionFactory, SocialAccountFactory
from tests.social.test_clients import account, fake  # noqa: F401 (fake: a local API server fixture)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def login(login):
    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def test_an_export_file_becomes_an_import_batch_to_check(campaign, manager, login):
    upload = SimpleUploadedFile("follower.js", (FIXTURES / "follower.js").read_bytes())
    response = login(manager).post(
        f"/c/{campaign.slug}/social/import/",
        {"kind": "x_followers", "file": upload, "legal_basis": "legitimate_interest"},
    )
    batch = ImportBatch.objects.get(campaign=campaign, kind="social")
    assert response.status_code == 302 and response["Location"].endswith(f"/imports/{batch.pk}/")
    assert batch.headers[0] == "network" and batch.legal_basis == "legitimate_interest"


def test_a_file_of_the_wrong_kind_is_refused_with_a_message(campaign, manager, login):
    upload = SimpleUploadedFile("following.js", (FIXTURES / "following.js").read_bytes())
    client = login(manager)
    response = client.post(
        f"/c/{campaign.slug}/social/import/",
        {"kind": "x_followers", "file": upload, "legal_basis": "legitimate_interest"},
        follow=True,
    )
    assert "following" in response.content.decode()
    assert not ImportBatch.objects.filter(kind="social").exists()


def test_tokens_are_stored_encrypted_and_never_shown_back(campaign, owner, login):
    client = login(owner)
    client.post(
        f"/c/{campaign.slug}/social/accounts/new/",
        {
            "network": "mastodon",
            "name": "Campagne",
            "handle": "@brest@mastodon.example",
            "server": "https://mastodon.example",
            "token": "s3cr3t-token",
        },
    )
    saved = SocialAccount.objects.get(campaign=campaign)
    assert "s3cr3t-token" not in saved.secrets and decrypt_json(saved.secrets)["token"] == "s3cr3t-token"
    page = client.get(f"/c/{campaign.slug}/social/accounts/{saved.pk}/").content.decode()
    assert "s3cr3t-token" not in page
    client.post(
        f"/c/{campaign.slug}/social/accounts/{saved.pk}/",
        {
            "name": "Campagne 2027",
            "handle": "@brest@mastodon.example",
            "server": "https://mastodon.example",
            "token": "",
        },
    )
    saved.refresh_from_db()
    assert saved.name == "Campagne 2027" and decrypt_json(saved.secrets)["token"] == "s3cr3t-token"


def test_followers_are_read_from_mastodon_into_an_import_batch(campaign, manager, login, fake):  # noqa: F811
    fake.route("GET", "/api/v1/accounts/lookup", (200, account(0, "brest"), {}))
    fake.route("GET", "/api/v1/accounts/1000/followers", (200, [account(1), account(2, "alice@autre.example")], {}))
    mastodon = SocialAccountFactory(campaign=campaign, handle="@brest@127.0.0.1", server=fake.url)

    response = login(manager).post(f"/c/{campaign.slug}/social/accounts/{mastodon.pk}/followers/")

    batch = ImportBatch.objects.get(campaign=campaign, kind="social")
    assert response["Location"].endswith(f"/imports/{batch.pk}/")
    with batch.file.open() as stored:
        content = stored.read().decode()
    assert "@alice@autre.example" in content and "Personne 1" in content


def test_an_organiser_confirms_a_suggested_match(campaign, member, login):
    organiser = member("organiser")
    suggestion = ProfileSuggestionFactory(campaign=campaign, handle="yann.k", network="instagram")
    client = login(organiser)
    assert "yann.k" in client.get(f"/c/{campaign.slug}/social/suggestions/").content.decode()
    client.post(f"/c/{campaign.slug}/social/suggestions/{suggestion.pk}/", {"same": "1"})
    suggestion.refresh_from_db()
    assert suggestion.status == ProfileSuggestion.Status.CONFIRMED
    assert suggestion.candidate.social_profiles.get().handle == "yann.k"
