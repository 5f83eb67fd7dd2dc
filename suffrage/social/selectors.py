"""Reads of the social pages: the content calendar (a month of posts, the electoral
silence marked) and the reports — who came from each network and each post, and what
they did next, in aggregate only (a group under three shows as "< 3", as in the
engagement and canvassing reports)."""

from __future__ import annotations

import calendar as month_calendar
import datetime
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.formats import date_format

from suffrage.canvassing.models import Canvass, Outcome, Visit
from suffrage.core.models import CalendarElection, Campaign
from suffrage.engagement.models import RSVP, PageView, Submission
from suffrage.engagement.selectors import shown_count
from suffrage.people.models import Channel, ConsentEvent, Person, SocialProfile
from suffrage.social.links import parse_referral
from suffrage.social.models import Network, NetworkArrival, Post

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Person ids per query (well under SQLite's limit on variables).
CHUNK = 2000


def _zone(campaign: Campaign) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(campaign.time_zone)


# --- Calendar ---------------------------------------------------------------------------------


@dataclass
class Day:
    day: datetime.date
    in_month: bool
    today: bool
    silence: bool
    posts: list[Post] = field(default_factory=list)


@dataclass
class Month:
    first: datetime.date
    label: str
    weeks: list[list[Day]]
    weekdays: list[tuple[str, str]]  # (abbreviation, full name)
    previous: str
    next: str
    silences: list[dict[str, Any]]
    unscheduled: int

    @property
    def days_with_posts(self) -> list[Day]:
        return [day for week in self.weeks for day in week if day.in_month and day.posts]


def month_from(value: str, campaign: Campaign) -> datetime.date:
    """The first day of the month asked for ("2027-06"), or of this month."""
    match = MONTH.match(value or "")
    if match and 1 <= int(match.group(2)) <= 12 and 1900 < int(match.group(1)) < 3000:
        return datetime.date(int(match.group(1)), int(match.group(2)), 1)
    return timezone.localdate(timezone=_zone(campaign)).replace(day=1)


def _shift(first: datetime.date, months: int) -> datetime.date:
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def post_day(post: Post, zone: zoneinfo.ZoneInfo) -> datetime.date | None:
    """The day a post is on the calendar: when it went out, else when it is planned."""
    moment = post.published_at or post.scheduled_at
    return timezone.localtime(moment, zone).date() if moment else None


def silence_days(campaign: Campaign, first: datetime.date, last: datetime.date) -> dict[datetime.date, str]:
    """{day: election} for the days an electoral silence covers, at least in part."""
    zone = _zone(campaign)
    days: dict[datetime.date, str] = {}
    for election in CalendarElection.objects.filter(campaign=campaign, send_lock=True).select_related("campaign"):
        for start, end in election.silence_windows():
            day = timezone.localtime(start, zone).date()
            until = timezone.localtime(end - datetime.timedelta(microseconds=1), zone).date()
            while day <= until:
                if first <= day <= last:
                    days[day] = election.name
                day += datetime.timedelta(days=1)
    return days


def calendar_month(campaign: Campaign, first: datetime.date) -> Month:
    zone = _zone(campaign)
    grid = month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start = datetime.datetime.combine(grid[0][0], datetime.time(0), zone)
    end = datetime.datetime.combine(grid[-1][-1] + datetime.timedelta(days=1), datetime.time(0), zone)
    found = (
        Post.objects.filter(campaign=campaign)
        .filter(
            Q(published_at__gte=start, published_at__lt=end)
            | Q(published_at__isnull=True, scheduled_at__gte=start, scheduled_at__lt=end)
        )
        .prefetch_related("publications__account")
        .order_by("pk")
    )
    by_day: dict[datetime.date, list[Post]] = defaultdict(list)
    for post in found:
        day = post_day(post, zone)
        if day is not None:
            by_day[day].append(post)
    for day_posts in by_day.values():
        day_posts.sort(key=lambda post: (post.published_at or post.scheduled_at, post.pk))
    silence = silence_days(campaign, grid[0][0], grid[-1][-1])
    today = timezone.localdate(timezone=zone)
    weeks = [
        [Day(day, day.month == first.month, day == today, day in silence, by_day.get(day, [])) for day in week]
        for week in grid
    ]
    names = sorted(set(silence.values()))
    silences = [
        {"election": name, "days": [day for day, named in sorted(silence.items()) if named == name]} for name in names
    ]
    unscheduled = Post.objects.filter(
        campaign=campaign, status=Post.Status.DRAFT, scheduled_at__isnull=True, published_at__isnull=True
    ).count()
    return Month(
        first=first,
        label=date_format(first, "F Y"),
        weeks=weeks,
        weekdays=[(str(WEEKDAYS_ABBR[day]), str(WEEKDAYS[day])) for day in range(7)],
        previous=_shift(first, -1).strftime("%Y-%m"),
        next=_shift(first, 1).strftime("%Y-%m"),
        silences=silences,
        unscheduled=unscheduled,
    )


# --- What people did next -------------------------------------------------------------------


@dataclass
class NextSteps:
    """Of a group of people, how many did each thing after the moment they came."""

    people: int = 0
    signed: int = 0  # filled a form or signed a petition
    rsvped: int = 0  # said they would come to an event
    came: int = 0  # were checked in at an event
    met: int = 0  # were met at their door
    email: int = 0  # agreed to receive emails
    sms: int = 0  # agreed to receive text messages

    COLUMNS = ("people", "signed", "rsvped", "came", "met", "email", "sms")

    @property
    def shown(self) -> list[str]:
        return [shown_count(getattr(self, name)) for name in self.COLUMNS]


@dataclass
class Activity:
    """What the people concerned did, as (moment, …) per person."""

    submissions: dict[int, list[datetime.datetime]] = field(default_factory=lambda: defaultdict(list))
    rsvps: dict[int, list[datetime.datetime]] = field(default_factory=lambda: defaultdict(list))
    check_ins: dict[int, list[datetime.datetime]] = field(default_factory=lambda: defaultdict(list))
    visits: dict[int, list[datetime.datetime]] = field(default_factory=lambda: defaultdict(list))
    email: dict[int, list[datetime.datetime]] = field(default_factory=lambda: defaultdict(list))
    sms: dict[int, list[datetime.datetime]] = field(default_factory=lambda: defaultdict(list))


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for index in range(0, len(ordered), CHUNK):
        yield ordered[index : index + CHUNK]


def activity_of(campaign: Campaign, person_ids: set[int]) -> Activity:
    """Every later act the reports count, for these people: one query per kind and chunk."""
    found = Activity()
    for chunk in _chunks(person_ids):
        for person_id, at in Submission.objects.filter(campaign=campaign, person_id__in=chunk).values_list(
            "person_id", "created_at"
        ):
            found.submissions[person_id].append(at)
        rsvps = RSVP.objects.filter(campaign=campaign, person_id__in=chunk)
        for person_id, at, status, checked_in in rsvps.values_list(
            "person_id", "created_at", "status", "checked_in_at"
        ):
            if status != RSVP.Status.CANCELLED:
                found.rsvps[person_id].append(at)
            if checked_in is not None:
                found.check_ins[person_id].append(checked_in)
        visits = Visit.objects.filter(
            campaign=campaign, person_id__in=chunk, outcome=Outcome.OPENED, canvass__kind=Canvass.Kind.DOORS
        )
        for person_id, at in visits.values_list("person_id", "recorded_at"):
            found.visits[person_id].append(at)
        consents = ConsentEvent.objects.filter(
            campaign=campaign, person_id__in=chunk, granted=True, channel__in=[Channel.EMAIL, Channel.SMS]
        )
        for person_id, channel, at in consents.values_list("person_id", "channel", "at"):
            (found.email if channel == Channel.EMAIL else found.sms)[person_id].append(at)
    return found


def next_steps(group: dict[int, datetime.datetime], activity: Activity) -> NextSteps:
    """`group`: each person and the moment they came; their acts strictly after it count."""
    steps = NextSteps(people=len(group))
    for person_id, since in group.items():
        steps.signed += _after(activity.submissions, person_id, since)
        steps.rsvped += _after(activity.rsvps, person_id, since)
        steps.came += _after(activity.check_ins, person_id, since)
        steps.met += _after(activity.visits, person_id, since)
        steps.email += _after(activity.email, person_id, since)
        steps.sms += _after(activity.sms, person_id, since)
    return steps


def _after(moments: dict[int, list[datetime.datetime]], person_id: int, since: datetime.datetime) -> bool:
    return any(moment > since for moment in moments.get(person_id, ()))


def _keep_earliest(group: dict[int, datetime.datetime], person_id: int, at: datetime.datetime) -> None:
    if person_id not in group or at < group[person_id]:
        group[person_id] = at


# --- Who came through the posts -------------------------------------------------------------


@dataclass
class Referred:
    """People who came through posts' tracked links: by post code and by network."""

    by_post: dict[str, dict[int, datetime.datetime]] = field(default_factory=lambda: defaultdict(dict))
    by_post_network: dict[str, dict[str, set[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    by_network: dict[str, dict[int, datetime.datetime]] = field(default_factory=lambda: defaultdict(dict))
    submissions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rsvps: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def referred(campaign: Campaign) -> Referred:
    found = Referred()
    rows: list[tuple[str, int, datetime.datetime, str]] = [
        (referral, person_id, at, "submission")
        for referral, person_id, at in Submission.objects.filter(
            campaign=campaign, referral__startswith="post-"
        ).values_list("referral", "person_id", "created_at")
    ]
    for referral, person_id, at, status in RSVP.objects.filter(
        campaign=campaign, referral__startswith="post-"
    ).values_list("referral", "person_id", "created_at", "status"):
        rows.append((referral, person_id, at, "rsvp" if status != RSVP.Status.CANCELLED else "cancelled"))
    for referral, person_id, at, kind in rows:
        parsed = parse_referral(referral)
        if parsed is None:
            continue
        code, network = parsed
        _keep_earliest(found.by_post[code], person_id, at)
        _keep_earliest(found.by_network[network], person_id, at)
        found.by_post_network[code][network].add(person_id)
        if kind == "submission":
            found.submissions[code] += 1
        elif kind == "rsvp":
            found.rsvps[code] += 1
    return found


def views_by_post(campaign: Campaign) -> dict[str, int]:
    """Views of the campaign's pages through each post's links (public.py counts them
    as "via:<referral>")."""
    totals: dict[str, int] = defaultdict(int)
    rows = (
        PageView.objects.filter(campaign=campaign, page__startswith="via:post-")
        .values("page")
        .annotate(total=Sum("count"))
        .values_list("page", "total")
    )
    for page, total in rows:
        parsed = parse_referral(page.removeprefix("via:"))
        if parsed is not None:
            totals[parsed[0]] += int(total or 0)
    return totals


# --- The audience brought in from each network ---------------------------------------------


def _merged_into(campaign: Campaign) -> dict[int, int]:
    """{id of a merged record: id of the record kept}."""
    kept: dict[int, int] = {}
    for person_id, merged in (
        Person.objects.filter(campaign=campaign).exclude(merged_ids=[]).values_list("pk", "merged_ids")
    ):
        for old in merged or []:
            if isinstance(old, int):
                kept[old] = person_id
    return kept


def audience(campaign: Campaign) -> dict[str, dict[int, datetime.datetime]]:
    """{network: {person: when they came}}: people brought in or matched by the
    network's imports, leads and suggestions (since then), and people with a profile on
    the network entered otherwise (since they entered the base)."""
    groups: dict[str, dict[int, datetime.datetime]] = defaultdict(dict)
    merged = _merged_into(campaign)
    arrivals = list(NetworkArrival.objects.filter(campaign=campaign).values_list("network", "person_id", "at"))
    mapped = [(network, merged.get(person_id, person_id), at) for network, person_id, at in arrivals]
    existing: set[int] = set()
    for chunk in _chunks({person_id for _network, person_id, _at in mapped}):
        existing.update(Person.objects.filter(campaign=campaign, pk__in=chunk).values_list("pk", flat=True))
    for network, person_id, at in mapped:
        if person_id in existing:
            _keep_earliest(groups[network], person_id, at)
    profiles = SocialProfile.objects.filter(person__campaign=campaign).values_list(
        "network", "person_id", "person__collected_at"
    )
    for network, person_id, collected_at in profiles:
        groups[network].setdefault(person_id, collected_at)
    return groups


# --- The reports ------------------------------------------------------------------------------


@dataclass
class NetworkRow:
    network: str
    label: str
    audience: NextSteps
    through_posts: NextSteps


@dataclass
class PostRow:
    post: Post
    views: int
    submissions: str
    rsvps: str
    steps: NextSteps
    by_network: list[tuple[str, str]]  # (network's name, people shown)


def network_report(campaign: Campaign) -> list[NetworkRow]:
    groups = audience(campaign)
    came = referred(campaign)
    people = set().union(*groups.values(), *came.by_network.values())
    activity = activity_of(campaign, people)
    labels = dict(Network.choices)
    rows = []
    for network in Network.values:
        if not groups.get(network) and not came.by_network.get(network):
            continue
        rows.append(
            NetworkRow(
                network=network,
                label=str(labels[network]),
                audience=next_steps(groups.get(network, {}), activity),
                through_posts=next_steps(came.by_network.get(network, {}), activity),
            )
        )
    return rows


def post_report(campaign: Campaign) -> list[PostRow]:
    """The posts that are out (or were meant to be), newest first, each with its figures."""
    shown_posts = list(
        Post.objects.filter(campaign=campaign)
        .exclude(status__in=[Post.Status.DRAFT, Post.Status.SCHEDULED])
        .select_related("action", "event", "call")
        .order_by("-published_at", "-pk")[:200]
    )
    came = referred(campaign)
    views = views_by_post(campaign)
    people = set().union(*(came.by_post.get(post.code, {}) for post in shown_posts))
    activity = activity_of(campaign, people)
    labels = dict(Network.choices)
    rows = []
    for post in shown_posts:
        networks = came.by_post_network.get(post.code, {})
        rows.append(
            PostRow(
                post=post,
                views=views.get(post.code, 0),
                submissions=shown_count(came.submissions.get(post.code, 0)),
                rsvps=shown_count(came.rsvps.get(post.code, 0)),
                steps=next_steps(came.by_post.get(post.code, {}), activity),
                by_network=[
                    (str(labels.get(network, network)), shown_count(len(ids)))
                    for network, ids in sorted(networks.items())
                ],
            )
        )
    return rows
