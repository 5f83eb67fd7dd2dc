"""The filter language's checks, saving and freezing segments, snapshots, and the
builder's endpoints (query counts pinned)."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.people.models import Tag
from suffrage.segments import services
from suffrage.segments.compiler import context_for, segment_members, segment_people
from suffrage.segments.language import Context, FilterError, validate
from suffrage.segments.models import Segment, SnapshotMember
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked in English (the default language is French)."""
    with translation.override("en"):
        yield


def doc(*conditions, match="all"):
    return {"version": 1, "filter": {match: list(conditions)}}


def tag(*names):
    return {"field": "tag", "op": "any_of", "value": list(names)}


@pytest.fixture
def tagged(campaign):
    militante = Tag.objects.create(campaign=campaign, name="Militante")
    people = [factories.PersonFactory(campaign=campaign) for _ in range(5)]
    for person in people[:3]:
        person.tags.add(militante)
    people[0].is_member = True
    people[0].save()
    return people


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"filter": {"all": []}}, "version"),
        ({"version": 2, "filter": {"all": []}}, "version 2"),
        (doc({"field": "surname", "op": "in", "value": ["Martin"]}), "CNIL"),
        (doc({"field": "birth_place", "op": "in", "value": ["Brest"]}), "CNIL"),
        (doc({"field": "nationality", "op": "in", "value": ["FR"]}), "CNIL"),
        (doc({"field": "shoe_size", "op": "in", "value": [42]}), "unknown field"),
        (doc({"field": "tag", "op": "equals", "value": ["x"]}), "operator"),
        (doc({"field": "tag", "op": "any_of", "value": "Militante"}), "list"),
        (doc({"field": "source", "op": "in", "value": ["pigeon"]}), "pigeon"),
        (doc({"field": "collected", "op": "between", "value": {"from": "2026-13-01"}}), "2026-13-01"),
        (doc({"field": "near", "op": "within", "value": {"lon": 1, "lat": 2, "metres": 10**7}}), "100 km"),
        (doc({"field": "custom", "key": "nope", "op": "is_set"}), "nope"),
        (doc({"field": "support_level", "op": "in", "value": [1]}), "sensitive"),
        (doc({"all": []}, {"not": {"any": "x"}}), "group"),
        (doc({"field": "area", "op": "within", "value": {"type": "Polygon", "coordinates": []}}), "area"),
        (doc({"field": "area", "op": "within", "value": {"type": "Polygon", "coordinates": 5}}), "area"),
        (doc({"field": [], "op": "in", "value": []}), "name"),
        (doc({"field": "segment", "op": "in", "value": [1]}), "segment"),
        (doc({"field": "segment", "op": "in", "value": True}), "segment"),
    ],
)
def test_invalid_documents_are_refused_with_a_clear_message(campaign, document, message):
    with pytest.raises(FilterError, match=message):
        validate(document, context_for(campaign))


def test_the_support_level_needs_the_right_role_and_never_leaves_the_campaign(campaign):
    document = doc({"field": "support_level", "op": "in", "value": [1, 2]})
    validate(document, Context(campaign.pk, can_sensitive=True))
    with pytest.raises(FilterError, match="third parties"):
        validate(document, Context(campaign.pk, can_sensitive=True, purpose="third_party"))


def test_a_segment_that_includes_itself_is_refused(campaign, manager):
    first = services.segment_save(campaign=campaign, name="A", document=doc(), actor=manager)
    second = services.segment_save(
        campaign=campaign, name="B", document=doc({"field": "segment", "op": "in", "value": first.pk}), actor=manager
    )
    with pytest.raises(ValidationError, match="includes itself"):
        services.segment_save(
            campaign=campaign,
            name="A",
            document=doc({"field": "segment", "op": "in", "value": second.pk}),
            segment=first,
            actor=manager,
        )
    with pytest.raises(ValidationError, match="B"):
        services.segment_delete(segment=first, actor=manager)


def test_segments_combine_and_exclude(campaign, manager, tagged):
    members = services.segment_save(
        campaign=campaign, name="Membres", document=doc({"field": "flag", "op": "is", "value": "member"}), actor=manager
    )
    document = doc(tag("Militante"), {"not": {"field": "segment", "op": "in", "value": members.pk}})
    assert set(segment_people(campaign, document)) == set(tagged[1:3])
    assert AuditLog.objects.filter(action="segment.create", object_id=str(members.pk)).exists()


def test_a_static_list_keeps_who_matched_when_it_was_frozen(campaign, manager, tagged):
    frozen = services.segment_freeze(
        campaign=campaign, name="Militantes en mars", document=doc(tag("Militante")), actor=manager
    )
    assert frozen.kind == Segment.Kind.STATIC and frozen.snapshot.count == 3
    tagged[4].tags.add(Tag.objects.get(name="Militante"))
    assert segment_people(campaign, doc(tag("Militante"))).count() == 4
    assert set(segment_members(frozen)) == set(tagged[:3])
    assert SnapshotMember.objects.filter(snapshot=frozen.snapshot).count() == 3
    assert AuditLog.objects.filter(action="segment.freeze").exists()


def test_another_campaigns_people_are_never_selected(campaign, other_campaign, tagged):
    Tag.objects.create(campaign=other_campaign, name="Militante").people.add(
        factories.PersonFactory(campaign=other_campaign)
    )
    assert set(segment_people(campaign, doc(tag("Militante")))) == set(tagged[:3])
    assert segment_people(campaign, doc()).count() == 5


