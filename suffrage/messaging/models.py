"""Email campaigns: who sends (senders), through what (transports), what (mailings
and templates), to whom (one delivery row per recipient, created up front) and what
came back (tracking events)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign
from suffrage.people.models import Person


def email_transport_choices() -> models.Q:
    """Transports that send email (not SMS), for a foreign key's choices."""
    from suffrage.messaging.transports import kinds_for

    return models.Q(kind__in=kinds_for("email"))


class MailSettings(models.Model):
    """A campaign's choices for all its mailings."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="mail_settings")
    open_tracking = models.BooleanField(
        _("track opens"),
        default=False,
        help_text=_("Off by default: an invisible image tells when and where a message is read."),
    )
    # Sends happen only inside these hours (campaign's time zone), on these days.
    send_from = models.TimeField(_("send from"), null=True, blank=True)
    send_until = models.TimeField(_("send until"), null=True, blank=True)
    send_days = models.JSONField(_("days sends are allowed"), default=list, blank=True)  # 0 = Monday; [] = all
    brand_name = models.CharField(_("name in the message header"), max_length=120, blank=True)
    brand_colour = models.CharField(_("brand colour"), max_length=7, default="#1d4ed8")
    identity = models.TextField(
        _("sender's identity"),
        blank=True,
        help_text=_("Who sends: the candidate or the party, with a postal address. Shown in every footer."),
    )
    privacy_contact = models.EmailField(_("address for privacy requests"), blank=True)
    # Automatic messages (notices.py); blank: the campaign's first sender and transport.
    notice_sender = models.ForeignKey(
        "Sender",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sender of automatic messages"),
        help_text=_("Confirmations, automatic replies and reminders. Blank: the first sender."),
    )
    notice_transport = models.ForeignKey(
        "TransportConfig",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to=email_transport_choices,
        verbose_name=_("transport of automatic messages"),
        help_text=_("Blank: the first email transport."),
    )

    def __str__(self) -> str:
        return f"mail settings of {self.campaign}"


class Sender(models.Model):
    """A From: identity, with the DKIM key its domain publishes."""

    class Algorithm(models.TextChoices):
        RSA = "rsa-sha256", _("RSA 2048 (understood everywhere)")
        ED25519 = "ed25519-sha256", _("Ed25519 (shorter, newer)")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="senders")
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("address"))
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    dkim_selector = models.CharField(_("DKIM selector"), max_length=60, default="suffrage")
    dkim_algorithm = models.CharField(
        _("DKIM algorithm"), max_length=20, choices=Algorithm.choices, default=Algorithm.RSA
    )
    dkim_private_key = models.TextField(editable=False)  # encrypted (core.secrets)
    dkim_public_key = models.TextField(editable=False)
    dns_status = models.JSONField(default=dict, blank=True)  # purpose -> status, from the last check
    checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sender")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].lower()


class TransportConfig(models.Model):
    """How a campaign's messages leave: its SMTP server or its account at a provider."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="transports")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20)
    settings = models.JSONField(default=dict, blank=True)
    secrets = models.TextField(blank=True, editable=False)  # encrypted JSON (core.secrets)
    rate_per_second = models.FloatField(
        _("messages per second at most"), default=10, help_text=_("The provider's or the server's limit.")
    )
    # The provider's webhooks call /hooks/email/<key>/: unguessable, not the row id.
    webhook_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Text messages: what one part costs at this provider (the composer's estimate).
    price_per_part = models.DecimalField(
        _("price of one SMS part (€)"), max_digits=6, decimal_places=4, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("transport")

    def __str__(self) -> str:
        return self.name


class EmailTemplate(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="email_templates")
    name = models.CharField(_("name"), max_length=150)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    preheader = models.CharField(_("preheader"), max_length=200, blank=True)
    body = models.TextField(_("body (Markdown)"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("email template")

    def __str__(self) -> str:
        return self.name


class Mailing(models.Model):
    """A message to a segment, by email or by text message (`channel`): the same
    engine sends both, one delivery per recipient."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        TESTING = "testing", _("A/B test running")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")
        SENT = "sent", _("Sent")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="mailings")
    channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.EMAIL)
    name = models.CharField(_("name"), max_length=150)
    # Emails only (a text message's sender id is in the campaign's SMS settings).
    sender = models.ForeignKey(
        Sender, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("sender")
    )
    transport = models.ForeignKey(
        TransportConfig, on_delete=models.PROTECT, related_name="+", verbose_name=_("transport")
    )
    segment = models.ForeignKey(
        "segments.Segment", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("segment")
    )
    subject = models.CharField(_("subject"), max_length=200)
    subject_b = models.CharField(_("second subject (A/B test)"), max_length=200, blank=True)
    ab_sample_percent = models.PositiveSmallIntegerField(_("A/B test sample (%)"), default=20)
    ab_wait_hours = models.PositiveSmallIntegerField(_("hours before choosing the winner"), default=4)
    ab_winner = models.CharField(max_length=1, blank=True)
    ab_decide_at = models.DateTimeField(null=True, blank=True)
    preheader = models.CharField(_("preheader"), max_length=200, blank=True)
    body = models.TextField(_("body (Markdown)"))
    footer = models.TextField(_("footer (Markdown)"))
    # Text messages: what numbers without SMS consent (a rented list) receive instead,
    # once; blank: they receive nothing. Only a "yes" to it lets later messages through.
    consent_request = models.TextField(_("consent request"), blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.CharField(max_length=300, blank=True)
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    snapshot = models.ForeignKey("segments.Snapshot", null=True, on_delete=models.SET_NULL, related_name="+")
    # "12,400 in segment, 9,800 will receive it…", as computed when sending started.
    audience = models.JSONField(default=dict, blank=True)
    # Recipients claimed by a worker that died: sent again, so perhaps received twice.
    resent_after_crash = models.PositiveIntegerField(default=0)
    complaint_alarm = models.BooleanField(default=False)
    # One worker sends a mailing at a time (so the transport's rate holds); another
    # takes over when its heartbeat stops.
    sending_by = models.CharField(max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("mailing")

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.SCHEDULED)

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.SENDING, self.Status.TESTING)


class Delivery(models.Model):
    """One message to one person, created before anything is sent (unique per mailing)."""

    class Status(models.TextChoices):
        HELD = "held", _("Waiting for the A/B winner")
        QUEUED = "queued", _("Queued")
        CLAIMED = "claimed", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    # No database constraints: a send inserts its whole audience at once (see SnapshotMember).
    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False)
    address = models.CharField(max_length=254)
    # "a"/"b" in an A/B sample; "c": a text message's consent request instead of the message.
    variant = models.CharField(max_length=1, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Text messages: the SMS parts billed. A database default: sends insert rows in raw SQL.
    parts = models.PositiveSmallIntegerField(default=0, db_default=0)
    # What came back, first time only (the events table keeps every one).
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailing", "person"], name="delivery_unique")]
        indexes = [
            models.Index(fields=["mailing", "status"], name="delivery_mailing_status"),
            models.Index(fields=["provider_id"], name="delivery_provider_id"),
        ]

    def __str__(self) -> str:
        return f"{self.mailing_id}→{self.address}"


class Link(models.Model):
    """A link of a mailing's body, rewritten to count clicks."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="links")
    position = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=2000)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["mailing", "position"], name="link_unique")]

    def __str__(self) -> str:
        return self.url


class TrackingEvent(models.Model):
    class Kind(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Not delivered")  # a text message's receipt
        REPLIED = "replied", _("Replied")
        DEFERRED = "deferred", _("Delayed")
        BOUNCED = "bounced", _("Bounced")
        OPENED = "opened", _("Opened")
        CLICKED = "clicked", _("Clicked")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        COMPLAINED = "complained", _("Reported as spam")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    link = models.ForeignKey(Link, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["delivery", "kind"], name="tracking_delivery_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.delivery_id}"


def mail_settings(campaign: Campaign) -> MailSettings:
    found, _created = MailSettings.objects.get_or_create(campaign=campaign)
    return found


class Notice(models.Model):
    """An automatic message to one person because they did something: the reply to a
    web form, a confirmation link, an RSVP with its calendar file, a reminder. Not a
    mailing (no segment, no marketing consent: the person asked for it). The row is the
    outbox (sent once, by notices.py) and the record: no audit row per notice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        CLAIMED = "claimed", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="notices")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    to = models.EmailField(_("sent to"))
    kind = models.CharField(_("kind"), max_length=30, blank=True)  # "autoreply", "confirmation", "rsvp"…
    # Unique in the campaign ("rsvp:12:confirmation"): queuing the same notice twice is a no-op.
    key = models.CharField(max_length=200)
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    attachments = models.JSONField(default=list, blank=True)  # [{"filename", "mimetype", "content_b64"}]
    send_after = models.DateTimeField(_("send after"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent on"), null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("automatic message")
        constraints = [models.UniqueConstraint(fields=["campaign", "key"], name="notice_unique_key")]
        indexes = [models.Index(fields=["status", "send_after"], name="notice_status_send_after")]

    def __str__(self) -> str:
        return f"{self.kind or 'notice'} {self.key}"
