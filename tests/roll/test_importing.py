"""Roll extracts through the import pipeline: the official preset, versions and
their differences, and a clear verdict for every broken row."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from suffrage.core.models import Job
from suffrage.imports import services
from suffrage.imports.models import ImportRow
from suffrage.roll.importing import OFFICIAL_PRESET, official_mapping
from suffrage.roll.models import RollChange, RollEntry, RollVersion
from suffrage.roll.services import roll_batch_configure
from suffrage.roll.synthetic import OFFICIAL_COLUMNS
from tests import factories

pytestmark = pytest.mark.django_db


def roll_csv(rows):
    lines = [";".join(OFFICIAL_COLUMNS)]
    for row in rows:
        lines.append(";".join(row.get(column, "") for column in OFFICIAL_COLUMNS))
    return ("\n".join(lines) + "\n").encode()


def elector(number, **values):
    row = {
        "TypeListe": "LP",
        "CodeDepartement": "29",
        "CodeCommune": "29019",
        "NomCommune": "BREST",
        "NoElecteurGeneral": str(number),
        "Sexe": "F",
        "NomdeNaissance": "LE GALL",
        "NomDusage": "",
        "Prenoms": "MARIE ANNE",
        "DateDeNaissance": "02/01/1960",
        "NoBureauDeVote": "1",
        "NumeroVoie": "3",
        "TypeVoie": "RUE",
        "LibelleVoie": "DE SIAM",
        "CodePostal": "29200",
        "VilleLocalite": "BREST",
    }
    row.update(values)
    return row


@pytest.fixture
def stations(campaign):
    commune = factories.CommuneFactory(code="29019", name="Brest")
    campaign.communes.create(commune=commune)
    return [factories.PollingStationFactory(commune=commune, code=f"29019_000{n}", number=str(n)) for n in (1, 2)]


def import_roll(campaign, actor, rows, *, election=None, extracted_on="2026-03-01", dry_run=False):
    election = election or campaign.elections.first() or factories.CalendarElectionFactory(campaign=campaign)
    batch = services.batch_create(
        campaign=campaign, upload=SimpleUploadedFile("liste.csv", roll_csv(rows)), actor=actor, kind="roll"
    )
    roll_batch_configure(
        batch=batch,
        mapping=batch.mapping,
        election=election,
        scope="29019",
        extracted_on=datetime.date.fromisoformat(extracted_on),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.import_start(batch=batch, actor=actor, dry_run=dry_run)
    job.refresh_from_db()
    return batch, job


def test_the_official_columns_are_recognised():
    mapping = official_mapping(OFFICIAL_COLUMNS)
    assert set(mapping) - {""} == set(OFFICIAL_PRESET.values())
    assert mapping[OFFICIAL_COLUMNS.index("NomdeNaissance")] == "birth_name"


def test_an_extract_becomes_a_version_with_its_entries(campaign, manager, stations):
    batch, job = import_roll(campaign, manager, [elector(1), elector(2, NomDusage="QUERE", NoBureauDeVote="2")])
    assert job.status == Job.Status.SUCCEEDED, job.errors
    assert job.counts == {"created": 2}
    version = RollVersion.objects.get(batch=batch)
    assert version.entry_count == 2 and version.changes == {}
    entry = RollEntry.objects.get(elector_number="2")
    assert (entry.usage_name, entry.station, entry.street) == ("QUERE", stations[1], "RUE DE SIAM")
    assert (entry.birth_year, entry.birth_month, entry.birth_day) == (1960, 1, 2)


def test_a_dry_run_writes_nothing(campaign, manager, stations):
    _batch, job = import_roll(campaign, manager, [elector(1)], dry_run=True)
    assert job.counts == {"created": 1}
    assert not RollVersion.objects.exists() and not RollEntry.objects.exists()


def test_broken_rows_get_clear_verdicts(campaign, manager, stations):
    rows = [
        elector(1, DateDeNaissance="31/02/1990"),
        elector(2, DateDeNaissance="00/00/1950"),
        elector(3, DateDeNaissance="05/13/1980"),
        elector(4, NomdeNaissance=""),
        elector(5, Prenoms=""),
        elector(1, Prenoms="PAUL"),
        elector(6, NoBureauDeVote="99"),
    ]
    batch, job = import_roll(campaign, manager, rows)
    verdicts = {row.row_number - 1: row for row in ImportRow.objects.filter(batch=batch)}  # line 1 is the header
    assert [verdicts[n].verdict for n in range(1, 8)] == [
        "created",
        "created",
        "created",
        "rejected",
        "rejected",
        "skipped",
        "created",
    ]
    # Jobs speak the campaign's language: messages are checked by the values they name.
    assert "31/02/1990" in verdicts[1].messages[0]["message"]
    assert verdicts[1].messages[0]["field"] == "DateDeNaissance"
    assert not verdicts[2].messages  # a partial date is normal on a roll
    assert "05/13/1980" in verdicts[3].messages[0]["message"]
    assert verdicts[4].messages[0]["field"] == "NomdeNaissance"
    assert verdicts[5].messages[0]["field"] == "Prenoms"
    assert "1" in verdicts[6].messages[0]["message"] and "2" in verdicts[6].messages[0]["message"]
    assert "29019_0099" in verdicts[7].messages[0]["message"]
    assert RollEntry.objects.get(elector_number="6").station is None
    assert RollEntry.objects.get(elector_number="2").birth_year == 1950
    assert job.counts["errors"] == 6


def test_a_newer_extract_shows_new_removed_and_moved_electors(campaign, manager, stations):
    election = factories.CalendarElectionFactory(campaign=campaign)
    import_roll(campaign, manager, [elector(1), elector(2), elector(3)], election=election)
    batch, _job = import_roll(
        campaign,
        manager,
        [elector(1), elector(2, NoBureauDeVote="2"), elector(4)],
        election=election,
        extracted_on="2026-05-01",
    )
    version = RollVersion.objects.get(batch=batch)
    assert version.changes == {"new": 1, "removed": 1, "moved": 1}
    moved = version.change_rows.get(kind=RollChange.Kind.MOVED)
    assert (moved.previous_entry.station_code, moved.entry.station_code) == ("29019_0001", "29019_0002")
    assert version.change_rows.get(kind=RollChange.Kind.REMOVED).previous_entry.elector_number == "3"


def test_the_roll_is_deleted_with_its_election(campaign, manager, stations):
    election = factories.CalendarElectionFactory(campaign=campaign)
    import_roll(campaign, manager, [elector(1)], election=election)
    election.delete()
    assert not RollEntry.objects.exists()
