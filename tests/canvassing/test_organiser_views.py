"""The organisers' canvassing pages: a canvass and its area (stations from a ranking or
ticked, a drawn area, a segment), its survey, cutting turfs, assigning them, the live
dashboard, survey results with small counts hidden, revisit lists and walk lists."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from suffrage.canvassing import selectors
from suffrage.canvassing.models import Canvass, Question, Turf
from suffrage.core.models import AuditLog, Job
from suffrage.core.roles import Role
from tests.factories import (
    SQUARE,
    CanvassFactory,
    DoorFactory,
    MembershipFactory,
    PersonFactory,
    PriorityRankingFactory,
    QuestionFactory,
    SegmentFactory,
    TurfFactory,
    UserFactory,
    VisitFactory,
    station_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(login):
    """Pages in English, whatever the French catalogue says."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def canvass_data(**values):
    data = {
        "name": "Quartier Saint-Martin",
        "kind": "doors",
        "status": "draft",
        "starts_on": "2027-02-01",
        "ends_on": "2027-03-13",
        "goal_doors": "2000",
        "goal_conversations": "500",
        "turf_size": "60",
        "script": "Bonjour, je suis bénévole pour **Brest 2027**.",
        "area_kind": "stations",
        "ranking": "",
        "top": "",
        "polygon": "",
        "segment": "",
    }
    data.update(values)
    return data


@pytest.fixture
def organiser(member):
    return member(Role.ORGANISER)


@pytest.fixture
def client_(organiser, login):
    return login(organiser)


def new_canvass(client, campaign, **values):
    return client.post(reverse("canvassing:new", args=[campaign.slug]), canvass_data(**values))


# --- Creating and editing a canvass ------------------------------------------------------------------


def test_an_organiser_takes_the_best_stations_of_a_saved_ranking(campaign, client_):
    first, second, third = (station_in(campaign) for _ in range(3))
    ranking = PriorityRankingFactory(
        campaign=campaign,
        scores=[
            {"station": code, "score": score} for code, score in ((second.code, 9), (third.code, 5), (first.code, 1))
        ],
    )
    response = new_canvass(client_, campaign, ranking=ranking.pk, top="2")
    canvass = Canvass.objects.get(name="Quartier Saint-Martin")
    assert response.status_code == 302
    assert response["Location"] == reverse("canvassing:detail", args=[campaign.slug, canvass.pk])
    assert canvass.area == {"stations": [second.code, third.code], "ranking": ranking.pk, "top": 2}
    assert canvass.goal_doors == 2000 and canvass.created_by is not None
    assert AuditLog.objects.filter(action="canvass.create", object_id=str(canvass.pk)).exists()
    page = client_.get(response["Location"]).content.decode()
    assert "Area: 2 polling stations" in page and ranking.name in page


def test_ticked_stations_make_the_area_when_no_ranking_is_chosen(campaign, client_):
    first, second = station_in(campaign), station_in(campaign)
    new_canvass(client_, campaign, stations=[first.code, second.code])
    assert Canvass.objects.get().area == {"stations": [first.code, second.code]}


def test_a_ranking_without_how_many_stations_is_refused(campaign, client_):
    station = station_in(campaign)
    ranking = PriorityRankingFactory(campaign=campaign, scores=[{"station": station.code, "score": 1}])
    page = new_canvass(client_, campaign, ranking=ranking.pk).content.decode()
    assert "Say how many of the ranking" in page
    assert not Canvass.objects.exists()


def test_a_station_of_another_campaign_cannot_be_ticked(campaign, other_campaign, client_):
    foreign = station_in(other_campaign, commune__code="29232", commune__name="Quimper")
    response = new_canvass(client_, campaign, stations=[foreign.code])
    assert response.status_code == 200
    assert not Canvass.objects.exists()


def test_an_area_drawn_or_pasted_as_geojson_is_kept_as_a_polygon(campaign, client_):
    feature = {"type": "Feature", "properties": {"name": "Saint-Martin"}, "geometry": SQUARE}
    new_canvass(client_, campaign, area_kind="polygon", polygon=json.dumps(feature))
    assert Canvass.objects.get().area == {"polygon": SQUARE}


