"""REST tags: the campaign's tags with their counts, created through the people
services, and the people who have one; another campaign's tags are a 404."""

from __future__ import annotations

import pytest

from suffrage.people.models import Tag
from suffrage.privacy.erasure import person_erase
from tests.factories import PersonFactory, TagFactory

pytestmark = pytest.mark.django_db

TAGS = "/api/v1/tags"


def test_the_list_counts_people_and_holds_only_the_campaigns_tags(campaign, other_campaign, api):
    militante, newsletter = (
        TagFactory(campaign=campaign, name="Militante"),
        TagFactory(campaign=campaign, name="Lettre"),
    )
    TagFactory(campaign=other_campaign, name="Ailleurs")
    for person in (PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)):
        person.tags.add(militante)
    body = api.get(TAGS).json()
    assert body["count"] == 2
    assert body["results"] == [
        {"id": militante.pk, "name": "Militante", "people": 2},
        {"id": newsletter.pk, "name": "Lettre", "people": 0},
    ]


def test_filter_sort_and_pages(campaign, api):
    big, small = TagFactory(campaign=campaign, name="Vélo"), TagFactory(campaign=campaign, name="Vélorution")
    TagFactory(campaign=campaign, name="Écoles")
    for _ in range(2):
        PersonFactory(campaign=campaign).tags.add(big)
    PersonFactory(campaign=campaign).tags.add(small)
    body = api.get(TAGS, {"name": "vélo", "sort": "-people"}).json()
    assert [tag["name"] for tag in body["results"]] == ["Vélo", "Vélorution"]
    body = api.get(TAGS, {"sort": "people", "per_page": 1, "page": 2}).json()
    assert (body["count"], body["pages"], [tag["name"] for tag in body["results"]]) == (3, 3, ["Vélorution"])
    response = api.get(TAGS, {"sort": "campaign"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.sort"


def test_detail_and_another_campaigns_tag(campaign, other_campaign, api):
    tag = TagFactory(campaign=campaign, name="Militante")
    assert api.get(f"{TAGS}/{tag.pk}").json() == {"id": tag.pk, "name": "Militante", "people": 0}
    foreign = TagFactory(campaign=other_campaign)
    assert api.get(f"{TAGS}/{foreign.pk}").status_code == 404
    assert api.get(f"{TAGS}/{foreign.pk}/people").status_code == 404


def test_creating_a_tag_or_finding_it(campaign, api):
    response = api.post(TAGS, {"name": "  Porte   à porte "})
    assert response.status_code == 201 and response.json()["name"] == "Porte à porte"
    again = api.post(TAGS, {"name": "Porte à porte"})
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]
    assert Tag.objects.filter(campaign=campaign).count() == 1


@pytest.mark.parametrize("body", [{"name": "   "}, {"name": ""}, {"name": "x" * 81}, {}, {"name": "a", "x": 1}])
def test_a_tag_needs_a_name(campaign, api, body):
    response = api.post(TAGS, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("body.")
    assert not Tag.objects.exists()


def test_creating_needs_people_write(campaign, api_for):
    reader = api_for(campaign, scopes=["people:read"])
    assert reader.get(TAGS).status_code == 200
    assert reader.post(TAGS, {"name": "Militante"}).status_code == 403
    assert api_for(campaign, scopes=["segments:read"]).get(TAGS).status_code == 403
    assert not Tag.objects.exists()


def test_the_people_of_a_tag(campaign, api):
    tag = TagFactory(campaign=campaign)
    anne = PersonFactory(campaign=campaign, first_names="Anne", usage_name="B")
    bruno = PersonFactory(campaign=campaign, first_names="Bruno", usage_name="A")
    erased = PersonFactory(campaign=campaign)
    PersonFactory(campaign=campaign)  # without the tag
    for person in (anne, bruno, erased):
        person.tags.add(tag)
    person_erase(person=erased, actor=None)
    body = api.get(f"{TAGS}/{tag.pk}/people", {"sort": "last_name"}).json()
    assert body["count"] == 2 and [person["id"] for person in body["results"]] == [bruno.pk, anne.pk]
    assert "support_level" not in body["results"][0]
