"""REST people: what a person looks like to another tool (never the support level nor a
sensitive field), the list's filters, sorts and pages, and writes that go through the
people services (provenance "API", consent proof, audit rows), refused with errors
naming the field; another campaign's people are a 404."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suffrage.api.models import ApiToken
from suffrage.core.models import AuditLog
from suffrage.people.models import ConsentEvent, CustomField, Person, PersonEmail
from suffrage.privacy.erasure import person_erase
from suffrage.privacy.services import suppression_add
from tests.api.conftest import ids
from tests.factories import (
    CustomFieldFactory,
    PersonEmailFactory,
    PersonFactory,
    PersonPhoneFactory,
    PostalAddressFactory,
    SegmentFactory,
    TagFactory,
    station_in,
)

pytestmark = pytest.mark.django_db

PEOPLE = "/api/v1/people"


def error_fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# --- Reading ------------------------------------------------------------------------------------


def test_a_person_shows_channels_address_station_tags_custom_provenance_and_consent(campaign, api):
    station = station_in(campaign, name="École Jean Macé")
    neighbourhood = CustomFieldFactory(campaign=campaign, key="quartier")
    CustomFieldFactory(campaign=campaign, key="sante", sensitive=True)
    person = PersonFactory(
        campaign=campaign,
        civility="Mme",
        first_names="Anne",
        usage_name="Le Goff",
        birth_date=datetime.date(1980, 5, 1),
        is_member=True,
        support_level=1,
        external_id="CRM-7",
        source="web_form",
        source_detail="Pétition vélo",
        legal_basis="consent",
        consent_email=True,
        consent_sms=False,
        custom={neighbourhood.key: "Siam", "sante": "asthme"},
    )
    PersonEmailFactory(person=person, address="anne@example.org", is_primary=True)
    PersonPhoneFactory(person=person, number="+33612345678")
    PostalAddressFactory(person=person, polling_station=station, insee_code="29019")
    person.tags.add(TagFactory(campaign=campaign, name="Militante"))

    body = api.get(f"{PEOPLE}/{person.pk}").json()

    assert body["civility"] == "Mme" and body["first_names"] == "Anne" and body["usage_name"] == "Le Goff"
    assert body["birth_date"] == "1980-05-01" and body["is_member"] is True and body["external_id"] == "CRM-7"
    assert body["emails"] == [{"address": "anne@example.org", "primary": True, "status": "ok"}]
    assert body["phones"] == [{"number": "+33612345678", "kind": "mobile", "sms_capable": True, "suppressed": False}]
    [address] = body["addresses"]
    assert address["street"] == "Rue de Siam" and address["postcode"] == "29200" and address["insee_code"] == "29019"
    assert address["polling_station"] == {"code": station.code, "name": "École Jean Macé"}
    assert [tag["name"] for tag in body["tags"]] == ["Militante"]
    assert body["custom"] == {"quartier": "Siam"}  # the sensitive field is not there
    assert body["provenance"]["source"] == "web_form" and body["provenance"]["detail"] == "Pétition vélo"
    assert body["provenance"]["legal_basis"] == "consent" and body["provenance"]["collected_at"]
    assert body["consent"] == {"email": True, "sms": False, "phone": None, "post": None}
    assert "support_level" not in str(body) and "asthme" not in str(body)


def test_reading_a_person_is_in_their_access_trail(campaign, owner, api_for):
    person = PersonFactory(campaign=campaign)
    api_for(campaign, name="Site", created_by=owner).get(f"{PEOPLE}/{person.pk}")
    view = AuditLog.objects.get(action="person.view", object_id=str(person.pk))
    assert view.actor == owner and view.changes == {"api_token": "Site"}


def test_the_support_level_is_nowhere_in_the_api(campaign, api):
    PersonFactory(campaign=campaign, support_level=2)
    assert "support_level" not in api.get("/api/v1/openapi.json").content.decode()
    assert "support_level" not in api.get(PEOPLE).content.decode()


def test_the_list_holds_only_the_campaigns_people(campaign, other_campaign, api):
    mine = PersonFactory(campaign=campaign)
    PersonFactory(campaign=other_campaign)
    assert ids(api.get(PEOPLE)) == [mine.pk]


def test_another_campaigns_person_is_a_404(campaign, other_campaign, api):
    stranger = PersonFactory(campaign=other_campaign)
    response = api.get(f"{PEOPLE}/{stranger.pk}")
    assert response.status_code == 404 and response.json() == {"detail": "Not found.", "errors": []}


def test_erased_people_are_gone(campaign, api):
    kept, erased = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    PersonEmailFactory(person=erased, address="gone@example.org")
    person_erase(person=erased, actor=None)
    assert ids(api.get(PEOPLE)) == [kept.pk]
    assert api.get(f"{PEOPLE}/{erased.pk}").status_code == 404
    assert ids(api.get(PEOPLE, {"email": "gone@example.org"})) == []


# --- Filters, sorts, pages ----------------------------------------------------------------------


def test_filter_by_email_and_phone_as_people_write_them(campaign, api):
    anne, bruno = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    PersonEmailFactory(person=anne, address="anne@example.org")
    PersonPhoneFactory(person=bruno, number="+33612345678")
    assert ids(api.get(PEOPLE, {"email": " Anne@Example.org "})) == [anne.pk]
    assert ids(api.get(PEOPLE, {"phone": "06 12 34 56 78"})) == [bruno.pk]
    assert ids(api.get(PEOPLE, {"phone": "+33 6 12 34 56 79"})) == []


def test_a_malformed_email_or_phone_filter_is_a_422_naming_it(campaign, api):
    response = api.get(PEOPLE, {"email": "not an address"})
    assert response.status_code == 422 and error_fields(response) == ["query.email"]
    response = api.get(PEOPLE, {"phone": "12"})
    assert response.status_code == 422 and error_fields(response) == ["query.phone"]


def test_filter_by_tag_id_or_name(campaign, other_campaign, api):
    tagged, _other = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    tag = TagFactory(campaign=campaign, name="Militante")
    tagged.tags.add(tag)
    assert ids(api.get(PEOPLE, {"tag": tag.pk})) == [tagged.pk]
    assert ids(api.get(PEOPLE, {"tag": "Militante"})) == [tagged.pk]
    foreign = TagFactory(campaign=other_campaign, name="Ailleurs")
    for value in ("Inconnu", str(foreign.pk), "Ailleurs"):
        response = api.get(PEOPLE, {"tag": value})
        assert response.status_code == 422 and error_fields(response) == ["query.tag"]


def test_filter_by_segment_uses_the_compiler(campaign, other_campaign, api):
    member, _other = PersonFactory(campaign=campaign, is_member=True), PersonFactory(campaign=campaign)
    segment = SegmentFactory(
        campaign=campaign, document={"version": 1, "filter": {"field": "flag", "op": "is", "value": "member"}}
    )
    assert ids(api.get(PEOPLE, {"segment": segment.pk})) == [member.pk]
    foreign = SegmentFactory(campaign=other_campaign)
    response = api.get(PEOPLE, {"segment": foreign.pk})
    assert response.status_code == 422 and error_fields(response) == ["query.segment"]


def test_filter_by_source_and_dates(campaign, api):
    old = PersonFactory(campaign=campaign, source="import")
    Person.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    new = PersonFactory(campaign=campaign, source="web_form")
    assert ids(api.get(PEOPLE, {"source": "import"})) == [old.pk]
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert ids(api.get(PEOPLE, {"created_since": since})) == [new.pk]
    Person.objects.filter(pk=new.pk).update(updated_at=timezone.now() - datetime.timedelta(days=3))
    assert ids(api.get(PEOPLE, {"updated_since": since})) == [old.pk]
    response = api.get(PEOPLE, {"created_since": "yesterday"})
    assert response.status_code == 422 and error_fields(response) == ["query.created_since"]
    response = api.get(PEOPLE, {"created_since": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 422 and error_fields(response) == ["query.created_since"]


def test_sorts(campaign, api):
    zoe = PersonFactory(campaign=campaign, first_names="Zoé", usage_name="Abgrall")
    anne = PersonFactory(campaign=campaign, first_names="Anne", usage_name="Morvan")
    bruno = PersonFactory(campaign=campaign, first_names="Bruno", usage_name="", birth_name="Le Bihan")
    assert ids(api.get(PEOPLE, {"sort": "last_name"})) == [zoe.pk, bruno.pk, anne.pk]
    assert ids(api.get(PEOPLE, {"sort": "-last_name"})) == [anne.pk, bruno.pk, zoe.pk]
    assert ids(api.get(PEOPLE, {"sort": "first_name"})) == [anne.pk, bruno.pk, zoe.pk]
    assert ids(api.get(PEOPLE, {"sort": "-created_at"})) == [bruno.pk, anne.pk, zoe.pk]
    assert ids(api.get(PEOPLE)) == [zoe.pk, anne.pk, bruno.pk]  # by id without a sort
    response = api.get(PEOPLE, {"sort": "support_level"})
    assert response.status_code == 422 and error_fields(response) == ["query.sort"]


def test_pages(campaign, api):
    people = [PersonFactory(campaign=campaign) for _ in range(5)]
    body = api.get(PEOPLE, {"per_page": 2, "page": 3}).json()
    assert (body["count"], body["page"], body["per_page"], body["pages"]) == (5, 3, 2, 3)
    assert [person["id"] for person in body["results"]] == [people[4].pk]
    response = api.get(PEOPLE, {"per_page": 500})
    assert response.status_code == 422 and error_fields(response) == ["query.per_page"]


def test_a_page_costs_the_same_queries_for_2_or_6_people(campaign, api):
    tag = TagFactory(campaign=campaign)

    def person() -> None:
        someone = PersonFactory(campaign=campaign)
        PersonEmailFactory(person=someone)
        PersonPhoneFactory(person=someone)
        PostalAddressFactory(person=someone, polling_station=station_in(campaign))
        someone.tags.add(tag)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(PEOPLE).status_code == 200
        return len(captured)

    for _ in range(2):
        person()
    queries()  # the first call of a token also records its last use
    few = queries()
    for _ in range(4):
        person()
    assert queries() == few


# --- Creating -----------------------------------------------------------------------------------


def test_creating_a_person_records_provenance_consent_proof_tags_and_audit(campaign, owner, api_for):
    api = api_for(campaign, name="Site de campagne", created_by=owner)
    station_in(campaign)
    CustomFieldFactory(campaign=campaign, key="quartier")
    response = api.post(
        PEOPLE,
        {
            "first_names": "Anne",
            "usage_name": "Le Goff",
            "legal_basis": "consent",
            "email": "Anne@Example.org",
            "phone": "06 12 34 56 78",
            "address": {"number": "12", "street": "Rue de Siam", "postcode": "29200", "town": "Brest"},
            "custom": {"quartier": "Siam"},
            "tags": ["Newsletter", "  Vélo  "],
            "consents": [
                {
                    "channel": "email",
                    "granted": True,
                    "wording": "J'accepte de recevoir la lettre.",
                    "form": "Inscription lettre",
                    "ip": "192.0.2.7",
                }
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get(pk=body["id"], campaign=campaign)
    assert (person.source, person.source_detail, person.legal_basis) == ("api", "Site de campagne", "consent")
    assert person.created_by == owner and person.custom == {"quartier": "Siam"}
    assert body["emails"][0]["address"] == "anne@example.org" and body["phones"][0]["number"] == "+33612345678"
    assert body["addresses"][0]["street"] == "Rue de Siam"
    assert sorted(tag["name"] for tag in body["tags"]) == ["Newsletter", "Vélo"]
    assert body["consent"]["email"] is True and body["provenance"]["source"] == "api"
    event = ConsentEvent.objects.get(person=person)
    assert (event.channel, event.granted, event.source, event.form) == ("email", True, "api", "Inscription lettre")
    assert event.wording == "J'accepte de recevoir la lettre." and event.ip == "192.0.2.7"
    actions = set(AuditLog.objects.filter(campaign=campaign).values_list("action", flat=True))
    assert {"person.create", "consent.grant", "people.bulk_tag", "api.call"} <= actions
    assert AuditLog.objects.get(action="person.create").actor == owner


def test_a_consents_form_defaults_to_the_tokens_name(campaign, api_for):
    api = api_for(campaign, name="Outil d'adhésion")
    response = api.post(
        PEOPLE,
        {
            "first_names": "Anne",
            "legal_basis": "member",
            "consents": [{"channel": "sms", "granted": False}],  # a withdrawal needs no wording
        },
    )
    assert response.status_code == 201, response.content
    event = ConsentEvent.objects.get()
    assert (event.form, event.granted, event.ip) == ("Outil d'adhésion", False, None)


def test_a_duplicate_email_or_phone_is_a_409_naming_the_person(campaign, api):
    anne = PersonFactory(campaign=campaign)
    PersonEmailFactory(person=anne, address="anne@example.org")
    PersonPhoneFactory(person=anne, number="+33612345678")
    response = api.post(PEOPLE, {"first_names": "A", "legal_basis": "consent", "email": "ANNE@example.org"})
    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"field": "body.email", "message": f"Person #{anne.pk} already has this email address."}
    ]
    response = api.post(PEOPLE, {"first_names": "A", "legal_basis": "consent", "phone": "0612345678"})
    assert response.status_code == 409 and error_fields(response) == ["body.phone"]
    assert Person.objects.count() == 1


def test_another_campaigns_people_are_no_duplicates(campaign, other_campaign, api):
    PersonEmailFactory(person=PersonFactory(campaign=other_campaign), address="anne@example.org")
    response = api.post(PEOPLE, {"first_names": "Anne", "legal_basis": "consent", "email": "anne@example.org"})
    assert response.status_code == 201


def test_invalid_values_are_422s_naming_each_field_and_nothing_is_created(campaign, api):
    CustomFieldFactory(campaign=campaign, key="age", kind="number")
    CustomFieldFactory(campaign=campaign, key="sante", sensitive=True)
    response = api.post(
        PEOPLE,
        {
            "legal_basis": "consent",
            "email": "pas une adresse",
            "phone": "12",
            "address": {"postcode": "Brest"},
            "custom": {"age": "quarante", "sante": "asthme", "inconnu": "x"},
            "consents": [{"channel": "email", "granted": True}],
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "The request is not valid."
    assert error_fields(response) == [
        "body.first_names",
        "body.email",
        "body.phone",
        "body.address.postcode",
        "body.custom.age",
        "body.custom.sante",  # a sensitive field is not the API's to write
        "body.custom.inconnu",
        "body.consents.0.wording",
    ]
    assert not Person.objects.exists() and not AuditLog.objects.filter(action="person.create").exists()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
CUSTOM_KINDS = ("text", "number", "date", "boolean", "choice", "multiple")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.dictionaries(st.sampled_from(CUSTOM_KINDS), JSON_VALUES, max_size=3),
    name=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=210),
)
def test_whatever_custom_values_and_names_come_they_are_stored_or_refused_by_field(campaign, api, values, name):
    """No value makes a server error (PostgreSQL refuses NUL characters and NaN in
    JSON): each is stored as the field's kind wants it, or refused naming the field."""
    for kind in CUSTOM_KINDS:
        CustomField.objects.get_or_create(
            campaign=campaign, key=kind, defaults={"label": kind, "kind": kind, "choices": ["a", "b"]}
        )
    response = api.post(PEOPLE, {"first_names": name, "legal_basis": "consent", "custom": values})
    assert response.status_code in (201, 422), response.content
    if response.status_code == 422:
        assert all(field.startswith("body.") for field in error_fields(response)), response.content
    else:
        person = Person.objects.get(pk=response.json()["id"])
        assert response.json()["custom"] == person.custom and person.first_names == name


