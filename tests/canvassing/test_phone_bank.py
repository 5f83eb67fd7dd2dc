"""Phone banks: the call list keeps only people the campaign may phone; volunteers get
one contact at a time and never the list; outcomes decide what happens next, and
"do not call" stops every channel."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from suffrage.canvassing import selectors, services
from suffrage.canvassing.models import CallTarget, Canvass, Visit
from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.people.models import LegalBasis, Note, PersonPhone
from suffrage.people.services import consent_record
from tests.factories import (
    CallTargetFactory,
    CanvassFactory,
    PersonFactory,
    PersonPhoneFactory,
    QuestionFactory,
    SegmentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(login):
    """Pages in English, whatever the French catalogue says."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def callable_person(campaign, **fields):
    """Someone who agreed to be phoned and has a number."""
    person = PersonFactory(campaign=campaign, **fields)
    PersonPhoneFactory(person=person)
    consent_record(person=person, channel="phone", granted=True, source="manual")
    return person


@pytest.fixture
def phone_bank(campaign):
    segment = SegmentFactory(campaign=campaign)  # everyone
    return CanvassFactory(campaign=campaign, kind=Canvass.Kind.PHONE, area={"segment": segment.pk})


@pytest.fixture
def caller(member):
    return member(Role.VOLUNTEER)


@pytest.fixture
def other_caller(campaign):
    from tests.factories import MembershipFactory, UserFactory

    return MembershipFactory(campaign=campaign, role=Role.VOLUNTEER, user=UserFactory(email="autre@brest.example")).user


def on_the_list(phone_bank, count):
    """People on the call list, with names no volunteer can share (pages are searched for them)."""
    people = [
        callable_person(phone_bank.campaign, first_names=f"Prénom{n}", usage_name=f"Appelé{n}") for n in range(count)
    ]
    services.call_list_build(canvass=phone_bank, actor=None)
    return people


# --- The call list ----------------------------------------------------------------------------------


def test_the_call_list_keeps_only_people_the_campaign_may_phone(campaign, phone_bank, owner):
    agreed = callable_person(campaign)
    member_ = PersonFactory(campaign=campaign, legal_basis=LegalBasis.MEMBER)
    PersonPhoneFactory(person=member_)
    interest = PersonFactory(campaign=campaign, legal_basis=LegalBasis.LEGITIMATE_INTEREST)
    PersonPhoneFactory(person=interest)
    consent_only_for_email = PersonFactory(campaign=campaign)  # basis "consent", none given for the phone
    PersonPhoneFactory(person=consent_only_for_email)
    withdrew = callable_person(campaign)
    consent_record(person=withdrew, channel="phone", granted=False, source="manual")
    no_number = PersonFactory(campaign=campaign, legal_basis=LegalBasis.MEMBER)
    suppressed = PersonFactory(campaign=campaign, legal_basis=LegalBasis.MEMBER)
    PersonPhoneFactory(person=suppressed, suppressed=True)
    elsewhere = callable_person(CanvassFactory().campaign)

    added = services.call_list_build(canvass=phone_bank, actor=owner)

    listed = set(CallTarget.objects.filter(canvass=phone_bank).values_list("person_id", flat=True))
    assert listed == {agreed.pk, member_.pk, interest.pk}
    assert added == 3
    assert not {consent_only_for_email.pk, withdrew.pk, no_number.pk, suppressed.pk, elsewhere.pk} & listed
    assert AuditLog.objects.filter(action="canvass.call_list_build", object_id=str(phone_bank.pk)).exists()


def test_building_the_call_list_again_adds_only_newcomers(campaign, phone_bank, owner):
    first = on_the_list(phone_bank, 2)
    assert services.call_list_build(canvass=phone_bank, actor=owner) == 0
    newcomer = callable_person(campaign)
    assert services.call_list_build(canvass=phone_bank, actor=owner) == 1
    assert CallTarget.objects.filter(canvass=phone_bank).count() == 3
    assert set(CallTarget.objects.values_list("person_id", flat=True)) == {first[0].pk, first[1].pk, newcomer.pk}


