"""When a campaign may send: never during an election's silence (Code électoral L49),
and only inside the allowed hours and days it chose — for emails in its email
settings, for text messages in its SMS settings (French default: Monday to Saturday,
8:00 to 20:00, never on a public holiday)."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from suffrage.core.models import CalendarElection, Campaign
from suffrage.messaging.models import mail_settings


@dataclass(frozen=True)
class Window:
    """The hours of the allowed days when sending may happen (local time)."""

    days: frozenset[int]  # 0 = Monday
    start: datetime.time
    end: datetime.time
    closed_on: Callable[[datetime.date], bool] = lambda day: False  # public holidays

    def allows(self, day: datetime.date) -> bool:
        return day.weekday() in self.days and not self.closed_on(day)


def sending_window(campaign: Campaign, channel: str = "email") -> Window:
    if channel == "sms":
        from suffrage.texting.sending import sms_window

        return sms_window(campaign)
    options = mail_settings(campaign)
    return Window(
        days=frozenset(options.send_days or range(7)),
        start=options.send_from or datetime.time(0),
        end=options.send_until or datetime.time(23, 59, 59, 999999),
    )


def silence_at(campaign: Campaign, moment: datetime.datetime) -> tuple[CalendarElection, datetime.datetime] | None:
    """The election whose silence covers this moment, and when the silence ends."""
    for election in CalendarElection.objects.filter(campaign=campaign, send_lock=True).select_related("campaign"):
        for start, end in election.silence_windows():
            if start <= moment < end:
                return election, end
    return None


def outside_hours_until(
    campaign: Campaign, moment: datetime.datetime, channel: str = "email"
) -> datetime.datetime | None:
    """When sending may start again, if this moment is outside the allowed hours or days."""
    window = sending_window(campaign, channel)
    zone = zoneinfo.ZoneInfo(campaign.time_zone)
    local = moment.astimezone(zone)
    if window.allows(local.date()) and window.start <= local.time() < window.end:
        return None
    day = local.date() if local.time() < window.start else local.date() + datetime.timedelta(days=1)
    for offset in range(30):  # a week, and the holidays that may fall in it
        candidate = day + datetime.timedelta(days=offset)
        if window.allows(candidate):
            return datetime.datetime.combine(candidate, window.start, zone)
    return None  # no allowed day at all: the settings forms refuse that


def send_blocked_until(
    campaign: Campaign, moment: datetime.datetime, channel: str = "email"
) -> datetime.datetime | None:
    silence = silence_at(campaign, moment)
    if silence is not None:
        return silence[1]
    return outside_hours_until(campaign, moment, channel)


def send_refusal(campaign: Campaign, moment: datetime.datetime, channel: str = "email") -> str:
    """Why a send starting at this moment is refused ("" when it is not)."""
    silence = silence_at(campaign, moment)
    if silence is not None:
        election, end = silence
        return _("Electoral silence for “%(election)s”: no sending until %(end)s.") % {
            "election": election.name,
            "end": date_format(end, "SHORT_DATETIME_FORMAT"),
        }
    resume = outside_hours_until(campaign, moment, channel)
    if resume is not None:
        return _("Outside the campaign's sending hours: the next window opens on %(start)s.") % {
            "start": date_format(resume, "SHORT_DATETIME_FORMAT")
        }
    return ""