def test_an_area_that_is_not_geojson_is_refused_with_a_message(campaign, client_):
    page = new_canvass(client_, campaign, area_kind="polygon", polygon="rue de Siam").content.decode()
    assert "not valid GeoJSON" in page
    assert not Canvass.objects.exists()


def test_an_area_with_coordinates_out_of_range_is_refused(campaign, client_):
    shape = {"type": "Polygon", "coordinates": [[[400, 48], [401, 48], [401, 49], [400, 48]]]}
    response = new_canvass(client_, campaign, area_kind="polygon", polygon=json.dumps(shape))
    assert response.status_code == 200
    assert "longitude and latitude" in response.content.decode()
    assert not Canvass.objects.exists()


def test_a_segment_of_people_who_asked_for_a_visit_makes_the_area(campaign, client_):
    segment = SegmentFactory(campaign=campaign, name="Demandes de visite")
    new_canvass(client_, campaign, area_kind="segment", segment=segment.pk)
    assert Canvass.objects.get().area == {"segment": segment.pk}


def test_a_phone_bank_calls_a_segment(campaign, client_):
    segment = SegmentFactory(campaign=campaign)
    station = station_in(campaign)
    page = new_canvass(client_, campaign, kind="phone", stations=[station.code]).content.decode()
    assert "A phone bank calls the people of a segment" in page
    assert not Canvass.objects.exists()
    new_canvass(client_, campaign, kind="phone", area_kind="segment", segment=segment.pk)
    assert Canvass.objects.get().kind == "phone"


def test_the_new_phone_bank_link_preselects_the_kind_and_a_segment(campaign, client_):
    page = client_.get(reverse("canvassing:new", args=[campaign.slug]) + "?phone=1").content.decode()
    assert '<option value="phone" selected>' in page
    assert re.search(r'value="segment"[^>]*checked', page)


def test_editing_a_canvass_shows_its_area_and_keeps_its_changes(campaign, client_):
    first, second = station_in(campaign), station_in(campaign)
    canvass = CanvassFactory(campaign=campaign, area={"stations": [first.code]}, goal_doors=10)
    url = reverse("canvassing:edit", args=[campaign.slug, canvass.pk])
    page = client_.get(url).content.decode()
    assert f'value="{first.code}"' in page and "checked" in page.split(f'value="{first.code}"')[1][:40]
    client_.post(url, canvass_data(name=canvass.name, goal_doors="30", stations=[first.code, second.code]))
    canvass.refresh_from_db()
    assert canvass.goal_doors == 30 and canvass.area == {"stations": [first.code, second.code]}
    change = AuditLog.objects.get(action="canvass.update")
    assert change.changes["goal_doors"] == [10, 30]


def test_a_canvass_that_ends_before_it_starts_is_refused(campaign, client_):
    station = station_in(campaign)
    page = new_canvass(client_, campaign, stations=[station.code], ends_on="2027-01-01").content.decode()
    assert "The end comes before the start." in page
    assert not Canvass.objects.exists()


def test_a_canvass_with_doors_cannot_become_a_phone_bank(campaign, client_):
    door = DoorFactory(turf__canvass__campaign=campaign)
    canvass = door.canvass
    segment = SegmentFactory(campaign=campaign)
    url = reverse("canvassing:edit", args=[campaign.slug, canvass.pk])
    page = client_.post(url, canvass_data(kind="phone", area_kind="segment", segment=segment.pk)).content.decode()
    assert "its kind cannot change" in page
    canvass.refresh_from_db()
    assert canvass.kind == "doors"


# --- The survey -------------------------------------------------------------------------------------------


