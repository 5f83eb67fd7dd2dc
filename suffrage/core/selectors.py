"""Reads used by pages, exports and (later) the API."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from suffrage.core.access import role_can
from suffrage.core.models import AuditLog, Campaign, Job, Membership

AUDIT_FILTERS = ("action", "actor", "since", "until")


def _parse_date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def audit_entries(campaign: Campaign, filters: dict[str, str]) -> QuerySet[AuditLog]:
    """The campaign's audit rows, newest first, narrowed by the page's filters.

    Unparseable dates are ignored rather than failing the page.
    """
    entries = AuditLog.objects.filter(campaign=campaign)
    if action := filters.get("action", "").strip():
        entries = entries.filter(action__startswith=action)
    if actor := filters.get("actor", "").strip():
        entries = entries.filter(actor_email__icontains=actor)
    if since := _parse_date(filters.get("since", "")):
        entries = entries.filter(at__date__gte=since)
    if until := _parse_date(filters.get("until", "")):
        entries = entries.filter(at__date__lte=until)
    return entries


def jobs_visible_to(membership: Membership) -> QuerySet[Job]:
    """Jobs whose results this member's role may see."""
    jobs = Job.objects.filter(campaign=membership.campaign).select_related("created_by")
    permitted = jobs.order_by().values_list("required_permission", flat=True).distinct()
    allowed = [p for p in permitted if role_can(membership.role, p)]
    return jobs.filter(required_permission__in=allowed)
