"""Map, polling-station table and page, priority ranking."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.audit import audit_record
from suffrage.core.exports import safe_cell
from suffrage.elections.models import Bloc, PriorityRanking, Round
from suffrage.elections.scoring import FORMULA, rank_stations
from suffrage.elections.services import bloc_remove, bloc_save, ranking_save
from suffrage.territory.census import CensusFormatError, attribute_by_iris_boundaries, station_census
from suffrage.territory.geometry import BoundaryMapping
from suffrage.territory.maps import map_geojson
from suffrage.territory.models import PollingStation
from suffrage.territory.selectors import (
    MEASURES,
    SMALL_COUNT,
    campaign_rounds,
    campaign_stations,
    families_of,
    station_history,
    station_people_counts,
    station_rows,
    station_values,
)
from suffrage.territory.services import approximate_areas_start, boundaries_import_start, geocode_start

MEASURE_LABELS = {
    "turnout": gettext_lazy("Turnout"),
    "abstention": gettext_lazy("Abstention"),
    "share": gettext_lazy("Share of the valid votes"),
    "change": gettext_lazy("Change since another election"),
}


class AnalysisForm(forms.Form):
    round = forms.ModelChoiceField(label=gettext_lazy("Election"), queryset=Round.objects.none(), required=False)
    measure = forms.ChoiceField(
        label=gettext_lazy("Measure"), choices=[(m, MEASURE_LABELS[m]) for m in MEASURES], required=False
    )
    family = forms.ChoiceField(label=gettext_lazy("Family or bloc"), choices=[("", "—")], required=False)
    compare = forms.ModelChoiceField(label=gettext_lazy("Compared with"), queryset=Round.objects.none(), required=False)

    def __init__(self, data: Any, *, campaign: Any, list_families: bool = True) -> None:
        super().__init__(data)
        rounds = campaign_rounds(campaign).order_by("-election__year", "election__name", "number")
        self.fields["round"].queryset = rounds  # type: ignore[attr-defined]
        self.fields["compare"].queryset = rounds  # type: ignore[attr-defined]
        chosen = self.chosen_round(rounds)
        if chosen and not self.is_bound:
            self.fields["round"].initial = chosen.pk
        if not list_families:
            # The map's data only filters by the family it is given: listing the
            # round's families would read every candidate row of a national round.
            self.fields["family"] = forms.CharField(required=False, max_length=100)
            return
        blocs = [
            (bloc.name, f"{bloc.name} ({', '.join(bloc.nuances)})") for bloc in Bloc.objects.filter(campaign=campaign)
        ]
        codes = [(code, code) for code in families_of(chosen)] if chosen else []
        self.fields["family"].choices = [("", "—"), *blocs, *codes]  # type: ignore[attr-defined]

    def chosen_round(self, rounds: Any) -> Round | None:
        value = self.data.get("round") if self.data else None
        chosen: Round | None = rounds.filter(pk=value).first() if value and str(value).isdigit() else None
        return chosen or rounds.first()

    def params(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "round": data.get("round") or self.chosen_round(self.fields["round"].queryset),  # type: ignore[attr-defined]
            "measure": data.get("measure") or "turnout",
            "family": data.get("family") or "",
            "compare": data.get("compare"),
        }


@campaign_view("territory.view_territory")
def map_page(request: CampaignRequest) -> HttpResponse:
    form = AnalysisForm(request.GET or None, campaign=request.campaign)
    params = form.params()
    context = {
        "form": form,
        "params": params,
        "measure_label": MEASURE_LABELS[params["measure"]],
        "map_tiles": settings.MAP_TILES_URL,
        "can_import": can(request, "territory.import_territory"),
    }
    return render(request, "territory/map.html", context)


@campaign_view("territory.view_territory")
def map_data(request: CampaignRequest) -> HttpResponse:
    """GeoJSON of the campaign's stations with the chosen measure as `value`."""
    params = AnalysisForm(request.GET or None, campaign=request.campaign, list_families=False).params()
    if params["round"] is None:
        return JsonResponse({"type": "FeatureCollection", "features": []})
    values = station_values(request.campaign, params["round"], params["measure"], params["family"], params["compare"])
    response = HttpResponse(map_geojson(request.campaign, values), content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=60"
    return response


SORTS = {"code", "registered", "turnout", "abstention", "share"}


@campaign_view("territory.view_territory")
def station_list(request: CampaignRequest) -> HttpResponse:
    form = AnalysisForm(request.GET or None, campaign=request.campaign)
    params = form.params()
    rows = station_rows(request.campaign, params["round"], params["family"]) if params["round"] else []
    sort = request.GET.get("sort", "code")
    key = sort.lstrip("-")
    if key in SORTS:
        rows.sort(key=lambda row: (getattr(row, key) is None, getattr(row, key) or 0), reverse=sort.startswith("-"))
    if request.GET.get("format") == "csv":
        return _stations_csv(request, rows)
    query = request.GET.copy()
    query.pop("sort", None)
    return render(
        request,
        "territory/station_list.html",
        {"form": form, "rows": rows, "params": params, "query": query.urlencode(), "sort": sort},
    )


def _stations_csv(request: CampaignRequest, rows: list[Any]) -> HttpResponse:
    audit_record(action="territory.export_stations", campaign=request.campaign, changes={"count": [None, len(rows)]})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="polling-stations.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("code"),
            _("polling place"),
            _("registered"),
            _("voters"),
            _("valid votes"),
            _("family votes"),
            _("turnout"),
            _("share"),
        ]
    )
    for row in rows:
        cells = [
            row.code,
            row.name,
            row.registered,
            row.voters,
            row.valid,
            row.family_votes,
            _rate(row.turnout),
            _rate(row.share),
        ]
        writer.writerow([safe_cell(cell) for cell in cells])
    return response


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _station(request: CampaignRequest, station_code: str) -> PollingStation:
    station = campaign_stations(request.campaign).filter(code=station_code).first()
    if station is None:
        raise Http404
    return station


