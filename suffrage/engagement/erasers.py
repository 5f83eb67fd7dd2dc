"""What engagement holds about a person (see privacy.erasure): their form answers
and petition signatures, their RSVPs, and their answers to calls to action."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.engagement.models import RSVP, Response, Submission
from suffrage.people.models import Person
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part


def report(person: Person) -> dict[str, Any]:
    submissions = Submission.objects.filter(person_id=person.pk, campaign_id=person.campaign_id).select_related(
        "action"
    )
    rsvps = RSVP.objects.filter(person_id=person.pk, campaign_id=person.campaign_id).select_related("event")
    responses = Response.objects.filter(person_id=person.pk, campaign_id=person.campaign_id).select_related("call")
    return {
        "submissions": table(
            _("Forms you filled in and petitions you signed"),
            {"form": _("Form"), "at": _("On"), "status": _("Status"), "answers": _("Answers")},
            [
                {
                    "form": item.action.title,
                    "at": item.created_at,
                    "status": item.get_status_display(),
                    "answers": "; ".join(f"{key}: {value}" for key, value in item.answers.items()),
                }
                for item in submissions
            ],
        ),
        "rsvps": table(
            _("Events you registered for"),
            {"event": _("Event"), "at": _("On"), "status": _("Status"), "checked_in_at": _("Checked in")},
            [
                {
                    "event": item.event.title,
                    "at": item.created_at,
                    "status": item.get_status_display(),
                    "checked_in_at": item.checked_in_at,
                }
                for item in rsvps
            ],
        ),
        "calls": table(
            _("Calls to action you answered"),
            {"call": _("Call to action"), "at": _("On"), "kind": _("Answer")},
            [{"call": item.call.title, "at": item.created_at, "kind": item.get_kind_display()} for item in responses],
        ),
    }


def _unlink(rows: models.QuerySet[Any]) -> int:
    return int(rows.update(person=None))


ERASERS = [
    Eraser(
        app_label="engagement",
        label=gettext_lazy("Forms, petitions and events"),
        report=report,
        report_order=50,
        parts=(
            Part(
                "engagement.Submission",
                gettext_lazy("Form answers and petition signatures"),
                lambda t: Submission.objects.filter(person_id__in=t.ids, campaign_id=t.campaign_id),
            ),
            Part(
                "engagement.RSVP",
                gettext_lazy("Event registrations"),
                lambda t: RSVP.objects.filter(person_id__in=t.ids, campaign_id=t.campaign_id),
            ),
            Part(
                "engagement.Response",
                gettext_lazy("Answers to calls to action"),
                lambda t: Response.objects.filter(person_id__in=t.ids, campaign_id=t.campaign_id),
                erase=_unlink,
                kept=gettext_lazy("Counted without the person: how many answered a call to action."),
            ),
        ),
    ),
]
