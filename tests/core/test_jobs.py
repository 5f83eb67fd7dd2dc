"""Jobs: progress, failure, idempotence, the progress partial, and real workers
(the database worker as a separate process, and RQ on the local Redis)."""

import uuid

import pytest
from django.test import override_settings
from django.urls import reverse

from suffrage.core.exports import audit_export_start
from suffrage.core.jobs import job_run
from suffrage.core.models import Job
from suffrage.core.tasks import audit_export_task
from tests.factories import AuditLogFactory, JobFactory
from tests.manage import database_url, run_manage


@pytest.mark.django_db
def test_a_job_counts_progress_and_keeps_its_report(campaign):
    job = JobFactory(campaign=campaign, status=Job.Status.PENDING, result_file="")

    def work(progress):
        progress.set_total(3)
        for _ in range(3):
            progress.advance(created=1)
        progress.error("Invalid email", row=2, field="email")
        return {"created": 3}

    job = job_run(job.pk, work)
    assert job.status == Job.Status.SUCCEEDED
    assert (job.done, job.total, job.percent) == (3, 3, 100)
    assert job.counts == {"created": 3, "errors": 1}
    assert job.errors == [{"row": 2, "field": "email", "message": "Invalid email"}]
    assert job.report == {"created": 3}


@pytest.mark.django_db
def test_a_failing_job_ends_failed_with_the_reason(campaign):
    job = JobFactory(campaign=campaign, status=Job.Status.PENDING, result_file="")

    def work(progress):
        raise ValueError("the file vanished")

    job = job_run(job.pk, work)
    assert job.status == Job.Status.FAILED
    assert "the file vanished" in job.errors[-1]["message"]
    assert job.finished_at is not None


@pytest.mark.django_db
def test_a_finished_job_is_not_run_again(campaign):
    job = JobFactory(campaign=campaign, status=Job.Status.SUCCEEDED)
    calls = []
    job_run(job.pk, lambda progress: calls.append(1) or {})
    assert calls == []


@pytest.mark.django_db
def test_the_progress_partial_polls_while_running_and_stops_when_done(campaign, owner, login):
    job = JobFactory(campaign=campaign, status=Job.Status.RUNNING, done=5, total=20, result_file="")
    client = login(owner)
    url = reverse("core:job_progress", args=[campaign.slug, job.pk])
    running = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert 'value="25"' in running
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, done=20)
    finished = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in finished
    assert "<html" not in finished


@pytest.mark.django_db
def test_a_volunteer_cannot_see_an_owners_export_job(campaign, owner, volunteer, login):
    job = JobFactory(campaign=campaign, required_permission="core.export_audit")
    client = login(volunteer)
    assert client.get(reverse("core:job", args=[campaign.slug, job.pk])).status_code == 403
    assert client.get(reverse("core:job_download", args=[campaign.slug, job.pk])).status_code == 403
    assert job.label not in client.get(reverse("core:jobs", args=[campaign.slug])).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_process_runs_a_queued_job(campaign, owner):
    AuditLogFactory(campaign=campaign, action="something.done")
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}):
        job = audit_export_start(campaign=campaign, actor=owner, filters={})
    assert Job.objects.get(pk=job.pk).status == Job.Status.PENDING
    result = run_manage(
        "db_worker",
        "--batch",
        "--no-startup-delay",
        "--no-reload",
        env={"DATABASE_URL": database_url(), "TASKS_BACKEND": "database", "SECRET_KEY": "worker-test"},
    )
    assert result.returncode == 0, result.stderr
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, (job.errors, result.stdout, result.stderr)
    assert job.report == {"rows": 2}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_redis_backend_runs_a_job_through_an_rq_worker(campaign, owner):
    import django_rq
    from django_tasks_rq import Job as RQJob
    from rq import SimpleWorker

    queue_name = f"suffrage-test-{uuid.uuid4().hex[:8]}"
    redis = {"URL": "redis://127.0.0.1:6379/15"}
    rq_settings = {"default": redis, queue_name: redis}
    tasks = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default", queue_name]}}
    with override_settings(RQ_QUEUES=rq_settings, TASKS=tasks):
        job = JobFactory(campaign=campaign, status=Job.Status.PENDING, result_file="", kind="audit_export")
        audit_export_task.using(queue_name=queue_name).enqueue(job.pk)
        queue = django_rq.get_queue(queue_name)
        assert queue.count == 1
        worker = SimpleWorker([queue], connection=queue.connection, job_class=RQJob)
        worker.work(burst=True)
        queue.connection.delete(queue.key)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
