"""Import batches: upload, map, dry run, run, resume."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.jobs import JobProgress, job_create, job_enqueue, job_run
from suffrage.core.models import Campaign, Job, User
from suffrage.imports import presets
from suffrage.imports.models import ImportBatch, MappingPreset
from suffrage.imports.pipeline import KIND_PERMISSIONS, import_limits, pipeline_run
from suffrage.imports.readers import ImportFileError, sniff


def _sha256(upload: File[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


@transaction.atomic
def batch_create(*, campaign: Campaign, upload: File[bytes], actor: User | None, kind: str = "people") -> ImportBatch:
    """Store the file and read its header and first rows. Raises ValidationError for a bad file."""
    limits = import_limits()
    if upload.size and upload.size > limits.max_bytes:
        raise ValidationError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": upload.size // 1_000_000, "limit": limits.max_bytes // 1_000_000}
        )
    batch = ImportBatch(
        campaign=campaign, kind=kind, created_by=actor, original_name=upload.name or "upload", size=upload.size or 0
    )
    batch.sha256 = _sha256(upload)
    batch.file.save(Path(batch.original_name).name, upload, save=False)
    try:
        found = sniff(Path(batch.file.path), filename=batch.original_name, limits=limits)
    except ImportFileError as error:
        batch.file.delete(save=False)
        raise ValidationError(str(error)) from error
    batch.format, batch.encoding, batch.delimiter = found.format, found.encoding, found.delimiter
    batch.headers, batch.preview = found.headers, found.preview
    if kind == "people":
        batch.mapping = preset_mapping(campaign, kind, found.headers)
        if recognised := presets.recognise(found.headers):
            _preset_apply(batch, recognised.preset, recognised=True)
    if kind == "roll":
        _roll_defaults(batch)
    batch.save()
    audit_record(action="import.upload", campaign=campaign, obj=batch, actor=actor)
    return batch


def _roll_defaults(batch: ImportBatch) -> None:
    """A roll extract in the official column list is mapped at once; a synthetic one
    (`manage.py synthetic_roll`) says so in InfoListe and stays labelled."""
    from suffrage.roll.importing import is_synthetic, official_mapping

    saved = preset_mapping(batch.campaign, "roll", batch.headers)
    batch.mapping = saved if any(saved) else official_mapping(batch.headers)
    batch.settings = {"synthetic": is_synthetic(batch.headers, batch.preview)}


def preset_mapping(campaign: Campaign, kind: str, headers: list[str]) -> list[str]:
    """Targets for these headers from the campaign's saved presets (most recent wins)."""
    known: dict[str, str] = {}
    for preset in MappingPreset.objects.filter(campaign=campaign, kind=kind).order_by("pk"):
        known.update({header.strip().lower(): target for header, target in preset.mapping.items()})
    return [known.get(header.strip().lower(), "") for header in headers]


def _preset_apply(batch: ImportBatch, preset: presets.Preset | None, *, recognised: bool = False) -> None:
    """Map the columns with a built-in preset (another tool's export), the campaign's own
    saved mappings still winning where they name a column; None: the saved mappings alone."""
    saved = preset_mapping(batch.campaign, batch.kind, batch.headers)
    settings = {name: value for name, value in batch.settings.items() if name not in presets.SETTINGS}
    if preset is None:
        batch.mapping = saved
    else:
        built_in = presets.preset_targets(preset, batch.headers)
        batch.mapping = [own or theirs for own, theirs in zip(saved, built_in, strict=True)]
        with translation.override(batch.campaign.language):
            detail = presets.source_detail(preset)
        settings |= {"preset": preset.key, "source_detail": detail, "recognised": recognised}
    batch.settings = settings


@transaction.atomic
def batch_preset_choose(*, batch: ImportBatch, preset_key: str, actor: User) -> ImportBatch:
    """The preset the user picks on the mapping page ("" for none): the mapping starts over from it."""
    _preset_apply(batch, presets.PRESETS[preset_key] if preset_key else None)
    batch.status = ImportBatch.Status.DRAFT
    batch.save(update_fields=["mapping", "settings", "status"])
    audit_record(
        action="import.preset", campaign=batch.campaign, obj=batch, actor=actor, changes={"preset": preset_key}
    )
    return batch


def same_file_imported_before(batch: ImportBatch) -> ImportBatch | None:
    return (
        ImportBatch.objects.filter(campaign=batch.campaign, sha256=batch.sha256, status=ImportBatch.Status.DONE)
        .exclude(pk=batch.pk)
        .first()
    )


@transaction.atomic
def batch_configure(
    *, batch: ImportBatch, mapping: list[str], options: dict[str, Any], preset_name: str = "", actor: User
) -> ImportBatch:
    if len(mapping) != len(batch.headers):
        raise ValidationError(_("The mapping does not match the file's columns."))
    batch.mapping = mapping
    for name in ("source", "legal_basis", "match_on", "on_match"):
        setattr(batch, name, options[name])
    batch.status = ImportBatch.Status.DRAFT
    batch.save()
    if preset_name:
        MappingPreset.objects.update_or_create(
            campaign=batch.campaign,
            kind=batch.kind,
            name=preset_name,
            defaults={"mapping": {h: t for h, t in zip(batch.headers, mapping, strict=True) if t}},
        )
    return batch


@transaction.atomic
def batch_set_settings(*, batch: ImportBatch, settings: dict[str, Any]) -> ImportBatch:
    batch.settings = settings
    batch.status = ImportBatch.Status.DRAFT
    batch.save(update_fields=["settings", "status"])
    return batch


@transaction.atomic
def import_start(*, batch: ImportBatch, actor: User, dry_run: bool) -> Job:
    from suffrage.imports.tasks import import_task

    job = job_create(
        campaign=batch.campaign,
        kind="import_dry_run" if dry_run else "import",
        label=(_("Dry run of %(file)s") if dry_run else _("Import of %(file)s")) % {"file": batch.original_name},
        created_by=actor,
        required_permission=KIND_PERMISSIONS[batch.kind],
        params={"batch_id": batch.pk, "dry_run": dry_run},
    )
    if dry_run:
        batch.dry_run_job, batch.status = job, ImportBatch.Status.CHECKING
    else:
        batch.job, batch.status = job, ImportBatch.Status.RUNNING
        audit_record(action="import.run", campaign=batch.campaign, obj=batch, actor=actor)
    batch.save(update_fields=["dry_run_job", "job", "status"])
    job_enqueue(job, import_task)
    return job


def import_run(*, job_id: int) -> Job:
    """The task's body: run or dry-run the batch named in the job, then set the batch status."""

    def work(progress: JobProgress) -> dict[str, Any]:
        batch = ImportBatch.objects.select_related("campaign").get(pk=progress.job.params["batch_id"])
        return pipeline_run(batch, progress, dry_run=progress.job.params["dry_run"])

    job = job_run(job_id, work)
    batch = ImportBatch.objects.get(pk=job.params["batch_id"])
    if job.params["dry_run"]:
        batch.status = ImportBatch.Status.CHECKED if job.status == Job.Status.SUCCEEDED else ImportBatch.Status.FAILED
    else:
        batch.status = ImportBatch.Status.DONE if job.status == Job.Status.SUCCEEDED else ImportBatch.Status.FAILED
    batch.save(update_fields=["status"])
    return job
