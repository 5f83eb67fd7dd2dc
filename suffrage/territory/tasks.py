"""Territory background tasks. Thin: take ids, call a service."""

from django_tasks import task

from suffrage.territory.services import approximate_areas_run, boundaries_import_run, geocode_run


@task()
def boundaries_import_task(job_id: int) -> None:
    boundaries_import_run(job_id=job_id)


@task()
def geocode_task(job_id: int) -> None:
    geocode_run(job_id=job_id)


@task()
def approximate_areas_task(job_id: int) -> None:
    approximate_areas_run(job_id=job_id)
