"""Our webhook for SMS providers: signatures checked before anything is read, receipts,
replies into the inbox, the provider's own opt-out callbacks (Twilio's documented
parameters, signed as Twilio signs them)."""

from __future__ import annotations

import pytest

from suffrage.messaging import engine
from suffrage.messaging import services as mailings
from suffrage.messaging.models import Delivery, TrackingEvent
from suffrage.texting.models import Conversation, Text
from tests.texting.conftest import texter, twilio_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(campaign, texting, manager):
    """A text sent to Anne through the local Twilio."""
    anne = texter(campaign, "+33611111111", first_names="Anne")
    mailing = texting["mailing"]()
    mailings.mailing_send(mailing=mailing, actor=manager)
    engine.mailing_run(mailing.pk)
    return Delivery.objects.get(mailing=mailing, person=anne)


def test_a_call_without_a_valid_signature_is_refused_and_changes_nothing(client, texting, sent):
    params = {"MessageSid": sent.provider_id, "MessageStatus": "delivered", "To": "+33611111111"}
    assert twilio_call(client, texting["transport"], params, signed=False).status_code == 403
    sent.refresh_from_db()
    assert sent.delivered_at is None


def test_an_unknown_webhook_key_is_a_404(client):
    assert client.post("/hooks/sms/00000000-0000-0000-0000-000000000000/", {}).status_code == 404


def test_a_status_callback_marks_the_delivery_delivered(client, texting, sent):
    params = {"MessageSid": sent.provider_id, "MessageStatus": "delivered", "To": "+33611111111"}
    response = twilio_call(client, texting["transport"], params)
    assert response.status_code == 200
    assert response.content == b"<Response/>"
    sent.refresh_from_db()
    assert sent.delivered_at is not None


def test_a_reply_lands_in_a_conversation_with_the_person_and_the_text_it_answers(client, texting, sent):
    params = {"MessageSid": "SMreply1", "From": "+33611111111", "To": "Dupont2027", "Body": "Je viendrai, merci !"}
    assert twilio_call(client, texting["transport"], params).status_code == 200

    conversation = Conversation.objects.get(number="+33611111111")
    assert conversation.person_id == sent.person_id and conversation.unread
    text = conversation.texts.get()
    assert text.direction == Text.Direction.IN and text.body == "Je viendrai, merci !"
    assert text.in_reply_to_id == sent.pk
    assert TrackingEvent.objects.filter(delivery=sent, kind=TrackingEvent.Kind.REPLIED).exists()


def test_a_reply_from_an_unknown_number_opens_a_conversation_without_a_person(client, texting):
    params = {"MessageSid": "SMx", "From": "+33699999999", "To": "Dupont2027", "Body": "Qui êtes-vous ?"}
    twilio_call(client, texting["transport"], params)
    conversation = Conversation.objects.get(number="+33699999999")
    assert conversation.person is None


def test_twilios_own_opt_out_callback_opts_the_person_out(client, texting, sent):
    params = {"MessageSid": "SMs", "From": "+33611111111", "To": "Dupont2027", "Body": "STOP", "OptOutType": "STOP"}
    twilio_call(client, texting["transport"], params)
    sent.person.refresh_from_db()
    assert sent.person.consent_sms is False
    sent.refresh_from_db()
    assert sent.unsubscribed_at is not None
