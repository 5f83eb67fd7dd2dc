"""Roll pages: versions and their changes, browsing (station, street, age band),
matching (train, thresholds, model), the review queue and the registration drive."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view
from suffrage.core.models import CalendarElection
from suffrage.core.pagination import CappedPaginator
from suffrage.imports.models import ImportBatch
from suffrage.roll import selectors, services
from suffrage.roll.importing import REQUIRED_TARGETS, TARGETS
from suffrage.roll.models import MatchModel, RollChange, RollLink, RollVersion

PAGE_SIZE = 100
# The comparison levels' labels as the model stores them, for people.
LEVEL_LABELS = {
    "same": gettext_lazy("same"),
    "close spelling": gettext_lazy("close spelling"),
    "a given name in common": gettext_lazy("a given name in common"),
    "swapped with the surname": gettext_lazy("swapped with the surname"),
    "swapped with the first name": gettext_lazy("swapped with the first name"),
    "similar": gettext_lazy("similar"),
    "different": gettext_lazy("different"),
    "same as the other name (birth or usage)": gettext_lazy("same as the other name (birth or usage)"),
    "close to the other name": gettext_lazy("close to the other name"),
    "day and month swapped": gettext_lazy("day and month swapped"),
    "one digit off": gettext_lazy("one digit off"),
    "one character off": gettext_lazy("one character off"),
    "same year, date partial": gettext_lazy("same year, date partial"),
    "same year": gettext_lazy("same year"),
    "same house": gettext_lazy("same house"),
    "same street": gettext_lazy("same street"),
    "same postcode or commune": gettext_lazy("same postcode or commune"),
    "elsewhere": gettext_lazy("elsewhere"),
    "missing": gettext_lazy("missing on one side"),
}


class MatchForm(forms.Form):
    upper = forms.FloatField(
        label=gettext_lazy("Link automatically from (probability)"), min_value=0.5, max_value=1, initial=0.99
    )
    lower = forms.FloatField(label=gettext_lazy("Send to review from"), min_value=0.01, max_value=0.99, initial=0.5)
    retrain = forms.BooleanField(label=gettext_lazy("Train a new model on today's data"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("upper") is not None and data.get("lower") is not None and data["lower"] >= data["upper"]:
            self.add_error("lower", _("The review threshold must be below the automatic-link threshold."))
        return data


@campaign_view("roll.view_roll")
def index(request: CampaignRequest) -> HttpResponse:
    model = services.current_model(request.campaign)
    initial = {"upper": model.upper, "lower": model.lower} if model else None
    context = {
        "versions": selectors.versions(request.campaign),
        "model": model,
        "counts": selectors.link_counts(request.campaign),
        "not_found": selectors.supporters_not_found(request.campaign).count(),
        "form": MatchForm(initial=initial),
    }
    return render(request, "roll/index.html", context)


@campaign_view("roll.view_roll")
def version_detail(request: CampaignRequest, version_id: int) -> HttpResponse:
    version = campaign_object_or_404(RollVersion, request.campaign, pk=version_id)
    station, street, band = (request.GET.get(name, "") for name in ("station", "street", "age"))
    entries = selectors.roll_entries(version, station=station, street=street, age_band=band)
    page = CappedPaginator(entries.select_related("station"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "version": version,
        "page": page,
        "stations": selectors.version_stations(version),
        "streets": selectors.version_streets(version, station) if station else [],
        "bands": selectors.AGE_BANDS,
        "chosen": {"station": station, "street": street, "age": band},
        "query": urlencode({k: v for k, v in (("station", station), ("street", street), ("age", band)) if v}),
    }
    return render(request, "roll/version_detail.html", context)


@campaign_view("roll.view_roll")
def version_changes(request: CampaignRequest, version_id: int, kind: str) -> HttpResponse:
    version = campaign_object_or_404(RollVersion, request.campaign, pk=version_id)
    if kind not in RollChange.Kind.values:
        kind = RollChange.Kind.NEW
    changes = version.change_rows.filter(kind=kind).select_related("entry", "previous_entry").order_by("pk")
    page = CappedPaginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"version": version, "kind": kind, "kinds": RollChange.Kind.choices, "page": page}
    return render(request, "roll/version_changes.html", context)


@campaign_view("roll.match_roll", methods=["POST"])
def match(request: CampaignRequest, version_id: int) -> HttpResponse:
    version = campaign_object_or_404(RollVersion, request.campaign, pk=version_id)
    form = MatchForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect("roll:index", request.campaign.slug)
    job = services.match_start(
        version=version,
        actor=request.user,
        retrain=form.cleaned_data["retrain"],
        upper=form.cleaned_data["upper"],
        lower=form.cleaned_data["lower"],
    )
    return redirect("core:job", request.campaign.slug, job.pk)


@campaign_view("roll.view_roll")
def model_detail(request: CampaignRequest, model_id: int) -> HttpResponse:
    model = campaign_object_or_404(MatchModel, request.campaign, pk=model_id)
    comparisons = []
    for comparison in model.parameters.get("comparisons", []):
        levels = [
            {
                "label": LEVEL_LABELS.get(level.get("label_for_charts", ""), level.get("label_for_charts", "")),
                "m": level.get("m_probability"),
                "u": level.get("u_probability"),
                "tf": bool(level.get("tf_adjustment_column")),
            }
            for level in comparison["comparison_levels"]
            if not level.get("is_null_level")
        ]
        comparisons.append({"name": comparison["output_column_name"], "levels": levels})
    context = {
        "model": model,
        "comparisons": comparisons,
        "prior": model.parameters.get("probability_two_random_records_match"),
        "blocking": [
            rule.get("blocking_rule", rule)
            for rule in model.parameters.get("blocking_rules_to_generate_predictions", [])
        ],
    }
    return render(request, "roll/model_detail.html", context)


@campaign_view("roll.review_links")
def review(request: CampaignRequest) -> HttpResponse:
    queue = selectors.review_queue(request.campaign)
    link = queue.first()
    context = {"link": link, "remaining": queue.count(), "rows": _side_by_side(link) if link else []}
    return render(request, "roll/review.html", context)


def _side_by_side(link: RollLink) -> list[dict[str, Any]]:
    """What the person said and what the roll says, field by field, with the weight
    each comparison added to the match."""
    person, entry = link.person, link.entry
    address = person.addresses.first()
    weights = {item["field"]: item for item in link.explanation}

    def row(field: str, label: str, ours: str, theirs: str) -> dict[str, Any]:
        explained = weights.get(field, {})
        return {
            "label": label,
            "person": ours,
            "entry": theirs,
            "level": LEVEL_LABELS.get(explained.get("level", ""), explained.get("level", "")),
            "weight": explained.get("weight"),
        }

    return [
        row("first_name", _("First names"), person.first_names, entry.first_names),
        row(
            "surname",
            _("Names (birth / usage)"),
            " / ".join(n for n in (person.birth_name, person.usage_name) if n),
            " / ".join(n for n in (entry.birth_name, entry.usage_name) if n),
        ),
        row(
            "birth_date",
            _("Birth date"),
            person.birth_date.strftime("%d/%m/%Y") if person.birth_date else "",
            entry.birth_date_display,
        ),
        row("address", _("Address"), str(address) if address else "", entry.address),
        row("identifier", _("Elector number"), "", entry.elector_number),
    ]


@campaign_view("roll.review_links", methods=["POST"])
def decide(request: CampaignRequest, link_id: int) -> HttpResponse:
    link = campaign_object_or_404(RollLink, request.campaign, pk=link_id)
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        messages.error(request, _("Choose to accept or reject the match."))
    else:
        try:
            services.link_decide(link=link, accept=decision == "accept", actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect(request.POST.get("next") or reverse("roll:review", args=[request.campaign.slug]))


@campaign_view("roll.view_roll")
def not_found(request: CampaignRequest) -> HttpResponse:
    people = selectors.supporters_not_found(request.campaign)
    page = CappedPaginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "roll/not_found.html", {"page": page})


class RollImportForm(forms.Form):
    """Which election, scope and date a roll extract is."""

    election: forms.ModelChoiceField[CalendarElection] = forms.ModelChoiceField(
        label=gettext_lazy("Election"), queryset=CalendarElection.objects.none()
    )
    scope = forms.CharField(
        label=gettext_lazy("Commune or constituency"),
        max_length=100,
        help_text=gettext_lazy("e.g. 29019 (Brest) or 2902 (2nd constituency)"),
    )
    extracted_on = forms.DateField(label=gettext_lazy("Extract date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, campaign: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["election"].queryset = campaign.elections.all()  # type: ignore[attr-defined]


def roll_batch(request: CampaignRequest, batch: ImportBatch) -> HttpResponse:
    """The import page of a roll extract: columns (the official list is recognised),
    election, scope and date; then a dry run or the import."""
    mapping = (
        [request.POST.get(f"column_{i}", "") for i in range(len(batch.headers))] if request.POST else batch.mapping
    )
    initial = {**batch.settings, "election": batch.settings.get("election_id")} if batch.settings else None
    form = RollImportForm(request.POST or None, initial=initial, campaign=request.campaign)
    editable = batch.status in (ImportBatch.Status.DRAFT, ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED)
    missing = REQUIRED_TARGETS - set(mapping)
    if request.method == "POST" and editable and form.is_valid() and not missing:
        data = form.cleaned_data
        services.roll_batch_configure(
            batch=batch,
            mapping=mapping,
            election=data["election"],
            scope=data["scope"],
            extracted_on=data["extracted_on"],
            synthetic=batch.settings.get("synthetic", False),
        )
        from suffrage.imports.services import import_start

        dry_run = request.POST.get("action") != "run"
        job = import_start(batch=batch, actor=request.user, dry_run=dry_run)
        return redirect("core:job", request.campaign.slug, job.pk) if not dry_run else redirect(request.path)
    labels = dict(TARGETS)
    context = {
        "batch": batch,
        "columns": list(
            zip(range(len(batch.headers)), batch.headers, mapping or [""] * len(batch.headers), strict=False)
        ),
        "targets": [(key, str(label)) for key, label in TARGETS],
        "form": form,
        "editable": editable,
        "mapping_errors": [
            _("Map a column to each of: %(fields)s.") % {"fields": ", ".join(str(labels[t]) for t in sorted(missing))}
        ]
        if request.method == "POST" and missing
        else [],
    }
    return render(request, "roll/roll_batch.html", context)
