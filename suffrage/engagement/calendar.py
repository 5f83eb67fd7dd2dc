"""An event as an iCalendar file (RFC 5545), attached to RSVP confirmations and
offered on the event's page, so it lands in the person's own calendar."""

from __future__ import annotations

import datetime

from django.conf import settings

from suffrage.engagement.models import RSVP, Event


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 §3.1)."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > 75:
            out.append(current.decode())
            current = b" "
        current += encoded
    out.append(current.decode())
    return "\r\n".join(out)


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def event_ics(event: Event, rsvp: RSVP | None = None) -> bytes:
    host = settings.SITE_URL.split("://")[-1].split("/")[0] or "suffrage"
    place = ", ".join(part for part in (event.venue, event.address) if part) or event.online_url
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Suffrage//Events//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:event-{event.pk}@{host}",
        f"DTSTAMP:{_utc(event.updated_at)}",
        f"DTSTART:{_utc(event.starts_at)}",
        f"DTEND:{_utc(event.ends_at)}",
        f"SUMMARY:{_escape(event.title)}",
        f"DESCRIPTION:{_escape(event.description[:2000])}",
        f"LOCATION:{_escape(place)}",
        f"STATUS:{'CANCELLED' if event.status == Event.Status.CANCELLED else 'CONFIRMED'}",
    ]
    if event.online_url:
        lines.append(f"URL:{event.online_url}")
    if event.latitude is not None and event.longitude is not None:
        lines.append(f"GEO:{event.latitude:.6f};{event.longitude:.6f}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