def test_someone_already_called_is_not_put_back_on_the_list(campaign, phone_bank, caller, owner):
    (person,) = on_the_list(phone_bank, 1)
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    services.call_record(target=target, volunteer=caller, outcome="opened")
    services.call_list_build(canvass=phone_bank, actor=owner)
    assert CallTarget.objects.filter(canvass=phone_bank, person=person).count() == 1
    assert CallTarget.objects.get(canvass=phone_bank, person=person).done


def test_a_door_to_door_canvass_has_no_call_list(campaign, owner):
    canvass = CanvassFactory(campaign=campaign, area={"segment": SegmentFactory(campaign=campaign).pk})
    with pytest.raises(ValidationError):
        services.call_list_build(canvass=canvass, actor=owner)


def test_a_phone_bank_without_a_segment_cannot_build_its_list(campaign, owner):
    canvass = CanvassFactory(campaign=campaign, kind=Canvass.Kind.PHONE, area={})
    with pytest.raises(ValidationError):
        services.call_list_build(canvass=canvass, actor=owner)


def test_the_build_button_says_how_many_were_added(campaign, phone_bank, manager, login):
    callable_person(campaign)
    client = login(manager)
    response = client.post(reverse("canvassing:call_list", args=[campaign.slug, phone_bank.pk]), follow=True)
    assert "1 person added to the call list." in response.content.decode()


# --- One contact at a time --------------------------------------------------------------------------


def test_two_volunteers_never_get_the_same_contact(phone_bank, caller, other_caller):
    on_the_list(phone_bank, 2)
    first = services.call_next(canvass=phone_bank, volunteer=caller)
    second = services.call_next(canvass=phone_bank, volunteer=other_caller)
    assert first is not None and second is not None
    assert first.pk != second.pk
    assert services.call_next(canvass=phone_bank, volunteer=caller).pk == first.pk  # their own claim again


def test_when_the_only_contact_is_taken_the_next_volunteer_gets_no_one(phone_bank, caller, other_caller):
    on_the_list(phone_bank, 1)
    assert services.call_next(canvass=phone_bank, volunteer=caller) is not None
    assert services.call_next(canvass=phone_bank, volunteer=other_caller) is None


def test_a_claim_lost_in_a_race_moves_on_to_the_next_contact(phone_bank, caller, other_caller, monkeypatch):
    """Both read the same first contact; the conditional UPDATE lets only one have it."""
    on_the_list(phone_bank, 2)
    first_pk = CallTarget.objects.order_by("pk").first().pk
    real_update = services.CallTarget.objects.filter

    taken_by_other = []

    def filter_then_steal(*args, **kwargs):
        if kwargs.get("pk") == first_pk and not taken_by_other:
            taken_by_other.append(True)
            CallTarget.objects.filter(pk=first_pk).update(claimed_by=other_caller, claimed_at=timezone.now())
        return real_update(*args, **kwargs)

    monkeypatch.setattr(services.CallTarget.objects, "filter", filter_then_steal)
    mine = services.call_next(canvass=phone_bank, volunteer=caller)
    assert taken_by_other
    assert mine is not None and mine.pk != first_pk
    assert CallTarget.objects.get(pk=first_pk).claimed_by == other_caller


def test_a_claim_left_for_fifteen_minutes_goes_to_someone_else(phone_bank, caller, other_caller):
    on_the_list(phone_bank, 1)
    with freeze_time(timezone.now() - datetime.timedelta(minutes=16)):
        services.call_next(canvass=phone_bank, volunteer=caller)
    target = services.call_next(canvass=phone_bank, volunteer=other_caller)
    assert target is not None and target.claimed_by == other_caller
    with pytest.raises(ValidationError):
        services.call_record(target=target, volunteer=caller, outcome="opened")


