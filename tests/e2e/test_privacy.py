"""In a real browser, on a phone: a citizen asks on the campaign's public privacy page
(see my data, never contact me, erase me), confirms by the emailed link, and gets
the answer the law allows at once, or the promise of one."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from suffrage.people.models import Person
from suffrage.privacy.models import RightsRequest
from tests.factories import CampaignFactory, PersonEmailFactory, PersonFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def campaign_with_anne():
    campaign = CampaignFactory(name="Brest en commun", slug="brest")
    person = PersonFactory(campaign=campaign, first_names="Anne", usage_name="Le Gall", consent_email=True)
    PersonEmailFactory(person=person, address="anne@example.org")
    return campaign, person


def _ask_and_confirm(phone, live_server, smtp_server, settings, kind_label):
    phone.goto(f"{live_server.url}/p/brest/privacy/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.get_by_label(kind_label).check()
    phone.locator("input[name=email]").fill("anne@example.org")
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator(".message-success")).to_be_visible()
    body = smtp_server[-1].get_payload(decode=True).decode()
    link = re.search(r"http://\S+/p/brest/privacy/\S+/", body).group(0)
    phone.goto(link.replace(settings.SITE_URL, live_server.url))


def test_a_citizen_downloads_their_data(phone, live_server, smtp_server, settings, campaign_with_anne):
    _ask_and_confirm(phone, live_server, smtp_server, settings, re.compile("données détenues|data held"))
    with phone.expect_download() as download:
        phone.get_by_role("link", name=re.compile("JSON")).click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert "anne@example.org" in json.dumps(data)
    assert RightsRequest.objects.get().status == RightsRequest.Status.DONE


def test_a_citizen_stops_all_contact(phone, live_server, smtp_server, settings, campaign_with_anne):
    _, person = campaign_with_anne
    _ask_and_confirm(phone, live_server, smtp_server, settings, re.compile("jamais|Never"))
    expect(phone.locator(".message-success")).to_contain_text("anne@example.org")
    person = Person.objects.get(pk=person.pk)
    assert person.consent_email is False and person.consent_sms is False


def test_a_citizen_asks_for_erasure_and_is_told_when_to_expect_it(
    phone, live_server, smtp_server, settings, campaign_with_anne
):
    _ask_and_confirm(phone, live_server, smtp_server, settings, re.compile("Effacer|Erase"))
    rights = RightsRequest.objects.get()
    expect(phone.locator(".message-success")).to_be_visible()
    assert rights.status == RightsRequest.Status.OPEN and rights.kind == "erasure" and rights.verified_at
