"""The volunteers' app pages: only the turfs they hold, a turf's data for offline use,
and what makes it installable (manifest, service worker)."""

import datetime
import json

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from suffrage.core.roles import Role
from tests.factories import (
    CanvassFactory,
    DoorFactory,
    MembershipFactory,
    QuestionFactory,
    TurfFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def canvass(campaign):
    return CanvassFactory(campaign=campaign, name="Recouvrance", script="Bonjour, **je suis bénévole**.")


@pytest.fixture
def turf(canvass, volunteer):
    return TurfFactory(canvass=canvass, name="Rue de la Porte", assigned_to=volunteer)


@pytest.fixture
def second_volunteer(campaign):
    return MembershipFactory(campaign=campaign, role=Role.VOLUNTEER).user


@pytest.fixture
def login(login):
    """Signed in, reading English (the texts checked below)."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def url(name, campaign, *args):
    return reverse(f"canvassing_app:{name}", args=[campaign.slug, *args])


def config_of(response):
    text = response.content.decode()
    return json.loads(text.split('id="canvass-config" type="application/json">')[1].split("</script>")[0])


# --- My turfs ------------------------------------------------------------------------------


def test_my_turfs_lists_only_the_turfs_i_hold_now(campaign, canvass, volunteer, second_volunteer, turf, login):
    later = TurfFactory(canvass=canvass, name="Quai Ouest", assigned_to=volunteer)
    later.expires_at = timezone.now() + datetime.timedelta(days=1)
    later.save()
    TurfFactory(canvass=canvass, name="Expiré", assigned_to=volunteer, expires_at=timezone.now())
    TurfFactory(canvass=canvass, name="Pas le mien", assigned_to=second_volunteer)
    TurfFactory(canvass=canvass, name="Personne")

    response = login(volunteer).get(url("home", campaign))

    assert response.status_code == 200
    text = response.content.decode()
    assert "Rue de la Porte" in text and "Quai Ouest" in text
    assert "Expiré" not in text and "Pas le mien" not in text and "Personne" not in text
    assert f'href="{url("turf", campaign, turf.pk)}"' in text


def test_my_turfs_count_doors_done_out_of_all(campaign, volunteer, turf, login):
    doors = [DoorFactory(turf=turf, position=index) for index in range(4)]
    VisitFactory(door=doors[0], outcome="leaflet")
    VisitFactory(door=doors[1], outcome="not_home")  # to knock again
    VisitFactory(door=doors[2], outcome="not_home", recorded_at=timezone.now() - datetime.timedelta(hours=1))
    VisitFactory(door=doors[2], outcome="opened")

    response = login(volunteer).get(url("home", campaign))

    text = " ".join(response.content.decode().split())
    assert "2 / 4 doors done" in text
    assert "1 to knock again" in text


def test_my_turfs_says_when_there_is_none(campaign, volunteer, login):
    response = login(volunteer).get(url("home", campaign))

    assert "No turf is assigned to you" in response.content.decode()
    assert config_of(response)["page"] == "home"


# --- A turf -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["turf", "turf_data"])
def test_a_second_volunteer_gets_404_on_the_first_ones_turf(campaign, turf, second_volunteer, login, name):
    assert login(second_volunteer).get(url(name, campaign, turf.pk)).status_code == 404


@pytest.mark.parametrize("name", ["turf", "turf_data"])
def test_an_expired_assignment_is_a_404(campaign, turf, volunteer, login, name):
    turf.expires_at = timezone.now() - datetime.timedelta(minutes=1)
    turf.save()

    assert login(volunteer).get(url(name, campaign, turf.pk)).status_code == 404


@pytest.mark.parametrize("name", ["turf", "turf_data"])
def test_an_organiser_who_does_not_hold_the_turf_gets_404_too(campaign, turf, member, login, name):
    assert login(member(Role.ORGANISER)).get(url(name, campaign, turf.pk)).status_code == 404


def test_the_turf_page_gives_the_app_what_it_needs(campaign, turf, volunteer, login):
    response = login(volunteer).get(url("turf", campaign, turf.pk))

    assert response.status_code == 200
    config = config_of(response)
    assert config["page"] == "turf" and config["turf_id"] == turf.pk
    assert config["data_url"] == url("turf_data", campaign, turf.pk)
    assert config["sync_url"] == url("sync", campaign)
    assert config["scope"] == url("home", campaign)
    assert config["csrf"]
    text = response.content.decode()
    for outcome in ("not_home", "opened", "refused", "come_back", "leaflet", "no_access"):
        assert f'data-outcome="{outcome}"' in text
    assert 'id="talk-consent-email"' in text and 'id="talk-dnc"' in text
    assert f'href="{url("manifest", campaign)}" crossorigin="use-credentials"' in text


def test_the_turf_data_has_the_doors_in_walking_order_with_their_last_outcome(
    campaign, canvass, turf, volunteer, login, django_assert_max_num_queries
):
    second = DoorFactory(turf=turf, position=2, street="rue Vauban", number="4", floors="RDC, 1", dwellings=3)
    first = DoorFactory(turf=turf, position=1, street="rue Vauban", number="2", lon=-4.49, lat=48.38)
    VisitFactory(door=first, outcome="not_home", recorded_at=timezone.now() - datetime.timedelta(days=1))
    VisitFactory(door=first, outcome="leaflet")
    question = QuestionFactory(canvass=canvass)
    for _ in range(20):
        DoorFactory(turf=turf, position=9)
    client = login(volunteer)

    # Session, user, membership, the turf, its doors with their last visit, the questions…:
    # the same for 22 doors as for 2.
    with django_assert_max_num_queries(8):
        response = client.get(url("turf_data", campaign, turf.pk))

    data = response.json()
    assert [door["id"] for door in data["doors"][:2]] == [first.pk, second.pk]
    assert data["doors"][0] | {"last_at": None} == {
        "id": first.pk,
        "label": "2 rue Vauban",
        "floors": "",
        "dwellings": 1,
        "lon": -4.49,
        "lat": 48.38,
        "last_outcome": "leaflet",
        "last_at": None,
    }
    assert data["doors"][1]["last_outcome"] is None and data["doors"][1]["floors"] == "RDC, 1"
    assert data["questions"] == [
        {"id": question.pk, "kind": "single", "text": question.text, "choices": ["Logement", "Transports", "Écoles"]}
    ]
    assert data["script_html"] == "<p>Bonjour, <strong>je suis bénévole</strong>.</p>\n"
    assert data["consent"]["version"] == 1 and set(data["consent"]["wording"]) == {"email", "sms", "phone"}
    assert data["turf"]["name"] == "Rue de la Porte"


def test_the_script_cannot_inject_html(campaign, canvass, turf, volunteer, login):
    canvass.script = "<script>alert(1)</script>\n\n[lien](javascript:alert)"
    canvass.save()

    data = login(volunteer).get(url("turf_data", campaign, turf.pk)).json()

    assert "<script>" not in data["script_html"]
    assert "<a" in data["script_html"] and 'href="javascript' not in data["script_html"]


# --- Installable, offline ------------------------------------------------------------------------------


def test_the_manifest_makes_the_app_installable(campaign, volunteer, login):
    response = login(volunteer).get(url("manifest", campaign))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    scope = url("home", campaign)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (scope, scope, "standalone")
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]


def test_the_service_worker_is_served_from_the_app_with_its_scope(campaign, volunteer, login):
    response = login(volunteer).get(url("service_worker", campaign))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == url("home", campaign) == f"/c/{campaign.slug}/app/"
    assert response["Cache-Control"] == "no-cache"
    text = response.content.decode()
    config = json.loads(text.split("const CONFIG = ")[1].split(";\n")[0])
    assert config["scope"] == f"/c/{campaign.slug}/app/"
    assert "/static/canvassing/app.js" in config["shell"]
    assert len(config["version"]) == 12
    assert 'self.addEventListener("fetch"' in text


def test_the_app_needs_a_sign_in(campaign, client):
    for name in ("home", "manifest", "service_worker"):
        response = client.get(url(name, campaign))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_an_analyst_cannot_open_the_app(campaign, member, login):
    assert login(member(Role.ANALYST)).get(url("home", campaign)).status_code == 403
