"""Forms of the organisers' pages and the calling page: the canvass editor with its
area picker, the survey's questions, a turf's assignment, and a call's outcome.

The area picker works without JavaScript: polling stations are checkboxes (or the
top N of a saved ranking), a drawn area is GeoJSON text (the map fills it in), a
segment is a select."""

from __future__ import annotations

import json
import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from suffrage.canvassing import selectors
from suffrage.canvassing.area import stations_from_ranking
from suffrage.canvassing.models import PHONE_OUTCOMES, Canvass, Outcome, Question
from suffrage.canvassing.services import polygon_check
from suffrage.core.models import Campaign, User
from suffrage.elections.models import PriorityRanking
from suffrage.engagement.forms import LocalDateTimeField, in_zone
from suffrage.segments.models import Segment
from suffrage.territory.selectors import campaign_stations

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AreaKind:
    STATIONS = "stations"
    POLYGON = "polygon"
    SEGMENT = "segment"
    CHOICES = (
        (STATIONS, _("Polling stations (picked from a priority ranking, or ticked)")),
        (POLYGON, _("An area drawn on the map")),
        (SEGMENT, _("People of a segment (who asked to be visited; a phone bank's call list)")),
    )


class CanvassForm(forms.ModelForm):  # type: ignore[type-arg]
    area_kind = forms.ChoiceField(
        label=_("Area"), choices=AreaKind.CHOICES, widget=forms.RadioSelect, initial=AreaKind.STATIONS
    )
    ranking = forms.ModelChoiceField(
        label=_("Priority ranking"),
        queryset=PriorityRanking.objects.none(),
        required=False,
        help_text=_("Its best polling stations are taken; leave empty to tick stations yourself."),
    )
    top = forms.IntegerField(label=_("How many of its best stations"), min_value=1, max_value=500, required=False)
    stations = forms.MultipleChoiceField(
        label=_("Polling stations"), choices=(), required=False, widget=forms.CheckboxSelectMultiple
    )
    polygon = forms.CharField(
        label=_("Drawn area (GeoJSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "geojson"}),
        help_text=_("Draw on the map, or paste a GeoJSON polygon (longitude, latitude)."),
    )
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.none(), required=False)

    class Meta:
        model = Canvass
        fields = [
            "name",
            "kind",
            "status",
            "starts_on",
            "ends_on",
            "goal_doors",
            "goal_conversations",
            "turf_size",
            "script",
        ]
        widgets = {
            "starts_on": DATE,
            "ends_on": DATE,
            "script": forms.Textarea(attrs={"rows": 10, "class": "markdown"}),
        }

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.area: dict[str, Any] = {}
        self.fields["ranking"].queryset = PriorityRanking.objects.filter(campaign=campaign)  # type: ignore[attr-defined]
        self.fields["segment"].queryset = Segment.objects.filter(campaign=campaign)  # type: ignore[attr-defined]
        stations = campaign_stations(campaign).defer("geometry")
        self.fields["stations"].choices = [(station.code, f"{station.code} · {station}") for station in stations]  # type: ignore[attr-defined]
        self.fields["turf_size"].help_text = _("About how many doors one volunteer covers in an outing.")
        if self.instance.pk:
            self._initial_area(self.instance.area or {})

    def _initial_area(self, area: dict[str, Any]) -> None:
        if "polygon" in area:
            self.initial.update(area_kind=AreaKind.POLYGON, polygon=json.dumps(area["polygon"]))
        elif "segment" in area:
            self.initial.update(area_kind=AreaKind.SEGMENT, segment=area["segment"])
        elif "stations" in area:
            self.initial.update(area_kind=AreaKind.STATIONS, stations=area["stations"])
            if area.get("ranking"):
                self.initial.update(ranking=area["ranking"], top=area.get("top"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("area_kind")
        if data.get("kind") == Canvass.Kind.PHONE and kind != AreaKind.SEGMENT:
            self.add_error("area_kind", _("A phone bank calls the people of a segment: choose “People of a segment”."))
        elif kind == AreaKind.STATIONS:
            self.area = self._stations_area(data)
        elif kind == AreaKind.POLYGON:
            try:
                self.area = {"polygon": polygon_check(data.get("polygon") or "")}
            except ValidationError as error:
                self.add_error(None, error)  # a dict naming the "polygon" field
        elif kind == AreaKind.SEGMENT:
            if data.get("segment") is None:
                self.add_error("segment", _("Choose a segment."))
            else:
                self.area = {"segment": data["segment"].pk}
        return data

    def _stations_area(self, data: dict[str, Any]) -> dict[str, Any]:
        ranking = data.get("ranking")
        if ranking is not None:
            if not data.get("top"):
                self.add_error("top", _("Say how many of the ranking's best stations to take."))
                return {}
            codes = stations_from_ranking(ranking, data["top"])
            if not codes:
                self.add_error("ranking", _("This ranking has no polling station of the campaign."))
                return {}
            return {"stations": codes, "ranking": ranking.pk, "top": data["top"]}
        if not data.get("stations"):
            self.add_error("stations", _("Tick at least one polling station, or take them from a ranking."))
            return {}
        return {"stations": list(data["stations"])}


class QuestionForm(forms.ModelForm):  # type: ignore[type-arg]
    choices_text = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One a line (for one choice or several choices)."),
    )

    class Meta:
        model = Question
        fields = ["kind", "text", "position"]
        labels = {"position": _("Order")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["choices_text"] = "\n".join(self.instance.choices or [])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.instance.choices = [line.strip() for line in (data.get("choices_text") or "").splitlines() if line.strip()]
        return data


class AssignForm(forms.Form):
    volunteer = forms.ModelChoiceField(label=_("Volunteer"), queryset=User.objects.none())
    # Empty: planning.ASSIGNMENT_DAYS from now (the pages say so).
    expires_local = LocalDateTimeField(label=_("Assignment expires"), required=False)

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(campaign.time_zone)
        self.fields["volunteer"].queryset = selectors.volunteers(campaign)  # type: ignore[attr-defined]
        self.fields["volunteer"].label_from_instance = lambda user: selectors.user_label(  # type: ignore[attr-defined]
            user.first_name, user.last_name, user.email
        )

    def clean_expires_local(self) -> Any:
        local = self.cleaned_data.get("expires_local")
        return in_zone(local, self.zone) if local else None


class CallForm(forms.Form):
    """A call's outcome, with the survey when the person talked. The outcome comes from
    the button pressed; the target from the page (and is checked against the claim)."""

    target = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(choices=[(outcome.value, outcome.label) for outcome in PHONE_OUTCOMES])
    callback_local = LocalDateTimeField(label=_("Call back at"), required=False)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        help_text=_("Only what helps the next call (a better time, another language). Never an opinion."),
    )

    def __init__(self, *args: Any, campaign: Campaign, questions: list[Question], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(campaign.time_zone)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}"] = _question_field(question)

    def clean_callback_local(self) -> Any:
        local = self.cleaned_data.get("callback_local")
        return in_zone(local, self.zone) if local else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == Outcome.CALL_BACK and not data.get("callback_local"):
            self.add_error("callback_local", _("Give the date and time to call back."))
        return data

    def answers(self) -> dict[str, Any]:
        return {str(question.pk): self.cleaned_data.get(f"q{question.pk}") for question in self.questions}

    def survey_fields(self) -> list[forms.BoundField]:
        return [self[f"q{question.pk}"] for question in self.questions]


def _question_field(question: Question) -> forms.Field:
    if question.kind == Question.Kind.SINGLE:
        return forms.ChoiceField(
            label=question.text,
            required=False,
            choices=[(choice, choice) for choice in question.choices],
            widget=forms.RadioSelect,
        )
    if question.kind == Question.Kind.MULTIPLE:
        return forms.MultipleChoiceField(
            label=question.text,
            required=False,
            choices=[(choice, choice) for choice in question.choices],
            widget=forms.CheckboxSelectMultiple,
        )
    if question.kind == Question.Kind.SCALE:
        return forms.ChoiceField(
            label=question.text,
            required=False,
            choices=[(str(value), str(value)) for value in range(1, 6)],
            widget=forms.RadioSelect(attrs={"class": "scale"}),
        )
    return forms.CharField(
        label=question.text, required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
