"""Segments: a saved filter (dynamic: its people change as the base changes), or a
static list (the people who matched when it was frozen). Snapshots record exactly
who a send or an export targeted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign
from suffrage.people.models import Person


class Snapshot(models.Model):
    """Who matched a filter at one moment: a frozen list, or the recipients of a send."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=30)  # "static_list", "mailing", "export", "turf"…
    document = models.JSONField()  # the filter as it was
    count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class SnapshotMember(models.Model):
    # No database constraints: PostgreSQL would check both for each of the half million
    # rows a snapshot inserts at once (the rows come from a snapshot just created and
    # people just selected). Deleting a person or a snapshot still deletes these rows:
    # Django cascades.
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="members", db_constraint=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "person"], name="snapshot_member_unique")]

    def __str__(self) -> str:
        return f"{self.snapshot_id}:{self.person_id}"


class Segment(models.Model):
    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic segment")
        STATIC = "static", _("Static list")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    document = models.JSONField(default=dict)
    # A static list's people: the snapshot taken when it was frozen.
    snapshot = models.ForeignKey(Snapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="segment_name_unique")]

    def __str__(self) -> str:
        return self.name
