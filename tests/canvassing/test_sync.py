"""Syncing what volunteers recorded at the doors: once each, whatever the retries;
people with their provenance and consent proof; objections; refusals that say which
record, which field and why; only the volunteer's turfs."""

import datetime
import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suffrage.canvassing.models import Visit
from suffrage.canvassing.sync import DOOR_CONSENT_V1, MAX_BODY_BYTES, door_consent_form, visits_sync
from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.people.models import ConsentEvent, LegalBasis, Person, PersonEmail, PersonPhone, Source
from suffrage.privacy.services import is_suppressed
from tests.factories import (
    CampaignFactory,
    CanvassFactory,
    DoorFactory,
    MembershipFactory,
    PersonEmailFactory,
    QuestionFactory,
    TurfFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The reasons given are checked in English."""
    with translation.override("en"):
        yield


@pytest.fixture
def canvass(campaign):
    return CanvassFactory(campaign=campaign, name="Recouvrance, mars")


@pytest.fixture
def turf(canvass, volunteer):
    return TurfFactory(canvass=canvass, assigned_to=volunteer, assigned_at=timezone.now())


@pytest.fixture
def doors(turf):
    return [DoorFactory(turf=turf, position=index) for index in range(5)]


def record(door, outcome="not_home", **fields):
    return {
        "client_id": str(uuid.uuid4()),
        "door_id": door.pk,
        "outcome": outcome,
        "recorded_at": fields.pop("recorded_at", timezone.now()).isoformat(),
        "answers": {},
        "note": "",
        "contact": None,
        "support_level": None,
        **fields,
    }


def contact(email="", phone="", first_names="Anne", last_name="Le Gall", **consents):
    return {
        "first_names": first_names,
        "last_name": last_name,
        "email": email,
        "phone": phone,
        "consent_email": False,
        "consent_sms": False,
        "consent_phone": False,
        **consents,
    }


def sync(campaign, volunteer, records):
    return visits_sync(campaign=campaign, volunteer=volunteer, records=records)


# --- Once each ----------------------------------------------------------------------------


def test_records_become_visits_and_a_resync_reports_them_as_duplicates(campaign, volunteer, turf, doors):
    records = [record(door, "leaflet", note="Boîte pleine") for door in doors]

    first = sync(campaign, volunteer, records)
    second = sync(campaign, volunteer, records)

    assert first.accepted == [r["client_id"] for r in records]
    assert first.duplicates == [] and first.rejected == []
    assert second.accepted == [] and second.rejected == []
    assert second.duplicates == [r["client_id"] for r in records]
    visits = Visit.objects.filter(campaign=campaign)
    assert visits.count() == 5
    visit = visits.get(door=doors[0])
    assert (visit.outcome, visit.note, visit.volunteer, visit.turf, visit.canvass) == (
        "leaflet",
        "Boîte pleine",
        volunteer,
        turf,
        turf.canvass,
    )
    assert str(visit.client_id) == records[0]["client_id"]


def test_a_record_sent_twice_in_one_request_is_applied_once(campaign, volunteer, doors):
    once = record(doors[0], "opened", contact=contact(email="anne@example.org"))

    result = sync(campaign, volunteer, [once, dict(once)])

    assert result.accepted == [once["client_id"]]
    assert result.duplicates == [once["client_id"]]
    assert Visit.objects.count() == 1
    assert Person.objects.filter(campaign=campaign).count() == 1


def test_a_retry_after_contacts_creates_no_second_person(campaign, volunteer, doors):
    records = [record(doors[0], "opened", contact=contact(email="anne@example.org", consent_email=True))]

    sync(campaign, volunteer, records)
    sync(campaign, volunteer, records)

    assert Person.objects.filter(campaign=campaign).count() == 1
    assert ConsentEvent.objects.filter(campaign=campaign).count() == 1


def test_the_recorded_time_is_the_phones_but_a_time_in_the_future_is_now(campaign, volunteer, doors):
    earlier = timezone.now() - datetime.timedelta(hours=3)
    future = timezone.now() + datetime.timedelta(days=2)

    sync(campaign, volunteer, [record(doors[0], recorded_at=earlier), record(doors[1], recorded_at=future)])

    assert Visit.objects.get(door=doors[0]).recorded_at == earlier
    assert Visit.objects.get(door=doors[1]).recorded_at <= timezone.now()


# --- People, consent, support, objection ----------------------------------------------------


def test_fifty_visits_with_contacts_make_people_with_provenance_and_consent_proof(campaign, volunteer, turf):
    doors = [DoorFactory(turf=turf, position=index) for index in range(50)]
    records = [record(door, "not_home") for door in doors[:40]]
    records += [
        record(
            door,
            "opened",
            contact=contact(
                email=f"Voisin{index}@Example.org",
                phone=f"06 12 34 56 {index:02d}",
                consent_email=True,
                consent_sms=True,
            ),
        )
        for index, door in enumerate(doors[40:45])
    ]
    records += [
        record(door, "opened", contact=contact(email=f"prospect{index}@example.org", first_names=f"P{index}"))
        for index, door in enumerate(doors[45:])
    ]

    result = sync(campaign, volunteer, records)

    assert len(result.accepted) == 50 and result.rejected == []
    assert result.people_created == 10
    assert Visit.objects.filter(campaign=campaign).count() == 50
    people = Person.objects.filter(campaign=campaign)
    assert people.count() == 10
    assert set(people.values_list("source", "source_detail")) == {(Source.CANVASSING, "Recouvrance, mars")}
    consenting = people.filter(emails__address__startswith="voisin")
    assert consenting.count() == 5
    assert set(consenting.values_list("legal_basis", flat=True)) == {LegalBasis.CONSENT}
    assert set(people.exclude(pk__in=consenting).values_list("legal_basis", flat=True)) == {
        LegalBasis.LEGITIMATE_INTEREST
    }
    person = consenting.get(emails__address="voisin0@example.org")
    assert (person.first_names, person.usage_name, person.created_by) == ("Anne", "Le Gall", volunteer)
    assert person.consent_email is True and person.consent_sms is True and person.consent_phone is None
    assert PersonPhone.objects.get(person=person).number == "+33612345600"
    proof = ConsentEvent.objects.get(person=person, channel="email")
    assert proof.granted and proof.source == Source.CANVASSING and proof.recorded_by == volunteer
    assert proof.form == door_consent_form(turf.canvass) == "Recouvrance, mars · porte-à-porte · v1"
    assert proof.wording == str(DOOR_CONSENT_V1["email"]) % {"campaign": campaign.name}
    assert Visit.objects.get(door=doors[40]).person == person
    assert not Visit.objects.filter(door__in=doors[:40], person__isnull=False).exists()


def test_someone_already_known_by_email_is_found_not_duplicated(campaign, volunteer, doors):
    known = PersonEmailFactory(person__campaign=campaign, address="anne@example.org").person
    known.first_names = ""
    known.save()

    sync(
        campaign,
        volunteer,
        [record(doors[0], "opened", contact=contact(email="ANNE@example.org", phone="0612345678", first_names="Anne"))],
    )

    assert Person.objects.filter(campaign=campaign).count() == 1
    known.refresh_from_db()
    assert known.first_names == "Anne"  # an empty field filled
    assert known.phones.get().number == "+33612345678"
    assert Visit.objects.get().person == known


def test_two_doors_giving_the_same_number_in_one_sync_make_one_person(campaign, volunteer, doors):
    result = sync(
        campaign,
        volunteer,
        [
            record(doors[0], "opened", contact=contact(phone="06 12 34 56 78", first_names="Anne")),
            record(doors[1], "opened", contact=contact(phone="+33612345678", email="anne@example.org")),
        ],
    )

    assert result.people_created == 1
    person = Person.objects.get(campaign=campaign)
    assert person.emails.get().address == "anne@example.org"
    assert set(Visit.objects.values_list("person", flat=True)) == {person.pk}


def test_a_support_level_is_recorded_only_when_given(campaign, volunteer, doors):
    sync(
        campaign,
        volunteer,
        [
            record(doors[0], "opened", contact=contact(email="said@example.org"), support_level=2),
            record(doors[1], "opened", contact=contact(email="silent@example.org")),
        ],
    )

    assert Person.objects.get(emails__address="said@example.org").support_level == 2
    assert Person.objects.get(emails__address="silent@example.org").support_level is None
    assert AuditLog.objects.filter(action="person.support_level").count() == 1


def test_a_support_level_without_the_persons_details_is_refused(campaign, volunteer, doors):
    result = sync(campaign, volunteer, [record(doors[0], "opened", support_level=1)])

    assert result.rejected == [
        {
            "client_id": result.rejected[0]["client_id"],
            "index": 0,
            "field": "support_level",
            "reason": "A support level is recorded only with the person's details.",
        }
    ]
    assert not Visit.objects.exists()


def test_do_not_contact_with_details_is_an_objection_on_every_channel(campaign, volunteer, doors):
    result = sync(
        campaign,
        volunteer,
        [record(doors[0], "do_not_contact", contact=contact(email="laissez@example.org", phone="06 98 76 54 32"))],
    )

    assert result.rejected == []
    person = Person.objects.get(campaign=campaign)
    assert (person.consent_email, person.consent_sms, person.consent_phone, person.consent_post) == (
        False,
        False,
        False,
        False,
    )
    assert is_suppressed(campaign, "email", "laissez@example.org")
    assert is_suppressed(campaign, "phone", "+33698765432")
    assert PersonEmail.objects.get(person=person).status == PersonEmail.Status.SUPPRESSED
    assert PersonPhone.objects.get(person=person).suppressed
    assert AuditLog.objects.filter(action="person.objection").count() == 1
    assert Visit.objects.get().outcome == "do_not_contact"


def test_do_not_contact_objects_for_someone_already_known(campaign, volunteer, doors):
    known = PersonEmailFactory(person__campaign=campaign, address="known@example.org").person

    sync(campaign, volunteer, [record(doors[0], "do_not_contact", contact=contact(email="known@example.org"))])

    known.refresh_from_db()
    assert known.consent_email is False and known.consent_sms is False
    assert Person.objects.filter(campaign=campaign).count() == 1


def test_do_not_contact_without_details_stays_on_the_door(campaign, volunteer, doors):
    result = sync(campaign, volunteer, [record(doors[0], "do_not_contact")])

    assert len(result.accepted) == 1
    assert not Person.objects.exists()
    assert Visit.objects.get().outcome == "do_not_contact"


def test_answers_are_kept_when_they_fit_the_canvass_questions(campaign, volunteer, canvass, doors):
    single = QuestionFactory(canvass=canvass)
    several = QuestionFactory(canvass=canvass, kind="multiple")
    scale = QuestionFactory(canvass=canvass, kind="scale", choices=[])
    text = QuestionFactory(canvass=canvass, kind="text", choices=[])
    answers = {
        str(single.pk): "Logement",
        str(several.pk): ["Écoles", "Transports", "Écoles"],
        str(scale.pk): 4,
        str(text.pk): "  La ligne de bus 3  ",
    }

    sync(campaign, volunteer, [record(doors[0], "opened", answers=answers)])

    assert Visit.objects.get().answers == {
        str(single.pk): "Logement",
        str(several.pk): ["Écoles", "Transports"],
        str(scale.pk): 4,
        str(text.pk): "La ligne de bus 3",
    }


# --- Refusals ---------------------------------------------------------------------------------------

BAD = [
    ({"client_id": "not-a-uuid"}, "client_id"),
    ({"door_id": "12"}, "door_id"),
    ({"door_id": 10**30}, "door_id"),
    ({"door_id": 987_654_321}, "door_id"),  # no such door
    ({"outcome": "no_answer"}, "outcome"),  # a phone outcome, not a door's
    ({"recorded_at": "yesterday"}, "recorded_at"),
    ({"recorded_at": "2027-03-01T10:00:00"}, "recorded_at"),  # no offset
    ({"recorded_at": "2027-02-30T10:00:00Z"}, "recorded_at"),
    ({"note": "x" * 501}, "note"),
    ({"answers": ["Logement"]}, "answers"),
    ({"outcome": "not_home", "answers": {"1": "x"}}, "answers"),
    ({"outcome": "refused", "contact": {"email": "a@example.org"}}, "contact"),
    ({"outcome": "opened", "contact": {"email": "pas une adresse"}}, "contact.email"),
    ({"outcome": "opened", "contact": {"phone": "12"}}, "contact.phone"),
    ({"outcome": "opened", "contact": {"first_names": "A" * 201}}, "contact.first_names"),
    ({"outcome": "opened", "contact": {"first_names": "Anne", "consent_email": True}}, "contact.consent_email"),
    ({"outcome": "opened", "contact": {"phone": "02 98 00 00 00", "consent_sms": True}}, "contact.consent_sms"),
    ({"outcome": "opened", "contact": {"email": "a@example.org", "consent_phone": "yes"}}, "contact.consent_phone"),
    ({"outcome": "opened", "contact": {"email": "a@example.org"}, "support_level": 6}, "support_level"),
    ({"outcome": "do_not_contact", "contact": {"email": "a@ex.org", "consent_email": True}}, "contact.consent_email"),
]


@pytest.mark.parametrize(("change", "field"), BAD, ids=[field for _change, field in BAD])
def test_a_bad_record_is_refused_with_its_index_and_field_and_the_others_go_through(
    campaign, volunteer, doors, change, field
):
    good = record(doors[0])
    bad = {**record(doors[1]), **change}

    result = sync(campaign, volunteer, [good, bad])

    assert result.accepted == [good["client_id"]]
    assert len(result.rejected) == 1
    rejection = result.rejected[0]
    assert (rejection["index"], rejection["field"]) == (1, field)
    assert rejection["reason"]
    assert Visit.objects.count() == 1


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["client_id", "door_id", "outcome", "recorded_at", "answers", "note", "contact", "support_level"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=3), min_size=1, max_size=4))
def test_whatever_the_phone_sends_every_record_gets_an_answer(campaign, volunteer, doors, changes):
    records = [{**record(doors[index % len(doors)], "opened"), **change} for index, change in enumerate(changes)]

    result = sync(campaign, volunteer, records)

    assert len(result.accepted) + len(result.duplicates) + len(result.rejected) == len(records)
    assert all(rejection["reason"] for rejection in result.rejected)


def test_a_record_that_is_not_an_object_is_refused_by_index(campaign, volunteer, doors):
    result = sync(campaign, volunteer, ["oops", record(doors[0])])

    assert result.rejected == [{"client_id": None, "index": 0, "field": "", "reason": "A record must be an object."}]
    assert len(result.accepted) == 1


def test_an_answer_to_another_canvass_question_is_refused(campaign, volunteer, doors):
    elsewhere = QuestionFactory(canvass=CanvassFactory(campaign=campaign))
    mine = QuestionFactory(canvass=doors[0].canvass)

    result = sync(
        campaign,
        volunteer,
        [
            record(doors[0], "opened", answers={str(elsewhere.pk): "Logement"}),
            record(doors[1], "opened", answers={str(mine.pk): "Piscine"}),
        ],
    )

    assert [(r["index"], r["field"]) for r in result.rejected] == [
        (0, f"answers.{elsewhere.pk}"),
        (1, f"answers.{mine.pk}"),
    ]


def test_another_volunteers_turf_is_refused(campaign, volunteer, canvass, doors):
    other = MembershipFactory(campaign=campaign, role=Role.VOLUNTEER).user
    theirs = DoorFactory(turf=TurfFactory(canvass=canvass, assigned_to=other))
    unassigned = DoorFactory(turf=TurfFactory(canvass=canvass))

    result = sync(campaign, volunteer, [record(theirs), record(unassigned), record(doors[0])])

    assert [(r["index"], r["field"]) for r in result.rejected] == [(0, "door_id"), (1, "door_id")]
    assert all("Not your turf" in r["reason"] for r in result.rejected)
    assert Visit.objects.count() == 1


def test_another_campaigns_door_is_refused_as_unknown(campaign, volunteer, doors):
    foreign_campaign = CampaignFactory()
    foreign = DoorFactory(turf=TurfFactory(canvass=CanvassFactory(campaign=foreign_campaign), assigned_to=volunteer))

    result = sync(campaign, volunteer, [record(foreign)])

    assert [(r["field"], r["reason"]) for r in result.rejected] == [("door_id", "No such door in this campaign.")]
    assert not Visit.objects.exists()


def test_another_volunteers_record_id_is_not_reported_as_mine(campaign, volunteer, doors):
    taken = VisitFactory(door=doors[0])

    result = sync(campaign, volunteer, [{**record(doors[1]), "client_id": str(taken.client_id)}])

    assert result.duplicates == []
    assert result.rejected[0]["field"] == "client_id"


# --- Whose turf, over time ------------------------------------------------------------------------


def test_an_expired_turf_takes_what_was_recorded_before_it_expired_for_a_day(campaign, volunteer, turf, doors):
    now = timezone.now()
    turf.expires_at = now - datetime.timedelta(hours=2)
    turf.save()

    result = sync(
        campaign,
        volunteer,
        [record(doors[0], recorded_at=now - datetime.timedelta(hours=3)), record(doors[1], recorded_at=now)],
    )

    assert len(result.accepted) == 1
    assert [(r["index"], r["field"]) for r in result.rejected] == [(1, "door_id")]


def test_an_expired_turf_takes_nothing_after_a_day(campaign, volunteer, turf, doors):
    now = timezone.now()
    turf.expires_at = now - datetime.timedelta(hours=25)
    turf.save()

    result = sync(campaign, volunteer, [record(doors[0], recorded_at=now - datetime.timedelta(hours=26))])

    assert result.accepted == []


def test_a_turf_handed_over_takes_what_its_previous_holder_recorded_before(campaign, volunteer, turf, doors):
    now = timezone.now()
    VisitFactory(door=doors[0], volunteer=volunteer, synced_at=now - datetime.timedelta(hours=2))
    turf.assigned_to = MembershipFactory(campaign=campaign, role=Role.VOLUNTEER).user
    turf.assigned_at = now - datetime.timedelta(hours=1)
    turf.save()

    result = sync(
        campaign,
        volunteer,
        [record(doors[1], recorded_at=now - datetime.timedelta(minutes=90)), record(doors[2], recorded_at=now)],
    )

    assert len(result.accepted) == 1
    assert [r["index"] for r in result.rejected] == [1]


def test_a_turf_handed_over_takes_nothing_from_someone_who_never_synced_on_it(campaign, volunteer, turf, doors):
    now = timezone.now()
    turf.assigned_to = MembershipFactory(campaign=campaign, role=Role.VOLUNTEER).user
    turf.assigned_at = now - datetime.timedelta(hours=1)
    turf.save()

    result = sync(campaign, volunteer, [record(doors[1], recorded_at=now - datetime.timedelta(minutes=90))])

    assert result.accepted == []


# --- Audit and cost ------------------------------------------------------------------------------------


def test_one_audit_row_per_sync_with_the_counts(campaign, volunteer, doors):
    sync(campaign, volunteer, [record(door) for door in doors] + [{"client_id": "x"}])

    rows = AuditLog.objects.filter(action="canvassing.sync")
    assert rows.count() == 1
    assert rows.get().changes == {"accepted": 5, "duplicates": 0, "rejected": 1, "people_created": 0}
    assert rows.get().actor == volunteer


def test_the_query_count_does_not_grow_with_the_records(
    campaign, volunteer, turf, canvass, django_assert_max_num_queries
):
    QuestionFactory(canvass=canvass)
    doors = [DoorFactory(turf=turf, position=index) for index in range(100)]
    records = [record(door, "leaflet" if index % 2 else "not_home") for index, door in enumerate(doors)]

    # The savepoint and its release, the lock, known ids, doors, questions, the audit row,
    # and the inserts: one on PostgreSQL, 76 rows per statement on SQLite (two here).
    with django_assert_max_num_queries(9):
        result = sync(campaign, volunteer, records)

    assert len(result.accepted) == 100


# --- The endpoint ------------------------------------------------------------------------------------------


@pytest.fixture
def sync_url(campaign):
    return reverse("canvassing_app:sync", args=[campaign.slug])


def post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


def test_the_endpoint_answers_what_was_accepted(login, volunteer, sync_url, doors):
    records = [record(door) for door in doors]

    response = post(login(volunteer), sync_url, json.dumps({"records": records}))

    assert response.status_code == 200
    assert response.json()["accepted"] == [r["client_id"] for r in records]
    assert response.json()["rejected"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "body"),
        (b"\xff\xfe", "body"),
        ("", "body"),
        ("[]", "records"),
        ('{"records": {}}', "records"),
        (json.dumps({"records": [{}] * 1001}), "records"),
        ('{"records": ' + "[" * 100_000, "body"),
    ],
)
def test_a_body_it_cannot_read_is_a_400_in_json(login, volunteer, sync_url, body, field):
    response = post(login(volunteer), sync_url, body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["error"]


def test_a_body_over_two_megabytes_is_a_413(login, volunteer, sync_url):
    response = post(login(volunteer), sync_url, json.dumps({"records": [], "padding": "x" * MAX_BODY_BYTES}))

    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"


def test_the_endpoint_needs_the_csrf_header(volunteer, sync_url, doors):
    client = Client(enforce_csrf_checks=True)
    client.force_login(volunteer)
    page = client.get(reverse("canvassing_app:home", args=[doors[0].campaign.slug]))
    config = page.content.decode().split('id="canvass-config" type="application/json">')[1].split("</script>")[0]
    token = json.loads(config)["csrf"]
    body = json.dumps({"records": [record(doors[0])]})

    assert post(client, sync_url, body).status_code == 403
    response = post(client, sync_url, body, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert len(response.json()["accepted"]) == 1


def test_the_endpoint_refuses_get(login, volunteer, sync_url):
    assert login(volunteer).get(sync_url).status_code == 405


def test_an_analyst_cannot_sync(campaign, login, sync_url):
    analyst = UserFactory()
    MembershipFactory(campaign=campaign, user=analyst, role=Role.ANALYST)

    assert post(login(analyst), sync_url, json.dumps({"records": []})).status_code == 403
