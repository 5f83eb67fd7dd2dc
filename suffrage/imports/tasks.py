"""Import tasks: thin, idempotent (a finished job is not run again; a killed one resumes)."""

from django_tasks import task

from suffrage.imports.services import import_run


@task()
def import_task(job_id: int) -> None:
    import_run(job_id=job_id)
