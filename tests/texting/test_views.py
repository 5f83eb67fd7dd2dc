"""The SMS pages: composing with the counter's data, the audience with the numbers,
preview per recipient, test and send, the report; settings; the conversations inbox,
where a volunteer sees only what was given to them and answers one person at a time."""

from __future__ import annotations

import pytest
from django.utils import translation

from suffrage.messaging import engine
from suffrage.messaging.models import Delivery, Mailing
from suffrage.messaging.transports.base import SmsEvent
from suffrage.texting import services
from suffrage.texting.inbound import events_receive
from suffrage.texting.models import Conversation, Text, sms_settings
from tests.factories import CannedAnswerFactory, ConversationFactory, MembershipFactory, SegmentFactory, UserFactory
from tests.texting.conftest import texter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(campaign):
    """Texts and pages in English, whatever the French catalogue says."""
    campaign.languages = ["en"]
    campaign.save()
    with translation.override("en"):
        yield


@pytest.fixture
def login(login):
    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def test_a_manager_composes_checks_and_sends_a_text(campaign, texting, twilio, manager, login):
    texter(campaign, "+33611111111", first_names="Anne")
    texter(campaign, "+33622222222", first_names="Bruno")
    client = login(manager)
    segment = SegmentFactory(campaign=campaign)
    slug = campaign.slug

    page = client.get(f"/c/{slug}/sms/new/")
    assert page.status_code == 200
    assert 'data-sms-counter="sms-count"' in page.content.decode()
    assert 'data-sms-suffix="Dupont 2027:  STOP to 36111"' in page.content.decode()

    response = client.post(
        f"/c/{slug}/sms/new/",
        {
            "name": "Rappel",
            "transport": texting["transport"].pk,
            "segment": segment.pk,
            "body": "Bonjour {{ first_name }}, on compte sur vous dimanche !",
        },
    )
    mailing = Mailing.objects.get(channel="sms", name="Rappel")
    assert response.status_code == 302 and response["Location"].endswith(f"/sms/{mailing.pk}/")

    detail = client.get(f"/c/{slug}/sms/{mailing.pk}/").content.decode()
    assert "Dupont 2027: Bonjour Anne, on compte sur vous dimanche ! STOP to 36111" in detail
    assert "+33622222222" in detail  # the numbers are shown before sending
    assert "2 in the segment, 2 will receive it" in detail
    assert "0.09 €" in detail  # 2 × 1 part × 0.045

    client.post(f"/c/{slug}/sms/{mailing.pk}/test/", {"to": "06 99 88 77 66"})
    assert twilio.received[-1]["To"] == "+33699887766"
    assert twilio.received[-1]["Body"].startswith("[TEST] Dupont 2027: Bonjour Anne")

    client.post(f"/c/{slug}/sms/{mailing.pk}/send/")
    engine.mailing_run(mailing.pk)
    assert {request["To"] for request in twilio.received[1:]} == {"+33611111111", "+33622222222"}

    first = Delivery.objects.filter(mailing=mailing).order_by("pk").first()
    events_receive(
        texting["transport"], [SmsEvent(kind="delivered", number=first.address, provider_id=first.provider_id)]
    )
    events_receive(texting["transport"], [SmsEvent(kind="reply", number="+33622222222", text="STOP")])
    report = client.get(f"/c/{slug}/sms/{mailing.pk}/").content.decode()
    assert "Report" in report
    listing = client.get(f"/c/{slug}/sms/").content.decode()
    assert "Rappel" in listing and "0.09 €" in listing


def test_a_bad_personalisation_is_refused_with_the_field_named(campaign, texting, manager, login):
    response = login(manager).post(
        f"/c/{campaign.slug}/sms/new/",
        {
            "name": "X",
            "transport": texting["transport"].pk,
            "segment": SegmentFactory(campaign=campaign).pk,
            "body": "Bonjour {{ birth_place }}",
        },
    )
    assert response.status_code == 200
    assert "unknown field “birth_place”" in response.content.decode()
    assert not Mailing.objects.filter(channel="sms").exists()


def test_sms_and_email_pages_do_not_open_each_others_mailings(campaign, texting, manager, login):
    mailing = texting["mailing"]()
    client = login(manager)
    assert client.get(f"/c/{campaign.slug}/mail/{mailing.pk}/").status_code == 404
    assert client.get(f"/c/{campaign.slug}/sms/{mailing.pk}/").status_code == 200


