"""What canvassing holds about a person (see privacy.erasure): the visits and calls
where they gave their details or were called, and their place on call lists.

A visit is about a door as much as about a person: erased people's visits stay,
without the person, so the campaign's door counts do not change."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.canvassing.models import CallTarget, Visit
from suffrage.people.models import Person
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part


def report(person: Person) -> dict[str, Any]:
    visits = Visit.objects.filter(person_id=person.pk, campaign_id=person.campaign_id).select_related("canvass")
    return {
        "visits": table(
            _("Door-to-door visits and calls"),
            {"canvass": _("Canvass"), "at": _("On"), "outcome": _("Outcome"), "answers": _("Answers")},
            [
                {
                    "canvass": visit.canvass.name,
                    "at": visit.recorded_at,
                    "outcome": visit.get_outcome_display(),
                    "answers": "; ".join(f"{key}: {value}" for key, value in visit.answers.items()),
                }
                for visit in visits
            ],
        ),
    }


def _unlink(rows: models.QuerySet[Any]) -> int:
    """The visit stays (a door was knocked), without the person, their answers or the note."""
    return int(rows.update(person=None, answers={}, note=""))


ERASERS = [
    Eraser(
        app_label="canvassing",
        label=gettext_lazy("Canvassing"),
        report=report,
        report_order=60,
        parts=(
            Part(
                "canvassing.Visit",
                gettext_lazy("Visits and calls"),
                lambda t: Visit.objects.filter(person_id__in=t.ids, campaign_id=t.campaign_id),
                erase=_unlink,
                kept=gettext_lazy("Counted without the person: a door was knocked or a number called."),
            ),
            Part(
                "canvassing.CallTarget",
                gettext_lazy("Places on call lists"),
                lambda t: CallTarget.objects.filter(person_id__in=t.ids, campaign_id=t.campaign_id),
            ),
        ),
    ),
]
