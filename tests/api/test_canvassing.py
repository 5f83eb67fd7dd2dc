"""REST canvassing: canvasses with their survey and figures, and their visits (door,
turf, polling station, outcome, person, answers) filtered by outcome, station and date;
never the volunteer's note nor a support level; another campaign's are a 404."""

from __future__ import annotations

import datetime
from typing import get_args

import pytest
from django.utils import timezone

from suffrage.api.rest.canvassing import CanvassKind, CanvassStatus, VisitOutcome
from suffrage.canvassing.models import Canvass, Outcome, Question
from suffrage.canvassing.selectors import totals
from tests.api.conftest import ids
from tests.factories import (
    CanvassFactory,
    DoorFactory,
    PersonFactory,
    QuestionFactory,
    TurfFactory,
    VisitFactory,
    station_in,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def test_the_choices_in_the_schema_are_the_models():
    assert set(get_args(CanvassKind)) == set(Canvass.Kind.values)
    assert set(get_args(CanvassStatus)) == set(Canvass.Status.values)
    assert set(get_args(VisitOutcome)) == set(Outcome.values)
    assert {"single", "multiple", "scale", "text"} == set(Question.Kind.values)


def test_canvasses_are_listed_and_filtered(campaign, other_campaign, api):
    doors = CanvassFactory(campaign=campaign, name="B", created_at=NOW - datetime.timedelta(days=1))
    phone = CanvassFactory(campaign=campaign, name="A", kind="phone", status="draft")
    CanvassFactory(campaign=other_campaign)

    assert ids(api.get("/api/v1/canvassing")) == [doors.pk, phone.pk]
    assert ids(api.get("/api/v1/canvassing", {"sort": "-created_at"})) == [phone.pk, doors.pk]
    assert ids(api.get("/api/v1/canvassing", {"kind": "doors"})) == [doors.pk]
    assert ids(api.get("/api/v1/canvassing", {"status": "draft"})) == [phone.pk]
    assert ids(api.get("/api/v1/canvassing", {"sort": "-name"})) == [doors.pk, phone.pk]


def test_a_canvass_shows_its_survey_and_the_figures_of_its_dashboard(campaign, api):
    canvass = CanvassFactory(campaign=campaign, goal_doors=4, script="Bonjour")
    question = QuestionFactory(canvass=canvass)
    turf = TurfFactory(canvass=canvass)
    first, second = DoorFactory(turf=turf), DoorFactory(turf=turf)
    VisitFactory(door=first, outcome="opened")
    VisitFactory(door=first, outcome="not_home")
    del second

    body = api.get(f"/api/v1/canvassing/{canvass.pk}").json()

    assert body["script"] == "Bonjour" and body["goal_doors"] == 4
    assert body["questions"] == [
        {"id": question.pk, "position": 0, "kind": "single", "text": question.text, "choices": question.choices}
    ]
    numbers = totals(canvass)
    assert body["figures"] == {
        "doors": 2,
        "knocked": 1,
        "visits": 2,
        "conversations": 1,
        "targets": 0,
        "targets_done": 0,
        "coverage_percent": numbers.coverage_percent,
    }
    assert numbers.coverage_percent == 50


def test_visits_give_the_door_turf_station_outcome_person_and_answers(campaign, api):
    canvass = CanvassFactory(campaign=campaign)
    question = QuestionFactory(canvass=canvass)
    station = station_in(campaign)
    turf = TurfFactory(canvass=canvass, station=station)
    door = DoorFactory(turf=turf, station=station, number="12", building="B")
    person = PersonFactory(campaign=campaign, support_level=1)
    talk = VisitFactory(
        door=door,
        outcome="opened",
        person=person,
        answers={str(question.pk): "Logement"},
        note="Très sympathique, parle de son voisin",
        recorded_at=NOW - datetime.timedelta(hours=2),
    )
    call = VisitFactory(door=None, turf=None, canvass=canvass, campaign=campaign, outcome="no_answer", recorded_at=NOW)

    body = api.get(f"/api/v1/canvassing/{canvass.pk}/visits").json()

    assert [row["id"] for row in body["results"]] == [talk.pk, call.pk]
    row = body["results"][0]
    assert row["door"] == {"id": door.pk, "street": "rue de siam", "number": "12", "building": "B", "stairwell": ""}
    assert row["turf"] == {"id": turf.pk, "name": turf.name} and row["station"] == station.code
    assert (row["outcome"], row["person_id"], row["answers"]) == ("opened", person.pk, {str(question.pk): "Logement"})
    assert "voisin" not in str(body) and "support" not in str(body)
    assert body["results"][1]["door"] is None and body["results"][1]["station"] is None
    assert body["results"][1]["person_id"] is None
    assert api.get(f"/api/v1/canvassing/{canvass.pk}/visits/{talk.pk}").json()["id"] == talk.pk


def test_visits_filter_by_outcome_station_and_date(campaign, api):
    canvass = CanvassFactory(campaign=campaign)
    here, there = station_in(campaign), station_in(campaign)
    old = VisitFactory(
        door=DoorFactory(turf=TurfFactory(canvass=canvass), station=here),
        outcome="refused",
        recorded_at=NOW - datetime.timedelta(days=3),
    )
    new = VisitFactory(door=DoorFactory(turf=TurfFactory(canvass=canvass), station=there), outcome="opened")
    path = f"/api/v1/canvassing/{canvass.pk}/visits"

    assert ids(api.get(path, {"outcome": "refused"})) == [old.pk]
    assert ids(api.get(path, {"station": there.code})) == [new.pk]
    assert ids(api.get(path, {"station": "nowhere"})) == []
    since = (NOW - datetime.timedelta(days=1)).isoformat()
    assert ids(api.get(path, {"since": since})) == [new.pk]
    assert ids(api.get(path, {"synced_since": since})) == [old.pk, new.pk]
    assert ids(api.get(path, {"sort": "recorded_at"})) == [old.pk, new.pk]
    assert api.get(path, {"outcome": "delighted"}).status_code == 422


def test_a_time_without_offset_is_read_in_the_servers_time_zone(campaign, api):
    canvass = CanvassFactory(campaign=campaign)
    recorded = datetime.datetime(2027, 3, 1, 10, 0, tzinfo=datetime.UTC)  # 11:00 in Paris
    visit = VisitFactory(door=DoorFactory(turf=TurfFactory(canvass=canvass)), recorded_at=recorded)
    path = f"/api/v1/canvassing/{canvass.pk}/visits"
    assert ids(api.get(path, {"since": "2027-03-01T10:30:00"})) == [visit.pk]
    assert ids(api.get(path, {"since": "2027-03-01T11:30:00"})) == []
    assert ids(api.get(path, {"since": "2027-03-01T10:30:00+00:00"})) == []


def test_erased_people_leave_their_visits_anonymous(campaign, api):
    from suffrage.privacy.erasure import person_erase

    canvass = CanvassFactory(campaign=campaign)
    question = QuestionFactory(canvass=canvass)
    person = PersonFactory(campaign=campaign)
    visit = VisitFactory(door=DoorFactory(turf=TurfFactory(canvass=canvass)), person=person, outcome="opened")
    visit.answers = {str(question.pk): "Écoles"}
    visit.save()

    person_erase(person=person, actor=None)

    row = api.get(f"/api/v1/canvassing/{canvass.pk}/visits/{visit.pk}").json()
    assert row["person_id"] is None and row["answers"] == {} and row["outcome"] == "opened"


def test_another_campaigns_canvass_and_visits_are_a_404(campaign, other_campaign, api):
    visit = VisitFactory(door=DoorFactory(turf=TurfFactory(canvass=CanvassFactory(campaign=other_campaign))))
    for path in (
        f"/api/v1/canvassing/{visit.canvass_id}",
        f"/api/v1/canvassing/{visit.canvass_id}/visits",
        f"/api/v1/canvassing/{visit.canvass_id}/visits/{visit.pk}",
    ):
        assert api.get(path).status_code == 404
    mine = CanvassFactory(campaign=campaign)
    assert api.get(f"/api/v1/canvassing/{mine.pk}/visits/{visit.pk}").status_code == 404


def test_reading_canvassing_needs_its_scope_and_is_audited(campaign, api_for):
    from suffrage.core.models import AuditLog

    canvass = CanvassFactory(campaign=campaign)
    assert api_for(campaign, scopes=["analytics:read"]).get(f"/api/v1/canvassing/{canvass.pk}").status_code == 403
    assert (
        api_for(campaign, scopes=["canvassing:read"]).get(f"/api/v1/canvassing/{canvass.pk}/visits").status_code == 200
    )
    assert AuditLog.objects.filter(action="api.call", changes__scope="canvassing:read").count() == 1


def test_a_nul_character_is_a_422_not_a_database_error(campaign, api):
    canvass = CanvassFactory(campaign=campaign)
    response = api.get(f"/api/v1/canvassing/{canvass.pk}/visits", {"station": "29019_0001\x00"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.station"
