"""The shell around every page: languages, error pages, campaign settings and
calendar, campaign creation, demo data, deployment checks."""

import datetime
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from suffrage.core.models import AuditLog, CalendarElection, Campaign, Membership, User
from suffrage.core.roles import Role
from suffrage.segments.compiler import segment_members
from suffrage.segments.models import Segment
from tests.manage import run_manage

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_language_switch_is_remembered_on_the_account(campaign, owner, login):
    client = login(owner)
    client.post(reverse("core:set_language"), {"language": "en", "next": "/campaigns/"})
    owner.refresh_from_db()
    assert owner.language == "en"
    # Another device, whose browser asks for French, still gets English.
    other_device = login(owner)
    page = other_device.get(reverse("core:dashboard", args=[campaign.slug]), headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in page.content.decode()
    other_device.post(reverse("core:set_language"), {"language": "fr", "next": "/"})
    page = other_device.get(reverse("core:dashboard", args=[campaign.slug]))
    assert '<html lang="fr">' in page.content.decode()
    assert "Tableau de bord" in page.content.decode()


@pytest.mark.django_db
def test_the_language_switch_refuses_an_outside_redirect(client):
    response = client.post(reverse("core:set_language"), {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_a_missing_page_gets_the_friendly_404(owner, login):
    response = login(owner).get("/c/no-such-campaign/")
    assert response.status_code == 404
    assert "Suffrage" in response.content.decode()


def test_the_500_page_stands_alone_in_both_languages():
    page = (ROOT / "suffrage/templates/500.html").read_text()
    assert "{%" not in page  # rendered without context: no template logic
    assert 'lang="fr"' in page and 'lang="en"' in page


@pytest.mark.django_db
def test_the_owner_edits_settings_and_the_calendar(campaign, owner, login):
    client = login(owner)
    response = client.post(
        reverse("core:settings", args=[campaign.slug]),
        {"name": "Brest Demain", "country": "FR", "languages": ["fr", "en"], "time_zone": "Europe/Paris"},
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.languages, campaign.require_mfa) == ("Brest Demain", ["fr", "en"], False)
    response = client.post(
        reverse("core:election_new", args=[campaign.slug]),
        {"name": "Municipales", "kind": "municipal", "first_round_on": "2027-03-14", "second_round_on": "2027-03-21"},
    )
    election = CalendarElection.objects.get(campaign=campaign)
    assert election.last_round_on == datetime.date(2027, 3, 21)
    assert AuditLog.objects.filter(action="election.create").exists()


@pytest.mark.django_db
def test_a_second_round_before_the_first_is_refused_with_a_message(campaign, owner, login):
    response = login(owner).post(
        reverse("core:election_new", args=[campaign.slug]),
        {"name": "Municipales", "kind": "municipal", "first_round_on": "2027-03-14", "second_round_on": "2027-03-01"},
    )
    assert response.status_code == 200
    assert not CalendarElection.objects.exists()
    assert 'id="id_second_round_on_error"' in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_time_zone_is_refused(campaign, owner, login):
    response = login(owner).post(
        reverse("core:settings", args=[campaign.slug]),
        {"name": "X", "country": "FR", "languages": ["fr"], "time_zone": "Mars/Olympus"},
    )
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.time_zone == "Europe/Paris"


@pytest.mark.django_db
def test_staff_create_a_campaign_and_become_its_owner(login):
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    response = login(staff).post(
        reverse("core:campaign_new"),
        {
            "name": "Morlaix 2027",
            "slug": "morlaix-2027",
            "country": "FR",
            "languages": ["fr"],
            "time_zone": "Europe/Paris",
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(slug="morlaix-2027")
    assert campaign.require_mfa is True
    assert Membership.objects.get(campaign=campaign, user=staff).role == Role.OWNER


@pytest.mark.django_db
def test_others_cannot_create_campaigns(owner, login):
    assert login(owner).get(reverse("core:campaign_new")).status_code == 403


@pytest.mark.django_db
def test_the_demo_command_is_idempotent_and_its_accounts_sign_in():
    call_command("demo", stdout=io.StringIO())
    call_command("demo", stdout=io.StringIO())
    assert Campaign.objects.filter(slug__startswith="demo-").count() == 2
    owner = User.objects.get(email="owner@demo.suffrage.local")
    assert Membership.objects.filter(user=owner).count() == 2
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": "manager@demo.suffrage.local", "password": "demo-suffrage-2026"}
    )
    assert response.status_code == 302
    assert client.get(reverse("core:members", args=["demo-brest"])).status_code == 200
    _the_demo_engagement_segment_holds_what_it_says()


def _the_demo_engagement_segment_holds_what_it_says():
    segment = Segment.objects.get(campaign__slug="demo-brest", name__startswith="Signataires de la pétition tram")
    members = list(segment_members(segment))
    assert members
    for person in members:
        signed = person.submissions.filter(action__kind="petition", status="confirmed").exists()
        came = person.rsvps.filter(event__title__startswith="Café citoyen", checked_in_at__isnull=False).exists()
        assert signed or came
        assert not person.rsvps.filter(event__title__startswith="Réunion publique", status="going").exists()


def test_production_settings_pass_the_deployment_checks():
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "a-production-secret-key-that-is-long-enough-for-django-checks-0123456789",
        "ALLOWED_HOSTS": "suffrage.example.org",
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", env={"DEBUG": "0"}, drop=("SECRET_KEY",))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_every_vendored_asset_carries_its_licence():
    vendor = ROOT / "suffrage/static/vendor"
    folders = [path for path in vendor.iterdir() if path.is_dir()]
    assert folders
    for folder in folders:
        assert any(path.name.upper().startswith("LICENSE") for path in folder.iterdir()), folder
        version = folder.name.rsplit("-", 1)[1]
        assert f"| {version} |" in (vendor / "README.md").read_text(), folder


def test_production_static_files_collect_with_their_manifest(tmp_path):
    """WhiteNoise's manifest storage fails on any file a vendored asset references but we lack."""
    production = {"DEBUG": "0", "SECRET_KEY": "collectstatic-test-key", "DATA_DIR": str(tmp_path)}
    result = run_manage("collectstatic", "--noinput", env=production)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()


@pytest.mark.django_db
def test_the_database_is_tuned_for_its_engine():
    """SQLite writes ahead (a web server and a worker at once); PostgreSQL does not
    spend seconds JIT-compiling every large count."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
        else:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
