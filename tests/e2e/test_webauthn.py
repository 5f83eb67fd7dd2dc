"""A security key (WebAuthn), added and then used to sign in, with Chromium's
virtual authenticator standing in for the hardware key."""

import re

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from suffrage.core.roles import Role
from tests.factories import PASSWORD, CampaignFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def _password_sign_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.locator("main input[name=login]").fill(email)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def test_a_manager_adds_a_security_key_and_signs_in_with_it(page, live_server, settings):
    # Browsers allow WebAuthn on http://localhost; allauth must be told so too.
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
    campaign = CampaignFactory(slug="brest", require_mfa=True)
    user = UserFactory(email="yann@brest.example")
    MembershipFactory(campaign=campaign, user=user, role=Role.MANAGER)
    _virtual_authenticator(page)

    _password_sign_in(page, live_server.url, user.email)
    page.wait_for_url(re.compile(r"/campaigns/$"))
    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    if "reauthenticate" in page.url:
        page.locator("main input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/webauthn/add/"))
    page.locator("main input[name=name]").fill("Clé YubiKey")
    page.locator("#mfa_webauthn_add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).exists()

    page.goto(f"{live_server.url}/accounts/logout/")
    page.locator("main form button[type=submit]").click()
    _password_sign_in(page, live_server.url, user.email)
    page.wait_for_url(re.compile(r"/2fa/authenticate/"))
    page.locator("#mfa_webauthn_authenticate").click()
    page.wait_for_url(re.compile(r"/campaigns/$"))
    page.goto(f"{live_server.url}/c/brest/members/")
    expect(page.locator("h1")).to_have_text(re.compile("Members|Membres"))