def test_a_volunteer_cannot_record_a_call_to_someone_else_s_contact(phone_bank, caller, other_caller):
    on_the_list(phone_bank, 1)
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    with pytest.raises(ValidationError):
        services.call_record(target=target, volunteer=other_caller, outcome="opened")
    assert not Visit.objects.exists()


def test_the_calling_page_refuses_a_contact_claimed_by_another_volunteer(
    campaign, phone_bank, caller, other_caller, login
):
    on_the_list(phone_bank, 2)
    theirs = services.call_next(canvass=phone_bank, volunteer=other_caller)
    client = login(caller)
    url = reverse("canvassing:call", args=[campaign.slug, phone_bank.pk])
    response = client.post(url, {"target": theirs.pk, "outcome": "opened"}, follow=True)
    page = response.content.decode()
    assert "not yours to call" in page
    assert not Visit.objects.exists()
    assert theirs.person.usage_name not in page


def test_the_calling_page_shows_only_the_claimed_contact(campaign, phone_bank, caller, login):
    people = on_the_list(phone_bank, 3)
    client = login(caller)
    page = client.get(reverse("canvassing:call", args=[campaign.slug, phone_bank.pk])).content.decode()
    claimed = CallTarget.objects.get(claimed_by=caller)
    phone = PersonPhone.objects.get(person=claimed.person)
    assert claimed.person.usage_name in page
    assert f'href="tel:{phone.number}"' in page
    for person in people:
        if person.pk != claimed.person_id:
            assert person.usage_name not in page
            assert person.phones.get().number not in page


def test_the_calling_page_moves_on_to_the_next_contact_then_says_no_one_is_left(campaign, phone_bank, caller, login):
    on_the_list(phone_bank, 2)
    question = QuestionFactory(canvass=phone_bank)
    client = login(caller)
    url = reverse("canvassing:call", args=[campaign.slug, phone_bank.pk])
    client.get(url)
    first = CallTarget.objects.get(claimed_by=caller)
    client.post(url, {"target": first.pk, "outcome": "opened", f"q{question.pk}": "Écoles"}, follow=True)
    second = CallTarget.objects.get(claimed_by=caller)
    assert second.pk != first.pk
    client.post(url, {"target": second.pk, "outcome": "wrong_number"})
    page = client.get(url).content.decode()
    assert "No one left to call" in page
    assert Visit.objects.get(person=first.person).answers == {str(question.pk): "Écoles"}


def test_the_calling_page_of_a_door_to_door_canvass_says_it_is_not_a_phone_bank(campaign, caller, login):
    canvass = CanvassFactory(campaign=campaign)
    response = login(caller).get(reverse("canvassing:call", args=[campaign.slug, canvass.pk]))
    assert response.status_code == 200
    assert "not an open phone bank" in response.content.decode()


def test_a_volunteer_sees_the_open_phone_banks_but_not_their_lists(campaign, phone_bank, caller, login):
    (person,) = on_the_list(phone_bank, 1)
    closed = CanvassFactory(campaign=campaign, kind=Canvass.Kind.PHONE, status=Canvass.Status.FINISHED, name="Fini")
    page = login(caller).get(reverse("canvassing:calls", args=[campaign.slug])).content.decode()
    assert phone_bank.name in page
    assert closed.name not in page
    assert person.usage_name not in page


def test_a_volunteer_cannot_see_the_organisers_pages(campaign, phone_bank, caller, login):
    client = login(caller)
    assert client.get(reverse("canvassing:detail", args=[campaign.slug, phone_bank.pk])).status_code == 403
    assert client.get(reverse("canvassing:list", args=[campaign.slug])).status_code == 403


# --- Outcomes ---------------------------------------------------------------------------------------------


