"""The OSDI entry point, read as an Action Network client reads it: the entry point's
links, collections walked by following `next`, filters, each resource's shape, HAL
content types and OSDI error bodies, campaign isolation, scopes and tokens."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from suffrage.core.models import AuditLog
from suffrage.people.models import Person, PersonEmail
from tests.factories import (
    ActionFactory,
    ApiTokenFactory,
    CustomFieldFactory,
    EventFactory,
    PersonEmailFactory,
    PersonFactory,
    PersonPhoneFactory,
    PostalAddressFactory,
    RSVPFactory,
    SegmentFactory,
    SnapshotFactory,
    SnapshotMemberFactory,
    SubmissionFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

AEP = "/api/osdi/v1/"
HAL = "application/hal+json"


class OsdiClient:
    """What an Action Network client does: the key in `OSDI-API-Token`, absolute
    addresses taken from `_links`, HAL+JSON back."""

    def __init__(self, key: str | None) -> None:
        headers = {"HTTP_OSDI_API_TOKEN": key} if key else {}
        self.client = Client(HTTP_ACCEPT_LANGUAGE="en", **headers)

    @staticmethod
    def _path(href: str) -> str:
        parts = urlsplit(href)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path

    def get(self, href: str, params: dict[str, object] | None = None):
        return self.client.get(self._path(href), params or {})

    def post(self, href: str, body: object):
        return self.client.post(self._path(href), body, content_type="application/json")

    def delete(self, href: str):
        return self.client.delete(self._path(href))

    def walk(self, href: str) -> list[dict]:
        """Every item of a collection, page after page, following `next` only."""
        seen, pages = [], 0
        while href:
            response = self.get(href)
            assert response.status_code == 200 and response["Content-Type"] == HAL
            body = response.json()
            rel = next(iter(body["_embedded"]))
            seen += body["_embedded"][rel]
            href = body["_links"].get("next", {}).get("href")
            pages += 1
            assert pages < 50
        return seen


@pytest.fixture
def osdi(api_token) -> OsdiClient:
    return OsdiClient(api_token.key)


def osdi_for(campaign, scopes=None) -> OsdiClient:
    kwargs = {"campaign": campaign} if scopes is None else {"campaign": campaign, "scopes": scopes}
    return OsdiClient(ApiTokenFactory(**kwargs).key)


def ids(items: list[dict]) -> list[int]:
    return [int(item["identifiers"][0].removeprefix("suffrage:")) for item in items]


# --- The entry point ---------------------------------------------------------------------------


def test_the_entry_point_describes_the_system_and_links_every_resource(osdi, campaign):
    response = osdi.get(AEP)
    assert response.status_code == 200 and response["Content-Type"] == HAL
    body = response.json()
    assert body["vendor_name"] == "Suffrage" and body["osdi_version"] == "1.0"
    assert body["product_name"] and body["motd"] and campaign.name in body["motd"]
    assert body["max_pagesize"] == 100 and body["namespace"] == "suffrage"
    links = body["_links"]
    assert links["self"]["href"] == "http://testserver/api/osdi/v1/"
    for rel, path in {
        "osdi:people": "people",
        "osdi:tags": "tags",
        "osdi:lists": "lists",
        "osdi:events": "events",
        "osdi:forms": "forms",
        "osdi:petitions": "petitions",
        "osdi:person_signup_helper": "people/person_signup",
    }.items():
        assert links[rel]["href"] == f"http://testserver/api/osdi/v1/{path}"
        assert osdi.get(links[rel]["href"]).status_code in (200, 405)  # the helper takes POST only
    assert links["curies"][0]["name"] == "osdi" and links["curies"][0]["templated"] is True


def test_the_rest_root_advertises_this_entry_point(api, osdi):
    assert api.get("/api/v1/").json()["osdi"] == osdi.get(AEP).json()["_links"]["self"]["href"]


def test_the_bearer_header_is_accepted_too(api_token):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token.key}")
    assert client.get(AEP).status_code == 200


# --- People: walking, shape, filters -------------------------------------------------------------


def test_a_client_walks_every_person_by_following_next_links(osdi, campaign, other_campaign):
    mine = [PersonFactory(campaign=campaign) for _ in range(5)]
    PersonFactory.create_batch(3, campaign=other_campaign)
    first = osdi.get(AEP).json()["_links"]["osdi:people"]["href"] + "?per_page=2"
    page_one = osdi.get(first).json()
    assert (page_one["total_records"], page_one["total_pages"], page_one["per_page"]) == (5, 3, 2)
    assert "prev" not in page_one["_links"] and page_one["page"] == 1
    assert [link["href"] for link in page_one["_links"]["osdi:people"]] == [
        person["_links"]["self"]["href"] for person in page_one["_embedded"]["osdi:people"]
    ]

    walked = osdi.walk(first)

    assert sorted(ids(walked)) == sorted(person.pk for person in mine)
    last = osdi.get(first.replace("per_page=2", "per_page=2&page=3")).json()
    assert "next" not in last["_links"] and "page=2" in last["_links"]["prev"]["href"]


def test_a_page_past_the_end_is_empty(osdi, campaign):
    PersonFactory(campaign=campaign)
    body = osdi.get(AEP + "people", {"page": 4}).json()
    assert body["_embedded"]["osdi:people"] == [] and body["total_records"] == 1


@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "x"}, {"per_page": "101"}, {"per_page": "-1"}])
def test_bad_paging_is_a_400_naming_the_parameter(osdi, params):
    response = osdi.get(AEP + "people", params)
    assert response.status_code == 400 and response["Content-Type"] == HAL
    body = response.json()
    assert body["request_type"] == "atomic" and body["response_code"] == 400
    assert body["error_descriptions"][0]["properties"] == list(params)


def test_a_person_reads_as_osdi_without_the_support_level_or_sensitive_fields(osdi, campaign):
    CustomFieldFactory(campaign=campaign, key="quartier")
    CustomFieldFactory(campaign=campaign, key="opinion", sensitive=True)
    person = PersonFactory(
        campaign=campaign,
        first_names="Anne",
        usage_name="Le Gall",
        support_level=1,
        consent_email=True,
        custom={"quartier": "Siam", "opinion": "secret", "gone": "old field"},
    )
    PersonEmailFactory(person=person, address="anne@example.org", is_primary=True)
    PersonPhoneFactory(person=person, number="+33612345678")
    PostalAddressFactory(person=person, number="12", street="rue de Siam", postcode="29200", town="Brest")

    body = osdi.get(AEP + f"people/{person.pk}").json()

    assert body["identifiers"] == [f"suffrage:{person.pk}"]
    assert body["given_name"] == "Anne" and body["family_name"] == "Le Gall"
    assert body["created_date"].endswith("Z") and body["modified_date"].endswith("Z")
    assert body["email_addresses"] == [{"address": "anne@example.org", "primary": True, "status": "subscribed"}]
    phone = body["phone_numbers"][0]
    assert (phone["number"], phone["number_type"], phone["sms_capable"]) == ("33612345678", "Mobile", True)
    address = body["postal_addresses"][0]
    assert address["address_lines"] == ["12 rue de Siam"]
    assert (address["postal_code"], address["locality"], address["country"]) == ("29200", "Brest", "FR")
    assert body["custom_fields"] == {"quartier": "Siam"}
    assert "support" not in str(body) and "secret" not in str(body)
    for rel in ("self", "osdi:taggings", "osdi:attendances", "osdi:submissions", "osdi:signatures"):
        assert osdi.get(body["_links"][rel]["href"]).status_code == 200


@pytest.mark.parametrize(
    "email_status,consent,expected",
    [
        ("ok", True, "subscribed"),
        ("ok", False, "unsubscribed"),
        ("ok", None, "unsubscribed"),  # legitimate interest: no email without consent
        ("bounced", True, "bouncing"),
        ("complained", True, "spam complaint"),
        ("suppressed", True, "unsubscribed"),
    ],
)
def test_an_email_status_says_whether_the_campaign_may_write(osdi, campaign, email_status, consent, expected):
    person = PersonFactory(campaign=campaign, legal_basis="legitimate_interest", consent_email=consent)
    PersonEmailFactory(person=person, status=email_status)
    body = osdi.get(AEP + f"people/{person.pk}").json()
    assert body["email_addresses"][0]["status"] == expected


def test_people_are_filtered_by_modification_date(osdi, campaign):
    old, recent = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    Person.objects.filter(pk=old.pk).update(updated_at=timezone.now() - datetime.timedelta(days=10))
    since = (timezone.now() - datetime.timedelta(days=2)).date().isoformat()

    newer = osdi.get(AEP + "people", {"filter": f"modified_date gt '{since}'"}).json()
    older = osdi.get(AEP + "people", {"filter": f"modified_date lt '{since}T00:00:00Z'"}).json()

    assert ids(newer["_embedded"]["osdi:people"]) == [recent.pk]
    assert ids(older["_embedded"]["osdi:people"]) == [old.pk]
    assert f"filter=modified_date+gt+%27{since}%27" in newer["_links"]["self"]["href"]


def test_people_are_found_by_email_or_phone_once_each(osdi, campaign, other_campaign):
    anne = PersonFactory(campaign=campaign)
    PersonEmailFactory(person=anne, address="anne@example.org")
    PersonEmailFactory(person=anne, address="anne.work@example.org")
    PersonPhoneFactory(person=anne, number="+33612345678")
    PersonEmailFactory(person__campaign=other_campaign, address="anne@example.org")
    PersonFactory(campaign=campaign)

    by_email = osdi.get(AEP + "people", {"filter": "email_address eq 'Anne@Example.org'"}).json()
    by_phone = osdi.get(AEP + "people", {"filter": "phone_number eq '33612345678'"}).json()
    both = osdi.get(
        AEP + "people", {"filter": "email_address eq 'anne@example.org' and created_date gt '2000-01-01'"}
    ).json()

    assert ids(by_email["_embedded"]["osdi:people"]) == [anne.pk] and by_email["total_records"] == 1
    assert ids(by_phone["_embedded"]["osdi:people"]) == [anne.pk]
    assert ids(both["_embedded"]["osdi:people"]) == [anne.pk]


@pytest.mark.parametrize(
    "text,reason",
    [
        ("family_name eq 'Le Gall'", "Cannot filter on “family_name”"),
        ("email_address gt 'a@b.fr'", "accepts: eq"),
        ("modified_date gt 'yesterday'", "Expected a date"),
        ("modified_date > 2025-01-01", "Write each condition as"),
        ("email_address eq 'not an email'", "email_address"),
    ],
)
def test_a_filter_we_do_not_take_is_a_400_that_says_why(osdi, text, reason):
    response = osdi.get(AEP + "people", {"filter": text})
    assert response.status_code == 400
    description = response.json()["error_descriptions"][0]
    assert description["properties"] == ["filter"] and reason in description["description"]


def test_erased_people_never_appear(osdi, campaign, owner):
    from suffrage.privacy.erasure import person_erase

    kept, erased = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    erased_id = erased.pk
    person_erase(person=erased, actor=owner)
    assert ids(osdi.walk(AEP + "people")) == [kept.pk]
    assert osdi.get(AEP + f"people/{erased_id}").status_code == 404


# --- Tags, lists ---------------------------------------------------------------------------------


def test_tags_and_their_taggings_link_to_the_people(osdi, campaign):
    tag = TagFactory(campaign=campaign, name="bénévoles")
    anne, paul = PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    anne.tags.add(tag)
    paul.tags.add(tag)

    tags = osdi.walk(AEP + "tags")
    assert [item["name"] for item in tags] == ["bénévoles"]
    taggings = osdi.walk(tags[0]["_links"]["osdi:taggings"]["href"])
    people = {item["_links"]["osdi:person"]["href"] for item in taggings}
    assert people == {f"http://testserver/api/osdi/v1/people/{pk}" for pk in (anne.pk, paul.pk)}
    assert all(item["item_type"] == "osdi:person" for item in taggings)
    one = osdi.get(taggings[0]["_links"]["self"]["href"]).json()
    assert one["_links"]["osdi:tag"]["href"].endswith(f"/tags/{tag.pk}")
    anne_taggings = osdi.walk(AEP + f"people/{anne.pk}/taggings")
    assert [item["_links"]["osdi:tag"]["href"] for item in anne_taggings] == [one["_links"]["osdi:tag"]["href"]]


def _static_list(campaign, people, name="Porte-à-porte"):
    snapshot = SnapshotFactory(campaign=campaign)
    for person in people:
        SnapshotMemberFactory(snapshot=snapshot, person=person)
    return SegmentFactory(campaign=campaign, kind="static", snapshot=snapshot, name=name)


def test_static_lists_and_their_items(osdi, campaign):
    people = [PersonFactory(campaign=campaign) for _ in range(3)]
    static = _static_list(campaign, people)
    SegmentFactory(campaign=campaign, name="Dynamique")  # a live filter: not an OSDI list

    lists = osdi.walk(AEP + "lists")
    assert [item["name"] for item in lists] == ["Porte-à-porte"] and lists[0]["total_items"] == 3
    items = osdi.walk(lists[0]["_links"]["osdi:items"]["href"] + "?per_page=2")
    assert sorted(int(item["_links"]["osdi:person"]["href"].rsplit("/", 1)[1]) for item in items) == sorted(
        person.pk for person in people
    )
    assert items[0]["created_date"] and items[0]["item_type"] == "osdi:person"
    one = osdi.get(items[0]["_links"]["self"]["href"]).json()
    assert one["_links"]["osdi:list"]["href"].endswith(f"/lists/{static.pk}")


# --- Events, forms, petitions --------------------------------------------------------------------


def test_events_and_their_attendances(osdi, campaign):
    event = EventFactory(campaign=campaign, title="Réunion", capacity=50, description="**Venez**")
    going = RSVPFactory(event=event, status="going", checked_in_at=timezone.now())
    RSVPFactory(event=event, status="waitlist")
    RSVPFactory(event=event, status="cancelled")
    EventFactory(campaign=campaign, status="draft")

    events = osdi.walk(AEP + "events")
    assert len(events) == 2
    shown = next(item for item in events if item["title"] == "Réunion")
    assert shown["status"] == "confirmed" and shown["total_accepted"] == 1 and shown["capacity"] == 50
    assert shown["description"] == "<p><strong>Venez</strong></p>\n"
    assert shown["start_date"].endswith("Z") and shown["location"]["venue"] == "Salle Jean Moulin"
    assert shown["browser_url"].endswith(f"/e/{campaign.slug}/events/{event.slug}/")
    assert shown["_links"]["osdi:record_attendance_helper"]["href"].endswith(
        f"/events/{event.pk}/record_attendance_helper"
    )
    draft = next(item for item in events if item["title"] != "Réunion")
    assert draft["status"] == "tentative" and "browser_url" not in draft

    attendances = osdi.walk(shown["_links"]["osdi:attendances"]["href"])
    assert sorted(item["status"] for item in attendances) == ["accepted", "declined", "tentative"]
    mine = next(item for item in attendances if item["status"] == "accepted")
    assert mine["attended"] is True
    assert mine["_links"]["osdi:person"]["href"].endswith(f"/people/{going.person_id}")
    assert osdi.get(mine["_links"]["self"]["href"]).json() == mine
    person_attendances = osdi.walk(AEP + f"people/{going.person_id}/attendances")
    assert ids(person_attendances) == [going.pk]


def test_forms_and_petitions_with_their_confirmed_answers(osdi, campaign):
    form = ActionFactory(campaign=campaign, kind="signup", title="Rejoignez-nous")
    petition = ActionFactory(campaign=campaign, kind="petition", title="Sauvons la gare", target="Le maire")
    confirmed = SubmissionFactory(action=form)
    SubmissionFactory(action=form, status="pending", confirmed_at=None)
    signature = SubmissionFactory(action=petition, answers={"message": "Indispensable"})

    forms = osdi.walk(AEP + "forms")
    assert [item["title"] for item in forms] == ["Rejoignez-nous"] and forms[0]["total_submissions"] == 1
    assert forms[0]["browser_url"].endswith(f"/e/{campaign.slug}/f/{form.slug}/")
    submissions = osdi.walk(forms[0]["_links"]["osdi:submissions"]["href"])
    assert ids(submissions) == [confirmed.pk]
    assert submissions[0]["_links"]["osdi:form"]["href"].endswith(f"/forms/{form.pk}")
    assert submissions[0]["_links"]["osdi:person"]["href"].endswith(f"/people/{confirmed.person_id}")

    petitions = osdi.walk(AEP + "petitions")
    assert [item["title"] for item in petitions] == ["Sauvons la gare"]
    assert petitions[0]["target"] == [{"name": "Le maire"}] and petitions[0]["total_signatures"] == 1
    signatures = osdi.walk(petitions[0]["_links"]["osdi:signatures"]["href"])
    assert ids(signatures) == [signature.pk] and signatures[0]["comments"] == "Indispensable"
    assert osdi.get(AEP + f"forms/{petition.pk}").status_code == 404  # a petition is not a form
    assert ids(osdi.walk(AEP + f"people/{signature.person_id}/signatures")) == [signature.pk]
    assert ids(osdi.walk(AEP + f"people/{confirmed.person_id}/submissions")) == [confirmed.pk]


# --- Isolation, scopes, tokens, errors -----------------------------------------------------------


def _foreign_objects(other_campaign):
    person = PersonFactory(campaign=other_campaign)
    tag = TagFactory(campaign=other_campaign)
    person.tags.add(tag)
    tagging = Person.tags.through.objects.get(person=person, tag=tag)
    static = _static_list(other_campaign, [person])
    item = static.snapshot.members.get()
    rsvp = RSVPFactory(event__campaign=other_campaign, person=person)
    submission = SubmissionFactory(action__campaign=other_campaign, person=person)
    signature = SubmissionFactory(action__campaign=other_campaign, action__kind="petition", person=person)
    return [
        f"people/{person.pk}",
        f"people/{person.pk}/taggings",
        f"people/{person.pk}/attendances",
        f"people/{person.pk}/submissions",
        f"people/{person.pk}/signatures",
        f"tags/{tag.pk}",
        f"tags/{tag.pk}/taggings",
        f"tags/{tag.pk}/taggings/{tagging.pk}",
        f"lists/{static.pk}",
        f"lists/{static.pk}/items",
        f"lists/{static.pk}/items/{item.pk}",
        f"events/{rsvp.event_id}",
        f"events/{rsvp.event_id}/attendances",
        f"events/{rsvp.event_id}/attendances/{rsvp.pk}",
        f"forms/{submission.action_id}",
        f"forms/{submission.action_id}/submissions",
        f"forms/{submission.action_id}/submissions/{submission.pk}",
        f"petitions/{signature.action_id}",
        f"petitions/{signature.action_id}/signatures",
        f"petitions/{signature.action_id}/signatures/{signature.pk}",
    ]


def test_another_campaigns_ids_are_404_and_its_records_never_listed(osdi, campaign, other_campaign):
    for path in _foreign_objects(other_campaign):
        response = osdi.get(AEP + path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == HAL and response.json()["response_code"] == 404
    for collection in ("people", "tags", "lists", "events", "forms", "petitions"):
        assert osdi.walk(AEP + collection) == [], collection


def test_another_campaigns_ids_cannot_be_written(osdi, campaign, other_campaign):
    person = PersonFactory(campaign=other_campaign)
    tag = TagFactory(campaign=other_campaign)
    person.tags.add(tag)
    tagging = Person.tags.through.objects.get()
    event = EventFactory(campaign=other_campaign)
    body = {"person": {"email_addresses": [{"address": "x@example.org"}]}}

    assert osdi.delete(AEP + f"tags/{tag.pk}/taggings/{tagging.pk}").status_code == 404
    assert osdi.post(AEP + f"tags/{tag.pk}/taggings", {}).status_code == 404
    assert osdi.post(AEP + f"events/{event.pk}/record_attendance_helper", body).status_code == 404
    assert osdi.post(AEP + f"events/{event.pk}/attendances", body).status_code == 404
    assert person.tags.exists() and not PersonEmail.objects.filter(address="x@example.org").exists()


@pytest.mark.parametrize(
    "method,path,needed",
    [
        ("get", "people", "people:read"),
        ("get", "tags", "people:read"),
        ("post", "tags", "people:write"),
        ("get", "lists", "segments:read"),
        ("get", "events", "engagement:read"),
        ("get", "forms", "engagement:read"),
        ("get", "petitions", "engagement:read"),
        ("post", "people/person_signup", "engagement:write"),
        ("post", "people", "engagement:write"),
    ],
)
def test_a_token_without_the_scope_gets_403(campaign, method, path, needed):
    from suffrage.api.scopes import Scope

    others = [scope for scope in Scope.values if scope != needed]
    client = osdi_for(campaign, scopes=others)
    response = client.get(AEP + path) if method == "get" else client.post(AEP + path, {})
    assert response.status_code == 403 and response["Content-Type"] == HAL
    assert needed in response.json()["error"]
    assert osdi_for(campaign, scopes=[needed]).get(AEP).status_code == 200


def test_the_write_helpers_need_their_scope_before_anything_else(campaign):
    event = EventFactory(campaign=campaign)
    client = osdi_for(campaign, scopes=["engagement:read", "people:write"])
    response = client.post(AEP + f"events/{event.pk}/record_attendance_helper", {"person": {}})
    assert response.status_code == 403 and not event.rsvps.exists()


@pytest.mark.parametrize("key", [None, "sfg_nope_nope"])
def test_no_token_or_a_wrong_one_is_a_401(db, key):
    response = OsdiClient(key).get(AEP + "people")
    assert response.status_code == 401 and response["Content-Type"] == HAL
    body = response.json()
    assert body["response_code"] == 401 and body["error"]
    assert body["error_descriptions"][0]["error_code"] == "UNAUTHORIZED"


def test_a_method_an_address_does_not_take_is_a_405(osdi):
    response = osdi.delete(AEP + "people")
    assert response.status_code == 405 and response["Allow"] == "GET, POST"


def test_the_rate_limit_answers_429_with_retry_after(settings, osdi):
    settings.API_RATE_LIMIT = 2
    statuses = [osdi.get(AEP).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = osdi.get(AEP)
    assert 1 <= int(response["Retry-After"]) <= 60 and response.json()["error_descriptions"][0]["error_code"] == (
        "TOO_MANY_REQUESTS"
    )


def test_reading_people_is_audited(osdi, campaign, api_token):
    PersonFactory(campaign=campaign)
    osdi.get(AEP + "people")
    row = AuditLog.objects.get(action="api.call", campaign=campaign)
    assert row.changes["scope"] == "people:read" and row.changes["path"] == "/api/osdi/v1/people"


def test_addresses_answer_with_and_without_the_final_slash(osdi, campaign):
    person = PersonFactory(campaign=campaign)
    assert osdi.get(AEP + "people/").status_code == 200
    assert osdi.get(AEP + f"people/{person.pk}/").json()["identifiers"] == [f"suffrage:{person.pk}"]


@pytest.mark.parametrize("collection", ["people", "events", "forms", "lists", "tags"])
def test_a_page_costs_the_same_queries_whatever_its_size(osdi, campaign, collection):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def make(count):
        for _ in range(count):
            person = PersonFactory(campaign=campaign)
            PersonEmailFactory(person=person)
            PersonPhoneFactory(person=person)
            PostalAddressFactory(person=person)
            person.tags.add(TagFactory(campaign=campaign))
            SubmissionFactory(action=ActionFactory(campaign=campaign), person=person)
            RSVPFactory(event=EventFactory(campaign=campaign), person=person)
            _static_list(campaign, [person], name=f"Liste {person.pk}")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert osdi.get(AEP + collection).status_code == 200
        return len(captured)

    osdi.get(AEP)  # the token's first use of the minute records its last use: one write more
    make(1)
    few = queries()
    make(3)
    assert queries() == few
