"""The volunteers' app: their turfs, a turf's doors in walking order, the sync
endpoint, and what makes it an installable web app that works offline (manifest,
service worker). static/canvassing/app.js does the rest on the phone.

Who sees a turf: the volunteer who holds it now (assigned to them, not expired),
whatever their role. Organisers see every turf in their own pages (views.py); to
knock a turf themselves they assign it to themselves. A turf someone else holds is
a 404, as is another campaign's: the app never tells that a turf exists."""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import IntegrityError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from suffrage.canvassing.models import REVISIT, Door, Outcome, Turf, Visit
from suffrage.canvassing.planning import turfs_held
from suffrage.canvassing.sync import (
    DOOR_CONSENT_VERSION,
    DOOR_NOTICE,
    MAX_BODY_BYTES,
    MAX_RECORDS,
    NOTE_MAX,
    door_consent_wording,
    visits_sync,
)
from suffrage.core.access import CampaignRequest, campaign_view
from suffrage.messaging.rendering import markdown_to_html
from suffrage.people.models import SupportLevel

THEME_COLOUR = "#524ed2"  # Pico's indigo
# Files the service worker keeps so that the app opens without a network.
SHELL_FILES = (
    "canvassing/app.js",
    "canvassing/app.css",
    "canvassing/icon.svg",
    "vendor/pico-2.1.1/pico.indigo.min.css",
    "vendor/leaflet-1.9.4/leaflet.js",
    "vendor/leaflet-1.9.4/leaflet.css",
)
# One tap at the door, in the order of the buttons; "do not contact" is in the conversation panel.
TAP_OUTCOMES = (
    Outcome.NOT_HOME,
    Outcome.OPENED,
    Outcome.LEAFLET,
    Outcome.COME_BACK,
    Outcome.REFUSED,
    Outcome.NO_ACCESS,
)


def _held_turf_or_404(request: CampaignRequest, turf_id: int) -> Turf:
    turf = turfs_held(campaign=request.campaign, user=request.user).filter(pk=turf_id).first()
    if turf is None:
        raise Http404
    return turf


def _doors_with_last_visit(turf_ids: list[int]) -> QuerySet[Door]:
    last = Visit.objects.filter(door_id=OuterRef("pk")).order_by("-recorded_at", "-pk")
    return Door.objects.filter(turf_id__in=turf_ids).annotate(
        last_outcome=Subquery(last.values("outcome")[:1]), last_at=Subquery(last.values("recorded_at")[:1])
    )


def _app_config(request: CampaignRequest, **extra: Any) -> dict[str, Any]:
    """What app.js needs on every page (a JSON script element)."""
    slug = request.campaign.slug
    return {
        "campaign": slug,
        "user": request.user.pk,
        "home_url": reverse("canvassing_app:home", args=[slug]),
        "sync_url": reverse("canvassing_app:sync", args=[slug]),
        "sw_url": reverse("canvassing_app:service_worker", args=[slug]),
        "scope": reverse("canvassing_app:home", args=[slug]),
        "login_url": reverse("account_login"),
        "csrf": get_token(request),
        "batch": 200,
        "outcomes": {value: str(label) for value, label in Outcome.choices},
        **extra,
    }


@campaign_view("canvassing.canvass", methods=("GET",))
def home(request: CampaignRequest) -> HttpResponse:
    """My turfs, each with its doors done (last outcome not a revisit) out of all."""
    turfs = list(turfs_held(campaign=request.campaign, user=request.user))
    progress: dict[int, dict[str, int]] = defaultdict(lambda: {"total": 0, "done": 0, "revisit": 0})
    doors = _doors_with_last_visit([turf.pk for turf in turfs])
    # last_outcome is an annotation, which the type plugin cannot see through the helper.
    for turf_id, outcome in doors.values_list("turf_id", "last_outcome"):  # type: ignore[misc]
        counts = progress[turf_id]
        counts["total"] += 1
        if outcome in REVISIT:
            counts["revisit"] += 1
        elif outcome:
            counts["done"] += 1
    context = {
        "turfs": [(turf, progress[turf.pk]) for turf in turfs],
        "config": _app_config(request, page="home"),
    }
    return render(request, "canvassing/app/home.html", context)


@campaign_view("canvassing.canvass", methods=("GET",), assigned_only=True)
def turf(request: CampaignRequest, turf_id: int) -> HttpResponse:
    """The page of a turf; app.js fills it from data.json (kept for offline use)."""
    held = _held_turf_or_404(request, turf_id)
    slug = request.campaign.slug
    config = _app_config(
        request,
        page="turf",
        turf_id=held.pk,
        data_url=reverse("canvassing_app:turf_data", args=[slug, held.pk]),
        tiles=settings.MAP_TILES_URL or "",
    )
    context = {
        "turf": held,
        "config": config,
        "tap_outcomes": [(value, _tap_label(value)) for value in TAP_OUTCOMES],
        "consents": door_consent_wording(request.campaign),
        "notice": str(DOOR_NOTICE) % {"campaign": request.campaign.name},
        "support_levels": SupportLevel.choices,
        "note_max": NOTE_MAX,
    }
    return render(request, "canvassing/app/turf.html", context)