def test_an_organiser_writes_the_survey_questions(campaign, client_):
    canvass = CanvassFactory(campaign=campaign)
    url = reverse("canvassing:questions", args=[campaign.slug, canvass.pk])
    client_.post(
        url, {"kind": "single", "text": "Votre priorité ?", "choices_text": "Logement\n\nTransports\n", "position": 1}
    )
    client_.post(url, {"kind": "scale", "text": "Irez-vous voter ?", "choices_text": "ignored", "position": 2})
    single, scale = Question.objects.filter(canvass=canvass)
    assert (single.text, single.choices) == ("Votre priorité ?", ["Logement", "Transports"])
    assert (scale.kind, scale.choices) == ("scale", [])
    page = client_.get(url).content.decode()
    assert "Logement · Transports" in page


def test_a_choice_question_needs_two_choices(campaign, client_):
    canvass = CanvassFactory(campaign=campaign)
    url = reverse("canvassing:questions", args=[campaign.slug, canvass.pk])
    page = client_.post(url, {"kind": "multiple", "text": "Quels sujets ?", "choices_text": "Logement", "position": 1})
    assert "at least two choices" in page.content.decode()
    assert not Question.objects.exists()


def test_an_organiser_edits_then_removes_a_question(campaign, client_):
    question = QuestionFactory(canvass__campaign=campaign)
    edit = reverse("canvassing:question_edit", args=[campaign.slug, question.pk])
    client_.post(edit, {"kind": "single", "text": "Sujet prioritaire ?", "choices_text": "A\nB", "position": 3})
    question.refresh_from_db()
    assert (question.text, question.choices, question.position) == ("Sujet prioritaire ?", ["A", "B"], 3)
    client_.post(reverse("canvassing:question_delete", args=[campaign.slug, question.pk]))
    assert not Question.objects.exists()
    assert AuditLog.objects.filter(action="canvass.question_delete").exists()


# --- Cutting into turfs -------------------------------------------------------------------------------


def test_cut_into_turfs_starts_a_job_and_shows_its_progress_page(campaign, client_):
    station = station_in(campaign)
    canvass = CanvassFactory(campaign=campaign, area={"stations": [station.code]})
    response = client_.post(reverse("canvassing:plan", args=[campaign.slug, canvass.pk]))
    job = Job.objects.get(kind="canvass_plan")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:job", args=[campaign.slug, job.pk])
    assert job.params == {"canvass_id": canvass.pk}
    assert "<progress" in client_.get(response["Location"]).content.decode()


def test_cut_into_turfs_without_an_area_says_why(campaign, client_):
    canvass = CanvassFactory(campaign=campaign, area={})
    response = client_.post(reverse("canvassing:plan", args=[campaign.slug, canvass.pk]), follow=True)
    assert "Choose the canvass" in response.content.decode()
    assert not Job.objects.filter(kind="canvass_plan").exists()


def test_an_analyst_sees_the_dashboard_without_the_buttons_that_change_it(campaign, member, login):
    canvass = CanvassFactory(campaign=campaign)
    page = login(member(Role.ANALYST)).get(reverse("canvassing:detail", args=[campaign.slug, canvass.pk]))
    assert page.status_code == 200
    assert "Cut into turfs" not in page.content.decode()


# --- Assigning turfs ---------------------------------------------------------------------------------------


def test_an_organiser_assigns_a_turf_with_an_expiry_then_releases_it(campaign, client_, volunteer):
    turf = TurfFactory(canvass__campaign=campaign)
    url = reverse("canvassing:turf_assign", args=[campaign.slug, turf.pk])
    response = client_.post(url, {"volunteer": volunteer.pk, "expires_local": "2099-06-01T20:00", "back": "turfs"})
    assert response["Location"] == reverse("canvassing:turfs", args=[campaign.slug, turf.canvass_id])
    turf.refresh_from_db()
    assert turf.assigned_to == volunteer
    assert turf.expires_at == datetime.datetime(2099, 6, 1, 18, 0, tzinfo=datetime.UTC)  # Paris, summer
    client_.post(reverse("canvassing:turf_release", args=[campaign.slug, turf.pk]))
    turf.refresh_from_db()
    assert turf.assigned_to is None


