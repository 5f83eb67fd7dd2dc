"""A manager signs in with a password and a TOTP code, switches language and
campaign, follows a job's progress, and the pages fit a 360 px phone."""

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value, yield_hotp_counters_from_time
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from suffrage.core.models import User
from suffrage.core.roles import Role
from tests.factories import (
    PASSWORD,
    AuditLogFactory,
    CampaignFactory,
    MembershipFactory,
    PersonEmailFactory,
    PersonFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _totp_code(secret):
    return f"{hotp_value(secret, next(yield_hotp_counters_from_time())):06d}"


@pytest.fixture
def two_campaigns():
    brest = CampaignFactory(name="Brest en commun", slug="brest", require_mfa=True)
    quimper = CampaignFactory(name="Quimper demain", slug="quimper")
    user = UserFactory(email="claire@brest.example")
    MembershipFactory(campaign=brest, user=user, role=Role.OWNER)
    MembershipFactory(campaign=quimper, user=user, role=Role.ANALYST)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    AuditLogFactory(campaign=brest, action="campaign.update")
    person = PersonFactory(campaign=brest, pk=4242, first_names="Maïwenn", usage_name="Le Bihan-Kerouanton")
    PersonEmailFactory(person=person, address="maiwenn.lebihan-kerouanton@example.org")
    return user, secret, brest, quimper


def _submit_code(page, secret):
    page.locator("main input[name=code]").fill(_totp_code(secret))
    page.locator("main form button[type=submit]").click()


def _sign_in(page, base_url, user, secret):
    page.goto(f"{base_url}/accounts/login/")
    page.locator("main input[name=login]").fill(user.email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    _submit_code(page, secret)
    try:
        page.wait_for_url(lambda url: "/2fa/authenticate/" not in url, timeout=10_000)
    except PlaywrightTimeoutError:
        # A code typed as its 30-second window closes can be refused: as a person
        # would, wait for the next code and type it.
        page.wait_for_timeout((30 - time.time() % 30 + 1) * 1000)
        _submit_code(page, secret)


def test_sign_in_with_mfa_then_switch_language_and_campaign(page, live_server, two_campaigns):
    user, secret, *_ = two_campaigns
    _sign_in(page, live_server.url, user, secret)
    page.wait_for_url(re.compile(r"/campaigns/$"))
    page.goto(f"{live_server.url}/c/brest/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".app-nav")).to_contain_text("Tableau de bord")

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".app-nav")).to_contain_text("Dashboard")
    assert User.objects.get(pk=user.pk).language == "en"

    page.locator(".campaign-switcher summary").click()
    page.locator(".campaign-switcher").get_by_role("link", name=re.compile("Quimper demain")).click()
    page.wait_for_url(re.compile(r"/c/quimper/$"))
    expect(page.locator("h1")).to_have_text("Quimper demain")
    # An analyst: no members, no audit log in the menu.
    expect(page.locator(".app-nav")).not_to_contain_text("Members")


def test_an_export_shows_its_progress_then_its_download(page, live_server, two_campaigns):
    user, secret, *_ = two_campaigns
    _sign_in(page, live_server.url, user, secret)
    page.wait_for_url(re.compile(r"/campaigns/$"))
    page.goto(f"{live_server.url}/c/brest/audit/")
    page.locator("main").get_by_role("link", name=re.compile("CSV")).click()
    # A sensitive act: the password is asked again.
    page.wait_for_url(re.compile(r"/reauthenticate/"))
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/audit/export/"))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator(".job-progress progress")).to_have_attribute("value", "100")
    expect(page.locator(".job-progress a[download]")).to_be_visible()


@pytest.mark.parametrize(
    "path",
    [
        "/c/brest/",
        "/c/brest/members/",
        "/c/brest/audit/",
        "/c/brest/settings/",
        "/c/brest/people/",
        "/c/brest/people/4242/",
        "/c/brest/imports/",
    ],
)
def test_pages_fit_a_360_pixel_phone(browser, live_server, two_campaigns, path):
    user, secret, *_ = two_campaigns
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740})
    page = context.new_page()
    _sign_in(page, live_server.url, user, secret)
    page.wait_for_url(re.compile(r"/campaigns/$"))
    page.goto(live_server.url + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
