"""Results of forms, petitions, events and calls to action: counts, conversion from
page views, submissions per day as an accessible SVG chart, and the breakdown by
polling station in aggregate only (small groups masked). Query counts are pinned."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from suffrage.core.roles import Role
from suffrage.engagement import selectors
from suffrage.engagement.models import PageView, Response
from suffrage.people.models import Person
from tests.factories import (
    ActionFactory,
    CallToActionFactory,
    EventFactory,
    PersonFactory,
    PollingStationFactory,
    PostalAddressFactory,
    RSVPFactory,
    SubmissionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(login):
    """Pages in English, whatever translations exist: the tests read the English strings."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def viewed(campaign, obj, count, day=None):
    PageView.objects.create(
        campaign=campaign, page=selectors.page_key(obj), day=day or timezone.localdate(), count=count
    )


def located(campaign, station):
    person = PersonFactory(campaign=campaign)
    PostalAddressFactory(person=person, polling_station=station)
    return person


def test_the_overview_counts_submissions_rsvps_views_and_conversion(campaign, owner, login):
    action = ActionFactory(campaign=campaign, title="Rejoignez-nous")
    SubmissionFactory.create_batch(3, action=action)
    SubmissionFactory(action=action, status="pending")
    viewed(campaign, action, 30)
    viewed(campaign, action, 10, day=timezone.localdate() - datetime.timedelta(days=1))
    event = EventFactory(campaign=campaign, capacity=10)
    RSVPFactory(event=event, guests=2, checked_in_at=timezone.now())
    RSVPFactory(event=event, status="waitlist")
    RSVPFactory(event=event, status="cancelled")
    actions = selectors.actions_with_counts(campaign)
    assert [(a.submitted, a.pending, a.views, a.conversion) for a in actions] == [(4, 1, 40, 10.0)]
    [counted] = selectors.events_with_counts(campaign)
    assert (counted.going, counted.going_seats, counted.waiting, counted.cancelled, counted.checked_in) == (
        1,
        3,
        1,
        1,
        1,
    )
    assert counted.seats_left == 7
    page = login(owner).get(reverse("engagement:overview", args=[campaign.slug])).content.decode()
    assert "Rejoignez-nous" in page and "10.0 %" in page


def test_conversion_is_left_empty_without_views():
    assert selectors.conversion(5, 0) is None
    assert selectors.conversion(1, 3) == 33.3


def test_call_to_action_counts_shares_by_network_and_shift_volunteers_by_name(campaign, owner, login):
    share = CallToActionFactory(campaign=campaign, kind="share", url="https://example.org")
    for network in ("facebook", "facebook", "whatsapp"):
        Response.objects.create(campaign=campaign, call=share, kind="click", detail=network)
    [calls] = [c for c in selectors.calls_with_counts(campaign) if c.pk == share.pk]
    assert calls.clicks == 3
    assert selectors.call_clicks_by_network(share) == [
        {"detail": "facebook", "total": 2},
        {"detail": "whatsapp", "total": 1},
    ]
    shift = CallToActionFactory(campaign=campaign, kind="shift", url="", slots=3)
    volunteer = PersonFactory(campaign=campaign, first_names="Anne", usage_name="Le Gall")
    Response.objects.create(campaign=campaign, call=shift, kind="commit", person=volunteer)
    page = login(owner).get(reverse("engagement:call_detail", args=[campaign.slug, shift.pk])).content.decode()
    assert "Anne Le Gall" in page and "2 places left." in page


def test_results_count_per_day_in_the_campaigns_time_zone(campaign, owner, login):
    action = ActionFactory(campaign=campaign, created_at=timezone.now() - datetime.timedelta(days=10))
    today = timezone.localdate()
    # 23:30 UTC in winter is already the next day in Paris.
    late = datetime.datetime(today.year, today.month, today.day, tzinfo=datetime.UTC) - datetime.timedelta(days=3)
    SubmissionFactory(action=action, created_at=late - datetime.timedelta(minutes=30))
    SubmissionFactory(action=action, created_at=late - datetime.timedelta(hours=5))
    results = selectors.action_results(action)
    counts = {bar.day: bar.count for bar in results.chart.bars if bar.count}
    assert sum(counts.values()) == 2
    assert results.chart.bars[-1].day == today
    assert len(results.chart.bars) >= 10


def test_the_chart_is_an_svg_with_a_title_and_a_table_beside_it(campaign, owner, login):
    action = ActionFactory(campaign=campaign)
    SubmissionFactory.create_batch(2, action=action)
    viewed(campaign, action, 8)
    page = login(owner).get(reverse("engagement:action_results", args=[campaign.slug, action.pk])).content.decode()
    assert '<svg viewBox="0 0' in page and 'role="img"' in page
    assert '<title id="chart-title">Submissions per day</title>' in page
    assert "<rect" in page and "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "The same figures as a table" in page
    assert "25.0 %" in page  # 2 submissions from 8 views


