"""Electoral-roll extracts and the links between the campaign's people and roll entries.

Roll entries are not persons: they are reference data the campaign may use for one
election only (electoral code L37, CNIL). Every row hangs on a calendar election
and is deleted with it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import CalendarElection, Campaign
from suffrage.people.models import Person
from suffrage.territory.models import PollingStation


class RollVersion(models.Model):
    """One imported extract: the roll of a commune or constituency on a date."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="roll_versions")
    election = models.ForeignKey(
        CalendarElection, on_delete=models.CASCADE, related_name="roll_versions", verbose_name=_("election")
    )
    scope = models.CharField(
        _("commune or constituency"), max_length=100, help_text=_("e.g. 29019 (Brest) or 2902 (2nd constituency)")
    )
    extracted_on = models.DateField(_("extract date"))
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    batch = models.OneToOneField(
        "imports.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="roll_version"
    )
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    entry_count = models.PositiveIntegerField(default=0)
    # Against the previous version of the same scope: {"new": n, "removed": n, "moved": n}.
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-extracted_on", "-pk"]
        verbose_name = _("roll version")

    def __str__(self) -> str:
        return f"{self.scope} — {self.extracted_on:%d/%m/%Y}"


class RollEntry(models.Model):
    """One elector as the roll lists them. Browsed by polling station, street and age
    band only: never sorted or filtered by surname or place of birth (CNIL)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(RollVersion, on_delete=models.CASCADE, related_name="entries")
    elector_number = models.CharField(_("elector number"), max_length=30, blank=True)
    list_type = models.CharField(_("list"), max_length=10, blank=True)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    birth_name = models.CharField(_("birth name"), max_length=150)
    usage_name = models.CharField(_("usage name"), max_length=150, blank=True)
    first_names = models.CharField(_("first names"), max_length=200, blank=True)
    # Partial dates exist ("00/00/1950" for some people born abroad): parts are kept apart.
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(null=True, blank=True)
    birth_place = models.CharField(_("place of birth"), max_length=150, blank=True)
    birth_country = models.CharField(_("country of birth"), max_length=100, blank=True)
    nationality = models.CharField(_("nationality"), max_length=100, blank=True)
    station = models.ForeignKey(PollingStation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    station_code = models.CharField(_("polling station"), max_length=100, blank=True)
    number = models.CharField(_("number"), max_length=20, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    complement = models.CharField(_("address complement"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    town = models.CharField(_("town"), max_length=100, blank=True)
    street_key = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("roll entry")
        indexes = [
            models.Index(fields=["version", "station_code", "street_key"], name="roll_entry_browse"),
            models.Index(fields=["version", "elector_number"], name="roll_entry_elector"),
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.first_names, self.usage_name or self.birth_name) if part)

    @property
    def birth_date_display(self) -> str:
        parts = (self.birth_day, self.birth_month, self.birth_year)
        return "/".join(f"{part:02d}" if part else "??" for part in parts) if self.birth_year else ""

    @property
    def address(self) -> str:
        return " ".join(part for part in (self.number, self.street, self.postcode, self.town) if part)


class RollChange(models.Model):
    """What changed between a version and the previous one of the same scope."""

    class Kind(models.TextChoices):
        NEW = "new", _("New elector")
        REMOVED = "removed", _("Removed")
        MOVED = "moved", _("Moved to another polling station")

    version = models.ForeignKey(RollVersion, on_delete=models.CASCADE, related_name="change_rows")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    entry = models.ForeignKey(RollEntry, null=True, on_delete=models.CASCADE, related_name="+")  # in this version
    previous_entry = models.ForeignKey(RollEntry, null=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["version", "kind"], name="roll_change_kind")]

    def __str__(self) -> str:
        return self.kind


class MatchModel(models.Model):
    """A trained Splink model: its parameters, what it was trained on, its thresholds."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(RollVersion, on_delete=models.CASCADE, related_name="models")
    number = models.PositiveIntegerField()
    backend = models.CharField(max_length=10, default="duckdb")
    parameters = models.JSONField(default=dict)  # Splink's settings with the trained m and u
    training = models.JSONField(default=dict)  # counts, blocks, time: the data summarised, never the data
    upper = models.FloatField(_("link automatically from"), default=0.99)
    lower = models.FloatField(_("review from"), default=0.5)
    index_path = models.CharField(max_length=300, blank=True)
    trained_at = models.DateTimeField(default=timezone.now)
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="match_model_number")]

    def __str__(self) -> str:
        return f"#{self.number}"


class RollLink(models.Model):
    """A person found on the roll (or a candidate pair waiting for a decision)."""

    class Status(models.TextChoices):
        LINKED = "linked", _("Linked automatically")
        REVIEW = "review", _("To review")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roll_links")
    entry = models.ForeignKey(RollEntry, on_delete=models.CASCADE, related_name="links")
    model = models.ForeignKey(MatchModel, on_delete=models.CASCADE, related_name="links")
    probability = models.FloatField()
    weight = models.FloatField()
    explanation = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices)
    # Another person of the campaign scored better on the same entry: never linked silently.
    conflict = models.BooleanField(default=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "entry"], name="roll_link_unique")]
        indexes = [models.Index(fields=["campaign", "status", "-weight"], name="roll_link_queue")]

    def __str__(self) -> str:
        return f"{self.person_id} ↔ {self.entry_id} ({self.status})"

    @property
    def is_link(self) -> bool:
        return self.status in (self.Status.LINKED, self.Status.ACCEPTED)
