"""Mailings end to end: audience, sending through a real SMTP server on loopback,
what arrives (one recipient per message, footer, unsubscribe headers, DKIM),
retries, permanent failures, pause/cancel, electoral silence, A/B tests."""

from __future__ import annotations

import datetime
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dkim
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from freezegun import freeze_time

from suffrage.messaging import engine, services
from suffrage.messaging.models import Delivery, Mailing, MailSettings
from suffrage.messaging.tracking import delivery_id_from
from suffrage.people.models import Channel, LegalBasis, Person, PersonEmail, Source
from suffrage.people.services import consent_record
from suffrage.privacy.models import Suppression, suppression_digest
from suffrage.privacy.services import suppression_add
from tests.factories import CalendarElectionFactory, PersonEmailFactory, PersonFactory
from tests.messaging.conftest import reachable_person

pytestmark = pytest.mark.django_db


def _send(mailing, actor, capture):
    with capture(execute=True):
        services.mailing_send(mailing=mailing, actor=actor)
    mailing.refresh_from_db()
    return mailing


def _dns_for(sender):
    record = services.sender_dns_records(sender, [])
    dkim_record = next(r for r in record if r.purpose == "DKIM")

    def dnsfunc(name, timeout=5):
        assert name.decode().rstrip(".") == dkim_record.name
        return dkim_record.value.encode()

    return dnsfunc


def test_the_audience_counts_who_receives_and_why_the_others_do_not(campaign, manager, sending):
    receives = reachable_person(campaign, "anne@example.org", is_member=True)
    member_without_consent = PersonFactory(campaign=campaign, legal_basis=LegalBasis.MEMBER)
    PersonEmailFactory(person=member_without_consent, address="membre@example.org")
    PersonFactory(campaign=campaign)  # no address
    no_consent = PersonFactory(campaign=campaign, legal_basis=LegalBasis.LEGITIMATE_INTEREST)
    PersonEmailFactory(person=no_consent, address="prospect@example.org")
    withdrawn = reachable_person(campaign, "plus@example.org")
    consent_record(person=withdrawn, channel=Channel.EMAIL, granted=False, source=Source.MANUAL)
    bounced = reachable_person(campaign, "bounce@example.org")
    PersonEmail.objects.filter(person=bounced).update(status=PersonEmail.Status.BOUNCED)
    suppressed = reachable_person(campaign, "suppr@example.org")
    suppression_add(campaign=campaign, channel="email", value="suppr@example.org", reason="manual")

    mailing = sending["mailing"]()
    audience = services.mailing_audience(mailing)
    assert audience == {
        "in_segment": 7,
        "no_address": 1,
        "unsubscribed": 1,
        "no_consent": 1,
        "complained": 0,
        "bounced": 1,
        "suppressed": 1,
        "will_receive": 2,
    }
    assert sum(value for key, value in audience.items() if key != "in_segment") == audience["in_segment"]
    assert receives and suppressed


def test_a_mailing_arrives_one_recipient_per_message_signed_with_footer(
    campaign, manager, sending, mail_server, django_capture_on_commit_callbacks
):
    reachable_person(campaign, "anne@example.org", first_names="Anne Marie")
    reachable_person(campaign, "x@example.org", first_names="<b>Loïc</b>")
    reachable_person(campaign, "nom@example.org", first_names="")
    mailing = _send(sending["mailing"](), manager, django_capture_on_commit_callbacks)

    assert mailing.status == Mailing.Status.SENT
    assert sorted(mail_server.arrivals()) == ["anne@example.org", "nom@example.org", "x@example.org"]
    assert all(len(rcpts) == 1 for rcpts, _data in mail_server.received)
    by_to = {message["To"]: message for message in mail_server.messages()}
    anne = by_to["anne@example.org"]
    assert anne["Subject"] == "Bonjour Anne"
    assert by_to["nom@example.org"]["Subject"] == "Bonjour à vous"
    assert anne["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(http://[^>]+/u/[^>]+/)>", anne["List-Unsubscribe"].strip())
    assert unsubscribe
    html = anne.get_body(("html",)).get_content()
    text = anne.get_body(("plain",)).get_content()
    assert "Bonjour Anne," in html and "Bonjour Anne," in text
    assert "/m/" in html and "https://brest2027.example/agenda" not in html  # the link is counted
    assert "&lt;b&gt;Loïc&lt;/b&gt;" in by_to["x@example.org"].get_body(("html",)).get_content()
    # The footer: identity, where the data came from, rights and unsubscribe.
    assert campaign.name in text and unsubscribe.group(1) in text and f"{unsubscribe.group(1)}#rights" in text
    assert str(Source.MANUAL.label) in text
    raw = mail_server.received[0][1]
    assert dkim.verify(raw, dnsfunc=_dns_for(sending["sender"]))
    signed = re.search(rb"h=([^;]+);", raw.replace(b"\r\n", b"").replace(b" ", b"")).group(1).lower()
    assert b"list-unsubscribe" in signed and b"list-unsubscribe-post" in signed
    assert Delivery.objects.filter(mailing=mailing, status=Delivery.Status.SENT).count() == 3


