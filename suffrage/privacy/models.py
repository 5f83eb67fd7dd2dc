"""What the campaign needs to prove it is lawful: the suppression list (addresses and
numbers never to contact again, kept only as keyed hashes), rights requests and
their deadlines, the retention policy, and the processing register."""

from __future__ import annotations

import datetime
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign


def suppression_digest(value: str) -> str:
    """A keyed hash of a normalised email address or E.164 number: enough to recognise
    it when it comes back, not to read it (SUPPRESSION_KEY, else derived from SECRET_KEY)."""
    key = (settings.SUPPRESSION_KEY or f"suppression:{settings.SECRET_KEY}").encode()
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()


class Suppression(models.Model):
    class Reason(models.TextChoices):
        BOUNCE = "bounce", _("Permanent bounce")
        COMPLAINT = "complaint", _("Spam complaint")
        ERASURE = "erasure", _("Erasure request")
        OBJECTION = "objection", _("Objection: no contact at all")
        STOP = "stop", _("Replied STOP to a text message")
        MANUAL = "manual", _("Added by hand")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=10)  # "email", "phone" or "sms" (texts only)
    digest = models.CharField(max_length=64, default="")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("suppressed address")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "channel", "digest"], name="suppression_digest_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.digest[:12]}…"


def one_month_after(day: datetime.date) -> datetime.date:
    """GDPR art. 12(3): an answer within one month (same day next month, or the month's last)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError(day)


class RightsRequest(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("Access")
        RECTIFICATION = "rectification", _("Rectification")
        ERASURE = "erasure", _("Erasure")
        OBJECTION = "objection", _("Objection (stop all contact)")
        PORTABILITY = "portability", _("Portability")
        RESTRICTION = "restriction", _("Restriction")

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("Identity not yet confirmed")
        OPEN = "open", _("To handle")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Answered")
        REFUSED = "refused", _("Refused (with the reason)")

    class Channel(models.TextChoices):
        SELF_SERVICE = "self_service", _("Public page")
        EMAIL = "email", _("Email")
        POST = "post", _("Letter")
        PHONE = "phone", _("Phone")
        IN_PERSON = "in_person", _("In person")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rights_requests")
    kind = models.CharField(_("request"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    channel = models.CharField(_("received by"), max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    # The person it concerns, once found; an erased person leaves the request (and its proof).
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="rights_requests"
    )
    requester_name = models.CharField(_("requester's name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("email to answer"), blank=True)
    contact_phone = models.CharField(_("phone to answer"), max_length=20, blank=True)
    details = models.TextField(_("details"), blank=True)
    received_at = models.DateTimeField(_("received on"), default=timezone.now)
    due_on = models.DateField(_("answer due by"))
    verified_at = models.DateTimeField(_("identity confirmed on"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    outcome = models.TextField(_("answer given"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("rights request")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.due_on:
            self.due_on = one_month_after(timezone.localdate(self.received_at))
        super().save(*args, **kwargs)

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED)

    @property
    def is_late(self) -> bool:
        return not self.is_closed and self.due_on < timezone.localdate()


class Verification(models.Model):
    """A code or link proving that whoever asks on the public page holds the email
    or phone on file. Only a hash of the secret is stored."""

    request = models.ForeignKey(RightsRequest, on_delete=models.CASCADE, related_name="verifications")
    channel = models.CharField(max_length=10)  # "email" or "sms"
    secret_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.channel} for {self.request_id}"


class RetentionPolicy(models.Model):
    """How long each kind of data is kept, tied to the campaign's election dates.
    `rules` overrides the French defaults (privacy.retention.DEFAULT_RULES)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="retention_policy")
    rules = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(_("apply automatically"), default=False)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"retention of {self.campaign}"


class ProcessingRegister(models.Model):
    """The record of processing activities (GDPR art. 30) and the impact-assessment
    checklist, generated from the configuration, then edited by the officer."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="processing_register")
    document = models.TextField(_("register (Markdown)"), blank=True)
    dpia = models.JSONField(default=dict, blank=True)  # question key -> {"answer", "note"}
    generated_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"register of {self.campaign}"
