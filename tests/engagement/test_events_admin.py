"""The event editor and the organisers' event page: times read in the event's own
time zone, organisers chosen among the campaign's members, reminders, the RSVP list
and cancelling an RSVP (the waiting list moves up)."""

import datetime

import pytest
from django.urls import reverse

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.engagement.models import RSVP, ConsentWording, Event
from tests.factories import EventFactory, PersonFactory, RSVPFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(login):
    """Pages in English, whatever translations exist: the tests read the English strings."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


UTC = datetime.UTC


@pytest.fixture
def organiser(member):
    return member(Role.ORGANISER)


def event_data(**overrides):
    data = {
        "title": "Réunion publique à Saint-Martin",
        "slug": "",
        "status": "open",
        "description": "",
        "starts_local": "2027-01-14T18:30",
        "ends_local": "2027-01-14T20:30",
        "time_zone": "Europe/Paris",
        "venue": "Salle Jean Moulin",
        "address": "2 rue de Siam, 29200 Brest",
        "latitude": "",
        "longitude": "",
        "online_url": "",
        "capacity": "",
        "waitlist": "on",
        "reminders": "24, 2",
        "followup_hours": "",
        "followup_text": "",
        "tag_name": "",
        "consent_email": "J'accepte de recevoir les nouvelles de la campagne par email.",
        "consent_sms": "",
        "consent_phone": "",
        "consent_post": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def new_url(campaign):
    return reverse("engagement:event_new", args=[campaign.slug])


def test_18_30_in_paris_in_winter_is_stored_as_17_30_utc(campaign, organiser, login):
    response = login(organiser).post(new_url(campaign), event_data())
    event = Event.objects.get(campaign=campaign)
    assert response.status_code == 302
    assert event.starts_at == datetime.datetime(2027, 1, 14, 17, 30, tzinfo=UTC)
    assert event.ends_at == datetime.datetime(2027, 1, 14, 19, 30, tzinfo=UTC)
    assert event.time_zone == "Europe/Paris"
    assert event.slug == "reunion-publique-a-saint-martin"
    assert event.reminder_hours == [24, 2]
    assert event.created_by == organiser
    assert ConsentWording.objects.get(event=event).version == 1
    assert AuditLog.objects.filter(action="event.create", object_id=str(event.pk)).exists()


def test_in_summer_paris_is_two_hours_ahead_of_utc(campaign, organiser, login):
    login(organiser).post(new_url(campaign), event_data(starts_local="2027-06-14T18:30", ends_local="2027-06-14T20:00"))
    assert Event.objects.get().starts_at == datetime.datetime(2027, 6, 14, 16, 30, tzinfo=UTC)


def test_the_times_are_read_in_the_chosen_time_zone(campaign, organiser, login):
    login(organiser).post(new_url(campaign), event_data(time_zone="America/Martinique"))
    assert Event.objects.get().starts_at == datetime.datetime(2027, 1, 14, 22, 30, tzinfo=UTC)


def test_the_editor_shows_the_times_in_the_events_time_zone(campaign, organiser, login):
    event = EventFactory(
        campaign=campaign,
        time_zone="America/Martinique",
        starts_at=datetime.datetime(2027, 1, 14, 22, 30, tzinfo=UTC),
        ends_at=datetime.datetime(2027, 1, 15, 0, 30, tzinfo=UTC),
    )
    page = login(organiser).get(reverse("engagement:event_edit", args=[campaign.slug, event.pk])).content.decode()
    assert 'value="2027-01-14T18:30"' in page
    assert 'value="2027-01-14T20:30"' in page


def test_a_new_event_defaults_to_the_campaigns_time_zone(campaign, organiser, login):
    campaign.time_zone = "Indian/Reunion"
    campaign.save()
    page = login(organiser).get(new_url(campaign)).content.decode()
    assert '<option value="Indian/Reunion" selected>' in page


def test_a_time_skipped_when_the_clocks_go_forward_is_refused(campaign, organiser, login):
    response = login(organiser).post(
        new_url(campaign), event_data(starts_local="2027-03-28T02:30", ends_local="2027-03-28T04:00")
    )
    assert response.status_code == 200
    assert "02:30 does not exist in this time zone" in response.content.decode()
    assert not Event.objects.exists()


def test_an_event_ending_before_it_starts_is_refused(campaign, organiser, login):
    response = login(organiser).post(new_url(campaign), event_data(ends_local="2027-01-14T17:00"))
    assert "An event cannot end before it starts." in response.content.decode()
    assert not Event.objects.exists()


def test_organisers_are_chosen_among_the_campaigns_members_only(campaign, organiser, outsider, manager, login):
    client = login(organiser)
    page = client.get(new_url(campaign)).content.decode()
    assert manager.email in page or str(manager) in page
    assert outsider.email not in page
    refused = client.post(new_url(campaign), event_data(organisers=[outsider.pk]))
    assert refused.status_code == 200
    assert not Event.objects.exists()
    client.post(new_url(campaign), event_data(organisers=[manager.pk, organiser.pk]))
    assert set(Event.objects.get().organisers.all()) == {manager, organiser}


def test_reminders_that_are_not_hours_are_refused_naming_the_bad_one(campaign, organiser, login):
    response = login(organiser).post(new_url(campaign), event_data(reminders="24, bientôt"))
    assert "“bientôt” is not a number of hours" in response.content.decode()
    response = login(organiser).post(new_url(campaign), event_data(reminders="1000"))
    assert "Reminders go between 0 and 336 hours" in response.content.decode()
    assert not Event.objects.exists()


def test_coordinates_come_in_pairs_and_within_range(campaign, organiser, login):
    client = login(organiser)
    response = client.post(new_url(campaign), event_data(latitude="48.39"))
    assert "Give both the latitude and the longitude" in response.content.decode()
    response = client.post(new_url(campaign), event_data(latitude="148.39", longitude="-4.48"))
    assert "Between -90 and 90." in response.content.decode()
    client.post(new_url(campaign), event_data(latitude="48.39", longitude="-4.48"))
    event = Event.objects.get()
    assert (event.latitude, event.longitude) == (48.39, -4.48)


def test_the_tag_is_found_or_created_by_name(campaign, organiser, login):
    login(organiser).post(new_url(campaign), event_data(tag_name="Réunion Siam"))
    assert Event.objects.get().tag.name == "Réunion Siam"


def test_the_event_page_lists_rsvps_by_status_with_guests_and_seats_left(campaign, organiser, login):
    event = EventFactory(campaign=campaign, capacity=10)
    RSVPFactory(
        event=event, person=PersonFactory(campaign=campaign, first_names="Anne", usage_name="Le Gall"), guests=2
    )
    RSVPFactory(event=event, person=PersonFactory(campaign=campaign, first_names="Yves", usage_name="Kerouac"))
    RSVPFactory(
        event=event,
        person=PersonFactory(campaign=campaign, first_names="Lena", usage_name="Morvan"),
        status="cancelled",
    )
    page = login(organiser).get(reverse("engagement:event_detail", args=[campaign.slug, event.pk])).content.decode()
    assert "Anne Le Gall" in page and "Yves Kerouac" in page and "Lena Morvan" in page
    assert "6 / 10" in page  # 4 seats taken: Anne and two guests, Yves
    assert "2 people (4 seats with guests)" in page
    assert reverse("engagement:checkin", args=[campaign.slug, event.pk]) in page


def test_an_organiser_cancels_an_rsvp_and_the_first_waiting_takes_the_seat(campaign, organiser, login):
    event = EventFactory(campaign=campaign, capacity=1)
    coming = RSVPFactory(event=event)
    waiting = RSVPFactory(event=event, status="waitlist")
    response = login(organiser).post(reverse("engagement:rsvp_cancel", args=[campaign.slug, coming.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("engagement:event_detail", args=[campaign.slug, event.pk])
    coming.refresh_from_db()
    waiting.refresh_from_db()
    assert coming.status == RSVP.Status.CANCELLED
    assert waiting.status == RSVP.Status.GOING
    entry = AuditLog.objects.get(action="engagement.rsvp_cancel")
    assert entry.actor == organiser


def test_cancelling_twice_changes_nothing_more(campaign, organiser, login):
    rsvp = RSVPFactory(event=EventFactory(campaign=campaign), status="cancelled")
    login(organiser).post(reverse("engagement:rsvp_cancel", args=[campaign.slug, rsvp.pk]))
    assert not AuditLog.objects.filter(action="engagement.rsvp_cancel").exists()


def test_an_analyst_cannot_cancel_an_rsvp(campaign, member, login):
    rsvp = RSVPFactory(event=EventFactory(campaign=campaign))
    response = login(member(Role.ANALYST)).post(reverse("engagement:rsvp_cancel", args=[campaign.slug, rsvp.pk]))
    assert response.status_code == 403
    rsvp.refresh_from_db()
    assert rsvp.status == RSVP.Status.GOING


def test_the_overview_lists_upcoming_events_before_past_ones(campaign, organiser, login):
    from django.utils import timezone

    now = timezone.now()
    EventFactory(campaign=campaign, title="Passé", starts_at=now - datetime.timedelta(days=5))
    EventFactory(campaign=campaign, title="Dans un mois", starts_at=now + datetime.timedelta(days=30))
    EventFactory(campaign=campaign, title="Demain", starts_at=now + datetime.timedelta(days=1))
    page = login(organiser).get(reverse("engagement:overview", args=[campaign.slug])).content.decode()
    assert page.index("Demain") < page.index("Dans un mois") < page.index("Passé")


# --- Calls to action (their shift times are read in the campaign's time zone, as events') ---


def call_data(**overrides):
    data = {
        "kind": "shift",
        "status": "open",
        "title": "Tractage au marché Saint-Louis",
        "slug": "",
        "description": "",
        "url": "",
        "event": "",
        "starts_local": "2027-01-16T09:00",
        "ends_local": "2027-01-16T12:00",
        "slots": "6",
    }
    data.update(overrides)
    return data


def test_a_shift_is_created_with_its_times_in_the_campaigns_time_zone(campaign, organiser, login):
    from suffrage.engagement.models import CallToAction

    response = login(organiser).post(reverse("engagement:call_new", args=[campaign.slug]), call_data())
    call = CallToAction.objects.get(campaign=campaign)
    assert response.status_code == 302
    assert response["Location"] == reverse("engagement:call_detail", args=[campaign.slug, call.pk])
    assert call.slug == "tractage-au-marche-saint-louis"
    assert call.starts_at == datetime.datetime(2027, 1, 16, 8, 0, tzinfo=UTC)
    assert call.slots == 6
    assert AuditLog.objects.filter(action="call_to_action.create").exists()


def test_a_donation_without_its_payment_link_is_refused(campaign, organiser, login):
    from suffrage.engagement.models import CallToAction

    response = login(organiser).post(
        reverse("engagement:call_new", args=[campaign.slug]),
        call_data(kind="donate", starts_local="", ends_local="", slots=""),
    )
    assert "A donation needs the link to the payment page." in response.content.decode()
    assert not CallToAction.objects.exists()


def test_a_call_to_come_to_an_event_offers_only_this_campaigns_events(campaign, other_campaign, organiser, login):
    foreign = EventFactory(campaign=other_campaign)
    response = login(organiser).post(
        reverse("engagement:call_new", args=[campaign.slug]),
        call_data(kind="event", event=str(foreign.pk), starts_local="", ends_local="", slots=""),
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
