"""The import pipeline end to end: upload, map, dry run, run, verdicts, report,
re-import, duplicates within the file, resume after a crash, hostile files."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from openpyxl import Workbook

from suffrage.core.models import AuditLog, Job
from suffrage.imports import pipeline, services
from suffrage.imports.models import ImportBatch, ImportRow, MappingPreset
from suffrage.people.models import ConsentEvent, Person, PersonEmail

pytestmark = pytest.mark.django_db

HEADER = "Civilité;Prénom;Nom;Courriel;Portable;CP;Ville;Étiquettes;Consent. email"
ROWS = [
    "Mme;Anne;LE GALL;anne.legall@example.org;06 12 34 56 78;29200;Brest;Militante, Quartier Saint-Martin;oui",
    "M.;Yann;Kerjean;yann@example;06 98 76 54 32;29200;Brest;;",  # bad email: rejected
    "M;Loïc;Quéré;loic.quere@example.org;;29000;Quimper;;non",
    "Mme;Anne;Le Gall;ANNE.LEGALL@example.org;;;;Donatrice;",  # same person as row 2: merged
]
MAPPING = ["civility", "first_names", "usage_name", "email", "phone", "postcode", "town", "tags", "consent_email"]
OPTIONS = {"source": "import", "legal_basis": "consent", "match_on": "email", "on_match": "fill"}


def _upload(campaign, actor, text, name="contacts.csv", encoding="utf-8"):
    upload = SimpleUploadedFile(name, text.encode(encoding))
    return services.batch_create(campaign=campaign, upload=upload, actor=actor)


def _run(batch, actor, dry_run=False, **options):
    services.batch_configure(batch=batch, mapping=MAPPING, options={**OPTIONS, **options}, actor=actor)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.import_start(batch=batch, actor=actor, dry_run=dry_run)
    job.refresh_from_db()
    batch.refresh_from_db()
    return job


@pytest.fixture
def contacts_file():
    return "\n".join([HEADER, *ROWS]) + "\n"


def test_a_windows_1252_file_is_detected_and_previewed(campaign, manager, contacts_file):
    batch = _upload(campaign, manager, contacts_file, encoding="cp1252")
    assert (batch.format, batch.encoding, batch.delimiter) == ("csv", "cp1252", ";")
    assert batch.headers[0] == "Civilité"
    assert batch.preview[2][2] == "Quéré"


def test_the_dry_run_writes_nothing_and_predicts_the_verdicts(campaign, manager, contacts_file):
    batch = _upload(campaign, manager, contacts_file)
    job = _run(batch, manager, dry_run=True)
    assert job.status == Job.Status.SUCCEEDED, job.errors
    assert job.counts == {"created": 2, "rejected": 1, "merged": 1, "errors": 1}
    assert batch.status == ImportBatch.Status.CHECKED
    assert not Person.objects.exists() and not ImportRow.objects.exists()


def test_the_import_gives_every_row_a_verdict_and_normalises_values(campaign, manager, contacts_file):
    batch = _upload(campaign, manager, contacts_file)
    job = _run(batch, manager)
    assert job.status == Job.Status.SUCCEEDED, job.errors
    assert batch.status == ImportBatch.Status.DONE
    verdicts = dict(ImportRow.objects.filter(batch=batch).values_list("row_number", "verdict"))
    assert verdicts == {2: "created", 3: "rejected", 4: "created", 5: "merged"}
    rejected = ImportRow.objects.get(batch=batch, row_number=3)
    assert rejected.messages[0]["field"] == "Courriel"
    anne = Person.objects.get(first_names="Anne")
    assert (anne.usage_name, anne.civility) == ("Le Gall", "Mme")
    assert anne.phones.get().number == "+33612345678"
    assert anne.addresses.get().postcode == "29200"
    assert sorted(anne.tags.values_list("name", flat=True)) == ["Donatrice", "Militante", "Quartier Saint-Martin"]
    assert anne.consent_email is True
    assert ConsentEvent.objects.get(person=anne).form.endswith("2")  # proof names the row
    assert anne.source == "import" and anne.legal_basis == "consent" and anne.notice_owed
    assert job.counts["created"] + job.counts["rejected"] + job.counts["merged"] == 4
    assert AuditLog.objects.filter(action="import.run", object_id=str(batch.pk)).exists()


def test_importing_the_same_file_twice_creates_nothing_new(campaign, manager, login, contacts_file):
    _run(_upload(campaign, manager, contacts_file), manager)
    people, emails, events = Person.objects.count(), PersonEmail.objects.count(), ConsentEvent.objects.count()
    again = _upload(campaign, manager, contacts_file)
    page = login(manager).get(reverse("imports:detail", args=[campaign.slug, again.pk])).content.decode()
    assert 'class="message message-warning"' in page  # "this exact file was already imported"
    job = _run(again, manager)
    assert (Person.objects.count(), PersonEmail.objects.count(), ConsentEvent.objects.count()) == (
        people,
        emails,
        events,
    )
    assert job.counts.get("created", 0) == 0
    assert job.counts["skipped"] == 3


def test_update_overwrites_and_fill_only_fills_blanks(campaign, manager):
    _run(_upload(campaign, manager, HEADER + "\n" + ROWS[0] + "\n"), manager)
    changed = ROWS[0].replace("Brest", "Plouzané").replace("LE GALL", "Le Gall-Kerjean")
    job = _run(_upload(campaign, manager, HEADER + "\n" + changed + "\n"), manager, on_match="fill")
    anne = Person.objects.get()
    assert anne.usage_name == "Le Gall" and job.counts == {"skipped": 1}
    _run(_upload(campaign, manager, HEADER + "\n" + changed + "\n"), manager, on_match="update")
    anne.refresh_from_db()
    assert anne.usage_name == "Le Gall-Kerjean"
    assert anne.field_sources["usage_name"]["source"] == "import"


def test_a_file_cannot_re_grant_consent_after_a_withdrawal(campaign, manager):
    _run(_upload(campaign, manager, HEADER + "\n" + ROWS[0].replace(";oui", ";non") + "\n"), manager)
    _run(_upload(campaign, manager, HEADER + "\n" + ROWS[0] + "\n"), manager, on_match="update")
    assert Person.objects.get().consent_email is False
    assert ConsentEvent.objects.count() == 1


def test_the_row_report_lists_every_row_with_its_reason(campaign, manager, login, contacts_file):
    batch = _upload(campaign, manager, contacts_file)
    _run(batch, manager)
    response = login(manager).get(reverse("imports:report", args=[campaign.slug, batch.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 5
    assert rows[2][0] == "3" and rows[2][3] == "Courriel" and rows[2][4]
    assert AuditLog.objects.filter(action="import.report_download").exists()


def test_a_killed_import_resumes_where_it_stopped(campaign, manager, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 2)
    lines = [HEADER] + [f"M;Prénom{i};Nom{i};p{i}@example.org;;;;;" for i in range(7)]
    batch = _upload(campaign, manager, "\n".join(lines) + "\n")
    calls = {"n": 0}
    real_process = pipeline._process_chunk

    def crash_on_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real_process(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_process_chunk", crash_on_third_chunk)
    job = _run(batch, manager)
    assert job.status == Job.Status.FAILED
    assert Person.objects.count() == ImportRow.objects.count() == 4  # two whole chunks, nothing half-applied
    monkeypatch.setattr(pipeline, "_process_chunk", real_process)
    with TestCase.captureOnCommitCallbacks(execute=True):
        resumed = services.import_start(batch=batch, actor=manager, dry_run=False)
    resumed.refresh_from_db()
    assert resumed.status == Job.Status.SUCCEEDED, resumed.errors
    assert Person.objects.count() == ImportRow.objects.count() == 7
    assert resumed.counts == {"created": 7} and resumed.done == 7


def test_a_ragged_row_is_rejected_with_its_cell_count(campaign, manager):
    batch = _upload(campaign, manager, HEADER + "\nMme;Anne;Le Gall\n" + ROWS[2] + "\n")
    job = _run(batch, manager)
    assert job.counts == {"rejected": 1, "created": 1, "errors": 1}
    assert "3" in job.errors[0]["message"] and "9" in job.errors[0]["message"]


def test_a_file_level_problem_stops_the_import_before_any_write(campaign, manager, settings):
    batch = _upload(campaign, manager, "\n".join([HEADER, *ROWS]) + "\n")
    # Found only by reading the whole file (as a 50 MB line or a stray byte at the end would be).
    settings.IMPORT_LIMITS = {"max_rows": 3}
    job = _run(batch, manager)
    assert job.status == Job.Status.FAILED
    assert not Person.objects.exists() and not ImportRow.objects.exists()
    assert job.errors


def test_an_upload_with_an_unsupported_format_gets_a_clear_message(campaign, manager, login):
    client = login(manager)
    response = client.post(
        reverse("imports:upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("people.pdf", b"%PDF-1.4")},
        follow=True,
    )
    assert not ImportBatch.objects.exists()
    assert 'class="message message-error"' in response.content.decode()


def test_the_mapping_page_requires_provenance_and_an_identifying_column(campaign, manager, login, contacts_file):
    batch = _upload(campaign, manager, contacts_file)
    client = login(manager)
    url = reverse("imports:detail", args=[campaign.slug, batch.pk])
    response = client.post(url, {"column_5": "postcode", "match_on": "email", "on_match": "fill", "action": "run"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="message message-error"') == 1
    assert 'id="id_source_error"' in page and 'id="id_legal_basis_error"' in page
    assert not Job.objects.exists()


def test_a_saved_mapping_is_applied_to_the_next_file_with_the_same_headers(campaign, manager, login, contacts_file):
    batch = _upload(campaign, manager, contacts_file)
    form = {f"column_{i}": target for i, target in enumerate(MAPPING)}
    with TestCase.captureOnCommitCallbacks(execute=True):
        login(manager).post(
            reverse("imports:detail", args=[campaign.slug, batch.pk]),
            {**form, **OPTIONS, "preset_name": "Export Mailchimp", "action": "dry_run"},
        )
    assert MappingPreset.objects.get().name == "Export Mailchimp"
    assert _upload(campaign, manager, contacts_file).mapping == MAPPING


def test_an_xlsx_file_imports_like_a_csv(campaign, manager, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    for line in [HEADER, *ROWS]:
        sheet.append(line.split(";"))
    path = tmp_path / "contacts.xlsx"
    workbook.save(path)
    batch = services.batch_create(
        campaign=campaign, upload=SimpleUploadedFile("contacts.xlsx", path.read_bytes()), actor=manager
    )
    job = _run(batch, manager)
    assert batch.format == "xlsx"
    assert job.counts["created"] == 2 and Person.objects.count() == 2


def test_matching_by_external_identifier_updates_the_same_person(campaign, manager):
    header = "Id;Prénom;Nom"
    mapping = ["external_id", "first_names", "usage_name"]
    for name in ("Morvan", "Morvan-Le Roux"):
        batch = _upload(campaign, manager, f"{header}\nCRM-42;Tanguy;{name}\n")
        services.batch_configure(
            batch=batch,
            mapping=mapping,
            options={**OPTIONS, "match_on": "external_id", "on_match": "update"},
            actor=manager,
        )
        with TestCase.captureOnCommitCallbacks(execute=True):
            job = services.import_start(batch=batch, actor=manager, dry_run=False)
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.errors
    assert Person.objects.get().usage_name == "Morvan-Le Roux"
