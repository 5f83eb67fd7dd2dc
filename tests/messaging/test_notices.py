"""Automatic messages (notices): queued once under a key, sent through the campaign's
own sender and transport (a real SMTP server on loopback), with attachments; never to
an address that bounced or is suppressed; retried, picked up after a dead worker,
sent when due; Django's backend when the campaign has no transport; erased with the
person. Also the MIME of attachments, and a provider receiving one."""

from __future__ import annotations

import base64
import datetime
import email
import email.policy
import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import dkim
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from suffrage.messaging import notices, services
from suffrage.messaging.erasers import report
from suffrage.messaging.forms import MailSettingsForm
from suffrage.messaging.models import Notice, Sender, mail_settings
from suffrage.messaging.transports.base import Attachment, OutgoingMessage
from suffrage.messaging.transports.smtp import render_message
from suffrage.people.models import PersonEmail
from suffrage.privacy import erasure
from suffrage.privacy.models import Suppression
from suffrage.privacy.services import suppression_add
from tests.factories import PersonEmailFactory, PersonFactory
from tests.messaging.conftest import reachable_person
from tests.messaging.test_providers import CASES, LocalProvider, _handler

pytestmark = pytest.mark.django_db

ANNE = "anne@example.org"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Suffrage//FR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    "UID:event-12@brest2027.example\r\nDTSTART:20270312T190000Z\r\nSUMMARY:Réunion publique à Brest\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()
INVITATION = Attachment("réunion-brest.ics", ICS, "text/calendar; method=REQUEST")


def queue(campaign, capture=None, **values):
    """notice_queue with a confirmation's values; with `capture`, its on-commit
    sending runs (the task backend is immediate under test)."""
    fields = {
        "campaign": campaign,
        "to": ANNE,
        "key": "rsvp:12:confirmation",
        "kind": "rsvp",
        "subject": "Votre inscription à la réunion de jeudi",
        "text": "Bonjour Anne,\n\nVotre place est réservée.\n",
    } | values
    if capture is None:
        return notices.notice_queue(**fields)
    with capture(execute=True):
        return notices.notice_queue(**fields)


def _dns_for(sender):
    dkim_record = next(r for r in services.sender_dns_records(sender, []) if r.purpose == "DKIM")
    return lambda name, timeout=5: dkim_record.value.encode()


def _attachments(message) -> list[tuple[str | None, str, bytes]]:
    return [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    ]


# --- Sending through the campaign's transport ------------------------------------------------


def test_a_notice_with_a_calendar_file_arrives_once_signed_by_the_campaign(
    campaign, sending, mail_server, django_capture_on_commit_callbacks
):
    person = reachable_person(campaign, ANNE)
    notice = queue(
        campaign,
        django_capture_on_commit_callbacks,
        person=person,
        html="<p>Bonjour Anne,</p><p>Votre place est réservée.</p>",
        attachments=[INVITATION],
    )

    assert notice is not None
    assert mail_server.arrivals() == {ANNE: 1}
    [message] = mail_server.messages()
    assert message["From"].addresses[0].addr_spec == "equipe@brest2027.example"
    assert message["Subject"] == "Votre inscription à la réunion de jeudi"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "List-Unsubscribe" not in message  # transactional: no footer, no unsubscribe
    assert message.get_content_type() == "multipart/mixed"
    assert "Votre place est réservée." in message.get_body(("plain",)).get_content()
    assert "<p>Bonjour Anne,</p>" in message.get_body(("html",)).get_content()
    assert _attachments(message) == [("réunion-brest.ics", "text/calendar", ICS)]
    [part] = message.iter_attachments()
    assert part.get_param("method") == "REQUEST"
    assert dkim.verify(mail_server.received[0][1], dnsfunc=_dns_for(sending["sender"]))
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.error) == (Notice.Status.SENT, 1, "")
    assert notice.sent_at is not None
    # Nothing left to send: the next tick sends nothing again.
    assert notices.notices_send_due() == 0
    assert notices.notice_send(notice.pk) == "skipped"
    assert mail_server.arrivals() == {ANNE: 1}


def test_queuing_the_same_key_twice_sends_one_message(
    campaign, sending, mail_server, django_capture_on_commit_callbacks
):
    first = queue(campaign, django_capture_on_commit_callbacks)
    again = queue(campaign, django_capture_on_commit_callbacks, subject="Autre sujet")

    assert first is not None and again is None
    assert Notice.objects.filter(campaign=campaign).count() == 1
    assert mail_server.arrivals() == {ANNE: 1}


def test_the_same_key_in_another_campaign_is_another_notice(campaign, other_campaign):
    assert queue(campaign) is not None
    assert queue(other_campaign) is not None


