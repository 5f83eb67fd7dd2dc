"""Writes on webhooks, from their pages: one transaction and one audit row each.

The secret is made here and returned once (at creation and rotation): it is stored
encrypted and no page shows it again. The address is checked against request forgery
here (see `addresses`), so no way in skips the check."""

from __future__ import annotations

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from suffrage.api.models import WebhookDelivery, WebhookSubscription
from suffrage.api.webhooks.addresses import UnsafeAddress, target_for
from suffrage.api.webhooks.emit import envelope
from suffrage.api.webhooks.events import EVENTS, PING
from suffrage.api.webhooks.sending import enqueue_sends
from suffrage.core.audit import audit_record, diff, snapshot
from suffrage.core.models import Campaign, User
from suffrage.core.secrets import encrypt

SECRET_START = "whsec_"  # noqa: S105 - the prefix of the secrets made here, not a secret
AUDITED_FIELDS = ("name", "url", "events")


def secret_make() -> str:
    return f"{SECRET_START}{secrets.token_urlsafe(32)}"


def _checked(url: str, events: list[str]) -> tuple[str, list[str]]:
    try:
        target_for(url)
    except UnsafeAddress as error:
        raise ValidationError({"url": str(error)}) from error
    chosen = [event for event in EVENTS if event in set(events)]
    if not chosen:
        raise ValidationError({"events": _("Choose at least one event.")})
    return url.strip(), chosen


@transaction.atomic
def webhook_create(
    *, campaign: Campaign, name: str, url: str, events: list[str], actor: User | None
) -> tuple[WebhookSubscription, str]:
    """The new subscription and its secret, which is never shown again."""
    url, events = _checked(url, events)
    secret = secret_make()
    subscription = WebhookSubscription.objects.create(
        campaign=campaign, name=name.strip(), url=url, events=events, secret=encrypt(secret), created_by=actor
    )
    audit_record(
        action="api.webhook_create",
        campaign=campaign,
        obj=subscription,
        changes=diff({}, snapshot(subscription, AUDITED_FIELDS)),
        actor=actor,
    )
    return subscription, secret


@transaction.atomic
def webhook_update(
    *, subscription: WebhookSubscription, name: str, url: str, events: list[str], actor: User | None
) -> WebhookSubscription:
    url, events = _checked(url, events)
    before = snapshot(subscription, AUDITED_FIELDS)
    subscription.name, subscription.url, subscription.events = name.strip(), url, events
    changes = diff(before, snapshot(subscription, AUDITED_FIELDS))
    if changes:
        subscription.save(update_fields=["name", "url", "events"])
        audit_record(
            action="api.webhook_update", campaign=subscription.campaign, obj=subscription, changes=changes, actor=actor
        )
    return subscription


@transaction.atomic
def webhook_secret_rotate(*, subscription: WebhookSubscription, actor: User | None) -> str:
    """A new secret, returned once; the next attempts are signed with it."""
    secret = secret_make()
    subscription.secret = encrypt(secret)
    subscription.save(update_fields=["secret"])
    audit_record(action="api.webhook_rotate", campaign=subscription.campaign, obj=subscription, actor=actor)
    return secret


@transaction.atomic
def webhook_enable(*, subscription: WebhookSubscription, actor: User | None) -> int:
    """Switch a disabled subscription on again; its waiting deliveries are due at once.
    How many are waiting."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        active=True, consecutive_failures=0, disabled_reason=""
    )
    subscription.active, subscription.consecutive_failures, subscription.disabled_reason = True, 0, ""
    waiting = WebhookDelivery.objects.filter(subscription=subscription, status=WebhookDelivery.Status.PENDING)
    ids = list(waiting.values_list("pk", flat=True))
    waiting.update(next_attempt_at=timezone.now())
    audit_record(
        action="api.webhook_enable",
        campaign=subscription.campaign,
        obj=subscription,
        changes={"active": [False, True], "waiting": [None, len(ids)]},
        actor=actor,
    )
    transaction.on_commit(lambda: enqueue_sends(ids), robust=True)
    return len(ids)


@transaction.atomic
def webhook_delete(*, subscription: WebhookSubscription, actor: User | None) -> None:
    """The subscription and its delivery log go; nothing more is sent to it."""
    audit_record(
        action="api.webhook_delete",
        campaign=subscription.campaign,
        obj=subscription,
        changes={"name": [subscription.name, None], "url": [subscription.url, None]},
        actor=actor,
    )
    subscription.delete()


@transaction.atomic
def webhook_ping(*, subscription: WebhookSubscription, actor: User | None) -> WebhookDelivery:
    """A "ping" event to this subscription only, tried once: is the address answering,
    and does it check the signature? Its answer appears in the delivery log."""
    now = timezone.now()
    event_id = uuid.uuid4()
    data = {"webhook": {"id": subscription.pk, "name": subscription.name}}
    delivery = WebhookDelivery.objects.create(
        campaign=subscription.campaign,
        subscription=subscription,
        event_id=event_id,
        event=PING,
        payload=envelope(event_id, PING, now, subscription.campaign.slug, data),
        next_attempt_at=now,
    )
    transaction.on_commit(lambda: enqueue_sends([delivery.pk]), robust=True)
    return delivery


@transaction.atomic
def webhook_replay(*, delivery: WebhookDelivery, actor: User | None) -> bool:
    """One more attempt now, with the same event id (a receiver that saw it already can
    tell). False when the subscription is disabled or the delivery is being sent."""
    if not delivery.subscription.active:
        return False
    now = timezone.now()
    not_in_flight = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    replayed = WebhookDelivery.objects.filter(not_in_flight, pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now
    )
    if not replayed:
        return False
    audit_record(
        action="api.webhook_replay",
        campaign=delivery.campaign,
        obj=delivery.subscription,
        changes={"delivery": [None, delivery.pk], "event": [None, delivery.event], "was": [delivery.status, None]},
        actor=actor,
    )
    transaction.on_commit(lambda: enqueue_sends([delivery.pk]), robust=True)
    return True
