"""Retention tied to the election calendar: the preview announces, per rule, what goes,
when and why; applying removes exactly that, in chunks, leaves audit rows with counts,
and does nothing more the second time."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from freezegun import freeze_time

from suffrage.core.models import AuditLog, Job
from suffrage.messaging.models import Delivery
from suffrage.people.models import ConsentEvent, LegalBasis, Person, Source
from suffrage.privacy import retention
from suffrage.privacy.models import RetentionPolicy
from suffrage.roll.models import MatchModel, RollEntry, RollLink, RollVersion
from tests.factories import (
    PASSWORD,
    CalendarElectionFactory,
    MailingFactory,
    MatchModelFactory,
    PersonFactory,
    RollEntryFactory,
    RollVersionFactory,
)

UTC = datetime.UTC
# Municipal election: rounds on 14 and 21 March 2027; with the 10-day grace period,
# election-bound data falls due on 1 April 2027 (the day after the last round + 10).
END_DUE = datetime.date(2027, 4, 1)
AFTER = "2027-06-01 10:00:00"  # UTC; noon in Paris
BEFORE = "2027-03-01 10:00:00"


@pytest.fixture(autouse=True)
def english():
    """The assertions read the rules' English wording (pages follow the user's language)."""
    with translation.override("en"):
        yield


def at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)


def person(campaign, *, collected: str, updated: str | None = None, **fields) -> Person:
    fields.setdefault("source", Source.WEB_FORM)
    fields.setdefault("legal_basis", LegalBasis.LEGITIMATE_INTEREST)
    made = PersonFactory(campaign=campaign, collected_at=at(collected), created_at=at(collected), **fields)
    # updated_at is auto_now: set the last change afterwards (update() leaves it as given).
    Person.objects.filter(pk=made.pk).update(updated_at=at(updated or collected))
    return made


def sent(campaign, someone: Person, day: str) -> Delivery:
    mailing = MailingFactory(campaign=campaign)
    return Delivery.objects.create(
        mailing=mailing, person=someone, address="x@example.org", status=Delivery.Status.SENT, sent_at=at(day)
    )


def old_audit_row(campaign, day: str) -> AuditLog:
    row = AuditLog(campaign=campaign, action="test.old", at=at(day))
    row.save()
    return row


@pytest.fixture
def world(campaign):
    """A campaign after its municipal election, with one of each kind of data."""
    election = CalendarElectionFactory(campaign=campaign)
    people = {
        # Prospects (collected indirectly, no consent, not members).
        "prospect_old": person(campaign, collected="2027-03-25", source=Source.IMPORT),
        "prospect_recent": person(campaign, collected="2027-05-20", source=Source.IMPORT),
        "prospect_unmessaged": person(campaign, collected="2027-02-01", source=Source.SOCIAL),
        "prospect_messaged_before_vote": person(campaign, collected="2027-02-01", source=Source.IMPORT),
        # Occasional contacts (collected directly, no consent).
        "occasional": person(campaign, collected="2027-02-10", source=Source.WEB_FORM, support_level=2),
        "occasional_claimed_consent": person(
            campaign, collected="2027-02-10", source=Source.EVENT, legal_basis=LegalBasis.CONSENT
        ),
        "occasional_after": person(campaign, collected="2027-05-10", source=Source.EVENT),
        # Regular contacts.
        "member": person(
            campaign,
            collected="2020-01-01",
            updated="2027-05-01",
            source=Source.IMPORT,
            legal_basis=LegalBasis.MEMBER,
            is_member=True,
            support_level=1,
        ),
        "consented": person(campaign, collected="2027-01-05", source=Source.WEB_FORM, consent_email=True),
        "silent_contact": person(
            campaign, collected="2022-01-01", updated="2024-01-10", legal_basis=LegalBasis.MEMBER, support_level=3
        ),
        "recent_consent": person(
            campaign, collected="2022-01-01", updated="2023-01-10", source=Source.CANVASSING, consent_sms=True
        ),
        "last_mail_2024_05": person(
            campaign, collected="2022-01-01", updated="2023-01-10", legal_basis=LegalBasis.MEMBER
        ),
    }
    sent(campaign, people["prospect_old"], "2027-03-28")  # + 2 months = 28 May: due
    sent(campaign, people["prospect_recent"], "2027-05-25")  # last week: due 25 July
    sent(campaign, people["prospect_messaged_before_vote"], "2027-03-10")  # the election ended first
    sent(campaign, people["last_mail_2024_05"], "2024-05-15")  # + 36 months = 15 May 2027: due
    ConsentEvent.objects.create(
        person=people["recent_consent"],
        campaign=campaign,
        channel="sms",
        granted=True,
        source=Source.CANVASSING,
        at=at("2027-05-30"),
    )
    # The roll of the election, two entries linked to people.
    version = RollVersionFactory(campaign=campaign, election=election)
    model = MatchModelFactory(campaign=campaign, version=version)
    entries = [RollEntryFactory(campaign=campaign, version=version) for _ in range(3)]
    for entry, who in zip(entries, ("member", "consented"), strict=False):
        RollLink.objects.create(
            campaign=campaign, person=people[who], entry=entry, model=model, probability=0.9, weight=7, status="linked"
        )
    # The audit log: one row 13 months old, one 11 months old.
    old_audit_row(campaign, "2026-05-01")
    old_audit_row(campaign, "2026-07-01")
    return people


def ids(*names, people) -> set[int]:
    return {people[name].pk for name in names}


GONE = ("prospect_old", "prospect_unmessaged", "prospect_messaged_before_vote", "occasional")
GONE_REGULAR = ("silent_contact", "last_mail_2024_05")
STAYS = ("prospect_recent", "occasional_after", "member", "consented", "recent_consent")


def preview_by_rule(campaign, **kwargs):
    return {line.key: line for line in retention.retention_preview(campaign, **kwargs)}


@freeze_time(AFTER)
def test_the_preview_announces_counts_dates_and_reasons_after_the_election(world, campaign):
    lines = preview_by_rule(campaign)
    assert list(lines) == ["roll", "prospects", "occasional", "regular", "sensitive", "audit"]

    assert lines["roll"].due_now == {"roll_versions": 1, "roll_entries": 3, "roll_links": 2, "roll_files": 0}
    assert lines["prospects"].due_now == {"people": 3}
    # Claiming "consent" as the legal basis without a recorded consent proves nothing.
    assert lines["occasional"].due_now == {"people": 2}
    assert lines["regular"].due_now == {"people": 2}
    # The member's support level is cleared; the others' go with their records.
    assert lines["sensitive"].due_now == {"values_cleared": 1}
    assert lines["audit"].due_now == {"audit_rows": 1}

    # What falls due next, and when.
    assert lines["prospects"].next_on == datetime.date(2027, 7, 25)
    assert lines["prospects"].next_counts == {"people": 1}
    assert lines["audit"].next_on == datetime.date(2027, 7, 1)
    assert lines["audit"].next_counts == {"audit_rows": 1}
    # The first regular contact whose 36 months run out: "consented", last changed 5 January 2027
    # (recent_consent's last exchange is its consent of 30 May 2027, not its record's last change).
    assert lines["regular"].next_on == datetime.date(2030, 1, 5)
    assert lines["roll"].next_on is None and lines["occasional"].next_on is None

    # Why, and in words.
    assert "L37" in lines["roll"].reason
    assert "2 months" in lines["prospects"].reason
    assert lines["roll"].anything_due
    assert "3 roll entries" in lines["roll"].sentence() and "because" in lines["roll"].sentence()
    with translation.override("en"):
        assert "On July 25, 2027, 1 person will be removed" in lines["prospects"].sentence()
    assert "1 person collected since the last election waits" in lines["occasional"].note


@freeze_time(AFTER)
def test_apply_removes_exactly_what_the_preview_announced(world, campaign, owner):
    report = retention.retention_apply(campaign, actor=owner)

    assert report["roll"] == {"roll_versions": 1, "roll_entries": 3, "roll_links": 2, "roll_files": 0}
    assert report["prospects"] == {"people": 3}
    assert report["occasional"] == {"people": 2}
    assert report["regular"] == {"people": 2}
    assert report["sensitive"] == {"values_cleared": 1}
    assert report["audit"] == {"audit_rows": 1}

    remaining = set(Person.objects.filter(campaign=campaign).values_list("pk", flat=True))
    assert remaining == ids(*STAYS, people=world)
    assert not RollVersion.objects.filter(campaign=campaign).exists()
    assert not RollEntry.objects.filter(campaign=campaign).exists()
    assert not RollLink.objects.filter(campaign=campaign).exists()
    assert not MatchModel.objects.filter(campaign=campaign).exists()
    assert not AuditLog.objects.filter(campaign=campaign, action="test.old", at__lt=at("2026-06-01")).exists()
    assert AuditLog.objects.filter(campaign=campaign, action="test.old").count() == 1
    # Support levels: cleared on those who stay, without touching their last change.
    member = Person.objects.get(pk=world["member"].pk)
    assert member.support_level is None and member.updated_at == at("2027-05-01")
    assert not Person.objects.filter(campaign=campaign, support_level__isnull=False).exists()
    # Expired data is deleted, not put on the suppression list.
    from suffrage.privacy.models import Suppression

    assert not Suppression.objects.filter(campaign=campaign).exists()

    # One audit row per rule, counts only (no names, no ids of people).
    rows = {row.changes["rule"]: row for row in AuditLog.objects.filter(campaign=campaign, action="retention.apply")}
    assert set(rows) == {"roll", "prospects", "occasional", "regular", "sensitive", "audit"}
    assert rows["prospects"].changes["counts"] == {"people": 3}
    assert rows["prospects"].actor == owner


@freeze_time(AFTER)
def test_apply_is_idempotent(world, campaign):
    retention.retention_apply(campaign)
    people = Person.objects.filter(campaign=campaign).count()
    audit_rows = AuditLog.objects.filter(campaign=campaign, action="retention.apply").count()

    report = retention.retention_apply(campaign)

    assert all(not any(counts.values()) for counts in report.values()), report
    assert Person.objects.filter(campaign=campaign).count() == people
    assert AuditLog.objects.filter(campaign=campaign, action="retention.apply").count() == audit_rows
    assert all(not line.anything_due for line in retention.retention_preview(campaign))


def test_before_the_election_nothing_election_bound_goes(world, campaign):
    with freeze_time(BEFORE):
        lines = preview_by_rule(campaign)
        assert lines["occasional"].due_now == {"people": 0}
        assert lines["occasional"].next_on == END_DUE
        assert lines["occasional"].next_counts == {"people": 2}
        assert lines["roll"].next_on == END_DUE and lines["roll"].next_counts["roll_entries"] == 3
        assert lines["sensitive"].next_on == END_DUE

        report = retention.retention_apply(campaign)

    assert report["occasional"] == {"people": 0}
    assert report["roll"]["roll_entries"] == 0
    assert report["sensitive"] == {"values_cleared": 0}
    assert Person.objects.filter(pk=world["occasional"].pk, support_level=2).exists()
    assert RollEntry.objects.filter(campaign=campaign).count() == 3


def test_the_end_of_the_election_is_the_last_round_of_the_last_election(campaign):
    CalendarElectionFactory(campaign=campaign, first_round_on=datetime.date(2026, 3, 15), second_round_on=None)
    CalendarElectionFactory(campaign=campaign)
    assert retention.campaign_election_end(campaign) == datetime.date(2027, 3, 21)
    with freeze_time("2026-06-01 10:00"):
        someone = person(campaign, collected="2026-01-10", source=Source.WEB_FORM)
        # The first election is over, but the campaign's last one is not: the contact stays.
        assert preview_by_rule(campaign)["occasional"].due_now == {"people": 0}
        assert retention.retention_apply(campaign)["occasional"] == {"people": 0}
    assert Person.objects.filter(pk=someone.pk).exists()


def test_roll_versions_of_a_finished_election_go_those_of_a_coming_one_stay(campaign):
    over = CalendarElectionFactory(campaign=campaign, first_round_on=datetime.date(2026, 3, 15), second_round_on=None)
    coming = CalendarElectionFactory(campaign=campaign)
    old = RollEntryFactory(version=RollVersionFactory(campaign=campaign, election=over))
    new = RollEntryFactory(version=RollVersionFactory(campaign=campaign, election=coming))
    with freeze_time("2026-06-01 10:00"):
        line = preview_by_rule(campaign)["roll"]
        assert line.due_now["roll_entries"] == 1
        assert line.next_on == END_DUE and line.next_counts["roll_entries"] == 1
        retention.retention_apply(campaign)
    assert not RollEntry.objects.filter(pk=old.pk).exists()
    assert RollEntry.objects.filter(pk=new.pk).exists()


def test_the_imported_roll_file_goes_with_its_extract(campaign, django_capture_on_commit_callbacks):
    from tests.factories import ImportBatchFactory

    election = CalendarElectionFactory(campaign=campaign)
    batch = ImportBatchFactory(campaign=campaign, kind="roll", settings={"election_id": election.pk})
    draft = ImportBatchFactory(campaign=campaign, kind="roll", settings={"election_id": election.pk})
    RollVersionFactory(campaign=campaign, election=election, batch=batch)
    storage, name = batch.file.storage, batch.file.name
    assert storage.exists(name)
    with freeze_time(AFTER), django_capture_on_commit_callbacks(execute=True):
        report = retention.retention_apply(campaign)
    assert report["roll"]["roll_files"] == 2
    assert not storage.exists(name)
    assert not type(batch).objects.filter(pk__in=[batch.pk, draft.pk]).exists()


@freeze_time(AFTER)
def test_a_disabled_rule_removes_nothing(world, campaign):
    RetentionPolicy.objects.create(
        campaign=campaign,
        rules={"prospects": {"enabled": False}, "sensitive": {"enabled": False}, "audit": {"enabled": False}},
    )
    line = preview_by_rule(campaign)["prospects"]
    assert not line.enabled and line.due_now == {} and line.next_on is None and "switched off" in line.note

    report = retention.retention_apply(campaign)

    assert "prospects" not in report and "sensitive" not in report and "audit" not in report
    for name in ("prospect_old", "prospect_unmessaged", "prospect_messaged_before_vote"):
        assert Person.objects.filter(pk=world[name].pk).exists()
    assert Person.objects.get(pk=world["member"].pk).support_level == 1
    assert AuditLog.objects.filter(campaign=campaign, action="test.old").count() == 2
    assert not Person.objects.filter(pk=world["occasional"].pk).exists()  # its rule is on


@freeze_time(AFTER)
def test_overrides_change_the_numbers(world, campaign):
    RetentionPolicy.objects.create(
        campaign=campaign, rules={"occasional": {"grace_days": 60}, "regular": {"months": 48}}
    )
    lines = preview_by_rule(campaign)
    # 21 March + 1 + 60 days = 21 May: still over on 1 June.
    assert lines["occasional"].due_now == {"people": 2}
    assert lines["regular"].due_now == {"people": 0}  # the silent contact's 48 months are not up
    assert lines["regular"].next_on == datetime.date(2028, 1, 10)
    assert "48 months" in lines["regular"].when


def test_rules_are_validated_with_clear_messages():
    assert retention.rules_validate({"prospects": {"months": 1, "enabled": True}}) == {
        "prospects": {"months": 1, "enabled": True}
    }
    assert retention.rules_validate(None) == {}
    with pytest.raises(ValidationError) as error:
        retention.rules_validate(
            {
                "prospect": {},
                "prospects": {"months": 3},
                "audit": {"months": "12", "weeks": 2},
                "regular": {"enabled": "yes"},
                "roll": {"grace_days": True},
            }
        )
    messages = " ".join(error.value.messages)
    assert "Unknown retention rule “prospect”" in messages
    assert "“prospects”: “months” must be a whole number from 1 to 2" in messages and "CNIL" in messages
    assert "“audit”: “months” must be a whole number from 6 to 12" in messages
    assert "no setting “weeks”" in messages
    assert "“regular”: “enabled” must be true or false" in messages
    assert "“roll”: “grace_days”" in messages
    with pytest.raises(ValidationError):
        retention.rules_validate(["prospects"])


def test_stored_overrides_only_keep_what_differs(campaign, owner):
    policy = retention.retention_policy_update(
        campaign=campaign,
        rules={"prospects": {"months": 2, "enabled": True}, "audit": {"months": 6}},
        enabled=True,
        actor=owner,
    )
    assert policy.rules == {"audit": {"months": 6}} and policy.enabled
    assert retention.campaign_rules(campaign)["audit"] == {"enabled": True, "months": 6}
    assert AuditLog.objects.filter(campaign=campaign, action="retention.update").count() == 1


def test_month_arithmetic():
    assert retention.add_months(datetime.date(2027, 3, 31), -1) == datetime.date(2027, 2, 28)
    assert retention.add_months(datetime.date(2026, 12, 31), 2) == datetime.date(2027, 2, 28)
    assert retention.election_due_on(datetime.date(2027, 3, 21), 0) == datetime.date(2027, 3, 22)


def test_the_daily_tick_runs_enabled_campaigns_once_a_day(world, campaign, other_campaign):
    RetentionPolicy.objects.create(campaign=campaign, enabled=True)
    quiet = person(other_campaign, collected="2020-01-01", source=Source.IMPORT)
    CalendarElectionFactory(campaign=other_campaign, first_round_on=datetime.date(2021, 3, 1), second_round_on=None)
    RetentionPolicy.objects.create(campaign=other_campaign, enabled=False)

    with freeze_time(AFTER):
        call_command("privacy_tick")
    assert not Person.objects.filter(pk=world["prospect_old"].pk).exists()
    assert Person.objects.filter(pk=quiet.pk).exists()  # its campaign did not switch it on
    job = Job.objects.get(campaign=campaign, kind="retention_apply")
    assert job.status == Job.Status.SUCCEEDED and job.report["prospects"] == {"people": 3}
    policy = RetentionPolicy.objects.get(campaign=campaign)
    assert policy.last_run_at == timezone.make_aware(datetime.datetime(2027, 6, 1, 10), UTC)

    later_prospect = person(campaign, collected="2027-05-30", source=Source.IMPORT)
    sent(campaign, later_prospect, "2027-05-30")
    with freeze_time("2027-07-31 20:00:00"):  # 22:00 in Paris, still 31 July
        call_command("privacy_tick")
        assert not Person.objects.filter(pk=later_prospect.pk).exists()
        runs = Job.objects.filter(campaign=campaign, kind="retention_apply").count()
        call_command("privacy_tick")  # same day: nothing more
        assert Job.objects.filter(campaign=campaign, kind="retention_apply").count() == runs == 2


def test_people_are_removed_in_chunks(campaign, monkeypatch):
    monkeypatch.setattr(retention, "CHUNK", 2)
    CalendarElectionFactory(campaign=campaign)
    with freeze_time(AFTER):
        for _ in range(5):
            person(campaign, collected="2027-01-01", source=Source.WEB_FORM)
        report = retention.retention_apply(campaign)
    assert report["occasional"] == {"people": 5}
    assert not Person.objects.filter(campaign=campaign).exists()


# --- The page ---------------------------------------------------------------------------


def officer(login, user):
    """A client signed in as `user`, who just confirmed their password (changes need it)."""
    client = login(user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    return client


@freeze_time(AFTER)
def test_the_page_shows_rules_and_preview_and_saves_overrides(world, campaign, login, owner, volunteer):
    url = reverse("privacy:retention", args=[campaign.slug])
    assert login(volunteer).get(url).status_code == 403
    owner.language = "en"
    owner.save(update_fields=["language"])
    # Seeing the page needs no fresh sign-in; changing the rules does.
    assert "reauthenticate" in login(owner).post(url, {"action": "save"})["Location"]
    client = officer(login, owner)
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "3 roll entries" in text and "L37" in text and "table-wrap" in text
    assert "On July 25, 2027, 1 person will be removed" in text

    form = {
        f"{key}-{name}": value
        for key, settings in retention.rules_effective({}).items()
        for name, value in settings.items()
        if name != "enabled"
    }
    form.update({f"{key}-enabled": "on" for key in retention.DEFAULT_RULES if key != "audit"})
    form.update({"action": "save", "policy-enabled": "on", "prospects-months": "1"})
    response = client.post(url, form)
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get(campaign=campaign)
    assert policy.rules == {"prospects": {"months": 1}, "audit": {"enabled": False}} and policy.enabled

    form["prospects-months"] = "5"
    response = client.post(url, form)
    assert response.status_code == 200
    assert "from 1 to 2" in response.content.decode()
    assert RetentionPolicy.objects.get(campaign=campaign).rules["prospects"] == {"months": 1}


@freeze_time(AFTER)
def test_the_page_applies_what_is_due_as_a_job(world, campaign, login, owner, django_capture_on_commit_callbacks):
    url = reverse("privacy:retention", args=[campaign.slug])
    with django_capture_on_commit_callbacks(execute=True):
        response = officer(login, owner).post(url, {"action": "apply"})
    assert response.status_code == 302
    job = Job.objects.get(campaign=campaign, kind="retention_apply")
    assert job.status == Job.Status.SUCCEEDED and job.created_by == owner
    assert job.report["prospects"] == {"people": 3}
    assert not Person.objects.filter(pk=world["prospect_old"].pk).exists()
    page = login(owner).get(url).content.decode()
    assert f"job-{job.pk}" in page