def test_a_turf_held_by_a_volunteer_cannot_be_given_to_another(campaign, client_, volunteer):
    other = UserFactory(first_name="Yann", last_name="Le Gall")
    MembershipFactory(campaign=campaign, user=other, role=Role.VOLUNTEER)
    turf = TurfFactory(canvass__campaign=campaign)
    url = reverse("canvassing:turf_assign", args=[campaign.slug, turf.pk])
    client_.post(url, {"volunteer": volunteer.pk})
    response = client_.post(url, {"volunteer": other.pk}, follow=True)
    assert "release it before giving it to someone else" in response.content.decode()
    turf.refresh_from_db()
    assert turf.assigned_to == volunteer


def test_a_turf_cannot_go_to_someone_outside_the_campaign(campaign, client_, outsider):
    turf = TurfFactory(canvass__campaign=campaign)
    client_.post(reverse("canvassing:turf_assign", args=[campaign.slug, turf.pk]), {"volunteer": outsider.pk})
    turf.refresh_from_db()
    assert turf.assigned_to is None


def test_the_turfs_page_lists_turfs_with_their_volunteer_and_offers_only_canvassers(
    campaign, client_, volunteer, member
):
    analyst = member(Role.ANALYST)
    turf = TurfFactory(canvass__campaign=campaign, name="Secteur Jaurès")
    DoorFactory(turf=turf, lon=-4.485, lat=48.395)
    Turf.objects.filter(pk=turf.pk).update(assigned_to=volunteer)
    page = client_.get(reverse("canvassing:turfs", args=[campaign.slug, turf.canvass_id])).content.decode()
    assert "Secteur Jaurès" in page and volunteer.get_full_name() in page
    assert f'<option value="{volunteer.pk}" selected>' in page
    assert f'<option value="{analyst.pk}"' not in page  # an analyst does not canvass
    assert 'id="turfs-map"' in page


def test_the_map_data_gives_doors_with_their_last_outcome_and_turf_outlines(campaign, client_):
    turf = TurfFactory(canvass__campaign=campaign)
    knocked = DoorFactory(turf=turf, lon=-4.485, lat=48.395)
    DoorFactory(turf=turf, lon=-4.486, lat=48.396)
    DoorFactory(turf=turf, lon=None, lat=None)  # not located: not on the map
    VisitFactory(door=knocked, outcome="not_home", recorded_at=timezone.now() - datetime.timedelta(hours=2))
    VisitFactory(door=knocked, outcome="opened", person=PersonFactory(campaign=campaign, usage_name="Kerouac"))
    data = client_.get(reverse("canvassing:map_data", args=[campaign.slug, turf.canvass_id])).json()
    doors = [f for f in data["features"] if f["properties"]["kind"] == "door"]
    outlines = [f for f in data["features"] if f["properties"]["kind"] == "turf"]
    assert sorted(door["properties"]["outcome"] for door in doors) == ["", "opened"]
    assert [outline["properties"]["turf"] for outline in outlines] == [turf.pk]
    assert outlines[0]["geometry"]["type"] == "Polygon"
    assert "Kerouac" not in json.dumps(data)


def test_the_walk_list_gives_addresses_in_order_and_never_a_name(campaign, client_):
    turf = TurfFactory(canvass__campaign=campaign)
    second = DoorFactory(turf=turf, street="Rue Jean Jaurès", number="12", building="B", stairwell="2", position=2)
    first = DoorFactory(turf=turf, street="Rue de Siam", number="3", floors="RDC, 1", dwellings=4, position=1)
    VisitFactory(door=first, outcome="opened", person=PersonFactory(campaign=campaign, usage_name="Kerouac"))
    page = client_.get(reverse("canvassing:turf", args=[campaign.slug, turf.pk])).content.decode()
    assert page.index(first.street) < page.index(second.street)
    assert "RDC, 1" in page and "Talked" in page
    assert "Kerouac" not in page


# --- The dashboard -------------------------------------------------------------------------------------------


