"""Importing official results through the pipeline: real rows, invariants,
re-imports, unknown formats."""

import csv
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from suffrage.core.models import Job
from suffrage.elections.models import CandidateVotes, StationResult
from suffrage.imports import services
from suffrage.imports.models import ImportRow
from suffrage.territory.models import CampaignCommune, PollingStation

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"
T1 = FIXTURES / "legislatives-2024-t1-29-circ2-3-slice.csv"
ELECTION = {"kind": "legislative", "year": 2024, "name": "Législatives 2024", "round": 1, "date": "2024-06-30"}


def _run(campaign, actor, content: bytes, name="resultats.csv", dry_run=False):
    batch = services.batch_create(
        campaign=campaign, upload=SimpleUploadedFile(name, content), actor=actor, kind="results"
    )
    services.batch_set_settings(batch=batch, settings=ELECTION)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.import_start(batch=batch, actor=actor, dry_run=dry_run)
    job.refresh_from_db()
    return batch, job


def _first_row():
    with T1.open(encoding="utf-8") as handle:
        return next(iter(list(csv.reader(handle, delimiter=";"))[1:]))


def test_real_legislative_rows_are_stored_by_polling_station(campaign, manager):
    _batch, job = _run(campaign, manager, T1.read_bytes())
    assert job.status == Job.Status.SUCCEEDED, job.errors
    row = _first_row()
    code = f"{row[2]}_{int(row[4]):04d}"
    result = StationResult.objects.get(station__code=code)
    assert (result.registered, result.voters, result.valid) == (int(row[5]), int(row[6]), int(row[10]))
    first = CandidateVotes.objects.get(result=result, panel=row[19])
    assert (first.nuance, first.votes) == (row[20], int(row[24]))
    assert sum(c.votes for c in result.candidates.all()) == result.valid
    # The communes of the file join the campaign's territory.
    assert CampaignCommune.objects.filter(campaign=campaign, commune__code=row[2]).exists()
    assert job.counts["created"] == StationResult.objects.count() == 7


def test_a_dry_run_writes_no_result(campaign, manager):
    _batch, job = _run(campaign, manager, T1.read_bytes(), dry_run=True)
    assert job.counts["created"] == 7
    assert not StationResult.objects.exists() and not PollingStation.objects.exists()


def test_importing_the_same_results_again_changes_nothing(campaign, manager):
    _run(campaign, manager, T1.read_bytes())
    _batch, job = _run(campaign, manager, T1.read_bytes())
    assert job.counts == {"skipped": 7}
    assert StationResult.objects.count() == 7


def test_a_row_breaking_an_invariant_is_rejected_with_the_figures(campaign, manager):
    lines = T1.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(";")
    cells[6] = str(int(cells[6]) + 5)  # voters no longer registered − abstentions
    broken = "\n".join([lines[0], ";".join(cells), *lines[2:]]) + "\n"
    batch, job = _run(campaign, manager, broken.encode())
    rejected = ImportRow.objects.get(batch=batch, verdict="rejected")
    assert rejected.row_number == 2
    assert any(cells[6] in problem["message"] for problem in rejected.messages)
    assert job.counts["created"] == 6


def test_a_polling_station_twice_in_a_file_is_rejected_the_second_time(campaign, manager):
    lines = T1.read_text(encoding="utf-8").splitlines()
    batch, _job = _run(campaign, manager, ("\n".join([lines[0], lines[1], lines[1]]) + "\n").encode())
    assert dict(ImportRow.objects.filter(batch=batch).values_list("row_number", "verdict")) == {
        2: "created",
        3: "rejected",
    }


def test_an_unknown_format_is_explained_on_the_batch_page(campaign, manager, login):
    batch = services.batch_create(
        campaign=campaign, upload=SimpleUploadedFile("x.csv", b"a;b;c\n1;2;3\n"), actor=manager, kind="results"
    )
    page = login(manager).get(reverse("imports:detail", args=[campaign.slug, batch.pk])).content.decode()
    assert 'class="message message-error"' in page


def test_the_results_batch_page_takes_the_election_and_starts_a_dry_run(campaign, manager, login):
    client = login(manager)
    with T1.open("rb") as handle:
        client.post(reverse("imports:upload", args=[campaign.slug]), {"kind": "results", "file": handle})
    batch = campaign.import_batches.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("imports:detail", args=[campaign.slug, batch.pk]), {**ELECTION, "action": "dry_run"})
    batch.refresh_from_db()
    assert batch.settings["name"] == "Législatives 2024"
    assert batch.dry_run_job.status == Job.Status.SUCCEEDED


def test_a_us_openelections_file_groups_each_precincts_rows(campaign, manager, settings):
    settings.IMPORT_LIMITS = {"max_columns": 500}
    path = FIXTURES / "20200707__de__primary__president__precinct-slice.csv"
    batch = services.batch_create(
        campaign=campaign, upload=SimpleUploadedFile(path.name, path.read_bytes()), actor=manager, kind="results"
    )
    services.batch_set_settings(
        batch=batch, settings={**ELECTION, "kind": "presidential", "year": 2020, "name": "Delaware primary 2020"}
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.import_start(batch=batch, actor=manager, dry_run=False)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.errors
    assert job.counts["created"] == StationResult.objects.count() == 4  # four precincts in the slice
    rows = sum(1 for _ in path.open()) - 1
    assert job.counts["created"] + job.counts["merged"] == rows
    for result in StationResult.objects.all():
        assert sum(c.votes for c in result.candidates.all()) == result.valid


def test_results_name_the_communes_that_boundaries_left_unnamed(campaign, manager):
    from suffrage.territory.models import Commune

    Commune.objects.create(code="29011", name="29011", departement="29")  # as a boundaries file leaves it
    _run(campaign, manager, T1.read_bytes())
    assert Commune.objects.get(code="29011").name == _first_row()[3]
