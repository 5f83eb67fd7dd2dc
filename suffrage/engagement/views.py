"""Organisers' pages for public engagement: the overview, the form and petition
builder, events with their RSVPs and the check-in at the door, calls to action,
results, exports and the public site's settings."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils import formats
from django.utils.translation import gettext as _

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.audit import audit_record
from suffrage.core.exports import safe_cell
from suffrage.core.forms import errors_to_form
from suffrage.engagement import selectors, services
from suffrage.engagement.fields import catalogue
from suffrage.engagement.forms import (
    ActionForm,
    CallForm,
    CheckinSearchForm,
    EventForm,
    SiteForm,
    WalkInForm,
    consent_texts,
)
from suffrage.engagement.models import RSVP, Action, CallToAction, ConsentWording, Event, Response, Submission
from suffrage.people.services import tag_get_or_create

EMBED_SNIPPETS = "engagement/public/_embed_snippets.html"


# The event form edits the times as local date and time fields.
EVENT_FIELDS = {"starts_at": "starts_local", "ends_at": "ends_local"}


def _errors_to_form(form: Any, error: ValidationError) -> None:
    errors_to_form(form, error, EVENT_FIELDS)


def public_url(name: str, *args: Any) -> str:
    """The absolute address of a public page, or "" while that page does not exist."""
    try:
        return f"{settings.SITE_URL}{reverse(name, args=args)}"
    except NoReverseMatch:
        return ""


def _embed_template() -> str:
    try:
        get_template(EMBED_SNIPPETS)
    except TemplateDoesNotExist:
        return ""
    return EMBED_SNIPPETS


def checkin_url(rsvp: RSVP) -> str:
    """What the ticket's QR code holds: this RSVP's check-in page for organisers."""
    return f"{settings.SITE_URL}{reverse('engagement:checkin_token', args=[rsvp.campaign.slug, rsvp.token])}"


def _tag(request: CampaignRequest, name: str) -> Any:
    return tag_get_or_create(request.campaign, name) if name.strip() else None


# --- Overview --------------------------------------------------------------------------------


@campaign_view("engagement.view_engagement", methods=("GET",))
def overview(request: CampaignRequest) -> HttpResponse:
    campaign = request.campaign
    context = {
        "actions": selectors.actions_with_counts(campaign),
        "events": selectors.events_with_counts(campaign),
        "calls": selectors.calls_with_counts(campaign),
        "kinds": Action.Kind.choices,
        "can_edit": can(request, "engagement.edit_engagement"),
        "can_configure": can(request, "engagement.configure_site"),
        "public_home": public_url("engagement_public:home", campaign.slug),
    }
    return render(request, "engagement/overview.html", context)


# --- Forms and petitions ---------------------------------------------------------------------


@campaign_view("engagement.edit_engagement")
def action_edit(request: CampaignRequest, action_id: int | None = None) -> HttpResponseBase:
    campaign = request.campaign
    if action_id is None:
        action = Action(campaign=campaign)
        kind = request.GET.get("kind", "")
        initial = {"kind": kind} if kind in Action.Kind.values else {}
    else:
        action = campaign_object_or_404(Action.objects.select_related("tag"), campaign, pk=action_id)
        initial = {}
    form = ActionForm(request.POST or None, instance=action, initial=initial, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        try:
            with transaction.atomic():  # the tag is not created for a form that is not saved
                saved.tag = _tag(request, form.cleaned_data["tag_name"])
                services.action_save(action=saved, actor=request.user, consents=consent_texts(form.cleaned_data))
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("Form saved."))
            return redirect("engagement:action_detail", campaign.slug, saved.pk)
    return render(request, "engagement/action_form.html", {"form": form, "action": action if action.pk else None})


@campaign_view("engagement.view_engagement", methods=("GET",))
def action_detail(request: CampaignRequest, action_id: int) -> HttpResponse:
    campaign = request.campaign
    action = campaign_object_or_404(Action.objects.select_related("tag"), campaign, pk=action_id)
    labels = {key: str(spec.label) for key, spec in catalogue(campaign).items()}
    url = public_url("engagement_public:action", campaign.slug, action.slug)
    counts = Submission.objects.filter(action=action).aggregate(
        total=Count("pk"), pending=Count("pk", filter=Q(status=Submission.Status.PENDING))
    )
    context = {
        "action": action,
        "asked": [
            {**item, "name": item.get("label") or labels.get(item["key"], item["key"])} for item in action.fields
        ],
        "history": selectors.wording_history(action),
        "current": {wording.pk for wording in services.wordings_current(action)},
        "submitted": counts["total"],
        "pending": counts["pending"],
        "views": selectors.views_by_page(campaign, [selectors.page_key(action)]).get(selectors.page_key(action), 0),
        "public_url": url,
        "embed_template": _embed_template() if url else "",
        "can_edit": can(request, "engagement.edit_engagement"),
        "can_export": can(request, "engagement.export_engagement"),
        "can_see_people": can(request, "people.view_people"),
    }
    context["conversion"] = selectors.conversion(context["submitted"], context["views"])
    return render(request, "engagement/action_detail.html", context)


@campaign_view("engagement.view_engagement", methods=("GET",))
def action_results(request: CampaignRequest, action_id: int) -> HttpResponse:
    action = campaign_object_or_404(Action, request.campaign, pk=action_id)
    context = {
        "object": action,
        "results": selectors.action_results(action),
        "done_label": _("Petition signatures") if action.is_petition else _("Submissions"),
        "back": reverse("engagement:action_detail", args=[request.campaign.slug, action.pk]),
        "smallest": selectors.SMALLEST_SHOWN,
        "can_edit": can(request, "engagement.edit_engagement"),
    }
    return render(request, "engagement/results.html", context)


# --- Events ----------------------------------------------------------------------------------


@campaign_view("engagement.edit_engagement")
def event_edit(request: CampaignRequest, event_id: int | None = None) -> HttpResponseBase:
    campaign = request.campaign
    if event_id is None:
        event = Event(campaign=campaign, time_zone=campaign.time_zone)
    else:
        event = campaign_object_or_404(Event.objects.select_related("tag"), campaign, pk=event_id)
    form = EventForm(request.POST or None, instance=event, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        try:
            with transaction.atomic():
                saved.tag = _tag(request, form.cleaned_data["tag_name"])
                services.event_save(event=saved, actor=request.user, consents=consent_texts(form.cleaned_data))
                saved.organisers.set(form.cleaned_data["organisers"])
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("Event saved."))
            return redirect("engagement:event_detail", campaign.slug, saved.pk)
    return render(request, "engagement/event_form.html", {"form": form, "event": event if event.pk else None})


@campaign_view("engagement.view_engagement", methods=("GET",))
def event_detail(request: CampaignRequest, event_id: int) -> HttpResponse:
    campaign = request.campaign
    event = selectors.event_with_counts(campaign_object_or_404(Event, campaign, pk=event_id))
    url = public_url("engagement_public:event", campaign.slug, event.slug)
    rsvps = selectors.event_rsvps(event)
    context = {
        "event": event,
        "zone": event.time_zone,
        "groups": [(status, label, rsvps[status]) for status, label in RSVP.Status.choices],
        "organisers": list(event.organisers.all()),
        "history": selectors.wording_history(event),
        "public_url": url,
        "embed_template": _embed_template() if url else "",
        "can_edit": can(request, "engagement.edit_engagement"),
        "can_check_in": can(request, "engagement.check_in"),
        "can_export": can(request, "engagement.export_engagement"),
        "can_see_people": can(request, "people.view_people"),
    }
    return render(request, "engagement/event_detail.html", context)


@campaign_view("engagement.edit_engagement", methods=("POST",))
def rsvp_cancel(request: CampaignRequest, rsvp_id: int) -> HttpResponseBase:
    rsvp = campaign_object_or_404(RSVP.objects.select_related("person", "event"), request.campaign, pk=rsvp_id)
    if rsvp.status == RSVP.Status.CANCELLED:
        messages.info(request, _("%(name)s's RSVP was already cancelled.") % {"name": rsvp.person.display_name})
    else:
        services.rsvp_cancel(rsvp=rsvp, actor=request.user)
        messages.success(request, _("%(name)s's RSVP is cancelled.") % {"name": rsvp.person.display_name})
    return redirect("engagement:event_detail", request.campaign.slug, rsvp.event_id)


@campaign_view("engagement.view_engagement", methods=("GET",))
def event_results(request: CampaignRequest, event_id: int) -> HttpResponse:
    event = campaign_object_or_404(Event, request.campaign, pk=event_id)
    context = {
        "object": event,
        "results": selectors.event_results(event),
        "done_label": _("RSVPs (not cancelled)"),
        "back": reverse("engagement:event_detail", args=[request.campaign.slug, event.pk]),
        "smallest": selectors.SMALLEST_SHOWN,
        "can_edit": can(request, "engagement.edit_engagement"),
    }
    return render(request, "engagement/results.html", context)


# --- Check-in at the door --------------------------------------------------------------------


def _time(moment: Any, zone: Any) -> str:
    return formats.time_format(moment.astimezone(zone), "H:i")


@campaign_view("engagement.check_in", methods=("GET",))
def checkin(request: CampaignRequest, event_id: int) -> HttpResponse:
    """The door page on an organiser's phone: find a name, check them in, add a walk-in."""
    event = campaign_object_or_404(Event, request.campaign, pk=event_id)
    return _checkin_page(request, event, WalkInForm(campaign=request.campaign))


