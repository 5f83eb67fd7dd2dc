"""What the sending engine (messaging.engine) asks of a text-message mailing: the
hours it may run, who receives it, and each recipient's message.

A text message is the signature, the author's text personalised, and the opt-out
mention, which the author cannot remove (the CNIL: every SMS identifies its sender
and offers STOP). Numbers without SMS consent (a rented list) receive, once, the
mailing's consent request instead, and nothing else until they answer yes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import override

from suffrage.core.models import Campaign
from suffrage.messaging.models import Delivery, Mailing
from suffrage.messaging.rendering import PERSON_FIELDS, Part, Placeholder, parse, person_values
from suffrage.messaging.schedule import Window
from suffrage.messaging.tracking import delivery_token
from suffrage.messaging.transports.base import SmsMessage
from suffrage.people.models import Channel, Person, PersonPhone, lawful_contact, reachable
from suffrage.privacy.services import suppressed_among
from suffrage.texting.gsm import sms_length
from suffrage.texting.holidays import is_public_holiday
from suffrage.texting.models import SmsSettings, sms_settings

SMS_FIELDS = tuple(name for name in PERSON_FIELDS if name != "email")
CONSENT_REQUEST = "c"  # Delivery.variant of a consent request


def sms_window(campaign: Campaign) -> Window:
    options = sms_settings(campaign)
    alsace = options.alsace_moselle

    def closed_on(day: Any) -> bool:
        return options.skip_public_holidays and is_public_holiday(day, alsace_moselle=alsace)

    return Window(
        days=frozenset(options.send_days if options.send_days else range(7)),
        start=options.send_from,
        end=options.send_until,
        closed_on=closed_on,
    )


# --- Each recipient's message -----------------------------------------------------------


def signature(options: SmsSettings) -> str:
    return options.signature or options.campaign.name


def stop_mention(options: SmsSettings) -> str:
    """The opt-out mention added to every message (not removable), in the campaign's language."""
    with override(options.campaign.language):
        if options.stop_number:
            return _("STOP to %(number)s") % {"number": options.stop_number}
        return _("Reply STOP to opt out")


def frame(options: SmsSettings) -> tuple[str, str]:
    """What comes before and after the author's text."""
    return f"{signature(options)}: ", f" {stop_mention(options)}"


def consent_question(options: SmsSettings, request: str) -> str:
    """A consent request as sent: the author's words, then how to say yes."""
    with override(options.campaign.language):
        how = _("Reply YES to agree.")
    return f"{request.strip()} {how}"


def render(parts: list[Part], values: dict[str, str]) -> str:
    return "".join(part.value(values) if isinstance(part, Placeholder) else part for part in parts)


def check_text(text: str) -> list[Part]:
    """The personalisation of a text message, refused with a message if not allowed
    (TemplateError)."""
    return parse(text, allowed=SMS_FIELDS)


@dataclass
class SmsPrepared:
    """Everything a worker computes once per text-message mailing."""

    mailing: Mailing
    transport: Any
    rate_per_second: float
    sender_id: str
    prefix: str
    suffix: str
    body: list[Part]
    consent_request: list[Part]

    def text_for(self, person: Any, variant: str = "") -> str:
        parts = self.consent_request if variant == CONSENT_REQUEST else self.body
        return f"{self.prefix}{render(parts, person_values(person, ''))}{self.suffix}"

    def message(self, delivery: Delivery) -> SmsMessage:
        return SmsMessage(
            to=delivery.address,
            body=self.text_for(delivery.person, delivery.variant),
            sender_id=self.sender_id,
            reference=delivery_token(delivery.pk) if delivery.pk else "",
        )

    def parts(self, message: SmsMessage) -> int:
        return sms_length(message.body).parts

    def tells_source(self, delivery: Delivery) -> bool:
        return False  # no room in a text: the consent request and the rights page do it

    def batch_recorded(self) -> None:
        """Receipts and replies that arrived on the sending connection (SMPP) are
        applied once the batch's provider ids are written, so that they match."""
        events = getattr(self.transport, "pending_events", None)
        if events:
            from suffrage.texting.inbound import events_receive

            received, events[:] = list(events), []
            events_receive(self.mailing.transport, received)


def sms_prepare(mailing: Mailing, *, with_transport: bool = True) -> SmsPrepared:
    """The mailing's texts compiled once; its transport built unless only the words are needed."""
    from suffrage.messaging.engine import build_transport

    options = sms_settings(mailing.campaign)
    prefix, suffix = frame(options)
    transport = build_transport(mailing.transport, None) if with_transport else None
    return SmsPrepared(
        mailing=mailing,
        transport=transport,
        rate_per_second=mailing.transport.rate_per_second,
        sender_id=options.sender_id,
        prefix=prefix,
        suffix=suffix,
        body=check_text(mailing.body),
        consent_request=check_text(consent_question(options, mailing.consent_request)),
    )


# --- Who receives it ----------------------------------------------------------------------


def usable_numbers() -> QuerySet[PersonPhone]:
    """Numbers a text can go to: able to receive SMS (not a landline, not found
    invalid by a provider) and not suppressed."""
    return PersonPhone.objects.filter(sms_capable=True, suppressed=False)


