"""Organisers' pages for canvassing, under /c/<campaign_slug>/canvassing/: canvasses
(door-to-door and phone banks) with their area and survey, cutting into turfs,
turfs on a map with their walk lists and assignments, the live dashboard, survey
results, revisit lists, call lists; and the volunteers' calling page, which shows
one claimed contact at a time and never the list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from suffrage.canvassing import selectors, services
from suffrage.canvassing.forms import AssignForm, CallForm, CanvassForm, QuestionForm
from suffrage.canvassing.models import REVISIT, CallTarget, Canvass, Question, Turf
from suffrage.canvassing.planning import ASSIGNMENT_DAYS, canvass_plan_start, turf_assign
from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.forms import errors_to_form
from suffrage.elections.models import PriorityRanking
from suffrage.messaging.rendering import markdown_to_html
from suffrage.segments.models import Segment
from suffrage.territory.maps import map_geojson


def _canvass(request: CampaignRequest, canvass_id: int) -> Canvass:
    return campaign_object_or_404(Canvass, request.campaign, pk=canvass_id)


def _turf(request: CampaignRequest, turf_id: int) -> Turf:
    return campaign_object_or_404(Turf.objects.select_related("canvass", "assigned_to"), request.campaign, pk=turf_id)


def _back(request: CampaignRequest, turf: Turf) -> HttpResponseBase:
    """Back to the page the turf's form was on (one of three, never an address from the form)."""
    where = request.POST.get("back", "")
    slug = request.campaign.slug
    if where == "turfs":
        return redirect("canvassing:turfs", slug, turf.canvass_id)
    if where == "revisits":
        return redirect("canvassing:revisits", slug, turf.canvass_id)
    return redirect("canvassing:turf", slug, turf.pk)


def area_summary(canvass: Canvass) -> dict[str, Any]:
    """What the area is, in words for the page (one query at most)."""
    area = canvass.area or {}
    if "stations" in area:
        ranking_id = area.get("ranking")
        rankings = PriorityRanking.objects.filter(campaign=canvass.campaign)
        ranking = rankings.filter(pk=ranking_id).first() if isinstance(ranking_id, int) else None
        return {"kind": "stations", "stations": area["stations"], "ranking": ranking, "top": area.get("top")}
    if "polygon" in area:
        return {"kind": "polygon"}
    if "segment" in area:
        return {
            "kind": "segment",
            "segment": Segment.objects.filter(campaign=canvass.campaign, pk=area["segment"]).first(),
        }
    return {"kind": ""}


# --- Canvasses -------------------------------------------------------------------------------------


@campaign_view("canvassing.view_canvassing", methods=("GET",))
def canvass_list(request: CampaignRequest) -> HttpResponse:
    found = list(selectors.canvasses(request.campaign)[:200])
    numbers = selectors.numbers_by_canvass(found)
    context = {
        "rows": [(canvass, numbers[canvass.pk]) for canvass in found],
        "can_edit": can(request, "canvassing.edit_canvassing"),
    }
    return render(request, "canvassing/canvass_list.html", context)


@campaign_view("canvassing.edit_canvassing")
def canvass_edit(request: CampaignRequest, canvass_id: int | None = None) -> HttpResponseBase:
    if canvass_id is None:
        kind = Canvass.Kind.PHONE if request.GET.get("phone") else Canvass.Kind.DOORS
        canvass = Canvass(campaign=request.campaign, kind=kind)
    else:
        canvass = _canvass(request, canvass_id)
    form = CanvassForm(request.POST or None, instance=canvass, campaign=request.campaign)
    if canvass.pk is None and canvass.kind == Canvass.Kind.PHONE:
        form.initial.setdefault("area_kind", "segment")
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.area = form.area
        try:
            services.canvass_save(canvass=saved, actor=request.user)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Canvass saved."))
            return redirect("canvassing:detail", request.campaign.slug, saved.pk)
    context = {"form": form, "canvass": canvass if canvass.pk else None, "map_tiles": settings.MAP_TILES_URL}
    return render(request, "canvassing/canvass_form.html", context)


