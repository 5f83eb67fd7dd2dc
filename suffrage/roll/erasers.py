"""What the roll app holds about a person (see privacy.erasure): the links between the
person and roll entries. The entries themselves are the official electoral roll, not
the person's record: they stay."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.people.models import Person
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part
from suffrage.roll.models import RollLink


def report(person: Person) -> dict[str, Any]:
    """Where the person votes as the campaign found it: the station and the link's
    status only, never the entry's other details (a candidate link may be someone else)."""
    links = (
        RollLink.objects.filter(campaign_id=person.campaign_id, person_id=person.pk)
        .select_related("entry", "entry__station")
        .order_by("created_at", "pk")
    )
    return {
        "roll": table(
            _("Electoral roll"),
            {"polling_station": _("Polling station"), "status": _("Link to the roll"), "created_at": _("Found on")},
            [
                {
                    "polling_station": link.entry.station.name if link.entry.station else link.entry.station_code,
                    "status": link.get_status_display(),
                    "created_at": link.created_at,
                }
                for link in links
            ],
        ),
    }


ERASERS = [
    Eraser(
        app_label="roll",
        label=gettext_lazy("Electoral roll"),
        report=report,
        report_order=50,
        parts=(
            Part(
                "roll.RollLink",
                gettext_lazy("Links to electoral roll entries"),
                lambda t: RollLink.objects.filter(campaign_id=t.campaign_id, person_id__in=t.ids),
            ),
        ),
    ),
]
