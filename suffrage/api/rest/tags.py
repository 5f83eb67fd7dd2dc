"""REST endpoints: tags (`people:read` to read, `people:write` to create).

Tagging a person is `PUT /people/{person_id}/tags/{tag_id}` (rest/people.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from suffrage.api.rest.common import NO_NUL, Page, campaign_of, get_or_404, invalid, ordered, responses, scoped
from suffrage.api.rest.people import PeoplePage, PeopleSort, Strict, people_page, sort_by
from suffrage.api.scopes import Scope
from suffrage.core.models import Campaign
from suffrage.people import services
from suffrage.people.models import Person, Tag

router = Router(tags=["tags"])

TAG_SORTS = {"name": "name", "people": "people_count"}


class TagOut(Schema):
    id: int
    name: str
    people: int = Field(description="How many people have it")

    @staticmethod
    def resolve_people(tag: Tag) -> int:
        return int(tag.people_count)  # type: ignore[attr-defined]


class TagPage(Schema):
    count: int
    page: int
    per_page: int
    pages: int
    results: list[TagOut]


class TagIn(Strict):
    name: str = Field(min_length=1, max_length=80, pattern=NO_NUL)


class TagFilters(Schema):
    name: str | None = Field(None, max_length=80, pattern=NO_NUL, description="Part of the name")
    sort: str | None = sort_by(TAG_SORTS)


def _tags(campaign: Campaign) -> QuerySet[Tag]:
    return Tag.objects.filter(campaign=campaign).annotate(people_count=Count("people"))


@router.get("", auth=scoped(Scope.PEOPLE_READ), response=responses(TagPage), url_name="api-tags")
def tag_list(request: HttpRequest, filters: Query[TagFilters], pagination: Query[Page.Input]) -> dict[str, Any]:
    """The campaign's tags with how many people have each."""
    tags = _tags(campaign_of(request))
    if filters.name:
        tags = tags.filter(name__icontains=filters.name)
    return dict(Page().paginate_queryset(ordered(tags, filters.sort, TAG_SORTS), pagination, request))


@router.get("/{tag_id}", auth=scoped(Scope.PEOPLE_READ), response=responses(TagOut), url_name="api-tag")
def tag_detail(request: HttpRequest, tag_id: int) -> Tag:
    return get_or_404(_tags(campaign_of(request)), pk=tag_id)


@router.post(
    "", auth=scoped(Scope.PEOPLE_WRITE), response={**responses(TagOut), 201: TagOut}, url_name="api-tags-create"
)
def tag_create(request: HttpRequest, payload: TagIn) -> Status[Tag]:
    """Create a tag (201), or answer the one that already has this name (200)."""
    campaign = campaign_of(request)
    name = " ".join(payload.name.split())
    if not name:
        raise invalid("body.name", _("A tag needs a name."))
    existed = Tag.objects.filter(campaign=campaign, name=name).exists()
    tag = services.tag_get_or_create(campaign, name)
    return Status(200 if existed else 201, get_or_404(_tags(campaign), pk=tag.pk))


@router.get(
    "/{tag_id}/people", auth=scoped(Scope.PEOPLE_READ), response=responses(PeoplePage), url_name="api-tag-people"
)
def tag_people(
    request: HttpRequest, tag_id: int, order: Query[PeopleSort], pagination: Query[Page.Input]
) -> dict[str, Any]:
    """The people who have this tag."""
    tag = get_or_404(Tag.objects.filter(campaign=campaign_of(request)), pk=tag_id)
    return people_page(request, Person.objects.filter(campaign=tag.campaign, tags=tag), pagination, order.sort)
