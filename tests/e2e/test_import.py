"""A manager imports a contacts file in the browser: upload, map, dry run, import
with a live progress bar, then finds the people and downloads the row report."""

import re

import pytest
from playwright.sync_api import expect

from suffrage.core.roles import Role
from suffrage.people.models import Person
from tests.factories import PASSWORD, CampaignFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSV = (
    "Prénom;Nom;Courriel;Portable;CP;Ville\n"
    "Anne;Le Gall;anne@example.org;06 12 34 56 78;29200;Brest\n"
    "Yann;Kerjean;pas-un-email;;29200;Brest\n"
    "Loïc;Quéré;loic@example.org;;29000;Quimper\n"
)


def test_import_a_file_from_upload_to_report(page, live_server, tmp_path):
    campaign = CampaignFactory(slug="brest")
    user = UserFactory(email="manager@brest.example")
    MembershipFactory(campaign=campaign, user=user, role=Role.MANAGER)
    path = tmp_path / "contacts.csv"
    path.write_text(CSV, encoding="cp1252")

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("main input[name=login]").fill(user.email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/campaigns/$"))

    page.goto(f"{live_server.url}/c/brest/imports/")
    page.set_input_files("#id_file", str(path))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator("main")).to_contain_text("cp1252")
    for index, target in enumerate(["first_names", "usage_name", "email", "phone", "postcode", "town"]):
        page.select_option(f"#column_{index}", target)
    page.select_option("#id_legal_basis", "consent")

    page.get_by_role("button", name=re.compile("Dry run|Essai")).click()
    expect(page.locator(".job-progress")).to_contain_text("2")
    assert Person.objects.count() == 0

    page.get_by_role("button", name=re.compile("^(Import|Importer)$")).click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator(".job-progress progress")).to_have_attribute("value", "100")
    expect(page.locator(".job-errors summary")).to_be_visible()
    assert Person.objects.count() == 2

    page.goto(f"{live_server.url}/c/brest/people/")
    page.locator("input[name=q]").fill("quere")
    expect(page.locator("#people-results tbody")).to_contain_text("Loïc")
    expect(page.locator("#people-results tbody")).not_to_contain_text("Anne")
