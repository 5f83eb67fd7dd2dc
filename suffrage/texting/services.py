"""Writes on text messages: SMS settings, text-message mailings (save, test), canned
answers, conversations (hand out, close, answer one person). Audited. Sending a
mailing, pausing or cancelling it are messaging's services (the same engine)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.messaging.engine import build_transport
from suffrage.messaging.models import Mailing, TransportConfig
from suffrage.messaging.rendering import TemplateError
from suffrage.messaging.schedule import send_refusal
from suffrage.messaging.transports import kinds_for
from suffrage.messaging.transports.base import (
    PermanentFailure,
    SmsMessage,
    TemporaryFailure,
    TransportConfigurationError,
)
from suffrage.people.models import Channel, Person
from suffrage.privacy.services import is_suppressed
from suffrage.texting.gsm import sms_length
from suffrage.texting.models import CannedAnswer, Conversation, SmsSettings, Text, sms_settings
from suffrage.texting.sending import CONSENT_REQUEST, check_text, frame, number_failed, sms_prepare

# --- Settings -----------------------------------------------------------------------------


@transaction.atomic
def sms_settings_save(*, form: Any, actor: User) -> SmsSettings:
    """Save the settings form (a ModelForm on the campaign's SmsSettings), audited."""
    options: SmsSettings = form.save()
    changes = {name: str(value) for name, value in form.cleaned_data.items() if name in form.changed_data}
    audit_record(action="sms_settings.update", campaign=options.campaign, obj=options, actor=actor, changes=changes)
    return options


def sms_transports(campaign: Campaign) -> QuerySet[TransportConfig]:
    return TransportConfig.objects.filter(campaign=campaign, kind__in=kinds_for("sms"))


def default_transport(campaign: Campaign) -> TransportConfig | None:
    return sms_settings(campaign).transport or sms_transports(campaign).order_by("pk").first()


# --- Mailings by text -----------------------------------------------------------------------


def _check(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for name in ("body", "consent_request"):
        try:
            check_text(values.get(name, ""))
        except TemplateError as error:
            errors.setdefault(name, []).append(str(error))
    if not values.get("body", "").strip():
        errors.setdefault("body", []).append(_("Write the message."))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def sms_mailing_save(
    *, campaign: Campaign, values: dict[str, Any], actor: User, mailing: Mailing | None = None
) -> Mailing:
    if mailing is not None and not mailing.is_editable:
        raise ValidationError(_("This message has started: it can no longer be changed."))
    _check(values)
    mailing = mailing or Mailing(campaign=campaign, channel=Mailing.Channel.SMS, created_by=actor, footer="")
    for key in ("name", "transport", "segment", "body", "consent_request"):
        if key in values:
            setattr(mailing, key, values[key])
    mailing.subject = ""
    created = mailing.pk is None
    mailing.save()
    audit_record(action="sms.create" if created else "sms.update", campaign=campaign, obj=mailing, actor=actor)
    return mailing


def _deliver(transport_config: TransportConfig, message: SmsMessage) -> str:
    """Send one text now; the provider's id. Failures become a message for the page."""
    transport = build_transport(transport_config, None)
    try:
        transport.open()
        try:
            return str(transport.send(message).provider_id)
        finally:
            transport.close()
    except (TemporaryFailure, TransportConfigurationError) as error:
        raise ValidationError(_("The text could not be sent: %(error)s") % {"error": error}) from error


def sms_test_send(*, mailing: Mailing, person: Person, number: str, actor: User, consent_request: bool = False) -> str:
    """Send the text as `person` would get it, to a colleague's phone, marked as a test."""
    prepared = sms_prepare(mailing)
    body = prepared.text_for(person, CONSENT_REQUEST if consent_request else "")
    message = SmsMessage(to=number, body=_("[TEST] %(text)s") % {"text": body}, sender_id=prepared.sender_id)
    try:
        _deliver(mailing.transport, message)
    except ValidationError:
        raise
    except PermanentFailure as error:
        raise ValidationError(_("The text could not be sent: %(error)s") % {"error": error}) from error
    audit_record(action="sms.test_send", campaign=mailing.campaign, obj=mailing, actor=actor, changes={"to": number})
    return body


# --- Canned answers -------------------------------------------------------------------------


@transaction.atomic
def canned_save(
    *, campaign: Campaign, title: str, body: str, actor: User, answer: CannedAnswer | None = None
) -> CannedAnswer:
    answer = answer or CannedAnswer(campaign=campaign)
    answer.title, answer.body = title, body
    created = answer.pk is None
    answer.save()
    audit_record(action="canned.create" if created else "canned.update", campaign=campaign, obj=answer, actor=actor)
    return answer


@transaction.atomic
def canned_delete(*, answer: CannedAnswer, actor: User) -> None:
    audit_record(action="canned.delete", campaign=answer.campaign, obj=answer, actor=actor)
    answer.delete()


# --- Conversations ------------------------------------------------------------------------------


@transaction.atomic
def conversations_assign(
    *, campaign: Campaign, conversations: QuerySet[Conversation], to: User | None, actor: User
) -> int:
    """Give these conversations to one volunteer (or take them back: `to` None). Audited once."""
    ids = list(conversations.filter(campaign=campaign).values_list("pk", flat=True))
    Conversation.objects.filter(pk__in=ids).update(assigned_to=to)
    audit_record(
        action="conversations.assign",
        campaign=campaign,
        actor=actor,
        changes={"conversations": len(ids), "to": to.email if to else None},
    )
    return len(ids)


@transaction.atomic
def conversations_share(*, campaign: Campaign, volunteers: list[User], actor: User) -> int:
    """Share the open conversations nobody holds among these volunteers, in turn."""
    if not volunteers:
        raise ValidationError(_("Choose at least one person."))
    ids = list(
        Conversation.objects.filter(campaign=campaign, assigned_to__isnull=True, status=Conversation.Status.OPEN)
        .order_by("last_message_at")
        .values_list("pk", flat=True)
    )
    for index, volunteer in enumerate(volunteers):
        Conversation.objects.filter(pk__in=ids[index :: len(volunteers)]).update(assigned_to=volunteer)
    audit_record(
        action="conversations.share",
        campaign=campaign,
        actor=actor,
        changes={"conversations": len(ids), "to": [volunteer.email for volunteer in volunteers]},
    )
    return len(ids)


def conversation_status(*, conversation: Conversation, status: str, actor: User) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(status=status, unread=False)
    audit_record(action=f"conversation.{status}", campaign=conversation.campaign, obj=conversation, actor=actor)


def conversation_read(conversation: Conversation) -> None:
    if conversation.unread:
        Conversation.objects.filter(pk=conversation.pk).update(unread=False)


def _may_text(conversation: Conversation) -> None:
    campaign = conversation.campaign
    person = conversation.person
    if person is not None and person.consent_sms is False:
        raise ValidationError(_("This person has opted out of text messages."))
    if is_suppressed(campaign, Channel.SMS, conversation.number):
        raise ValidationError(_("This number has opted out of text messages."))
    refusal = send_refusal(campaign, timezone.now(), Channel.SMS)
    if refusal:
        raise ValidationError(refusal)


def conversation_reply(*, conversation: Conversation, text: str, actor: User) -> Text:
    """A volunteer's answer to one person, sent now, framed like every campaign text
    (who sends, how to stop). Refused for a number that opted out, outside the sending
    hours and during an election's silence."""
    if not text.strip():
        raise ValidationError({"text": [_("Write the answer.")]})
    _may_text(conversation)
    campaign = conversation.campaign
    transport = default_transport(campaign)
    if transport is None:
        raise ValidationError(_("No SMS provider is configured for this campaign."))
    options = sms_settings(campaign)
    prefix, suffix = frame(options)
    body = f"{prefix}{text.strip()}{suffix}"
    message = SmsMessage(to=conversation.number, body=body, sender_id=options.sender_id)
    try:
        provider_id = _deliver(transport, message)
    except PermanentFailure as error:
        number_failed(campaign, conversation.number, str(error))
        raise ValidationError(_("This number cannot receive text messages: %(error)s") % {"error": error}) from error
    now = timezone.now()
    sent = Text.objects.create(
        conversation=conversation,
        direction=Text.Direction.OUT,
        body=body,
        status=Text.Status.SENT,
        author=actor,
        provider_id=provider_id,
        parts=sms_length(body).parts,
        at=now,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, unread=False)
    audit_record(action="conversation.reply", campaign=campaign, obj=conversation, actor=actor)
    return sent