def _checkin_page(request: CampaignRequest, event: Event, walk_in: WalkInForm) -> HttpResponse:
    search = CheckinSearchForm(request.GET or None)
    text = search.cleaned_data["q"] if search.is_valid() else ""
    context = {
        "event": event,
        "search": search,
        "q": text,
        "rsvps": selectors.checkin_candidates(event, text),
        "count": selectors.door_count(event),
        "walk_in": walk_in,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "engagement/htmx/checkin_results.html", context)
    return render(request, "engagement/checkin.html", context)


def _check_in(request: CampaignRequest, rsvp: RSVP) -> tuple[str, str]:
    """(level, message) after trying to check this RSVP in."""
    name = rsvp.person.display_name
    if rsvp.status == RSVP.Status.CANCELLED:
        return "error", _("%(name)s cancelled their RSVP: they cannot be checked in. Add them as a walk-in.") % {
            "name": name
        }
    if services.rsvp_check_in(rsvp=rsvp, actor=request.user):
        return "success", _("%(name)s is checked in.") % {"name": name}
    return "warning", _("%(name)s was already checked in at %(time)s.") % {
        "name": name,
        "time": _time(rsvp.checked_in_at, rsvp.event.zone),
    }


@campaign_view("engagement.check_in", methods=("POST",))
def rsvp_check_in(request: CampaignRequest, rsvp_id: int) -> HttpResponseBase:
    rsvp = campaign_object_or_404(RSVP.objects.select_related("person", "event"), request.campaign, pk=rsvp_id)
    level, text = _check_in(request, rsvp)
    if request.htmx:  # type: ignore[attr-defined]
        context = {"rsvp": rsvp, "event": rsvp.event, "count": selectors.door_count(rsvp.event), "note": (level, text)}
        return render(request, "engagement/htmx/checkin_row.html", context)
    getattr(messages, level)(request, text)
    back = reverse("engagement:checkin", args=[request.campaign.slug, rsvp.event_id])
    query = request.POST.get("q", "").strip()
    return redirect(f"{back}?{urlencode({'q': query})}" if query else back)


