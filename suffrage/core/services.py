"""Writes on campaigns, calendars, members and invitations. Each is one
transaction with one audit row; emails go out on commit."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record, diff, snapshot
from suffrage.core.models import CalendarElection, Campaign, Invitation, Membership, User
from suffrage.core.roles import Role

CAMPAIGN_FIELDS = ("name", "country", "languages", "time_zone", "require_mfa")
ELECTION_FIELDS = ("name", "kind", "first_round_on", "second_round_on")


@transaction.atomic
def campaign_create(*, name: str, slug: str, owner: User, **fields: Any) -> Campaign:
    campaign = Campaign(name=name, slug=slug, **fields)
    campaign.full_clean()
    campaign.save()
    Membership.objects.create(campaign=campaign, user=owner, role=Role.OWNER)
    audit_record(
        action="campaign.create",
        campaign=campaign,
        obj=campaign,
        changes=diff({}, snapshot(campaign, CAMPAIGN_FIELDS)),
        actor=owner,
    )
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, **fields: Any) -> Campaign:
    before = snapshot(Campaign.objects.get(pk=campaign.pk), CAMPAIGN_FIELDS)
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.full_clean()
    campaign.save()
    changes = diff(before, snapshot(campaign, CAMPAIGN_FIELDS))
    if changes:
        audit_record(action="campaign.update", campaign=campaign, obj=campaign, changes=changes)
    return campaign


@transaction.atomic
def calendar_election_save(
    *, campaign: Campaign, election: CalendarElection | None = None, **fields: Any
) -> CalendarElection:
    """Add an election to the campaign's calendar, or change one."""
    creating = election is None
    if election is None:
        election = CalendarElection(campaign=campaign)
        before: dict[str, Any] = {}
    else:
        before = snapshot(election, ELECTION_FIELDS)
    for name, value in fields.items():
        setattr(election, name, value)
    election.full_clean()
    election.save()
    changes = diff(before, snapshot(election, ELECTION_FIELDS))
    if changes:
        action = "election.create" if creating else "election.update"
        audit_record(action=action, campaign=campaign, obj=election, changes=changes)
    return election


@transaction.atomic
def calendar_election_delete(*, election: CalendarElection) -> None:
    audit_record(
        action="election.delete",
        campaign=election.campaign,
        obj=election,
        changes=diff(snapshot(election, ELECTION_FIELDS), dict.fromkeys(ELECTION_FIELDS)),
    )
    election.delete()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *, campaign: Campaign, email: str, role: str, invited_by: User, accept_url_template: str
) -> Invitation:
    """Invite someone by email. accept_url_template has "{token}" where the token goes."""
    email = email.strip().lower()
    if Membership.objects.filter(campaign=campaign, user__email__iexact=email).exists():
        raise ValidationError(_("%(email)s is already a member of this campaign."), params={"email": email})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        campaign=campaign,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=invited_by,
        expires_at=timezone.now() + datetime.timedelta(days=settings.INVITATION_DAYS),
    )
    audit_record(action="invitation.create", campaign=campaign, obj=invitation, changes={"role": [None, role]})
    url = accept_url_template.format(token=token)
    language = campaign.languages[0] if campaign.languages else settings.LANGUAGE_CODE
    transaction.on_commit(lambda: _send_invitation(invitation, url, language))
    return invitation


def _send_invitation(invitation: Invitation, url: str, language: str) -> None:
    with translation.override(language):
        context = {"invitation": invitation, "url": url, "days": settings.INVITATION_DAYS}
        subject = _("Invitation to join %(campaign)s on Suffrage") % {"campaign": invitation.campaign.name}
        body = render_to_string("core/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


def invitation_for_token(token: str) -> Invitation | None:
    """The pending invitation this token opens, or None (unknown, used, revoked or expired)."""
    invitation = Invitation.objects.select_related("campaign").filter(token_hash=_token_hash(token)).first()
    if invitation is None or not invitation.is_pending:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    if user.email.lower() != invitation.email.lower():
        raise ValidationError(
            _("This invitation was sent to %(email)s. Sign in with that address to accept it."),
            params={"email": invitation.email},
        )
    # Lock the row so two clicks cannot both accept.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(_("This invitation has expired or was already used."))
    membership, _created = Membership.objects.get_or_create(
        campaign=invitation.campaign, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        action="membership.join",
        campaign=invitation.campaign,
        obj=membership,
        changes={"role": [None, membership.role]},
        actor=user,
    )
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(action="invitation.revoke", campaign=invitation.campaign, obj=invitation)


def _ensure_another_owner(membership: Membership) -> None:
    others = Membership.objects.filter(campaign=membership.campaign, role=Role.OWNER).exclude(pk=membership.pk)
    if membership.role == Role.OWNER and not others.exists():
        raise ValidationError(_("A campaign needs at least one owner: make someone else owner first."))


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    if role == membership.role:
        return membership
    if role != Role.OWNER:
        _ensure_another_owner(membership)
    old_role = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        action="membership.change_role",
        campaign=membership.campaign,
        obj=membership,
        changes={"role": [old_role, role]},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    _ensure_another_owner(membership)
    audit_record(
        action="membership.remove",
        campaign=membership.campaign,
        obj=membership,
        changes={"role": [membership.role, None]},
    )
    membership.delete()


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language."))
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