@campaign_view("canvassing.edit_canvassing", methods=("GET",))
def stations_map(request: CampaignRequest) -> HttpResponse:
    """The campaign's polling stations as GeoJSON: the background of the area picker."""
    return HttpResponse(map_geojson(request.campaign, {}), content_type="application/json")


def _dashboard_context(request: CampaignRequest, canvass: Canvass) -> dict[str, Any]:
    context: dict[str, Any] = {
        "canvass": canvass,
        "numbers": selectors.totals(canvass),
        "volunteers": selectors.by_volunteer(canvass),
        "outcomes": selectors.outcomes(canvass),
    }
    if canvass.kind == Canvass.Kind.PHONE:
        context["progress"] = selectors.phone_progress(canvass)
    else:
        context["stations"] = selectors.by_station(canvass)
        context["turfs"] = selectors.by_turf(canvass)
    return context


@campaign_view("canvassing.view_canvassing", methods=("GET",))
def canvass_detail(request: CampaignRequest, canvass_id: int) -> HttpResponse:
    """The dashboard. Its numbers refresh every 30 seconds (the partial alone, through htmx)."""
    canvass = _canvass(request, canvass_id)
    context = _dashboard_context(request, canvass)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "canvassing/htmx/dashboard.html", context)
    context.update(
        area=area_summary(canvass),
        questions=canvass.questions.count(),
        can_edit=can(request, "canvassing.edit_canvassing"),
        can_call=can(request, "canvassing.canvass"),
    )
    return render(request, "canvassing/canvass_detail.html", context)


