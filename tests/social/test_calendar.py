"""The content calendar: a month of posts by day (when they went out, else when they
are planned, in the campaign's time zone), with their status and accounts, the days of
an electoral silence marked, and nothing of another campaign."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from suffrage.social import selectors
from suffrage.social.models import Post
from tests.factories import CalendarElectionFactory, PostFactory, PublicationFactory, SocialAccountFactory

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(day: int, hour: int, month: int = 6) -> datetime.datetime:
    return datetime.datetime(2027, month, day, hour, 0, tzinfo=PARIS)


@pytest.fixture
def month_of_posts(campaign):
    mastodon = SocialAccountFactory(campaign=campaign, network="mastodon", name="Masto")
    bluesky = SocialAccountFactory(campaign=campaign, network="bluesky", name="Ciel")
    planned = PostFactory(campaign=campaign, text="Meeting jeudi", status="scheduled", scheduled_at=at(3, 18))
    PublicationFactory(post=planned, account=mastodon)
    PublicationFactory(post=planned, account=bluesky)
    # Planned for the 9th, out on the 10th just after midnight in Paris (still the 9th in UTC).
    out = PostFactory(
        campaign=campaign,
        text="Merci à tous",
        status="published",
        scheduled_at=at(9, 20),
        published_at=datetime.datetime(2027, 6, 9, 22, 30, tzinfo=datetime.UTC),
    )
    PublicationFactory(post=out, account=mastodon, status="published")
    PostFactory(campaign=campaign, text="Brouillon sans date")
    PostFactory(campaign=campaign, text="Le mois suivant", status="scheduled", scheduled_at=at(12, 10, month=7))
    # Legislative rounds on 13 and 20 June 2027: silence from the 12th and the 19th.
    CalendarElectionFactory(
        campaign=campaign,
        name="Législatives",
        first_round_on=datetime.date(2027, 6, 13),
        second_round_on=datetime.date(2027, 6, 20),
    )
    return planned, out


def test_posts_are_on_the_day_they_go_out_in_the_campaigns_time_zone(campaign, month_of_posts):
    planned, out = month_of_posts
    month = selectors.calendar_month(campaign, datetime.date(2027, 6, 1))
    days = {day.day: day for week in month.weeks for day in week}
    assert days[datetime.date(2027, 6, 3)].posts == [planned]
    assert days[datetime.date(2027, 6, 10)].posts == [out]
    assert not days[datetime.date(2027, 6, 9)].posts
    assert [day.day.day for day in month.days_with_posts] == [3, 10]
    silent = sorted(day.day.day for day in days.values() if day.silence and day.in_month)
    assert silent == [12, 13, 19, 20]
    assert month.silences == [
        {"election": "Législatives", "days": [datetime.date(2027, 6, d) for d in (12, 13, 19, 20)]}
    ]
    assert month.unscheduled == 1
    assert (month.previous, month.next) == ("2027-05", "2027-07")
    # The grid starts on a Monday and shows whole weeks.
    assert month.weeks[0][0].day == datetime.date(2027, 5, 31) and not month.weeks[0][0].in_month
    assert all(len(week) == 7 for week in month.weeks)


def test_the_calendar_page(campaign, owner, english, month_of_posts):
    planned, out = month_of_posts
    page = english(owner).get(f"/c/{campaign.slug}/social/calendar/?month=2027-06").content.decode()
    assert "June 2027" in page
    assert f"/social/posts/{planned.pk}/" in page and "18:00 · Meeting jeudi" in page
    assert "Scheduled" in page and "Bluesky, Mastodon" in page
    assert f"/social/posts/{out.pk}/" in page and "00:30 · Merci à tous" in page
    assert "Electoral silence for “Législatives” on 4 days of this month" in page
    assert page.count('<span class="silence-mark">') == 4
    assert "Le mois suivant" not in page
    assert "?month=2027-07" in page and "?month=2027-05" in page
    assert "1 draft without a date" in page


def test_a_month_that_is_not_one_shows_the_current_month(campaign, owner, english):
    for value in ("2027-13", "juin", "2027-6", "<script>"):
        response = english(owner).get(f"/c/{campaign.slug}/social/calendar/", {"month": value})
        assert response.status_code == 200
        assert response.context["month"].first == selectors.month_from("", campaign)


def test_another_campaigns_posts_are_not_on_the_calendar(campaign, other_campaign, owner, english):
    PostFactory(campaign=other_campaign, text="Secret de Quimper", status="scheduled", scheduled_at=at(5, 9))
    page = english(owner).get(f"/c/{campaign.slug}/social/calendar/?month=2027-06").content.decode()
    assert "Secret de Quimper" not in page
    assert "No post this month." in page


def test_an_analyst_reads_the_calendar_a_volunteer_does_not(campaign, member, login):
    assert login(member("analyst")).get(f"/c/{campaign.slug}/social/calendar/").status_code == 200
    assert login(member("volunteer")).get(f"/c/{campaign.slug}/social/calendar/").status_code == 403


def test_a_day_shows_its_posts_in_time_order(campaign):
    late = PostFactory(campaign=campaign, status=Post.Status.SCHEDULED, scheduled_at=at(4, 20))
    early = PostFactory(campaign=campaign, status=Post.Status.SCHEDULED, scheduled_at=at(4, 8))
    month = selectors.calendar_month(campaign, datetime.date(2027, 6, 1))
    assert month.days_with_posts[0].posts == [early, late]
