"""The OSDI entry point's writes: the person signup helper (find by email or phone,
never by name; empty fields filled only; tags; consent only with our extension),
the record attendance helper (RSVP, check-in, cancellation), tags and taggings —
each through the people and engagement services, with their audit rows."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from suffrage.core.models import AuditLog
from suffrage.engagement.models import RSVP
from suffrage.people.models import ConsentEvent, Person, Source, Tag
from tests.api.test_osdi import AEP, HAL, OsdiClient, osdi_for
from tests.factories import CustomFieldFactory, EventFactory, PersonEmailFactory, PersonFactory, TagFactory

pytestmark = pytest.mark.django_db

SIGNUP = AEP + "people/person_signup"
WORDING = "I agree to receive the campaign's news by email."


@pytest.fixture
def osdi(api_token) -> OsdiClient:
    return OsdiClient(api_token.key)


def signup_body(email="anne@example.org", **person):
    return {
        "person": {
            "given_name": "Anne",
            "family_name": "Le Gall",
            "email_addresses": [{"address": email, "status": "subscribed"}],
            **person,
        }
    }


def problems(response) -> dict[str, str]:
    assert response.status_code == 400 and response["Content-Type"] == HAL
    return {
        description["properties"][0]: description["description"]
        for description in response.json()["error_descriptions"]
    }


# --- Person signup -------------------------------------------------------------------------------


def test_a_signup_creates_a_person_with_the_api_as_provenance(osdi, campaign, api_token):
    body = signup_body(
        phone_numbers=[{"number": 33612345678, "number_type": "Mobile"}],
        postal_addresses=[{"address_lines": ["12 rue de Siam"], "postal_code": "29200", "locality": "Brest"}],
    )
    response = osdi.post(SIGNUP, {**body, "add_tags": ["site web", "bénévoles"]})

    assert response.status_code == 201 and response["Content-Type"] == HAL
    person = Person.objects.get(campaign=campaign)
    assert (person.first_names, person.usage_name) == ("Anne", "Le Gall")
    assert (person.source, person.source_detail, person.legal_basis) == (
        Source.API,
        api_token.name,
        "legitimate_interest",
    )
    assert person.phones.get().number == "+33612345678" and person.addresses.get().town == "Brest"
    assert sorted(person.tags.values_list("name", flat=True)) == ["bénévoles", "site web"]
    answer = response.json()
    assert answer["identifiers"] == [f"suffrage:{person.pk}"]
    assert answer["email_addresses"][0]["address"] == "anne@example.org"
    assert answer["_links"]["self"]["href"] == f"http://testserver/api/osdi/v1/people/{person.pk}"
    assert AuditLog.objects.filter(action="person.create", object_id=str(person.pk)).exists()
    assert AuditLog.objects.filter(action="people.bulk_tag", campaign=campaign).count() == 2


def test_a_second_signup_finds_the_person_by_email_and_fills_empty_fields_only(osdi, campaign):
    osdi.post(SIGNUP, signup_body(email="anne@example.org"))
    again = signup_body(
        email="Anne@Example.org",
        given_name="Annette",
        phone_numbers=[{"number": "06 12 34 56 78"}],
        custom_fields={"quartier": "Siam"},
    )
    CustomFieldFactory(campaign=campaign, key="quartier")

    response = osdi.post(SIGNUP, {**again, "add_tags": ["relance"]})

    assert response.status_code == 200
    person = Person.objects.get(campaign=campaign)
    assert person.first_names == "Anne"  # already known: not overwritten
    assert person.phones.get().number == "+33612345678" and person.custom == {"quartier": "Siam"}
    assert list(person.tags.values_list("name", flat=True)) == ["relance"]
    assert response.json()["identifiers"] == [f"suffrage:{person.pk}"]


def test_a_signup_finds_the_person_by_phone_when_there_is_no_email(osdi, campaign):
    known = PersonFactory(campaign=campaign, first_names="")
    known.phones.create(campaign=campaign, number="+33612345678")
    response = osdi.post(
        AEP + "people", {"person": {"given_name": "Paul", "phone_numbers": [{"number": "+33 6 12 34 56 78"}]}}
    )
    assert response.status_code == 200
    known.refresh_from_db()
    assert known.first_names == "Paul" and Person.objects.count() == 1


def test_a_signup_never_matches_by_name(osdi, campaign):
    PersonEmailFactory(person__campaign=campaign, person__first_names="Anne", person__usage_name="Le Gall")
    response = osdi.post(SIGNUP, signup_body(email="another.anne@example.org"))
    assert response.status_code == 201
    assert Person.objects.filter(campaign=campaign, first_names="Anne", usage_name="Le Gall").count() == 2


def test_an_osdi_subscribed_status_is_not_a_consent(osdi, campaign):
    osdi.post(SIGNUP, signup_body())
    person = Person.objects.get()
    assert not ConsentEvent.objects.exists() and person.consent_email is None


def test_consent_is_recorded_from_our_extension_with_its_proof(osdi, campaign, api_token):
    body = {
        **signup_body(),
        "suffrage:consents": [
            {"channel": "email", "wording": WORDING, "form": "Newsletter box, example.org", "ip": "203.0.113.7"},
            {"channel": "sms", "granted": False},
        ],
    }
    response = osdi.post(SIGNUP, body)

    assert response.status_code == 201
    person = Person.objects.get()
    assert person.legal_basis == "consent" and person.consent_email is True and person.consent_sms is False
    event = ConsentEvent.objects.get(channel="email")
    assert (event.source, event.wording, event.form, event.ip) == (
        Source.API,
        WORDING,
        "Newsletter box, example.org",
        "203.0.113.7",
    )
    assert event.recorded_by == api_token.created_by
    assert response.json()["email_addresses"][0]["status"] == "subscribed"


@pytest.mark.parametrize(
    "extra,prop",
    [
        ({"suffrage:consents": [{"channel": "email"}]}, "suffrage:consents[0].wording"),
        ({"suffrage:consents": [{"channel": "fax", "wording": WORDING}]}, "suffrage:consents[0].channel"),
        ({"suffrage:consents": [{"channel": "email", "wording": WORDING, "ip": "x"}]}, "suffrage:consents[0].ip"),
        ({"suffrage:consents": "email"}, "suffrage:consents"),
        ({"consents": ["email"]}, "consents"),
        ({"add_tags": "bénévoles"}, "add_tags"),
    ],
)
def test_a_bad_consent_or_tag_is_refused_and_nothing_is_written(osdi, campaign, extra, prop):
    response = osdi.post(SIGNUP, {**signup_body(), **extra})
    assert prop in problems(response)
    assert not Person.objects.exists() and not Tag.objects.exists()


@pytest.mark.parametrize(
    "person,prop",
    [
        ({"email_addresses": [{"address": "not-an-email"}]}, "person.email_addresses[0].address"),
        ({"phone_numbers": [{"number": "12"}]}, "person.phone_numbers[0].number"),
        ({"given_name": 12, "email_addresses": [{"address": "a@example.org"}]}, "person.given_name"),
        ({"given_name": "Anne"}, "person"),  # neither an email nor a phone: nobody to find or reach
        (
            {"email_addresses": [{"address": "a@example.org"}], "custom_fields": {"nope": "1"}},
            "person.custom_fields.nope",
        ),
    ],
)
def test_a_bad_person_is_a_400_naming_the_property(osdi, campaign, person, prop):
    response = osdi.post(SIGNUP, {"person": person})
    assert prop in problems(response)
    assert not Person.objects.exists()


def test_a_sensitive_custom_field_cannot_be_set_from_outside(osdi, campaign):
    CustomFieldFactory(campaign=campaign, key="opinion", sensitive=True)
    response = osdi.post(SIGNUP, signup_body(custom_fields={"opinion": "pour"}))
    assert "person.custom_fields.opinion" in problems(response)


def test_a_body_that_is_not_json_or_too_large_is_refused(osdi):
    response = osdi.client.post(SIGNUP, "{not json", content_type="application/json")
    assert "body" in problems(response)
    huge = osdi.post(SIGNUP, {**signup_body(), "padding": "x" * 70_000})
    assert huge.status_code == 413 and huge.json()["error_descriptions"][0]["error_code"] == "TOO_LARGE"


def test_a_token_that_cannot_read_people_learns_only_where_the_record_is(campaign):
    client = osdi_for(campaign, scopes=["engagement:write"])
    response = client.post(SIGNUP, signup_body())
    assert response.status_code == 201
    person = Person.objects.get()
    assert response.json() == {
        "identifiers": [f"suffrage:{person.pk}"],
        "_links": {"self": {"href": f"http://testserver/api/osdi/v1/people/{person.pk}"}},
    }


# --- Record attendance ---------------------------------------------------------------------------


def attend(osdi, event, **fields):
    body = {**signup_body(), **fields}
    return osdi.post(AEP + f"events/{event.pk}/record_attendance_helper", body)


def test_recording_an_attendance_makes_an_rsvp_through_the_engagement_service(osdi, campaign):
    event = EventFactory(campaign=campaign)
    response = attend(osdi, event)

    assert response.status_code == 201 and response["Content-Type"] == HAL
    rsvp = RSVP.objects.get(event=event)
    assert (rsvp.status, rsvp.via, rsvp.person.source) == ("going", "api", Source.EVENT)
    body = response.json()
    assert body["status"] == "accepted" and body["attended"] is False
    assert body["_links"]["self"]["href"].endswith(f"/events/{event.pk}/attendances/{rsvp.pk}")
    assert AuditLog.objects.filter(action="engagement.rsvp", object_id=str(rsvp.person_id)).exists()

    again = attend(osdi, event)
    assert again.status_code == 200 and RSVP.objects.count() == 1


def test_action_network_posts_attendances_to_the_collection(osdi, campaign):
    event = EventFactory(campaign=campaign)
    response = osdi.post(AEP + f"events/{event.pk}/attendances", signup_body())
    assert response.status_code == 201 and RSVP.objects.get().event == event
    also = osdi.post(AEP + f"events/{event.pk}/attendances/record_attendance_helper", signup_body("b@example.org"))
    assert also.status_code == 201 and RSVP.objects.count() == 2


def test_an_attended_person_is_checked_in_even_after_the_event(osdi, campaign, api_token):
    past = EventFactory(
        campaign=campaign,
        starts_at=timezone.now() - datetime.timedelta(days=1),
        ends_at=timezone.now() - datetime.timedelta(hours=20),
    )
    response = attend(osdi, past, attended=True)

    assert response.status_code == 201 and response.json()["attended"] is True
    rsvp = RSVP.objects.get(event=past)
    assert rsvp.checked_in_at is not None and rsvp.checked_in_by == api_token.created_by
    assert AuditLog.objects.filter(action="engagement.check_in").exists()


def test_a_declined_attendance_cancels_the_rsvp(osdi, campaign):
    event = EventFactory(campaign=campaign)
    attend(osdi, event)
    response = attend(osdi, event, status="declined")
    assert response.status_code == 200 and response.json()["status"] == "declined"
    assert RSVP.objects.get().status == "cancelled"


def test_declining_without_an_rsvp_is_a_400(osdi, campaign):
    event = EventFactory(campaign=campaign)
    assert "person" in problems(attend(osdi, event, status="declined"))
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "fields,prop",
    [
        ({"status": "maybe"}, "status"),
        ({"attended": "yes"}, "attended"),
        ({"status": "declined", "attended": True}, "attended"),
    ],
)
def test_a_bad_attendance_is_a_400_naming_the_property(osdi, campaign, fields, prop):
    event = EventFactory(campaign=campaign)
    assert prop in problems(attend(osdi, event, **fields))
    assert not RSVP.objects.exists()


def test_a_full_or_closed_event_refuses_the_rsvp_and_writes_nothing(osdi, campaign):
    full = EventFactory(campaign=campaign, capacity=1, waitlist=False)
    attend(osdi, full, **signup_body("first@example.org"))
    assert "status" in problems(attend(osdi, full, **signup_body("second@example.org")))
    closed = EventFactory(campaign=campaign, status="closed")
    assert "status" in problems(attend(osdi, closed))
    cancelled = EventFactory(campaign=campaign, status="cancelled")
    assert "attended" in problems(attend(osdi, cancelled, attended=True))
    assert not Person.objects.filter(emails__address__in=["second@example.org", "anne@example.org"]).exists()


def test_an_attendance_can_carry_tags_and_a_consent(osdi, campaign):
    event = EventFactory(campaign=campaign, title="Réunion")
    attend(osdi, event, add_tags=["réunion"], **{"suffrage:consents": [{"channel": "email", "wording": WORDING}]})
    person = RSVP.objects.get().person
    assert list(person.tags.values_list("name", flat=True)) == ["réunion"]
    assert ConsentEvent.objects.get(person=person).form.startswith("Réunion")


# --- Tags and taggings ---------------------------------------------------------------------------


def test_a_tag_is_created_once(osdi, campaign):
    first = osdi.post(AEP + "tags", {"name": " bénévoles "})
    second = osdi.post(AEP + "tags", {"name": "bénévoles"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["identifiers"] == second.json()["identifiers"]
    assert Tag.objects.get(campaign=campaign).name == "bénévoles"
    assert "name" in problems(osdi.post(AEP + "tags", {"name": ""}))


def test_tagging_and_untagging_a_person_through_the_people_service(osdi, campaign):
    tag = TagFactory(campaign=campaign)
    person = PersonFactory(campaign=campaign)
    href = osdi.get(AEP + f"people/{person.pk}").json()["_links"]["self"]["href"]
    body = {"item_type": "osdi:person", "_links": {"osdi:person": {"href": href}}}

    created = osdi.post(AEP + f"tags/{tag.pk}/taggings", body)
    repeated = osdi.post(AEP + f"tags/{tag.pk}/taggings", body)

    assert (created.status_code, repeated.status_code) == (201, 200)
    assert list(person.tags.all()) == [tag]
    assert AuditLog.objects.filter(action="people.bulk_tag", object_id=str(tag.pk)).count() == 2
    tagging_href = created.json()["_links"]["self"]["href"]
    assert osdi.get(tagging_href).json() == created.json()

    deleted = osdi.delete(tagging_href)
    assert deleted.status_code == 200 and deleted.json()["notice"]
    assert not person.tags.exists() and osdi.get(tagging_href).status_code == 404
    assert AuditLog.objects.filter(action="people.bulk_untag", object_id=str(tag.pk)).exists()


def test_a_tagging_must_link_to_one_of_the_campaigns_people(osdi, campaign, other_campaign):
    tag = TagFactory(campaign=campaign)
    stranger = PersonFactory(campaign=other_campaign)
    for href in (f"http://testserver/api/osdi/v1/people/{stranger.pk}", "http://elsewhere/people/x", None):
        body = {"_links": {"osdi:person": {"href": href}}}
        assert "_links.osdi:person.href" in problems(osdi.post(AEP + f"tags/{tag.pk}/taggings", body))
    assert not stranger.tags.exists()
