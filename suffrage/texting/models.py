"""Text messages beyond the mailing itself (which is a messaging.Mailing with the
"sms" channel): the campaign's SMS settings, and conversations — the replies people
send, answered one person at a time by the volunteers they are assigned to."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign
from suffrage.people.models import Person

# Replies that opt a number out, whatever the case, accents or spaces around them
# (French operators' and the CNIL's "STOP", and their usual variants).
DEFAULT_STOP_WORDS = ["STOP", "STOP SMS", "ARRET", "ARRÊT", "UNSUBSCRIBE", "DESABONNER", "DÉSABONNER", "END", "QUIT"]
# Replies that answer "yes" to a consent request.
DEFAULT_YES_WORDS = ["OUI", "YES", "O", "Y", "OK", "START"]


def _default_days() -> list[int]:
    return [0, 1, 2, 3, 4, 5]  # Monday to Saturday


class SmsSettings(models.Model):
    """A campaign's choices for every text message it sends."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="sms_settings")
    transport = models.ForeignKey(
        "messaging.TransportConfig",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("provider"),
        help_text=_("Used for conversations and as the default for new text messages."),
    )
    sender_id = models.CharField(
        _("sender"),
        max_length=15,
        blank=True,
        help_text=_("Up to 11 letters and digits (“Dupont2026”), or a phone number that can receive replies."),
    )
    signature = models.CharField(
        _("signature"),
        max_length=40,
        blank=True,
        help_text=_("Who sends, at the start of every message (“Dupont 2026:”). Blank: the campaign's name."),
    )
    stop_number = models.CharField(
        _("number for STOP"),
        max_length=20,
        blank=True,
        help_text=_("The short number people text STOP to (your provider's, e.g. 36111). Blank: reply STOP."),
    )
    send_from = models.TimeField(_("send from"), default=datetime.time(8, 0))
    send_until = models.TimeField(_("send until"), default=datetime.time(20, 0))
    send_days = models.JSONField(_("days sends are allowed"), default=_default_days)  # 0 = Monday
    skip_public_holidays = models.BooleanField(_("never on public holidays"), default=True)
    alsace_moselle = models.BooleanField(
        _("Alsace-Moselle holidays too"), default=False, help_text=_("Good Friday and 26 December.")
    )
    stop_words = models.JSONField(_("words that opt out"), default=list, blank=True)
    yes_words = models.JSONField(_("words that mean yes"), default=list, blank=True)

    def __str__(self) -> str:
        return f"SMS settings of {self.campaign}"


class Conversation(models.Model):
    """The thread with one number: what they wrote back and what we answered."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="conversations")
    number = models.CharField(_("number"), max_length=20)
    # Null for a number the campaign does not know (yet).
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="conversations")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    unread = models.BooleanField(default=False)
    last_message_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_message_at"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="conversation_unique_number")]
        indexes = [models.Index(fields=["campaign", "assigned_to", "status"], name="conversation_inbox")]

    def __str__(self) -> str:
        return self.number


class Text(models.Model):
    """One message of a conversation, in either direction."""

    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Sent")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Not delivered")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="texts")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The campaign message a reply answers (the last one sent to that number).
    in_reply_to = models.ForeignKey(
        "messaging.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    provider_id = models.CharField(max_length=200, blank=True)
    parts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["provider_id"], name="text_provider_id")]

    def __str__(self) -> str:
        return f"{self.direction} {self.conversation_id}"


class CannedAnswer(models.Model):
    """A ready answer volunteers pick in a conversation (they may change it before sending)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="canned_answers")
    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(_("text"))

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned answer")

    def __str__(self) -> str:
        return self.title


def sms_settings(campaign: Campaign) -> SmsSettings:
    found, _created = SmsSettings.objects.get_or_create(
        campaign=campaign, defaults={"stop_words": DEFAULT_STOP_WORDS, "yes_words": DEFAULT_YES_WORDS}
    )
    return found
