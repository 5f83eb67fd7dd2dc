"""The campaign's own social-network accounts (to read followers and to publish), the
follower imports' suggested matches waiting for an organiser, and posts with their
publication on each network."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
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
    # Mastodon: the instance's limit when it allows more than the usual 500 characters.
    character_limit = models.PositiveIntegerField(
        _("character limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(50), MaxValueValidator(100_000)],
        help_text=_("Mastodon only: the instance's limit, when it is not 500. Leave blank for 500."),
    )
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


class NetworkArrival(models.Model):
    """A person the campaign's audience on a network brought into the base, or matched
    in it (an import, a lead, a confirmed suggestion): the first time only. It feeds the
    reports; `person_id` is a plain column, like the import rows' (a merge maps it
    through the kept record's `merged_ids`)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    network = models.CharField(max_length=12, choices=Network.choices)
    person_id = models.BigIntegerField(db_index=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "network", "person_id"], name="network_arrival_unique")
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.person_id}"


def new_post_code() -> str:
    """What names a post in its tracked links: unguessable, unlike the row id."""
    return secrets.token_hex(8)


class Post(models.Model):
    """A post written once and published on several of the campaign's accounts, each
    with its own text when it needs one (`Publication`)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHING = "publishing", _("Being published")
        PUBLISHED = "published", _("Published")
        PARTIAL = "partial", _("Partly published")
        FAILED = "failed", _("Not published")
        BLOCKED = "blocked", _("Blocked by the electoral silence")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="social_posts")
    code = models.CharField(max_length=16, unique=True, default=new_post_code, editable=False)
    text = models.TextField(_("text"))
    image = models.FileField(_("image"), upload_to="social/%Y/%m/", blank=True)
    image_name = models.CharField(max_length=200, blank=True)  # as uploaded, for the networks
    image_alt = models.CharField(
        _("image description"),
        max_length=1500,
        blank=True,
        help_text=_("What the image shows, for people who cannot see it."),
    )
    # The link: one of the campaign's public pages (tracked), or any address.
    action = models.ForeignKey("engagement.Action", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event = models.ForeignKey("engagement.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    call = models.ForeignKey(
        "engagement.CallToAction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    url = models.URLField(_("link"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)  # its first publication
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("post")
        indexes = [
            models.Index(fields=["campaign", "status"], name="post_campaign_status"),
            models.Index(fields=["status", "scheduled_at"], name="post_status_scheduled"),
        ]
        constraints = [
            # One link at most: a form, an event, a call to action, or an address.
            models.CheckConstraint(
                condition=(
                    models.Q(action__isnull=True, event__isnull=True)
                    | models.Q(action__isnull=True, call__isnull=True)
                    | models.Q(event__isnull=True, call__isnull=True)
                )
                & (models.Q(url="") | models.Q(action__isnull=True, event__isnull=True, call__isnull=True)),
                name="post_one_link",
            )
        ]

    def __str__(self) -> str:
        first_line = (self.text.strip().splitlines() or [""])[0]
        return first_line[:60] + ("…" if len(first_line) > 60 else "")

    @property
    def target(self) -> Any:
        """The campaign's public page the post links to, if any."""
        return self.action or self.event or self.call

    @property
    def is_editable(self) -> bool:
        """Nothing of it is out: it can still change, or go."""
        return self.status in (self.Status.DRAFT, self.Status.SCHEDULED, self.Status.FAILED, self.Status.BLOCKED)


class Publication(models.Model):
    """A post on one account. Claimed by a conditional UPDATE before the network is
    called, so that it is never published twice."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        SENDING = "sending", _("Being published")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")
        BLOCKED = "blocked", _("Blocked")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="publications")
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="publications")
    network = models.CharField(max_length=12, choices=[(n.value, n.label) for n in CONNECTABLE])
    # This network's version of the text; blank: the post's text.
    text = models.TextField(_("text for this account"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    remote_id = models.CharField(max_length=300, blank=True)
    remote_url = models.URLField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account__network", "account__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["post", "account"], name="publication_unique")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="publication_status_next")]

    def __str__(self) -> str:
        return f"{self.post_id}@{self.account_id} {self.status}"

    @property
    def body(self) -> str:
        """The text this account publishes (before the link is added)."""
        return self.text if self.text.strip() else self.post.text
