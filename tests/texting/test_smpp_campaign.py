"""A text-message mailing through an SMPP connection (the small SMS centre of the test
suite): sent by the engine, its receipts recorded while sending, and a reply received
by the long-running `sms_smpp_listen`."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command

from suffrage.messaging import engine
from suffrage.messaging import services as mailings
from suffrage.messaging.models import Delivery
from suffrage.texting.models import Conversation
from tests.texting.conftest import texter
from tests.texting.smpp_server import SmppServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smsc():
    server = SmppServer(receipt_before_resp=True).start()
    yield server
    server.stop()


@pytest.fixture
def smpp_transport(campaign, manager, smsc):
    return mailings.transport_save(
        campaign=campaign,
        kind="smpp",
        name="Opérateur",
        values={
            "host": "127.0.0.1",
            "port": str(smsc.port),
            "sender_id": "Dupont2027",
            "system_id": "campagne",
            "password": "s3cret",
        },
        rate_per_second=0,
        actor=manager,
    )


def test_a_mailing_goes_out_over_smpp_and_its_receipts_are_recorded(campaign, texting, smsc, smpp_transport, manager):
    person = texter(campaign, "+33611111111", first_names="Anne")
    mailing = texting["mailing"](transport=smpp_transport)
    mailings.mailing_send(mailing=mailing, actor=manager)

    assert engine.mailing_run(mailing.pk).outcome == "finished"

    (submit,) = smsc.accepted
    assert submit.destination == "33611111111"
    assert submit.text == "Dupont 2027: Bonjour Anne, réunion publique jeudi à 19h, salle du port. STOP to 36111"
    delivery = Delivery.objects.get(mailing=mailing, person=person)
    assert delivery.provider_id == submit.message_id
    # The SMS centre sent the receipt before answering the submission: recorded anyway.
    assert delivery.delivered_at is not None


def test_the_listener_records_a_reply_received_while_bound(campaign, texting, smsc, smpp_transport):
    texter(campaign, "+33611111111")
    pusher = threading.Thread(target=lambda: smsc.push_reply("33611111111", "Je viendrai avec ma soeur"))
    pusher.start()

    call_command("sms_smpp_listen", seconds=2)
    pusher.join()

    conversation = Conversation.objects.get(campaign=campaign, number="+33611111111")
    assert conversation.texts.get().body == "Je viendrai avec ma soeur"
