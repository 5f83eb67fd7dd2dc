"""The review queue is keyboard-driven: "a" accepts the pair shown, "r" rejects it,
and the next pair comes up."""

import re

import pytest
from playwright.sync_api import expect

from suffrage.core.roles import Role
from suffrage.roll.models import RollLink
from tests.factories import PASSWORD, CampaignFactory, MembershipFactory, PersonFactory, RollLinkFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pairs_are_reviewed_with_the_keyboard(page, live_server, tmp_path):
    campaign = CampaignFactory(slug="brest")
    organiser = UserFactory(email="organiser@brest.example")
    MembershipFactory(campaign=campaign, user=organiser, role=Role.ORGANISER)
    gwen = PersonFactory(campaign=campaign, first_names="Gwenaëlle")
    yann = PersonFactory(campaign=campaign, first_names="<b>Yann</b>")
    first = RollLinkFactory(model__version__campaign=campaign, weight=9.0, person=gwen)
    second = RollLinkFactory(model=first.model, campaign=campaign, weight=4.0, person=yann)

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("main input[name=login]").fill(organiser.email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/campaigns/$"))

    page.goto(f"{live_server.url}/c/brest/roll/review/")
    expect(page.locator("#review-pair")).to_have_attribute("data-link", str(first.pk))
    expect(page.locator("#review-pair")).to_contain_text("Gwenaëlle")
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    page.keyboard.press("a")
    expect(page.locator("#review-pair")).to_have_attribute("data-link", str(second.pk))
    expect(page.locator("#review-pair")).to_contain_text("<b>Yann</b>")  # a name is text, never markup
    page.keyboard.press("r")
    expect(page.locator("#review-pair")).to_have_count(0)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (RollLink.Status.ACCEPTED, RollLink.Status.REJECTED)