def test_a_tampered_message_fails_dkim(campaign, manager, sending, mail_server, django_capture_on_commit_callbacks):
    reachable_person(campaign, "anne@example.org")
    _send(sending["mailing"](), manager, django_capture_on_commit_callbacks)
    raw = mail_server.received[0][1].replace(b"Bonjour", b"Bonsoir", 1)
    assert not dkim.verify(raw, dnsfunc=_dns_for(sending["sender"]))


def test_the_first_message_to_an_indirectly_collected_person_explains_why(
    campaign, manager, sending, mail_server, django_capture_on_commit_callbacks
):
    imported = reachable_person(campaign, "importe@example.org", source=Source.IMPORT, legal_basis=LegalBasis.CONSENT)
    _send(sending["mailing"](), manager, django_capture_on_commit_callbacks)
    text = mail_server.messages()[0].get_body(("plain",)).get_content()
    assert "indirect" in text.lower()
    imported.refresh_from_db()
    assert imported.notice_sent_at is not None
    mail_server.received.clear()
    _send(sending["mailing"](name="Lettre n°2"), manager, django_capture_on_commit_callbacks)
    assert "indirect" not in mail_server.messages()[0].get_body(("plain",)).get_content().lower()


def test_temporary_failures_are_retried_with_backoff_then_given_up(
    campaign, manager, sending, mail_server, django_capture_on_commit_callbacks
):
    reachable_person(campaign, "ok@example.org")
    reachable_person(campaign, "plein@example.org")
    mail_server.refusals["plein@example.org"] = "452 4.2.2 Mailbox full"
    mailing = _send(sending["mailing"](), manager, django_capture_on_commit_callbacks)
    waiting = Delivery.objects.get(mailing=mailing, address="plein@example.org")
    assert waiting.status == Delivery.Status.QUEUED and waiting.attempts == 1
    assert waiting.next_attempt_at > timezone.now()
    assert mailing.status == Mailing.Status.SENDING

    for attempt in range(2, engine.MAX_ATTEMPTS + 1):
        with freeze_time(timezone.now() + datetime.timedelta(hours=attempt * 2)):
            services.mailings_tick()
    waiting.refresh_from_db()
    mailing.refresh_from_db()
    assert waiting.status == Delivery.Status.FAILED and "452" in waiting.error
    assert mailing.status == Mailing.Status.SENT
    assert mail_server.arrivals() == {"ok@example.org": 1}


def test_a_permanent_failure_suppresses_the_address(
    campaign, manager, sending, mail_server, django_capture_on_commit_callbacks
):
    person = reachable_person(campaign, "inconnu@example.org")
    reachable_person(campaign, "ok@example.org")
    mail_server.refusals["inconnu@example.org"] = "550 5.1.1 User unknown"
    mailing = _send(sending["mailing"](), manager, django_capture_on_commit_callbacks)
    failed = Delivery.objects.get(mailing=mailing, person=person)
    assert failed.status == Delivery.Status.FAILED and "550" in failed.error
    assert PersonEmail.objects.get(person=person).status == PersonEmail.Status.BOUNCED
    assert Suppression.objects.filter(
        campaign=campaign, digest=suppression_digest("inconnu@example.org"), reason="bounce"
    ).exists()
    assert services.mailing_audience(sending["mailing"](name="Suite"))["will_receive"] == 1