def test_a_duplicate_caught_by_the_constraint_leaves_the_transaction_usable(campaign, monkeypatch):
    """Two requests at once: both see no notice, the database refuses the second."""
    assert queue(campaign) is not None
    monkeypatch.setattr(Notice.objects, "filter", lambda **kwargs: Notice.objects.none())
    assert queue(campaign) is None
    monkeypatch.undo()
    assert Notice.objects.filter(campaign=campaign).count() == 1  # the outer transaction still works


@pytest.mark.parametrize("status", [PersonEmail.Status.BOUNCED, PersonEmail.Status.COMPLAINED])
def test_no_notice_to_an_address_that_bounced_or_complained(campaign, sending, mail_server, status):
    person = reachable_person(campaign, ANNE)
    PersonEmail.objects.filter(person=person).update(status=status)

    assert queue(campaign, to="Anne@Example.org ") is None
    assert not Notice.objects.exists()


def test_no_notice_to_a_suppressed_address(campaign, sending, mail_server):
    suppression_add(campaign=campaign, channel="email", value=ANNE, reason="manual")
    assert queue(campaign) is None
    assert not Notice.objects.exists()


def test_an_address_that_bounced_after_queuing_is_not_written_to(campaign, sending, mail_server):
    person = reachable_person(campaign, ANNE)
    later = timezone.now() + datetime.timedelta(days=2)
    notice = queue(campaign, person=person, kind="reminder", key="rsvp:12:reminder", send_after=later)
    PersonEmail.objects.filter(person=person).update(status=PersonEmail.Status.BOUNCED)

    assert notices.notices_send_due(now=later) == 0
    notice.refresh_from_db()
    assert notice.status == Notice.Status.CANCELLED
    assert not mail_server.received


def test_a_temporary_failure_is_retried_later(campaign, sending, mail_server, django_capture_on_commit_callbacks):
    mail_server.refusals[ANNE] = "451 4.7.1 Greylisted, try again later"
    before = timezone.now()
    notice = queue(campaign, django_capture_on_commit_callbacks)

    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (Notice.Status.PENDING, 1)
    assert notice.send_after >= before + notices.RETRY_STEP
    assert "451" in notice.error
    assert notices.notices_send_due() == 0  # not due yet

    del mail_server.refusals[ANNE]
    assert notices.notices_send_due(now=notice.send_after) == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.error) == (Notice.Status.SENT, 2, "")
    assert mail_server.arrivals() == {ANNE: 1}


def test_temporary_failures_give_up_after_five_attempts(campaign, sending, mail_server):
    mail_server.refusals[ANNE] = "451 4.3.0 Mailbox busy"
    notice = queue(campaign)
    for _attempt in range(notices.MAX_ATTEMPTS):
        notice.refresh_from_db()
        assert notice.status == Notice.Status.PENDING
        notices.notices_send_due(now=notice.send_after)

    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (Notice.Status.FAILED, notices.MAX_ATTEMPTS)
    assert PersonEmail.objects.filter(status=PersonEmail.Status.BOUNCED).count() == 0


def test_a_permanent_failure_marks_the_address_bounced(
    campaign, sending, mail_server, django_capture_on_commit_callbacks
):
    person = reachable_person(campaign, ANNE)
    mail_server.refusals[ANNE] = "550 5.1.1 No such user"
    notice = queue(campaign, django_capture_on_commit_callbacks, person=person)

    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (Notice.Status.FAILED, 1)
    assert PersonEmail.objects.get(person=person).status == PersonEmail.Status.BOUNCED
    assert Suppression.objects.filter(campaign=campaign, reason=Suppression.Reason.BOUNCE).exists()
    assert queue(campaign, key="autre") is None  # and nothing more goes to it


def test_a_notice_claimed_by_a_dead_worker_is_sent(campaign, sending, mail_server):
    dead = queue(campaign)  # on commit never ran: as if the worker died while sending
    alive = queue(campaign, key="petition:3", to="bob@example.org")
    now = timezone.now()
    stale, recent = now - datetime.timedelta(minutes=11), now - datetime.timedelta(minutes=2)
    Notice.objects.filter(pk=dead.pk).update(status=Notice.Status.CLAIMED, claimed_at=stale)
    Notice.objects.filter(pk=alive.pk).update(status=Notice.Status.CLAIMED, claimed_at=recent)

    assert notices.notices_send_due() == 1

    assert mail_server.arrivals() == {ANNE: 1}
    assert Notice.objects.get(pk=dead.pk).status == Notice.Status.SENT
    assert Notice.objects.get(pk=alive.pk).status == Notice.Status.CLAIMED  # its worker may still send it


