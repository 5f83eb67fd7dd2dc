"""REST segments: dynamic segments and static lists, their filter documents, counts
equal to the builder page's (one compiler), their people (a static list's frozen
members, with the date it was frozen); nothing chosen by sensitive data leaves the
campaign; another campaign's segments are a 404."""

from __future__ import annotations

import re

import pytest

from suffrage.privacy.erasure import person_erase
from suffrage.segments.services import segment_freeze
from tests.factories import CustomFieldFactory, PersonFactory, SegmentFactory, TagFactory

pytestmark = pytest.mark.django_db

SEGMENTS = "/api/v1/segments"
MEMBERS = {"version": 1, "filter": {"field": "flag", "op": "is", "value": "member"}}
STRONG_SUPPORT = {"version": 1, "filter": {"field": "support_level", "op": "in", "value": [1]}}


def test_the_list_shows_both_kinds_and_filters_by_kind(campaign, other_campaign, owner, api):
    PersonFactory(campaign=campaign, is_member=True)
    dynamic = SegmentFactory(campaign=campaign, name="Adhérents", document=MEMBERS)
    static = segment_freeze(campaign=campaign, name="Liste du 1er mai", document=MEMBERS, actor=owner)
    SegmentFactory(campaign=other_campaign, name="Ailleurs")
    body = api.get(SEGMENTS, {"sort": "name"}).json()
    assert [(row["id"], row["kind"]) for row in body["results"]] == [(dynamic.pk, "dynamic"), (static.pk, "static")]
    frozen = body["results"][1]
    assert frozen["frozen_count"] == 1 and frozen["frozen_at"].startswith(static.snapshot.created_at.strftime("%Y-"))
    assert body["results"][0]["frozen_at"] is None and body["results"][0]["frozen_count"] is None
    assert [row["id"] for row in api.get(SEGMENTS, {"kind": "static"}).json()["results"]] == [static.pk]
    assert [row["id"] for row in api.get(SEGMENTS, {"name": "adh"}).json()["results"]] == [dynamic.pk]
    assert api.get(SEGMENTS, {"kind": "smart"}).status_code == 422


def test_the_detail_holds_the_filter_document(campaign, api):
    segment = SegmentFactory(campaign=campaign, name="Adhérents", description="Tous", document=MEMBERS)
    body = api.get(f"{SEGMENTS}/{segment.pk}").json()
    assert (body["name"], body["description"], body["document"]) == ("Adhérents", "Tous", MEMBERS)


def test_another_campaigns_segment_is_a_404_everywhere(campaign, other_campaign, api):
    foreign = SegmentFactory(campaign=other_campaign)
    for path in ("", "/count", "/people"):
        response = api.get(f"{SEGMENTS}/{foreign.pk}{path}")
        assert response.status_code == 404 and response.json()["detail"] == "Not found."


def _builder_count(client, campaign, document) -> int:
    import json

    page = client.post(f"/c/{campaign.slug}/segments/count/", {"document": json.dumps(document)}).content.decode()
    return int(re.search(r'data-count="(\d+)"', page).group(1))


def test_the_count_is_the_builders(campaign, owner, login, api):
    tag = TagFactory(campaign=campaign, name="Vélo")
    for index in range(5):
        person = PersonFactory(campaign=campaign, is_member=index % 2 == 0)
        if index < 3:
            person.tags.add(tag)
    PersonFactory(campaign=PersonFactory().campaign, is_member=True)  # another campaign's member
    document = {
        "version": 1,
        "filter": {
            "any": [
                {"field": "flag", "op": "is", "value": "member"},
                {"field": "tag", "op": "any_of", "value": ["Vélo"]},
            ]
        },
    }
    segment = SegmentFactory(campaign=campaign, document=document)
    count = api.get(f"{SEGMENTS}/{segment.pk}/count").json()["count"]
    assert count == _builder_count(login(owner), campaign, document) == 4


def test_a_dynamic_segments_people_are_those_it_selects_now(campaign, api):
    first = PersonFactory(campaign=campaign, is_member=True, first_names="Anne", usage_name="Morvan")
    PersonFactory(campaign=campaign, is_member=False)
    segment = SegmentFactory(campaign=campaign, document=MEMBERS)
    body = api.get(f"{SEGMENTS}/{segment.pk}/people").json()
    assert body["kind"] == "dynamic" and body["frozen_at"] is None
    assert [person["id"] for person in body["results"]] == [first.pk]
    second = PersonFactory(campaign=campaign, is_member=True, first_names="Bruno", usage_name="Abgrall")
    body = api.get(f"{SEGMENTS}/{segment.pk}/people", {"sort": "last_name"}).json()
    assert body["count"] == 2 and [person["id"] for person in body["results"]] == [second.pk, first.pk]
    assert "support_level" not in str(body)


