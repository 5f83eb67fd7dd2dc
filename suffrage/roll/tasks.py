"""Roll background tasks. Thin: take ids, call a service."""

from django_tasks import task

from suffrage.people.models import Person
from suffrage.roll.services import match_run, person_match


@task()
def match_task(job_id: int) -> None:
    match_run(job_id=job_id)


@task()
def person_match_task(person_id: int) -> None:
    person = Person.objects.filter(pk=person_id).select_related("campaign").first()
    if person is not None:
        person_match(person)
