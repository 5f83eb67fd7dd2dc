"""REST forms and petitions: the list (kind, status), each with its counts, views and
consent wordings, and their submissions or signatures (never the confirmation secret
nor the IP address); another campaign's are a 404."""

from __future__ import annotations

import datetime
from typing import get_args

import pytest
from django.utils import timezone

from suffrage.api.rest.actions import ActionKind, ActionStatus, SubmissionStatus
from suffrage.engagement.models import Action, PageView, Status, Submission
from tests.api.conftest import ids
from tests.factories import ActionFactory, ConsentWordingFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def test_the_choices_in_the_schema_are_the_models():
    assert set(get_args(ActionKind)) == set(Action.Kind.values)
    assert set(get_args(ActionStatus)) == set(Status.values)
    assert set(get_args(SubmissionStatus)) == set(Submission.Status.values)


def test_forms_and_petitions_are_listed_with_their_counts(campaign, other_campaign, api):
    form = ActionFactory(campaign=campaign, kind="volunteer")
    petition = ActionFactory(campaign=campaign, kind="petition", target="Le maire", goal=500, status="closed")
    SubmissionFactory(action=petition)
    SubmissionFactory(action=petition, status="pending")
    ActionFactory(campaign=other_campaign)

    body = api.get("/api/v1/actions").json()

    assert body["count"] == 2 and [row["id"] for row in body["results"]] == [form.pk, petition.pk]
    signed = body["results"][1]
    assert (signed["kind"], signed["is_petition"], signed["target"], signed["goal"]) == (
        "petition",
        True,
        "Le maire",
        500,
    )
    assert (signed["submitted"], signed["confirmed"], signed["pending"]) == (2, 1, 1)
    assert body["results"][0]["fields"][0] == {"key": "first_names", "required": True, "label": ""}


def test_forms_filter_by_kind_and_status(campaign, api):
    signup = ActionFactory(campaign=campaign, kind="signup", title="B")
    question = ActionFactory(campaign=campaign, kind="question", status="draft", title="A")
    petition = ActionFactory(campaign=campaign, kind="petition", title="C")

    assert set(ids(api.get("/api/v1/actions", {"kind": "form"}))) == {signup.pk, question.pk}
    assert ids(api.get("/api/v1/actions", {"kind": "petition"})) == [petition.pk]
    assert ids(api.get("/api/v1/actions", {"kind": "question"})) == [question.pk]
    assert ids(api.get("/api/v1/actions", {"status": "draft"})) == [question.pk]
    assert ids(api.get("/api/v1/actions", {"sort": "title"})) == [question.pk, signup.pk, petition.pk]
    assert api.get("/api/v1/actions", {"kind": "survey"}).status_code == 422


def test_a_form_shows_its_views_conversion_and_wordings(campaign, api):
    action = ActionFactory(campaign=campaign)
    wording = ConsentWordingFactory(action=action, channel="email")
    PageView.objects.create(campaign=campaign, page=f"action:{action.pk}", day=timezone.localdate(), count=8)
    SubmissionFactory(action=action)
    SubmissionFactory(action=action)

    body = api.get(f"/api/v1/actions/{action.pk}").json()

    assert (body["submitted"], body["views"], body["conversion"]) == (2, 8, 25.0)
    assert [row["id"] for row in body["wordings"]] == [wording.pk]


def test_submissions_are_listed_without_their_secrets(campaign, api):
    action = ActionFactory(campaign=campaign, kind="question")
    first = SubmissionFactory(
        action=action,
        answers={"message": "Et les transports ?"},
        consents={"email": 4},
        ip="192.0.2.7",
        confirm_hash="f" * 64,
        confirmed_at=timezone.now(),
    )
    second = SubmissionFactory(action=action, status="pending", via="embed")

    body = api.get(f"/api/v1/actions/{action.pk}/submissions").json()

    assert [row["id"] for row in body["results"]] == [first.pk, second.pk]
    row = body["results"][0]
    assert (row["person_id"], row["status"], row["answers"], row["consents"]) == (
        first.person_id,
        "confirmed",
        {"message": "Et les transports ?"},
        {"email": 4},
    )
    assert "192.0.2.7" not in str(body) and "f" * 64 not in str(body)
    assert ids(api.get(f"/api/v1/actions/{action.pk}/submissions", {"status": "pending"})) == [second.pk]
    assert ids(api.get(f"/api/v1/actions/{action.pk}/submissions", {"via": "embed"})) == [second.pk]
    assert ids(api.get(f"/api/v1/actions/{action.pk}/submissions", {"sort": "-created_at"})) == [second.pk, first.pk]
    later = (timezone.now() + datetime.timedelta(minutes=5)).isoformat()
    assert ids(api.get(f"/api/v1/actions/{action.pk}/submissions", {"since": later})) == []
    one = api.get(f"/api/v1/actions/{action.pk}/submissions/{second.pk}").json()
    assert (one["id"], one["status"], one["via"], one["confirmed_at"]) == (second.pk, "pending", "embed", None)


def test_another_campaigns_forms_are_a_404(campaign, other_campaign, api):
    action = ActionFactory(campaign=other_campaign)
    submission = SubmissionFactory(action=action)
    for path in (
        f"/api/v1/actions/{action.pk}",
        f"/api/v1/actions/{action.pk}/submissions",
        f"/api/v1/actions/{action.pk}/submissions/{submission.pk}",
    ):
        assert api.get(path).status_code == 404


def test_a_submission_of_another_form_is_a_404(campaign, api):
    action, other = ActionFactory(campaign=campaign), ActionFactory(campaign=campaign)
    submission = SubmissionFactory(action=other)
    assert api.get(f"/api/v1/actions/{action.pk}/submissions/{submission.pk}").status_code == 404


def test_erased_signers_are_gone(campaign, api):
    from suffrage.privacy.erasure import person_erase

    action = ActionFactory(campaign=campaign, kind="petition")
    submission = SubmissionFactory(action=action)
    person_erase(person=submission.person, actor=None)
    assert api.get(f"/api/v1/actions/{action.pk}/submissions").json()["count"] == 0
    assert api.get(f"/api/v1/actions/{action.pk}").json()["submitted"] == 0


def test_reading_forms_needs_the_engagement_scope(campaign, api_for):
    action = ActionFactory(campaign=campaign)
    assert api_for(campaign, scopes=["people:read", "engagement:write"]).get("/api/v1/actions").status_code == 403
    assert api_for(campaign, scopes=["engagement:read"]).get(f"/api/v1/actions/{action.pk}").status_code == 200


def test_a_nul_character_is_a_422_not_a_database_error(campaign, api):
    action = ActionFactory(campaign=campaign)
    response = api.get(f"/api/v1/actions/{action.pk}/submissions", {"via": "page\x00"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.via"