@pytest.mark.parametrize(
    "body,field",
    [
        ({"first_names": "A", "legal_basis": "consent", "support_level": 1}, "body.support_level"),
        ({"first_names": "A"}, "body.legal_basis"),
        ({"first_names": "A", "legal_basis": "opinion"}, "body.legal_basis"),
        ({"first_names": "A" * 201, "legal_basis": "consent"}, "body.first_names"),
        ({"first_names": "A\x00", "legal_basis": "consent"}, "body.first_names"),
        ({"first_names": "A", "legal_basis": "consent", "birth_date": "31/12/1980"}, "body.birth_date"),
        ({"first_names": "A", "legal_basis": "consent", "collected_at": "2999-01-01T00:00:00Z"}, "body.collected_at"),
    ],
)
def test_bodies_the_schema_refuses_name_the_field(campaign, api, body, field):
    response = api.post(PEOPLE, body)
    assert response.status_code == 422 and field in error_fields(response), response.content
    assert not Person.objects.exists()


def test_a_suppressed_address_arrives_unusable(campaign, api):
    suppression_add(campaign=campaign, channel="email", value="gone@example.org", reason="erasure", actor=None)
    response = api.post(PEOPLE, {"first_names": "A", "legal_basis": "consent", "email": "gone@example.org"})
    assert response.status_code == 201 and response.json()["emails"][0]["status"] == "suppressed"


