"""Writes for API tokens: created by an owner (the key shown once), revoked."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from suffrage.api.models import ApiToken
from suffrage.api.scopes import Scope
from suffrage.api.tokens import key_hash, key_make
from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User


@transaction.atomic
def token_create(
    *, campaign: Campaign, name: str, scopes: list[str], expires_at: datetime.datetime | None, actor: User | None
) -> tuple[ApiToken, str]:
    """The new token and its key, which is never stored nor shown again."""
    key, prefix = key_make()
    token = ApiToken.objects.create(
        campaign=campaign,
        name=name,
        prefix=prefix,
        key_hash=key_hash(key),
        scopes=sorted(set(scopes) & set(Scope.values)),
        expires_at=expires_at,
        created_by=actor,
    )
    audit_record(
        action="api.token_create",
        campaign=campaign,
        obj=token,
        changes={"scopes": token.scopes, "expires_at": str(expires_at or "")},
        actor=actor,
    )
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: User | None) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(action="api.token_revoke", campaign=token.campaign, obj=token, actor=actor)


def token_touch(token: ApiToken) -> None:
    """Record that the token was used: at most one write a minute per token."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
