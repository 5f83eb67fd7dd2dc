"""The visual segment builder: rows write the filter document, the live count follows,
a saved segment comes back as the same rows, and areas are drawn on the map."""

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from suffrage.core.roles import Role
from suffrage.people.models import PostalAddress, Tag
from suffrage.segments.models import Segment
from tests.factories import (
    PASSWORD,
    CampaignFactory,
    CustomFieldFactory,
    MembershipFactory,
    PersonFactory,
    SegmentFactory,
    UserFactory,
    station_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Set SEGMENT_SCREENSHOTS=/some/dir to keep the screenshots the tests take.
SCREENSHOTS = os.environ.get("SEGMENT_SCREENSHOTS")


def screenshot(page, tmp_path, name):
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def owner_of(campaign):
    owner = UserFactory(email=f"owner@{campaign.slug}.example")
    MembershipFactory(campaign=campaign, user=owner, role=Role.OWNER)
    return owner


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("main input[name=login]").fill(user.email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/campaigns/$"))


def document_in(page):
    return json.loads(page.locator("#segment-json").input_value())


def test_rows_drive_the_count_and_a_saved_segment_comes_back_as_rows(page, live_server, tmp_path):
    campaign = CampaignFactory(slug="brest")
    owner = owner_of(campaign)
    militante = Tag.objects.create(campaign=campaign, name="Militante")
    sympathisant = Tag.objects.create(campaign=campaign, name="Sympathisant")
    people = [PersonFactory(campaign=campaign, is_member=member) for member in (True, True, False, False, False)]
    for person in people[:3]:
        person.tags.add(militante)
    people[3].tags.add(sympathisant)

    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/c/brest/segments/new/")
    count = page.locator("#segment-count")
    expect(count).to_have_attribute("data-count", "5")
    expect(page.locator(".segment-empty")).to_be_visible()

    # Tag is Militante: three people.
    page.locator(".segment-add-condition").click()
    rows = page.locator(".segment-row")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_have_class(re.compile(r"\bincomplete\b"))
    rows.nth(0).locator("select.segment-field").select_option("tag")
    expect(rows.nth(0).locator("datalist option")).to_have_count(2)  # the campaign's tags
    rows.nth(0).locator("input.segment-strings").fill("Militante")
    expect(count).to_have_attribute("data-count", "3")
    # The breakdowns follow the count, in a request of their own.
    expect(page.locator("#segment-breakdown .segment-channels li")).to_have_count(4)
    expect(page.locator("#segment-breakdown")).not_to_have_attribute("aria-busy", "true")
    expect(rows.nth(0)).not_to_have_class(re.compile(r"\bincomplete\b"))

    # An incomplete second row is left out of the document: the count stays.
    page.locator(".segment-add-condition").click()
    expect(rows).to_have_count(2)
    rows.nth(1).locator("select.segment-field").select_option("flag")
    assert document_in(page)["filter"] == {"all": [{"field": "tag", "op": "any_of", "value": ["Militante"]}]}

    # … and members only: two; excluding members: one.
    rows.nth(1).locator(".segment-value select").select_option("member")
    expect(count).to_have_attribute("data-count", "2")
    rows.nth(1).locator(".segment-exclude input").check()
    expect(count).to_have_attribute("data-count", "1")
    expected = {
        "version": 1,
        "filter": {
            "all": [
                {"field": "tag", "op": "any_of", "value": ["Militante"]},
                {"not": {"field": "flag", "op": "is", "value": "member"}},
            ]
        },
    }
    assert document_in(page) == expected
    screenshot(page, tmp_path, "builder-desktop.png")

    page.locator("#id_name").fill("Militantes non adhérentes")
    page.locator("button[name=action][value=save]").click()
    page.wait_for_url(re.compile(r"/c/brest/segments/\d+/$"))
    segment = Segment.objects.get(campaign=campaign, name="Militantes non adhérentes")
    assert segment.kind == Segment.Kind.DYNAMIC
    assert segment.document == expected
    assert page.url.endswith(f"/c/brest/segments/{segment.pk}/")

    page.reload()
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("select.segment-field")).to_have_value("tag")
    expect(rows.nth(0).locator("input.segment-strings")).to_have_value("Militante")
    expect(rows.nth(0).locator(".segment-exclude input")).not_to_be_checked()
    expect(rows.nth(1).locator("select.segment-field")).to_have_value("flag")
    expect(rows.nth(1).locator(".segment-value select")).to_have_value("member")
    expect(rows.nth(1).locator(".segment-exclude input")).to_be_checked()
    expect(count).to_have_attribute("data-count", "1")
    assert document_in(page) == expected

    # An OR group: Militante and (member or tagged Sympathisant) = two.
    rows.nth(1).locator(".segment-remove").click()
    expect(rows).to_have_count(1)
    page.locator(".segment-add-group").click()
    group = page.locator(".segment-group")
    group.locator(".segment-row select.segment-field").select_option("flag")
    group.locator(".segment-row .segment-value select").select_option("member")
    group.locator(".segment-add-to-group").click()
    second = group.locator(".segment-row").nth(1)
    second.locator("select.segment-field").select_option("tag")
    second.locator("input.segment-strings").fill("Sympathisant")
    expect(count).to_have_attribute("data-count", "2")
    assert document_in(page)["filter"]["all"][1] == {
        "any": [
            {"field": "flag", "op": "is", "value": "member"},
            {"field": "tag", "op": "any_of", "value": ["Sympathisant"]},
        ]
    }

    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, tmp_path, "builder-phone.png")