# --- Changing -----------------------------------------------------------------------------------


def test_a_change_touches_only_the_fields_sent_and_is_audited(campaign, owner, api_for):
    api = api_for(campaign, created_by=owner)
    CustomFieldFactory(campaign=campaign, key="quartier")
    CustomFieldFactory(campaign=campaign, key="metier")
    CustomFieldFactory(campaign=campaign, key="sante", sensitive=True)
    person = PersonFactory(
        campaign=campaign,
        first_names="Anne",
        usage_name="Le Goff",
        support_level=1,
        custom={"quartier": "Siam", "metier": "Infirmière", "sante": "asthme"},
    )
    response = api.patch(
        f"{PEOPLE}/{person.pk}", {"usage_name": "Kerhervé", "is_volunteer": True, "custom": {"quartier": None}}
    )
    assert response.status_code == 200, response.content
    assert response.json()["usage_name"] == "Kerhervé" and response.json()["custom"] == {"metier": "Infirmière"}
    person.refresh_from_db()
    assert (person.first_names, person.usage_name, person.is_volunteer) == ("Anne", "Kerhervé", True)
    assert person.custom == {"metier": "Infirmière", "sante": "asthme"} and person.support_level == 1
    audit = AuditLog.objects.get(action="person.update", object_id=str(person.pk))
    assert audit.changes["usage_name"] == ["Le Goff", "Kerhervé"] and audit.actor == owner
    # The new value's provenance is the API and the token, not a manual edit.
    assert person.field_sources["usage_name"]["source"] == "api"
    assert person.field_sources["usage_name"]["detail"] == ApiToken.objects.get(campaign=campaign).name


