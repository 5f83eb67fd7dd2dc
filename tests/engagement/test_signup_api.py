"""The JSON signup endpoint for sites that post their own forms: OSDI's person_signup
shape, the site's key, CORS for the candidate's websites, errors that name the field,
and answers that never tell whether someone is already in the base."""

import json

import pytest
from django.urls import reverse

from suffrage.engagement import services
from suffrage.engagement.models import Submission
from suffrage.people.models import ConsentEvent, Person, Source
from tests.factories import ActionFactory, ConsentWordingFactory, PersonEmailFactory, PersonFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://www.brest2027.example"
WORDING = "J'accepte de recevoir les nouvelles de la campagne par email."


@pytest.fixture
def campaign(campaign):
    """Answers in English first: assertions read English text."""
    campaign.languages = ["en", "fr"]
    campaign.save()
    return campaign


@pytest.fixture
def site(campaign):
    site = services.site_for(campaign)
    site.allowed_origins = f"{ORIGIN}\n"
    site.save()
    return site


@pytest.fixture
def action(campaign):
    action = ActionFactory(campaign=campaign, slug="rejoindre", title="Rejoignez-nous")
    ConsentWordingFactory(action=action, channel="email", text=WORDING)
    return action


def body(**overrides):
    payload = {
        "person": {
            "given_name": "Anne",
            "family_name": "Le Gall",
            "email_addresses": [{"address": "anne@example.org"}],
            "phone_numbers": [{"number": "06 12 34 56 78"}],
            "postal_addresses": [{"address_lines": ["12 rue de Siam"], "postal_code": "29200", "locality": "Brest"}],
        },
        "add_tags": ["site web"],
        "form": "rejoindre",
        "consents": ["email"],
    }
    return {**payload, **overrides}


def post(client, campaign, payload, *, key, origin=ORIGIN, ip="198.51.100.20"):
    headers = {"OSDI-API-Token": key} if key is not None else {}
    if origin:
        headers["Origin"] = origin
    return client.post(
        reverse("engagement_public:api_signup", args=[campaign.slug]),
        json.dumps(payload) if not isinstance(payload, bytes | str) else payload,
        content_type="application/json",
        headers=headers,
        REMOTE_ADDR=ip,
    )


def test_an_osdi_person_signup_is_accepted(client, campaign, site, action):
    response = post(client, campaign, body(), key=site.api_key)

    assert response.status_code == 201
    answer = response.json()
    assert answer["given_name"] == "Anne" and answer["family_name"] == "Le Gall"
    assert answer["email_addresses"] == [{"address": "anne@example.org", "primary": True}]
    assert answer["_links"]["osdi:form"]["href"].endswith(
        reverse("engagement_public:action", args=[campaign.slug, "rejoindre"])
    )
    person = Person.objects.get(campaign=campaign)
    assert (person.source, person.source_detail) == (Source.WEB_FORM, "Rejoignez-nous")
    assert Submission.objects.get().via == "api"
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_the_fields_outside_the_form_are_not_kept(client, campaign, site, action):
    post(client, campaign, body(), key=site.api_key)  # the form asks names and email only
    person = Person.objects.get(campaign=campaign)
    assert not person.phones.exists() and not person.addresses.exists()


def test_the_form_fields_it_asks_are_kept(client, campaign, site):
    action = ActionFactory(
        campaign=campaign,
        slug="adresse",
        fields=[
            {"key": "email", "required": True},
            {"key": "phone"},
            {"key": "street"},
            {"key": "postcode"},
            {"key": "town"},
        ],
    )
    response = post(client, campaign, body(form=action.slug, consents=[]), key=site.api_key)
    assert response.status_code == 201
    assert response.json()["phone_numbers"] == [{"number": "+33612345678", "primary": True}]
    person = Person.objects.get(campaign=campaign)
    assert person.phones.get().number == "+33612345678"
    address = person.addresses.get()
    assert (address.street, address.postcode, address.town) == ("12 rue de Siam", "29200", "Brest")


def test_a_wrong_or_missing_key_is_refused(client, campaign, site, action):
    assert post(client, campaign, body(), key="not-the-key").status_code == 401
    missing = post(client, campaign, body(), key=None)
    assert missing.status_code == 401 and "OSDI-API-Token" in missing.json()["errors"]
    assert not Person.objects.exists()


