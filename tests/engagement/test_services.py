"""What every citizen's act does to the base: one person found or created (by
email or phone, never by name), provenance, consent with its proof, the timeline,
double opt-in, waiting lists, reminders sent once."""

import datetime

import pytest
from django.utils import timezone

from suffrage.core.models import AuditLog
from suffrage.engagement import services
from suffrage.engagement.models import RSVP, Submission
from suffrage.imports.normalise import normalise_phone
from suffrage.messaging.models import Notice
from suffrage.messaging.notices import notices_send_due
from suffrage.people.models import ConsentEvent, Person, PersonEmail, Source
from suffrage.people.selectors import person_timeline
from suffrage.people.services import person_merge
from suffrage.privacy.services import suppression_add
from tests.factories import ActionFactory, EventFactory, PersonEmailFactory, PersonFactory, RSVPFactory

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def _english(campaign):
    """Automatic messages speak the campaign's first language: English here, for the subjects asserted."""
    campaign.languages = ["en"]
    campaign.save(update_fields=["languages"])


def form_with_consent(campaign, **kwargs):
    action = ActionFactory(campaign=campaign, **kwargs)
    services.wordings_set(owner=action, texts={"email": "Je veux recevoir les nouvelles par email."})
    return action


def signup(action, **data):
    data = {"first_names": "Anne", "last_name": "Le Gall", "email": "anne@example.org", **data}
    if isinstance(data.get("phone"), str):
        data["phone"] = normalise_phone(data["phone"])
    return services.submission_record(action=action, data=data, ip="192.0.2.7")


def test_a_submission_creates_a_person_with_provenance_and_consent_proof(campaign):
    action = form_with_consent(campaign, title="Rejoignez Brest 2027")
    submission = signup(action, consent_email=True)
    person = submission.person
    assert (person.source, person.source_detail, person.legal_basis) == (
        Source.WEB_FORM,
        "Rejoignez Brest 2027",
        "consent",
    )
    assert person.consent_email is True
    proof = ConsentEvent.objects.get(person=person)
    assert proof.wording == "Je veux recevoir les nouvelles par email."
    assert proof.form == "Rejoignez Brest 2027 · v1"
    assert proof.ip == "192.0.2.7"


def test_without_the_box_ticked_no_consent_is_recorded(campaign):
    submission = signup(form_with_consent(campaign))
    assert submission.person.consent_email is None
    assert submission.person.legal_basis == "legitimate_interest"
    assert not ConsentEvent.objects.exists()


def test_the_same_email_finds_the_same_person_and_fills_only_empty_fields(campaign):
    person = PersonFactory(campaign=campaign, first_names="Anne-Marie", usage_name="")
    PersonEmailFactory(person=person, address="anne@example.org")
    submission = signup(form_with_consent(campaign), last_name="Le Gall", phone="06 12 34 56 78")
    assert submission.person == person
    person.refresh_from_db()
    assert person.first_names == "Anne-Marie"  # what the campaign had stays
    assert person.usage_name == "Le Gall"  # what was missing is filled, with its source
    assert person.field_sources["usage_name"]["source"] == Source.WEB_FORM
    assert list(person.phones.values_list("number", flat=True)) == ["+33612345678"]
    assert Person.objects.filter(campaign=campaign).count() == 1


def test_a_phone_number_finds_the_person_when_there_is_no_email(campaign):
    action = ActionFactory(campaign=campaign, fields=[{"key": "first_names"}, {"key": "phone", "required": True}])
    first = services.submission_record(
        action=action, data={"first_names": "Yann", "phone": normalise_phone("0612345678")}
    )
    again = services.submission_record(
        action=action, data={"first_names": "Yann", "phone": normalise_phone("+33612345678")}
    )
    assert first.person == again.person


def test_the_same_name_with_another_address_is_another_person(campaign):
    action = form_with_consent(campaign)
    first = signup(action, email="anne@example.org")
    second = signup(action, email="anne.legall@example.net")
    assert first.person != second.person


def test_a_submission_and_an_rsvp_land_on_the_timeline(campaign):
    submission = signup(form_with_consent(campaign, title="Pétition tram"))
    answer = services.rsvp_record(event=EventFactory(campaign=campaign), data={"email": "anne@example.org"})
    entries = person_timeline(submission.person)
    assert [entry.item for entry in entries if entry.kind == "submission"] == [submission]
    assert [entry.item for entry in entries if entry.kind == "rsvp"] == [answer]


