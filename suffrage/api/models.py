"""API tokens (a campaign's keys for other tools, with scopes) and outbound webhooks
(subscriptions to the campaign's events and the log of each delivery)."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign


class ApiToken(models.Model):
    """A key for the REST and OSDI APIs, acting for one campaign. The key itself is
    shown once at creation; only its prefix (to recognise it) and a hash are kept."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)  # SHA-256 of the whole key, hex
    scopes = models.JSONField(_("scopes"), default=list)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_active(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class WebhookSubscription(models.Model):
    """A URL of another tool that receives the campaign's events, signed with a secret
    (HMAC-SHA256 over the timestamp and the body). Disabled after repeated failures."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("address"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.TextField(blank=True, editable=False)  # encrypted (core.secrets)
    active = models.BooleanField(_("active"), default=True)
    # Deliveries that failed for good (every retry used) since the last one that arrived.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("webhook")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event sent (or to send) to one subscription: attempts, answer, next try.

    `payload` is the whole JSON body (its `id` is `event_id`, shared by the deliveries of
    one event to several subscriptions). `person_id` names the person the event is about
    (no foreign key: it survives a merge, and erasure finds the rows through it)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=50)
    payload = models.JSONField(default=dict)
    person_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log"),
            models.Index(fields=["campaign", "person_id"], name="webhook_delivery_person"),
            models.Index(fields=["created_at"], name="webhook_delivery_created"),
        ]
        constraints = [
            # An event reaches a subscription once: a retry or a replay reuses the row.
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_delivery_once"),
        ]
        verbose_name = _("webhook delivery")

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id}"
