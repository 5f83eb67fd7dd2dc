"""Matching the campaign's people to the roll with Splink on DuckDB: links, the
review queue, conflicts, human decisions that stand, and the one-person fast path.

The data is the project's synthetic roll and signups drawn from it with the noise of
real web forms, so the test knows which elector each signup really is."""

import datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse

from suffrage.core.models import AuditLog, Job
from suffrage.core.services import calendar_election_delete
from suffrage.imports.normalise import parse_date
from suffrage.people.models import LegalBasis, Source
from suffrage.people.services import person_create
from suffrage.roll import services
from suffrage.roll.models import RollEntry, RollLink, RollVersion
from suffrage.roll.selectors import supporters_not_found
from suffrage.roll.synthetic import RollStation, noisy_signups, synthetic_roll
from tests import factories
from tests.roll.test_importing import import_roll

pytestmark = pytest.mark.django_db

STREETS = ("Rue de Siam", "Rue Jean Jaurès", "Place de la Liberté", "Avenue Foch", "Rue de Lyon", "Quai Tourville")


def stations_in(campaign):
    commune = factories.CommuneFactory(code="29019", name="Brest")
    campaign.communes.create(commune=commune)
    result = []
    for n in range(1, 5):
        station = factories.PollingStationFactory(commune=commune, code=f"29019_000{n}", number=str(n))
        result.append(
            RollStation(station.code, station.number, f"École {n}", "29019", "Brest", "29200", STREETS[n - 1 : n + 2])
        )
    return result


def signup_person(campaign, values, **extra):
    try:
        born = parse_date(values["birth_date"])
    except ValueError:
        born = None
    return person_create(
        campaign=campaign,
        actor=None,
        source=Source.WEB_FORM,
        legal_basis=LegalBasis.CONSENT,
        first_names=values["first_names"],
        usage_name=values["last_name"],
        birth_date=born,
        address={k: values[k] for k in ("number", "street", "postcode", "town")},
        **extra,
    )


@pytest.fixture
def matched(campaign, manager):
    """A 2,000-elector roll, 200 signups (70 % on it) and one matching run."""
    rows = list(synthetic_roll(2000, stations_in(campaign), seed=11))
    election = factories.CalendarElectionFactory(campaign=campaign)
    batch, job = import_roll(campaign, manager, rows, election=election)
    assert job.status == Job.Status.SUCCEEDED, job.errors
    truth = {}
    for signup in noisy_signups(rows, 200, seed=12):
        truth[signup_person(campaign, signup.values, support_level=1).pk] = signup.elector
    version = RollVersion.objects.get(batch=batch)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.match_start(version=version, actor=manager)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.errors
    return version, truth, rows


def electors(links):
    return {link.person_id: link.entry.elector_number for link in links}


def test_people_on_the_roll_are_linked_and_doubtful_pairs_queued(campaign, matched):
    version, truth, _rows = matched
    linked = electors(RollLink.objects.filter(status=RollLink.Status.LINKED).select_related("entry"))
    review = electors(RollLink.objects.filter(status=RollLink.Status.REVIEW).select_related("entry"))
    on_roll = {person for person, elector in truth.items() if elector}
    correct = sum(1 for person, elector in linked.items() if truth[person] == elector)
    assert correct / len(linked) >= 0.98, "automatic links must be right"
    found = correct + sum(1 for person, elector in review.items() if truth[person] == elector)
    assert found / len(on_roll) >= 0.85, "most people on the roll are found"
    assert len(linked) >= 0.6 * len(on_roll)
    # One person per entry among links, and each link says which model and how sure.
    assert len(set(linked.values())) == len(linked)
    link = RollLink.objects.filter(status=RollLink.Status.LINKED).first()
    assert link.model.version == version and 0.99 <= link.probability <= 1
    assert {item["field"] for item in link.explanation} >= {"first_name", "surname", "birth_date", "address"}
    # Supporters the roll does not list are the registration drive.
    missing = set(supporters_not_found(campaign).values_list("pk", flat=True))
    assert missing and missing.isdisjoint(linked) and missing.isdisjoint(review)


def test_the_model_is_stored_with_its_training_summary(campaign, matched):
    model = services.current_model(campaign)
    assert model.number == 1 and model.backend == "duckdb"
    assert model.training["roll_records"] == 2000 and model.training["people_records"] == 200
    levels = model.parameters["comparisons"][0]["comparison_levels"]
    assert any(level.get("m_probability") for level in levels)
    assert model.index_path.endswith(".duckdb")