def asked_before(campaign: Campaign) -> Q:
    """People who were already sent a consent request by this campaign."""
    requests = Delivery.objects.filter(
        mailing__campaign=campaign, person_id=OuterRef("pk"), variant=CONSENT_REQUEST
    ).exclude(status=Delivery.Status.CANCELLED)
    return Q(Exists(requests))


def may_be_asked(campaign: Campaign) -> Q:
    """People without SMS consent (never given, never refused) whom the campaign may
    ask once: a usable number, no other lawful basis, not asked yet."""
    has_number = Exists(usable_numbers().filter(person_id=OuterRef("pk")))
    return Q(consent_sms__isnull=True) & ~lawful_contact(Channel.SMS) & Q(has_number) & ~asked_before(campaign)


def audience_breakdown(mailing: Mailing, people: Any) -> dict[str, int]:
    """Who of these people will receive the text, who will be asked for consent, and
    why the others will not; each counted once, under the first reason that applies."""
    has_phone = Exists(PersonPhone.objects.filter(person_id=OuterRef("pk")))
    has_usable = Exists(usable_numbers().filter(person_id=OuterRef("pk")))
    has_mobile = Exists(PersonPhone.objects.filter(person_id=OuterRef("pk"), sms_capable=True))
    lawful = lawful_contact(Channel.SMS)
    asks = may_be_asked(mailing.campaign) if mailing.consent_request.strip() else Q(pk__in=[])
    counts = people.order_by().aggregate(
        in_segment=Count("pk"),
        no_number=Count("pk", filter=~Q(has_phone)),
        landline=Count("pk", filter=Q(has_phone) & ~Q(has_mobile)),
        opted_out=Count("pk", filter=Q(has_mobile) & Q(consent_sms=False)),
        will_be_asked=Count("pk", filter=Q(has_mobile) & asks),
        no_consent=Count("pk", filter=Q(has_mobile) & ~Q(consent_sms=False) & ~lawful & ~asks),
        will_receive=Count("pk", filter=lawful & Q(has_usable)),
    )
    counts["suppressed"] = counts["in_segment"] - sum(value for key, value in counts.items() if key != "in_segment")
    return {key: int(value) for key, value in counts.items()}


def recipients_sample(mailing: Mailing, people: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The first numbers the mailing will go to, shown before sending."""
    first = usable_numbers().filter(person_id=OuterRef("pk")).order_by("pk").values("number")[:1]
    asks = may_be_asked(mailing.campaign) if mailing.consent_request.strip() else Q(pk__in=[])
    rows = people.filter(reachable(Channel.SMS) | asks).annotate(number=Subquery(first)).order_by("pk")[:limit]
    lawful = set(people.filter(lawful_contact(Channel.SMS), pk__in=[p.pk for p in rows]).values_list("pk", flat=True))
    return [{"person": person, "number": person.number, "consent_request": person.pk not in lawful} for person in rows]


def sms_deliveries_create(mailing: Mailing, people: QuerySet[Person]) -> int:
    """One delivery per person: the message to the reachable, the consent request to
    those who may be asked. Then numbers on the SMS suppression list are cancelled."""
    _insert(mailing, people.filter(reachable(Channel.SMS)), variant="")
    if mailing.consent_request.strip():
        _insert(mailing, people.filter(may_be_asked(mailing.campaign)), variant=CONSENT_REQUEST)
    queued = list(Delivery.objects.filter(mailing=mailing, status=Delivery.Status.QUEUED).values_list("pk", "address"))
    blocked = suppressed_among(mailing.campaign_id, Channel.SMS, {number for _pk, number in queued})
    Delivery.objects.filter(pk__in=[pk for pk, number in queued if number in blocked]).update(
        status=Delivery.Status.CANCELLED, error=_("Number on the suppression list.")
    )
    return Delivery.objects.filter(mailing=mailing).count()


def _insert(mailing: Mailing, people: QuerySet[Person], *, variant: str) -> None:
    first = usable_numbers().filter(person_id=OuterRef("pk")).order_by("pk").values("number")[:1]
    rows = people.annotate(recipient=Subquery(first)).order_by().values("recipient", member=F("pk"))
    sql, params = rows.query.sql_with_params()
    columns = "mailing_id, person_id, address, variant, status, attempts, claimed_by, provider_id, error, parts"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Delivery._meta.db_table} ({columns}) "  # noqa: S608
            f"SELECT %s, selected.member, selected.recipient, %s, %s, 0, '', '', '', 0 FROM ({sql}) AS selected "
            f"WHERE NOT EXISTS (SELECT 1 FROM {Delivery._meta.db_table} d "
            f"WHERE d.mailing_id = %s AND d.person_id = selected.member)",
            [mailing.pk, variant, Delivery.Status.QUEUED, *params, mailing.pk],
        )


# --- What comes back from sending --------------------------------------------------------


def number_failed(campaign: Campaign, number: str, reason: str) -> None:
    """A provider said this number can never receive a text (invalid, landline, barred):
    nobody in the campaign is texted on it again (calls are not affected)."""
    PersonPhone.objects.filter(campaign=campaign, number=number).update(sms_capable=False)
