"""Demo text messages: SMS settings (the local file transport: nothing leaves the
machine), a text sent to the demo segment of activists reachable by SMS with its
receipts, a few replies in the inbox (one given to the demo volunteer, one STOP),
and canned answers. Idempotent."""

from __future__ import annotations

import datetime

from suffrage.core.models import Campaign, Membership
from suffrage.core.roles import Role
from suffrage.messaging import engine
from suffrage.messaging import services as mailings
from suffrage.messaging.models import Delivery, Mailing
from suffrage.messaging.transports.base import SmsEvent
from suffrage.segments.models import Segment
from suffrage.texting import services
from suffrage.texting.inbound import events_receive
from suffrage.texting.models import Conversation, sms_settings

CANNED = [
    ("Bureau de vote", "Votre bureau de vote est indiqué sur votre carte électorale, ou sur service-public.fr."),
    ("Procuration", "Pour une procuration : maprocuration.gouv.fr, puis passage au commissariat ou à la gendarmerie."),
    ("Réunion", "La réunion publique a lieu jeudi à 19 h, salle du Patronage laïque de Recouvrance."),
]
REPLIES = ["Je viendrai jeudi, merci !", "Où est mon bureau de vote ?", "STOP", "Vous passez à Kerinou ?"]


def load(campaign: Campaign) -> None:
    owner = Membership.objects.filter(campaign=campaign, role=Role.OWNER).select_related("user").first()
    segment = Segment.objects.filter(campaign=campaign, name__icontains="SMS").order_by("pk").first()
    transport = services.sms_transports(campaign).order_by("pk").first()
    sms = Mailing.objects.filter(campaign=campaign, channel=Mailing.Channel.SMS)
    if owner is None or segment is None or transport is None or sms.exists():
        return
    actor = owner.user
    options = sms_settings(campaign)
    options.transport, options.sender_id, options.signature = transport, "BrestCommun", "Brest en commun"
    options.stop_number = "36111"
    transport.price_per_part = "0.0450"
    transport.save(update_fields=["price_per_part"])
    for title, body in CANNED:
        services.canned_save(campaign=campaign, title=title, body=body, actor=actor)
    mailing = services.sms_mailing_save(
        campaign=campaign,
        values={
            "name": "Rappel — réunion publique jeudi",
            "transport": transport,
            "segment": segment,
            "body": "Bonjour {{ first_name }}, réunion publique jeudi 19 h au Patronage laïque de Recouvrance. "
            "Venez nombreux !",
        },
        actor=actor,
    )
    # The demo's text went out "earlier": the window is opened for that moment only,
    # then the French default (Monday–Saturday, 8:00–20:00, no holidays) is kept.
    options.send_days, options.send_from, options.send_until = list(range(7)), datetime.time(0), datetime.time(23, 59)
    options.save()
    mailings.mailing_start(mailing=mailing, actor=actor)
    engine.mailing_run(mailing.pk)
    options.send_days, options.send_from, options.send_until = [0, 1, 2, 3, 4, 5], datetime.time(8), datetime.time(20)
    options.save()
    _receipts_and_replies(campaign, mailing)


def _receipts_and_replies(campaign: Campaign, mailing: Mailing) -> None:
    """What comes back within a day: most delivered, one unreachable, a few replies.
    (The local file transport gives no message ids: the demo makes some up.)"""
    deliveries = list(Delivery.objects.filter(mailing=mailing, status=Delivery.Status.SENT).order_by("pk")[:30])
    for delivery in deliveries:
        delivery.provider_id = f"demo-{delivery.pk}"
    Delivery.objects.bulk_update(deliveries, ["provider_id"])
    events = [SmsEvent(kind="delivered", number=d.address, provider_id=d.provider_id) for d in deliveries[1:]]
    if deliveries:
        first = deliveries[0]
        events.append(
            SmsEvent(kind="failed", number=first.address, provider_id=first.provider_id, reason="Unreachable")
        )
    events += [
        SmsEvent(kind="reply", number=d.address, text=text) for d, text in zip(deliveries, REPLIES, strict=False)
    ]
    events_receive(mailing.transport, events)
    volunteer = Membership.objects.filter(campaign=campaign, role=Role.VOLUNTEER).select_related("user").first()
    first_open = Conversation.objects.filter(campaign=campaign, status=Conversation.Status.OPEN).order_by("pk").first()
    if volunteer and first_open:
        first_open.assigned_to = volunteer.user
        first_open.save(update_fields=["assigned_to"])
