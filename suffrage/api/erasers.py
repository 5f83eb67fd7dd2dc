"""What the api app holds about a person (see privacy.erasure): the webhook deliveries
whose events were about them (their payloads carry the person's names, email, phone).
A merge re-homes the deliveries of the merged record (people.services.person_merge)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.api.models import WebhookDelivery
from suffrage.people.models import Person
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part, Targets


def deliveries_about(targets: Targets) -> models.QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(campaign_id=targets.campaign_id, person_id__in=targets.ids)


def report(person: Person) -> dict[str, Any]:
    deliveries = deliveries_about(Targets(person.campaign_id, (person.pk,))).select_related("subscription")
    return {
        "webhooks": table(
            _("Events about you sent to the campaign's other tools (webhooks)"),
            {"at": _("On"), "event": _("Event"), "recipient": _("Sent to"), "status": _("State")},
            [
                {
                    "at": delivery.created_at,
                    "event": delivery.event,
                    "recipient": f"{delivery.subscription.name} ({delivery.subscription.url})",
                    "status": delivery.get_status_display(),
                }
                for delivery in deliveries.order_by("created_at", "pk")
            ],
        )
    }


ERASERS = [
    Eraser(
        app_label="api",
        label=gettext_lazy("Webhooks"),
        report=report,
        report_order=80,
        parts=(
            Part(
                "api.WebhookDelivery",
                gettext_lazy("Events about the person sent, or waiting to be sent, to other tools"),
                deliveries_about,
            ),
        ),
    ),
]
