"""Followers and leads into the base through the import pipeline: matched by email or
phone with the consent given on the platform, suggested by name and town for review,
or created as social-only contacts (no channel, notice owed); a profile already known
is skipped; problems keep their row and field."""

from __future__ import annotations

import datetime

import pytest
from django.test import TestCase
from django.utils import translation

from suffrage.core.models import Job
from suffrage.imports import services as imports
from suffrage.imports.models import ImportRow
from suffrage.people.models import ConsentEvent, Person, SocialProfile, Source
from suffrage.social import services
from suffrage.social.models import ProfileSuggestion
from suffrage.social.records import ParseResult, RowProblem, SocialRecord
from tests.factories import PersonEmailFactory, PersonFactory, PostalAddressFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _import(campaign, actor, result, dry_run=False):
    batch = services.records_batch(
        campaign=campaign, result=result, name="leads.csv", detail="Lead Ads (leads.csv)", legal_basis="", actor=actor
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = imports.import_start(batch=batch, actor=actor, dry_run=dry_run)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.errors
    return batch, job


def test_a_lead_is_matched_by_email_and_its_consent_recorded_with_the_wording(campaign, manager):
    known = PersonFactory(campaign=campaign, first_names="Anne")
    PersonEmailFactory(person=known, address="anne@example.org")
    lead = SocialRecord(
        network="facebook",
        row=1,
        external_id="lead-1",
        first_name="Anne",
        last_name="Le Gall",
        email="anne@example.org",
        consents={"email": True},
        consent_wording="J'accepte de recevoir les lettres de la campagne",
    )
    _batch, job = _import(campaign, manager, ParseResult(records=[lead]))

    assert job.counts["updated"] == 1
    known.refresh_from_db()
    assert known.consent_email is True
    proof = ConsentEvent.objects.get(person=known, channel="email", granted=True)
    assert proof.wording == "J'accepte de recevoir les lettres de la campagne" and proof.form == "Lead Ads (leads.csv)"
    assert Person.objects.filter(campaign=campaign).count() == 1


def test_a_follower_without_channels_becomes_a_social_only_contact_owed_a_notice(campaign, manager):
    follower = SocialRecord(network="mastodon", row=1, handle="@lou@mastodon.example", display_name="Lou Kerouac")
    _batch, job = _import(campaign, manager, ParseResult(records=[follower]))

    assert job.counts["created"] == 1
    person = Person.objects.get(campaign=campaign)
    assert (person.first_names, person.usage_name) == ("Lou", "Kerouac")
    assert person.source == Source.SOCIAL and person.source_detail == "Lead Ads (leads.csv)"
    assert person.notice_owed
    assert not person.emails.exists() and not person.phones.exists()
    assert SocialProfile.objects.get(person=person).handle == "@lou@mastodon.example"


def test_a_profile_already_known_is_skipped_and_a_dry_run_writes_nothing(campaign, manager):
    follower = SocialRecord(network="bluesky", row=1, handle="lou.bsky.social")
    _batch, dry = _import(campaign, manager, ParseResult(records=[follower]), dry_run=True)
    assert dry.counts["created"] == 1 and not Person.objects.exists()

    _import(campaign, manager, ParseResult(records=[follower]))
    _batch, again = _import(campaign, manager, ParseResult(records=[follower, follower]))
    assert again.counts["skipped"] == 2
    assert Person.objects.filter(campaign=campaign).count() == 1


def test_same_name_and_town_is_a_suggestion_an_organiser_decides(campaign, manager):
    known = PersonFactory(campaign=campaign, first_names="Yann", usage_name="Kervella")
    PostalAddressFactory(person=known, town="Brest")
    record = SocialRecord(
        network="facebook", row=1, external_id="l2", first_name="Yann", last_name="KERVELLA", town="brest"
    )
    _batch, job = _import(campaign, manager, ParseResult(records=[record]))

    assert job.counts["skipped"] == 1
    suggestion = ProfileSuggestion.objects.get(candidate=known)
    services.suggestion_decide(suggestion=suggestion, same=False, actor=manager)
    assert Person.objects.filter(campaign=campaign).count() == 2
    suggestion.refresh_from_db()
    assert suggestion.status == ProfileSuggestion.Status.REFUSED


def test_rows_with_problems_are_rejected_with_the_exports_row_and_field(campaign, manager):
    result = ParseResult(
        records=[SocialRecord(network="instagram", row=1, handle="alice")],
        problems=[RowProblem(row=2, field="email", message="not an email address")],
    )
    batch, job = _import(campaign, manager, result)

    assert job.counts["created"] == 1 and job.counts["rejected"] == 1
    rejected = ImportRow.objects.get(batch=batch, verdict=ImportRow.Verdict.REJECTED)
    assert rejected.messages == [{"field": "email", "message": "Row 2 of the export: not an email address"}]


def test_the_batch_page_shows_the_social_import_and_its_source(campaign, manager, login):
    batch, _job = _import(
        campaign, manager, ParseResult(records=[SocialRecord(network="x", row=1, external_id="42")]), dry_run=True
    )
    page = login(manager).get(f"/c/{campaign.slug}/imports/{batch.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Lead Ads (leads.csv)" in page.content.decode()


def test_collected_dates_survive_the_round_trip(campaign, manager):
    when = datetime.datetime(2026, 10, 12, 16, 22, 31, tzinfo=datetime.UTC)
    record = SocialRecord(network="linkedin", row=1, url="https://www.linkedin.com/in/anne", collected_at=when)
    batch, _job = _import(campaign, manager, ParseResult(records=[record]))
    with batch.file.open() as stored:
        assert when.isoformat() in stored.read().decode()
