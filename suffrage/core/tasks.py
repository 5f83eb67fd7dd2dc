"""Core background tasks. Thin: take ids, call a service."""

from django_tasks import task

from suffrage.core.exports import audit_export_run


@task()
def audit_export_task(job_id: int) -> None:
    audit_export_run(job_id=job_id)
