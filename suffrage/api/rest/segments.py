"""REST endpoints: segments and static lists (`segments:read`).

A dynamic segment's people are compiled now, by the one compiler the builder page
uses (`segments.compiler`), so the API's count and the builder's agree; a static
list's people are the members frozen when it was saved. A segment chosen by
sensitive data (the support level, a sensitive custom field), itself or through a
segment it includes, is never counted nor listed here: such data does not leave
the campaign."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from suffrage.api.rest.common import (
    NO_NUL,
    ApiError,
    Page,
    campaign_of,
    get_or_404,
    invalid,
    ordered,
    responses,
    scoped,
    token_of,
)
from suffrage.api.rest.people import PeoplePage, PeopleSort, people_page, sort_by
from suffrage.api.scopes import Scope
from suffrage.core.models import Campaign
from suffrage.people.models import Person
from suffrage.segments import selectors
from suffrage.segments.compiler import context_for, segment_members
from suffrage.segments.language import Context, FilterError
from suffrage.segments.models import Segment

router = Router(tags=["segments"])

SEGMENT_SORTS = {"name": "name", "created_at": "created_at", "updated_at": "updated_at"}


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: str = Field(description="dynamic (a saved filter, its people change) or static (a frozen list)")
    frozen_at: datetime.datetime | None = Field(description="A static list: when its members were frozen")
    frozen_count: int | None = Field(description="A static list: how many people it held when frozen")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_frozen_at(segment: Segment) -> datetime.datetime | None:
        return segment.snapshot.created_at if segment.snapshot else None

    @staticmethod
    def resolve_frozen_count(segment: Segment) -> int | None:
        return segment.snapshot.count if segment.snapshot else None


class SegmentPage(Schema):
    count: int
    page: int
    per_page: int
    pages: int
    results: list[SegmentOut]


class SegmentDetailOut(SegmentOut):
    document: Any = Field(description="The filter document (see the segments documentation)")


class SegmentCountOut(Schema):
    count: int


class SegmentPeoplePage(PeoplePage):
    kind: str
    frozen_at: datetime.datetime | None


class SegmentFilters(Schema):
    kind: Segment.Kind | None = None
    name: str | None = Field(None, max_length=150, pattern=NO_NUL, description="Part of the name")
    sort: str | None = sort_by(SEGMENT_SORTS)


def api_context(campaign: Campaign) -> Context:
    """Compiling for another tool: sensitive conditions are refused ("third party"), with
    the message that says so rather than one about the caller's role."""
    return context_for(campaign, can_sensitive=True, purpose="third_party")


def segment_query(campaign: Campaign, segment_id: int) -> Segment:
    """The segment a `?segment=` filter names, or a 422 naming the parameter."""
    segment = selectors.segments(campaign).filter(pk=segment_id).first()
    if segment is None:
        raise invalid("query.segment", _("No segment with this id."))
    return segment


def segment_people_for_api(campaign: Campaign, segment: Segment) -> QuerySet[Person]:
    """A segment's people (a static list's frozen members), or a 422 saying why it cannot
    be used: chosen by sensitive data, or a filter that no longer compiles."""
    if selectors.uses_sensitive_data(campaign, segment.document):
        raise ApiError(
            422,
            _("This segment is chosen by sensitive data, which never leaves the campaign."),
            [{"field": "segment", "message": _("It uses the support level or a sensitive field.")}],
        )
    try:
        return segment_members(segment, api_context(campaign))
    except FilterError as error:
        raise ApiError(
            422, _("This segment's filter cannot run."), [{"field": "segment", "message": str(error)}]
        ) from None


def _segment_of(request: HttpRequest, segment_id: int) -> Segment:
    return get_or_404(selectors.segments(campaign_of(request)), pk=segment_id)


@router.get("", auth=scoped(Scope.SEGMENTS_READ), response=responses(SegmentPage), url_name="api-segments")
def segment_list(request: HttpRequest, filters: Query[SegmentFilters], pagination: Query[Page.Input]) -> dict[str, Any]:
    """The campaign's dynamic segments and static lists (`kind`)."""
    segments = selectors.segments(campaign_of(request))
    if filters.kind:
        segments = segments.filter(kind=filters.kind)
    if filters.name:
        segments = segments.filter(name__icontains=filters.name)
    return dict(Page().paginate_queryset(ordered(segments, filters.sort, SEGMENT_SORTS), pagination, request))


@router.get(
    "/{segment_id}", auth=scoped(Scope.SEGMENTS_READ), response=responses(SegmentDetailOut), url_name="api-segment"
)
def segment_detail(request: HttpRequest, segment_id: int) -> Segment:
    """One segment or static list, with its filter document."""
    return _segment_of(request, segment_id)


@router.get(
    "/{segment_id}/count",
    auth=scoped(Scope.SEGMENTS_READ),
    response=responses(SegmentCountOut),
    url_name="api-segment-count",
)
def segment_count(request: HttpRequest, segment_id: int) -> dict[str, int]:
    """How many people the segment holds now: the builder page's count (a static list:
    its frozen members still in the base)."""
    segment = _segment_of(request, segment_id)
    return {"count": segment_people_for_api(segment.campaign, segment).count()}


@router.get(
    "/{segment_id}/people",
    auth=scoped(Scope.SEGMENTS_READ),
    response=responses(SegmentPeoplePage),
    url_name="api-segment-people",
)
def segment_people(
    request: HttpRequest, segment_id: int, order: Query[PeopleSort], pagination: Query[Page.Input]
) -> dict[str, Any]:
    """The segment's people now, or a static list's frozen members (with the date it was
    frozen). Needs `people:read` as well as `segments:read`."""
    if Scope.PEOPLE_READ not in token_of(request).scopes:
        raise ApiError(403, _("This token does not have the scope “%(scope)s”.") % {"scope": Scope.PEOPLE_READ.value})
    segment = _segment_of(request, segment_id)
    people = segment_people_for_api(segment.campaign, segment)
    return {
        **people_page(request, people, pagination, order.sort),
        "kind": segment.kind,
        "frozen_at": segment.snapshot.created_at if segment.snapshot else None,
    }
