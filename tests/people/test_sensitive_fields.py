"""Custom fields marked sensitive (an opinion, health…): only roles allowed to see
support levels see, change or filter on them, and they are cleared after the election."""

import datetime

import pytest
from django.urls import reverse
from freezegun import freeze_time

from suffrage.core.roles import Role
from suffrage.people.models import LegalBasis, Person
from suffrage.privacy import retention
from suffrage.segments.compiler import context_for, segment_people
from suffrage.segments.language import FilterError
from tests.factories import CalendarElectionFactory, CustomFieldFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def opinion(campaign):
    CustomFieldFactory(campaign=campaign, key="quartier", label="Quartier", kind="text")
    return CustomFieldFactory(campaign=campaign, key="opinion", label="Avis sur le projet", kind="text", sensitive=True)


def test_an_organiser_neither_sees_nor_erases_a_sensitive_value(campaign, member, login, opinion):
    person = PersonFactory(campaign=campaign, custom={"opinion": "favorable", "quartier": "Siam"})
    client = login(member(Role.ORGANISER))
    page = client.get(reverse("people:detail", args=[campaign.slug, person.pk])).content.decode()
    assert "Siam" in page and "favorable" not in page and "Avis sur le projet" not in page
    form = client.get(reverse("people:edit", args=[campaign.slug, person.pk])).content.decode()
    assert "custom_opinion" not in form
    client.post(
        reverse("people:edit", args=[campaign.slug, person.pk]),
        {"first_names": person.first_names, "usage_name": "Nouveau", "custom_quartier": "Bellevue"},
    )
    person.refresh_from_db()
    assert person.usage_name == "Nouveau"
    assert person.custom == {"opinion": "favorable", "quartier": "Bellevue"}  # kept as it was
    manager_page = login(member(Role.MANAGER)).get(reverse("people:detail", args=[campaign.slug, person.pk]))
    assert "favorable" in manager_page.content.decode()


def test_segments_on_a_sensitive_field_need_the_right_role(campaign, opinion):
    PersonFactory(campaign=campaign, custom={"opinion": "favorable"})
    document = {"version": 1, "filter": {"field": "custom", "key": "opinion", "op": "equals", "value": "favorable"}}
    with pytest.raises(FilterError, match="opinion"):
        segment_people(campaign, document, context_for(campaign, can_sensitive=False))
    with pytest.raises(FilterError):
        segment_people(campaign, document, context_for(campaign, can_sensitive=True, purpose="third_party"))
    assert segment_people(campaign, document, context_for(campaign, can_sensitive=True)).count() == 1


def test_sensitive_values_are_cleared_after_the_election(campaign, opinion):
    CalendarElectionFactory(campaign=campaign, first_round_on=datetime.date(2027, 3, 14), second_round_on=None)
    member_ = PersonFactory(
        campaign=campaign, is_member=True, legal_basis=LegalBasis.MEMBER, custom={"opinion": "x", "quartier": "Siam"}
    )
    with freeze_time("2027-03-01"):
        retention.retention_apply(campaign)
    assert Person.objects.get(pk=member_.pk).custom == {"opinion": "x", "quartier": "Siam"}
    with freeze_time("2027-06-01"):
        retention.retention_apply(campaign)
    assert Person.objects.get(pk=member_.pk).custom == {"quartier": "Siam"}
