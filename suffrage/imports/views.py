"""Import pages: upload, map and check, run, follow, download the row report."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.audit import audit_record
from suffrage.core.exports import safe_cell
from suffrage.elections.models import Election
from suffrage.elections.parsers import ResultsFormatError, detect_format
from suffrage.imports import presets, services
from suffrage.imports.models import ImportBatch, MatchOn, OnMatch
from suffrage.imports.pipeline import KIND_PERMISSIONS
from suffrage.people.importing import IDENTIFYING_TARGETS, targets_for
from suffrage.people.models import LegalBasis, Source
from suffrage.roll.views import roll_batch
from suffrage.territory.census import CensusFormatError, census_year
from suffrage.territory.importing import AddressFormatError, detect_address_format

PERMISSION = "imports.import_files"
KINDS = [
    ("people", gettext_lazy("People (contacts)")),
    ("results", gettext_lazy("Official election results")),
    ("address_points", gettext_lazy("Address points (electoral register table or BAN)")),
    ("census", gettext_lazy("Census by IRIS (INSEE)")),
    ("roll", gettext_lazy("Electoral roll extract")),
]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=KINDS)
    file = forms.FileField(label=gettext_lazy("CSV or Excel (XLSX) file"))


class ElectionForm(forms.Form):
    """Which election and round a results file is about."""

    kind = forms.ChoiceField(label=gettext_lazy("Election"), choices=Election.Kind.choices)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=1900, max_value=2100)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, help_text=gettext_lazy("e.g. Législatives 2024"))
    round = forms.TypedChoiceField(label=gettext_lazy("Round"), choices=[(1, "1"), (2, "2")], coerce=int)
    date = forms.DateField(label=gettext_lazy("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class OptionsForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("Where these people come from"), choices=[("", "—"), *Source.choices])
    legal_basis = forms.ChoiceField(label=gettext_lazy("Legal basis"), choices=[("", "—"), *LegalBasis.choices])
    match_on = forms.ChoiceField(label=gettext_lazy("Match existing people by"), choices=MatchOn.choices)
    on_match = forms.ChoiceField(label=gettext_lazy("When a person matches"), choices=OnMatch.choices)
    preset_name = forms.CharField(label=gettext_lazy("Save this mapping as (optional)"), required=False, max_length=100)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("source", "legal_basis"):
            if not data.get(name):
                self.add_error(name, _("Required: every person must carry their source and legal basis."))
        return data


class PresetForm(forms.Form):
    """Map the columns with the preset of another tool's export, or with none."""

    preset = forms.ChoiceField(
        label=gettext_lazy("Exported from"),
        required=False,
        choices=[
            ("", gettext_lazy("Another tool or a spreadsheet: map the columns by hand")),
            *((key, preset.label) for key, preset in presets.PRESETS.items()),
        ],
    )


def _mapping_errors(batch: ImportBatch, mapping: list[str]) -> list[str]:
    errors = []
    chosen = [target for target in mapping if target]
    repeated = {target for target in chosen if chosen.count(target) > 1 and target != "tags"}
    if repeated:
        errors.append(_("Each field can take only one column: %(fields)s.") % {"fields": ", ".join(sorted(repeated))})
    if not IDENTIFYING_TARGETS & set(chosen):
        errors.append(_("Map at least one column to a name, an email, a phone or an external identifier."))
    return errors


@campaign_view(PERMISSION)
def batch_list(request: CampaignRequest) -> HttpResponse:
    batches = ImportBatch.objects.filter(campaign=request.campaign).select_related("created_by", "job")[:50]
    return render(request, "imports/batch_list.html", {"batches": batches, "form": UploadForm()})


def _check_kind(request: CampaignRequest, kind: str) -> None:
    if not can(request, KIND_PERMISSIONS[kind]):
        raise PermissionDenied


