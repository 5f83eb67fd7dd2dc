"""What providers tell us about text messages: receipts, replies, STOP.

A STOP (the provider's own opt-out callback, or a reply made of a stop word) takes
effect in the request that brings it: the person's SMS consent is withdrawn, the
number goes on the suppression list, and every message still queued for it is
cancelled — so the next batch the engine claims no longer holds it. A "yes" to a
consent request records the consent with the words of the request. Any other reply
lands in the conversations inbox."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from suffrage.core.models import Campaign
from suffrage.core.ratelimit import too_many
from suffrage.core.secrets import decrypt_json
from suffrage.messaging import feedback
from suffrage.messaging.models import Delivery, Mailing, TrackingEvent, TransportConfig
from suffrage.messaging.transports import transport_kind
from suffrage.messaging.transports.base import InboundRequest, SignatureError, SmsEvent
from suffrage.people.models import Channel, Person, PersonPhone
from suffrage.people.services import consent_record
from suffrage.privacy.models import Suppression
from suffrage.privacy.services import suppression_add
from suffrage.texting.models import Conversation, Text, sms_settings
from suffrage.texting.sending import CONSENT_REQUEST, number_failed, sms_prepare

SOURCE_STOP = "sms_stop"
SOURCE_REPLY = "sms_reply"


def events_receive(config: TransportConfig, events: list[SmsEvent]) -> None:
    """Apply what a provider told us, event by event (each on its own: one bad event
    does not lose the others)."""
    campaign = config.campaign
    for event in events:
        with transaction.atomic():
            _receive(campaign, event)


def _receive(campaign: Campaign, event: SmsEvent) -> None:
    if event.kind in ("delivered", "failed"):
        receipt_record(campaign, event)
    elif event.kind == "opt_out":
        opt_out(campaign, event.number, detail=_("Opted out with the provider"))
    elif event.kind == "opt_in":
        _opt_in(campaign, event.number, event.text or "START")
    elif event.kind == "reply":
        reply_receive(campaign, event.number, event.text)


def keyword(text: str) -> str:
    """A reply reduced to compare with stop and yes words: capitals, no accents, single spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.upper().replace(".", " ").replace("!", " ").split())


def _matches(text: str, words: list[str]) -> bool:
    return keyword(text) in {keyword(word) for word in words}


# --- Receipts ------------------------------------------------------------------------------


def receipt_record(campaign: Campaign, event: SmsEvent) -> None:
    if not event.provider_id:
        return
    delivered = event.kind == "delivered"
    delivery = (
        Delivery.objects.filter(mailing__campaign=campaign, provider_id=event.provider_id)
        .select_related("mailing")
        .first()
    )
    if delivery is not None:
        kind = TrackingEvent.Kind.DELIVERED if delivered else TrackingEvent.Kind.FAILED
        feedback.event_record(delivery, kind, detail=event.reason)
        if not delivered:
            Delivery.objects.filter(pk=delivery.pk).update(error=(event.reason or _("Not delivered"))[:500])
    status = Text.Status.DELIVERED if delivered else Text.Status.FAILED
    Text.objects.filter(conversation__campaign=campaign, provider_id=event.provider_id).update(
        status=status, error="" if delivered else event.reason[:500]
    )
    if not delivered and event.permanent:
        number_failed(campaign, delivery.address if delivery else event.number, event.reason)


# --- STOP and yes ------------------------------------------------------------------------------


def opt_out(campaign: Campaign, number: str, *, detail: str, text: str = "") -> int:
    """The number objects to text messages, at once: consent withdrawn for everyone
    holding it, number suppressed (for SMS only: calls and post are another matter),
    queued messages cancelled. Returns how many queued messages were cancelled."""
    for person in Person.objects.filter(campaign=campaign, phones__number=number).exclude(consent_sms=False).distinct():
        consent_record(person=person, channel=Channel.SMS, granted=False, source=SOURCE_STOP, wording=text or "STOP")
    suppression_add(campaign=campaign, channel=Channel.SMS, value=number, reason=Suppression.Reason.STOP, detail=detail)
    pending = Delivery.objects.filter(
        mailing__campaign=campaign,
        mailing__channel=Mailing.Channel.SMS,
        address=number,
        status__in=[Delivery.Status.QUEUED, Delivery.Status.HELD],
    )
    cancelled = pending.update(status=Delivery.Status.CANCELLED, error=_("Opted out (STOP)."))
    last = last_delivery(campaign, number)
    if last is not None:
        feedback.event_record(last, TrackingEvent.Kind.UNSUBSCRIBED, detail=text[:500])
    return cancelled