def _tap_label(outcome: str) -> str:
    """Short labels for the buttons (the full ones are shown as the door's state)."""
    labels = {
        Outcome.NOT_HOME: _("Not home"),
        Outcome.OPENED: _("Talked"),
        Outcome.LEAFLET: _("Leaflet"),
        Outcome.COME_BACK: _("Come back"),
        Outcome.REFUSED: _("Refused"),
        Outcome.NO_ACCESS: _("No access"),
    }
    return labels[Outcome(outcome)]


@campaign_view("canvassing.canvass", methods=("GET",), assigned_only=True)
def turf_data(request: CampaignRequest, turf_id: int) -> JsonResponse:
    """Everything the phone needs to work the turf offline: no person, only doors."""
    held = _held_turf_or_404(request, turf_id)
    canvass = held.canvass
    doors = _doors_with_last_visit([held.pk]).order_by("position", "pk")
    data = {
        "turf": {
            "id": held.pk,
            "name": held.name,
            "canvass": canvass.name,
            "expires_at": held.expires_at.isoformat() if held.expires_at else None,
        },
        "doors": [
            {
                "id": door.pk,
                "label": str(door),
                "floors": door.floors,
                "dwellings": door.dwellings,
                "lon": door.lon,
                "lat": door.lat,
                "last_outcome": door.last_outcome,  # type: ignore[attr-defined]
                "last_at": door.last_at.isoformat() if door.last_at else None,  # type: ignore[attr-defined]
            }
            for door in doors
        ],
        # The campaign's own text, escaped by the renderer (escape=True): safe to insert.
        "script_html": markdown_to_html(canvass.script) if canvass.script.strip() else "",
        "questions": [
            {"id": question.pk, "kind": question.kind, "text": question.text, "choices": question.choices}
            for question in canvass.questions.all()
        ],
        "consent": {"version": DOOR_CONSENT_VERSION, "wording": door_consent_wording(request.campaign)},
        "csrf": get_token(request),
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-cache"
    return response


def _json_error(status: int, field: str, reason: str) -> JsonResponse:
    error = {"index": None, "client_id": None, "field": field, "reason": reason}
    return JsonResponse({"error": reason, "errors": [error]}, status=status)


@campaign_view("canvassing.canvass", methods=("POST",))
def sync(request: CampaignRequest) -> JsonResponse:
    """POST {"records": [...]} (see sync.py); answers what was accepted, already there,
    or refused with why. The app sends the CSRF token in X-CSRFToken."""
    too_big = _("The request is larger than %(size)d bytes: send fewer records at once.") % {"size": MAX_BODY_BYTES}
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _json_error(413, "body", too_big)
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _json_error(413, "body", too_big)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[…" nested too deep
        return _json_error(400, "body", _("The body is not valid JSON."))
    records = payload.get("records") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        return _json_error(400, "records", _('Send an object with a list of records: {"records": [...]}.'))
    if len(records) > MAX_RECORDS:
        return _json_error(400, "records", _("At most %(n)d records at once.") % {"n": MAX_RECORDS})
    try:
        result = visits_sync(campaign=request.campaign, volunteer=request.user, records=records)
    except IntegrityError:
        # Another request stored one of these records meanwhile: the next sync sorts it out.
        return _json_error(409, "records", _("These records were being saved by another request: try again."))
    return JsonResponse(result.as_json())


@campaign_view("canvassing.canvass", methods=("GET",))
def manifest(request: CampaignRequest) -> JsonResponse:
    """The web app manifest: what makes the app installable on the phone's home screen.
    (The page links it with crossorigin="use-credentials": it needs the session.)"""
    scope = reverse("canvassing_app:home", args=[request.campaign.slug])
    data = {
        "id": scope,
        "name": f"{request.campaign.name} · {_('Door to door')}",
        "short_name": _("Door to door"),
        "description": _("Your turfs, their doors and what happened there, even without a network."),
        "lang": get_language(),
        "start_url": scope,
        "scope": scope,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [
            {"src": static("canvassing/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("canvassing/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {
                "src": static("canvassing/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("canvassing/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


def _read(name: str) -> bytes:
    found = finders.find(name)
    if not isinstance(found, str):
        raise Http404
    with open(found, "rb") as source:
        return source.read()


@functools.cache
def _kept_read(name: str) -> bytes:
    return _read(name)


def _static_source(name: str) -> bytes:
    """A static file's content (read once per process, except while developing)."""
    return _read(name) if settings.DEBUG else _kept_read(name)


@campaign_view("canvassing.canvass", methods=("GET",))
def service_worker(request: CampaignRequest) -> HttpResponse:
    """static/canvassing/sw.js, served from the app's own path so that its scope covers
    the app, with what it must keep (the static files' current addresses) in front.
    Its version changes with the shell's content, so phones pick up a new app."""
    scope = reverse("canvassing_app:home", args=[request.campaign.slug])
    source = _static_source("canvassing/sw.js")
    digest = hashlib.sha256(source)
    for name in SHELL_FILES:
        digest.update(_static_source(name))
    config = {
        "version": digest.hexdigest()[:12],
        "scope": scope,
        "shell": [static(name) for name in SHELL_FILES],
        "offline": {
            "title": _("Offline"),
            "text": _("This page was not saved on this phone. Open your turfs once while online to work offline."),
            "link": _("My turfs"),
        },
    }
    prefix = f'"use strict";\nconst CONFIG = {json.dumps(config, ensure_ascii=False)};\n'
    response = HttpResponse(prefix.encode() + source, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = scope
    response["Cache-Control"] = "no-cache"
    return response