@campaign_view("engagement.check_in", methods=("POST",))
def walk_in(request: CampaignRequest, event_id: int) -> HttpResponseBase:
    event = campaign_object_or_404(Event, request.campaign, pk=event_id)
    form = WalkInForm(request.POST, campaign=request.campaign)
    if not form.is_valid():
        return _checkin_page(request, event, form)
    rsvp = services.walk_in_record(event=event, data=form.cleaned_data, actor=request.user)
    messages.success(request, _("%(name)s is recorded and checked in.") % {"name": rsvp.person.display_name})
    return redirect("engagement:checkin", request.campaign.slug, event.pk)


@campaign_view("engagement.check_in")
def checkin_token(request: CampaignRequest, token: str) -> HttpResponse:
    """Opened by scanning a ticket's QR code: who it is, and a button to check them in."""
    rsvp = campaign_object_or_404(RSVP.objects.select_related("person", "event"), request.campaign, token=token)
    note = None
    if request.method == "POST":
        note = _check_in(request, rsvp)
    context = {
        "rsvp": rsvp,
        "event": rsvp.event,
        "note": note,
        "checked_in_time": _time(rsvp.checked_in_at, rsvp.event.zone) if rsvp.checked_in_at else "",
    }
    return render(request, "engagement/checkin_token.html", context)


