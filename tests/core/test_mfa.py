"""The campaign's MFA rule: owners and managers set up TOTP before reaching data."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value, yield_hotp_counters_from_time
from django.urls import reverse

from suffrage.core.models import AuditLog
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def totp_code(secret: str) -> str:
    counter = next(yield_hotp_counters_from_time())
    return f"{hotp_value(secret, counter):06d}"


@pytest.fixture
def strict_campaign(campaign):
    campaign.require_mfa = True
    campaign.save()
    return campaign


def test_a_manager_without_mfa_is_sent_to_set_it_up(strict_campaign, manager, login):
    response = login(manager).get(reverse("core:members", args=[strict_campaign.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_a_volunteer_is_not_bound_by_the_mfa_rule(strict_campaign, volunteer, login):
    assert login(volunteer).get(reverse("core:dashboard", args=[strict_campaign.slug])).status_code == 200


def test_the_rule_can_be_turned_off_by_the_campaign(campaign, manager, login):
    assert login(manager).get(reverse("core:members", args=[campaign.slug])).status_code == 200


def test_sign_in_asks_for_the_code_then_lets_the_manager_in(strict_campaign, manager, client):
    secret = generate_totp_secret()
    TOTP.activate(manager, secret)
    response = client.post(reverse("account_login"), {"login": manager.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("core:members", args=[strict_campaign.slug])).status_code == 302
    client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert not AuditLog.objects.filter(action="account.sign_in").exists()
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert client.get(reverse("core:members", args=[strict_campaign.slug])).status_code == 200
    assert AuditLog.objects.filter(action="account.sign_in", actor=manager).count() == 1


def test_repeated_failed_sign_ins_lock_the_account_for_a_while(owner, client):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": owner.email, "password": "wrong"})
    # Even the right password is refused until the window passes.
    response = client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    page = response.content.decode().lower()
    assert "too many failed" in page or "trop de tentatives" in page
