"""Segments can target engagement: who signed a petition, who came to an event."""

import pytest
from django.utils import timezone, translation

from suffrage.segments.compiler import context_for, segment_people
from suffrage.segments.language import FilterError
from tests.factories import ActionFactory, EventFactory, RSVPFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def people(campaign, field, op, value):
    document = {"version": 1, "filter": {"all": [{"field": field, "op": op, "value": value}]}}
    return set(segment_people(campaign, document, context_for(campaign)))


def test_signers_of_a_petition_are_a_segment_once_confirmed(campaign):
    petition = ActionFactory(campaign=campaign, kind="petition")
    signed = SubmissionFactory(action=petition)
    SubmissionFactory(action=petition, status="pending")  # double opt-in not confirmed yet
    SubmissionFactory(action=ActionFactory(campaign=campaign))  # another form
    assert people(campaign, "form", "submitted", petition.pk) == {signed.person}


def test_event_conditions_tell_coming_waiting_and_came(campaign):
    event = EventFactory(campaign=campaign)
    coming = RSVPFactory(event=event)
    waiting = RSVPFactory(event=event, status="waitlist")
    came = RSVPFactory(event=event, checked_in_at=timezone.now())
    RSVPFactory(event=event, status="cancelled")
    assert people(campaign, "event", "rsvp", event.pk) == {coming.person, came.person}
    assert people(campaign, "event", "waitlist", event.pk) == {waiting.person}
    assert people(campaign, "event", "attended", event.pk) == {came.person}


def test_another_campaigns_form_or_event_is_refused(campaign, other_campaign):
    with translation.override("en"), pytest.raises(FilterError, match="no such form"):
        people(campaign, "form", "submitted", ActionFactory(campaign=other_campaign).pk)
    with translation.override("en"), pytest.raises(FilterError, match="no such event"):
        people(campaign, "event", "rsvp", EventFactory(campaign=other_campaign).pk)


def test_people_met_at_the_door_are_a_segment_by_outcome(campaign):
    from tests.factories import PersonFactory, VisitFactory

    talked = VisitFactory(
        door__turf__canvass__campaign=campaign, person=PersonFactory(campaign=campaign), outcome="opened"
    )
    VisitFactory(door__turf__canvass__campaign=campaign, person=PersonFactory(campaign=campaign), outcome="refused")
    VisitFactory(door__turf__canvass__campaign=campaign, outcome="opened")  # a door, nobody named
    assert people(campaign, "visit", "in", ["opened"]) == {talked.person}
