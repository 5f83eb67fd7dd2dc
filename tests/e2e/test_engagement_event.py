"""In a real browser: a citizen says they are coming to a public meeting from their
phone; the confirmation (with its calendar file) and, a day before, the reminder
arrive at a real SMTP server on loopback, once each even when the ticks run twice
in separate processes; at the door an organiser opens the QR code's address on
their phone and checks the person in."""

import datetime
import email
import email.policy
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from suffrage.engagement import services
from suffrage.engagement.models import RSVP
from suffrage.messaging import services as mail_services
from tests.e2e.test_segment_builder import owner_of, sign_in
from tests.factories import CampaignFactory, EventFactory
from tests.manage import database_url, run_manage
from tests.messaging.conftest import mail_server  # noqa: F401 (a fixture: a real SMTP server on loopback)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def meeting(mail_server):  # noqa: F811
    campaign = CampaignFactory(name="Brest en commun", slug="brest", require_mfa=False)
    owner = owner_of(campaign)
    mail_services.sender_create(
        campaign=campaign,
        name="Brest en commun",
        email="contact@brest.example",
        reply_to="",
        algorithm="ed25519-sha256",
        actor=owner,
    )
    mail_services.transport_save(
        campaign=campaign,
        kind="smtp",
        name="Relais",
        values={"host": "127.0.0.1", "port": str(mail_server.port), "security": "none", "username": "", "password": ""},
        rate_per_second=0,
        actor=owner,
    )
    starts = timezone.now() + datetime.timedelta(hours=30)
    event = EventFactory(
        campaign=campaign,
        slug="reunion",
        title="Réunion publique",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        reminder_hours=[24],
    )
    services.wordings_set(owner=event, texts={"email": "J'accepte de recevoir les nouvelles de la campagne."})
    return campaign, owner, event


def received(mail_server):  # noqa: F811
    return [email.message_from_bytes(data, policy=email.policy.default) for _rcpts, data in mail_server.received]


def tick(command):
    """A tick in its own process, as the operator's service runs it."""
    result = run_manage(command, env={"DATABASE_URL": database_url(), "SECRET_KEY": settings.SECRET_KEY})
    assert result.returncode == 0, result.stderr


def test_an_rsvp_its_reminder_and_the_check_in_at_the_door(browser, live_server, meeting, mail_server):  # noqa: F811
    _campaign, owner, event = meeting
    citizen = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = citizen.new_page()
    page.goto(f"{live_server.url}/e/brest/events/reunion/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Réunion publique")
    page.locator("#id_first_names").fill("Maïwenn")
    page.locator("#id_email").fill("maiwenn@example.org")
    page.locator("#id_consent_email").check()
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("main")).to_contain_text(re.compile("billet|ticket", re.I))

    rsvp = RSVP.objects.get(event=event)
    assert rsvp.status == RSVP.Status.GOING
    assert rsvp.person.consent_email is True
    tick("mailings_tick")  # whatever the worker has not sent yet
    (confirmation,) = received(mail_server)
    assert confirmation["To"] == "maiwenn@example.org"
    (calendar,) = [part for part in confirmation.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert "SUMMARY:Réunion publique" in calendar.get_content()

    # A day before: the reminder is due. Two ticks in two processes send it once.
    RSVP.objects.filter(pk=rsvp.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    starts = timezone.now() + datetime.timedelta(hours=23)
    event.__class__.objects.filter(pk=event.pk).update(starts_at=starts, ends_at=starts + datetime.timedelta(hours=2))
    for _ in range(2):
        tick("engagement_tick")
        tick("mailings_tick")
    subjects = [message["Subject"] for message in received(mail_server)]
    assert subjects.count("Reminder: Réunion publique") + subjects.count("Rappel : Réunion publique") == 1, subjects

    # At the door: the ticket's QR code holds the check-in address (checked in
    # test_public_pages); the organiser's phone camera opens it.
    page.goto(f"{live_server.url}/e/brest/ticket/{rsvp.token}/")
    expect(page.locator(".qr-code svg")).to_have_count(1)
    citizen.close()
    checkin_url = reverse("engagement:checkin_token", kwargs={"campaign_slug": "brest", "token": rsvp.token})

    organiser = browser.new_context(locale="fr-FR", viewport=PHONE)
    door = organiser.new_page()
    sign_in(door, live_server, owner)
    door.goto(live_server.url + checkin_url)
    expect(door.locator("main")).to_contain_text("Maïwenn")
    door.locator("main form button[type=submit]").first.click()
    expect(door.locator("main")).to_contain_text(re.compile("Maïwenn"))
    rsvp.refresh_from_db()
    assert rsvp.checked_in_at is not None
    assert rsvp.checked_in_by == owner
    organiser.close()
