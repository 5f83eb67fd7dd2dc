"""The suppression list: addresses and numbers the campaign must never contact again,
whoever holds them and however they come back (a new import, a form)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign


class Suppression(models.Model):
    class Reason(models.TextChoices):
        BOUNCE = "bounce", _("Permanent bounce")
        COMPLAINT = "complaint", _("Spam complaint")
        MANUAL = "manual", _("Added by hand")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=10)
    # The normalised value (lowercase email address, E.164 number).
    value = models.CharField(_("address or number"), max_length=254)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("suppressed address")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "channel", "value"], name="suppression_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.value}"