def test_a_change_is_refused_with_the_field_named(campaign, api):
    person = PersonFactory(campaign=campaign)
    for body, field in (
        ({"support_level": 5}, "body.support_level"),
        ({"civility": "Dr"}, "body.civility"),
        ({"custom": {"inconnu": 1}}, "body.custom.inconnu"),
    ):
        response = api.patch(f"{PEOPLE}/{person.pk}", body)
        assert response.status_code == 422 and error_fields(response) == [field]
    assert not AuditLog.objects.filter(action="person.update").exists()


def test_an_empty_change_changes_nothing(campaign, api):
    person = PersonFactory(campaign=campaign)
    assert api.patch(f"{PEOPLE}/{person.pk}", {}).status_code == 200
    assert not AuditLog.objects.filter(action="person.update").exists()


def test_another_campaigns_person_cannot_be_changed(campaign, other_campaign, api):
    stranger = PersonFactory(campaign=other_campaign, first_names="Yann")
    assert api.patch(f"{PEOPLE}/{stranger.pk}", {"first_names": "Pirate"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.first_names == "Yann"


def test_tagging_and_untagging(campaign, api):
    person, tag = PersonFactory(campaign=campaign), TagFactory(campaign=campaign)
    response = api.put(f"{PEOPLE}/{person.pk}/tags/{tag.pk}", None)
    assert response.status_code == 204 and list(person.tags.all()) == [tag]
    assert api.put(f"{PEOPLE}/{person.pk}/tags/{tag.pk}", None).status_code == 204  # again: no change
    assert list(person.tags.all()) == [tag]
    assert AuditLog.objects.filter(action="people.bulk_tag", object_id=str(tag.pk)).exists()
    assert api.delete(f"{PEOPLE}/{person.pk}/tags/{tag.pk}").status_code == 204
    assert not person.tags.exists()
    assert AuditLog.objects.filter(action="people.bulk_untag", object_id=str(tag.pk)).exists()


def test_tags_and_people_of_another_campaign_are_404s(campaign, other_campaign, api):
    person, tag = PersonFactory(campaign=campaign), TagFactory(campaign=campaign)
    stranger, foreign_tag = PersonFactory(campaign=other_campaign), TagFactory(campaign=other_campaign)
    assert api.put(f"{PEOPLE}/{person.pk}/tags/{foreign_tag.pk}", None).status_code == 404
    assert api.put(f"{PEOPLE}/{stranger.pk}/tags/{tag.pk}", None).status_code == 404
    assert api.delete(f"{PEOPLE}/{stranger.pk}/tags/{tag.pk}").status_code == 404
    assert not person.tags.exists() and not stranger.tags.exists()


def test_adding_an_email_or_a_phone(campaign, api):
    person = PersonFactory(campaign=campaign)
    response = api.post(f"{PEOPLE}/{person.pk}/channels", {"kind": "email", "value": "Anne@Example.org"})
    assert response.status_code == 200 and response.json()["emails"][0]["address"] == "anne@example.org"
    response = api.post(f"{PEOPLE}/{person.pk}/channels", {"kind": "phone", "value": "06 12 34 56 78"})
    assert response.json()["phones"][0]["number"] == "+33612345678"
    assert AuditLog.objects.filter(action="person.add_email", object_id=str(person.pk)).exists()
    assert AuditLog.objects.filter(action="person.add_phone", object_id=str(person.pk)).exists()
    # Their own address again changes nothing; someone else's is a 409; nonsense a 422.
    assert api.post(f"{PEOPLE}/{person.pk}/channels", {"kind": "email", "value": "anne@example.org"}).status_code == 200
    other = PersonFactory(campaign=campaign)
    response = api.post(f"{PEOPLE}/{other.pk}/channels", {"kind": "email", "value": "anne@example.org"})
    assert response.status_code == 409 and str(person.pk) in response.json()["errors"][0]["message"]
    response = api.post(f"{PEOPLE}/{other.pk}/channels", {"kind": "phone", "value": "12"})
    assert response.status_code == 422 and error_fields(response) == ["body.value"]
    assert PersonEmail.objects.filter(person=other).count() == 0


def test_recording_a_withdrawal_and_a_consent(campaign, api_for):
    api = api_for(campaign, name="Outil lettre")
    person = PersonFactory(campaign=campaign, consent_email=True)
    response = api.post(f"{PEOPLE}/{person.pk}/consents", {"channel": "email", "granted": False})
    assert response.status_code == 201 and response.json()["granted"] is False
    person.refresh_from_db()
    assert person.consent_email is False
    event = ConsentEvent.objects.get(person=person)
    assert (event.source, event.form) == ("api", "Outil lettre")
    assert AuditLog.objects.filter(action="consent.withdraw", object_id=str(person.pk)).exists()
    response = api.post(f"{PEOPLE}/{person.pk}/consents", {"channel": "email", "granted": True})
    assert response.status_code == 422 and error_fields(response) == ["body.wording"]


# --- Scopes -------------------------------------------------------------------------------------


def test_reading_needs_people_read_and_writing_people_write(campaign, api_for):
    person = PersonFactory(campaign=campaign)
    reader = api_for(campaign, scopes=["people:read"])
    assert reader.get(f"{PEOPLE}/{person.pk}").status_code == 200
    response = reader.patch(f"{PEOPLE}/{person.pk}", {"first_names": "X"})
    assert response.status_code == 403 and "people:write" in response.json()["detail"]
    assert reader.post(PEOPLE, {"first_names": "X", "legal_basis": "consent"}).status_code == 403
    other = api_for(campaign, scopes=["segments:read"])
    assert other.get(PEOPLE).status_code == 403
    assert other.get(f"{PEOPLE}/{person.pk}").status_code == 403
