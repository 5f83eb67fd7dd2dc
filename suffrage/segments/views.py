"""Segment pages: the list, the builder (live count, sample, breakdowns), save,
freeze as a static list, delete."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.canvassing.models import Outcome
from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.engagement.models import Action, Event
from suffrage.messaging.models import Mailing
from suffrage.people.models import Channel, CustomField, LegalBasis, Person, Source, SupportLevel, Tag
from suffrage.segments import selectors, services
from suffrage.segments.compiler import context_for, segment_people
from suffrage.segments.language import AGE_BANDS, FIELDS, FLAGS, ROLL_STATUSES, Context, FilterError
from suffrage.segments.models import Segment
from suffrage.territory.selectors import campaign_stations

EVERYONE: dict[str, Any] = {"version": 1, "filter": {"all": []}}


class SegmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    document = forms.CharField(widget=forms.HiddenInput)

    def clean_document(self) -> Any:
        try:
            return json.loads(self.cleaned_data["document"])
        except ValueError:
            raise ValidationError(_("The filter is not valid JSON.")) from None


def _context(request: CampaignRequest) -> Context:
    return context_for(request.campaign, can_sensitive=can(request, "people.view_sensitive"))


@campaign_view("segments.view_segments")
def segment_list(request: CampaignRequest) -> HttpResponse:
    context = _context(request)
    rows = []
    for segment in selectors.segments(request.campaign):
        try:
            count = (
                segment.snapshot.count
                if segment.snapshot
                else segment_people(request.campaign, segment.document, context).count()
            )
        except FilterError:
            count = None
        rows.append((segment, count))
    return render(request, "segments/segment_list.html", {"rows": rows})


def _vocabulary(request: CampaignRequest, segment: Segment | None) -> dict[str, Any]:
    """What the builder offers: fields, choices, and the campaign's tags, stations and segments."""
    stations = campaign_stations(request.campaign).order_by("code").defer("geometry")
    segments = Segment.objects.filter(campaign=request.campaign)
    custom_fields = CustomField.objects.filter(campaign=request.campaign)
    if not can(request, "people.view_sensitive"):
        custom_fields = custom_fields.filter(sensitive=False)  # cannot be used anyway
    fields = {
        name: {"label": str(spec.label), "ops": list(spec.ops), "value": spec.value}
        for name, spec in FIELDS.items()
        if name != "support_level" or can(request, "people.view_sensitive")
    }
    return {
        "fields": fields,
        "choices": {
            "reachable": [(c, str(label)) for c, label in Channel.choices],
            "channel": [(c, str(label)) for c, label in Channel.choices],
            "legal_basis": [(c, str(label)) for c, label in LegalBasis.choices],
            "source": [(c, str(label)) for c, label in Source.choices],
            "roll_status": [(key, str(label)) for key, label in ROLL_STATUSES.items()],
            "age_band": [(key, key) for key in AGE_BANDS],
            "flag": [(key, str(_(key))) for key in FLAGS],
            "support_level": [(c, str(label)) for c, label in SupportLevel.choices],
            "visit": [(c, str(label)) for c, label in Outcome.choices],
        },
        "tags": list(Tag.objects.filter(campaign=request.campaign).order_by("name").values_list("name", flat=True)),
        "stations": [(s.code, s.name) for s in stations],
        "communes": list(request.campaign.communes.values_list("commune__code", "commune__name")),
        "constituencies": sorted({s.constituency for s in stations if s.constituency}),
        "custom_fields": list(custom_fields.values("key", "label", "kind", "choices")),
        "segments": [(pk, name) for pk, name in segments.values_list("pk", "name") if not segment or pk != segment.pk],
        "mailings": list(Mailing.objects.filter(campaign=request.campaign).values_list("pk", "name")[:200]),
        "forms": list(Action.objects.filter(campaign=request.campaign).values_list("pk", "title")[:200]),
        "events": list(Event.objects.filter(campaign=request.campaign).values_list("pk", "title")[:200]),
    }


@campaign_view("segments.view_segments")
def builder(request: CampaignRequest, segment_id: int | None = None) -> HttpResponse:
    segment = campaign_object_or_404(Segment, request.campaign, pk=segment_id) if segment_id else None
    initial = {
        "name": segment.name if segment else "",
        "description": segment.description if segment else "",
        "document": json.dumps(segment.document if segment else EVERYONE),
    }
    form = SegmentForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can(request, "segments.edit_segments"):
            messages.error(request, _("Your role cannot save segments."))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                if request.POST.get("action") == "freeze":
                    saved = services.segment_freeze(
                        campaign=request.campaign,
                        name=data["name"],
                        document=data["document"],
                        description=data["description"],
                        actor=request.user,
                    )
                    messages.success(
                        request,
                        _("Static list saved with %(n)s people.")
                        % {"n": saved.snapshot.count if saved.snapshot else 0},
                    )
                else:
                    saved = services.segment_save(
                        campaign=request.campaign,
                        name=data["name"],
                        document=data["document"],
                        description=data["description"],
                        segment=segment if segment and segment.kind == Segment.Kind.DYNAMIC else None,
                        actor=request.user,
                        context=_context(request),
                    )
                    messages.success(request, _("Segment saved."))
                return redirect("segments:edit", request.campaign.slug, saved.pk)
            except ValidationError as error:
                form.add_error(None, " ".join(error.messages))
    context = {
        "segment": segment,
        "form": form,
        "vocabulary": _vocabulary(request, segment),
        "can_edit": can(request, "segments.edit_segments"),
        "map_tiles": settings.MAP_TILES_URL,
    }
    return render(request, "segments/builder.html", context)


@campaign_view("segments.view_segments", methods=["POST"])
def count(request: CampaignRequest) -> HttpResponse:
    """The builder's live result: the count, and a sample for roles that see people. The
    breakdowns follow in a second request (`breakdown`): for half a million people they
    take seconds, and the count should not wait for them."""
    try:
        people = _people(request)
        result: dict[str, Any] = {
            "count": people.count(),
            "sample": selectors.sample(people) if can(request, "people.view_people") else None,
        }
    except ValueError as error:
        return _invalid(request, error)
    return render(request, "segments/htmx/count.html", result)


@campaign_view("segments.view_segments", methods=["POST"])
def breakdown(request: CampaignRequest) -> HttpResponse:
    """How many of them each channel reaches, and how many live in each polling station."""
    try:
        people = _people(request)
        result = {"channels": selectors.by_channel(people), "stations": selectors.by_station(people)}
    except ValueError as error:
        return _invalid(request, error)
    return render(request, "segments/htmx/breakdown.html", {**result, "channel_labels": dict(Channel.choices)})


def _people(request: CampaignRequest) -> QuerySet[Person]:
    """The posted document's people; ValueError (FilterError) when it does not parse or compile."""
    return segment_people(request.campaign, json.loads(request.POST.get("document", "")), _context(request))


def _invalid(request: CampaignRequest, error: ValueError) -> HttpResponse:
    message = str(error) if isinstance(error, FilterError) else _("The filter is not valid JSON.")
    return render(request, "segments/htmx/count.html", {"error": message})


@campaign_view("segments.edit_segments", methods=["POST"])
def delete(request: CampaignRequest, segment_id: int) -> HttpResponse:
    segment = campaign_object_or_404(Segment, request.campaign, pk=segment_id)
    try:
        services.segment_delete(segment=segment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("segments:edit", request.campaign.slug, segment.pk)
    messages.success(request, _("Segment deleted."))
    return redirect("segments:list", request.campaign.slug)