def test_a_document_the_builder_cannot_show_is_edited_as_a_document(page, live_server):
    campaign = CampaignFactory(slug="brest")
    owner = owner_of(campaign)
    PersonFactory(campaign=campaign, is_member=True)
    PersonFactory(campaign=campaign)

    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/c/brest/segments/new/")
    count = page.locator("#segment-count")
    expect(count).to_have_attribute("data-count", "2")
    page.locator("#segment-json-panel summary").click()

    # A "not" around a group: not a shape the rows can show.
    nested = {"version": 1, "filter": {"not": {"any": [{"field": "flag", "op": "is", "value": "member"}]}}}
    page.locator("#segment-json").fill(json.dumps(nested))
    expect(page.locator(".segment-note")).to_be_visible()
    expect(page.locator(".segment-add-condition")).to_be_disabled()
    expect(count).to_have_attribute("data-count", "1")

    # Back to a shape it can show: the rows follow the document.
    simple = {"version": 1, "filter": {"any": [{"field": "flag", "op": "is", "value": "member"}]}}
    page.locator("#segment-json").fill(json.dumps(simple))
    expect(page.locator(".segment-note")).to_be_hidden()
    expect(page.locator(".segment-row")).to_have_count(1)
    expect(page.locator("select.segment-match")).to_have_value("any")
    expect(page.locator(".segment-row select.segment-field")).to_have_value("flag")
    expect(count).to_have_attribute("data-count", "1")


def test_an_area_drawn_on_the_map_selects_the_people_inside_it(page, live_server, tmp_path):
    campaign = CampaignFactory(slug="brest")
    owner = owner_of(campaign)
    # Two people near the centre of Brest, one six kilometres east.
    for lon, lat in ((-4.490, 48.390), (-4.486, 48.392), (-4.410, 48.400)):
        PostalAddress.objects.create(person=PersonFactory(campaign=campaign), street="rue de Siam", lon=lon, lat=lat)

    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/c/brest/segments/new/")
    count = page.locator("#segment-count")
    expect(count).to_have_attribute("data-count", "3")

    page.locator(".segment-add-condition").click()
    row = page.locator(".segment-row").nth(0)
    row.locator("select.segment-field").select_option("area")
    area_map = row.locator(".segment-map")
    expect(area_map).to_be_visible()
    expect(row.locator(".segment-finish")).to_be_disabled()

    corners = [(48.386, -4.495), (48.386, -4.480), (48.396, -4.480), (48.396, -4.495)]
    points = page.evaluate(
        """(corners) => {
            const map = document.querySelector('.segment-map')._leafletMap;
            return corners.map(([lat, lon]) => {
                const point = map.latLngToContainerPoint([lat, lon]);
                return [point.x, point.y];
            });
        }""",
        corners,
    )
    for x, y in points:
        area_map.click(position={"x": x, "y": y})
    expect(row.locator(".segment-finish")).to_be_enabled()
    row.locator(".segment-finish").click()
    expect(count).to_have_attribute("data-count", "2")
    expect(area_map.locator("path")).not_to_have_count(0)
    value = document_in(page)["filter"]["all"][0]["value"]
    assert value["type"] == "Polygon"
    ring = value["coordinates"][0]
    assert len(ring) == 5
    assert ring[0] == ring[-1]
    assert ring[0] == pytest.approx([-4.495, 48.386], abs=1e-3)
    screenshot(page, tmp_path, "builder-area.png")

    # Around a point: 150 m around the first person, inside the area too = one.
    page.locator(".segment-add-condition").click()
    near = page.locator(".segment-row").nth(1)
    near.locator("select.segment-field").select_option("near")
    near_map = near.locator(".segment-map")
    expect(near_map).to_be_visible()
    x, y = page.evaluate(
        """() => {
            const map = document.querySelectorAll('.segment-map')[1]._leafletMap;
            const point = map.latLngToContainerPoint([48.390, -4.490]);
            return [point.x, point.y];
        }"""
    )
    near_map.click(position={"x": x, "y": y})
    near.locator("input.segment-metres").fill("150")
    expect(count).to_have_attribute("data-count", "1")
    circle = document_in(page)["filter"]["all"][1]["value"]
    assert circle["metres"] == 150
    assert circle["lon"] == pytest.approx(-4.490, abs=1e-3)
    assert circle["lat"] == pytest.approx(48.390, abs=1e-3)

    # Clearing the area leaves only the circle: still one.
    row.locator(".segment-clear").click()
    expect(page.locator("#segment-json")).not_to_have_value(re.compile("Polygon"))
    expect(count).to_have_attribute("data-count", "1")


