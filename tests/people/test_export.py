"""Exports: a separate permission, a recent sign-in check, an audit row with the
count, neutralised formulas, CSV and XLSX."""

import csv
import io

import pytest
from django.test import TestCase
from django.urls import reverse
from openpyxl import load_workbook

from suffrage.core.models import AuditLog, Job
from suffrage.core.roles import Role
from suffrage.people.exports import people_export_start
from tests.factories import PASSWORD, PersonEmailFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(campaign):
    hostile = PersonFactory(campaign=campaign, first_names='=HYPERLINK("http://evil")', usage_name="Kerhervé")
    PersonEmailFactory(person=hostile, address="kerherve@example.org")
    PersonFactory(campaign=campaign, first_names="Soizic", usage_name="Le Meur")
    return hostile


def _run(campaign, actor, **options):
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = people_export_start(campaign=campaign, actor=actor, **options)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.errors
    return job


def test_a_csv_export_neutralises_formulas_and_is_audited_with_its_count(campaign, manager, people):
    job = _run(campaign, manager, params={}, columns=["first_names", "usage_name", "email"], file_format="csv")
    text = job.result_file.read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 3
    assert ['\'=HYPERLINK("http://evil")', "Kerhervé", "kerherve@example.org"] in rows
    entry = AuditLog.objects.get(action="people.export")
    assert entry.changes["count"] == [None, 2]


def test_an_xlsx_export_opens_in_a_spreadsheet(campaign, manager, people):
    job = _run(campaign, manager, params={"q": "kerherve"}, columns=["usage_name", "email"], file_format="xlsx")
    sheet = load_workbook(job.result_file.open("rb")).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(rows) == 2  # the header and the one person matching the search
    assert rows[1] == ["Kerhervé", "kerherve@example.org"]


def test_exporting_needs_the_export_permission_and_a_recent_sign_in(campaign, member, manager, client, login):
    organiser = member(Role.ORGANISER)
    assert login(organiser).get(reverse("people:export", args=[campaign.slug])).status_code == 403
    client.post(reverse("account_login"), {"login": manager.email, "password": PASSWORD})
    url = reverse("people:export", args=[campaign.slug])
    assert "reauthenticate" in client.get(url)["Location"]
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(url).status_code == 200
