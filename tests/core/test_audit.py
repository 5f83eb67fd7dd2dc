"""The audit log: append-only rows written by services, an owner-only page, an export job."""

import csv
import datetime
import io

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from suffrage.core import services
from suffrage.core.audit import diff, snapshot
from suffrage.core.exports import audit_export_start, safe_cell
from suffrage.core.models import AuditLog, Job
from tests.factories import PASSWORD, AuditLogFactory

pytestmark = pytest.mark.django_db


def test_audit_rows_cannot_be_changed_or_deleted(campaign):
    entry = AuditLogFactory(campaign=campaign)
    entry.action = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=entry.pk).delete()


def test_a_settings_change_records_old_and_new_values(campaign, owner):
    services.campaign_update(campaign=campaign, name="Brest Demain", time_zone="Europe/Paris")
    entry = AuditLog.objects.get(action="campaign.update")
    assert entry.changes == {"name": ["Brest 2027", "Brest Demain"]}


def test_an_unchanged_save_writes_no_row(campaign):
    services.campaign_update(campaign=campaign, name=campaign.name)
    assert not AuditLog.objects.filter(action="campaign.update").exists()


def test_diff_lists_only_changed_fields(campaign):
    before = snapshot(campaign, ["name", "country"])
    campaign.name = "Autre"
    assert diff(before, snapshot(campaign, ["name", "country"])) == {"name": ["Brest 2027", "Autre"]}


def test_the_owner_filters_the_audit_log(campaign, owner, login):
    AuditLogFactory(campaign=campaign, action="membership.change_role", actor_email="a@example.org")
    AuditLogFactory(campaign=campaign, action="campaign.update", actor_email="b@example.org")
    client = login(owner)
    page = client.get(reverse("core:audit", args=[campaign.slug]), {"action": "membership"}).content.decode()
    assert "membership.change_role" in page
    assert "campaign.update" not in page
    page = client.get(reverse("core:audit", args=[campaign.slug]), {"actor": "b@"}).content.decode()
    assert "campaign.update" in page and "membership.change_role" not in page


def test_the_audit_log_ignores_a_malformed_date_filter(campaign, owner, login):
    AuditLogFactory(campaign=campaign)
    response = login(owner).get(reverse("core:audit", args=[campaign.slug]), {"since": "31/02/2026"})
    assert response.status_code == 200


def test_the_audit_log_shows_only_this_campaigns_rows(campaign, other_campaign, owner, login):
    AuditLogFactory(campaign=other_campaign, action="secret.elsewhere")
    page = login(owner).get(reverse("core:audit", args=[campaign.slug])).content.decode()
    assert "secret.elsewhere" not in page


def test_the_audit_page_runs_a_fixed_number_of_queries(campaign, owner, login, django_assert_max_num_queries):
    for _ in range(30):
        AuditLogFactory(campaign=campaign, actor=owner)
    client = login(owner)
    with django_assert_max_num_queries(12):
        client.get(reverse("core:audit", args=[campaign.slug]))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=SUM(A1)", "'=SUM(A1)"), ("+33 6", "'+33 6"), ("-1", "'-1"), ("@cmd", "'@cmd"), ("\tx", "'\tx"), ("ok", "ok")],
)
def test_safe_cell_neutralises_formulas(value, expected):
    assert safe_cell(value) == expected


def test_the_export_job_writes_a_csv_with_neutralised_cells_and_is_audited(campaign, owner):
    AuditLogFactory(campaign=campaign, action="x", object_repr='=HYPERLINK("http://evil")')
    AuditLogFactory(campaign=campaign, action="y", at=timezone.now() - datetime.timedelta(days=40))
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = audit_export_start(
            campaign=campaign, actor=owner, filters={"since": str(timezone.localdate() - datetime.timedelta(days=1))}
        )
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    rows = list(csv.DictReader(io.StringIO(job.result_file.read().decode())))
    # The export's own audit row is written before the file, inside the same day.
    assert {row["action"] for row in rows} == {"x", "audit.export"}
    assert next(row for row in rows if row["action"] == "x")["object_repr"].startswith("'=")
    assert job.report == {"rows": 2}
    assert job.done == job.total == 2


def test_starting_an_export_needs_a_recent_sign_in(campaign, owner, login):
    response = login(owner).post(reverse("core:audit_export", args=[campaign.slug]))
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
    assert not Job.objects.exists()


def test_after_reauthenticating_the_owner_exports_and_downloads(campaign, owner, client):
    client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    url = reverse("core:audit_export", args=[campaign.slug])
    assert "reauthenticate" in client.get(url)["Location"]
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(url).status_code == 200
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url)
    job = Job.objects.get()
    assert response["Location"] == reverse("core:job", args=[campaign.slug, job.pk])
    download = client.get(reverse("core:job_download", args=[campaign.slug, job.pk]))
    assert download.status_code == 200
    assert b"account.sign_in" in b"".join(download.streaming_content)
    assert AuditLog.objects.filter(action="job.download", object_id=str(job.pk)).exists()