def test_a_website_that_is_not_allowed_is_refused(client, campaign, site, action):
    response = post(client, campaign, body(), key=site.api_key, origin="https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not Person.objects.exists()


def test_a_server_without_an_origin_header_may_post_with_the_key(client, campaign, site, action):
    response = post(client, campaign, body(), key=site.api_key, origin=None)
    assert response.status_code == 201
    assert "Access-Control-Allow-Origin" not in response


def test_the_preflight_of_an_allowed_website_gets_the_cors_headers(client, campaign, site):
    url = reverse("engagement_public:api_signup", args=[campaign.slug])
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}

    allowed = client.options(url, headers=preflight)

    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert "OSDI-API-Token" in allowed["Access-Control-Allow-Headers"]
    refused = client.options(url, headers={**preflight, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused
    assert not any(header.startswith("Access-Control-") for header in refused.headers)


def test_validation_errors_name_the_field_and_the_reason(client, campaign, site, action):
    person = {"family_name": "Le Gall", "email_addresses": [{"address": "anne-at-example"}]}
    response = post(client, campaign, body(person=person), key=site.api_key)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "person.email_addresses[0].address" in errors
    assert "valid email address" in errors["person.email_addresses[0].address"][0]
    assert errors["person.given_name"] == ["This field is required."]
    assert not Person.objects.exists()


def test_malformed_bodies_get_a_clear_error(client, campaign, site, action):
    assert post(client, campaign, "{not json", key=site.api_key).json()["errors"]["body"]
    wrong_types = post(
        client, campaign, body(person={"given_name": 12, "email_addresses": "anne@example.org"}), key=site.api_key
    )
    assert wrong_types.status_code == 400
    assert set(wrong_types.json()["errors"]) >= {"person.given_name", "person.email_addresses"}
    no_form = post(client, campaign, body(form="nope"), key=site.api_key)
    assert no_form.json()["errors"]["form"] == ["No open form with this name."]
    missing_form = {key: value for key, value in body().items() if key != "form"}
    assert "form" in post(client, campaign, missing_form, key=site.api_key).json()["errors"]
    unknown_consent = post(client, campaign, body(consents=["sms"]), key=site.api_key)
    assert unknown_consent.status_code == 400 and "consents" in unknown_consent.json()["errors"]
    assert not Person.objects.exists()


def test_a_closed_form_takes_no_signup(client, campaign, site, action):
    action.status = "closed"
    action.save()
    response = post(client, campaign, body(), key=site.api_key)
    assert response.status_code == 400 and "form" in response.json()["errors"]
    assert not Person.objects.exists()


def test_the_answer_does_not_tell_whether_the_person_is_already_known(client, campaign, site, action):
    known = PersonFactory(campaign=campaign, first_names="Anne", usage_name="Le Gall")
    PersonEmailFactory(person=known, address="anne@example.org")

    for_known = post(client, campaign, body(), key=site.api_key)
    new_person = body()
    new_person["person"] = {**new_person["person"], "email_addresses": [{"address": "zoe@example.org"}]}
    for_unknown = post(client, campaign, new_person, key=site.api_key)

    assert for_known.status_code == for_unknown.status_code == 201
    known_answer, unknown_answer = for_known.json(), for_unknown.json()
    unknown_answer["email_addresses"][0]["address"] = "anne@example.org"
    assert known_answer == unknown_answer
    assert not {"id", "identifiers", "created_date"} & set(known_answer)
    assert Person.objects.filter(campaign=campaign).count() == 2


def test_tags_are_added_to_the_person(client, campaign, site, action):
    post(client, campaign, body(add_tags=["site web", "Brest centre"]), key=site.api_key)
    person = Person.objects.get(campaign=campaign)
    assert sorted(person.tags.values_list("name", flat=True)) == ["Brest centre", "site web"]


def test_too_many_tags_are_refused(client, campaign, site, action):
    response = post(client, campaign, body(add_tags=[f"tag {n}" for n in range(11)]), key=site.api_key)
    assert response.status_code == 400 and "add_tags" in response.json()["errors"]


def test_the_consent_is_recorded_with_the_forms_wording(client, campaign, site, action):
    post(client, campaign, body(), key=site.api_key, ip="198.51.100.20")
    proof = ConsentEvent.objects.get()
    assert (proof.channel, proof.wording, proof.form, proof.ip) == (
        "email",
        WORDING,
        "Rejoignez-nous · v1",
        "198.51.100.20",
    )
    assert Person.objects.get().consent_email is True


def test_without_consents_none_is_recorded(client, campaign, site, action):
    post(client, campaign, body(consents=[]), key=site.api_key)
    assert Person.objects.get().consent_email is None
    assert not ConsentEvent.objects.exists()
