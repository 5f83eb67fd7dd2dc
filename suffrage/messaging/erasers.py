"""What messaging holds about a person (see privacy.erasure): one delivery row per
message sent to them, the tracking events (opens, clicks…) of each, and the automatic
messages (notices) queued or sent to them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.messaging.models import Delivery, Notice, TrackingEvent
from suffrage.people.models import Person, PersonEmail
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part, Targets


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
        "automatic_messages": table(
            _("Automatic messages sent to you"),
            {
                "kind": _("Kind"),
                "subject": _("Subject"),
                "to": _("Sent to"),
                "status": _("Status"),
                "sent_at": _("Sent on"),
            },
            [
                {
                    "kind": notice.kind,
                    "subject": notice.subject,
                    "to": notice.to,
                    "status": notice.get_status_display(),
                    "sent_at": notice.sent_at,
                }
                for notice in notices_of(Targets(person.campaign_id, (person.pk,))).order_by("created_at", "pk")
            ],
        ),
    }


def notices_of(targets: Targets) -> QuerySet[Notice]:
    """Notices to these people, and those queued to one of their addresses without a person
    (a web form's reply before the record existed)."""
    addresses = PersonEmail.objects.filter(campaign_id=targets.campaign_id, person_id__in=targets.ids).values("address")
    about = Q(person_id__in=targets.ids) | Q(person__isnull=True, to__in=addresses)
    return Notice.objects.filter(about, campaign_id=targets.campaign_id)


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
            Part("messaging.Notice", gettext_lazy("Automatic messages"), notices_of),
        ),
    ),
]