def test_roll_status_is_not_checked_until_the_campaign_matches(campaign, tagged):
    document = doc({"field": "roll_status", "op": "in", "value": ["not_checked"]})
    assert segment_people(campaign, document).count() == 5
    factories.MatchModelFactory(version__campaign=campaign, index_path="index.duckdb")
    assert segment_people(campaign, document).count() == 0
    not_found = doc({"field": "roll_status", "op": "in", "value": ["not_found"]})
    assert segment_people(campaign, not_found).count() == 5


def test_the_builder_counts_with_a_fixed_number_of_queries(campaign, manager, login, tagged):
    client = login(manager)
    url = reverse("segments:count", args=[campaign.slug])
    small = {"document": json.dumps(doc(tag("Militante")))}
    response = client.post(url, small)
    assert 'data-count="3"' in response.content.decode()
    with CaptureQueriesContext(connection) as few:
        client.post(url, small)
    for _ in range(20):
        factories.PersonFactory(campaign=campaign).tags.add(Tag.objects.get(name="Militante"))
    with CaptureQueriesContext(connection) as many:
        response = client.post(url, small)
    assert 'data-count="23"' in response.content.decode()
    assert len(many) == len(few) <= 14


def test_the_breakdowns_come_in_their_own_request_with_a_fixed_number_of_queries(campaign, manager, login, tagged):
    station = factories.station_in(campaign, number="0007", name="École du Bourg")
    for person in tagged[:2]:
        factories.PostalAddressFactory(person=person, polling_station=station)
    factories.PersonEmailFactory(person=tagged[0])
    client = login(manager)
    small = {"document": json.dumps(doc(tag("Militante")))}
    counted = client.post(reverse("segments:count", args=[campaign.slug]), small).content.decode()
    breakdown_url = reverse("segments:breakdown", args=[campaign.slug])
    assert "By polling station" not in counted and f'hx-post="{breakdown_url}"' in counted
    with CaptureQueriesContext(connection) as few:
        page = client.post(breakdown_url, small).content.decode()
    assert "29019_0007 École du Bourg: 2" in page
    for _ in range(20):
        person = factories.PersonFactory(campaign=campaign)
        person.tags.add(Tag.objects.get(name="Militante"))
        factories.PostalAddressFactory(person=person, polling_station=station)
    with CaptureQueriesContext(connection) as many:
        page = client.post(breakdown_url, small).content.decode()
    assert "29019_0007 École du Bourg: 22" in page
    assert len(many) == len(few) <= 14


def test_the_builder_says_what_is_wrong(campaign, manager, login):
    url = reverse("segments:count", args=[campaign.slug])
    response = login(manager).post(url, {"document": json.dumps(doc({"field": "surname", "op": "in", "value": ["x"]}))})
    page = response.content.decode()
    assert 'id="segment-error"' in page and "CNIL" in page
    response = login(manager).post(url, {"document": "{not json"})
    assert 'id="segment-error"' in response.content.decode()


def test_analysts_count_but_see_no_one(campaign, member, login, tagged):
    client = login(member(Role.ANALYST))
    page = client.post(
        reverse("segments:count", args=[campaign.slug]), {"document": json.dumps(doc())}
    ).content.decode()
    assert 'data-count="5"' in page and "segment-sample" not in page
    response = client.post(reverse("segments:new", args=[campaign.slug]), {"name": "x", "document": json.dumps(doc())})
    assert not Segment.objects.exists() and response.status_code == 200


def test_volunteers_cannot_build_segments(campaign, volunteer, login):
    assert login(volunteer).get(reverse("segments:new", args=[campaign.slug])).status_code == 403


def test_saving_from_the_builder(campaign, manager, login, tagged):
    client = login(manager)
    document = doc(tag("Militante"))
    response = client.post(
        reverse("segments:new", args=[campaign.slug]),
        {"name": "Militantes", "description": "", "document": json.dumps(document), "action": "save"},
    )
    segment = Segment.objects.get()
    assert response.url == reverse("segments:edit", args=[campaign.slug, segment.pk])
    assert segment.document == document
    listing = client.get(reverse("people:list", args=[campaign.slug]), {"segment": segment.pk})
    assert {p.pk for p in listing.context["page"]} == {p.pk for p in tagged[:3]}
    page = client.get(reverse("segments:list", args=[campaign.slug])).content.decode()
    assert "Militantes" in page and f"?segment={segment.pk}" in page


def test_deleting_a_person_removes_them_from_snapshots(campaign, manager, tagged):
    frozen = services.segment_freeze(campaign=campaign, name="Liste", document=doc(tag("Militante")), actor=manager)
    tagged[0].delete()
    assert set(SnapshotMember.objects.filter(snapshot=frozen.snapshot).values_list("person_id", flat=True)) == {
        tagged[1].pk,
        tagged[2].pk,
    }


def test_deleting_a_static_list_deletes_its_snapshot_and_members(campaign, manager, tagged):
    frozen = services.segment_freeze(campaign=campaign, name="Liste", document=doc(tag("Militante")), actor=manager)
    services.segment_delete(segment=frozen, actor=manager)
    assert not SnapshotMember.objects.exists()