@campaign_view("canvassing.edit_canvassing", methods=("POST",))
def canvass_plan(request: CampaignRequest, canvass_id: int) -> HttpResponseBase:
    """Cut the area into doors and turfs: a job, followed on its page."""
    canvass = _canvass(request, canvass_id)
    try:
        job = canvass_plan_start(canvass=canvass, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("canvassing:detail", request.campaign.slug, canvass.pk)
    return redirect("core:job", request.campaign.slug, job.pk)


@campaign_view("canvassing.edit_canvassing", methods=("POST",))
def call_list_build(request: CampaignRequest, canvass_id: int) -> HttpResponseBase:
    canvass = _canvass(request, canvass_id)
    try:
        added = services.call_list_build(canvass=canvass, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        text = ngettext("%(count)s person added to the call list.", "%(count)s people added to the call list.", added)
        messages.success(request, text % {"count": added})
    return redirect("canvassing:detail", request.campaign.slug, canvass.pk)


# --- The survey ---------------------------------------------------------------------------------------


@campaign_view("canvassing.edit_canvassing")
def questions(request: CampaignRequest, canvass_id: int) -> HttpResponseBase:
    canvass = _canvass(request, canvass_id)
    existing = list(canvass.questions.all())
    question = Question(canvass=canvass, position=len(existing) + 1)
    form = QuestionForm(request.POST or None, instance=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.question_save(question=form.save(commit=False), actor=request.user)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Question added."))
            return redirect("canvassing:questions", request.campaign.slug, canvass.pk)
    return render(request, "canvassing/questions.html", {"canvass": canvass, "questions": existing, "form": form})


@campaign_view("canvassing.edit_canvassing")
def question_edit(request: CampaignRequest, question_id: int) -> HttpResponseBase:
    question = _question(request, question_id)
    form = QuestionForm(request.POST or None, instance=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.question_save(question=form.save(commit=False), actor=request.user)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Question saved."))
            return redirect("canvassing:questions", request.campaign.slug, question.canvass_id)
    return render(request, "canvassing/question_form.html", {"canvass": question.canvass, "form": form})


def _question(request: CampaignRequest, question_id: int) -> Question:
    """A question of this campaign's canvasses, or 404 (a question has no campaign of its own)."""
    question = Question.objects.select_related("canvass").filter(canvass__campaign=request.campaign, pk=question_id)
    found = question.first()
    if found is None:
        raise Http404
    return found


@campaign_view("canvassing.edit_canvassing", methods=("POST",))
def question_delete(request: CampaignRequest, question_id: int) -> HttpResponseBase:
    question = _question(request, question_id)
    services.question_delete(question=question, actor=request.user)
    messages.success(request, _("Question removed."))
    return redirect("canvassing:questions", request.campaign.slug, question.canvass_id)


@campaign_view("canvassing.view_canvassing", methods=("GET",))
def results(request: CampaignRequest, canvass_id: int) -> HttpResponse:
    canvass = _canvass(request, canvass_id)
    context = {
        "canvass": canvass,
        "results": selectors.survey_results(canvass),
        "smallest": selectors.SMALLEST_SHOWN,
        "can_edit": can(request, "canvassing.edit_canvassing"),
    }
    return render(request, "canvassing/results.html", context)


# --- Turfs ------------------------------------------------------------------------------------------------


@campaign_view("canvassing.view_canvassing", methods=("GET",))
def turf_list(request: CampaignRequest, canvass_id: int) -> HttpResponse:
    canvass = _canvass(request, canvass_id)
    can_edit = can(request, "canvassing.edit_canvassing")
    context = {
        "canvass": canvass,
        "turfs": selectors.by_turf(canvass),
        "volunteers": list(selectors.volunteers(request.campaign)) if can_edit else [],
        "can_edit": can_edit,
        "map_tiles": settings.MAP_TILES_URL,
        "outcome_labels": selectors.outcome_labels(),
        "assignment_days": ASSIGNMENT_DAYS,
    }
    return render(request, "canvassing/turf_list.html", context)


@campaign_view("canvassing.view_canvassing", methods=("GET",))
def map_data(request: CampaignRequest, canvass_id: int) -> JsonResponse:
    return JsonResponse(selectors.map_features(_canvass(request, canvass_id)))


@campaign_view("canvassing.view_canvassing", methods=("GET",))
def turf_detail(request: CampaignRequest, turf_id: int) -> HttpResponse:
    """The walk list of a turf (printable): addresses in walking order, never a name."""
    turf = _turf(request, turf_id)
    can_edit = can(request, "canvassing.edit_canvassing")
    context = {
        "turf": turf,
        "canvass": turf.canvass,
        "doors": _labelled(selectors.walk_list(turf)),
        "revisit": [str(outcome) for outcome in REVISIT],
        "volunteers": list(selectors.volunteers(request.campaign)) if can_edit else [],
        "can_edit": can_edit,
    }
    return render(request, "canvassing/turf_detail.html", context)


def _labelled(doors: Iterable[Any]) -> list[Any]:
    """The doors, each with the label of its last outcome (`last_label`)."""
    labels = selectors.outcome_labels()
    found = list(doors)
    for door in found:
        door.last_label = labels.get(door.last_outcome or "", "")
    return found


def _assign(request: CampaignRequest, turf: Turf, *, second_pass: bool) -> None:
    form = AssignForm(request.POST, campaign=request.campaign)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return
    volunteer = form.cleaned_data["volunteer"]
    try:
        with transaction.atomic():
            if second_pass:  # whoever held it: the organiser gives it again on purpose
                turf_assign(turf=turf, volunteer=None, actor=request.user)
            turf_assign(
                turf=turf, volunteer=volunteer, actor=request.user, expires_at=form.cleaned_data["expires_local"]
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return
    name = selectors.user_label(volunteer.first_name, volunteer.last_name, volunteer.email)
    if second_pass:
        messages.success(request, _("%(turf)s goes to %(name)s for a second pass.") % {"turf": turf.name, "name": name})
    else:
        messages.success(request, _("%(turf)s is assigned to %(name)s.") % {"turf": turf.name, "name": name})


@campaign_view("canvassing.edit_canvassing", methods=("POST",))
def turf_assign_view(request: CampaignRequest, turf_id: int) -> HttpResponseBase:
    turf = _turf(request, turf_id)
    _assign(request, turf, second_pass=False)
    return _back(request, turf)


@campaign_view("canvassing.edit_canvassing", methods=("POST",))
def turf_second_pass(request: CampaignRequest, turf_id: int) -> HttpResponseBase:
    """Give the turf again (to the same volunteer or another) for the doors to revisit."""
    turf = _turf(request, turf_id)
    _assign(request, turf, second_pass=True)
    return _back(request, turf)


@campaign_view("canvassing.edit_canvassing", methods=("POST",))
def turf_release_view(request: CampaignRequest, turf_id: int) -> HttpResponseBase:
    turf = _turf(request, turf_id)
    turf_assign(turf=turf, volunteer=None, actor=request.user)
    messages.success(request, _("%(turf)s is free again.") % {"turf": turf.name})
    return _back(request, turf)


@campaign_view("canvassing.view_canvassing", methods=("GET",))
def revisits(request: CampaignRequest, canvass_id: int) -> HttpResponse:
    canvass = _canvass(request, canvass_id)
    can_edit = can(request, "canvassing.edit_canvassing")
    context = {
        "canvass": canvass,
        "groups": [(turf, _labelled(doors)) for turf, doors in selectors.revisit_doors(canvass)],
        "volunteers": list(selectors.volunteers(request.campaign)) if can_edit else [],
        "can_edit": can_edit,
    }
    return render(request, "canvassing/revisits.html", context)


# --- Phone banks: the volunteers' calling page -------------------------------------------------------------


@campaign_view("canvassing.canvass", methods=("GET",))
def phone_banks(request: CampaignRequest) -> HttpResponse:
    """The phone banks open now: their names only, never who is on their lists."""
    found = Canvass.objects.filter(
        campaign=request.campaign, kind=Canvass.Kind.PHONE, status=Canvass.Status.ACTIVE
    ).order_by("name")
    return render(request, "canvassing/phone_banks.html", {"canvasses": found})


@campaign_view("canvassing.canvass")
def call(request: CampaignRequest, canvass_id: int) -> HttpResponseBase:
    """One contact at a time: who to call, the script, the survey, what happened."""
    canvass = _canvass(request, canvass_id)
    is_open = canvass.kind == Canvass.Kind.PHONE and canvass.status == Canvass.Status.ACTIVE
    questions_ = list(canvass.questions.all()) if is_open else []
    form = None
    if request.method == "POST" and is_open:
        form = CallForm(request.POST, campaign=request.campaign, questions=questions_)
        if form.is_valid():
            _record_call(request, canvass, form)
            return redirect("canvassing:call", request.campaign.slug, canvass.pk)
    target = services.call_next(canvass=canvass, volunteer=request.user) if is_open else None
    if target is not None and (form is None or form["target"].value() != str(target.pk)):
        form = CallForm(initial={"target": target.pk}, campaign=request.campaign, questions=questions_)
    context = {
        "canvass": canvass,
        "is_open": is_open,
        "target": target,
        "phone": services.target_phone(target) if target else None,
        "form": form,
        "script": mark_safe(markdown_to_html(canvass.script)) if canvass.script.strip() else "",  # escape=True
    }
    return render(request, "canvassing/call.html", context)


def _record_call(request: CampaignRequest, canvass: Canvass, form: CallForm) -> None:
    target = (
        CallTarget.objects.filter(campaign=request.campaign, canvass=canvass, pk=form.cleaned_data["target"])
        .select_related("person", "canvass")
        .first()
    )
    try:
        if target is None:
            raise ValidationError(_("This contact is not yours to call (any more). Take the next one."))
        services.call_record(
            target=target,
            volunteer=request.user,
            outcome=form.cleaned_data["outcome"],
            answers=form.answers(),
            note=form.cleaned_data["note"],
            callback_at=form.cleaned_data["callback_local"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))  # the page then shows the contact they hold, if any
        return
    messages.success(request, _("Call recorded."))
