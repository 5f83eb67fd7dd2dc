"""Demo data protection: a few rights requests at different stages (one late), the
retention policy with its defaults, and a processing register generated from the
demo's configuration. Idempotent."""

from __future__ import annotations

import datetime

from django.utils import timezone

from suffrage.core.models import Campaign, Membership
from suffrage.core.roles import Role
from suffrage.people.models import Person
from suffrage.privacy import services
from suffrage.privacy.models import RetentionPolicy, RightsRequest


def load(campaign: Campaign) -> None:
    officer = Membership.objects.filter(campaign=campaign, role=Role.DPO).select_related("user").first()
    owner = Membership.objects.filter(campaign=campaign, role=Role.OWNER).select_related("user").first()
    if owner is None or RightsRequest.objects.filter(campaign=campaign).exists():
        return
    actor = owner.user
    assignee = officer.user if officer else actor
    now = timezone.now()
    people = list(Person.objects.filter(campaign=campaign, emails__isnull=False).order_by("pk")[:3])
    if len(people) < 3:
        return
    for person, kind, channel, days_ago, status in (
        (people[0], RightsRequest.Kind.ACCESS, RightsRequest.Channel.EMAIL, 3, RightsRequest.Status.OPEN),
        (people[1], RightsRequest.Kind.ERASURE, RightsRequest.Channel.POST, 35, RightsRequest.Status.IN_PROGRESS),
        (people[2], RightsRequest.Kind.RECTIFICATION, RightsRequest.Channel.PHONE, 10, RightsRequest.Status.OPEN),
    ):
        services.request_create(
            campaign=campaign,
            actor=actor,
            kind=kind,
            channel=channel,
            person=person,
            status=status,
            assignee=assignee,
            requester_name=person.display_name,
            contact_email=str(person.emails.first() or ""),
            received_at=now - datetime.timedelta(days=days_ago),
        )
    RetentionPolicy.objects.get_or_create(campaign=campaign)
    from suffrage.privacy.register import register_refresh

    register_refresh(campaign=campaign, actor=actor)