def test_every_kind_of_row_shows_a_saved_document_and_gives_it_back_unchanged(page, live_server, tmp_path):
    campaign = CampaignFactory(slug="brest")
    owner = owner_of(campaign)
    station_in(campaign, number="0001", name="École Jean Moulin, Brest")
    CustomFieldFactory(campaign=campaign, key="quartier", label="Quartier", kind="choice", choices=["Centre", "Nord"])
    CustomFieldFactory(campaign=campaign, key="age", label="Âge déclaré", kind="number")
    PersonFactory(campaign=campaign)
    document = {
        "version": 1,
        "filter": {
            "all": [
                {"field": "polling_station", "op": "in", "value": ["29019_0001"]},
                {"field": "consent", "op": "is", "value": {"channel": "email", "state": "granted"}},
                {"field": "source", "op": "in", "value": ["import", "manual"]},
                {"field": "collected", "op": "between", "value": {"from": "2024-01-01"}},
                {
                    "any": [
                        {"field": "custom", "op": "equals", "key": "quartier", "value": "Centre"},
                        {"not": {"field": "custom", "op": "range", "key": "age", "value": {"min": 18, "max": 30}}},
                    ]
                },
                {"field": "near", "op": "within", "value": {"lon": -4.49, "lat": 48.39, "metres": 800}},
            ]
        },
    }
    segment = SegmentFactory(campaign=campaign, name="Every kind", document=document)

    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/c/brest/segments/{segment.pk}/")
    rows = page.locator(".segment-row")
    expect(rows).to_have_count(7)
    expect(page.locator(".segment-group .segment-row")).to_have_count(2)
    expect(page.locator("#segment-count")).to_have_attribute("data-count", "0")
    assert document_in(page) == document
    # Codes are shown with their names, and give back the codes.
    expect(rows.nth(0).locator("input.segment-strings")).to_have_value("29019_0001 — École Jean Moulin Brest")
    expect(rows.nth(2).locator("input[type=checkbox][value=manual]")).to_be_checked()
    expect(rows.nth(5).locator(".segment-exclude input")).to_be_checked()
    expect(rows.nth(5).locator("select.segment-op")).to_have_value("range")
    expect(rows.nth(6).locator("input.segment-metres")).to_have_value("800")
    screenshot(page, tmp_path, "builder-every-kind-desktop.png")

    # Ticking one more source changes only that row's value.
    rows.nth(2).locator("input[type=checkbox][value=web_form]").check()
    expect(page.locator("#segment-json")).to_have_value(re.compile("web_form"))
    changed = document_in(page)
    assert changed["filter"]["all"][2]["value"] == ["manual", "import", "web_form"]
    changed["filter"]["all"][2] = document["filter"]["all"][2]
    assert changed == document

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing wider than a phone
    screenshot(page, tmp_path, "builder-every-kind-phone.png")
