"""The campaign's own social-network accounts (to read followers and to publish), the
follower imports' suggested matches waiting for an organiser, and posts with their
publication on each network."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign
from suffrage.people.models import Person


class Network(models.TextChoices):
    FACEBOOK = "facebook", _("Facebook")
    INSTAGRAM = "instagram", _("Instagram")
    X = "x", _("X (Twitter)")
    LINKEDIN = "linkedin", _("LinkedIn")
    MASTODON = "mastodon", _("Mastodon")
    BLUESKY = "bluesky", _("Bluesky")


# Networks Suffrage can read followers from and publish to with an account's credentials.
CONNECTABLE = (Network.MASTODON, Network.BLUESKY, Network.FACEBOOK)


class SocialAccount(models.Model):
    """One of the campaign's accounts: a Mastodon account, a Bluesky handle, a Facebook Page."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="social_accounts")
    network = models.CharField(_("network"), max_length=12, choices=[(n.value, n.label) for n in CONNECTABLE])
    name = models.CharField(_("name"), max_length=120)
    # Mastodon: "@campagne@mastodon.social"; Bluesky: "campagne.bsky.social"; Facebook: the Page id.
    handle = models.CharField(_("account"), max_length=200)
    # Mastodon: the instance ("https://mastodon.social"); others: blank for the public service.
    server = models.URLField(_("server"), blank=True)
    secrets = models.TextField(blank=True, editable=False)  # encrypted JSON (core.secrets)
    # Lead Ads webhooks call /hooks/social/<key>/: unguessable, not the row id.
    webhook_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network", "name"]
        verbose_name = _("social account")

    def __str__(self) -> str:
        return f"{self.get_network_display()} · {self.name}"


class ProfileSuggestion(models.Model):
    """A follower who may be someone the campaign knows (same name and town), waiting for
    an organiser: confirmed, the profile joins that person; refused, a social-only
    contact is created."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To review")
        CONFIRMED = "confirmed", _("Same person")
        REFUSED = "refused", _("Someone else")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    network = models.CharField(max_length=12, choices=Network.choices)
    handle = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    source_detail = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["campaign", "status"], name="suggestion_campaign_status")]

    def __str__(self) -> str:
        return f"{self.network}:{self.handle or self.external_id} → {self.candidate_id}"