def test_a_notice_for_later_waits_until_it_is_due(campaign, sending, mail_server, django_capture_on_commit_callbacks):
    later = timezone.now() + datetime.timedelta(days=1)
    notice = queue(campaign, django_capture_on_commit_callbacks, key="rsvp:12:reminder", send_after=later)

    assert not mail_server.received
    assert notices.notice_send(notice.pk) == "skipped"
    assert notices.notices_send_due() == 0
    assert notices.notices_send_due(now=later) == 1
    assert mail_server.arrivals() == {ANNE: 1}


def test_the_tick_sends_what_a_restart_left(campaign, sending, mail_server):
    queue(campaign)  # its task was lost (on commit never ran)
    queue(campaign, key="form:9", to="bob@example.org")

    call_command("mailings_tick")

    assert mail_server.arrivals() == {ANNE: 1, "bob@example.org": 1}


def test_cancelling_by_key_prefix(campaign, sending, mail_server):
    later = timezone.now() + datetime.timedelta(hours=1)
    for key in ("rsvp:12:reminder", "rsvp:12:followup", "rsvp:13:reminder"):
        queue(campaign, key=key, send_after=later, to=f"{key.split(':')[1]}@example.org")

    assert notices.notice_cancel(campaign=campaign, key_prefix="rsvp:12:") == 2
    assert notices.notices_send_due(now=later) == 1
    assert mail_server.arrivals() == {"13@example.org": 1}
    with pytest.raises(ValueError):
        notices.notice_cancel(campaign=campaign, key_prefix="")


def test_the_settings_choose_the_sender_and_transport(campaign, manager, sending, mail_server, settings, tmp_path):
    settings.MAIL_SINK_DIR = str(tmp_path)
    sink = services.transport_save(
        campaign=campaign, kind="sink", name="Essais", values={"folder": "notices"}, rate_per_second=0, actor=manager
    )
    sender = services.sender_create(
        campaign=campaign,
        name="Inscriptions",
        email="inscriptions@brest2027.example",
        reply_to="contact@brest2027.example",
        algorithm="ed25519-sha256",
        actor=manager,
    )
    options = mail_settings(campaign)
    options.notice_sender, options.notice_transport = sender, sink
    options.save()

    notice = queue(campaign, attachments=[INVITATION])
    assert notices.notices_send_due() == 1

    assert not mail_server.received
    [record] = [json.loads(line) for line in Path(tmp_path, "notices", "messages.jsonl").read_text().splitlines()]
    assert record["from"] == "Inscriptions <inscriptions@brest2027.example>"
    assert record["message_id"] == f"<n{notice.pk}.{int(notice.created_at.timestamp())}@brest2027.example>"
    assert record["attachments"] == [
        {"filename": "réunion-brest.ics", "mimetype": "text/calendar; method=REQUEST", "size": len(ICS)}
    ]


def test_without_a_sender_or_transport_django_sends_it(campaign, mailoutbox, django_capture_on_commit_callbacks):
    notice = queue(campaign, django_capture_on_commit_callbacks, attachments=[INVITATION])

    [message] = mailoutbox
    assert message.to == [ANNE]
    assert message.from_email == "Brest 2027 <noreply@localhost>"
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert message.extra_headers["Message-ID"].startswith(f"<n{notice.pk}.")
    [(filename, content, mimetype)] = message.attachments
    assert (filename, content, mimetype) == ("réunion-brest.ics", ICS.decode(), "text/calendar; method=REQUEST")
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT


def test_a_person_of_another_campaign_is_refused(campaign, other_campaign):
    with pytest.raises(ValueError):
        queue(campaign, person=PersonFactory(campaign=other_campaign))


# --- The settings form -----------------------------------------------------------------------


def test_the_settings_form_offers_only_the_campaigns_senders_and_email_transports(
    campaign, other_campaign, manager, sending
):
    Sender.objects.create(campaign=other_campaign, name="Quimper", email="q@quimper.example")
    services.transport_save(
        campaign=campaign,
        kind="sms_file",
        name="SMS",
        values={"folder": "sms"},
        rate_per_second=1,
        actor=manager,
    )
    form = MailSettingsForm(instance=mail_settings(campaign))

    assert list(form.fields["notice_sender"].queryset) == [sending["sender"]]
    assert list(form.fields["notice_transport"].queryset) == [sending["transport"]]


def test_a_manager_chooses_them_on_the_email_settings_page(campaign, other_campaign, manager, login, sending):
    theirs = Sender.objects.create(campaign=other_campaign, name="Quimper", email="q@quimper.example")
    client = login(manager)
    url = reverse("messaging:settings", args=[campaign.slug])
    values = {"brand_colour": "#1d4ed8", "notice_transport": sending["transport"].pk}

    refused = client.post(url, values | {"notice_sender": theirs.pk})
    assert refused.status_code == 200 and mail_settings(campaign).notice_sender is None

    response = client.post(url, values | {"notice_sender": sending["sender"].pk})
    assert response.status_code == 302
    options = mail_settings(campaign)
    assert (options.notice_sender, options.notice_transport) == (sending["sender"], sending["transport"])


