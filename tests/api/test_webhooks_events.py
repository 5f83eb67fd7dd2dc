"""Each event is emitted by the service where it happens, after the commit, with its
documented payload, to the subscriptions of that campaign listening to it, and to no
other; unheard events cost one query; deliveries about an erased person go with them,
and old deliveries are pruned by the tick."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from suffrage.api.models import WebhookDelivery
from suffrage.api.webhooks import events, services
from suffrage.canvassing.services import call_record
from suffrage.canvassing.sync import visits_sync
from suffrage.engagement import services as engagement
from suffrage.imports.normalise import normalise_phone
from suffrage.messaging import feedback
from suffrage.people import services as people
from suffrage.people.models import Person
from suffrage.privacy.access import access_report
from suffrage.privacy.erasure import person_erase
from suffrage.texting.inbound import opt_out
from tests.api.test_webhooks_receiver import running
from tests.factories import (
    ActionFactory,
    CallTargetFactory,
    CanvassFactory,
    DeliveryFactory,
    DoorFactory,
    EventFactory,
    PersonEmailFactory,
    PersonFactory,
    PersonPhoneFactory,
    TurfFactory,
    WebhookDeliveryFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def receiver(campaign):
    """A tool subscribed to every event of `campaign`."""
    with running() as receiver:
        subscription, receiver.secret = services.webhook_create(
            campaign=campaign, name="Outil", url=receiver.url, events=list(events.EVENTS), actor=None
        )
        receiver.subscription = subscription
        yield receiver


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service as a request would: its on-commit work (the deliveries) runs after it."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def anne(campaign, **fields):
    person = PersonFactory(campaign=campaign, first_names="Anne", usage_name="Le Gall", **fields)
    PersonEmailFactory(person=person, address="anne@example.org", is_primary=True)
    PersonPhoneFactory(person=person, number="+33612345678")
    return person


def person_part(person, email="anne@example.org", phone="+33612345678"):
    return {
        "id": person.pk,
        "external_id": person.external_id,
        "first_names": "Anne",
        "last_name": "Le Gall",
        "email": email,
        "phone": phone,
        "source": person.source,
        "created_at": person.created_at.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def only(receiver, name):
    [event] = receiver.events(name)
    assert event["campaign"] == "brest-2027" and event["occurred_at"].endswith("Z")
    return event["data"]


# --- People -----------------------------------------------------------------------------------


def test_a_person_created_by_hand_is_sent_with_names_email_and_phone(campaign, receiver, committed):
    person = committed(
        people.person_create,
        campaign=campaign,
        actor=None,
        source="manual",
        legal_basis="legitimate_interest",
        first_names="Anne",
        usage_name="Le Gall",
        email="anne@example.org",
        phone=normalise_phone("06 12 34 56 78"),
        support_level=1,
        birth_date=datetime.date(1970, 5, 1),
    )

    assert only(receiver, "person.created") == {"person": person_part(person)}
    body = receiver.received[0].body.decode()
    assert "support" not in body and "1970" not in body  # never the support level nor the birth date
    delivery = WebhookDelivery.objects.get()
    assert (delivery.person_id, delivery.campaign_id, delivery.status) == (person.pk, campaign.pk, "delivered")


def test_an_edit_names_the_fields_changed_but_never_the_support_level(campaign, receiver, committed):
    person = anne(campaign)

    committed(people.person_update, person=person, actor=None, first_names="Anne-Marie", support_level=2)
    committed(people.person_update, person=person, actor=None, support_level=3)  # only that: nothing sent

    data = only(receiver, "person.updated")
    assert data["changed"] == ["first_names"]
    assert data["person"]["first_names"] == "Anne-Marie"
    assert "support" not in receiver.received[0].body.decode().replace('"changed"', "")


# --- Engagement -------------------------------------------------------------------------------


def test_a_petition_signed_sends_the_submission_and_the_new_person(campaign, receiver, committed):
    action = ActionFactory(campaign=campaign, kind="petition", title="Sauvons la piscine", slug="piscine")
    data = {"first_names": "Anne", "last_name": "Le Gall", "email": "anne@example.org", "message": "Vite !"}

    submission = committed(engagement.submission_record, action=action, data=data, ip="192.0.2.7")

    sent = only(receiver, "submission.created")
    assert sent["submission"] == {
        "id": submission.pk,
        "status": "confirmed",
        "via": "page",
        "answers": {"message": "Vite !"},
        "consents": [],
        "created_at": sent["submission"]["created_at"],
        "form": {"id": action.pk, "kind": "petition", "title": "Sauvons la piscine", "slug": "piscine"},
    }
    assert sent["person"] == person_part(submission.person, phone="")
    assert only(receiver, "person.created")["person"]["id"] == submission.person_id
    assert "192.0.2.7" not in receiver.received[-1].body.decode()


def test_an_rsvp_and_its_cancellation_are_sent(campaign, receiver, committed):
    event = EventFactory(campaign=campaign, title="Réunion publique", slug="reunion")
    person = anne(campaign)
    data = {"first_names": "Anne", "email": "anne@example.org"}

    rsvp = committed(engagement.rsvp_record, event=event, data=data, guests=1)
    committed(engagement.rsvp_cancel, rsvp=rsvp)

    created = only(receiver, "rsvp.created")
    assert created["rsvp"]["id"] == rsvp.pk and created["rsvp"]["status"] == "going"
    assert created["rsvp"]["guests"] == 1 and created["rsvp"]["checked_in"] is False
    assert created["rsvp"]["event"]["title"] == "Réunion publique" and created["rsvp"]["event"]["slug"] == "reunion"
    assert created["person"] == person_part(person)
    assert only(receiver, "rsvp.updated")["rsvp"]["status"] == "cancelled"
    assert receiver.events("person.created") == []  # she was known


def test_a_walk_in_is_an_rsvp_created_then_checked_in(campaign, receiver, committed, owner):
    event = EventFactory(campaign=campaign)

    committed(
        engagement.walk_in_record, event=event, data={"first_names": "Anne", "email": "a@example.org"}, actor=owner
    )

    assert [e["event"] for e in receiver.verified if e["event"].startswith("rsvp.")] == ["rsvp.created", "rsvp.updated"]
    assert all(e["data"]["rsvp"]["checked_in"] for e in receiver.events("rsvp.updated"))


# --- Consent withdrawn ------------------------------------------------------------------------------


def test_an_email_unsubscribe_sends_a_consent_withdrawal(campaign, receiver, committed):
    person = anne(campaign, consent_email=True)
    delivery = DeliveryFactory(mailing__campaign=campaign, person=person, address="anne@example.org")

    committed(feedback.unsubscribe, delivery, everything=False, ip="192.0.2.7")
    committed(feedback.unsubscribe, delivery, everything=False, ip="192.0.2.7")  # again: nothing new

    assert only(receiver, "consent.withdrawn") == {
        "channel": "email",
        "source": "web_form",
        "person": person_part(person),
    }


def test_an_sms_stop_sends_a_consent_withdrawal_for_each_person_holding_the_number(campaign, receiver, committed):
    person = anne(campaign)

    committed(opt_out, campaign, "+33612345678", detail="Replied STOP", text="STOP")

    assert only(receiver, "consent.withdrawn") == {
        "channel": "sms",
        "source": "sms_stop",
        "person": person_part(person),
    }


def test_a_bulk_do_not_contact_sends_one_event_per_person_in_one_insert(campaign, receiver, committed, owner):
    chosen = [PersonFactory(campaign=campaign) for _ in range(25)]

    count = committed(
        people.people_do_not_contact,
        campaign=campaign,
        people=Person.objects.filter(pk__in=[p.pk for p in chosen]),
        channel="sms",
        actor=owner,
    )

    assert count == 25
    sent = receiver.events("consent.withdrawn")
    assert sorted(e["data"]["person"]["id"] for e in sent) == sorted(p.pk for p in chosen)
    assert {e["data"]["channel"] for e in sent} == {"sms"} and {e["data"]["source"] for e in sent} == {"manual"}
    assert WebhookDelivery.objects.filter(status="delivered").count() == 25  # by the sweep, not 25 tasks


# --- Canvassing -------------------------------------------------------------------------------------


def test_synced_visits_are_sent_with_their_outcome_but_not_the_answers_nor_the_note(
    campaign, receiver, committed, volunteer
):
    canvass = CanvassFactory(campaign=campaign, name="Recouvrance")
    turf = TurfFactory(canvass=canvass, assigned_to=volunteer, assigned_at=timezone.now())
    doors = [DoorFactory(turf=turf) for _ in range(2)]
    records = [
        {
            "client_id": f"0000000{index}-0000-4000-8000-000000000000",
            "door_id": door.pk,
            "outcome": "leaflet",
            "recorded_at": timezone.now().isoformat(),
            "answers": {},
            "note": "Chien méchant",
            "contact": None,
            "support_level": None,
        }
        for index, door in enumerate(doors)
    ]

    committed(visits_sync, campaign=campaign, volunteer=volunteer, records=records)

    sent = sorted((e["data"] for e in receiver.events("visit.recorded")), key=lambda d: d["visit"]["door"]["id"])
    assert [d["visit"]["door"]["id"] for d in sent] == [door.pk for door in doors]
    first = sent[0]
    assert first["visit"]["kind"] == "door" and first["visit"]["outcome"] == "leaflet"
    assert first["visit"]["canvass"] == {"id": canvass.pk, "name": "Recouvrance"}
    assert first["person"] is None and isinstance(first["visit"]["id"], int)
    assert "Chien" not in "".join(item.body.decode() for item in receiver.received)


def test_a_phone_bank_call_is_sent_as_a_visit(campaign, receiver, committed, volunteer):
    person = anne(campaign)
    target = CallTargetFactory(
        canvass__campaign=campaign, person=person, claimed_by=volunteer, claimed_at=timezone.now()
    )

    visit = committed(call_record, target=target, volunteer=volunteer, outcome="no_answer")

    data = only(receiver, "visit.recorded")
    assert data["visit"]["id"] == visit.pk and data["visit"]["kind"] == "call" and data["visit"]["door"] is None
    assert data["visit"]["outcome"] == "no_answer" and data["person"] == person_part(person)


# --- Who receives what ------------------------------------------------------------------------------


def test_only_the_events_chosen_reach_a_subscription(campaign, committed):
    with running() as receiver:
        _subscription, receiver.secret = services.webhook_create(
            campaign=campaign, name="RSVP", url=receiver.url, events=["rsvp.created"], actor=None
        )
        committed(engagement.rsvp_record, event=EventFactory(campaign=campaign), data={"email": "new@example.org"})

    assert [e["event"] for e in receiver.verified] == ["rsvp.created"]  # not the person.created
    assert set(WebhookDelivery.objects.values_list("event", flat=True)) == {"rsvp.created"}


def test_another_campaigns_subscription_and_a_disabled_one_receive_nothing(campaign, other_campaign, committed):
    WebhookSubscriptionFactory(campaign=other_campaign, events=list(events.EVENTS))
    WebhookSubscriptionFactory(campaign=campaign, events=list(events.EVENTS), active=False)

    committed(people.person_create, campaign=campaign, actor=None, source="manual", legal_basis="consent")

    assert not WebhookDelivery.objects.exists()


def test_an_act_rolled_back_sends_nothing(campaign, receiver, committed):
    def fails():
        with transaction.atomic():
            people.person_create(campaign=campaign, actor=None, source="manual", legal_basis="consent")
            raise RuntimeError("the request failed after the write")

    with pytest.raises(RuntimeError):
        committed(fails)

    assert receiver.received == [] and not WebhookDelivery.objects.exists()


def test_a_campaign_without_webhooks_pays_one_query_after_the_commit(
    campaign, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks() as callbacks:
        people.person_create(campaign=campaign, actor=None, source="manual", legal_basis="consent", first_names="A")
    webhook_callbacks = [c for c in callbacks if getattr(getattr(c, "func", None), "__module__", "").endswith(".emit")]
    assert len(webhook_callbacks) == 1

    with django_assert_num_queries(1):
        webhook_callbacks[0]()
    assert not WebhookDelivery.objects.exists()


def test_one_event_to_two_subscriptions_shares_its_id(campaign, committed, receiver):
    with running() as second:
        _subscription, second.secret = services.webhook_create(
            campaign=campaign, name="Deux", url=second.url, events=["person.created"], actor=None
        )
        committed(people.person_create, campaign=campaign, actor=None, source="manual", legal_basis="consent")

    assert receiver.verified[0]["id"] == second.verified[0]["id"]
    assert WebhookDelivery.objects.count() == 2


# --- Erasure and retention ------------------------------------------------------------------------


def test_erasing_a_person_removes_the_deliveries_about_them_and_the_report_lists_them(campaign, receiver, owner):
    subscription = receiver.subscription
    person, twin, other = anne(campaign), PersonFactory(campaign=campaign), PersonFactory(campaign=campaign)
    about = [WebhookDeliveryFactory(subscription=subscription, person_id=pk) for pk in (person.pk, twin.pk)]
    kept = WebhookDeliveryFactory(subscription=subscription, person_id=other.pk)
    person = people.person_merge(keep=person, other=twin, actor=owner)  # the twin's deliveries follow

    assert set(WebhookDelivery.objects.filter(pk__in=[d.pk for d in about]).values_list("person_id", flat=True)) == {
        person.pk
    }
    rows = access_report(person)["sections"]["webhooks"]["rows"]
    assert len(rows) == 2 and {row["event"] for row in rows} == {"person.created"}
    assert all("Outil" in row["recipient"] for row in rows)

    counts = person_erase(person=person, actor=owner)

    assert counts["api.webhookdelivery"] == 2
    assert not WebhookDelivery.objects.filter(pk__in=[d.pk for d in about]).exists()
    assert WebhookDelivery.objects.filter(pk=kept.pk).exists()


def test_old_deliveries_are_pruned_by_the_privacy_tick(campaign, receiver):
    subscription = receiver.subscription
    old = WebhookDeliveryFactory(subscription=subscription, created_at=timezone.now() - datetime.timedelta(days=31))
    recent = WebhookDeliveryFactory(subscription=subscription, created_at=timezone.now() - datetime.timedelta(days=29))

    call_command("privacy_tick")

    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()
    assert WebhookDelivery.objects.filter(pk=recent.pk).exists()


def test_the_mailings_tick_sends_what_is_due(campaign, receiver):
    delivery = WebhookDeliveryFactory(
        subscription=receiver.subscription, next_attempt_at=timezone.now(), payload={"id": "1", "event": "ping"}
    )

    call_command("mailings_tick")

    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.verified) == 1
