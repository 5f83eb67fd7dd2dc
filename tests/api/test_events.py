"""REST events: the list (upcoming, past, status) and each event with its RSVP counts;
the RSVPs (attendances) with their filters; recording an RSVP and a check-in through
the engagement services (person matched, consent proof, confirmation, waiting list,
audit), refused for another campaign, without the write scope, or when it cannot be."""

from __future__ import annotations

import datetime
from typing import get_args

import pytest
from django.utils import timezone

from suffrage.api.rest.events import EventStatus, RsvpStatus
from suffrage.core.models import AuditLog
from suffrage.engagement.models import RSVP, Event
from suffrage.messaging.models import Notice
from suffrage.people.models import ConsentEvent, Person
from tests.api.conftest import ApiClient, ids
from tests.factories import (
    ApiTokenFactory,
    ConsentWordingFactory,
    EventFactory,
    PersonEmailFactory,
    PersonFactory,
    RSVPFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def test_the_choices_in_the_schema_are_the_models():
    assert set(get_args(EventStatus)) == set(Event.Status.values)
    assert set(get_args(RsvpStatus)) == set(RSVP.Status.values)


def test_events_are_listed_with_their_counts(campaign, other_campaign, api):
    later = EventFactory(campaign=campaign, starts_at=NOW + datetime.timedelta(days=9), capacity=10)
    sooner = EventFactory(campaign=campaign, starts_at=NOW + datetime.timedelta(days=2))
    RSVPFactory(event=later, guests=2)
    RSVPFactory(event=later, status="waitlist")
    RSVPFactory(event=later, status="cancelled", checked_in_at=NOW)
    EventFactory(campaign=other_campaign)

    body = api.get("/api/v1/events").json()

    assert body["count"] == 2 and [row["id"] for row in body["results"]] == [later.pk, sooner.pk]
    counted = body["results"][0]
    assert (counted["going"], counted["going_seats"], counted["waiting"], counted["cancelled"]) == (1, 3, 1, 1)
    assert counted["checked_in"] == 1 and counted["seats_left"] == 7
    assert body["results"][1]["seats_left"] is None
    assert ids(api.get("/api/v1/events", {"sort": "starts_at"})) == [sooner.pk, later.pk]


def test_events_filter_by_time_and_status_and_sort(campaign, api):
    past = EventFactory(
        campaign=campaign,
        title="C",
        starts_at=NOW - datetime.timedelta(days=5),
        ends_at=NOW - datetime.timedelta(days=5),
    )
    upcoming = EventFactory(campaign=campaign, title="B")
    draft = EventFactory(campaign=campaign, status="draft", title="A")

    assert ids(api.get("/api/v1/events", {"when": "past"})) == [past.pk]
    assert set(ids(api.get("/api/v1/events", {"when": "upcoming"}))) == {upcoming.pk, draft.pk}
    assert ids(api.get("/api/v1/events", {"status": "draft"})) == [draft.pk]
    assert ids(api.get("/api/v1/events", {"sort": "-title"})) == [past.pk, upcoming.pk, draft.pk]
    refused = api.get("/api/v1/events", {"sort": "secret"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "query.sort"
    assert api.get("/api/v1/events", {"status": "maybe"}).status_code == 422


def test_the_list_is_paginated(campaign, api):
    for _ in range(3):
        EventFactory(campaign=campaign)
    body = api.get("/api/v1/events", {"per_page": 2, "page": 2}).json()
    assert (body["count"], body["page"], body["per_page"], body["pages"], len(body["results"])) == (3, 2, 2, 2, 1)


def test_an_event_shows_its_counts_and_consent_wordings(campaign, api):
    event = EventFactory(campaign=campaign, capacity=1)
    wording = ConsentWordingFactory(event=event, channel="email")
    RSVPFactory(event=event, guests=1)

    body = api.get(f"/api/v1/events/{event.pk}").json()

    assert body["id"] == event.pk and body["title"] == event.title and body["status"] == "open"
    assert body["going_seats"] == 2 and body["seats_left"] == 0
    assert body["wordings"] == [
        {"id": wording.pk, "channel": "email", "version": 1, "text": wording.text, "retired_at": None}
    ]


def test_another_campaigns_event_is_a_404(campaign, other_campaign, api):
    event = EventFactory(campaign=other_campaign)
    rsvp = RSVPFactory(event=event)
    for path in (
        f"/api/v1/events/{event.pk}",
        f"/api/v1/events/{event.pk}/rsvps",
        f"/api/v1/events/{event.pk}/rsvps/{rsvp.pk}",
    ):
        response = api.get(path)
        assert response.status_code == 404 and response.json() == {"detail": "Not found.", "errors": []}


def test_rsvps_are_listed_without_their_ticket(campaign, api):
    event = EventFactory(campaign=campaign)
    coming = RSVPFactory(event=event, checked_in_at=NOW, consents={"email": 3})
    waiting = RSVPFactory(event=event, status="waitlist")

    body = api.get(f"/api/v1/events/{event.pk}/rsvps").json()

    assert [row["id"] for row in body["results"]] == [coming.pk, waiting.pk]
    row = body["results"][0]
    assert row["person_id"] == coming.person_id and row["status"] == "going" and row["checked_in"] is True
    assert row["consents"] == {"email": 3} and coming.token not in str(body)
    assert ids(api.get(f"/api/v1/events/{event.pk}/rsvps", {"status": "waitlist"})) == [waiting.pk]
    assert ids(api.get(f"/api/v1/events/{event.pk}/rsvps", {"checked_in": "false"})) == [waiting.pk]
    assert ids(api.get(f"/api/v1/events/{event.pk}/rsvps", {"sort": "-created_at"})) == [waiting.pk, coming.pk]
    since = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    assert ids(api.get(f"/api/v1/events/{event.pk}/rsvps", {"since": since})) == []


def test_an_rsvp_of_another_event_is_a_404(campaign, api):
    event, other = EventFactory(campaign=campaign), EventFactory(campaign=campaign)
    rsvp = RSVPFactory(event=other)
    assert api.get(f"/api/v1/events/{event.pk}/rsvps/{rsvp.pk}").status_code == 404
    assert api.get(f"/api/v1/events/{other.pk}/rsvps/{rsvp.pk}").json()["id"] == rsvp.pk


def test_an_out_of_range_date_is_a_422_not_a_500(campaign, api):
    event = EventFactory(campaign=campaign)
    response = api.get(f"/api/v1/events/{event.pk}/rsvps", {"since": "0001-01-01T00:00:00+14:00"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.since"


def test_erased_people_are_gone_from_the_rsvps(campaign, api):
    from suffrage.privacy.erasure import person_erase

    event = EventFactory(campaign=campaign)
    rsvp = RSVPFactory(event=event)
    person_erase(person=rsvp.person, actor=None)
    assert api.get(f"/api/v1/events/{event.pk}/rsvps").json()["count"] == 0
    assert api.get(f"/api/v1/events/{event.pk}/rsvps/{rsvp.pk}").status_code == 404


# --- Writes ----------------------------------------------------------------------------------------


def test_an_rsvp_is_recorded_like_the_public_page_does(campaign, api):
    event = EventFactory(campaign=campaign)
    wording = ConsentWordingFactory(event=event, channel="email")

    response = api.post(
        f"/api/v1/events/{event.pk}/rsvps",
        {
            "first_names": "Anne",
            "last_name": "Le Gall",
            "email": "anne@example.org",
            "guests": 1,
            "consents": ["email"],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    rsvp = RSVP.objects.get(pk=body["id"])
    person = Person.objects.get(pk=body["person_id"], campaign=campaign)
    assert (rsvp.event, rsvp.person, rsvp.status, rsvp.guests, rsvp.via) == (event, person, "going", 1, "api")
    assert body["consents"] == {"email": wording.pk} and person.first_names == "Anne"
    consent = ConsentEvent.objects.get(person=person, channel="email")
    assert consent.granted and consent.wording == wording.text and consent.source == "event"
    assert Notice.objects.filter(person=person, kind="rsvp", to="anne@example.org").exists()
    assert AuditLog.objects.filter(action="engagement.rsvp", object_id=str(person.pk)).exists()
    assert AuditLog.objects.filter(action="api.call", changes__scope="engagement:write").exists()


def test_an_rsvp_finds_the_person_by_email(campaign, api):
    event = EventFactory(campaign=campaign)
    known = PersonFactory(campaign=campaign, first_names="Anne")
    PersonEmailFactory(person=known, campaign=campaign, address="anne@example.org")

    body = api.post(f"/api/v1/events/{event.pk}/rsvps", {"first_names": "A.", "email": "Anne@Example.org"}).json()

    assert body["person_id"] == known.pk and Person.objects.filter(campaign=campaign).count() == 1


def test_a_full_event_puts_people_on_its_waiting_list_or_refuses_them(campaign, api):
    event = EventFactory(campaign=campaign, capacity=1)
    RSVPFactory(event=event)
    body = api.post(f"/api/v1/events/{event.pk}/rsvps", {"first_names": "Anne", "email": "anne@example.org"}).json()
    assert body["status"] == "waitlist"

    Event.objects.filter(pk=event.pk).update(waitlist=False)
    response = api.post(f"/api/v1/events/{event.pk}/rsvps", {"first_names": "Yann", "email": "yann@example.org"})
    assert response.status_code == 409 and "full" in response.json()["detail"]
    assert not Person.objects.filter(emails__address="yann@example.org").exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "closed"},
        {"starts_at": NOW - datetime.timedelta(days=2), "ends_at": NOW - datetime.timedelta(days=1)},
    ],
)
def test_an_event_that_takes_no_rsvp_answers_409(campaign, api, changes):
    event = EventFactory(campaign=campaign, **changes)
    response = api.post(f"/api/v1/events/{event.pk}/rsvps", {"first_names": "Anne", "email": "anne@example.org"})
    assert response.status_code == 409 and "no longer takes RSVPs" in response.json()["detail"]
    assert not RSVP.objects.exists()


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"first_names": "Anne", "email": "not an address"}, "body.email"),
        ({"first_names": "", "email": "anne@example.org"}, "body.first_names"),
        ({"first_names": "Anne", "email": "anne@example.org", "consents": ["sms"]}, "body.consents"),
        ({"first_names": "Anne", "email": "anne@example.org", "phone": "12"}, "body.phone"),
        ({"first_names": "Anne", "email": "anne@example.org", "guests": 11}, "body.guests"),
        ({"email": "anne@example.org"}, "body.first_names"),
    ],
)
def test_a_bad_rsvp_is_a_422_naming_the_field(campaign, api, payload, field):
    event = EventFactory(campaign=campaign)
    ConsentWordingFactory(event=event, channel="email")
    response = api.post(f"/api/v1/events/{event.pk}/rsvps", payload)
    assert response.status_code == 422, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not RSVP.objects.exists() and not Person.objects.exists()