@campaign_view("territory.view_territory")
def station_detail(request: CampaignRequest, station_code: str) -> HttpResponse:
    station = _station(request, station_code)
    context = {
        "station": station,
        "history": station_history(station),
        "census": station_census(station),
        "people": station_people_counts(request.campaign, station),
        "small": SMALL_COUNT,
        "geometry": station.geometry,
    }
    return render(request, "territory/station_detail.html", context)


class BoundariesForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=[
            ("stations", gettext_lazy("Polling-station boundaries")),
            ("iris", gettext_lazy("IRIS boundaries (census)")),
        ],
    )
    file = forms.FileField(label=gettext_lazy("GeoJSON file"))
    commune_property = forms.CharField(label=gettext_lazy("Property holding the INSEE commune code"), required=False)
    number_property = forms.CharField(label=gettext_lazy("Property holding the polling-station number"), required=False)
    name_property = forms.CharField(label=gettext_lazy("Property holding the polling place (optional)"), required=False)

    def mapping(self) -> BoundaryMapping | None:
        data = self.cleaned_data
        if not (data["commune_property"] and data["number_property"]):
            return None  # recognised from the file (Etalab's national file, Brest's)
        return BoundaryMapping(data["commune_property"], data["number_property"], data["name_property"])


MAX_BOUNDARIES_BYTES = 50 * 1024 * 1024


@campaign_view("territory.import_territory")
def boundaries(request: CampaignRequest) -> HttpResponse:
    """Upload polling-station boundaries; they are read and stored by a job."""
    form = BoundariesForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_BOUNDARIES_BYTES:
            form.add_error("file", _("The file is larger than 50 MB: send one département at a time."))
        elif form.cleaned_data["kind"] == "iris":
            return _iris_boundaries(request, upload.read())
        else:
            job = boundaries_import_start(
                campaign=request.campaign,
                data=upload.read(),
                filename=upload.name,
                mapping=form.mapping(),
                actor=request.user,
            )
            return redirect("core:job", request.campaign.slug, job.pk)
    return render(request, "territory/boundaries.html", {"form": form})


def _iris_boundaries(request: CampaignRequest, data: bytes) -> HttpResponse:
    try:
        count, problems = attribute_by_iris_boundaries(data)
    except CensusFormatError as error:
        messages.error(request, str(error))
        return redirect("territory:boundaries", request.campaign.slug)
    audit_record(action="territory.import_iris", campaign=request.campaign, changes={"areas": [None, count]})
    for problem in problems[:20]:
        messages.warning(request, problem)
    messages.success(request, _("%(count)s census areas shared between polling stations.") % {"count": count})
    return redirect("territory:map", request.campaign.slug)


