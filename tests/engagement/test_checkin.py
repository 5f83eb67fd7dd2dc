"""Check-in at the door on an organiser's phone: the ticket's QR code opens a page
that checks the person in once, a name search limited to the event's RSVPs (live
with htmx, and as a plain form), walk-ins, and what may not be checked in."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.engagement.models import RSVP
from suffrage.engagement.views import checkin_url
from suffrage.people.models import Person, PersonEmail
from tests.factories import EventFactory, PersonEmailFactory, PersonFactory, RSVPFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(login):
    """Pages in English, whatever translations exist: the tests read the English strings."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


@pytest.fixture
def organiser(member):
    return member(Role.ORGANISER)


@pytest.fixture
def event(campaign):
    # 18:30 in Paris in winter.
    return EventFactory(
        campaign=campaign,
        title="Réunion Siam",
        starts_at=datetime.datetime(2030, 1, 10, 17, 30, tzinfo=datetime.UTC),
        ends_at=datetime.datetime(2030, 1, 10, 19, 30, tzinfo=datetime.UTC),
    )


def person(campaign, first, last):
    return PersonFactory(campaign=campaign, first_names=first, usage_name=last)


def token_url(campaign, rsvp):
    return reverse("engagement:checkin_token", args=[campaign.slug, rsvp.token])


def test_the_qr_code_holds_the_check_in_address_with_the_token_and_no_event(campaign, event):
    rsvp = RSVPFactory(event=event)
    assert checkin_url(rsvp) == f"{settings.SITE_URL}/c/{campaign.slug}/engagement/checkin/{rsvp.token}/"


def test_the_scanned_page_shows_who_and_checks_them_in_once(campaign, event, organiser, login):
    rsvp = RSVPFactory(event=event, person=person(campaign, "Anne", "Le Gall"), guests=1)
    client = login(organiser)
    page = client.get(token_url(campaign, rsvp)).content.decode()
    assert "Anne Le Gall" in page and "Réunion Siam" in page and "Confirm check-in" in page
    first = client.post(token_url(campaign, rsvp)).content.decode()
    rsvp.refresh_from_db()
    assert rsvp.checked_in_at is not None and rsvp.checked_in_by == organiser
    assert "Anne Le Gall is checked in." in first
    checked_at = rsvp.checked_in_at
    local = timezone.localtime(checked_at, event.zone).strftime("%H:%M")
    second = client.post(token_url(campaign, rsvp)).content.decode()
    rsvp.refresh_from_db()
    assert rsvp.checked_in_at == checked_at
    assert f"already checked in at {local}" in second
    assert AuditLog.objects.filter(action="engagement.check_in").count() == 1
    again = client.get(token_url(campaign, rsvp)).content.decode()
    assert f"Already checked in at {local}" in again and "Confirm check-in" not in again


