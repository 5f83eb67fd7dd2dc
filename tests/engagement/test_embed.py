"""The public pages embedded in the candidate's website: who may frame them, how a
form posts from a cross-site iframe (no CSRF cookie: a signed token instead), the
embed script and the snippets shown to organisers."""

import re
import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from suffrage.engagement import public, services
from suffrage.engagement.models import Submission
from suffrage.people.models import Person
from tests.factories import ActionFactory, ConsentWordingFactory, EventFactory

pytestmark = pytest.mark.django_db

ORIGINS = "https://www.brest2027.example\nhttps://candidate.example:8443/\n"


@pytest.fixture
def site(campaign):
    site = services.site_for(campaign)
    site.allowed_origins = ORIGINS
    site.save()
    return site


@pytest.fixture
def action(campaign):
    return ActionFactory(campaign=campaign)


def url_of(name, campaign, *args):
    return reverse(f"engagement_public:{name}", args=[campaign.slug, *args])


def token_of(response):
    return re.search(r'name="_token" value="([^"]+)"', response.content.decode()).group(1)


ANNE = {"first_names": "Anne", "last_name": "Le Gall", "email": "anne@example.org"}


def test_embedded_pages_may_be_framed_by_the_candidates_websites_only(client, campaign, site, action):
    event = EventFactory(campaign=campaign)
    for url in (
        url_of("action", campaign, action.slug),
        url_of("event", campaign, event.slug),
        url_of("events", campaign),
    ):
        response = client.get(url + "?embed=1")
        assert response.status_code == 200
        assert "X-Frame-Options" not in response
        policy = response["Content-Security-Policy"]
        assert "frame-ancestors 'self' https://www.brest2027.example https://candidate.example:8443" in policy


def test_pages_not_embedded_keep_refusing_to_be_framed(client, campaign, site, action):
    for url in (url_of("home", campaign), url_of("action", campaign, action.slug), url_of("events", campaign)):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_an_allowed_origin_cannot_smuggle_anything_into_the_header(client, campaign, action):
    site = services.site_for(campaign)
    site.allowed_origins = "https://ok.example\nhttps://evil.example; script-src *\nhttps://x.example/path"
    site.save()
    policy = client.get(url_of("action", campaign, action.slug) + "?embed=1")["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://ok.example" in policy
    assert "evil" not in policy and "script-src *" not in policy and "x.example" not in policy


def test_the_embedded_page_has_no_site_chrome_and_reports_its_height(client, campaign, site, action):
    content = client.get(url_of("action", campaign, action.slug) + "?embed=1").content.decode()
    assert 'data-embedded="1"' in content
    assert "<header" not in content and "<footer" not in content
    assert "engagement/site.js" in content
    # The form posts back in embed mode, so what follows stays embedded.
    assert f'action="{url_of("action", campaign, action.slug)}?embed=1"' in content
    script = client.get("/static/engagement/site.js")
    body = b"".join(script.streaming_content).decode()
    assert 'postMessage({ suffrage: "height", value: height }, "*")' in body


def test_an_embedded_form_posts_without_a_csrf_cookie(campaign, site, action):
    browser = Client(enforce_csrf_checks=True)  # a cross-site iframe: no CSRF cookie is sent
    url = url_of("action", campaign, action.slug) + "?embed=1"
    token = token_of(browser.get(url))
    browser.cookies.clear()

    response = browser.post(url, {**ANNE, "_token": token})

    assert response.status_code == 302
    assert response["Location"] == url_of("action_thanks", campaign, action.slug) + "?embed=1"
    assert Submission.objects.get().via == "embed"


@pytest.fixture
def english(campaign):
    """Messages asserted below are the English ones: the campaign's site speaks English."""
    campaign.languages = ["en"]
    campaign.save(update_fields=["languages"])
    return campaign


def test_a_post_without_the_signed_token_is_refused_and_the_form_shown_again(client, english, campaign, action):
    response = client.post(url_of("action", campaign, action.slug), ANNE)

    assert response.status_code == 400
    content = response.content.decode()
    assert "This form did not come from our page" in content
    assert 'value="Anne"' in content and 'value="anne@example.org"' in content
    assert token_of(response)  # a fresh token: sending again works
    assert not Person.objects.exists()
    again = client.post(url_of("action", campaign, action.slug), {**ANNE, "_token": token_of(response)})
    assert again.status_code == 302 and Person.objects.count() == 1


def test_a_token_of_another_form_is_refused(client, campaign, action):
    other = ActionFactory(campaign=campaign)
    token = token_of(client.get(url_of("action", campaign, other.slug)))
    response = client.post(url_of("action", campaign, action.slug), {**ANNE, "_token": token})
    assert response.status_code == 400
    assert not Person.objects.exists()


def test_a_token_older_than_a_day_is_refused(client, english, campaign, action, monkeypatch):
    token = token_of(client.get(url_of("action", campaign, action.slug)))
    later = time.time() + public.FORM_TOKEN_AGE + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)

    response = client.post(url_of("action", campaign, action.slug), {**ANNE, "_token": token})

    assert response.status_code == 400
    assert "This page was open for too long" in response.content.decode()
    assert not Person.objects.exists()


def test_a_consent_wording_changed_since_the_page_was_shown_must_be_read_again(client, english, campaign, action):
    ConsentWordingFactory(action=action, channel="email", text="Version 1")
    token = token_of(client.get(url_of("action", campaign, action.slug)))
    services.wordings_set(owner=action, texts={"email": "Version 2"})

    response = client.post(url_of("action", campaign, action.slug), {**ANNE, "consent_email": "on", "_token": token})

    assert response.status_code == 400
    assert "The wording of the consent boxes has just changed" in response.content.decode()
    assert "Version 2" in response.content.decode()
    assert not Person.objects.exists()


def test_the_embed_script_is_served(client, campaign):
    response = client.get(url_of("embed_js", campaign))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    body = response.content.decode()
    assert "data-suffrage-embed" in body and "event.origin !== ours" in body
    assert client.get("/e/nobody/embed.js").status_code == 404


def test_the_snippets_show_organisers_both_ways_to_embed(campaign, settings):
    url = f"{settings.SITE_URL}{url_of('action', campaign, 'rejoindre')}"
    request = RequestFactory().get("/c/brest-2027/engagement/forms/1/")
    request.campaign, request.user = campaign, AnonymousUser()

    html = render_to_string("engagement/public/_embed_snippets.html", {"url": url}, request=request)

    assert f'&lt;div data-suffrage-embed="{url}"&gt;&lt;/div&gt;' in html
    assert f'&lt;script src="http://testserver{url_of("embed_js", campaign)}" async&gt;' in html
    assert f'&lt;iframe src="{url}?embed=1"' in html
    given = render_to_string(
        "engagement/public/_embed_snippets.html", {"url": url, "script": "https://s.example/e/x/embed.js"}
    )
    assert "https://s.example/e/x/embed.js" in given
