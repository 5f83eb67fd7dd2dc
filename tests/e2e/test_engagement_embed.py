"""In a real browser: the candidate's own website (another origin) embeds a campaign
form with the script snippet; a visitor fills it in inside the iframe, the person
arrives in the base with their consent, and the iframe follows its content's height."""

import functools
import http.server
import threading
import time

import pytest
from playwright.sync_api import expect

from suffrage.engagement import services
from suffrage.people.models import ConsentEvent, Person
from tests.factories import ActionFactory, CampaignFactory, ConsentWordingFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WORDING = "J'accepte de recevoir les nouvelles de Brest 2027 par email."


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, message_format, *args):
        pass


@pytest.fixture
def candidate_site(tmp_path):
    """The candidate's website: a static server on 127.0.0.1 and its own port, so
    another origin than the live server's (localhost)."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def frame_height(page):
    return page.locator("iframe").evaluate("frame => frame.getBoundingClientRect().height")


def wait_for_height(page, different_from, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        height = frame_height(page)
        if abs(height - different_from) > 1:
            return height
        time.sleep(0.1)
    raise AssertionError(f"the iframe stayed {different_from}px high")


def test_a_visitor_signs_up_through_the_form_embedded_in_the_candidates_site(page, live_server, candidate_site):
    folder, origin = candidate_site
    campaign = CampaignFactory(name="Brest 2027", slug="brest", languages=["fr"])
    action = ActionFactory(campaign=campaign, slug="rejoindre", title="Rejoignez Brest 2027")
    ConsentWordingFactory(action=action, channel="email", text=WORDING)
    site = services.site_for(campaign)
    site.allowed_origins = origin
    site.save()
    live = live_server.url.replace("127.0.0.1", "localhost")  # another host than the candidate's site
    (folder / "index.html").write_text(
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>Brest 2027</title></head>"
        "<body style='margin:0'><h1>Le site de la candidate</h1>"
        f'<div data-suffrage-embed="{live}/e/brest/f/rejoindre/" data-suffrage-height="200"></div>'
        f'<script src="{live}/e/brest/embed.js" async></script>'
        "<p>Pied de page du site.</p></body></html>",
        encoding="utf-8",
    )

    page.goto(f"{origin}/index.html")

    frame = page.frame_locator("iframe")
    expect(frame.locator("input[name=first_names]")).to_be_visible()
    form_height = wait_for_height(page, different_from=200)  # the page told its height
    assert form_height > 400
    frame.locator("input[name=first_names]").fill("Anne")
    frame.locator("input[name=last_name]").fill("Le Gall")
    frame.locator("input[name=email]").fill("anne@example.org")
    frame.locator("input[name=consent_email]").check()
    frame.locator("button[type=submit]").click()

    expect(frame.locator(".message.success")).to_be_visible()
    thanks_height = wait_for_height(page, different_from=form_height)  # shorter page, shorter frame
    assert thanks_height < form_height

    person = Person.objects.get(campaign=campaign)
    assert (person.first_names, person.usage_name, person.consent_email) == ("Anne", "Le Gall", True)
    proof = ConsentEvent.objects.get(person=person)
    assert proof.wording == WORDING and proof.form == "Rejoignez Brest 2027 · v1"
    assert person.submissions.get().via == "embed"


def test_with_proof_of_work_on_the_browser_solves_the_challenge_before_sending(page, live_server):
    campaign = CampaignFactory(name="Brest 2027", slug="brest", languages=["fr"])
    action = ActionFactory(campaign=campaign, slug="rejoindre")
    site = services.site_for(campaign)
    site.proof_of_work = True
    site.save()

    page.goto(f"{live_server.url}/e/brest/f/rejoindre/")
    page.locator("input[name=first_names]").fill("Anne")
    page.locator("input[name=email]").fill("anne@example.org")
    page.locator("button[type=submit]").click()

    expect(page.locator(".message.success")).to_be_visible()
    submission = action.submissions.get()
    assert submission.person.first_names == "Anne"
