"""When a campaign may send: never during an election's silence (Code électoral L49),
and only inside the allowed hours and days it chose."""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from suffrage.core.models import CalendarElection, Campaign
from suffrage.messaging.models import mail_settings


def silence_at(campaign: Campaign, moment: datetime.datetime) -> tuple[CalendarElection, datetime.datetime] | None:
    """The election whose silence covers this moment, and when the silence ends."""
    for election in CalendarElection.objects.filter(campaign=campaign, send_lock=True).select_related("campaign"):
        for start, end in election.silence_windows():
            if start <= moment < end:
                return election, end
    return None


def outside_hours_until(campaign: Campaign, moment: datetime.datetime) -> datetime.datetime | None:
    """When sending may start again, if this moment is outside the allowed hours or days."""
    options = mail_settings(campaign)
    zone = zoneinfo.ZoneInfo(campaign.time_zone)
    local = moment.astimezone(zone)
    days = set(options.send_days or range(7))
    start, end = options.send_from or datetime.time(0), options.send_until or datetime.time(23, 59, 59, 999999)
    if local.weekday() in days and start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + datetime.timedelta(days=1)
    for offset in range(8):
        candidate = day + datetime.timedelta(days=offset)
        if candidate.weekday() in days:
            return datetime.datetime.combine(candidate, start, zone)
    return None  # no allowed day at all: the settings form refuses that


def send_blocked_until(campaign: Campaign, moment: datetime.datetime) -> datetime.datetime | None:
    silence = silence_at(campaign, moment)
    if silence is not None:
        return silence[1]
    return outside_hours_until(campaign, moment)


def send_refusal(campaign: Campaign, moment: datetime.datetime) -> str:
    """Why a send starting at this moment is refused ("" when it is not)."""
    silence = silence_at(campaign, moment)
    if silence is not None:
        election, end = silence
        return _("Electoral silence for “%(election)s”: no sending until %(end)s.") % {
            "election": election.name,
            "end": date_format(end, "SHORT_DATETIME_FORMAT"),
        }
    resume = outside_hours_until(campaign, moment)
    if resume is not None:
        return _("Outside the campaign's sending hours: the next window opens on %(start)s.") % {
            "start": date_format(resume, "SHORT_DATETIME_FORMAT")
        }
    return ""