def test_decisions_are_audited_and_survive_a_new_run(campaign, manager, matched):
    version, _truth, _rows = matched
    pending = list(RollLink.objects.filter(status=RollLink.Status.REVIEW)[:2])
    assert len(pending) == 2
    rejected = services.link_decide(link=pending[0], accept=False, actor=manager)
    accepted = services.link_decide(link=pending[1], accept=True, actor=manager)
    assert AuditLog.objects.filter(action="roll.link_reject", object_id=str(rejected.pk)).exists()
    assert AuditLog.objects.filter(action="roll.link_accept", object_id=str(accepted.pk)).exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.match_start(version=version, actor=manager, retrain=True)
    assert services.current_model(campaign).number == 2
    rejected.refresh_from_db()
    accepted.refresh_from_db()
    assert (rejected.status, accepted.status) == (RollLink.Status.REJECTED, RollLink.Status.ACCEPTED)
    # The rejected pair is not proposed again, and the accepted person has no other candidate.
    assert RollLink.objects.filter(person=rejected.person, entry=rejected.entry).count() == 1
    assert RollLink.objects.filter(person=accepted.person).count() == 1


def test_an_entry_is_never_given_to_two_people_silently(campaign, manager, matched):
    entry = RollLink.objects.filter(status=RollLink.Status.LINKED).first().entry
    values = {
        "first_names": entry.first_names,
        "last_name": entry.usage_name or entry.birth_name,
        "birth_date": f"{entry.birth_day:02d}/{entry.birth_month:02d}/{entry.birth_year}",
        "number": entry.number,
        "street": entry.street,
        "postcode": entry.postcode,
        "town": entry.town,
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        twin = signup_person(campaign, values)
    link = RollLink.objects.get(person=twin)
    assert (link.entry, link.status, link.conflict) == (entry, RollLink.Status.REVIEW, True)
    with pytest.raises(ValidationError):
        services.link_decide(link=link, accept=True, actor=manager)


def _iso(roll_date: str) -> str:
    """A roll's DD/MM/YYYY as YYYY-MM-DD; "" when a part is unknown or the date impossible."""
    day, month, year = [*roll_date.split("/"), "", "", ""][:3]
    try:
        return datetime.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return ""


def test_a_new_signup_is_matched_on_arrival(campaign, matched):
    _version, _truth, rows = matched
    taken = set(RollLink.objects.values_list("entry__elector_number", flat=True))
    row = next(r for r in rows if r["NoElecteurGeneral"] not in taken and _iso(r["DateDeNaissance"]))
    values = {
        "first_names": row["Prenoms"].split()[0].title(),
        "last_name": (row["NomDusage"] or row["NomdeNaissance"]).title(),
        # As a web form would give it: a whole date (the roll writes DD/MM/YYYY).
        "birth_date": _iso(row["DateDeNaissance"]),
        "number": row["NumeroVoie"],
        "street": f"{row['TypeVoie']} {row['LibelleVoie']}",
        "postcode": row["CodePostal"],
        "town": row["VilleLocalite"],
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        person = signup_person(campaign, values)
    link = RollLink.objects.select_related("entry").get(person=person)
    assert link.entry.elector_number == row["NoElecteurGeneral"]
    assert link.model == services.current_model(campaign)


def test_deleting_the_election_deletes_the_roll_and_its_index(campaign, manager, matched):
    version, _truth, _rows = matched
    index = Path(services.current_model(campaign).index_path)
    assert index.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        calendar_election_delete(election=version.election)
    assert not index.exists()
    assert not RollEntry.objects.exists() and not RollLink.objects.exists()


def test_the_person_page_says_where_they_are_registered(campaign, manager, login, matched):
    link = RollLink.objects.filter(status=RollLink.Status.LINKED).select_related("entry").first()
    page = login(manager).get(reverse("people:detail", args=[campaign.slug, link.person_id])).content.decode()
    assert link.entry.station_code in page and 'class="roll-status"' in page


def test_nothing_to_match_is_a_clear_job_error(campaign, manager):
    version = factories.RollVersionFactory(campaign=campaign)
    factories.RollEntryFactory(version=version)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.match_start(version=version, actor=manager)
    job.refresh_from_db()
    assert job.errors and not RollLink.objects.exists()
    assert RollEntry.objects.count() == 1
