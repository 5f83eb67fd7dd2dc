"""Webhook tasks. Thin: take an id, call the sender; idempotent (a second copy of a
task finds the delivery claimed, sent or not yet due, and does nothing)."""

from __future__ import annotations

from django_tasks import task

from suffrage.api.webhooks.sending import webhook_deliveries_send_due, webhook_delivery_send

SWEEP = 200


@task()
def webhook_deliver_task(delivery_id: int) -> str:
    # A retry is due later: `mailings_tick` sends it then.
    return webhook_delivery_send(delivery_id)


@task()
def webhooks_send_due_task() -> int:
    """What a bulk act queued; a full sweep asks for another, the tick covers the rest."""
    delivered = webhook_deliveries_send_due(limit=SWEEP)
    if delivered == SWEEP:
        webhooks_send_due_task.enqueue()
    return delivered