def test_writing_needs_the_write_scope(campaign, api_for):
    event = EventFactory(campaign=campaign)
    rsvp = RSVPFactory(event=event)
    reader = api_for(campaign, scopes=["engagement:read"])
    payload = {"first_names": "Anne", "email": "anne@example.org"}
    assert reader.post(f"/api/v1/events/{event.pk}/rsvps", payload).status_code == 403
    assert reader.post(f"/api/v1/events/{event.pk}/rsvps/{rsvp.pk}/check-in", {}).status_code == 403
    assert reader.get(f"/api/v1/events/{event.pk}/rsvps").status_code == 200
    writer = api_for(campaign, scopes=["engagement:write"])
    assert writer.get(f"/api/v1/events/{event.pk}").status_code == 403
    assert writer.post(f"/api/v1/events/{event.pk}/rsvps", payload).status_code == 201


def test_another_campaigns_event_takes_no_rsvp(campaign, other_campaign, api):
    event = EventFactory(campaign=other_campaign)
    response = api.post(f"/api/v1/events/{event.pk}/rsvps", {"first_names": "Anne", "email": "anne@example.org"})
    assert response.status_code == 404 and not RSVP.objects.exists()


def test_a_check_in_is_recorded_once_in_the_name_of_the_tokens_owner(campaign, owner):
    api = ApiClient(ApiTokenFactory(campaign=campaign, created_by=owner).key)
    event = EventFactory(campaign=campaign)
    rsvp = RSVPFactory(event=event)

    first = api.post(f"/api/v1/events/{event.pk}/rsvps/{rsvp.pk}/check-in", {})
    rsvp.refresh_from_db()
    again = api.post(f"/api/v1/events/{event.pk}/rsvps/{rsvp.pk}/check-in", {})

    assert first.status_code == 200 and first.json()["checked_in"] is True
    assert rsvp.checked_in_at is not None and rsvp.checked_in_by == owner
    assert again.json()["checked_in_at"] == first.json()["checked_in_at"]
    assert AuditLog.objects.filter(action="engagement.check_in", object_id=str(rsvp.person_id)).count() == 1


def test_a_cancelled_rsvp_cannot_be_checked_in(campaign, api):
    rsvp = RSVPFactory(event=EventFactory(campaign=campaign), status="cancelled")
    response = api.post(f"/api/v1/events/{rsvp.event_id}/rsvps/{rsvp.pk}/check-in", {})
    assert response.status_code == 409 and "cancelled" in response.json()["detail"]
    rsvp.refresh_from_db()
    assert rsvp.checked_in_at is None


def test_another_campaigns_rsvp_cannot_be_checked_in(campaign, other_campaign, api):
    rsvp = RSVPFactory(event=EventFactory(campaign=other_campaign))
    assert api.post(f"/api/v1/events/{rsvp.event_id}/rsvps/{rsvp.pk}/check-in", {}).status_code == 404
    rsvp.refresh_from_db()
    assert rsvp.checked_in_at is None