@campaign_view("territory.import_territory", methods=["POST"])
def approximate(request: CampaignRequest) -> HttpResponse:
    job = approximate_areas_start(campaign=request.campaign, actor=request.user)
    return redirect("core:job", request.campaign.slug, job.pk)


@campaign_view("territory.import_territory", methods=["POST"])
def geocode(request: CampaignRequest) -> HttpResponse:
    job = geocode_start(campaign=request.campaign, actor=request.user, only_new=request.POST.get("all") != "1")
    return redirect("core:job", request.campaign.slug, job.pk)


class BlocForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Bloc"), max_length=60)
    nuances = forms.CharField(
        label=gettext_lazy("Family codes, separated by commas"), help_text=gettext_lazy("e.g. UG, FI, SOC, ECO")
    )
    colour = forms.CharField(
        label=gettext_lazy("Colour"), initial="#6b7280", widget=forms.TextInput(attrs={"type": "color"})
    )


@campaign_view("territory.edit_blocs")
def blocs(request: CampaignRequest) -> HttpResponse:
    """The campaign's grouping of political families, to compare elections of different years."""
    form = BlocForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        bloc_save(
            campaign=request.campaign,
            name=form.cleaned_data["name"],
            nuances=form.cleaned_data["nuances"].split(","),
            colour=form.cleaned_data["colour"],
            actor=request.user,
        )
        messages.success(request, _("Bloc saved."))
        return redirect("territory:blocs", request.campaign.slug)
    context = {"form": form, "blocs": Bloc.objects.filter(campaign=request.campaign)}
    return render(request, "territory/blocs.html", context)


@campaign_view("territory.edit_blocs", methods=["POST"])
def bloc_delete(request: CampaignRequest, bloc_id: int) -> HttpResponse:
    bloc_remove(bloc=campaign_object_or_404(Bloc, request.campaign, pk=bloc_id), actor=request.user)
    messages.success(request, _("Bloc removed."))
    return redirect("territory:blocs", request.campaign.slug)


class RankingForm(forms.Form):
    mobilisation_weight = forms.FloatField(label=gettext_lazy("Mobilisation weight (α)"), initial=1.0, min_value=0)
    persuasion_weight = forms.FloatField(label=gettext_lazy("Persuasion weight (β)"), initial=1.0, min_value=0)
    per_dwelling = forms.BooleanField(label=gettext_lazy("Divide by dwellings"), initial=True, required=False)
    name = forms.CharField(label=gettext_lazy("Save as"), required=False, max_length=100)


@campaign_view("territory.rank_stations")
def ranking(request: CampaignRequest) -> HttpResponse:
    analysis = AnalysisForm(request.GET or None, campaign=request.campaign)
    params = analysis.params()
    form = RankingForm(request.POST or request.GET or None)
    weights = (
        form.cleaned_data
        if form.is_valid()
        else {"mobilisation_weight": 1.0, "persuasion_weight": 1.0, "per_dwelling": True}
    )
    scores = []
    if params["round"] and params["family"]:
        rows = station_rows(request.campaign, params["round"], params["family"])
        scores = rank_stations(
            [row.figures() for row in rows],
            mobilisation_weight=weights["mobilisation_weight"],
            persuasion_weight=weights["persuasion_weight"],
            per_dwelling=bool(weights["per_dwelling"]),
        )
    if request.method == "POST" and form.is_valid() and scores:
        if not form.cleaned_data["name"]:
            messages.error(request, _("Name the ranking to save it."))
        else:
            saved = ranking_save(
                campaign=request.campaign,
                name=form.cleaned_data["name"],
                round_=params["round"],
                family=params["family"],
                weights=weights,
                scores=scores,
                actor=request.user,
            )
            messages.success(request, _("Ranking saved."))
            return redirect("territory:ranking_detail", request.campaign.slug, saved.pk)
    context = {
        "analysis": analysis,
        "form": form,
        "scores": scores,
        "formula": FORMULA,
        "saved": PriorityRanking.objects.filter(campaign=request.campaign)[:20],
        "can_save": can(request, "territory.rank_stations"),
    }
    return render(request, "territory/ranking.html", context)


@campaign_view("territory.rank_stations")
def ranking_detail(request: CampaignRequest, ranking_id: int) -> HttpResponse:
    saved = campaign_object_or_404(
        PriorityRanking.objects.select_related("round__election"), request.campaign, pk=ranking_id
    )
    return render(request, "territory/ranking_detail.html", {"ranking": saved, "formula": FORMULA})