# --- Privacy ---------------------------------------------------------------------------------


def test_erasure_removes_the_persons_notices_and_the_report_lists_them(campaign, owner):
    person = reachable_person(campaign, ANNE)
    queue(campaign, person=person)
    queue(campaign, key="form:1", kind="autoreply", subject="Merci pour votre message")  # before the record existed
    bystander = PersonEmailFactory(person=PersonFactory(campaign=campaign), address="yann@example.org").person
    kept = queue(campaign, key="form:2", to="yann@example.org", person=bystander)

    rows = report(person)["automatic_messages"]["rows"]
    waiting = str(Notice.Status.PENDING.label)
    assert sorted((row["kind"], row["to"], row["status"]) for row in rows) == [
        ("autoreply", ANNE, waiting),
        ("rsvp", ANNE, waiting),
    ]
    found = {item.model: item.count for item in erasure.erasure_collect(person)}
    assert found["messaging.notice"] == 2

    counts = erasure.person_erase(person=person, actor=owner)

    assert counts["messaging.notice"] == 2
    assert list(Notice.objects.all()) == [kept]


# --- MIME and providers ----------------------------------------------------------------------


def message(**changes) -> OutgoingMessage:
    values = {
        "from_email": "Équipe Brest 2027 <contact@brest2027.example>",
        "to": ANNE,
        "subject": "Réunion",
        "text": "Bonjour,\nà jeudi.\n",
        "html": "<p>Bonjour, à jeudi.</p>",
        "message_id": "<n1.1@brest2027.example>",
    } | changes
    return OutgoingMessage(**values)


def test_without_attachments_the_mime_is_unchanged():
    expected = (
        b"From: =?utf-8?b?w4lxdWlwZQ==?= Brest 2027 <contact@brest2027.example>\r\n"
        b"To: anne@example.org\r\n"
        b"Subject: =?utf-8?b?UsOpdW5pb24=?=\r\n"
        b"Date: Thu, 11 Mar 2027 19:00:00 GMT\r\n"
        b"Message-ID: <n1.1@brest2027.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="=_b"\r\n'
        b"\r\n"
        b"--=_b\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n"
        b"Bonjour,\r\n"
        b"=C3=A0 jeudi.\r\n"
        b"\r\n"
        b"--=_b\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n"
        b"<p>Bonjour, =C3=A0 jeudi.</p>\r\n"
        b"\r\n"
        b"--=_b--\r\n"
    )
    assert render_message(message(), date="Thu, 11 Mar 2027 19:00:00 GMT", boundary="=_b") == expected


@pytest.mark.parametrize(
    ("text", "html", "body_type"),
    [("Texte", "<p>HTML</p>", "multipart/alternative"), ("Texte seul", "", "text/plain")],
)
def test_attachments_wrap_the_body_in_multipart_mixed(text, html, body_type):
    files = [
        INVITATION,
        Attachment('programme "2027".pdf', bytes(range(256)) * 40, "application/pdf"),
        Attachment("Compte rendu de la réunion publique du jeudi 11 mars à la mairie de Brest.txt", b"", "text/plain"),
        Attachment("投票のお知らせ.ics", b"BEGIN:VCALENDAR\r\n", "text/calendar"),
    ]
    raw = render_message(message(text=text, html=html, attachments=files))

    assert raw.isascii() and all(len(line) <= 78 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    body, *attached = parsed.iter_parts()
    assert body.get_content_type() == body_type
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n") == text
    assert [(part.get_filename(), part.get_content_type(), part.get_payload(decode=True)) for part in attached] == [
        (file.filename, file.mimetype.split(";")[0], file.content) for file in files
    ]


def test_a_name_cannot_inject_headers():
    evil = Attachment('a.ics"\r\nBcc: victim@example.org', b"x", "text/calendar\r\nBcc: victim@example.org")
    parsed = email.message_from_bytes(render_message(message(attachments=[evil])), policy=email.policy.compat32)
    assert all(part["Bcc"] is None for part in parsed.walk())


@pytest.fixture
def provider() -> Iterator[tuple[LocalProvider, str]]:
    local = LocalProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(local))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield local, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_provider_receives_the_attachment(provider):
    local, url = provider
    status, answer, _headers = CASES["postmark"].success
    local.answer(status, answer)

    CASES["postmark"].send(url, message(to="jean@example.org", attachments=[INVITATION]))  # as answered

    body = local.only_request().json()
    [attachment] = body["Attachments"]
    assert attachment["Name"] == "réunion-brest.ics"
    assert attachment["ContentType"].startswith("text/calendar")
    assert base64.b64decode(attachment["Content"]) == ICS
