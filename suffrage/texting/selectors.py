"""Reads for the SMS pages: text-message mailings and their reports, the inbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from suffrage.core.models import Campaign, User
from suffrage.messaging.models import Delivery, Mailing, TrackingEvent
from suffrage.messaging.selectors import mailing_numbers, numbers_by_mailing
from suffrage.people.models import ConsentEvent
from suffrage.texting.inbound import SOURCE_REPLY
from suffrage.texting.models import Conversation, Text
from suffrage.texting.sending import CONSENT_REQUEST


def sms_mailings(campaign: Campaign) -> QuerySet[Mailing]:
    return Mailing.objects.filter(campaign=campaign, channel=Mailing.Channel.SMS).select_related("segment", "transport")


def cost(parts: int, mailing: Mailing) -> Decimal | None:
    price = mailing.transport.price_per_part
    return None if price is None else (price * parts).quantize(Decimal("0.01"))


def sms_report(mailing: Mailing) -> dict[str, Any]:
    """Sent, delivered, not delivered (by reason), opt-outs, replies, consent asked and
    given, parts and cost: a few aggregate queries, never a row per person."""
    numbers = mailing_numbers(mailing)
    deliveries = Delivery.objects.filter(mailing=mailing)
    extra = deliveries.aggregate(
        parts=Sum("parts"),
        replied=Count("pk", filter=Q(events__kind=TrackingEvent.Kind.REPLIED), distinct=True),
        asked=Count("pk", filter=Q(variant=CONSENT_REQUEST, status=Delivery.Status.SENT)),
    )
    parts = int(extra["parts"] or 0)
    failures = (
        deliveries.filter(Q(status=Delivery.Status.FAILED) | Q(bounced_at__isnull=False))
        .values("error")
        .annotate(count=Count("pk"))
        .order_by("-count", "error")
    )
    agreed = ConsentEvent.objects.filter(
        person__campaign=mailing.campaign, channel="sms", granted=True, source=SOURCE_REPLY, form=mailing.name
    ).count()
    return {
        **numbers,
        "replied": int(extra["replied"]),
        "asked": int(extra["asked"]),
        "agreed": agreed,
        "parts": parts,
        "cost": cost(parts, mailing),
        "failures": [{"reason": row["error"] or "—", "count": row["count"]} for row in failures],
    }


def sms_rows(campaign: Campaign) -> list[dict[str, Any]]:
    """The list page: each mailing with its counts and its cost (two queries)."""
    found = list(sms_mailings(campaign)[:200])
    numbers = numbers_by_mailing([mailing.pk for mailing in found])
    parts = dict(
        Delivery.objects.filter(mailing_id__in=[m.pk for m in found])
        .values("mailing_id")
        .annotate(total=Sum("parts"))
        .values_list("mailing_id", "total")
    )
    return [
        {
            "mailing": mailing,
            "numbers": numbers.get(mailing.pk, {}),
            "cost": cost(int(parts.get(mailing.pk) or 0), mailing),
        }
        for mailing in found
    ]


# --- Inbox -------------------------------------------------------------------------------------

INBOX_FILTERS = ("mine", "unassigned", "unread", "open", "closed", "all")


def inbox(campaign: Campaign, user: User, *, everyone: bool, shown: str) -> QuerySet[Conversation]:
    """The conversations this user may see (a volunteer: only those given to them), filtered."""
    found = Conversation.objects.filter(campaign=campaign).select_related("person", "assigned_to")
    if not everyone or shown == "mine":
        found = found.filter(assigned_to=user)
    if shown == "unassigned" and everyone:
        found = found.filter(assigned_to__isnull=True, status=Conversation.Status.OPEN)
    elif shown == "unread":
        found = found.filter(unread=True)
    elif shown in ("open", "closed"):
        found = found.filter(status=shown)
    return found.annotate(texts_count=Count("texts")).order_by("-unread", "-last_message_at")


def inbox_counts(campaign: Campaign, user: User) -> dict[str, int]:
    counts = Conversation.objects.filter(campaign=campaign).aggregate(
        mine=Count("pk", filter=Q(assigned_to=user, status=Conversation.Status.OPEN)),
        unassigned=Count("pk", filter=Q(assigned_to__isnull=True, status=Conversation.Status.OPEN)),
        unread=Count("pk", filter=Q(unread=True)),
    )
    return {key: int(value) for key, value in counts.items()}


def thread(conversation: Conversation) -> QuerySet[Text]:
    return conversation.texts.select_related("author", "in_reply_to__mailing").order_by("at", "pk")
