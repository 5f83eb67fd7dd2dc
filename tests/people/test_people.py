"""People: create, search, filter, bulk actions, consent ledger, custom fields,
timeline, sensitive data — as owner, teammate and outsider."""

import pytest
from django.urls import reverse

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.people import services
from suffrage.people.models import ConsentEvent, CustomField, Person, Source
from tests.factories import CustomFieldFactory, MembershipFactory, PersonEmailFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def _list(client, campaign, **params):
    return client.get(reverse("people:list", args=[campaign.slug]), params)


def _new(client, campaign, **data):
    payload = {"first_names": "Hervé", "usage_name": "Le Gall", "legal_basis": "consent", **data}
    return client.post(reverse("people:new", args=[campaign.slug]), payload)


def test_a_manager_adds_a_person_with_a_normalised_phone_and_email(campaign, manager, login):
    response = _new(
        login(manager), campaign, email=" Herve.LeGall@Example.ORG ", phone="06 12 34 56 78", postcode="29200"
    )
    person = Person.objects.get()
    assert response["Location"] == reverse("people:detail", args=[campaign.slug, person.pk])
    assert person.emails.get().address == "herve.legall@example.org"
    phone = person.phones.get()
    assert (phone.number, phone.kind, phone.sms_capable) == ("+33612345678", "mobile", True)
    assert person.source == Source.MANUAL and person.source_detail == manager.email
    assert person.field_sources == {}  # values set at creation share the record's provenance
    assert AuditLog.objects.filter(action="person.create", object_id=str(person.pk)).exists()


def test_a_bad_phone_is_refused_with_a_message_and_nothing_is_saved(campaign, manager, login):
    response = _new(login(manager), campaign, phone="12")
    assert response.status_code == 200
    assert 'id="id_phone_error"' in response.content.decode()
    assert not Person.objects.exists()


def test_search_ignores_accents_and_case_and_finds_phones(campaign, manager, login):
    client = login(manager)
    _new(client, campaign, phone="06 12 34 56 78")
    _new(client, campaign, first_names="Anne", usage_name="Quéré")
    assert "Hervé" in _list(client, campaign, q="HERVE le gall").content.decode()
    assert "Hervé" not in _list(client, campaign, q="quere").content.decode()
    assert "Hervé" in _list(client, campaign, q="0612345678").content.decode()


def test_the_list_answers_htmx_with_the_results_only(campaign, manager, login):
    PersonFactory(campaign=campaign, first_names="Yann")
    page = login(manager).get(
        reverse("people:list", args=[campaign.slug]), {"q": "yann"}, headers={"HX-Request": "true"}
    )
    assert "Yann" in page.content.decode()
    assert "<html" not in page.content.decode()


def test_filters_by_tag_source_and_reachability(campaign, manager, login):
    tagged = PersonFactory(campaign=campaign, first_names="Goulven")
    services.people_tag(campaign=campaign, people_ids=[tagged.pk], tag_name="Porte-à-porte", add=True, actor=manager)
    reachable = PersonFactory(campaign=campaign, first_names="Ondine", source=Source.WEB_FORM)
    PersonEmailFactory(person=reachable)
    services.consent_record(person=reachable, channel="email", granted=True, source=Source.WEB_FORM)
    client = login(manager)
    tag = tagged.tags.get()
    assert "Goulven" in _list(client, campaign, tag=tag.pk).content.decode()
    assert "Ondine" not in _list(client, campaign, tag=tag.pk).content.decode()
    assert "Ondine" in _list(client, campaign, source="web_form").content.decode()
    page = _list(client, campaign, reachable="email").content.decode()
    assert "Ondine" in page and "Goulven" not in page


def test_bulk_tag_and_do_not_contact_on_a_selection_are_audited(campaign, manager, login):
    people = [PersonFactory(campaign=campaign) for _ in range(3)]
    client = login(manager)
    url = reverse("people:bulk", args=[campaign.slug])
    client.post(url, {"action": "tag", "tag_name": "Militants", "person": [p.pk for p in people[:2]]})
    assert Person.objects.filter(tags__name="Militants").count() == 2
    client.post(url, {"action": "do_not_contact", "channel": "sms", "person": [people[2].pk]})
    people[2].refresh_from_db()
    assert people[2].consent_sms is False
    assert ConsentEvent.objects.filter(person=people[2], channel="sms", granted=False).exists()
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"people.bulk_tag", "people.bulk_do_not_contact"} <= actions


def test_bulk_on_all_matching_uses_the_filters(campaign, manager, login):
    PersonFactory(campaign=campaign, first_names="Loïc")
    PersonFactory(campaign=campaign, first_names="Nolwenn")
    url = reverse("people:bulk", args=[campaign.slug]) + "?q=loic"
    login(manager).post(url, {"action": "tag", "tag_name": "L", "all_matching": "on"})
    assert list(Person.objects.filter(tags__name="L").values_list("first_names", flat=True)) == ["Loïc"]


def test_bulk_actions_ignore_another_campaigns_people(campaign, other_campaign, manager, login):
    foreign = PersonFactory(campaign=other_campaign)
    login(manager).post(
        reverse("people:bulk", args=[campaign.slug]), {"action": "tag", "tag_name": "X", "person": [foreign.pk]}
    )
    assert not foreign.tags.exists()


def test_an_organiser_cannot_bulk_edit(campaign, member, login):
    organiser = member(Role.ORGANISER)
    response = login(organiser).post(reverse("people:bulk", args=[campaign.slug]), {"action": "tag", "tag_name": "X"})
    assert response.status_code == 403