@pytest.fixture
def knocked(campaign):
    """Two stations, a turf in each, two volunteers' visits: the numbers of the dashboard."""
    north, south = station_in(campaign, name="École Nord"), station_in(campaign, name="École Sud")
    canvass = CanvassFactory(campaign=campaign, goal_doors=10, goal_conversations=4)
    ann = UserFactory(first_name="Anne", last_name="Bodénès")
    bob = UserFactory(first_name="Bob", last_name="Le Bris")
    turf_north = TurfFactory(canvass=canvass, station=north, name="Nord 1")
    turf_south = TurfFactory(canvass=canvass, station=south, name="Sud 1")
    d1, d2, _d3 = (DoorFactory(turf=turf_north, station=north) for _ in range(3))
    d4, d5 = (DoorFactory(turf=turf_south, station=south) for _ in range(2))
    VisitFactory(door=d1, volunteer=ann, outcome="opened")
    VisitFactory(door=d2, volunteer=ann, outcome="not_home")
    VisitFactory(door=d4, volunteer=bob, outcome="opened")
    VisitFactory(door=d4, volunteer=bob, outcome="opened")  # a second dwelling behind the same door
    VisitFactory(door=d5, volunteer=bob, outcome="refused")
    return {"canvass": canvass, "north": north, "south": south, "ann": ann, "bob": bob}


def test_the_dashboard_counts_doors_and_conversations_per_station_turf_and_volunteer(knocked):
    canvass = knocked["canvass"]
    stations = {row.key: (row.doors, row.knocked, row.conversations) for row in selectors.by_station(canvass)}
    assert stations == {knocked["north"].pk: (3, 2, 1), knocked["south"].pk: (2, 2, 2)}
    turfs = {row.label: (row.doors, row.knocked, row.conversations) for row in selectors.by_turf(canvass)}
    assert turfs == {"Nord 1": (3, 2, 1), "Sud 1": (2, 2, 2)}
    people = {row.label: (row.knocked, row.visits, row.conversations) for row in selectors.by_volunteer(canvass)}
    assert people == {"Anne Bodénès": (2, 2, 1), "Bob Le Bris": (2, 3, 2)}
    numbers = selectors.totals(canvass)
    assert (numbers.doors, numbers.knocked, numbers.conversations) == (5, 4, 3)
    assert (numbers.knocked_percent, numbers.conversations_percent) == (40, 75)


def test_the_dashboard_page_shows_the_numbers_against_the_goal_and_refreshes_itself(campaign, client_, knocked):
    url = reverse("canvassing:detail", args=[campaign.slug, knocked["canvass"].pk])
    page = client_.get(url).content.decode()
    assert '<progress value="40" max="100"' in page and '<progress value="75" max="100"' in page
    assert 'hx-trigger="every 30s"' in page
    assert "École Nord" in page and "Anne Bodénès" in page
    partial = client_.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('<div id="dashboard"') and "<html" not in partial
    assert "Bob Le Bris" in partial


def test_the_list_and_the_dashboard_take_a_fixed_number_of_queries(
    campaign, client_, knocked, django_assert_num_queries
):
    list_url = reverse("canvassing:list", args=[campaign.slug])
    dashboard_url = reverse("canvassing:detail", args=[campaign.slug, knocked["canvass"].pk])
    client_.get(list_url)  # warm the session and the menu's caches
    with django_assert_num_queries(8):
        client_.get(list_url)
    with django_assert_num_queries(16):
        client_.get(dashboard_url)
    # More canvasses, turfs, doors and volunteers: the same number of queries.
    for _ in range(3):
        CanvassFactory(campaign=campaign)
    more = TurfFactory(canvass=knocked["canvass"], station=knocked["north"])
    for _ in range(4):
        VisitFactory(door=DoorFactory(turf=more, station=knocked["north"]), volunteer=UserFactory())
    with django_assert_num_queries(8):
        client_.get(list_url)
    with django_assert_num_queries(16):
        client_.get(dashboard_url)


# --- Survey results and revisits ---------------------------------------------------------------------------------