def test_settings_refuse_an_invalid_sender_and_keep_stop_words(campaign, texting, manager, login):
    client = login(manager)
    data = {
        "transport": texting["transport"].pk,
        "sender_id": "Dupont 2027",
        "signature": "Dupont",
        "stop_number": "36111",
        "send_from": "08:00",
        "send_until": "20:00",
        "send_days": ["0", "1", "2", "3", "4", "5"],
        "skip_public_holidays": "on",
        "stop_words": "STOP\nARRET\nFIN",
        "yes_words": "OUI\nYES",
    }
    refused = client.post(f"/c/{campaign.slug}/sms/settings/", data)
    assert "at most 11 letters and digits" in refused.content.decode()
    client.post(f"/c/{campaign.slug}/sms/settings/", data | {"sender_id": "Dupont27"})
    options = sms_settings(campaign)
    assert options.sender_id == "Dupont27" and options.stop_words == ["STOP", "ARRET", "FIN"]


def test_a_volunteer_sees_and_answers_only_the_conversations_given_to_them(campaign, texting, twilio, volunteer, login):
    person = texter(campaign, "+33611111111", first_names="Anne")
    events_receive(texting["transport"], [SmsEvent(kind="reply", number="+33611111111", text="Où voter ?")])
    mine = Conversation.objects.get(person=person)
    other = ConversationFactory(campaign=campaign)
    mine.assigned_to = volunteer
    mine.save()
    client = login(volunteer)

    inbox = client.get(f"/c/{campaign.slug}/sms/inbox/").content.decode()
    assert f"/inbox/{mine.pk}/" in inbox and f"/inbox/{other.pk}/" not in inbox
    assert client.get(f"/c/{campaign.slug}/sms/inbox/{other.pk}/").status_code == 404
    assert client.post(f"/c/{campaign.slug}/sms/inbox/{other.pk}/", {"text": "x"}).status_code == 404

    canned = CannedAnswerFactory(campaign=campaign, body="Votre bureau est à l'école Jean Macé.")
    response = client.post(f"/c/{campaign.slug}/sms/inbox/{mine.pk}/", {"text": "", "canned": canned.pk})
    assert response.status_code == 302
    assert twilio.received[-1]["To"] == "+33611111111"
    assert twilio.received[-1]["Body"] == "Dupont 2027: Votre bureau est à l'école Jean Macé. STOP to 36111"
    sent = mine.texts.get(direction=Text.Direction.OUT)
    assert sent.author == volunteer and sent.provider_id.startswith("SM")
    mine.refresh_from_db()
    assert not mine.unread


def test_no_answer_goes_to_someone_who_opted_out(campaign, texting, twilio, manager):
    texter(campaign, "+33611111111")
    events_receive(texting["transport"], [SmsEvent(kind="reply", number="+33611111111", text="Arrêt")])
    conversation = Conversation.objects.get(number="+33611111111")
    with pytest.raises(Exception, match="opted out"):
        services.conversation_reply(conversation=conversation, text="Dommage", actor=manager)
    assert twilio.received == []


def test_an_organiser_shares_the_unassigned_conversations_among_volunteers(campaign, texting, member, login):
    organiser = member("organiser")
    first, second = (MembershipFactory(campaign=campaign, role="volunteer", user=UserFactory()).user for _ in range(2))
    conversations = [ConversationFactory(campaign=campaign) for _ in range(5)]
    client = login(organiser)
    memberships = [m.pk for m in first.memberships.all()] + [m.pk for m in second.memberships.all()]
    response = client.post(f"/c/{campaign.slug}/sms/inbox/", {"volunteers": memberships})
    assert response.status_code == 302
    holders = [Conversation.objects.get(pk=c.pk).assigned_to for c in conversations]
    assert holders.count(first) == 3 and holders.count(second) == 2


def test_texts_appear_on_the_persons_timeline(campaign, texting, manager, login):
    person = texter(campaign, "+33611111111")
    mailing = texting["mailing"]()
    from suffrage.messaging import services as mailings

    mailings.mailing_send(mailing=mailing, actor=manager)
    engine.mailing_run(mailing.pk)
    events_receive(texting["transport"], [SmsEvent(kind="reply", number="+33611111111", text="Merci pour l'info")])
    page = login(manager).get(f"/c/{campaign.slug}/people/{person.pk}/").content.decode()
    assert "Réunion publique" in page and "Merci pour l&#x27;info" in page
