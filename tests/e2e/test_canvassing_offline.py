"""The volunteers' app on a phone, offline for a whole session: a volunteer opens a
turf, loses the network, records 50 doors and 5 conversations, reloads the page still
offline (the service worker serves it, the records are still there), gets the network
back: the server has exactly 50 visits and 5 people, once each. A second volunteer
cannot open the first one's turf. A record the server refuses stays on the phone, with
the reason, until it goes through or the volunteer discards it."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from suffrage.canvassing.models import Visit
from suffrage.core.roles import Role
from suffrage.people.models import ConsentEvent, Person, Source
from tests.factories import (
    PASSWORD,
    CampaignFactory,
    CanvassFactory,
    DoorFactory,
    MembershipFactory,
    QuestionFactory,
    TurfFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Set CANVASSING_SCREENSHOTS=/some/dir to keep the screenshots the test takes.
SCREENSHOTS = os.environ.get("CANVASSING_SCREENSHOTS")
ONE_TAP = ("not_home", "leaflet", "come_back", "refused", "no_access")
CONVERSATIONS = (3, 12, 24, 36, 47)  # the doors where someone talks


def screenshot(page, tmp_path, name):
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=False)


def phone(browser):
    return browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True, service_workers="allow")


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("main input[name=login]").fill(user.email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def volunteer_of(campaign, email):
    user = UserFactory(email=email)
    MembershipFactory(campaign=campaign, user=user, role=Role.VOLUNTEER)
    return user


def talk(page, door, index):
    door.locator("button[data-outcome=opened]").tap()
    dialog = page.locator("#talk")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#talk-script")).to_contain_text("Présentez-vous")
    dialog.locator(".question label", has_text="Transports").tap()
    dialog.locator("#talk-first-names").fill(f"Voisine {index}")
    dialog.locator("#talk-last-name").fill("Le Bihan")
    dialog.locator("#talk-email").fill(f"voisine{index}@example.org")
    dialog.locator("#talk-phone").fill(f"06 11 22 33 {index:02d}")
    dialog.locator("#talk-consent-email").check()
    if index == 0:
        dialog.locator("#talk-support").select_option("2")  # she said so
    dialog.locator("#talk-save").tap()
    expect(dialog).to_be_hidden()


def test_a_whole_session_offline_reaches_the_server_once(browser, live_server, tmp_path):
    campaign = CampaignFactory(slug="brest", name="Brest 2027")
    volunteer = volunteer_of(campaign, "benevole@brest.example")
    second = volunteer_of(campaign, "autre@brest.example")
    canvass = CanvassFactory(campaign=campaign, name="Recouvrance", script="Bonjour ! **Présentez-vous**, puis…")
    QuestionFactory(canvass=canvass, text="Quel sujet compte le plus ?")
    turf = TurfFactory(canvass=canvass, name="Rue de Saint-Malo", assigned_to=volunteer)
    doors = [
        DoorFactory(
            turf=turf,
            position=index,
            street="rue de Saint-Malo",
            number=str(index + 1),
            building="Bât. A" if index % 10 == 0 else "",
            lon=-4.5010 + index * 0.0001,
            lat=48.3830 + (index % 5) * 0.0001,
        )
        for index in range(50)
    ]
    turf_url = f"{live_server.url}/c/brest/app/turfs/{turf.pk}/"

    context = phone(browser)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, live_server, volunteer)
    page.goto(f"{live_server.url}/c/brest/app/")
    page.locator(".turf-link", has_text="Rue de Saint-Malo").tap()
    page.wait_for_url(re.compile(rf"/app/turfs/{turf.pk}/$"))
    expect(page.locator(".door")).to_have_count(50)
    # The service worker is active and the page and its turf are kept for offline use.
    expect(page.locator("body")).to_have_attribute("data-offline-ready", "true")
    expect(page.locator("#sync-count")).to_have_attribute("data-count", "0")
    screenshot(page, tmp_path, "1-turf.png")

    context.set_offline(True)
    for index, door_row in enumerate(doors):
        door = page.locator(f".door[data-door-id='{door_row.pk}']")
        if index in CONVERSATIONS:
            talk(page, door, CONVERSATIONS.index(index))
        else:
            door.locator(f"button[data-outcome={ONE_TAP[index % len(ONE_TAP)]}]").tap()
        expect(page.locator("#sync-count")).to_have_attribute("data-count", str(index + 1))
    expect(page.locator(".door.door-waiting")).to_have_count(50)
    screenshot(page, tmp_path, "2-offline-50-waiting.png")
    assert Visit.objects.count() == 0

    # Still offline: the page comes back from the service worker, the records from IndexedDB.
    page.reload()
    expect(page.locator(".door")).to_have_count(50)
    expect(page.locator("#sync-count")).to_have_attribute("data-count", "50")
    expect(page.locator("#sync-count")).to_contain_text("50")
    assert Visit.objects.count() == 0

    context.set_offline(False)
    expect(page.locator("#sync-count")).to_have_attribute("data-count", "0", timeout=30_000)
    expect(page.locator(".door.door-waiting")).to_have_count(0)
    expect(page.locator("#sync-rejected")).to_be_hidden()
    screenshot(page, tmp_path, "3-synced.png")

    visits = Visit.objects.filter(campaign=campaign)
    assert visits.count() == 50
    assert visits.values("client_id").distinct().count() == 50
    assert sorted(visits.values_list("door_id", flat=True)) == sorted(door.pk for door in doors)
    assert set(visits.values_list("volunteer_id", flat=True)) == {volunteer.pk}
    people = Person.objects.filter(campaign=campaign)
    assert people.count() == 5
    assert sorted(people.values_list("emails__address", flat=True)) == [f"voisine{i}@example.org" for i in range(5)]
    assert set(people.values_list("source", flat=True)) == {Source.CANVASSING}
    assert ConsentEvent.objects.filter(campaign=campaign, channel="email", granted=True).count() == 5
    assert list(people.exclude(support_level=None).values_list("support_level", flat=True)) == [2]
    talked = visits.filter(outcome="opened")
    assert talked.count() == 5 and not talked.filter(person=None).exists()
    assert all(list(visit.answers.values()) == ["Transports"] for visit in talked)

    # A sync sent again (the answer lost on the way back) changes nothing.
    page.locator("#sync-now").tap()
    expect(page.locator("#sync-count")).to_have_attribute("data-count", "0")
    assert Visit.objects.count() == 50 and Person.objects.count() == 5
    context.close()

    other = phone(browser)
    other_page = other.new_page()
    sign_in(other_page, live_server, second)
    assert other_page.goto(turf_url).status == 404
    assert other_page.goto(f"{turf_url}data.json").status == 404
    other_page.goto(f"{live_server.url}/c/brest/app/")
    expect(other_page.locator(".turf-link")).to_have_count(0)
    other.close()


def test_a_refused_record_stays_visible_until_it_goes_through_or_is_discarded(browser, live_server):
    campaign = CampaignFactory(slug="brest", name="Brest 2027")
    volunteer = volunteer_of(campaign, "benevole@brest.example")
    second = volunteer_of(campaign, "autre@brest.example")
    turf = TurfFactory(canvass=CanvassFactory(campaign=campaign), name="Quai Ouest", assigned_to=volunteer)
    doors = [DoorFactory(turf=turf, position=index, street="quai Ouest") for index in range(3)]
    context = phone(browser)
    page = context.new_page()
    sign_in(page, live_server, volunteer)
    page.goto(f"{live_server.url}/c/brest/app/turfs/{turf.pk}/")
    expect(page.locator("body")).to_have_attribute("data-offline-ready", "true")

    context.set_offline(True)
    page.locator(f".door[data-door-id='{doors[0].pk}'] button[data-outcome=not_home]").tap()
    page.locator(f".door[data-door-id='{doors[1].pk}'] button[data-outcome=leaflet]").tap()
    expect(page.locator("#sync-count")).to_have_attribute("data-count", "2")
    # Meanwhile the organiser hands the turf to someone else.
    turf.assigned_to = second
    turf.save()
    context.set_offline(False)

    refused = page.locator("#sync-rejected")
    expect(refused).to_be_visible()
    expect(refused.locator(".rejected-record")).to_have_count(2)
    expect(refused).to_contain_text("door_id")  # the field refused, whatever the language
    expect(page.locator("#sync-count")).to_have_attribute("data-count", "2")
    assert Visit.objects.count() == 0

    page.once("dialog", lambda dialog: dialog.accept())
    refused.locator(f".rejected-record:has-text('{doors[1]}') button").tap()
    expect(refused.locator(".rejected-record")).to_have_count(1)
    expect(page.locator("#sync-count")).to_have_attribute("data-count", "1")

    # Given back: the record kept on the phone goes through at the next sync.
    turf.assigned_to = volunteer
    turf.save()
    page.locator("#sync-now").tap()
    expect(page.locator("#sync-count")).to_have_attribute("data-count", "0")
    expect(refused).to_be_hidden()
    assert list(Visit.objects.values_list("door_id", "outcome")) == [(doors[0].pk, "not_home")]
    context.close()