def test_merging_two_records_keeps_their_answers_and_one_rsvp_per_event(campaign, owner):
    action, event = form_with_consent(campaign), EventFactory(campaign=campaign)
    first = signup(action, email="a@example.org").person
    second = signup(action, email="b@example.org").person
    services.rsvp_record(event=event, data={"email": "a@example.org"})
    services.rsvp_record(event=event, data={"email": "b@example.org"})
    person_merge(keep=first, other=second, actor=owner)
    assert Submission.objects.filter(person=first).count() == 2
    assert RSVP.objects.filter(event=event, person=first).count() == 1


def test_another_campaigns_people_are_never_matched(campaign, other_campaign):
    elsewhere = PersonFactory(campaign=other_campaign)
    PersonEmailFactory(person=elsewhere, address="anne@example.org")
    submission = signup(form_with_consent(campaign))
    assert submission.person.campaign == campaign
    assert submission.person != elsewhere


def test_double_opt_in_counts_consent_only_once_the_link_is_opened(campaign, mailoutbox):
    action = form_with_consent(campaign, double_opt_in=True)
    submission = signup(action, consent_email=True)
    assert submission.status == Submission.Status.PENDING
    assert submission.person.consent_email is None
    notices_send_due()  # what the worker (or the tick) does
    assert len(mailoutbox) == 1
    link = next(line for line in mailoutbox[0].body.splitlines() if "/confirm/" in line).strip()
    secret = link.rstrip("/").rsplit("/", 1)[-1]
    assert services.submission_confirm(campaign=campaign, secret="wrong") is None
    confirmed = services.submission_confirm(campaign=campaign, secret=secret, ip="192.0.2.9")
    assert confirmed.status == Submission.Status.CONFIRMED
    confirmed.person.refresh_from_db()
    assert confirmed.person.consent_email is True
    assert ConsentEvent.objects.get(person=confirmed.person).ip == "192.0.2.9"
    # Opening the link twice records nothing more.
    services.submission_confirm(campaign=campaign, secret=secret)
    assert ConsentEvent.objects.filter(person=confirmed.person).count() == 1


def test_a_petition_signature_is_confirmed_by_email(campaign, mailoutbox):
    petition = form_with_consent(campaign, kind="petition", title="Sauvons la piscine")
    signup(petition)
    notices_send_due()
    assert [message.subject for message in mailoutbox] == ["Thank you for signing: Sauvons la piscine"]
    assert services.signatures_count(petition) == 1


def test_a_suppressed_address_signs_but_stays_unusable(campaign, mailoutbox):
    suppression_add(campaign=campaign, channel="email", value="anne@example.org", reason="erasure")
    submission = signup(form_with_consent(campaign, kind="petition"), consent_email=True)
    assert PersonEmail.objects.get(person=submission.person).status == PersonEmail.Status.SUPPRESSED
    assert not Person.objects.filter(pk=submission.person.pk).reachable_by("email").exists()
    notices_send_due()
    assert mailoutbox == []  # not even the automatic reply


def test_a_closed_form_takes_nothing(campaign):
    with pytest.raises(services.Closed):
        signup(ActionFactory(campaign=campaign, status="closed"))
    assert not Person.objects.exists()


# --- Events -----------------------------------------------------------------------


def rsvp(event, email, **data):
    return services.rsvp_record(event=event, data={"first_names": "Loïc", "email": email, **data})


def test_an_rsvp_is_confirmed_with_a_calendar_file(campaign, mailoutbox):
    event = EventFactory(campaign=campaign, title="Réunion publique")
    answer = rsvp(event, "loic@example.org")
    assert answer.status == RSVP.Status.GOING
    notices_send_due()
    (message,) = mailoutbox
    assert message.subject == "You are coming: Réunion publique"
    (name, content, mimetype) = message.attachments[0]
    assert name == "event.ics" and mimetype.startswith("text/calendar")
    text = content.decode() if isinstance(content, bytes) else content
    assert "SUMMARY:Réunion publique" in text


def test_a_full_event_puts_people_on_the_waiting_list_then_promotes_them(campaign):
    event = EventFactory(campaign=campaign, capacity=2, waitlist=True)
    first = rsvp(event, "a@example.org", guests=0)
    rsvp(event, "b@example.org")
    waiting = rsvp(event, "c@example.org")
    assert waiting.status == RSVP.Status.WAITLIST
    services.rsvp_cancel(rsvp=first)
    waiting.refresh_from_db()
    assert waiting.status == RSVP.Status.GOING


