"""An import batch: one uploaded file, its mapping, and a verdict for every row."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign, Job


class MatchOn(models.TextChoices):
    EMAIL = "email", _("Email address")
    PHONE = "phone", _("Phone number")
    EXTERNAL_ID = "external_id", _("External identifier")
    NONE = "none", _("Do not match: always create")


class OnMatch(models.TextChoices):
    UPDATE = "update", _("Update with the file's values")
    FILL = "fill", _("Fill blanks only")
    SKIP = "skip", _("Skip the row")


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("To map")
        CHECKING = "checking", _("Dry run in progress")
        CHECKED = "checked", _("Checked")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="import_batches")
    kind = models.CharField(max_length=30, default="people")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    original_name = models.CharField(_("file"), max_length=255)
    file = models.FileField(upload_to="imports/%Y/%m/")
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=10)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    headers = models.JSONField(default=list)
    preview = models.JSONField(default=list)
    # One target per column (same order as headers); "" leaves the column out.
    mapping = models.JSONField(default=list, blank=True)
    source = models.CharField(_("source"), max_length=20, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=30, blank=True)
    match_on = models.CharField(
        _("match existing people by"), max_length=20, choices=MatchOn.choices, default=MatchOn.EMAIL
    )
    on_match = models.CharField(
        _("when a person matches"), max_length=10, choices=OnMatch.choices, default=OnMatch.FILL
    )
    # What a kind needs beyond the mapping (results: which election and round).
    settings = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    dry_run_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.original_name}"


class ImportRow(models.Model):
    """The verdict on one row of the file. Its existence means the row is done."""

    class Verdict(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        MERGED = "merged", _("merged with an earlier row")
        SKIPPED = "skipped", _("skipped")
        REJECTED = "rejected", _("rejected")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    person_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    messages = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["batch", "row_number"]
        constraints = [models.UniqueConstraint(fields=["batch", "row_number"], name="import_row_unique")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number} {self.verdict}"


class MappingPreset(models.Model):
    """A saved mapping (column header → target), applied when headers match."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, default="people")
    name = models.CharField(_("name"), max_length=100)
    mapping = models.JSONField(default=dict)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "kind", "name"], name="mapping_preset_unique")]

    def __str__(self) -> str:
        return self.name