def test_no_answer_is_tried_again_two_hours_later_and_given_up_after_three(phone_bank, caller):
    on_the_list(phone_bank, 1)
    start = timezone.now()
    for attempt in range(1, 4):
        with freeze_time(start + datetime.timedelta(hours=3 * (attempt - 1))):
            target = services.call_next(canvass=phone_bank, volunteer=caller)
            assert target is not None, f"attempt {attempt}"
            services.call_record(target=target, volunteer=caller, outcome="no_answer")
            target.refresh_from_db()
            assert target.attempts == attempt
            if attempt < 3:
                assert target.next_call_at == timezone.now() + datetime.timedelta(hours=2)
                assert not target.done
                assert services.call_next(canvass=phone_bank, volunteer=caller) is None  # not before two hours
    assert target.done
    with freeze_time(start + datetime.timedelta(days=1)):
        assert services.call_next(canvass=phone_bank, volunteer=caller) is None


def test_call_back_schedules_the_next_call_at_the_time_asked(phone_bank, caller):
    on_the_list(phone_bank, 1)
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    later = timezone.now() + datetime.timedelta(days=1, hours=3)
    visit = services.call_record(target=target, volunteer=caller, outcome="call_back", callback_at=later)
    target.refresh_from_db()
    assert target.next_call_at == later and not target.done and target.claimed_by is None
    assert visit.callback_at == later
    assert services.call_next(canvass=phone_bank, volunteer=caller) is None
    progress = selectors.phone_progress(phone_bank)
    assert progress["callbacks"] == 1 and progress["callbacks_due"] == 0 and progress["later"] == 1
    with freeze_time(later + datetime.timedelta(minutes=1)):
        assert services.call_next(canvass=phone_bank, volunteer=caller).pk == target.pk
        assert selectors.phone_progress(phone_bank)["callbacks_due"] == 1


def test_call_back_needs_a_time_in_the_future(phone_bank, caller):
    on_the_list(phone_bank, 1)
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    with pytest.raises(ValidationError):
        services.call_record(target=target, volunteer=caller, outcome="call_back")
    with pytest.raises(ValidationError):
        services.call_record(
            target=target, volunteer=caller, outcome="call_back", callback_at=timezone.now() - datetime.timedelta(1)
        )


def test_the_calling_page_asks_when_to_call_back(campaign, phone_bank, caller, login):
    on_the_list(phone_bank, 1)
    client = login(caller)
    url = reverse("canvassing:call", args=[campaign.slug, phone_bank.pk])
    client.get(url)
    target = CallTarget.objects.get(claimed_by=caller)
    page = client.post(url, {"target": target.pk, "outcome": "call_back"}).content.decode()
    assert "Give the date and time to call back." in page
    assert not Visit.objects.exists()
    client.post(url, {"target": target.pk, "outcome": "call_back", "callback_local": "2099-03-01T18:30"})
    target.refresh_from_db()
    assert target.next_call_at == datetime.datetime(2099, 3, 1, 17, 30, tzinfo=datetime.UTC)  # Paris, winter


def test_do_not_call_makes_the_person_object_on_every_channel(campaign, phone_bank, caller, owner):
    (person,) = on_the_list(phone_bank, 1)
    other_bank = CanvassFactory(campaign=campaign, kind=Canvass.Kind.PHONE, area=phone_bank.area)
    services.call_list_build(canvass=other_bank, actor=owner)
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    services.call_record(target=target, volunteer=caller, outcome="do_not_contact")
    person.refresh_from_db()
    assert (person.consent_email, person.consent_sms, person.consent_phone, person.consent_post) == (
        False,
        False,
        False,
        False,
    )
    assert person.phones.get().suppressed
    target.refresh_from_db()
    assert target.done
    assert services.call_next(canvass=other_bank, volunteer=caller) is None  # no other phone bank calls them
    assert selectors.phone_progress(other_bank)["not_callable"] == 1
    assert AuditLog.objects.filter(action="person.objection", object_id=str(person.pk)).exists()