def test_another_campaigns_token_is_not_found(campaign, other_campaign, owner, login):
    foreign = RSVPFactory(event=EventFactory(campaign=other_campaign))
    client = login(owner)
    assert client.get(token_url(campaign, foreign)).status_code == 404
    assert client.post(token_url(campaign, foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.checked_in_at is None


def test_an_unknown_token_is_not_found(campaign, organiser, login):
    assert login(organiser).get(reverse("engagement:checkin_token", args=[campaign.slug, "nope"])).status_code == 404


def test_a_cancelled_rsvp_cannot_be_checked_in(campaign, event, organiser, login):
    rsvp = RSVPFactory(event=event, person=person(campaign, "Anne", "Le Gall"), status="cancelled")
    client = login(organiser)
    page = client.get(token_url(campaign, rsvp)).content.decode()
    assert "This RSVP was cancelled: it cannot be checked in." in page
    assert "Confirm check-in" not in page
    scanned = client.post(token_url(campaign, rsvp)).content.decode()
    assert "cancelled their RSVP: they cannot be checked in" in scanned
    listed = client.post(reverse("engagement:rsvp_check_in", args=[campaign.slug, rsvp.pk]), follow=True)
    assert "cancelled their RSVP: they cannot be checked in" in listed.content.decode()
    rsvp.refresh_from_db()
    assert rsvp.checked_in_at is None


def test_the_name_search_finds_only_this_events_rsvps(campaign, event, organiser, login):
    here = RSVPFactory(event=event, person=person(campaign, "Anne", "Le Gall"))
    RSVPFactory(event=EventFactory(campaign=campaign), person=person(campaign, "Anne", "Le Goff"))
    person(campaign, "Anne", "Le Bihan")  # in the base, no RSVP
    RSVPFactory(event=event, person=person(campaign, "Yves", "Kerouac"))
    url = reverse("engagement:checkin", args=[campaign.slug, event.pk])
    page = login(organiser).get(url, {"q": "anne"}).content.decode()
    assert "Anne Le Gall" in page
    assert "Le Goff" not in page and "Le Bihan" not in page and "Kerouac" not in page
    assert reverse("engagement:rsvp_check_in", args=[campaign.slug, here.pk]) in page


def test_the_search_ignores_accents_and_case(campaign, event, organiser, login):
    RSVPFactory(event=event, person=person(campaign, "Gwénaëlle", "Le Hénaff"))
    page = login(organiser).get(reverse("engagement:checkin", args=[campaign.slug, event.pk]), {"q": "GWENAELLE hen"})
    assert "Gwénaëlle Le Hénaff" in page.content.decode()


def test_the_live_search_answers_htmx_with_the_results_only(campaign, event, organiser, login):
    RSVPFactory(event=event, person=person(campaign, "Anne", "Le Gall"))
    url = reverse("engagement:checkin", args=[campaign.slug, event.pk])
    response = login(organiser).get(url, {"q": "gall"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="checkin-results">')
    assert "Anne Le Gall" in body and "<html" not in body
    assert 'hx-swap-oob="true"' in body  # the counter follows


def test_the_page_works_without_javascript(campaign, event, organiser, login):
    page = login(organiser).get(reverse("engagement:checkin", args=[campaign.slug, event.pk])).content.decode()
    assert '<form method="get" role="search"' in page and 'name="q"' in page
    assert 'hx-trigger="input changed delay:300ms, search"' in page


def test_checking_in_from_the_list_updates_the_counter(campaign, event, organiser, login):
    rsvp = RSVPFactory(event=event, person=person(campaign, "Anne", "Le Gall"))
    RSVPFactory(event=event)
    client = login(organiser)
    url = reverse("engagement:checkin", args=[campaign.slug, event.pk])
    assert "0 checked in / 2 expected" in client.get(url).content.decode()
    row = client.post(reverse("engagement:rsvp_check_in", args=[campaign.slug, rsvp.pk]), HTTP_HX_REQUEST="true")
    body = row.content.decode()
    assert f'<li id="rsvp-{rsvp.pk}">' in body and "Checked in at" in body
    assert "1 checked in / 2 expected" in body
    again = client.post(reverse("engagement:rsvp_check_in", args=[campaign.slug, rsvp.pk]), {"q": "gall"})
    assert again["Location"] == f"{url}?q=gall"
    assert "already checked in at" in client.get(again["Location"]).content.decode()


def test_a_walk_in_becomes_a_person_with_a_checked_in_rsvp(campaign, event, organiser, login):
    response = login(organiser).post(
        reverse("engagement:walk_in", args=[campaign.slug, event.pk]),
        {"first_names": "Loïc", "last_name": "Morvan", "email": "Loic.Morvan@example.org", "phone": ""},
    )
    assert response.status_code == 302
    walk_in = Person.objects.get(campaign=campaign, first_names="Loïc")
    assert walk_in.usage_name == "Morvan"
    assert PersonEmail.objects.get(person=walk_in).address == "loic.morvan@example.org"
    rsvp = RSVP.objects.get(event=event, person=walk_in)
    assert rsvp.status == RSVP.Status.GOING and rsvp.checked_in_at is not None and rsvp.via == "door"


def test_a_walk_in_already_in_the_base_is_found_by_email(campaign, event, organiser, login):
    known = person(campaign, "Loïc", "Morvan")
    PersonEmailFactory(person=known, address="loic@example.org")
    login(organiser).post(
        reverse("engagement:walk_in", args=[campaign.slug, event.pk]),
        {"first_names": "Loic", "last_name": "", "email": "loic@example.org", "phone": ""},
    )
    assert Person.objects.filter(campaign=campaign).count() == 1
    assert RSVP.objects.get(event=event).person == known


def test_a_walk_in_needs_a_name_and_a_way_to_reach_them(campaign, event, organiser, login):
    url = reverse("engagement:walk_in", args=[campaign.slug, event.pk])
    client = login(organiser)
    no_contact = client.post(url, {"first_names": "Loïc", "last_name": "", "email": "", "phone": ""})
    assert "Give an email address or a phone number" in no_contact.content.decode()
    bad_phone = client.post(url, {"first_names": "Loïc", "last_name": "", "email": "", "phone": "12"})
    assert bad_phone.status_code == 200 and "field-error" in bad_phone.content.decode()
    assert not RSVP.objects.exists()


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.ANALYST])
def test_volunteers_and_analysts_cannot_check_people_in(campaign, event, member, login, role):
    rsvp = RSVPFactory(event=event)
    client = login(member(role))
    assert client.get(reverse("engagement:checkin", args=[campaign.slug, event.pk])).status_code == 403
    assert client.get(token_url(campaign, rsvp)).status_code == 403
    assert client.post(token_url(campaign, rsvp)).status_code == 403
    assert client.post(reverse("engagement:rsvp_check_in", args=[campaign.slug, rsvp.pk])).status_code == 403
    rsvp.refresh_from_db()
    assert rsvp.checked_in_at is None
