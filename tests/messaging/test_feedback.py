"""What comes back: clicks, opens, one-click unsubscribe (RFC 8058), the unsubscribe
page, bounce-mailbox reports, provider webhooks, and the complaint-rate alarm."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from suffrage.messaging import feedback, services
from suffrage.messaging.models import Delivery, Mailing, MailSettings, TrackingEvent
from suffrage.messaging.tracking import delivery_token
from suffrage.messaging.transports.base import Feedback
from suffrage.people.models import ConsentEvent, PersonEmail
from suffrage.privacy.models import Suppression, suppression_digest
from tests.messaging.conftest import reachable_person

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def sent(campaign, manager, sending, mail_server, django_capture_on_commit_callbacks):
    """A mailing sent to two people; returns (mailing, deliveries by address)."""
    reachable_person(campaign, "anne@example.org")
    reachable_person(campaign, "yann@example.org")
    mailing = sending["mailing"]()
    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_send(mailing=mailing, actor=manager)
    mailing.refresh_from_db()
    return mailing, {d.address: d for d in Delivery.objects.filter(mailing=mailing).select_related("person")}


def test_a_click_is_counted_and_redirected_to_the_original_link(sent):
    _mailing, deliveries = sent
    token = delivery_token(deliveries["anne@example.org"].pk)
    response = Client().get(reverse("mail_click", args=[token, 0]))
    assert response.status_code == 302 and response["Location"] == "https://brest2027.example/agenda"
    assert TrackingEvent.objects.filter(kind="clicked", delivery=deliveries["anne@example.org"]).count() == 1
    assert Delivery.objects.get(pk=deliveries["anne@example.org"].pk).clicked_at is not None


def test_a_forged_or_unknown_token_is_a_404(sent):
    _mailing, deliveries = sent
    token = delivery_token(deliveries["anne@example.org"].pk)
    assert Client().get(reverse("mail_click", args=[token[:-2] + "xx", 0])).status_code == 404
    assert Client().get(reverse("mail_click", args=[token, 9])).status_code == 404
    assert Client().get(reverse("mail_unsubscribe", args=["1:forged"])).status_code == 404


def test_opens_are_recorded_only_when_the_campaign_turned_tracking_on(campaign, sent):
    _mailing, deliveries = sent
    token = delivery_token(deliveries["anne@example.org"].pk)
    response = Client().get(reverse("mail_open", args=[token]))
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert not TrackingEvent.objects.filter(kind="opened").exists()
    MailSettings.objects.filter(campaign=campaign).update(open_tracking=True)
    Client().get(reverse("mail_open", args=[token]))
    assert TrackingEvent.objects.filter(kind="opened").count() == 1


def test_one_click_unsubscribe_works_without_cookies_or_csrf(sent):
    mailing, deliveries = sent
    anne = deliveries["anne@example.org"]
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("mail_unsubscribe", args=[delivery_token(anne.pk)]), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    anne.person.refresh_from_db()
    assert anne.person.consent_email is False
    event = ConsentEvent.objects.get(person=anne.person)
    assert event.granted is False and mailing.name in event.form
    assert Delivery.objects.get(pk=anne.pk).unsubscribed_at is not None
    assert services.mailing_audience(mailing)["unsubscribed"] == 1


def test_the_unsubscribe_page_lets_the_person_stop_everything(sent):
    _mailing, deliveries = sent
    yann = deliveries["yann@example.org"]
    url = reverse("mail_unsubscribe", args=[delivery_token(yann.pk)])
    page = Client().get(url)
    assert page.status_code == 200 and "rights" in page.content.decode()
    Client().post(url, {"scope": "everything"})
    yann.person.refresh_from_db()
    assert [
        yann.person.consent_email,
        yann.person.consent_sms,
        yann.person.consent_phone,
        yann.person.consent_post,
    ] == [False] * 4


def test_a_dsn_in_the_bounce_mailbox_suppresses_the_address(sent, tmp_path):
    mailing, deliveries = sent
    anne = deliveries["anne@example.org"]
    raw = (FIXTURES / "dsn_postfix_user_unknown.eml").read_bytes()
    message_id = f"<m{mailing.pk}.d{anne.pk}@brest2027.example>"
    raw = _retarget(raw, "anne@example.org", message_id)
    maildir = tmp_path / "bounces"
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(raw)
    out = io.StringIO()
    call_command("bounces_receive", maildir=str(maildir), stdout=out)
    assert out.getvalue().startswith("1 ")
    assert PersonEmail.objects.get(address="anne@example.org").status == PersonEmail.Status.BOUNCED
    assert Suppression.objects.filter(digest=suppression_digest("anne@example.org"), reason="bounce").exists()
    assert Delivery.objects.get(pk=anne.pk).bounced_at is not None
    assert not list((maildir / "new").iterdir())


def _retarget(raw: bytes, recipient: str, message_id: str) -> bytes:
    """Point a fixture DSN at one of our deliveries (its recipient and Message-ID)."""
    from suffrage.messaging.bounces import parse_bounce

    original = parse_bounce(raw)[0]
    return raw.replace(original.recipient.encode(), recipient.encode()).replace(
        original.original_message_id.strip("<>").encode(), message_id.strip("<>").encode()
    )


def test_a_report_about_another_address_is_ignored(sent):
    mailing, deliveries = sent
    anne = deliveries["anne@example.org"]
    report = Feedback(
        kind="bounced", recipient="someone@else.org", message_id=f"<m{mailing.pk}.d{anne.pk}@x>", permanent=True
    )
    assert feedback.feedback_record(report) is None
    assert not Suppression.objects.exists()


def test_provider_events_reach_the_delivery_through_anymail_signal(sent):
    from anymail.signals import AnymailTrackingEvent, tracking

    _mailing, deliveries = sent
    yann = deliveries["yann@example.org"]
    Delivery.objects.filter(pk=yann.pk).update(provider_id="prov-123")
    event = AnymailTrackingEvent(event_type="complained", message_id="prov-123", recipient="yann@example.org")
    tracking.send(sender=object, event=event, esp_name="Brevo")
    assert PersonEmail.objects.get(address="yann@example.org").status == PersonEmail.Status.COMPLAINED
    assert Suppression.objects.filter(digest=suppression_digest("yann@example.org"), reason="complaint").exists()


def test_complaints_raise_an_alarm_then_pause_the_mailing(sent, monkeypatch):
    mailing, deliveries = sent
    monkeypatch.setattr(feedback, "COMPLAINT_MIN_SENT", 2)
    monkeypatch.setattr(feedback, "COMPLAINT_PAUSE_RATE", 0.9)
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENDING)
    anne = deliveries["anne@example.org"]
    feedback.feedback_record(
        Feedback(kind="complained", recipient="anne@example.org", message_id=f"<m{mailing.pk}.d{anne.pk}@x>")
    )
    mailing.refresh_from_db()
    assert mailing.complaint_alarm and mailing.status == Mailing.Status.SENDING
    yann = deliveries["yann@example.org"]
    feedback.feedback_record(
        Feedback(kind="complained", recipient="yann@example.org", message_id=f"<m{mailing.pk}.d{yann.pk}@x>")
    )
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.PAUSED and "spam" in mailing.status_reason.lower()
