"""Long-running work made visible: a Job row that a task updates as it goes.

A page shows it with the progress partial (core/htmx/job_progress.html), which
polls while the job runs. Usage in a service:

    job = job_create(campaign=..., kind="audit_export", label=..., ...)
    job_enqueue(job, audit_export_task)            # runs after commit

and in the task, `job_run(job_id, work)` where work(progress) does the job,
calling progress.advance()/progress.error(), and returns the final report.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from suffrage.core.models import Campaign, Job, User

logger = logging.getLogger(__name__)

# Keep the row small: past this many, errors are counted but not stored.
MAX_STORED_ERRORS = 1000
# Progress is written at most this often, so a fast loop doesn't hammer the database.
PROGRESS_INTERVAL_SECONDS = 0.5


def job_create(
    *,
    campaign: Campaign,
    kind: str,
    label: str,
    created_by: User | None,
    required_permission: str,
    params: dict[str, Any] | None = None,
) -> Job:
    return Job.objects.create(
        campaign=campaign,
        kind=kind,
        label=label,
        created_by=created_by,
        required_permission=required_permission,
        params=params or {},
    )


def job_enqueue(job: Job, task: Any) -> None:
    """Enqueue task(job.pk) once the surrounding transaction has committed."""

    def enqueue() -> None:
        result = task.enqueue(job.pk)
        Job.objects.filter(pk=job.pk, task_id="").update(task_id=str(result.id)[:64])

    transaction.on_commit(enqueue)


class JobProgress:
    """Handed to a job's work function to report progress, counts and errors."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.counts: Counter[str] = Counter(job.counts)
        self.errors: list[dict[str, Any]] = list(job.errors)
        self.error_count = int(job.counts.get("errors", 0))
        self._last_write = 0.0

    def reset(self) -> None:
        """Start counting afresh (a job run again after a crash recounts what was done)."""
        self.job.done = 0
        self.counts.clear()
        self.errors.clear()
        self.error_count = 0

    def set_total(self, total: int) -> None:
        self.job.total = total
        self.flush()

    def advance(self, steps: int = 1, **counts: int) -> None:
        self.job.done += steps
        self.counts.update(counts)
        if time.monotonic() - self._last_write >= PROGRESS_INTERVAL_SECONDS:
            self.flush()

    def error(self, message: str, *, row: int | None = None, field: str | None = None) -> None:
        self.error_count += 1
        self.counts["errors"] = self.error_count
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append({"row": row, "field": field, "message": message})

    def summary(self) -> dict[str, int]:
        """The counts without the problem count: what a job reports at the end."""
        return {key: value for key, value in self.counts.items() if key != "errors"}

    def flush(self) -> None:
        self.job.counts = dict(self.counts)
        self.job.errors = self.errors
        Job.objects.filter(pk=self.job.pk).update(
            done=self.job.done, total=self.job.total, counts=self.job.counts, errors=self.errors
        )
        self._last_write = time.monotonic()


def job_run(job_id: int, work: Callable[[JobProgress], dict[str, Any]]) -> Job:
    """Run work for a job once. A finished job is left alone, so retries are safe."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=Coalesce("started_at", timezone.now()))
    job.refresh_from_db()
    progress = JobProgress(job)
    try:
        report = work(progress)
    except Exception as exc:  # the job must end visibly failed, whatever went wrong
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        progress.error(f"{type(exc).__name__}: {exc}")
        progress.flush()
        Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, finished_at=timezone.now())
    else:
        progress.flush()
        Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, report=report, finished_at=timezone.now())
    job.refresh_from_db()
    return job