# --- Calls to action ---------------------------------------------------------------------------


@campaign_view("engagement.edit_engagement")
def call_edit(request: CampaignRequest, call_id: int | None = None) -> HttpResponseBase:
    campaign = request.campaign
    if call_id is None:
        call = CallToAction(campaign=campaign)
        kind = request.GET.get("kind", "")
        initial = {"kind": kind} if kind in CallToAction.Kind.values else {}
    else:
        call = campaign_object_or_404(CallToAction, campaign, pk=call_id)
        initial = {}
    form = CallForm(request.POST or None, instance=call, initial=initial, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        try:
            services.call_save(call=saved, actor=request.user)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("Call to action saved."))
            return redirect("engagement:call_detail", campaign.slug, saved.pk)
    return render(request, "engagement/call_form.html", {"form": form, "call": call if call.pk else None})


@campaign_view("engagement.view_engagement", methods=("GET",))
def call_detail(request: CampaignRequest, call_id: int) -> HttpResponse:
    campaign = request.campaign
    call = campaign_object_or_404(CallToAction.objects.select_related("event"), campaign, pk=call_id)
    views = selectors.views_by_page(campaign, [selectors.page_key(call)]).get(selectors.page_key(call), 0)
    clicks = selectors.call_clicks_by_network(call)
    volunteers = selectors.call_volunteers(call)
    commitments = Response.objects.filter(call=call, kind=Response.Kind.COMMIT).count()
    clicked = sum(row["total"] for row in clicks)
    done = commitments if call.kind == CallToAction.Kind.SHIFT else clicked
    url = public_url("engagement_public:call", campaign.slug, call.slug)
    context = {
        "call": call,
        "views": views,
        "clicks": clicks,
        "clicked": clicked,
        "commitments": commitments,
        "volunteers": volunteers,
        "slots_left": None if call.slots is None else max(0, call.slots - commitments),
        "conversion": selectors.conversion(done, views),
        "zone": campaign.time_zone,
        "public_url": url,
        "embed_template": _embed_template() if url else "",
        "can_edit": can(request, "engagement.edit_engagement"),
        "can_see_people": can(request, "people.view_people"),
    }
    return render(request, "engagement/call_detail.html", context)


# --- Exports ---------------------------------------------------------------------------------