def test_survey_results_hide_small_counts_and_never_list_free_text(campaign, client_):
    canvass = CanvassFactory(campaign=campaign)
    topic = QuestionFactory(canvass=canvass, choices=["Logement", "Transports", "Écoles"])
    comment = QuestionFactory(canvass=canvass, kind="text", choices=[], text="Un commentaire ?")
    for answer in ["Logement"] * 2 + ["Transports"] * 5:
        VisitFactory(
            door__turf__canvass=canvass,
            outcome="opened",
            answers={str(topic.pk): answer, str(comment.pk): "Mon voisin M. Dupont"},
        )
    VisitFactory(door__turf__canvass=canvass, outcome="not_home", answers={str(topic.pk): "Écoles"})
    results = {result.question.pk: result for result in selectors.survey_results(canvass)}
    assert results[topic.pk].rows == [("Logement", "< 3"), ("Transports", "5"), ("Écoles", "0")]
    assert results[comment.pk].answered == 7 and results[comment.pk].rows == []
    page = client_.get(reverse("canvassing:results", args=[campaign.slug, canvass.pk])).content.decode()
    assert "&lt; 3" in page
    assert "Dupont" not in page
    assert "Answered: 7" in page


def test_the_revisit_list_holds_doors_last_found_closed_or_asked_to_come_back(campaign, client_):
    canvass = CanvassFactory(campaign=campaign)
    turf = TurfFactory(canvass=canvass, name="Recouvrance")
    earlier = timezone.now() - datetime.timedelta(days=1)
    not_home = DoorFactory(turf=turf, street="Rue Vauban")
    come_back = DoorFactory(turf=turf, street="Rue de la Porte")
    answered_later = DoorFactory(turf=turf, street="Rue Borda")
    refused = DoorFactory(turf=turf, street="Rue Saint-Malo")
    DoorFactory(turf=turf, street="Rue de Pontaniou")  # never knocked: the first pass is not over
    VisitFactory(door=not_home, outcome="not_home")
    VisitFactory(door=come_back, outcome="come_back")
    VisitFactory(door=answered_later, outcome="not_home", recorded_at=earlier)
    VisitFactory(door=answered_later, outcome="opened")
    VisitFactory(door=refused, outcome="refused")
    groups = selectors.revisit_doors(canvass)
    assert [(group_turf, [door.pk for door in doors]) for group_turf, doors in groups] == [
        (turf, [not_home.pk, come_back.pk])
    ]
    page = client_.get(reverse("canvassing:revisits", args=[campaign.slug, canvass.pk])).content.decode()
    assert "Rue Vauban" in page and "Rue de la Porte" in page
    assert "Rue Borda" not in page and "Rue Saint-Malo" not in page and "Rue de Pontaniou" not in page
    assert "Give again for a second pass" in page


def test_a_second_pass_gives_the_turf_again_even_while_someone_holds_it(campaign, client_, volunteer):
    other = UserFactory()
    MembershipFactory(campaign=campaign, user=other, role=Role.VOLUNTEER)
    turf = TurfFactory(canvass__campaign=campaign)
    client_.post(reverse("canvassing:turf_assign", args=[campaign.slug, turf.pk]), {"volunteer": volunteer.pk})
    response = client_.post(
        reverse("canvassing:turf_second_pass", args=[campaign.slug, turf.pk]),
        {"volunteer": other.pk, "expires_local": "2099-01-10T12:00", "back": "revisits"},
    )
    assert response["Location"] == reverse("canvassing:revisits", args=[campaign.slug, turf.canvass_id])
    turf.refresh_from_db()
    assert turf.assigned_to == other
    assert turf.expires_at == datetime.datetime(2099, 1, 10, 11, 0, tzinfo=datetime.UTC)


def test_the_menu_leads_organisers_to_canvassing_and_volunteers_to_their_turfs(campaign, client_, volunteer, login):
    organiser_page = client_.get(reverse("core:dashboard", args=[campaign.slug])).content.decode()
    canvassing = f'href="{reverse("canvassing:list", args=[campaign.slug])}"'
    assert canvassing in organiser_page
    volunteer_page = login(volunteer).get(reverse("core:dashboard", args=[campaign.slug])).content.decode()
    assert canvassing not in volunteer_page
    assert f'href="{reverse("canvassing_app:home", args=[campaign.slug])}"' in volunteer_page
    assert f'href="{reverse("canvassing:calls", args=[campaign.slug])}"' in volunteer_page
