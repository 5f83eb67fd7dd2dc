"""In a real browser: an organiser writes a text and watches the counter turn to
Unicode when a character outside the GSM alphabet comes in; a volunteer on their
phone answers the one conversation given to them with a canned answer."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from suffrage.messaging import services as mail_services
from suffrage.messaging.transports.base import SmsEvent
from suffrage.texting.gsm import sms_length
from suffrage.texting.inbound import events_receive
from suffrage.texting.models import Conversation, sms_settings
from tests.e2e.test_segment_builder import owner_of, sign_in
from tests.factories import CampaignFactory, CannedAnswerFactory, MembershipFactory, UserFactory
from tests.texting.conftest import texter

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def campaign():
    campaign = CampaignFactory(name="Brest en commun", slug="brest", require_mfa=False, languages=["en"])
    owner = owner_of(campaign)
    transport = mail_services.transport_save(
        campaign=campaign,
        kind="sms_file",
        name="Fichier",
        values={"folder": "e2e-sms", "sender_id": "BrestCommun"},
        rate_per_second=0,
        actor=owner,
        price_per_part="0.05",
    )
    options = sms_settings(campaign)
    options.transport, options.signature, options.stop_number = transport, "Brest en commun", "36111"
    options.send_days, options.send_from, options.send_until = (
        list(range(7)),
        datetime.time(0),
        datetime.time(23, 59, 59),
    )
    options.skip_public_holidays = False
    options.save()
    campaign.owner = owner
    return campaign


def test_the_composer_counts_parts_and_names_the_characters_that_make_it_unicode(browser, live_server, campaign):
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, campaign.owner)
    page.goto(f"{live_server.url}/c/brest/sms/new/")
    page.wait_for_load_state("load")
    counter = page.locator("#sms-count")

    page.locator("textarea[name=body]").fill("Réunion jeudi à 19h, venez nombreux")
    frame = "Brest en commun:  STOP to 36111"
    expected = sms_length("Réunion jeudi à 19h, venez nombreux" + frame)
    assert expected.encoding == "GSM-7"
    expect(counter).to_have_attribute("data-encoding", "GSM-7")
    expect(counter).to_contain_text(f"{expected.units} characters")

    page.locator("textarea[name=body]").fill("Réunion jeudi à 19h, venez nombreux ! Fête ensuite")
    expect(counter).to_have_attribute("data-encoding", "UCS-2")
    expect(counter).to_contain_text("ê")
    context.close()


def test_a_volunteer_answers_their_conversation_from_a_phone(browser, live_server, campaign):
    volunteer = UserFactory(email="benevole@brest.example")
    MembershipFactory(campaign=campaign, user=volunteer, role="volunteer")
    texter(campaign, "+33611111111", first_names="Anne")
    events_receive(sms_settings(campaign).transport, [SmsEvent(kind="reply", number="+33611111111", text="Où voter ?")])
    conversation = Conversation.objects.get(number="+33611111111")
    conversation.assigned_to = volunteer
    conversation.save()
    CannedAnswerFactory(campaign=campaign, title="Bureau de vote", body="Votre bureau est à l'école Jean Macé.")

    context = browser.new_context(locale="en-GB", viewport=PHONE)
    page = context.new_page()
    sign_in(page, live_server, volunteer)
    page.goto(f"{live_server.url}/c/brest/sms/inbox/")
    page.get_by_role("link", name="Anne").first.click()
    page.wait_for_load_state("load")  # the page's scripts (deferred) are running from here
    expect(page.locator(".thread")).to_contain_text("Où voter ?")
    page.get_by_role("button", name="Bureau de vote").click()
    expect(page.locator("textarea[name=text]")).to_have_value("Votre bureau est à l'école Jean Macé.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".thread")).to_contain_text("Votre bureau est à l'école Jean Macé.")
    context.close()

    sent = [
        json.loads(line) for line in (Path(settings.MAIL_SINK_DIR) / "e2e-sms" / "sms.jsonl").read_text().splitlines()
    ]
    assert sent[-1]["to"] == "+33611111111"
    assert sent[-1]["body"] == "Brest en commun: Votre bureau est à l'école Jean Macé. STOP to 36111"
