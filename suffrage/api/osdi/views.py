"""The OSDI entry point at /api/osdi/v1/: people, tags and taggings, static lists and
their items, events and attendances, forms and submissions, petitions and signatures,
and the person signup and record attendance helpers, in HAL+JSON.

Each view names the scope each method needs. The token (header `OSDI-API-Token`, or
`Authorization: Bearer`) decides the campaign: every queryset starts from it, so
another campaign's id is a 404. Errors are OSDI-style bodies (hal.error_body)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from suffrage.api.osdi import helpers, resources
from suffrage.api.osdi.filters import Filterable, filter_query
from suffrage.api.osdi.hal import (
    CURIES,
    JSON,
    MAX_PAGESIZE,
    NAMESPACE,
    Osdi,
    OsdiError,
    collection,
    error_body,
    hal_response,
    link,
)
from suffrage.api.rest.common import ApiError, get_or_404, token_authenticate
from suffrage.api.scopes import Scope
from suffrage.engagement.models import Action, Event
from suffrage.people.models import Person, Tag
from suffrage.segments.models import Segment

ModelT = TypeVar("ModelT", bound=Model)
Answer = JSON | tuple[JSON, int]
View = Callable[..., Answer]

PEOPLE_READ = {"GET": Scope.PEOPLE_READ}
LISTS_READ = {"GET": Scope.SEGMENTS_READ}
ENGAGEMENT_READ = {"GET": Scope.ENGAGEMENT_READ}


def osdi_view(scopes: Mapping[str, Scope | None]) -> Callable[[View], Callable[..., HttpResponse]]:
    """A view of the entry point: `scopes` names the scope each accepted method needs
    (None: any valid token). The view gets an Osdi (the request and its token) and
    returns a body, or (body, status). Refusals come in this order: 405, 401, 403,
    429 (the token's checks), then 404, then 400 (the body)."""

    def decorate(view: View) -> Callable[..., HttpResponse]:
        @csrf_exempt  # called by other tools with a token, never by a browser session
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            try:
                method = request.method or ""
                if method not in scopes:
                    error = OsdiError(405, _("This address accepts: %(methods)s.") % {"methods": ", ".join(scopes)})
                    error.headers["Allow"] = ", ".join(scopes)
                    raise error
                scope = scopes[method]
                token = token_authenticate(request, scope.value if scope is not None else None)
                answer = view(Osdi(request, token), **kwargs)
            except ApiError as refused:
                error = OsdiError(refused.status_code, refused.detail)
                if hasattr(refused, "retry_after"):
                    error.headers["Retry-After"] = str(refused.retry_after)
                return _error(error)
            except OsdiError as error:
                return _error(error)
            except Http404:
                return _error(OsdiError(404, _("Not found.")))
            except ValidationError as refused_change:
                # A service refused the change: its rules hold whoever calls.
                return _error(OsdiError(400, _("The change was refused."), _messages(refused_change)))
            body, status = answer if isinstance(answer, tuple) else (answer, 200)
            return hal_response(body, status)

        return wrapper

    return decorate


def _error(error: OsdiError) -> HttpResponse:
    response = hal_response(error_body(error), error.status)
    for header, value in error.headers.items():
        response[header] = value
    return response


def _messages(error: ValidationError) -> list[tuple[str, str]]:
    if hasattr(error, "error_dict"):
        return [(field, message) for field, messages in error.message_dict.items() for message in messages]
    return [("body", message) for message in error.messages]


def _filtered(osdi: Osdi, queryset: QuerySet[ModelT], accepted: dict[str, Filterable]) -> QuerySet[ModelT]:
    return queryset.filter(filter_query(osdi.request.GET.get("filter", ""), accepted))


def _posted(osdi: Osdi) -> bool:
    return osdi.request.method == "POST"


# --- The entry point ---------------------------------------------------------------------------


@osdi_view({"GET": None})
def entry_point(osdi: Osdi) -> Answer:
    def titled(title: str, *parts: object) -> JSON:
        return link(osdi.href(*parts), title=title)

    return {
        "motd": _("Welcome to the OSDI entry point of %(campaign)s on Suffrage.") % {"campaign": osdi.campaign.name},
        "vendor_name": "Suffrage",
        "product_name": "Suffrage",
        "osdi_version": "1.0",
        "max_pagesize": MAX_PAGESIZE,
        "namespace": NAMESPACE,
        "_links": {
            "self": titled(_("This API entry point")),
            "osdi:people": titled(_("The campaign's people"), "people"),
            "osdi:tags": titled(_("The campaign's tags"), "tags"),
            "osdi:lists": titled(_("The campaign's static lists"), "lists"),
            "osdi:events": titled(_("The campaign's events"), "events"),
            "osdi:forms": titled(_("The campaign's forms"), "forms"),
            "osdi:petitions": titled(_("The campaign's petitions"), "petitions"),
            "osdi:person_signup_helper": titled(_("The person signup helper"), "people", "person_signup"),
            "curies": CURIES,
        },
    }


# --- People --------------------------------------------------------------------------------------


def _person_or_404(osdi: Osdi, person_id: int) -> Person:
    return get_or_404(Person.objects.filter(campaign=osdi.campaign), pk=person_id)


@osdi_view({"GET": Scope.PEOPLE_READ, "POST": Scope.ENGAGEMENT_WRITE})
def people(osdi: Osdi) -> Answer:
    """The people; a POST is a person signup (as Action Network takes it)."""
    if _posted(osdi):
        return _signup(osdi)
    campaign = osdi.campaign
    condition = filter_query(osdi.request.GET.get("filter", ""), resources.people_filters(campaign))
    found = resources.filtered_people(resources.people(campaign), condition)
    keys = resources.shown_custom_fields(campaign)
    return collection(
        osdi, found, path=("people",), rel="osdi:people", render=lambda one: resources.person(osdi, one, keys)
    )


@osdi_view({"POST": Scope.ENGAGEMENT_WRITE})
def person_signup(osdi: Osdi) -> Answer:
    return _signup(osdi)


def _signup(osdi: Osdi) -> Answer:
    person, created = helpers.person_signup(osdi, helpers.read_body(osdi.request))
    if Scope.PEOPLE_READ not in osdi.token.scopes:
        # A token that may write sign-ups but not read people learns only where the record is.
        return resources.person_summary(osdi, person), 201 if created else 200
    fresh = resources.people(osdi.campaign).get(pk=person.pk)
    return resources.person(osdi, fresh, resources.shown_custom_fields(osdi.campaign)), 201 if created else 200


@osdi_view(PEOPLE_READ)
def person(osdi: Osdi, person_id: int) -> Answer:
    found = get_or_404(resources.people(osdi.campaign), pk=person_id)
    return resources.person(osdi, found, resources.shown_custom_fields(osdi.campaign))


@osdi_view(PEOPLE_READ)
def person_taggings(osdi: Osdi, person_id: int) -> Answer:
    _person_or_404(osdi, person_id)
    rows = resources.taggings(osdi.campaign).filter(person_id=person_id)
    render = functools.partial(resources.tagging, osdi)
    return collection(osdi, rows, path=("people", person_id, "taggings"), rel="osdi:taggings", render=render)


@osdi_view(ENGAGEMENT_READ)
def person_attendances(osdi: Osdi, person_id: int) -> Answer:
    _person_or_404(osdi, person_id)
    rows = _filtered(osdi, resources.attendances(osdi.campaign).filter(person_id=person_id), resources.DATES)
    render = functools.partial(resources.attendance, osdi)
    return collection(osdi, rows, path=("people", person_id, "attendances"), rel="osdi:attendances", render=render)


@osdi_view(ENGAGEMENT_READ)
def person_submissions(osdi: Osdi, person_id: int) -> Answer:
    _person_or_404(osdi, person_id)
    rows = resources.submissions(osdi.campaign, petitions=False).filter(person_id=person_id)
    rows = _filtered(osdi, rows, resources.ANSWER_DATES)
    render = functools.partial(resources.submission, osdi)
    return collection(osdi, rows, path=("people", person_id, "submissions"), rel="osdi:submissions", render=render)


@osdi_view(ENGAGEMENT_READ)
def person_signatures(osdi: Osdi, person_id: int) -> Answer:
    _person_or_404(osdi, person_id)
    rows = resources.submissions(osdi.campaign, petitions=True).filter(person_id=person_id)
    rows = _filtered(osdi, rows, resources.ANSWER_DATES)
    render = functools.partial(resources.signature, osdi)
    return collection(osdi, rows, path=("people", person_id, "signatures"), rel="osdi:signatures", render=render)


# --- Tags and taggings ---------------------------------------------------------------------------


def _tag_or_404(osdi: Osdi, tag_id: int) -> Tag:
    return get_or_404(resources.tags(osdi.campaign), pk=tag_id)


@osdi_view({"GET": Scope.PEOPLE_READ, "POST": Scope.PEOPLE_WRITE})
def tags(osdi: Osdi) -> Answer:
    if _posted(osdi):
        tag, created = helpers.tag_create(osdi, helpers.read_body(osdi.request))
        return resources.tag(osdi, tag), 201 if created else 200
    rows = _filtered(osdi, resources.tags(osdi.campaign), {})
    return collection(osdi, rows, path=("tags",), rel="osdi:tags", render=functools.partial(resources.tag, osdi))


@osdi_view(PEOPLE_READ)
def tag(osdi: Osdi, tag_id: int) -> Answer:
    return resources.tag(osdi, _tag_or_404(osdi, tag_id))


@osdi_view({"GET": Scope.PEOPLE_READ, "POST": Scope.PEOPLE_WRITE})
def tag_taggings(osdi: Osdi, tag_id: int) -> Answer:
    """A tag's taggings; a POST linking to a person tags them."""
    found = _tag_or_404(osdi, tag_id)
    rows = resources.taggings(osdi.campaign).filter(tag=found)
    if _posted(osdi):
        person = helpers.tagged_person(osdi, helpers.read_body(osdi.request))
        existed = rows.filter(person=person).exists()
        helpers.tagging_add(osdi, found, person)
        return resources.tagging(osdi, rows.get(person=person)), 200 if existed else 201
    render = functools.partial(resources.tagging, osdi)
    return collection(
        osdi, _filtered(osdi, rows, {}), path=("tags", tag_id, "taggings"), rel="osdi:taggings", render=render
    )


@osdi_view({"GET": Scope.PEOPLE_READ, "DELETE": Scope.PEOPLE_WRITE})
def tagging(osdi: Osdi, tag_id: int, tagging_id: int) -> Answer:
    """One tagging; DELETE takes the tag off the person."""
    found = _tag_or_404(osdi, tag_id)
    row = get_or_404(resources.taggings(osdi.campaign).filter(tag=found), pk=tagging_id)
    if osdi.request.method == "DELETE":
        helpers.tagging_remove(osdi, found, row.person_id)
        return {"notice": _("This tagging was deleted.")}
    return resources.tagging(osdi, row)


# --- Static lists and their items ----------------------------------------------------------------


def _list_or_404(osdi: Osdi, segment_id: int) -> Segment:
    return get_or_404(resources.lists(osdi.campaign), pk=segment_id)


@osdi_view(LISTS_READ)
def lists(osdi: Osdi) -> Answer:
    rows = _filtered(osdi, resources.lists(osdi.campaign), resources.DATES)
    render = functools.partial(resources.static_list, osdi)
    return collection(osdi, rows, path=("lists",), rel="osdi:lists", render=render)


@osdi_view(LISTS_READ)
def static_list(osdi: Osdi, segment_id: int) -> Answer:
    return resources.static_list(osdi, _list_or_404(osdi, segment_id))


@osdi_view(LISTS_READ)
def list_items(osdi: Osdi, segment_id: int) -> Answer:
    segment = _list_or_404(osdi, segment_id)
    rows = _filtered(osdi, resources.items(segment), {})
    render = functools.partial(resources.item, osdi, segment)
    return collection(osdi, rows, path=("lists", segment_id, "items"), rel="osdi:items", render=render)


@osdi_view(LISTS_READ)
def list_item(osdi: Osdi, segment_id: int, item_id: int) -> Answer:
    segment = _list_or_404(osdi, segment_id)
    return resources.item(osdi, segment, get_or_404(resources.items(segment), pk=item_id))


# --- Events and attendances ----------------------------------------------------------------------


def _event_or_404(osdi: Osdi, event_id: int) -> Event:
    return get_or_404(resources.events(osdi.campaign), pk=event_id)


@osdi_view(ENGAGEMENT_READ)
def events(osdi: Osdi) -> Answer:
    rows = _filtered(osdi, resources.events(osdi.campaign), resources.DATES)
    return collection(osdi, rows, path=("events",), rel="osdi:events", render=functools.partial(resources.event, osdi))


@osdi_view(ENGAGEMENT_READ)
def event(osdi: Osdi, event_id: int) -> Answer:
    return resources.event(osdi, _event_or_404(osdi, event_id))


@osdi_view({"GET": Scope.ENGAGEMENT_READ, "POST": Scope.ENGAGEMENT_WRITE})
def event_attendances(osdi: Osdi, event_id: int) -> Answer:
    """An event's attendances (its RSVPs); a POST records one (as Action Network takes it)."""
    found = _event_or_404(osdi, event_id)
    if _posted(osdi):
        return _record_attendance(osdi, found)
    rows = _filtered(osdi, resources.attendances(osdi.campaign).filter(event=found), resources.DATES)
    render = functools.partial(resources.attendance, osdi)
    return collection(osdi, rows, path=("events", event_id, "attendances"), rel="osdi:attendances", render=render)


@osdi_view(ENGAGEMENT_READ)
def attendance(osdi: Osdi, event_id: int, rsvp_id: int) -> Answer:
    found = _event_or_404(osdi, event_id)
    return resources.attendance(osdi, get_or_404(resources.attendances(osdi.campaign).filter(event=found), pk=rsvp_id))


@osdi_view({"POST": Scope.ENGAGEMENT_WRITE})
def record_attendance_helper(osdi: Osdi, event_id: int) -> Answer:
    return _record_attendance(osdi, _event_or_404(osdi, event_id))


def _record_attendance(osdi: Osdi, found: Event) -> Answer:
    rsvp, created = helpers.record_attendance(osdi, found, helpers.read_body(osdi.request))
    rsvp.refresh_from_db()
    return resources.attendance(osdi, rsvp), 201 if created else 200


# --- Forms and submissions, petitions and signatures ---------------------------------------------


def _action_or_404(osdi: Osdi, action_id: int, *, petitions: bool) -> Action:
    actions = resources.petitions(osdi.campaign) if petitions else resources.forms(osdi.campaign)
    return get_or_404(actions, pk=action_id)


@osdi_view(ENGAGEMENT_READ)
def forms(osdi: Osdi) -> Answer:
    rows = _filtered(osdi, resources.forms(osdi.campaign), resources.DATES)
    return collection(osdi, rows, path=("forms",), rel="osdi:forms", render=functools.partial(resources.form, osdi))


@osdi_view(ENGAGEMENT_READ)
def form(osdi: Osdi, action_id: int) -> Answer:
    return resources.form(osdi, _action_or_404(osdi, action_id, petitions=False))


@osdi_view(ENGAGEMENT_READ)
def form_submissions(osdi: Osdi, action_id: int) -> Answer:
    found = _action_or_404(osdi, action_id, petitions=False)
    rows = _filtered(
        osdi, resources.submissions(osdi.campaign, petitions=False).filter(action=found), resources.ANSWER_DATES
    )
    render = functools.partial(resources.submission, osdi)
    return collection(osdi, rows, path=("forms", action_id, "submissions"), rel="osdi:submissions", render=render)


@osdi_view(ENGAGEMENT_READ)
def submission(osdi: Osdi, action_id: int, submission_id: int) -> Answer:
    found = _action_or_404(osdi, action_id, petitions=False)
    rows = resources.submissions(osdi.campaign, petitions=False).filter(action=found)
    return resources.submission(osdi, get_or_404(rows, pk=submission_id))


@osdi_view(ENGAGEMENT_READ)
def petitions(osdi: Osdi) -> Answer:
    rows = _filtered(osdi, resources.petitions(osdi.campaign), resources.DATES)
    render = functools.partial(resources.petition, osdi)
    return collection(osdi, rows, path=("petitions",), rel="osdi:petitions", render=render)


@osdi_view(ENGAGEMENT_READ)
def petition(osdi: Osdi, action_id: int) -> Answer:
    return resources.petition(osdi, _action_or_404(osdi, action_id, petitions=True))


@osdi_view(ENGAGEMENT_READ)
def petition_signatures(osdi: Osdi, action_id: int) -> Answer:
    found = _action_or_404(osdi, action_id, petitions=True)
    rows = _filtered(
        osdi, resources.submissions(osdi.campaign, petitions=True).filter(action=found), resources.ANSWER_DATES
    )
    render = functools.partial(resources.signature, osdi)
    return collection(osdi, rows, path=("petitions", action_id, "signatures"), rel="osdi:signatures", render=render)


@osdi_view(ENGAGEMENT_READ)
def signature(osdi: Osdi, action_id: int, submission_id: int) -> Answer:
    found = _action_or_404(osdi, action_id, petitions=True)
    rows = resources.submissions(osdi.campaign, petitions=True).filter(action=found)
    return resources.signature(osdi, get_or_404(rows, pk=submission_id))