def test_a_full_event_without_a_waiting_list_refuses(campaign):
    event = EventFactory(campaign=campaign, capacity=1, waitlist=False)
    rsvp(event, "a@example.org")
    with pytest.raises(services.EventFull):
        rsvp(event, "b@example.org")
    assert RSVP.objects.filter(event=event).count() == 1


def test_guests_take_seats(campaign):
    event = EventFactory(campaign=campaign, capacity=4, waitlist=True)
    services.rsvp_record(event=event, data={"email": "a@example.org"}, guests=2)
    assert rsvp(event, "b@example.org").status == RSVP.Status.GOING  # 3 + 1 = 4 seats
    assert rsvp(event, "c@example.org").status == RSVP.Status.WAITLIST


def test_check_in_is_recorded_once(campaign, owner):
    answer = RSVPFactory(event__campaign=campaign)
    assert services.rsvp_check_in(rsvp=answer, actor=owner) is True
    assert services.rsvp_check_in(rsvp=answer, actor=owner) is False
    assert answer.checked_in_at is not None
    assert AuditLog.objects.filter(action="engagement.check_in").count() == 1


def test_reminders_are_queued_once_per_person_when_due(campaign, mailoutbox):
    starts = timezone.now() + datetime.timedelta(hours=30)
    event = EventFactory(
        campaign=campaign, starts_at=starts, ends_at=starts + datetime.timedelta(hours=2), reminder_hours=[24]
    )
    answer = rsvp(event, "loic@example.org")
    RSVP.objects.filter(pk=answer.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    notices_send_due()  # the confirmation
    mailoutbox.clear()
    assert services.reminders_queue() == 0  # 30 hours before: not yet
    later = timezone.now() + datetime.timedelta(hours=7)
    assert services.reminders_queue(now=later) == 1
    assert services.reminders_queue(now=later) == 0  # a second tick, or a restart, queues nothing new
    notices_send_due(now=later)
    assert [message.subject for message in mailoutbox] == [f"Reminder: {event.title}"]
    assert Notice.objects.filter(kind="reminder", status="sent").count() == 1


def test_a_cancelled_rsvp_gets_no_reminder(campaign):
    starts = timezone.now() + datetime.timedelta(hours=10)
    event = EventFactory(
        campaign=campaign, starts_at=starts, ends_at=starts + datetime.timedelta(hours=2), reminder_hours=[24]
    )
    answer = RSVPFactory(event=event, created_at=timezone.now() - datetime.timedelta(days=3))
    PersonEmailFactory(person=answer.person)
    services.rsvp_cancel(rsvp=answer)
    assert services.reminders_queue() == 0


def test_a_follow_up_goes_after_the_event(campaign, mailoutbox):
    starts = timezone.now() - datetime.timedelta(hours=5)
    event = EventFactory(
        campaign=campaign,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        followup_hours=2,
        followup_text="Merci !",
    )
    answer = RSVPFactory(event=event)
    PersonEmailFactory(person=answer.person, address="loic@example.org")
    assert services.reminders_queue() == 1
    notices_send_due()
    assert "Merci !" in mailoutbox[-1].body


def test_a_shift_taken_makes_a_volunteer(campaign):
    from tests.factories import CallToActionFactory

    call = CallToActionFactory(campaign=campaign, kind="shift", url="", slots=1)
    response = services.shift_take(call=call, data={"first_names": "Nolwenn", "email": "n@example.org"})
    assert response.person.is_volunteer or Person.objects.get(pk=response.person.pk).is_volunteer
    with pytest.raises(services.EventFull):
        services.shift_take(call=call, data={"first_names": "Erwan", "email": "e@example.org"})


def test_page_views_are_counted_per_day(campaign):
    services.page_viewed(campaign, "action:1")
    services.page_viewed(campaign, "action:1")
    from suffrage.engagement.models import PageView

    assert PageView.objects.get(campaign=campaign, page="action:1").count == 2


def test_a_visit_lands_on_the_timeline(campaign):
    from tests.factories import VisitFactory

    person = PersonFactory(campaign=campaign)
    visit = VisitFactory(door__turf__canvass__campaign=campaign, person=person, outcome="opened")
    assert [entry.item for entry in person_timeline(person) if entry.kind == "visit"] == [visit]
