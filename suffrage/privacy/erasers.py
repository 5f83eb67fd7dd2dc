"""What the privacy app holds about a person (see privacy.erasure): the rights
requests they made. Kept, detached from the erased record: they prove the request was
handled. (The suppression list holds keyed hashes only, linked to nobody.)"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.people.models import Person
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part
from suffrage.privacy.models import RightsRequest


def _detach(rows: models.QuerySet[Any]) -> int:
    return rows.update(person=None)


def report(person: Person) -> dict[str, Any]:
    requests = RightsRequest.objects.filter(campaign_id=person.campaign_id, person_id=person.pk).order_by(
        "received_at", "pk"
    )
    return {
        "rights_requests": table(
            _("Your requests about your data"),
            {
                "received_at": _("Received on"),
                "kind": _("Request"),
                "channel": _("Received by"),
                "status": _("Status"),
                "due_on": _("Answer due by"),
                "closed_at": _("Answered on"),
                "outcome": _("Answer given"),
            },
            [
                {
                    "received_at": request.received_at,
                    "kind": request.get_kind_display(),
                    "channel": request.get_channel_display(),
                    "status": request.get_status_display(),
                    "due_on": request.due_on,
                    "closed_at": request.closed_at,
                    "outcome": request.outcome,
                }
                for request in requests
            ],
        ),
    }


ERASERS = [
    Eraser(
        app_label="privacy",
        label=gettext_lazy("Data protection"),
        report=report,
        report_order=90,
        parts=(
            Part(
                "privacy.RightsRequest",
                gettext_lazy("Rights requests"),
                lambda t: RightsRequest.objects.filter(campaign_id=t.campaign_id, person_id__in=t.ids),
                erase=_detach,
                kept=gettext_lazy(
                    "kept, detached from the record: they prove the request was handled (GDPR art. 5(2) and 12)"
                ),
            ),
        ),
    ),
]
