"""Duplicates are found, reviewed side by side, merged without losing anything."""

import datetime

import pytest
from django.urls import reverse

from suffrage.core.models import AuditLog
from suffrage.people import services
from suffrage.people.models import ConsentEvent, Note, Person, PostalAddress, Source
from suffrage.people.selectors import duplicate_pairs, person_timeline
from tests.factories import PersonEmailFactory, PersonFactory, PersonPhoneFactory

pytestmark = pytest.mark.django_db


def test_pairs_are_found_by_email_phone_and_name(campaign):
    a, b = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    PersonEmailFactory(person=a, address="same@example.org")
    PersonEmailFactory(person=b, address="same@example.org")
    c, d = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    PersonPhoneFactory(person=c, number="+33611111111")
    PersonPhoneFactory(person=d, number="+33611111111")
    born = datetime.date(1970, 5, 1)
    e = PersonFactory(campaign=campaign, first_names="Jean-Yves", usage_name="Le Goff", birth_date=born)
    f = PersonFactory(campaign=campaign, first_names="jean yves", usage_name="LE GOFF", birth_date=born)
    PersonFactory(campaign=campaign, first_names="Jean-Yves", usage_name="Le Goff")  # no date, no address: not sure
    found = {(p.first.pk, p.second.pk): p.reason for p in duplicate_pairs(campaign)}
    assert found == {(a.pk, b.pk): "email", (c.pk, d.pk): "phone", (e.pk, f.pk): "birth_date"}


def test_a_dismissed_pair_is_not_proposed_again(campaign, manager, login):
    a, b = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    PersonEmailFactory(person=a, address="x@example.org")
    PersonEmailFactory(person=b, address="x@example.org")
    url = reverse("people:duplicate_compare", args=[campaign.slug, a.pk, b.pk])
    login(manager).post(url, {"decision": "distinct"})
    assert duplicate_pairs(campaign) == []


def test_merge_keeps_every_channel_tag_consent_note_and_the_history(campaign, manager, login):
    keep = PersonFactory(campaign=campaign, first_names="Annick", usage_name="Le Bris")
    other = PersonFactory(
        campaign=campaign, first_names="Annie", usage_name="Le Bris", birth_date=datetime.date(1960, 1, 2)
    )
    PersonEmailFactory(person=keep, address="annick@example.org")
    PersonEmailFactory(person=other, address="annick@example.org")
    PersonEmailFactory(person=other, address="annie.pro@example.org")
    PersonPhoneFactory(person=other, number="+33622222222")
    PostalAddress.objects.create(person=other, street="rue de Siam", postcode="29200", town="Brest")
    services.people_tag(campaign=campaign, people_ids=[other.pk], tag_name="Donatrice", add=True, actor=manager)
    services.consent_record(person=other, channel="email", granted=True, source=Source.WEB_FORM)
    services.note_add(person=other, text="Appelée le 3 mai", actor=manager)
    other_id = other.pk
    url = reverse("people:duplicate_compare", args=[campaign.slug, keep.pk, other.pk])
    response = login(manager).post(url, {"decision": "merge", "first_names": "second"})
    keep.refresh_from_db()
    assert response["Location"] == reverse("people:detail", args=[campaign.slug, keep.pk])
    assert not Person.objects.filter(pk=other_id).exists()
    assert keep.first_names == "Annie"  # chosen from the second record
    assert keep.birth_date == datetime.date(1960, 1, 2)  # blank on the kept one: filled
    assert sorted(keep.emails.values_list("address", flat=True)) == ["annick@example.org", "annie.pro@example.org"]
    assert keep.phones.get().number == "+33622222222"
    assert keep.addresses.get().town == "Brest"
    assert list(keep.tags.values_list("name", flat=True)) == ["Donatrice"]
    assert ConsentEvent.objects.filter(person=keep, channel="email", granted=True).count() == 1
    assert keep.consent_email is True
    assert Note.objects.filter(person=keep, text="Appelée le 3 mai").exists()
    assert other_id in keep.merged_ids
    timeline = person_timeline(keep)
    assert {"person.merge", "person.note"} <= {entry.item.action for entry in timeline if entry.kind == "audit"}
    assert any(entry.kind == "consent" for entry in timeline)
    assert AuditLog.objects.get(action="person.merge").changes["first_names"] == ["Annick", "Annie"]


def test_bulk_merge_merges_each_pair_into_its_older_record(campaign, manager, login):
    pairs = []
    for i in range(2):
        a, b = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
        PersonEmailFactory(person=a, address=f"dup{i}@example.org")
        PersonEmailFactory(person=b, address=f"dup{i}@example.org")
        pairs.append((a, b))
    login(manager).post(
        reverse("people:duplicates_merge", args=[campaign.slug]), {"pair": [f"{a.pk}:{b.pk}" for a, b in pairs]}
    )
    assert sorted(Person.objects.values_list("pk", flat=True)) == sorted(a.pk for a, _ in pairs)


def test_people_of_two_campaigns_are_never_merged(campaign, other_campaign, manager):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.person_merge(
            keep=PersonFactory(campaign=campaign), other=PersonFactory(campaign=other_campaign), actor=manager
        )
