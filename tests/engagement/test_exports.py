"""CSV exports of a form's submissions and an event's RSVPs: the columns, cells a
spreadsheet would run as formulas neutralised, an audit row per export, and only the
roles allowed to export personal data."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.engagement import services
from tests.factories import (
    PASSWORD,
    ActionFactory,
    EventFactory,
    PersonEmailFactory,
    PersonFactory,
    PersonPhoneFactory,
    RSVPFactory,
    SubmissionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(login):
    """Pages in English, whatever translations exist: the tests read the English strings."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


@pytest.fixture
def exporter(login):
    """A client signed in a moment ago, as exporting personal data asks (a recent sign-in)."""

    def make(user):
        client = login(user)
        client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
        return client

    return make


def rows_of(response):
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def export_url(campaign, obj):
    kind = "action" if obj._meta.model_name == "action" else "event"
    return reverse(f"engagement:{kind}_export", args=[campaign.slug, obj.pk])


def test_a_forms_export_has_one_line_per_submission_with_answers_and_consents(campaign, manager, exporter):
    action = ActionFactory(campaign=campaign, slug="questions")
    services.wordings_set(owner=action, texts={"email": "Je veux les nouvelles par email."})
    services.submission_record(
        action=action,
        data={
            "first_names": "Anne",
            "last_name": "Le Gall",
            "email": "anne@example.org",
            "message": "Quand passez-vous à Recouvrance ?",
            "consent_email": True,
        },
        via="embed",
    )
    response = exporter(manager).post(export_url(campaign, action))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="brest-2027-questions.csv"' in response["Content-Disposition"]
    header, row = rows_of(response)
    assert header == ["date", "status", "via", "name", "email", "phone", "answers", "consents given"]
    assert row[1:] == [
        "Confirmed",
        "embed",
        "Anne Le Gall",
        "anne@example.org",
        "",
        "message: Quand passez-vous à Recouvrance ?",
        "email (v1)",
    ]


def test_an_events_export_lists_rsvps_with_guests_and_check_in(campaign, owner, exporter):
    event = EventFactory(campaign=campaign, slug="reunion-siam")
    anne = PersonFactory(campaign=campaign, first_names="Anne", usage_name="Le Gall")
    PersonEmailFactory(person=anne, address="anne@example.org")
    PersonPhoneFactory(person=anne, number="+33612345678")
    RSVPFactory(event=event, person=anne, guests=2, checked_in_at=timezone.now())
    RSVPFactory(
        event=event,
        person=PersonFactory(campaign=campaign, first_names="Yves", usage_name="Kerouac"),
        status="waitlist",
    )
    response = exporter(owner).post(export_url(campaign, event))
    header, *rows = rows_of(response)
    assert header == ["name", "email", "phone", "status", "guests", "checked in"]
    # In the order of last names.
    assert rows[0] == ["Yves Kerouac", "", "", "On the waiting list", "0", ""]
    # A leading "+" is a formula trigger too: the number keeps it behind an apostrophe (safe_cell).
    assert rows[1][:5] == ["Anne Le Gall", "anne@example.org", "'+33612345678", "Coming", "2"]
    assert rows[1][5].startswith(timezone.localdate().isoformat()[:4])


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(campaign, manager, exporter):
    action = ActionFactory(campaign=campaign)
    person = PersonFactory(campaign=campaign, first_names='=HYPERLINK("https://evil.example")', usage_name="")
    SubmissionFactory(action=action, person=person, answers={"message": "x"}, via="+api")
    event = EventFactory(campaign=campaign)
    RSVPFactory(event=event, person=PersonFactory(campaign=campaign, first_names="@SUM(A1)", usage_name=""))
    client = exporter(manager)
    _header, row = rows_of(client.post(export_url(campaign, action)))
    assert row[3] == '\'=HYPERLINK("https://evil.example")'
    assert row[2] == "'+api"
    _header, rsvp_row = rows_of(client.post(export_url(campaign, event)))
    assert rsvp_row[0] == "'@SUM(A1)"


def test_each_export_writes_an_audit_row_with_the_object_and_count(campaign, manager, exporter):
    action = ActionFactory(campaign=campaign)
    SubmissionFactory.create_batch(3, action=action)
    event = EventFactory(campaign=campaign)
    RSVPFactory.create_batch(2, event=event)
    client = exporter(manager)
    client.post(export_url(campaign, action))
    client.post(export_url(campaign, event))
    entries = AuditLog.objects.filter(action="engagement.export").order_by("pk")
    assert [(e.object_type, e.object_id, e.changes["count"][1], e.actor) for e in entries] == [
        ("engagement.action", str(action.pk), 3, manager),
        ("engagement.event", str(event.pk), 2, manager),
    ]


def test_downloading_needs_a_recent_sign_in(campaign, manager, login):
    action = ActionFactory(campaign=campaign)
    SubmissionFactory(action=action)
    response = login(manager).post(export_url(campaign, action))
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert not AuditLog.objects.filter(action="engagement.export").exists()


def test_opening_the_export_page_downloads_nothing_and_records_nothing(campaign, manager, login):
    action = ActionFactory(campaign=campaign)
    SubmissionFactory.create_batch(2, action=action)
    response = login(manager).get(export_url(campaign, action))
    assert response.status_code == 200 and "2 submissions" in response.content.decode()
    assert not AuditLog.objects.filter(action="engagement.export").exists()


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ORGANISER, Role.VOLUNTEER])
def test_roles_without_the_export_permission_get_403(campaign, member, login, role):
    action = ActionFactory(campaign=campaign)
    SubmissionFactory(action=action)
    event = EventFactory(campaign=campaign)
    client = login(member(role))
    assert client.post(export_url(campaign, action)).status_code == 403
    assert client.post(export_url(campaign, event)).status_code == 403
    assert not AuditLog.objects.filter(action="engagement.export").exists()


def test_the_export_link_is_shown_only_to_those_who_may_export(campaign, member, manager, login):
    action = ActionFactory(campaign=campaign)
    detail = reverse("engagement:action_detail", args=[campaign.slug, action.pk])
    assert export_url(campaign, action) in login(manager).get(detail).content.decode()
    assert export_url(campaign, action) not in login(member(Role.ORGANISER)).get(detail).content.decode()


def test_another_campaigns_form_cannot_be_exported(campaign, other_campaign, owner, login):
    foreign = ActionFactory(campaign=other_campaign)
    SubmissionFactory(action=foreign)
    assert login(owner).post(export_url(campaign, foreign)).status_code == 404


def test_the_export_takes_the_same_number_of_queries_however_many_rows(
    campaign, manager, exporter, django_assert_num_queries
):
    action = ActionFactory(campaign=campaign)
    client = exporter(manager)
    client.get(export_url(campaign, action))  # the first visit also remembers the campaign
    for more in (1, 10):
        for _ in range(more):
            person = PersonFactory(campaign=campaign)
            PersonEmailFactory(person=person)
            PersonPhoneFactory(person=person)
            SubmissionFactory(action=action, person=person)
        # session, user, membership, the form; the recent sign-in check (4); submissions, emails,
        # phones, wordings; the audit row
        with django_assert_num_queries(13):
            assert client.post(export_url(campaign, action)).status_code == 200
