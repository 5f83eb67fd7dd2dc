"""Members page, invitations, role changes and removal: owner, teammate, outsider."""

import re

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from suffrage.core.models import AuditLog, Invitation, Membership, User
from suffrage.core.roles import Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _invite(client, campaign, email="new@example.org", role=Role.ORGANISER):
    # The email leaves on commit; run the commit callbacks the test transaction holds back.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("core:member_invite", args=[campaign.slug]), {"email": email, "role": role})


def _token_from_last_email():
    return re.search(r"/invitations/([^/\s]+)/", mail.outbox[-1].body).group(1)


def test_the_owner_sees_members_and_the_role_table(campaign, owner, manager, login):
    response = login(owner).get(reverse("core:members", args=[campaign.slug]))
    assert response.status_code == 200
    assert manager.email in response.content.decode()
    assert "Send the invitation" in response.content.decode() or "Envoyer l" in response.content.decode()


def test_a_manager_sees_members_but_cannot_change_them(campaign, owner, manager, login):
    client = login(manager)
    page = client.get(reverse("core:members", args=[campaign.slug]))
    assert page.status_code == 200
    assert reverse("core:member_invite", args=[campaign.slug]) not in page.content.decode()
    assert _invite(client, campaign).status_code == 403


def test_an_invitation_is_emailed_and_only_a_hash_is_stored(campaign, owner, login):
    _invite(login(owner), campaign)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.org"]
    token = _token_from_last_email()
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash
    assert AuditLog.objects.filter(action="invitation.create", campaign=campaign).exists()


def test_inviting_an_existing_member_is_refused_with_a_message(campaign, owner, manager, login):
    response = _invite(login(owner), campaign, email=manager.email.upper())
    assert response.status_code == 302
    assert not Invitation.objects.exists()


def test_a_new_person_signs_up_through_the_invitation_and_joins(campaign, owner, login, client):
    _invite(login(owner), campaign)
    url = reverse("core:invitation", args=[_token_from_last_email()])
    assert client.get(url).status_code == 200
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.org", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # The invited address is proven by the link: no verification email, signed in.
    response = client.post(url)
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert Membership.objects.get(campaign=campaign, user=user).role == Role.ORGANISER
    assert AuditLog.objects.filter(action="membership.join", actor=user).exists()
    # The link is spent.
    assert client.get(url).status_code == 404


def test_sign_up_is_closed_without_an_invitation(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "stranger@example.org", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
    )
    assert not User.objects.filter(email="stranger@example.org").exists()
    assert response.status_code == 200


def test_an_invitation_cannot_be_accepted_by_another_account(campaign, owner, volunteer, login):
    _invite(login(owner), campaign)
    url = reverse("core:invitation", args=[_token_from_last_email()])
    other = UserFactory(email="someone-else@example.org")
    login(other).post(url)
    assert not Membership.objects.filter(user=other).exists()


def test_an_expired_or_withdrawn_invitation_is_refused(campaign, owner, login, client):
    owner_client = login(owner)
    _invite(owner_client, campaign)
    token = _token_from_last_email()
    invitation = Invitation.objects.get()
    owner_client.post(reverse("core:invitation_revoke", args=[campaign.slug, invitation.pk]))
    assert client.get(reverse("core:invitation", args=[token])).status_code == 404


def test_the_owner_changes_a_role_and_it_is_audited(campaign, owner, volunteer, login):
    membership = Membership.objects.get(user=volunteer)
    login(owner).post(reverse("core:member_role", args=[campaign.slug, membership.pk]), {"role": Role.ORGANISER})
    membership.refresh_from_db()
    assert membership.role == Role.ORGANISER
    entry = AuditLog.objects.get(action="membership.change_role")
    assert entry.changes == {"role": ["volunteer", "organiser"]}
    assert entry.actor == owner
    assert entry.ip == "127.0.0.1"


def test_the_last_owner_cannot_be_demoted_or_removed(campaign, owner, login):
    client = login(owner)
    membership = Membership.objects.get(user=owner)
    client.post(reverse("core:member_role", args=[campaign.slug, membership.pk]), {"role": Role.MANAGER})
    client.post(reverse("core:member_remove", args=[campaign.slug, membership.pk]))
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_a_removed_member_loses_access(campaign, owner, volunteer, login):
    membership = Membership.objects.get(user=volunteer)
    login(owner).post(reverse("core:member_remove", args=[campaign.slug, membership.pk]))
    assert login(volunteer).get(reverse("core:dashboard", args=[campaign.slug])).status_code == 404
    assert AuditLog.objects.filter(action="membership.remove").exists()


def test_a_member_of_two_campaigns_switches_between_them(campaign, other_campaign, owner, login):
    MembershipFactory(campaign=other_campaign, user=owner, role=Role.ANALYST)
    client = login(owner)
    page = client.get(reverse("core:dashboard", args=[campaign.slug])).content.decode()
    assert reverse("core:dashboard", args=[other_campaign.slug]) in page
    client.get(reverse("core:dashboard", args=[other_campaign.slug]))
    # Home goes back to the campaign used last.
    assert client.get("/")["Location"] == reverse("core:dashboard", args=[other_campaign.slug])


def test_a_volunteer_does_not_see_members_in_the_menu(campaign, volunteer, login):
    page = login(volunteer).get(reverse("core:dashboard", args=[campaign.slug])).content.decode()
    assert reverse("core:members", args=[campaign.slug]) not in page
    assert reverse("core:jobs", args=[campaign.slug]) in page


def test_sign_in_is_audited_in_each_campaign_of_the_user(campaign, owner, client):
    client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    assert AuditLog.objects.filter(action="account.sign_in", campaign=campaign, actor=owner).count() == 1


def test_the_invitation_travels_over_smtp_in_the_campaigns_language(campaign, owner, login, smtp_server):
    campaign.languages = ["en", "fr"]
    campaign.save()
    _invite(login(owner), campaign, email="smtp@example.org")
    assert len(smtp_server) == 1
    message = smtp_server[0]
    assert message["To"] == "smtp@example.org"
    assert "Invitation to join Brest 2027" in message["Subject"]
    assert "/invitations/" in message.get_payload(decode=True).decode()


def test_list_pages_run_a_fixed_number_of_queries(campaign, owner, login, django_assert_max_num_queries):
    from tests.factories import InvitationFactory, JobFactory

    for _ in range(10):
        MembershipFactory(campaign=campaign)
        InvitationFactory(campaign=campaign)
        JobFactory(campaign=campaign)
    client = login(owner)
    for name in ("core:members", "core:jobs", "core:dashboard"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(name, args=[campaign.slug])).status_code == 200
