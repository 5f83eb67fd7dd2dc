"""Erasure: every model that points at a person is covered by an eraser, and erasing
leaves nothing of the person behind except keyed hashes and anonymised proof."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.db import models

from suffrage.core.audit import audit_record
from suffrage.core.models import AuditLog
from suffrage.imports.models import ImportRow
from suffrage.messaging.notices import notice_queue
from suffrage.people.models import Person, PersonEmail
from suffrage.people.services import person_create, person_merge
from suffrage.privacy import erasure
from suffrage.privacy.models import RightsRequest, Suppression, suppression_digest
from tests.factories import (
    ActionFactory,
    CallTargetFactory,
    CallToActionFactory,
    ConsentEventFactory,
    ConversationFactory,
    DeliveryFactory,
    DuplicateDismissalFactory,
    EventFactory,
    ImportBatchFactory,
    ImportRowFactory,
    MailingFactory,
    NoteFactory,
    PersonEmailFactory,
    PersonFactory,
    PersonPhoneFactory,
    PostalAddressFactory,
    ProfileSuggestionFactory,
    ResponseFactory,
    RightsRequestFactory,
    RollLinkFactory,
    RSVPFactory,
    SnapshotFactory,
    SnapshotMemberFactory,
    SocialProfileFactory,
    SubmissionFactory,
    TagFactory,
    TextFactory,
    TrackingEventFactory,
    VisitFactory,
    WebhookDeliveryFactory,
)

EMAIL = "anne.legall@example.org"
PHONE = "+33612345678"

pytestmark = pytest.mark.django_db


# --- The registry covers every relation to a person -----------------------------------------


def person_references() -> dict[str, list[str]]:
    """{model label: [column, …]} for every model holding a person's id: foreign keys and
    one-to-ones (with or without a database constraint), many-to-many through tables, and
    plain integer columns named like a person's id (imports.ImportRow.person_id)."""
    person = apps.get_model("people", "Person")
    found: dict[str, list[str]] = {}
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields(include_hidden=True):
            if field.auto_created and not field.concrete:
                continue  # the reverse side of a relation declared elsewhere
            if field.is_relation and field.related_model is person:
                if field.many_to_many:
                    through = field.remote_field.through
                    for column in through._meta.get_fields():
                        if column.is_relation and column.related_model is person and column.concrete:
                            found.setdefault(through._meta.label_lower, []).append(column.attname)
                else:
                    found.setdefault(model._meta.label_lower, []).append(field.attname)
            elif (
                not field.is_relation
                and isinstance(field, models.IntegerField)
                and (field.name == "person_id" or field.name.endswith("_person_id"))
            ):
                found.setdefault(model._meta.label_lower, []).append(field.attname)
    return {label: sorted(set(columns)) for label, columns in found.items()}


def uncovered(covered: frozenset[str]) -> list[str]:
    return sorted(label for label in person_references() if label not in covered)


def test_every_model_holding_a_person_is_covered_by_an_eraser():
    missing = uncovered(erasure.covered_models())
    assert not missing, (
        f"These models hold a person's id but no app's erasers.py covers them: {', '.join(missing)}. "
        "Add a Part for each to the app's ERASERS (deleted, or kept with the legal reason)."
    )


def test_the_check_names_a_model_an_app_forgot():
    without_segments = frozenset().union(
        *(eraser.models for eraser in erasure.all_erasers() if eraser.app_label != "segments")
    )
    assert "segments.snapshotmember" in uncovered(without_segments)
    # The walk sees what the check must: constraint-less keys, through tables, bare ids.
    references = person_references()
    assert {"messaging.delivery", "segments.snapshotmember", "people.person_tags", "imports.importrow"} <= set(
        references
    )


def test_every_part_names_a_real_model_and_every_kept_part_says_why():
    for eraser in erasure.all_erasers():
        for part in eraser.parts:
            apps.get_model(part.model)
            assert part.label
        for part in eraser.kept:
            assert str(part.kept)
    assert erasure.all_erasers()[-1].app_label == "people"  # the Person rows go last


# --- Erasing a person -------------------------------------------------------------------------