def test_pause_resume_and_cancel(campaign, manager, sending, mail_server, django_capture_on_commit_callbacks):
    for index in range(5):
        reachable_person(campaign, f"p{index}@example.org")
    mailing = sending["mailing"]()
    services.mailing_send(mailing=mailing, actor=manager)  # on_commit not run: nothing sent yet
    mailing.refresh_from_db()
    services.mailing_pause(mailing=mailing, actor=manager)
    assert engine.mailing_run(mailing.pk).outcome == "stopped"
    assert not mail_server.received
    mailing.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_resume(mailing=mailing, actor=manager)
    assert len(mail_server.received) == 5

    other = sending["mailing"](name="Deux")
    services.mailing_send(mailing=other, actor=manager)
    other.refresh_from_db()
    assert services.mailing_cancel(mailing=other, actor=manager) == 5
    assert engine.mailing_run(other.pk).outcome == "stopped"
    assert len(mail_server.received) == 5


def test_sends_are_refused_during_the_electoral_silence(campaign, manager, sending):
    reachable_person(campaign, "a@example.org")
    CalendarElectionFactory(campaign=campaign, name="Municipales", first_round_on=datetime.date(2027, 3, 14))
    mailing = sending["mailing"]()
    with freeze_time("2027-03-13 10:00:00+01:00"), pytest.raises(ValidationError, match="Municipales"):
        services.mailing_send(mailing=mailing, actor=manager)
    with freeze_time("2027-03-14 20:30:00+01:00"):
        services.mailing_send(mailing=mailing, actor=manager)  # polls closed: allowed again
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENDING


def test_sends_are_refused_outside_the_allowed_hours_and_resume_in_the_next_window(
    campaign, manager, sending, mail_server
):
    reachable_person(campaign, "a@example.org")
    MailSettings.objects.create(
        campaign=campaign, send_from=datetime.time(9), send_until=datetime.time(20), send_days=[0, 1, 2, 3, 4, 5]
    )
    mailing = sending["mailing"]()
    with freeze_time("2027-01-10 12:00:00+01:00"), pytest.raises(ValidationError):  # a Sunday
        services.mailing_send(mailing=mailing, actor=manager)
    with freeze_time("2027-01-11 19:59:00+01:00"):
        services.mailing_send(mailing=mailing, actor=manager)
    with freeze_time("2027-01-11 21:00:00+01:00"):
        result = engine.mailing_run(mailing.pk)
    assert result.outcome == "blocked"
    assert result.resume_at == datetime.datetime(2027, 1, 12, 9, tzinfo=result.resume_at.tzinfo)
    assert not mail_server.received


def test_an_ab_test_sends_both_subjects_to_a_sample_then_the_winner_to_the_rest(
    campaign, manager, sending, mail_server, django_capture_on_commit_callbacks
):
    for index in range(20):
        reachable_person(campaign, f"p{index}@example.org", first_names=f"P{index}")
    mailing = sending["mailing"](subject="Sujet A", subject_b="Sujet B", ab_sample_percent=20)
    mailing = _send(mailing, manager, django_capture_on_commit_callbacks)
    assert mailing.status == Mailing.Status.TESTING
    subjects = sorted(message["Subject"] for message in mail_server.messages())
    assert subjects == ["Sujet A", "Sujet A", "Sujet B", "Sujet B"]
    assert Delivery.objects.filter(mailing=mailing, status=Delivery.Status.HELD).count() == 16

    clicked = Delivery.objects.filter(mailing=mailing, variant="b").first()
    Delivery.objects.filter(pk=clicked.pk).update(clicked_at=timezone.now())
    later = timezone.now() + datetime.timedelta(hours=mailing.ab_wait_hours, minutes=1)
    with freeze_time(later), django_capture_on_commit_callbacks(execute=True):
        services.mailings_tick()
    mailing.refresh_from_db()
    assert mailing.ab_winner == "b" and mailing.status == Mailing.Status.SENT
    rest = [message["Subject"] for message in mail_server.messages()[4:]]
    assert len(rest) == 16 and set(rest) == {"Sujet B"}


def test_a_personalisation_outside_the_sandbox_is_refused(campaign, manager, sending):
    with pytest.raises(ValidationError) as refused:
        sending["mailing"](body="Bonjour {{ person.birth_date }}")
    assert "person" in str(refused.value)
    with pytest.raises(ValidationError, match="debug"):
        sending["mailing"](body="{% debug %}")
    with pytest.raises(ValidationError) as footer:
        sending["mailing"](footer="Merci ! {{ sender_identity }}")
    assert "unsubscribe_url" in str(footer.value)


