"""People background tasks. Thin: take ids, call a service."""

from django_tasks import task

from suffrage.people.exports import people_export_run


@task()
def people_export_task(job_id: int) -> None:
    people_export_run(job_id=job_id)
