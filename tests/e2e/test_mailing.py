"""In a real browser: a manager writes a mailing, previews it as a recipient, sends it
and watches the report; a recipient unsubscribes from a phone."""

import re

import pytest
from playwright.sync_api import expect

from suffrage.messaging import services
from suffrage.messaging.models import Delivery, Mailing
from suffrage.messaging.tracking import delivery_token
from suffrage.people.models import Person
from tests.e2e.test_segment_builder import owner_of, sign_in
from tests.factories import CampaignFactory, PersonEmailFactory, PersonFactory, SegmentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign_with_audience(settings, tmp_path):
    settings.MAIL_SINK_DIR = str(tmp_path / "sink")
    campaign = CampaignFactory(name="Brest en commun", slug="brest", require_mfa=False)
    owner = owner_of(campaign)
    for index, name in enumerate(["Maïwenn", "Yann", "Soizic"]):
        person = PersonFactory(campaign=campaign, first_names=name, consent_email=True)
        PersonEmailFactory(person=person, address=f"p{index}@example.org")
    SegmentFactory(campaign=campaign, name="Tout le monde")
    services.sender_create(
        campaign=campaign,
        name="Brest en commun",
        email="contact@brest.example",
        reply_to="",
        algorithm="ed25519-sha256",
        actor=owner,
    )
    services.transport_save(
        campaign=campaign, kind="sink", name="Boîte locale", values={"folder": "brest"}, rate_per_second=0, actor=owner
    )
    return campaign, owner


def test_a_manager_writes_previews_and_sends_a_mailing(page, live_server, campaign_with_audience, tmp_path):
    _campaign, owner = campaign_with_audience
    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/c/brest/mail/new/")
    page.locator("#id_name").fill("Invitation")
    page.locator("#id_sender").select_option(label="Brest en commun <contact@brest.example>")
    page.locator("#id_transport").select_option(label="Boîte locale")
    page.locator("#id_segment").select_option(label="Tout le monde")
    page.locator("#id_subject").fill("Bonjour {{ first_name }}")
    page.locator("#id_body").fill("Venez **jeudi** : [programme](https://brest.example/programme)")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/mail/\d+/$"))
    expect(page.locator("#audience-title + p")).to_contain_text("3")

    page.get_by_role("link", name=re.compile("Prévisualiser|Preview")).click()
    frame = page.frame_locator("iframe.email-preview")
    expect(frame.locator("strong")).to_have_text("jeudi")
    expect(page.locator(".preview-headers")).to_contain_text("Bonjour Maïwenn")
    page.go_back()

    page.locator("section.actions form button[type=submit]").first.click()
    expect(page.locator("#mailing-progress progress")).to_have_attribute("value", "100")
    expect(page.locator("#report-title")).to_be_visible()
    mailing = Mailing.objects.get()
    assert mailing.status == Mailing.Status.SENT
    assert Delivery.objects.filter(mailing=mailing, status="sent").count() == 3
    assert len((tmp_path / "sink" / "brest" / "messages.jsonl").read_text().splitlines()) == 3


def test_a_recipient_unsubscribes_from_a_phone(browser, live_server, campaign_with_audience):
    campaign, owner = campaign_with_audience
    mailing = services.mailing_save(
        campaign=campaign,
        values={
            "name": "Lettre",
            "sender": campaign.senders.get(),
            "transport": campaign.transports.get(),
            "segment": campaign.segments.get(),
            "subject": "Bonjour",
            "body": "Bonjour",
            "footer": services.default_footer(),
        },
        actor=owner,
    )
    services.mailing_start(mailing=mailing, actor=owner)
    delivery = Delivery.objects.filter(mailing=mailing).first()
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740})
    phone = context.new_page()
    phone.goto(f"{live_server.url}/u/{delivery_token(delivery.pk)}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.locator("input[value=everything]").check()
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator(".message-success")).to_contain_text(delivery.address)
    person = Person.objects.get(pk=delivery.person_id)
    assert [person.consent_email, person.consent_sms, person.consent_phone, person.consent_post] == [False] * 4
    context.close()