def test_the_test_send_goes_to_the_given_address_only(campaign, manager, sending, mail_server):
    reachable_person(campaign, "vrai@example.org", first_names="Yann")
    mailing = sending["mailing"]()
    person = Person.objects.get(emails__address="vrai@example.org")
    services.mailing_test_send(mailing=mailing, person=person, to="collegue@example.org", actor=manager)
    assert list(mail_server.arrivals()) == ["collegue@example.org"]
    message = mail_server.messages()[0]
    assert "Yann" in message["Subject"] and "TEST" in message["Subject"]
    assert not Delivery.objects.exists()


def test_the_delivery_token_in_the_message_id_is_deterministic(
    campaign, manager, sending, mail_server, django_capture_on_commit_callbacks
):
    reachable_person(campaign, "a@example.org")
    mailing = _send(sending["mailing"](), manager, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(mailing=mailing)
    assert mail_server.messages()[0]["Message-ID"] == f"<m{mailing.pk}.d{delivery.pk}@brest2027.example>"
    assert delivery_id_from(mail_server.messages()[0]["X-Suffrage-Delivery"]) == delivery.pk


def test_one_worker_sends_a_mailing_at_a_time_and_another_takes_over_a_silent_one(
    campaign, manager, sending, mail_server
):
    reachable_person(campaign, "a@example.org")
    mailing = sending["mailing"]()
    services.mailing_send(mailing=mailing, actor=manager)  # on_commit not run: nobody sends yet
    alive = f"{socket.gethostname()}:{os.getppid()}:other"  # a live process, not this one
    Mailing.objects.filter(pk=mailing.pk).update(sending_by=alive, heartbeat_at=timezone.now())
    assert engine.mailing_run(mailing.pk).outcome == "busy"
    assert not mail_server.received
    Mailing.objects.filter(pk=mailing.pk).update(heartbeat_at=timezone.now() - engine.HEARTBEAT_TIMEOUT * 2)
    assert engine.mailing_run(mailing.pk).outcome == "finished"
    assert list(mail_server.arrivals()) == ["a@example.org"]
    assert Mailing.objects.get(pk=mailing.pk).sending_by == ""


def test_a_scheduled_mailing_starts_when_due_with_the_audience_of_that_moment(
    campaign, manager, sending, mail_server, django_capture_on_commit_callbacks
):
    reachable_person(campaign, "early@example.org")
    mailing = sending["mailing"]()
    at = timezone.now() + datetime.timedelta(days=1)
    services.mailing_send(mailing=mailing, actor=manager, at=at)
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SCHEDULED
    services.mailings_tick()
    assert not mail_server.received  # not yet
    reachable_person(campaign, "late@example.org")  # joins the segment before the time
    with freeze_time(at + datetime.timedelta(minutes=1)), django_capture_on_commit_callbacks(execute=True):
        services.mailings_tick()
    assert sorted(mail_server.arrivals()) == ["early@example.org", "late@example.org"]
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT


class RefusingProvider(BaseHTTPRequestHandler):
    """A provider API that refuses the account's key (HTTP 401)."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"code": "unauthorized", "message": "Key not found"}')

    def log_message(self, *args):
        pass


def test_a_refused_account_pauses_the_mailing_without_failing_anyone(
    campaign, manager, sending, django_capture_on_commit_callbacks
):
    server = HTTPServer(("127.0.0.1", 0), RefusingProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    brevo = services.transport_save(
        campaign=campaign,
        kind="brevo",
        name="Brevo",
        values={"api_url": f"http://127.0.0.1:{server.server_port}/v3/", "api_key": "xkeysib-revoked"},
        rate_per_second=0,
        actor=manager,
    )
    reachable_person(campaign, "a@example.org")
    mailing = _send(sending["mailing"](transport=brevo), manager, django_capture_on_commit_callbacks)
    server.shutdown()
    assert mailing.status == Mailing.Status.PAUSED and "xkeysib" not in mailing.status_reason
    assert Delivery.objects.get(mailing=mailing).status == Delivery.Status.QUEUED
    assert not Suppression.objects.exists()
