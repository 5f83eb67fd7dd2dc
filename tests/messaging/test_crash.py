"""A worker killed in the middle of a mailing: a restart finishes it, nobody is lost,
and nobody receives it twice except the messages in flight at the kill (counted)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.test import override_settings

from suffrage.messaging import services
from suffrage.messaging.models import Delivery, Mailing
from tests.manage import ROOT, TEST_ONLY, database_url, run_manage
from tests.messaging.conftest import reachable_person

RECIPIENTS = 300
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_loses_nobody_and_sends_twice_only_what_was_in_flight(campaign, manager, sending, mail_server):
    for index in range(RECIPIENTS):
        reachable_person(campaign, f"p{index}@example.org")
    mail_server.delay = 0.01  # a slow relay, so the kill lands mid-send
    env = {"DATABASE_URL": database_url(), "TASKS_BACKEND": "database", "SECRET_KEY": settings.SECRET_KEY}
    with override_settings(TASKS=DATABASE_TASKS):
        services.mailing_send(mailing=sending["mailing"](), actor=manager)
    mailing = Mailing.objects.get()

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload", "--batch"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in TEST_ONLY} | env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while len(mail_server.received) < RECIPIENTS // 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    arrived_before_restart = len(mail_server.received)
    assert RECIPIENTS // 3 <= arrived_before_restart < RECIPIENTS

    result = run_manage("mailings_tick", env=env)
    assert result.returncode == 0, result.stderr

    mailing.refresh_from_db()
    arrivals = mail_server.arrivals()
    assert mailing.status == Mailing.Status.SENT
    assert len(arrivals) == RECIPIENTS  # nobody lost
    assert Delivery.objects.filter(mailing=mailing, status=Delivery.Status.SENT).count() == RECIPIENTS
    twice = sum(count - 1 for count in arrivals.values())
    assert twice <= mailing.resent_after_crash  # only what was in flight, and it is shown
    assert mailing.resent_after_crash <= 100  # at most one claimed batch
