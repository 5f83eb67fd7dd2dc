"""The audit log export: a background job writing a CSV the owner downloads.

`safe_cell` is the one rule for any spreadsheet export: a cell a spreadsheet
would run as a formula is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.jobs import JobProgress, job_create, job_enqueue, job_run
from suffrage.core.models import AuditLog, Campaign, Job, User
from suffrage.core.selectors import audit_entries

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
AUDIT_COLUMNS = ("at", "actor_email", "action", "object_type", "object_id", "object_repr", "changes", "ip")
BATCH = 2000


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


@transaction.atomic
def audit_export_start(*, campaign: Campaign, actor: User, filters: dict[str, str]) -> Job:
    from suffrage.core.tasks import audit_export_task

    job = job_create(
        campaign=campaign,
        kind="audit_export",
        label=_("Audit log export"),
        created_by=actor,
        required_permission="core.export_audit",
        params={"filters": filters},
    )
    audit_record(action="audit.export", campaign=campaign, obj=job, changes={"filters": [None, filters]})
    job_enqueue(job, audit_export_task)
    return job


def audit_export_run(*, job_id: int) -> Job:
    def work(progress: JobProgress) -> dict[str, Any]:
        job = progress.job
        entries = audit_entries(job.campaign, job.params.get("filters", {}))
        progress.set_total(entries.count())
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(AUDIT_COLUMNS)
        for entry in entries.iterator(chunk_size=BATCH):
            writer.writerow([safe_cell(_column(entry, name)) for name in AUDIT_COLUMNS])
            progress.advance(rows=1)
        job.result_file.save(f"audit-{job.campaign.slug}-{job.pk}.csv", ContentFile(buffer.getvalue()), save=False)
        Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
        return {"rows": progress.counts["rows"]}

    return job_run(job_id, work)


def _column(entry: AuditLog, name: str) -> Any:
    value = getattr(entry, name)
    return value.isoformat() if name == "at" else value
