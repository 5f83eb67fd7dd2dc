"""What messaging holds about a person (see privacy.erasure): one delivery row per
message sent to them, and the tracking events (opens, clicks…) of each."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.messaging.models import Delivery, TrackingEvent
from suffrage.people.models import Person
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part


def report(person: Person) -> dict[str, Any]:
    deliveries = (
        Delivery.objects.filter(person_id=person.pk, mailing__campaign_id=person.campaign_id)
        .select_related("mailing")
        .order_by("sent_at", "pk")
    )
    return {
        "messages": table(
            _("Messages sent to you"),
            {
                "mailing": _("Mailing"),
                "subject": _("Subject"),
                "address": _("Sent to"),
                "status": _("Status"),
                "sent_at": _("Sent on"),
                "opened_at": _("Opened on"),
                "clicked_at": _("Link clicked on"),
                "unsubscribed_at": _("Unsubscribed on"),
                "bounced_at": _("Returned on"),
                "complained_at": _("Reported as spam on"),
            },
            [
                {
                    "mailing": delivery.mailing.name,
                    "subject": delivery.mailing.subject_b if delivery.variant == "b" else delivery.mailing.subject,
                    "address": delivery.address,
                    "status": delivery.get_status_display(),
                    "sent_at": delivery.sent_at,
                    "opened_at": delivery.opened_at,
                    "clicked_at": delivery.clicked_at,
                    "unsubscribed_at": delivery.unsubscribed_at,
                    "bounced_at": delivery.bounced_at,
                    "complained_at": delivery.complained_at,
                }
                for delivery in deliveries
            ],
        ),
    }


ERASERS = [
    Eraser(
        app_label="messaging",
        label=gettext_lazy("Email"),
        report=report,
        report_order=40,
        parts=(
            Part(
                "messaging.TrackingEvent",
                gettext_lazy("Opens, clicks and other message events"),
                lambda t: TrackingEvent.objects.filter(
                    delivery__person_id__in=t.ids, delivery__mailing__campaign_id=t.campaign_id
                ),
            ),
            Part(
                "messaging.Delivery",
                gettext_lazy("Messages sent"),
                lambda t: Delivery.objects.filter(person_id__in=t.ids, mailing__campaign_id=t.campaign_id),
            ),
        ),
    ),
]