def _everything(campaign, owner):
    """A person with a row in every model that can point at one."""
    person = person_create(
        campaign=campaign,
        actor=owner,
        source="web_form",
        legal_basis="consent",
        email=EMAIL,
        first_names="Anne",
        usage_name="Le Gall",
    )
    PersonPhoneFactory(person=person, number=PHONE)
    PostalAddressFactory(person=person)
    SocialProfileFactory(person=person)
    NoteFactory(person=person, text="Anne Le Gall habite près du port.")
    ConsentEventFactory(person=person)
    person.tags.add(TagFactory(campaign=campaign))
    DuplicateDismissalFactory(first=person, campaign=campaign)
    ImportRowFactory(
        batch=ImportBatchFactory(campaign=campaign),
        person_id=person.pk,
        messages=[{"field": "phone", "message": "0612 is not a valid phone number."}],
    )
    RollLinkFactory(person=person, model__version__campaign=campaign)
    SnapshotMemberFactory(person=person, snapshot=SnapshotFactory(campaign=campaign))
    TrackingEventFactory(delivery=DeliveryFactory(person=person, mailing=MailingFactory(campaign=campaign)))
    rights = RightsRequestFactory(campaign=campaign, person=person, kind="erasure", requester_name="Anne Le Gall")
    notice_queue(campaign=campaign, person=person, to=EMAIL, key="rsvp:1", subject="Inscription", text="Merci.")
    SubmissionFactory(action=ActionFactory(campaign=campaign), person=person, answers={"message": "Anne, du port"})
    RSVPFactory(event=EventFactory(campaign=campaign), person=person)
    ResponseFactory(call=CallToActionFactory(campaign=campaign), person=person)
    VisitFactory(door__turf__canvass__campaign=campaign, person=person, answers={"1": "Logement"}, note="Anne")
    CallTargetFactory(canvass__campaign=campaign, person=person)
    TextFactory(conversation=ConversationFactory(campaign=campaign, person=person), body="Anne : je viendrai")
    ProfileSuggestionFactory(campaign=campaign, candidate=person, handle="anne.legall")
    apps.get_model("social", "NetworkArrival").objects.create(campaign=campaign, network="x", person_id=person.pk)
    # A record merged into this one earlier: its history is the person's too.
    twin = PersonFactory(campaign=campaign, first_names="Anne", usage_name="Le Gall")
    PersonEmailFactory(person=twin, address="anne.pro@example.org")
    audit_record(action="person.update", campaign=campaign, obj=twin, changes={"usage_name": ["", "Le Gall"]})
    WebhookDeliveryFactory(subscription__campaign=campaign, person_id=twin.pk)  # re-homed by the merge
    twin_pk = twin.pk
    person = person_merge(keep=person, other=twin, actor=owner)
    return person, twin_pk, rights


def _bystander(campaign):
    person = PersonFactory(campaign=campaign, first_names="Yann", usage_name="Kervella")
    PersonEmailFactory(person=person, address=f"yann@{campaign.slug}.example")
    PersonPhoneFactory(person=person, number="+33698765432")
    NoteFactory(person=person)
    ConsentEventFactory(person=person)
    DeliveryFactory(person=person, mailing=MailingFactory(campaign=campaign))
    SnapshotMemberFactory(person=person, snapshot=SnapshotFactory(campaign=campaign))
    audit_record(action="person.update", campaign=campaign, obj=person, changes={"first_names": ["", "Yann"]})
    return person


def _rows_about(pk):
    """(model, column) pairs still holding this id."""
    left = []
    for label, columns in person_references().items():
        model = apps.get_model(label)
        for column in columns:
            if model._base_manager.filter(**{column: pk}).exists():
                left.append(f"{label}.{column}")
    return left


def _footprint(person):
    return {label: _count(label, columns, person.pk) for label, columns in person_references().items()}


def _count(label, columns, pk):
    model = apps.get_model(label)
    return sum(model._base_manager.filter(**{column: pk}).count() for column in columns)