def test_the_consent_ledger_is_append_only_and_drives_the_state(campaign):
    person = PersonFactory(campaign=campaign)
    services.consent_record(
        person=person, channel="email", granted=True, source=Source.WEB_FORM, form="Pétition", ip="203.0.113.5"
    )
    services.consent_record(person=person, channel="email", granted=False, source=Source.MANUAL)
    person.refresh_from_db()
    assert person.consent_email is False
    event = ConsentEvent.objects.filter(person=person).order_by("at", "pk").first()
    assert (event.form, event.ip) == ("Pétition", "203.0.113.5")
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        ConsentEvent.objects.filter(person=person).update(granted=True)


def test_custom_fields_are_validated_in_the_person_form(campaign, manager, login):
    CustomFieldFactory(
        campaign=campaign,
        key="quartier",
        label="Quartier",
        kind=CustomField.Kind.CHOICE,
        choices=["Centre", "Bellevue"],
    )
    CustomFieldFactory(campaign=campaign, key="enfants", label="Enfants", kind=CustomField.Kind.NUMBER)
    client = login(manager)
    _new(client, campaign, custom_quartier="Bellevue", custom_enfants="2")
    assert Person.objects.get().custom == {"quartier": "Bellevue", "enfants": 2.0}
    response = _new(client, campaign, first_names="Autre", custom_enfants="deux")
    assert response.status_code == 200
    assert Person.objects.count() == 1


def test_the_person_page_shows_the_timeline_and_provenance(campaign, manager, login):
    person = PersonFactory(campaign=campaign, source=Source.IMPORT, source_detail="Import #3 fichier.csv")
    services.note_add(person=person, text="Rencontré au marché", actor=manager)
    services.person_update(person=person, actor=manager, first_names="Gwenaëlle")
    services.consent_record(person=person, channel="sms", granted=True, source=Source.CANVASSING, form="Porte-à-porte")
    page = login(manager).get(reverse("people:detail", args=[campaign.slug, person.pk])).content.decode()
    assert "Rencontré au marché" in page
    assert "Porte-à-porte" in page
    assert "person.update" in page and "Gwenaëlle" in page
    assert "Import #3 fichier.csv" in page
    assert '<strong class="message-warning">' in page  # the first-contact notice is still owed


def test_support_level_is_hidden_from_organisers(campaign, member, manager, login):
    person = PersonFactory(campaign=campaign)
    login(manager).post(reverse("people:support", args=[campaign.slug, person.pk]), {"level": "2"})
    person.refresh_from_db()
    assert person.support_level == 2
    entry = AuditLog.objects.get(action="person.support_level")
    assert entry.changes == {}  # the value itself never goes to the log
    organiser = member(Role.ORGANISER)
    page = login(organiser).get(reverse("people:detail", args=[campaign.slug, person.pk])).content.decode()
    assert reverse("people:support", args=[campaign.slug, person.pk]) not in page


def test_analysts_and_volunteers_never_see_people(campaign, member, login):
    PersonFactory(campaign=campaign)
    for role in (Role.ANALYST, Role.VOLUNTEER):
        assert login(member(role)).get(reverse("people:list", args=[campaign.slug])).status_code == 403


def test_the_people_list_runs_a_fixed_number_of_queries(campaign, manager, login, django_assert_max_num_queries):
    for _ in range(30):
        person = PersonFactory(campaign=campaign)
        PersonEmailFactory(person=person)
        services.people_tag(campaign=campaign, people_ids=[person.pk], tag_name="T", add=True, actor=manager)
    client = login(manager)
    with django_assert_max_num_queries(20):
        assert _list(client, campaign).status_code == 200


def test_an_outsider_cannot_reach_a_person_even_with_its_id(campaign, outsider, other_campaign, login):
    person = PersonFactory(campaign=campaign)
    client = login(outsider)
    assert client.get(reverse("people:detail", args=[other_campaign.slug, person.pk])).status_code == 404
    assert client.get(reverse("people:detail", args=[campaign.slug, person.pk])).status_code == 404


def test_a_second_campaign_member_sees_only_their_campaigns_people(campaign, other_campaign, login):
    PersonFactory(campaign=campaign, first_names="Brestois")
    user = UserFactory()
    MembershipFactory(campaign=other_campaign, user=user, role=Role.MANAGER)
    assert "Brestois" not in _list(login(user), other_campaign).content.decode()


def test_reachability_counts_are_loaded_after_the_list(campaign, manager, login):
    person = PersonFactory(campaign=campaign)
    PersonEmailFactory(person=person)
    services.consent_record(person=person, channel="email", granted=True, source=Source.WEB_FORM)
    PersonFactory(campaign=campaign)
    client = login(manager)
    page = _list(client, campaign).content.decode()
    assert reverse("people:counts", args=[campaign.slug]) in page
    counts = client.get(reverse("people:counts", args=[campaign.slug]), headers={"HX-Request": "true"}).content.decode()
    assert counts.split()[0] == "2" and " 1 " in counts


def test_the_list_counts_up_to_a_cap_so_pages_stay_fast(campaign, manager, login, monkeypatch):
    from suffrage.core import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    for _ in range(5):
        PersonFactory(campaign=campaign)
    page = _list(login(manager), campaign)
    assert page.context["page"].paginator.count == 3
    assert page.context["page"].paginator.is_capped


def test_search_results_are_sorted_by_name_both_ways(campaign, manager, login):
    for last in ("Le Roux", "Abgrall", "Morvan"):
        PersonFactory(campaign=campaign, first_names="Gwen", usage_name=last)
    client = login(manager)
    names = [p.usage_name for p in _list(client, campaign, q="gwen").context["page"]]
    assert names == ["Abgrall", "Le Roux", "Morvan"]
    names = [p.usage_name for p in _list(client, campaign, q="gwen", sort="-name").context["page"]]
    assert names == ["Morvan", "Le Roux", "Abgrall"]