@campaign_view(PERMISSION, methods=["POST"])
def batch_upload(request: CampaignRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to import."))
        return redirect("imports:list", request.campaign.slug)
    kind = form.cleaned_data["kind"]
    _check_kind(request, kind)
    try:
        batch = services.batch_create(
            campaign=request.campaign, upload=form.cleaned_data["file"], actor=request.user, kind=kind
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("imports:list", request.campaign.slug)
    return redirect("imports:detail", request.campaign.slug, batch.pk)


def _batch(request: CampaignRequest, batch_id: int) -> ImportBatch:
    batch = campaign_object_or_404(ImportBatch, request.campaign, pk=batch_id)
    _check_kind(request, batch.kind)
    return batch


@campaign_view(PERMISSION)
def batch_detail(request: CampaignRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    if batch.kind == "roll":
        return roll_batch(request, batch)
    if batch.kind in ("results", "address_points", "census", "social"):
        return _reference_batch(request, batch)
    if request.method == "POST" and request.POST.get("action") == "preset":
        return _preset_choose(request, batch)
    targets = targets_for(request.campaign.pk)
    initial = {
        "source": batch.source or Source.IMPORT,
        "legal_basis": batch.legal_basis,
        "match_on": batch.match_on,
        "on_match": batch.on_match,
    }
    options = OptionsForm(request.POST or None, initial=initial)
    mapping = (
        [request.POST.get(f"column_{i}", "") for i in range(len(batch.headers))] if request.POST else batch.mapping
    )
    mapping_errors: list[str] = []
    editable = batch.status in (ImportBatch.Status.DRAFT, ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED)
    if request.method == "POST" and editable:
        mapping_errors = _mapping_errors(batch, mapping)
        if options.is_valid() and not mapping_errors:
            services.batch_configure(
                batch=batch,
                mapping=mapping,
                options=options.cleaned_data,
                preset_name=options.cleaned_data["preset_name"],
                actor=request.user,
            )
            dry_run = request.POST.get("action") != "run"
            job = services.import_start(batch=batch, actor=request.user, dry_run=dry_run)
            return redirect("core:job", request.campaign.slug, job.pk) if not dry_run else redirect(request.path)
    context = {
        "batch": batch,
        "columns": list(
            zip(range(len(batch.headers)), batch.headers, mapping or [""] * len(batch.headers), strict=False)
        ),
        "targets": targets,
        "options": options,
        "mapping_errors": mapping_errors,
        "editable": editable,
        "previous": services.same_file_imported_before(batch),
        **_preset_context(batch, mapping or [""] * len(batch.headers)),
    }
    return render(request, "imports/batch_detail.html", context)


def _preset_context(batch: ImportBatch, mapping: list[str]) -> dict[str, Any]:
    preset = presets.PRESETS.get(batch.settings.get("preset", ""))
    return {
        "preset": preset,
        "preset_recognised": bool(batch.settings.get("recognised")),
        "preset_form": PresetForm(initial={"preset": preset.key if preset else ""}),
        "column_notes": presets.column_notes(preset, batch.headers, mapping) if preset else [],
    }


def _preset_choose(request: CampaignRequest, batch: ImportBatch) -> HttpResponse:
    form = PresetForm(request.POST)
    editable = batch.status in (ImportBatch.Status.DRAFT, ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED)
    if not editable or batch.job:
        messages.error(request, _("This import has started: its mapping can no longer change."))
    elif form.is_valid():
        services.batch_preset_choose(batch=batch, preset_key=form.cleaned_data["preset"], actor=request.user)
        messages.success(request, _("Columns mapped again: check them before the dry run."))
    else:
        messages.error(request, _("Choose a preset from the list."))
    return redirect("imports:detail", request.campaign.slug, batch.pk)


def _reference_batch(request: CampaignRequest, batch: ImportBatch) -> HttpResponse:
    """A results or address file: its format is recognised from the header; for
    results the user names the election."""
    try:
        label = _format_label(batch)
    except (ResultsFormatError, AddressFormatError, CensusFormatError) as error:
        return render(request, "imports/results_batch.html", {"batch": batch, "format_error": str(error)})
    form = ElectionForm(request.POST or None, initial=batch.settings or None) if batch.kind == "results" else None
    editable = batch.status in (ImportBatch.Status.DRAFT, ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED)
    if request.method == "POST" and editable and (form is None or form.is_valid()):
        if form is not None:
            date = form.cleaned_data["date"]
            settings = {**form.cleaned_data, "date": date.isoformat() if date else ""}
            services.batch_set_settings(batch=batch, settings=settings)
        dry_run = request.POST.get("action") != "run"
        job = services.import_start(batch=batch, actor=request.user, dry_run=dry_run)
        return redirect("core:job", request.campaign.slug, job.pk) if not dry_run else redirect(request.path)
    context = {"batch": batch, "format_label": label, "form": form, "editable": editable}
    return render(request, "imports/results_batch.html", context)


def _format_label(batch: ImportBatch) -> str:
    if batch.kind == "social":
        return str(batch.settings.get("source_detail", ""))
    if batch.kind == "results":
        return _(detect_format(batch.headers).label)
    if batch.kind == "census":
        return _("INSEE census by IRIS, %(year)s") % {"year": census_year(batch.headers)}
    names = {"reu": _("INSEE electoral-register address table"), "ban": _("Base Adresse Nationale")}
    return names[detect_address_format(batch.headers)]


@campaign_view(PERMISSION, methods=["POST"])
def batch_run(request: CampaignRequest, batch_id: int) -> HttpResponse:
    """Resume an import that stopped (a crash, a restart): rows already decided are kept."""
    batch = _batch(request, batch_id)
    if batch.status not in (ImportBatch.Status.FAILED, ImportBatch.Status.RUNNING) or (
        batch.job and not batch.job.is_finished
    ):
        messages.error(request, _("This import is not waiting to be resumed."))
        return redirect("imports:detail", request.campaign.slug, batch.pk)
    job = services.import_start(batch=batch, actor=request.user, dry_run=False)
    return redirect("core:job", request.campaign.slug, job.pk)


@campaign_view(PERMISSION)
def batch_report(request: CampaignRequest, batch_id: int) -> HttpResponse | StreamingHttpResponse:
    """Every row's verdict, with the column and reason for rejected rows."""
    batch = _batch(request, batch_id)
    audit_record(action="import.report_download", campaign=request.campaign, obj=batch)

    class Echo:
        def write(self, value: str) -> str:
            return value

    def lines() -> Iterator[str]:
        writer = csv.writer(Echo())
        yield "\ufeff" + writer.writerow([_("row"), _("verdict"), _("person"), _("column"), _("reason")])
        for row in batch.rows.order_by("row_number").iterator(chunk_size=5000):
            problems = row.messages or [{"field": "", "message": ""}]
            for problem in problems:
                cells = [
                    row.row_number,
                    row.get_verdict_display(),
                    row.person_id or "",
                    problem["field"],
                    problem["message"],
                ]
                yield writer.writerow([safe_cell(cell) for cell in cells])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-report.csv"'
    return response