def test_erasing_a_person_removes_everything_and_keeps_only_hashes_and_proof(campaign, other_campaign, owner):
    person, twin_pk, rights = _everything(campaign, owner)
    neighbour = _bystander(campaign)
    stranger = _bystander(other_campaign)
    before = {p.pk: _footprint(p) for p in (neighbour, stranger)}
    assert not _rows_about(twin_pk)
    filled = {entry.rsplit(".", 1)[0] for entry in _rows_about(person.pk)}
    assert filled == set(person_references()), "the fixture must fill every model"

    found = {item.model: item for item in erasure.erasure_collect(person)}
    assert found["people.personemail"].count == 2 and not found["people.personemail"].kept
    assert found["privacy.rightsrequest"].kept and found["privacy.rightsrequest"].reason
    assert found["core.auditlog"].kept and found["core.auditlog"].count >= 3

    counts = erasure.person_erase(person=person, actor=owner, request=rights)

    assert not _rows_about(person.pk)
    assert not Person.objects.filter(pk=person.pk).exists()
    assert counts["people.person"] == 1 and counts["messaging.trackingevent"] == 1
    assert counts["people.personemail"] == 2 and counts["suppressed"] == 3
    # The proof stays, detached and without the person's data.
    assert rights.person is None
    rights.refresh_from_db()
    assert rights.person is None
    assert ImportRow.objects.get(batch__campaign=campaign).messages == []
    about = AuditLog.objects.filter(object_type="people.person", object_id__in=[str(person.pk), str(twin_pk)])
    assert about.count() >= 3
    for entry in AuditLog.objects.filter(campaign=campaign):
        text = entry.object_repr + json.dumps(entry.changes, ensure_ascii=False)
        assert "Anne" not in text and "Le Gall" not in text and EMAIL not in text, entry.action
    erased = AuditLog.objects.get(action="person.erase")
    assert erased.changes["request"] == rights.pk and erased.changes["counts"]["people.person"] == 1
    # Only keyed hashes remain, and they catch the address when it comes back.
    for channel, value in (("email", EMAIL), ("email", "anne.pro@example.org"), ("phone", PHONE)):
        assert Suppression.objects.filter(
            campaign=campaign, channel=channel, digest=suppression_digest(value), reason="erasure"
        ).exists()
    assert not Suppression.objects.filter(digest__in=[EMAIL, PHONE]).exists()
    back = person_create(campaign=campaign, actor=None, source="import", legal_basis="consent", email=EMAIL)
    assert PersonEmail.objects.get(person=back).status == PersonEmail.Status.SUPPRESSED
    # Nobody else lost anything.
    for other in (neighbour, stranger):
        assert _footprint(other) == before[other.pk]
        assert PersonEmail.objects.get(person=other).status == PersonEmail.Status.OK
        assert AuditLog.objects.filter(object_id=str(other.pk), object_repr__contains="Yann").exists()
    assert not Suppression.objects.filter(campaign=other_campaign).exists()


def test_erasing_many_people_is_set_based_and_suppresses_only_for_an_erasure(
    campaign, other_campaign, owner, django_assert_max_num_queries
):
    people = [PersonFactory(campaign=campaign) for _ in range(30)]
    for index, person in enumerate(people):
        PersonEmailFactory(person=person, address=f"many{index}@example.org")
        NoteFactory(person=person)
        ConsentEventFactory(person=person)
        DeliveryFactory(person=person, mailing=MailingFactory(campaign=campaign))
    keep = PersonFactory(campaign=campaign)
    stranger = PersonFactory(campaign=other_campaign)
    chosen = Person.objects.filter(pk__in=[p.pk for p in people] + [stranger.pk])
    with django_assert_max_num_queries(64):  # the same for 30 as for 3: no query per person
        erased = erasure.people_erase(campaign=campaign, people=chosen, actor=owner, reason="erasure")
    assert erased == 30
    assert set(Person.objects.values_list("pk", flat=True)) >= {keep.pk, stranger.pk}
    assert not Person.objects.filter(pk__in=[p.pk for p in people]).exists()
    assert Suppression.objects.filter(campaign=campaign, channel="email").count() == 30
    audit = AuditLog.objects.get(action="people.erase")
    assert audit.changes["people"] == 30 and audit.changes["counts"]["people.note"] == 30

    # Retention deletes without keeping even a hash.
    expired = PersonFactory(campaign=campaign)
    PersonEmailFactory(person=expired, address="expired@example.org")
    erased = erasure.people_erase(
        campaign=campaign, people=Person.objects.filter(pk=expired.pk), actor=None, reason="Retention rule: prospects"
    )
    assert erased == 1 and not Person.objects.filter(pk=expired.pk).exists()
    assert not Suppression.objects.filter(digest=suppression_digest("expired@example.org")).exists()


def test_a_request_of_another_campaign_is_refused(campaign, other_campaign, owner):
    from django.core.exceptions import ValidationError

    person = PersonFactory(campaign=campaign)
    foreign = RightsRequestFactory(campaign=other_campaign)
    with pytest.raises(ValidationError):
        erasure.person_erase(person=person, actor=owner, request=foreign)
    assert Person.objects.filter(pk=person.pk).exists()
    assert RightsRequest.objects.filter(pk=foreign.pk).exists()
