"""People export: a background job writing CSV or XLSX with the chosen columns.

Cells a spreadsheet would run as formulas are neutralised (core.exports.safe_cell).
"""

from __future__ import annotations

import csv
import io
import tempfile
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.exports import safe_cell
from suffrage.core.jobs import JobProgress, job_create, job_enqueue, job_run
from suffrage.core.models import Campaign, Job, User
from suffrage.people.forms import EXPORT_COLUMNS
from suffrage.people.models import Person
from suffrage.people.selectors import people_filtered, people_for_list

CHUNK = 2000


def _cell(person: Person, column: str) -> Any:
    emails, phones, addresses = list(person.emails.all()), list(person.phones.all()), list(person.addresses.all())
    address = addresses[0] if addresses else None
    values = {
        "id": person.pk,
        "email": emails[0].address if emails else "",
        "phone": phones[0].number if phones else "",
        "address": " ".join(p for p in (address.number, address.repetition, address.street) if p) if address else "",
        "postcode": address.postcode if address else "",
        "town": address.town if address else "",
        "tags": ", ".join(tag.name for tag in person.tags.all()),
        "collected_at": person.collected_at.date().isoformat(),
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
    }
    return values[column] if column in values else getattr(person, column)


@transaction.atomic
def people_export_start(
    *, campaign: Campaign, actor: User, params: dict[str, Any], columns: list[str], file_format: str
) -> Job:
    from suffrage.people.tasks import people_export_task

    count = people_filtered(campaign, params).count()
    job = job_create(
        campaign=campaign,
        kind="people_export",
        label=_("Export of %(count)s people") % {"count": count},
        created_by=actor,
        required_permission="people.export_people",
        params={
            "filters": {k: v for k, v in params.items() if v not in (None, "", False)},
            "columns": columns,
            "format": file_format,
        },
    )
    audit_record(
        action="people.export",
        campaign=campaign,
        obj=job,
        changes={"count": [None, count], "columns": [None, columns], "filters": [None, job.params["filters"]]},
        actor=actor,
    )
    job_enqueue(job, people_export_task)
    return job


def people_export_run(*, job_id: int) -> Job:
    def work(progress: JobProgress) -> dict[str, Any]:
        job = progress.job
        columns = [name for name, _label in EXPORT_COLUMNS if name in job.params["columns"]]
        headers = [str(label) for name, label in EXPORT_COLUMNS if name in columns]
        people = people_for_list(people_filtered(job.campaign, job.params["filters"]))
        progress.set_total(people.count())
        rows = ([safe_cell(_cell(person, c)) for c in columns] for person in people.iterator(chunk_size=CHUNK))
        name = f"people-{job.campaign.slug}-{job.pk}.{job.params['format']}"
        if job.params["format"] == "xlsx":
            _save_xlsx(job, name, headers, rows, progress)
        else:
            _save_csv(job, name, headers, rows, progress)
        Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
        return {"rows": progress.counts["rows"]}

    return job_run(job_id, work)


def _save_csv(job: Job, name: str, headers: list[str], rows: Any, progress: JobProgress) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(row)
        progress.advance(rows=1)
    # A BOM so that Excel opens the UTF-8 file with its accents intact.
    job.result_file.save(name, ContentFile(("\ufeff" + buffer.getvalue()).encode()), save=False)


def _save_xlsx(job: Job, name: str, headers: list[str], rows: Any, progress: JobProgress) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("People"))
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
        progress.advance(rows=1)
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        job.result_file.save(name, File(handle), save=False)