def _opt_in(campaign: Campaign, number: str, text: str) -> None:
    """START after a STOP, sent by the person: their own act, recorded as consent."""
    for person in Person.objects.filter(campaign=campaign, phones__number=number).distinct():
        consent_record(person=person, channel=Channel.SMS, granted=True, source=SOURCE_REPLY, wording=text)


def last_delivery(campaign: Campaign, number: str) -> Delivery | None:
    """The last campaign text sent to this number (what a reply answers)."""
    return (
        Delivery.objects.filter(
            mailing__campaign=campaign, mailing__channel=Mailing.Channel.SMS, address=number, sent_at__isnull=False
        )
        .select_related("mailing", "person")
        .order_by("-sent_at", "-pk")
        .first()
    )


def _consent_given(delivery: Delivery, text: str) -> bool:
    """A yes to the consent request this number was sent, if it was the last text."""
    person = delivery.person
    if delivery.variant != CONSENT_REQUEST or person.consent_sms is not None:
        return False
    wording = sms_prepare(delivery.mailing, with_transport=False).text_for(person, CONSENT_REQUEST)
    consent_record(
        person=person,
        channel=Channel.SMS,
        granted=True,
        source=SOURCE_REPLY,
        form=delivery.mailing.name,
        wording=f"{wording}\n→ {text}",
    )
    return True


# --- Replies -----------------------------------------------------------------------------------


def reply_receive(campaign: Campaign, number: str, text: str) -> Text:
    options = sms_settings(campaign)
    last = last_delivery(campaign, number)
    if _matches(text, options.stop_words):
        opt_out(campaign, number, detail=_("Replied STOP"), text=text)
        return _in_conversation(campaign, number, text, last, unread=False, close=True)
    if last is not None:
        feedback.event_record(last, TrackingEvent.Kind.REPLIED, detail=text[:500])
        if _matches(text, options.yes_words) and _consent_given(last, text):
            return _in_conversation(campaign, number, text, last, unread=False)
    return _in_conversation(campaign, number, text, last, unread=True)


def person_for(campaign: Campaign, number: str, last: Delivery | None) -> Person | None:
    if last is not None:
        return last.person
    phone = PersonPhone.objects.filter(campaign=campaign, number=number).select_related("person").first()
    return phone.person if phone else None


def _in_conversation(
    campaign: Campaign, number: str, text: str, last: Delivery | None, *, unread: bool, close: bool = False
) -> Text:
    now = timezone.now()
    conversation, _created = Conversation.objects.get_or_create(
        campaign=campaign, number=number, defaults={"person": person_for(campaign, number, last)}
    )
    conversation.last_message_at = now
    conversation.unread = conversation.unread or unread
    if close:
        conversation.status = Conversation.Status.CLOSED
    elif unread:
        conversation.status = Conversation.Status.OPEN
    conversation.save(update_fields=["last_message_at", "unread", "status"])
    return Text.objects.create(
        conversation=conversation,
        direction=Text.Direction.IN,
        body=text[:1600],
        status=Text.Status.RECEIVED,
        in_reply_to=last,
        at=now,
    )


# --- The webhook -------------------------------------------------------------------------------


@csrf_exempt
def sms_webhook(request: HttpRequest, key: str) -> HttpResponse:
    """/hooks/sms/<key>/: a provider's receipts, replies and opt-outs for one transport.

    Signed per the provider's scheme (or a shared token for providers that do not sign);
    anything that does not verify is refused and nothing is read."""
    if too_many(request, "sms-webhook", limit=6000):
        return HttpResponse(status=429)
    config = TransportConfig.objects.filter(webhook_key=key).select_related("campaign").first()
    if config is None:
        raise Http404
    kind = transport_kind(config.kind)
    if kind.inbound is None:
        raise Http404
    body = request.body  # read before the form fields, or it is gone
    params = {**request.GET.dict(), **request.POST.dict()}
    inbound = InboundRequest(
        method=request.method or "GET",
        # The address the provider was given (and signed), whatever proxy is in front.
        url=f"{settings.SITE_URL}{request.get_full_path()}",
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        params=params,
    )
    try:
        events = kind.inbound(inbound, config.settings, decrypt_json(config.secrets))
    except SignatureError:
        return HttpResponse(status=403)
    events_receive(config, events)
    answer, content_type = kind.inbound_answer
    return HttpResponse(answer, content_type=content_type)
