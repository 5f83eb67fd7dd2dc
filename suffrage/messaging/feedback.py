"""What comes back from a message: deliveries, bounces and complaints (providers'
webhooks, the SMTP bounce mailbox), opens and clicks (our tracking links), and
unsubscribes. Each updates the delivery, the address and the suppression list."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign
from suffrage.messaging.bounces import parse_bounce
from suffrage.messaging.models import Delivery, Link, Mailing, TrackingEvent
from suffrage.messaging.tracking import delivery_id_from
from suffrage.messaging.transports.base import Feedback
from suffrage.people.models import Channel, PersonEmail, Source
from suffrage.people.services import consent_record
from suffrage.privacy.models import Suppression
from suffrage.privacy.services import suppression_add

# Mailbox providers act above 0.3% of complaints; we warn at 0.1% and pause at 0.3%,
# once enough messages went out for a rate to mean something.
COMPLAINT_ALARM_RATE = 0.001
COMPLAINT_PAUSE_RATE = 0.003
COMPLAINT_MIN_SENT = 1000

OUR_MESSAGE_ID = re.compile(r"<?m(\d+)\.d(\d+)@")

FIRST_TIME_FIELD = {
    TrackingEvent.Kind.DELIVERED: "delivered_at",
    TrackingEvent.Kind.OPENED: "opened_at",
    TrackingEvent.Kind.CLICKED: "clicked_at",
    TrackingEvent.Kind.BOUNCED: "bounced_at",
    TrackingEvent.Kind.FAILED: "bounced_at",  # a text message not delivered
    TrackingEvent.Kind.COMPLAINED: "complained_at",
    TrackingEvent.Kind.UNSUBSCRIBED: "unsubscribed_at",
}


def address_failed(campaign: Campaign, address: str, detail: str, *, complaint: bool = False) -> None:
    """Never use this address again: mark it on every person who has it, and suppress it."""
    status = PersonEmail.Status.COMPLAINED if complaint else PersonEmail.Status.BOUNCED
    PersonEmail.objects.filter(campaign=campaign, address=address.lower()).update(status=status)
    reason = Suppression.Reason.COMPLAINT if complaint else Suppression.Reason.BOUNCE
    suppression_add(campaign=campaign, channel=Channel.EMAIL, value=address, reason=reason, detail=detail)


def delivery_for(feedback: Feedback, token: str = "") -> Delivery | None:
    """The delivery a report is about: by our signed token, our Message-ID, or the provider's id."""
    deliveries = Delivery.objects.select_related("mailing__campaign", "person")
    if token and (pk := delivery_id_from(token)) is not None:
        return deliveries.filter(pk=pk).first()
    if found := OUR_MESSAGE_ID.search(feedback.message_id or ""):
        return deliveries.filter(pk=int(found.group(2)), mailing_id=int(found.group(1))).first()
    if feedback.provider_id:
        return deliveries.filter(provider_id=feedback.provider_id).first()
    return None


def event_record(delivery: Delivery, kind: str, *, detail: str = "", link: Link | None = None) -> bool:
    """Record an event; True when it is the first of its kind for this delivery."""
    TrackingEvent.objects.create(delivery=delivery, kind=kind, detail=detail[:500], link=link)
    first_field = FIRST_TIME_FIELD.get(TrackingEvent.Kind(kind))
    if first_field is None:
        return False
    return bool(
        Delivery.objects.filter(pk=delivery.pk, **{f"{first_field}__isnull": True}).update(
            **{first_field: timezone.now()}
        )
    )


@transaction.atomic
def feedback_record(feedback: Feedback, token: str = "") -> Delivery | None:
    """Apply a provider's or a bounce mailbox's report to the delivery it is about."""
    delivery = delivery_for(feedback, token)
    if delivery is None or (feedback.recipient and feedback.recipient.lower() != delivery.address):
        return None  # not ours, or a forwarded copy: never act on another address
    campaign = delivery.mailing.campaign
    if feedback.kind == "bounced" and not feedback.permanent:
        event_record(delivery, TrackingEvent.Kind.DEFERRED, detail=feedback.detail)
    elif feedback.kind in TrackingEvent.Kind.values:
        event_record(delivery, feedback.kind, detail=feedback.detail or feedback.url)
    if feedback.kind == "bounced" and feedback.permanent:
        address_failed(campaign, delivery.address, feedback.detail)
    elif feedback.kind == "complained":
        address_failed(campaign, delivery.address, feedback.detail, complaint=True)
        complaints_check(delivery.mailing)
    elif feedback.kind == "unsubscribed":
        unsubscribe(delivery, everything=False, ip=None, via=_("the provider's unsubscribe"))
    return delivery


def bounce_mail_record(raw: bytes) -> int:
    """Apply the reports of a bounce-mailbox message; how many concerned our deliveries."""
    recorded = 0
    for bounce in parse_bounce(raw):
        kind = "complained" if bounce.action == "complaint" else "bounced"
        if bounce.action not in ("failed", "delayed", "complaint"):
            continue
        report = Feedback(
            kind=kind,
            recipient=bounce.recipient,
            message_id=bounce.original_message_id,
            permanent=bounce.permanent,
            detail=f"{bounce.status} {bounce.diagnostic}".strip(),
        )
        recorded += feedback_record(report, token=bounce.delivery_ref) is not None
    return recorded


def complaints_check(mailing: Mailing) -> None:
    """Warn above 0.1% of complaints; pause the mailing above 0.3%."""
    deliveries = Delivery.objects.filter(mailing=mailing)
    sent = deliveries.filter(status=Delivery.Status.SENT).count()
    if sent < COMPLAINT_MIN_SENT:
        return
    rate = deliveries.filter(complained_at__isnull=False).count() / sent
    if rate >= COMPLAINT_ALARM_RATE and not mailing.complaint_alarm:
        Mailing.objects.filter(pk=mailing.pk).update(complaint_alarm=True)
        audit_record(action="mailing.complaint_alarm", campaign=mailing.campaign, obj=mailing, changes={"rate": rate})
    if rate >= COMPLAINT_PAUSE_RATE and mailing.is_running:
        reason = _("Paused automatically: %(rate)s%% of recipients reported it as spam.") % {
            "rate": number_format(rate * 100, 2)
        }
        Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.PAUSED, status_reason=reason)
        audit_record(action="mailing.auto_pause", campaign=mailing.campaign, obj=mailing, changes={"rate": rate})


def click_record(delivery: Delivery, position: int) -> Link | None:
    link = Link.objects.filter(mailing_id=delivery.mailing_id, position=position).first()
    if link is not None:
        event_record(delivery, TrackingEvent.Kind.CLICKED, link=link)
    return link


@transaction.atomic
def unsubscribe(delivery: Delivery, *, everything: bool, ip: str | None, via: str = "") -> None:
    """Withdraw consent for email (or every channel), effective at once; recorded with its proof."""
    channels = list(Channel.values) if everything else [Channel.EMAIL]
    person = delivery.person
    for channel in channels:
        if getattr(person, f"consent_{channel}") is not False:
            consent_record(
                person=person,
                channel=channel,
                granted=False,
                source=Source.WEB_FORM,
                form=via or _("Unsubscribe link of “%(mailing)s”") % {"mailing": delivery.mailing.name},
                ip=ip,
            )
    event_record(delivery, TrackingEvent.Kind.UNSUBSCRIBED, detail=",".join(channels))