def test_talked_keeps_the_survey_answers_and_ends_the_contact(phone_bank, caller):
    on_the_list(phone_bank, 1)
    single = QuestionFactory(canvass=phone_bank)
    several = QuestionFactory(canvass=phone_bank, kind="multiple", choices=["Bus", "Vélo", "Voiture"])
    scale = QuestionFactory(canvass=phone_bank, kind="scale", choices=[])
    free = QuestionFactory(canvass=phone_bank, kind="text", choices=[])
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    visit = services.call_record(
        target=target,
        volunteer=caller,
        outcome="opened",
        answers={str(single.pk): "Logement", str(several.pk): ["Bus", "Vélo"], str(scale.pk): "4", str(free.pk): " "},
    )
    assert visit.answers == {str(single.pk): "Logement", str(several.pk): ["Bus", "Vélo"], str(scale.pk): 4}
    assert visit.person == target.person and visit.door is None and visit.volunteer == caller
    target.refresh_from_db()
    assert target.done and target.attempts == 1


def test_an_answer_that_is_not_a_choice_is_refused(phone_bank, caller):
    on_the_list(phone_bank, 1)
    question = QuestionFactory(canvass=phone_bank)
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    with pytest.raises(ValidationError):
        services.call_record(target=target, volunteer=caller, outcome="opened", answers={str(question.pk): "Autre"})
    assert not Visit.objects.exists()


def test_answers_are_kept_only_when_the_person_talked(phone_bank, caller):
    on_the_list(phone_bank, 1)
    question = QuestionFactory(canvass=phone_bank)
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    visit = services.call_record(
        target=target, volunteer=caller, outcome="no_answer", answers={str(question.pk): "Logement"}
    )
    assert visit.answers == {}


def test_a_wrong_number_ends_the_contact_with_a_note_and_leaves_the_number_alone(phone_bank, caller):
    (person,) = on_the_list(phone_bank, 1)
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    services.call_record(target=target, volunteer=caller, outcome="wrong_number")
    target.refresh_from_db()
    assert target.done
    phone = person.phones.get()
    assert not phone.suppressed
    note = Note.objects.get(person=person)
    assert phone.number in note.text and phone_bank.name in note.text


def test_an_outcome_that_is_not_a_phone_outcome_is_refused(phone_bank, caller):
    on_the_list(phone_bank, 1)
    target = services.call_next(canvass=phone_bank, volunteer=caller)
    with pytest.raises(ValidationError):
        services.call_record(target=target, volunteer=caller, outcome="leaflet")


def test_a_draft_phone_bank_hands_out_no_one(phone_bank, caller):
    on_the_list(phone_bank, 1)
    Canvass.objects.filter(pk=phone_bank.pk).update(status=Canvass.Status.DRAFT)
    phone_bank.refresh_from_db()
    assert services.call_next(canvass=phone_bank, volunteer=caller) is None


# --- The organisers' view of progress ------------------------------------------------------------------------


def test_the_dashboard_of_a_phone_bank_counts_calls_and_outcomes_without_names(
    campaign, phone_bank, caller, manager, login
):
    people = on_the_list(phone_bank, 4)
    for outcome in ("opened", "no_answer", "do_not_contact"):
        target = services.call_next(canvass=phone_bank, volunteer=caller)
        services.call_record(target=target, volunteer=caller, outcome=outcome)
    progress = selectors.phone_progress(phone_bank)
    assert progress["total"] == 4
    assert progress["done"] == 2
    assert progress["due"] == 1  # never called yet
    assert progress["later"] == 1  # no answer: in two hours
    page = login(manager).get(reverse("canvassing:detail", args=[campaign.slug, phone_bank.pk])).content.decode()
    assert "Left to call now" in page
    assert "No answer" in page and "Do not contact again" in page
    for person in people:
        assert person.usage_name not in page


def test_a_call_target_of_another_campaign_is_never_handed_out(phone_bank, caller):
    CallTargetFactory()  # another campaign's phone bank
    assert services.call_next(canvass=phone_bank, volunteer=caller) is None
