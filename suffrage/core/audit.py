"""The audit log's write side: one call per audited act, made by services.

The current request's user and IP are kept in a context variable set by
middleware, so services need not pass the request around; tasks and commands
pass the actor explicitly.
"""

from __future__ import annotations

import contextvars
import datetime
import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

from suffrage.core.models import AuditLog, Campaign, User


@dataclass(frozen=True)
class AuditContext:
    actor: User | None
    ip: str | None


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("audit_context", default=None)


def audit_context_set(*, actor: User | None, ip: str | None) -> contextvars.Token[AuditContext | None]:
    return _context.set(AuditContext(actor=actor, ip=ip))


def audit_context_reset(token: contextvars.Token[AuditContext | None]) -> None:
    _context.reset(token)


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, datetime.datetime | datetime.date | decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values worth comparing before and after a change."""
    return {name: _jsonable(getattr(instance, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {name: [before.get(name), after[name]] for name in after if before.get(name) != after[name]}


def audit_record(
    *,
    action: str,
    campaign: Campaign | None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    actor: User | None = None,
) -> AuditLog:
    context = _context.get()
    if actor is None and context is not None:
        actor = context.actor
    entry = AuditLog(
        campaign=campaign,
        actor=actor,
        actor_email=actor.email if actor else "",
        action=action,
        changes=changes or {},
        ip=context.ip if context else None,
    )
    if obj is not None:
        entry.object_type = obj._meta.label_lower
        entry.object_id = str(obj.pk)
        entry.object_repr = str(obj)[:200]
    entry.save()
    return entry
