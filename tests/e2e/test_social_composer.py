"""The post composer's live counters (static/social/composer.js) count like the server
(suffrage/social/limits.py and the clients' rules), and follow what is typed, the page
linked and each account's own version."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

import suffrage
from suffrage.social.clients.bluesky import bluesky_length
from suffrage.social.clients.http import with_link
from suffrage.social.clients.mastodon import mastodon_length
from suffrage.social.models import Post
from tests.e2e.test_segment_builder import owner_of, sign_in
from tests.factories import ActionFactory, CampaignFactory, PostFactory, SocialAccountFactory

pytestmark = pytest.mark.e2e

SCRIPT = Path(suffrage.__file__).parent / "static" / "social" / "composer.js"

TRICKY = [
    "",
    "Bonjour Brest !",
    "Réunion à Brest 🎉 jeudi",
    "Re\u0301union",  # é as e + a combining accent
    "👨‍👩‍👧‍👦 🇫🇷🇪🇺 👍🏽 1️⃣ 🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",
    "Voir https://brest2027.fr/un/lien/tres/long/qui/depasse/vingt-trois-caracteres et http://b.fr/x.",
    "(voir https://fr.wikipedia.org/wiki/Brest_(France)) puis https://a.fr/b).",
    "Merci @alice@mastodon.social et @bob, @carole@exemple.fr !",
    "Écrire à contact@brest2027.fr n'est pas une mention",
    "https://",
    "http://é",
    "https://😀",
    "Ligne 1\r\nLigne 2\nLigne 3",
    "Espaces\u202f: insécables\u00a0!\u2003et\u3000autres",
    "\u0085début et fin\u001c",
    "#Brest2027 #1 #ÉlectionsMunicipales",
    "Привет @иван@инстанс.рф https://пример.рф/путь",
    "한국어 텍스트 \u1100\u1161\u11a8",
    "a\u200db\u034fc\ufe0f",
    "x" * 480 + " https://brest2027.fr/" + "y" * 300,
    "🚋" * 300,
]
NETWORKS = ("mastodon", "bluesky", "facebook")
LINKS = ["", "https://brest2027.fr/e/brest/f/tram/?via=post-0123456789abcdef-bluesky", "  https://a.fr  "]


@pytest.fixture
def blank(page):
    page.goto("about:blank")
    page.add_script_tag(path=str(SCRIPT))
    return page


def python_length(network: str, text: str) -> dict[str, int]:
    count = {"mastodon": mastodon_length, "bluesky": bluesky_length, "facebook": len}[network](text)
    return {"count": count, "bytes": len(text.encode("utf-8"))}


def test_the_browser_counts_like_the_server(blank):
    cases = [(network, text) for network in NETWORKS for text in TRICKY]
    in_browser = blank.evaluate("cases => cases.map(([n, t]) => window.suffrageSocialLength(n, t))", cases)
    in_python = [python_length(network, text) for network, text in cases]
    mismatches = [(case, js, py) for case, js, py in zip(cases, in_browser, in_python, strict=True) if js != py]
    assert mismatches == []
    # The sample reaches what sets the networks' ways of counting apart.
    by_network = {
        network: [python_length(network, text)["count"] for text in TRICKY] for network in ("mastodon", "bluesky")
    }
    assert sum(m != b for m, b in zip(by_network["mastodon"], by_network["bluesky"], strict=True)) >= 5
    assert sum(b != len(text) for b, text in zip(by_network["bluesky"], TRICKY, strict=True)) >= 5


def test_the_browser_adds_the_link_like_the_server(blank):
    cases = [(text, link) for text in TRICKY[:12] for link in LINKS] + [("Voir https://a.fr", "https://a.fr")]
    in_browser = blank.evaluate("cases => cases.map(([t, l]) => window.suffrageSocialPublished(t, l))", cases)
    assert in_browser == [with_link(text, link) for text, link in cases]


@pytest.mark.django_db(transaction=True)
def test_the_counters_follow_the_text_the_page_and_each_version(browser, live_server):
    campaign = CampaignFactory(slug="brest", languages=["en"])
    owner = owner_of(campaign)
    mastodon = SocialAccountFactory(campaign=campaign, network="mastodon", name="Masto")
    bluesky = SocialAccountFactory(campaign=campaign, network="bluesky", name="Ciel", handle="brest.bsky.social")
    petition = ActionFactory(campaign=campaign, slug="tram", title="Pour le tram")
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/c/brest/social/posts/new/")
    page.wait_for_load_state("load")
    masto = page.locator(f'output[data-social-counter="{mastodon.pk}"]')
    sky = page.locator(f'output[data-social-counter="{bluesky.pk}"]')
    expect(masto).to_have_text("0 / 500 characters, link included")

    text = "Réunion 🎉 avec @alice@mastodon.social"
    page.locator("textarea[name=text]").fill(text)
    expect(masto).to_have_attribute("data-count", str(mastodon_length(text)))
    expect(sky).to_have_attribute("data-count", str(bluesky_length(text)))
    assert mastodon_length(text) != bluesky_length(text)  # the mention counts differently

    # A page of the campaign: each account's tracked address is added, its own way.
    page.locator("select[name=target]").select_option(f"action:{petition.pk}")
    stem = page.locator(f'option[value="action:{petition.pk}"]').get_attribute("data-url")
    assert stem.startswith("http://127.0.0.1:8000/e/brest/f/tram/?via=post-")
    expect(masto).to_have_attribute("data-count", str(mastodon_length(with_link(text, stem + "mastodon"))))
    expect(sky).to_have_attribute("data-count", str(bluesky_length(with_link(text, stem + "bluesky"))))
    assert mastodon_length(with_link(text, stem + "mastodon")) == mastodon_length(text) + 2 + 23

    # Bluesky's own version, too long: only its counter turns red.
    page.locator(f"details:has(textarea[name=text_{bluesky.pk}]) summary").click()
    version = "🚋" * 260
    page.locator(f"textarea[name=text_{bluesky.pk}]").fill(version)
    expected = bluesky_length(with_link(version, stem + "bluesky"))
    assert expected > 300
    expect(sky).to_have_attribute("data-count", str(expected))
    expect(sky).to_have_attribute("data-over", "1")
    expect(sky).to_contain_text(f"{expected} / 300 characters: {expected - 300} too many")
    expect(masto).to_have_attribute("data-over", "0")

    # The server says the same on saving.
    page.locator(f'input[name=accounts][value="{mastodon.pk}"]').check()
    page.locator(f'input[name=accounts][value="{bluesky.pk}"]').check()
    page.locator("form[data-social-composer] button[type=submit]").click()
    expect(page.locator(".field-error")).to_contain_text(f"Too long for Bluesky · Ciel: {expected} characters")
    assert not Post.objects.exists()
    # The counters are right again on the page shown back.
    expect(page.locator(f'output[data-social-counter="{bluesky.pk}"]')).to_have_attribute("data-over", "1")

    page.locator(f"textarea[name=text_{bluesky.pk}]").fill("Le tram, signez !")
    expect(sky).to_have_attribute("data-over", "0")
    page.locator("form[data-social-composer] button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/c/brest/social/posts/*/")
    post = Post.objects.get()
    assert post.action == petition
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_calendar_is_a_list_of_days_on_a_phone(browser, live_server):
    campaign = CampaignFactory(slug="brest", languages=["en"])
    owner = owner_of(campaign)
    day = timezone.localdate().replace(day=15)
    PostFactory(
        campaign=campaign,
        text="Meeting jeudi",
        status="scheduled",
        scheduled_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(18))),
    )
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/c/brest/social/calendar/")
    days = page.locator(".social-calendar > li:visible")
    expect(days).to_have_count(1)
    expect(days.first).to_contain_text("Meeting jeudi")
    expect(days.first.locator(".day-name")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    context.close()