def test_a_static_lists_people_are_its_frozen_members_with_the_date(campaign, owner, api):
    kept, erased = PersonFactory(campaign=campaign, is_member=True), PersonFactory(campaign=campaign, is_member=True)
    static = segment_freeze(campaign=campaign, name="Liste", document=MEMBERS, actor=owner)
    PersonFactory(campaign=campaign, is_member=True)  # joined after the list was frozen
    person_erase(person=erased, actor=None)
    body = api.get(f"{SEGMENTS}/{static.pk}/people").json()
    assert body["kind"] == "static" and body["frozen_at"] is not None
    assert [person["id"] for person in body["results"]] == [kept.pk]
    assert api.get(f"{SEGMENTS}/{static.pk}/count").json() == {"count": 1}
    assert [person["id"] for person in api.get("/api/v1/people", {"segment": static.pk}).json()["results"]] == [kept.pk]


def test_pages_of_a_segments_people(campaign, api):
    people = [PersonFactory(campaign=campaign) for _ in range(3)]
    segment = SegmentFactory(campaign=campaign)
    body = api.get(f"{SEGMENTS}/{segment.pk}/people", {"per_page": 2, "page": 2}).json()
    assert (body["count"], body["pages"], [p["id"] for p in body["results"]]) == (3, 2, [people[2].pk])


def test_segments_chosen_by_sensitive_data_never_leave_the_campaign(campaign, owner, api):
    PersonFactory(campaign=campaign, support_level=1, custom={"sante": "asthme"})
    health = CustomFieldFactory(campaign=campaign, key="sante")
    by_health = {"version": 1, "filter": {"field": "custom", "key": "sante", "op": "is_set"}}
    # Frozen before the field was marked sensitive: its members say who has a health note.
    frozen = segment_freeze(campaign=campaign, name="Santé", document=by_health, actor=owner)
    health.sensitive = True
    health.save()
    by_support = SegmentFactory(campaign=campaign, document=STRONG_SUPPORT)
    by_health = SegmentFactory(campaign=campaign, document=by_health)
    through_the_list = SegmentFactory(
        campaign=campaign, document={"version": 1, "filter": {"field": "segment", "op": "in", "value": frozen.pk}}
    )
    for segment in (by_support, by_health, frozen, through_the_list):
        for path in ("/count", "/people"):
            response = api.get(f"{SEGMENTS}/{segment.pk}{path}")
            assert response.status_code == 422, (segment.document, path)
            assert "sensitive" in response.json()["detail"]
        response = api.get("/api/v1/people", {"segment": segment.pk})
        assert response.status_code == 422 and "sensitive" in response.json()["detail"]
    # Their definitions are not personal data: they can still be read.
    assert api.get(f"{SEGMENTS}/{by_support.pk}").json()["document"] == STRONG_SUPPORT


def test_a_filter_that_no_longer_runs_is_a_422_with_the_reason(campaign, api):
    segment = SegmentFactory(
        campaign=campaign, document={"version": 1, "filter": {"field": "custom", "key": "gone", "op": "is_set"}}
    )
    response = api.get(f"{SEGMENTS}/{segment.pk}/count")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "segment"


def test_scopes(campaign, api_for):
    segment = SegmentFactory(campaign=campaign)
    segments_only = api_for(campaign, scopes=["segments:read"])
    assert segments_only.get(f"{SEGMENTS}/{segment.pk}/count").status_code == 200
    response = segments_only.get(f"{SEGMENTS}/{segment.pk}/people")
    assert response.status_code == 403 and "people:read" in response.json()["detail"]
    both = api_for(campaign, scopes=["segments:read", "people:read"])
    assert both.get(f"{SEGMENTS}/{segment.pk}/people").status_code == 200
    people_only = api_for(campaign, scopes=["people:read"])
    assert people_only.get(SEGMENTS).status_code == 403
    assert people_only.get(f"{SEGMENTS}/{segment.pk}/people").status_code == 403