def _csv_response(filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # spreadsheets then read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return response


def _first(items: Iterable[Any], attribute: str) -> str:
    for item in items:
        return str(getattr(item, attribute))
    return ""


@campaign_view("engagement.export_engagement")
def action_export(request: CampaignRequest, action_id: int) -> HttpResponseBase:
    action = campaign_object_or_404(Action, request.campaign, pk=action_id)
    response: HttpResponseBase = _action_export(request, action)
    return response


@reauthentication_required(allow_get=True)  # after the 404 check: another campaign's id never reaches it
def _action_export(request: CampaignRequest, action: Action) -> HttpResponseBase:
    if request.method != "POST":
        count = Submission.objects.filter(action=action).count()
        return render(request, "engagement/export.html", {"object": action, "count": count, "what": "submissions"})
    submissions = list(selectors.submissions_for_export(action))
    versions = {w.pk: w.version for w in ConsentWording.objects.filter(action=action)}
    statuses = dict(Submission.Status.choices)
    rows = (
        [
            submission.created_at.isoformat(timespec="seconds"),
            statuses.get(submission.status, submission.status),
            submission.via,
            submission.person.display_name,
            _first(submission.person.emails.all(), "address"),
            _first(submission.person.phones.all(), "number"),
            "; ".join(f"{key}: {value}" for key, value in submission.answers.items()),
            ", ".join(
                f"{channel} (v{versions.get(wording_id, '?')})" for channel, wording_id in submission.consents.items()
            ),
        ]
        for submission in submissions
    )
    header = [_("date"), _("status"), _("via"), _("name"), _("email"), _("phone"), _("answers"), _("consents given")]
    response = _csv_response(f"{request.campaign.slug}-{action.slug}.csv", header, rows)
    audit_record(
        action="engagement.export",
        campaign=request.campaign,
        obj=action,
        changes={"what": [None, "submissions"], "count": [None, len(submissions)]},
        actor=request.user,
    )
    return response


@campaign_view("engagement.export_engagement")
def event_export(request: CampaignRequest, event_id: int) -> HttpResponseBase:
    event = campaign_object_or_404(Event, request.campaign, pk=event_id)
    response: HttpResponseBase = _event_export(request, event)
    return response


@reauthentication_required(allow_get=True)
def _event_export(request: CampaignRequest, event: Event) -> HttpResponseBase:
    if request.method != "POST":
        count = RSVP.objects.filter(event=event).count()
        return render(request, "engagement/export.html", {"object": event, "count": count, "what": "rsvps"})
    rsvps = list(selectors.rsvps_for_export(event))
    statuses = dict(RSVP.Status.choices)
    zone = event.zone
    rows = (
        [
            rsvp.person.display_name,
            _first(rsvp.person.emails.all(), "address"),
            _first(rsvp.person.phones.all(), "number"),
            statuses.get(rsvp.status, rsvp.status),
            rsvp.guests,
            rsvp.checked_in_at.astimezone(zone).isoformat(timespec="minutes") if rsvp.checked_in_at else "",
        ]
        for rsvp in rsvps
    )
    header = [_("name"), _("email"), _("phone"), _("status"), _("guests"), _("checked in")]
    response = _csv_response(f"{request.campaign.slug}-{event.slug}-rsvps.csv", header, rows)
    audit_record(
        action="engagement.export",
        campaign=request.campaign,
        obj=event,
        changes={"what": [None, "rsvps"], "count": [None, len(rsvps)]},
        actor=request.user,
    )
    return response


# --- Public site -----------------------------------------------------------------------------


@campaign_view("engagement.configure_site")
def site_settings(request: CampaignRequest) -> HttpResponseBase:
    campaign = request.campaign
    site = services.site_for(campaign)
    form = SiteForm(request.POST or None, request.FILES or None, instance=site)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        logo = form.cleaned_data.get("logo_file")
        if form.cleaned_data.get("logo_remove") and not logo:
            saved.logo, saved.logo_type = None, ""
        try:
            services.site_save(site=saved, actor=request.user, logo=logo)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("Public site saved."))
            return redirect("engagement:site", campaign.slug)
    context = {
        "form": form,
        "site": site,
        "has_logo": bool(site.logo),
        "endpoint": public_url("engagement_public:api_signup", campaign.slug),
        "public_home": public_url("engagement_public:home", campaign.slug),
    }
    return render(request, "engagement/site_settings.html", context)


@campaign_view("engagement.configure_site", methods=("POST",))
def site_key_rotate(request: CampaignRequest) -> HttpResponseBase:
    services.site_key_rotate(site=services.site_for(request.campaign), actor=request.user)
    messages.success(request, _("New signup key made: update it on your website, the old one no longer works."))
    return redirect("engagement:site", request.campaign.slug)
