"""Mailing and automatic-message tasks. Thin: take an id, call the service;
idempotent (a second copy of the task finds nothing left to claim)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from suffrage.messaging.notices import notice_send
from suffrage.messaging.services import mailing_continue


@task()
def mailing_send_task(mailing_id: int) -> str:
    result = mailing_continue(mailing_id)
    later = result.resume_at
    # Retries, the A/B decision or the end of a blocked window: come back then
    # (backends that cannot defer rely on `manage.py mailings_tick`).
    comes_back = result.outcome in ("waiting", "blocked") and later and later > timezone.now()
    if comes_back and mailing_send_task.get_backend().supports_defer:
        mailing_send_task.using(run_after=later).enqueue(mailing_id)
    return result.outcome


@task()
def notice_send_task(notice_id: int) -> str:
    # Nothing to come back for: a retry is due later, when `mailings_tick` sends it.
    return notice_send(notice_id)
