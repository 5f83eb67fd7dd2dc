"""Roll pages: importing an extract, browsing it by station, street and age band only,
the review queue side by side, decisions, and who may see what."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from suffrage.core.models import AuditLog, Job
from suffrage.core.roles import Role
from suffrage.roll.models import RollEntry, RollLink, RollVersion
from tests import factories
from tests.roll.test_importing import elector, roll_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(campaign):
    version = factories.RollVersionFactory(campaign=campaign)
    factories.RollEntryFactory(version=version, station_code="29019_0001", street_key="rue de siam", birth_year=1950)
    factories.RollEntryFactory(
        version=version,
        station_code="29019_0002",
        street_key="avenue foch",
        birth_year=2004,
        birth_name="<b>KERGUS</b>",
    )
    return version


def test_a_roll_extract_is_imported_through_the_pages(campaign, manager, login):
    election = factories.CalendarElectionFactory(campaign=campaign)
    client = login(manager)
    upload = SimpleUploadedFile("liste.csv", roll_csv([elector(1), elector(2)]))
    response = client.post(reverse("imports:upload", args=[campaign.slug]), {"kind": "roll", "file": upload})
    detail = response.url
    page = client.get(detail).content.decode()
    assert 'value="birth_name" selected' in page  # the official columns are mapped already
    columns = {f"column_{i}": target for i, target in enumerate(campaign.import_batches.get().mapping)}
    form = {**columns, "election": election.pk, "scope": "29019", "extracted_on": "2026-03-01", "action": "run"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(detail, form)
    assert response.status_code == 302
    version = RollVersion.objects.get()
    assert (version.election, version.entry_count, version.scope) == (election, 2, "29019")
    assert RollEntry.objects.filter(version=version).count() == 2


def test_the_roll_is_browsed_by_station_street_and_age_only(campaign, manager, login, version):
    client = login(manager)
    url = reverse("roll:version", args=[campaign.slug, version.pk])
    page = client.get(url).content.decode()
    assert "&lt;b&gt;KERGUS&lt;/b&gt;" in page and "<b>KERGUS</b>" not in page
    assert 'name="station"' in page and 'name="age"' in page
    assert "birth_name" not in page and "birth_place" not in page  # nothing to sort or filter by them
    young = client.get(url, {"age": "18-24"}).context["page"]
    assert [entry.birth_year for entry in young] == [2004]
    in_station = client.get(url, {"station": "29019_0001"}).context
    assert [entry.station_code for entry in in_station["page"]] == ["29019_0001"]
    assert in_station["streets"] == [("rue de siam", "RUE DE SIAM")]
    # A sort asked in the address is ignored: the roll stays in roll order.
    ordered = client.get(url, {"sort": "birth_name"}).context["page"]
    assert [entry.station_code for entry in ordered] == ["29019_0001", "29019_0002"]


def test_volunteers_and_analysts_do_not_see_the_roll(campaign, member, login, version):
    for role in (Role.VOLUNTEER, Role.ANALYST):
        response = login(member(role)).get(reverse("roll:version", args=[campaign.slug, version.pk]))
        assert response.status_code == 403


def test_the_review_page_shows_both_sides_and_the_weights(campaign, manager, login):
    link = factories.RollLinkFactory(
        model__version__campaign=campaign,
        explanation=[
            {"field": "first_name", "level": "a given name in common", "weight": 3.2},
            {"field": "birth_date", "level": "day and month swapped", "weight": 7.5},
            {"field": "surname", "level": "different", "weight": -4.0},
        ],
    )
    page = login(manager).get(reverse("roll:review", args=[campaign.slug])).content.decode()
    assert link.entry.first_names in page and str(link.person.first_names) in page
    assert "jour et mois" in page or "day and month swapped" in page
    assert re.search(r"7[.,]5", page) and re.search(r"-4[.,]0", page)
    assert 'class="weight-for"' in page and 'class="weight-against"' in page
    assert 'data-key="a"' in page and "review.js" in page


def test_a_decision_is_recorded_and_audited(campaign, manager, login):
    link = factories.RollLinkFactory(model__version__campaign=campaign)
    response = login(manager).post(reverse("roll:decide", args=[campaign.slug, link.pk]), {"decision": "accept"})
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.status, link.decided_by) == (RollLink.Status.ACCEPTED, manager)
    assert AuditLog.objects.filter(action="roll.link_accept").count() == 1


def test_matching_asks_for_sensible_thresholds(campaign, manager, login, version):
    url = reverse("roll:match", args=[campaign.slug, version.pk])
    response = login(manager).post(url, {"upper": "0.6", "lower": "0.9"})
    assert response.status_code == 302
    assert not Job.objects.filter(kind="roll_match").exists()
