"""The map of polling stations draws, shows its legend, and a click opens the station."""

import re

import pytest
from playwright.sync_api import expect

from suffrage.core.roles import Role
from tests.factories import (
    PASSWORD,
    CampaignFactory,
    MembershipFactory,
    RoundFactory,
    UserFactory,
    result_in,
    station_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def square(x, y, size=0.01):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]}


def test_the_map_colours_stations_and_opens_one_on_click(page, live_server, tmp_path):
    campaign = CampaignFactory(slug="brest")
    analyst = UserFactory(email="analyste@brest.example")
    MembershipFactory(campaign=campaign, user=analyst, role=Role.ANALYST)
    round_ = RoundFactory()
    for index, voters in enumerate((300, 550, 800)):
        station = station_in(campaign, number=f"{index + 1:04d}", geometry=square(-4.50 + index * 0.01, 48.39))
        result_in(station, round_, registered=1000, voters=voters, votes=(("UG", voters - 20),))

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("main input[name=login]").fill(analyst.email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/campaigns/$"))

    page.goto(f"{live_server.url}/c/brest/territory/map/")
    expect(page.locator("#station-map")).to_have_attribute("data-loaded", "3")
    expect(page.locator(".map-legend")).to_be_visible()
    paths = page.locator("#station-map path.leaflet-interactive")
    expect(paths).to_have_count(3)
    fills = {paths.nth(i).get_attribute("fill") for i in range(3)}
    assert len(fills) == 3  # three turnouts, three colours
    page.screenshot(path=str(tmp_path / "map.png"))
    paths.nth(2).click()
    page.wait_for_url(re.compile(r"/territory/stations/29019_\d{4}/$"))
    expect(page.locator("h1")).to_contain_text("Brest")


def test_a_station_name_from_a_file_is_shown_as_text_not_html(page, live_server):
    campaign = CampaignFactory(slug="brest")
    user = UserFactory(email="owner@brest.example")
    MembershipFactory(campaign=campaign, user=user, role=Role.OWNER)
    station = station_in(
        campaign, number="0001", name="<img src=x onerror=\"document.title='pwned'\">", geometry=square(-4.5, 48.39)
    )
    result_in(station, RoundFactory())
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("main input[name=login]").fill(user.email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/campaigns/$"))
    page.goto(f"{live_server.url}/c/brest/territory/map/")
    expect(page.locator("#station-map")).to_have_attribute("data-loaded", "1")
    page.locator("#station-map path.leaflet-interactive").hover()
    expect(page.locator(".leaflet-tooltip")).to_contain_text("<img")
    assert page.title() != "pwned"
