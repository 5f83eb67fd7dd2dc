"""Text-message mailings end to end: who receives them (consent, opt-outs, landlines,
the suppression list, consent requests for rented numbers), what each text says,
sending through a provider served locally with Twilio's documented API, hours and
silence, and STOP taking effect before the next batch."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from suffrage.core.models import CalendarElection
from suffrage.messaging import engine
from suffrage.messaging import services as mailings
from suffrage.messaging.models import Delivery, Mailing
from suffrage.messaging.schedule import send_blocked_until, send_refusal
from suffrage.messaging.transports.base import SmsEvent
from suffrage.people.models import ConsentEvent, LegalBasis
from suffrage.privacy.models import Suppression
from suffrage.privacy.services import suppression_add
from suffrage.texting.gsm import sms_length
from suffrage.texting.inbound import events_receive
from tests.factories import PersonFactory, PersonPhoneFactory
from tests.texting.conftest import texter

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _people(campaign):
    """One of each case the audience must tell apart."""
    return {
        "consented": texter(campaign, "+33611111111", first_names="Anne"),
        "member": texter(campaign, "+33622222222", first_names="Marc", legal_basis=LegalBasis.MEMBER, consent_sms=None),
        "opted_out": texter(campaign, "+33633333333", consent_sms=False),
        "landline": _with_phone(PersonFactory(campaign=campaign, consent_sms=True), "+33298000000", kind="landline"),
        "no_number": PersonFactory(campaign=campaign, consent_sms=True),
        "rented": _with_phone(
            PersonFactory(campaign=campaign, legal_basis=LegalBasis.LEGITIMATE_INTEREST), "+33644444444"
        ),
        "suppressed": texter(campaign, "+33655555555"),
    }


def _rented(campaign):
    return PersonFactory(campaign=campaign, legal_basis=LegalBasis.LEGITIMATE_INTEREST)


def _with_phone(person, number, kind="mobile"):
    PersonPhoneFactory(person=person, number=number, kind=kind, sms_capable=kind == "mobile")
    return person


def test_the_audience_counts_each_reason_once_and_the_deliveries_follow_it(campaign, texting, manager):
    people = _people(campaign)
    suppression_add(campaign=campaign, channel="sms", value="+33655555555", reason=Suppression.Reason.STOP)
    mailing = texting["mailing"](consent_request="Dupont 2027 aimerait vous écrire pendant la campagne.")

    mailings.mailing_send(mailing=mailing, actor=manager)
    mailing.refresh_from_db()

    assert mailing.audience == {
        "in_segment": 7,
        "no_number": 1,
        "landline": 1,
        "opted_out": 1,
        "will_be_asked": 1,
        "no_consent": 0,
        # The suppressed number still counts as reachable here; its delivery is cancelled below.
        "will_receive": 3,
        "suppressed": 0,
    }
    rows = {d.person_id: d for d in Delivery.objects.filter(mailing=mailing)}
    assert set(rows) == {people[k].pk for k in ("consented", "member", "rented", "suppressed")}
    assert rows[people["rented"].pk].variant == "c"
    assert rows[people["consented"].pk].address == "+33611111111"
    assert rows[people["suppressed"].pk].status == Delivery.Status.CANCELLED


def test_each_text_is_signed_personalised_and_ends_with_the_stop_mention(campaign, texting, twilio, manager):
    anne = texter(campaign, "+33611111111", first_names="Anne Marie")
    mailing = texting["mailing"]()
    mailings.mailing_send(mailing=mailing, actor=manager)

    assert engine.mailing_run(mailing.pk).outcome == "finished"

    (request,) = twilio.received
    assert request["To"] == "+33611111111"
    assert request["From"] == "Dupont2027"
    assert request["Body"] == "Dupont 2027: Bonjour Anne, réunion publique jeudi à 19h, salle du port. STOP to 36111"
    assert request["StatusCallback"] == f"https://suffrage.example/hooks/sms/{texting['transport'].webhook_key}/"
    delivery = Delivery.objects.get(mailing=mailing, person=anne)
    assert delivery.status == Delivery.Status.SENT
    assert delivery.provider_id.startswith("SM")
    assert delivery.parts == sms_length(request["Body"]).parts == 1


def test_a_rented_number_is_asked_once_and_receives_messages_only_after_yes(campaign, texting, twilio, manager):
    rented = _with_phone(PersonFactory(campaign=campaign, first_names="Lou", legal_basis=""), "+33644444444")
    first = texting["mailing"](consent_request="Dupont 2027 aimerait vous tenir informé par SMS.")
    mailings.mailing_send(mailing=first, actor=manager)
    engine.mailing_run(first.pk)
    (asked,) = twilio.bodies_to("+33644444444")
    assert "Reply YES to agree." in asked and "réunion" not in asked

    # Asked already and no answer: the next mailing does not ask again, nor send.
    second = texting["mailing"](name="Deuxième", consent_request="Encore ?")
    mailings.mailing_send(mailing=second, actor=manager)
    assert not Delivery.objects.filter(mailing=second).exists()

    sent = Delivery.objects.get(mailing=first, person=rented)
    events_receive(texting["transport"], [SmsEvent(kind="reply", number="+33644444444", text=" oui ")])
    rented.refresh_from_db()
    assert rented.consent_sms is True
    proof = ConsentEvent.objects.get(person=rented, channel="sms", granted=True)
    assert "Dupont 2027 aimerait vous tenir informé par SMS." in proof.wording and proof.form == first.name
    assert sent.variant == "c"

    third = texting["mailing"](name="Troisième")
    mailings.mailing_send(mailing=third, actor=manager)
    engine.mailing_run(third.pk)
    assert "réunion publique" in twilio.bodies_to("+33644444444")[-1]


def test_stop_cancels_what_is_queued_before_the_next_batch(campaign, texting, twilio, manager, monkeypatch):
    monkeypatch.setattr(engine, "CLAIM_SIZE", 1)
    numbers = ["+33611111111", "+33622222222", "+33633333333"]
    for number in numbers:
        texter(campaign, number)
    mailing = texting["mailing"]()
    mailings.mailing_send(mailing=mailing, actor=manager)

    assert engine.mailing_run(mailing.pk, max_batches=1).outcome == "waiting"
    (first,) = [request["To"] for request in twilio.received]
    # Someone still waiting answers STOP to an earlier text while the mailing is being sent.
    stopping = next(number for number in numbers if number != first)
    events_receive(texting["transport"], [SmsEvent(kind="reply", number=stopping, text="Stop")])

    assert engine.mailing_run(mailing.pk).outcome == "finished"
    assert sorted(request["To"] for request in twilio.received) == sorted(set(numbers) - {stopping})
    stopped = Delivery.objects.get(mailing=mailing, address=stopping)
    assert stopped.status == Delivery.Status.CANCELLED
    assert Suppression.objects.filter(campaign=campaign, channel="sms").count() == 1
    # The withdrawal is on the ledger, with the words the person used.
    assert ConsentEvent.objects.filter(channel="sms", granted=False, wording="Stop").count() == 1


@pytest.mark.parametrize("words", ["STOP", "stop sms", "Arrêt", "arret.", "UNSUBSCRIBE"])
def test_stop_words_are_recognised_whatever_the_case_and_accents(campaign, texting, words):
    person = texter(campaign, "+33611111111")
    events_receive(texting["transport"], [SmsEvent(kind="reply", number="+33611111111", text=words)])
    person.refresh_from_db()
    assert person.consent_sms is False


def test_a_sentence_containing_stop_is_a_reply_not_an_opt_out(campaign, texting):
    person = texter(campaign, "+33611111111")
    events_receive(
        texting["transport"], [SmsEvent(kind="reply", number="+33611111111", text="Ne stop pas la campagne !")]
    )
    person.refresh_from_db()
    assert person.consent_sms is True
    assert person.conversations.get().texts.get().body == "Ne stop pas la campagne !"


def test_a_permanent_refusal_marks_the_number_unable_to_receive_texts(campaign, texting, twilio, manager):
    person = texter(campaign, "+33611111111")
    twilio.refusals["+33611111111"] = (400, 21614)  # "To" is not a mobile number
    mailing = texting["mailing"]()
    mailings.mailing_send(mailing=mailing, actor=manager)
    engine.mailing_run(mailing.pk)

    delivery = Delivery.objects.get(mailing=mailing)
    assert delivery.status == Delivery.Status.FAILED and "21614" in delivery.error
    assert person.phones.get().sms_capable is False
    assert person.phones.get().suppressed is False  # calls are another matter


def test_receipts_record_delivery_and_failures_with_their_reason(campaign, texting, manager):
    texter(campaign, "+33611111111")
    texter(campaign, "+33622222222")
    mailing = texting["mailing"]()
    mailings.mailing_send(mailing=mailing, actor=manager)
    engine.mailing_run(mailing.pk)
    first, second = Delivery.objects.filter(mailing=mailing).order_by("address")

    events_receive(
        texting["transport"],
        [
            SmsEvent(kind="delivered", number=first.address, provider_id=first.provider_id),
            SmsEvent(kind="failed", number=second.address, provider_id=second.provider_id, reason="30003 Unreachable"),
        ],
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.delivered_at is not None and second.delivered_at is None
    assert second.bounced_at is not None and second.error == "30003 Unreachable"


def test_sends_wait_for_the_allowed_hours_days_and_holidays(campaign, texting):
    options = texting["settings"]
    options.send_days, options.skip_public_holidays = [0, 1, 2, 3, 4, 5], True
    options.send_from, options.send_until = datetime.time(8), datetime.time(20)
    options.save()
    campaign.time_zone = "Europe/Paris"
    campaign.save()

    sunday_noon = datetime.datetime(2027, 3, 7, 12, tzinfo=PARIS)
    assert send_blocked_until(campaign, sunday_noon, "sms") == datetime.datetime(2027, 3, 8, 8, tzinfo=PARIS)
    monday_9pm = datetime.datetime(2027, 3, 8, 21, tzinfo=PARIS)
    assert send_blocked_until(campaign, monday_9pm, "sms") == datetime.datetime(2027, 3, 9, 8, tzinfo=PARIS)
    # Wednesday 14 July 2027 is a public holiday: the next window is Thursday morning.
    bastille = datetime.datetime(2027, 7, 14, 10, tzinfo=PARIS)
    assert send_blocked_until(campaign, bastille, "sms") == datetime.datetime(2027, 7, 15, 8, tzinfo=PARIS)
    assert send_blocked_until(campaign, datetime.datetime(2027, 7, 15, 10, tzinfo=PARIS), "sms") is None
    # Emails keep their own settings (none here: always open).
    assert send_blocked_until(campaign, sunday_noon, "email") is None


def test_a_send_that_runs_past_the_window_stops_and_says_when_it_resumes(
    campaign, texting, twilio, manager, monkeypatch
):
    texter(campaign, "+33611111111")
    mailing = texting["mailing"]()
    mailings.mailing_send(mailing=mailing, actor=manager)
    options = texting["settings"]
    now = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(campaign.time_zone))
    options.send_days = [(now.weekday() + 1) % 7]  # only tomorrow
    options.save()

    result = engine.mailing_run(mailing.pk)

    assert result.outcome == "blocked" and result.resume_at > timezone.now()
    assert twilio.received == []
    assert Delivery.objects.get(mailing=mailing).status == Delivery.Status.QUEUED


def test_no_text_leaves_during_the_electoral_silence(campaign, texting, manager):
    texter(campaign, "+33611111111")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    CalendarElection.objects.create(campaign=campaign, name="Municipales", first_round_on=tomorrow, send_lock=True)
    mailing = texting["mailing"]()
    with pytest.raises(ValidationError, match="Municipales"):
        mailings.mailing_send(mailing=mailing, actor=manager)
    assert "Municipales" in send_refusal(campaign, timezone.now(), "sms")
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT


def test_pause_resume_and_cancel_work_as_for_emails(campaign, texting, twilio, manager, monkeypatch):
    monkeypatch.setattr(engine, "CLAIM_SIZE", 1)
    for number in ("+33611111111", "+33622222222", "+33633333333"):
        texter(campaign, number)
    mailing = texting["mailing"]()
    mailings.mailing_send(mailing=mailing, actor=manager)
    engine.mailing_run(mailing.pk, max_batches=1)
    mailings.mailing_pause(mailing=Mailing.objects.get(pk=mailing.pk), actor=manager)
    assert engine.mailing_run(mailing.pk).outcome == "stopped"
    assert len(twilio.received) == 1

    mailings.mailing_resume(mailing=Mailing.objects.get(pk=mailing.pk), actor=manager)
    engine.mailing_run(mailing.pk, max_batches=1)
    assert mailings.mailing_cancel(mailing=Mailing.objects.get(pk=mailing.pk), actor=manager) == 1
    assert len(twilio.received) == 2


def test_a_suppressed_number_shared_by_two_people_is_texted_to_neither(campaign, texting, manager):
    first, second = texter(campaign, "+33655555555"), texter(campaign, "+33655555555")
    suppression_add(campaign=campaign, channel="sms", value="+33655555555", reason=Suppression.Reason.STOP)
    mailing = texting["mailing"]()
    mailings.mailing_send(mailing=mailing, actor=manager)
    statuses = set(
        Delivery.objects.filter(mailing=mailing, person__in=[first, second]).values_list("status", flat=True)
    )
    assert statuses == {Delivery.Status.CANCELLED}