def test_a_long_running_form_draws_only_the_last_days():
    chart = selectors._chart({}, {}, datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    assert len(chart.bars) == selectors.CHART_DAYS and chart.truncated
    assert chart.bars[-1].day == datetime.date(2026, 12, 31)


def test_the_polling_station_breakdown_masks_groups_under_three(campaign, owner, login):
    action = ActionFactory(campaign=campaign)
    big = PollingStationFactory(code="29019_0001", name="École Jean Macé")
    small = PollingStationFactory(code="29019_0002", name="Mairie annexe")
    for _ in range(4):
        SubmissionFactory(action=action, person=located(campaign, big))
    SubmissionFactory(action=action, person=located(campaign, small))
    SubmissionFactory(action=action)  # no address
    SubmissionFactory.create_batch(2, action=action, person=factory_person_without_station(campaign))
    breakdown = selectors.action_results(action).stations
    assert [(row.code, row.count, row.shown) for row in breakdown.rows] == [
        ("29019_0001", 4, "4"),
        ("29019_0002", 1, "< 3"),
    ]
    assert (breakdown.not_located, breakdown.total) == (2, 7)
    page = login(owner).get(reverse("engagement:action_results", args=[campaign.slug, action.pk])).content.decode()
    assert "École Jean Macé" in page and "&lt; 3" in page and "Not located" in page


def factory_person_without_station(campaign):
    """One person with an address that geocoding did not place (signed twice: counted once)."""
    person = PersonFactory(campaign=campaign)
    PostalAddressFactory(person=person, polling_station=None)
    return person


def test_a_person_with_two_addresses_counts_once_at_their_first_located_one(campaign):
    event = EventFactory(campaign=campaign)
    first, second = PollingStationFactory(), PollingStationFactory()
    person = located(campaign, first)
    PostalAddressFactory(person=person, polling_station=second)
    RSVPFactory(event=event, person=person)
    RSVPFactory(event=event, person=located(campaign, first), status="cancelled")  # cancelled: not counted
    breakdown = selectors.event_results(event).stations
    assert [(row.code, row.count) for row in breakdown.rows] == [(first.code, 1)]
    assert breakdown.total == 1


def test_event_results_count_rsvps_and_check_ins(campaign, owner, login):
    event = EventFactory(campaign=campaign)
    RSVPFactory.create_batch(3, event=event)
    RSVPFactory(event=event, checked_in_at=timezone.now())
    RSVPFactory(event=event, status="cancelled")
    viewed(campaign, event, 20)
    results = selectors.event_results(event)
    assert (results.done, results.views, results.conversion, results.extra["checked_in"]) == (4, 20, 20.0, 1)
    page = login(owner).get(reverse("engagement:event_results", args=[campaign.slug, event.pk]))
    assert page.status_code == 200 and "RSVPs (not cancelled)" in page.content.decode()


def test_another_campaigns_page_views_do_not_count(campaign, other_campaign):
    action = ActionFactory(campaign=campaign)
    PageView.objects.create(campaign=other_campaign, page=selectors.page_key(action), day=timezone.localdate(), count=9)
    assert selectors.actions_with_counts(campaign)[0].views == 0


def test_an_analyst_reads_results_but_no_names(campaign, member, login):
    action = ActionFactory(campaign=campaign)
    SubmissionFactory(action=action, person=PersonFactory(campaign=campaign, first_names="Anne", usage_name="Secret"))
    page = login(member(Role.ANALYST)).get(reverse("engagement:action_results", args=[campaign.slug, action.pk]))
    assert page.status_code == 200 and "Secret" not in page.content.decode()


def _fill(campaign, station, count):
    for _ in range(count):
        action = ActionFactory(campaign=campaign)
        SubmissionFactory(action=action, person=located(campaign, station))
        viewed(campaign, action, 5)
        event = EventFactory(campaign=campaign)
        RSVPFactory(event=event, person=located(campaign, station))
        viewed(campaign, event, 5)
        CallToActionFactory(campaign=campaign)
    return action, event


def test_the_overview_takes_the_same_number_of_queries_however_many_objects(
    campaign, owner, login, django_assert_num_queries
):
    client = login(owner)
    station = PollingStationFactory()
    url = reverse("engagement:overview", args=[campaign.slug])
    client.get(url)  # the first visit also remembers the campaign as the user's last
    # session, user, membership; forms, events, calls and their page views; the menu's memberships
    for count in (1, 6):
        _fill(campaign, station, count)
        with django_assert_num_queries(10):
            assert client.get(url).status_code == 200
    assert Person.objects.filter(campaign=campaign).count() == 14


@pytest.mark.parametrize("kind", ["action", "event"])
def test_the_results_take_the_same_number_of_queries_however_many_answers(
    campaign, owner, login, django_assert_num_queries, kind
):
    client = login(owner)
    station = PollingStationFactory()
    action, event = _fill(campaign, station, 1)
    obj = action if kind == "action" else event
    url = reverse(f"engagement:{kind}_results", args=[campaign.slug, obj.pk])
    client.get(url)  # the first visit also remembers the campaign as the user's last
    for more in (0, 8):
        for _ in range(more):
            if kind == "action":
                SubmissionFactory(action=action, person=located(campaign, PollingStationFactory()))
            else:
                RSVPFactory(event=event, person=located(campaign, PollingStationFactory()))
        # session, user, membership, the object; per day, views per day, stations (2), one count; the menu
        with django_assert_num_queries(11):
            assert client.get(url).status_code == 200
