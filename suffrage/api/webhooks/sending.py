"""Sending deliveries: one signed POST per attempt, retries with backoff, disabling.

- A worker claims a delivery with a conditional UPDATE (still waiting, due, and not
  claimed by someone else, or claimed by a worker that died: its lease ran out), so two
  workers never send one delivery at once; it records the outcome at once.
- Each attempt checks the address again (see `addresses`) and connects to the address
  checked, with the webhook's host name in the Host header and for TLS (SNI and the
  certificate check). Redirects are not followed. 5 s to connect, 10 s in all; the
  first 500 characters of the answer are kept.
- A 2xx answer delivers. Anything else, or a network error, is retried after 1 min,
  5 min, 30 min, 2 h, 6 h, 12 h and 24 h (eight attempts over about two days); then
  the delivery has failed. Each attempt is signed anew, with its own timestamp.
- When WEBHOOK_DISABLE_AFTER deliveries in a row (10 by default) have failed for good,
  the subscription is disabled, with the reason shown on its page; its waiting
  deliveries wait until someone re-enables it (or the retention prunes them).
- `webhook_deliveries_send_due` (run by `mailings_tick`) sends what is due, so a task
  lost in a restart only delays a delivery; `webhook_deliveries_prune` (run by
  `privacy_tick`) deletes deliveries older than WEBHOOK_RETENTION_DAYS (30): their
  payloads hold personal data."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from suffrage.api.models import WebhookDelivery, WebhookSubscription
from suffrage.api.webhooks.addresses import Target, UnsafeAddress, target_for
from suffrage.api.webhooks.events import PING
from suffrage.core.audit import audit_record
from suffrage.core.secrets import decrypt

logger = logging.getLogger(__name__)

BACKOFF = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
    datetime.timedelta(hours=6),
    datetime.timedelta(hours=12),
    datetime.timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 10.0
EXCERPT = 500
# A claim older than this is a dead worker's: one attempt never takes that long.
LEASE = datetime.timedelta(minutes=2)
# In one tick, a subscription whose endpoint failed this many times is left for the
# next tick: a dead endpoint must not hold the worker for every waiting delivery.
FAILURES_PER_TICK = 3
USER_AGENT = "Suffrage-Webhooks/1"


def disable_after() -> int:
    return int(settings.WEBHOOK_DISABLE_AFTER)


def retention_days() -> int:
    return int(settings.WEBHOOK_RETENTION_DAYS)


# --- Signing ---------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" with the subscription's secret."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def headers_for(delivery: WebhookDelivery, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Suffrage-Event": delivery.event,
        "Suffrage-Delivery": str(delivery.event_id),
        "Suffrage-Timestamp": str(timestamp),
        "Suffrage-Signature": f"t={timestamp},v1={signature(secret, timestamp, body)}",
    }


# --- The POST --------------------------------------------------------------------------------


class SendError(Exception):
    """The attempt got no HTTP answer; the message says why (never the secret)."""


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _connect(target: Target, deadline: float) -> socket.socket:
    last: OSError | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return socket.create_connection((address, target.port), timeout=min(CONNECT_TIMEOUT, remaining))
        except OSError as error:
            last = error
    raise SendError(_describe(last) if last else _("timed out"))


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return _("timed out")
    if isinstance(error, ssl.SSLCertVerificationError):
        return _("certificate not valid: %(reason)s") % {"reason": error.verify_message or error.reason}
    if isinstance(error, ssl.SSLError):
        return _("TLS error: %(reason)s") % {"reason": error.reason or error}
    if isinstance(error, http.client.HTTPException):
        return _("not an HTTP answer")
    if isinstance(error, OSError) and error.strerror:
        return str(error.strerror)
    return str(error) or type(error).__name__


def _cut(held: list[socket.socket], expired: threading.Event) -> None:
    """The total time is up: end the exchange wherever it is (a slow server sending
    its answer a byte at a time would otherwise reset each read's timeout). The plain
    socket's shutdown, also on a TLS socket: the reading thread gets an error at once."""
    expired.set()
    with contextlib.suppress(OSError):
        socket.socket.shutdown(held[0], socket.SHUT_RDWR)


def post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POST the body to the target's checked address; the answer's status and excerpt,
    or SendError (no answer: refused, timed out, TLS…)."""
    deadline = time.monotonic() + TOTAL_TIMEOUT
    held = [_connect(target, deadline)]  # the socket in use, plain then TLS
    expired = threading.Event()
    watchdog = threading.Timer(max(deadline - time.monotonic(), 0.01), _cut, args=(held, expired))
    watchdog.daemon = True
    watchdog.start()
    try:
        held[0].settimeout(max(deadline - time.monotonic(), 0.01))
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            held[0] = ssl.create_default_context().wrap_socket(held[0], server_hostname=target.host)
            connection = http.client.HTTPSConnection(target.host, target.port)
        else:
            connection = http.client.HTTPConnection(target.host, target.port)
        connection.sock = held[0]  # already connected to the checked address: no second resolution
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(EXCERPT * 4).decode("utf-8", "replace")[:EXCERPT]
            if expired.is_set():  # the answer was cut short: it does not count
                raise TimeoutError
            return Answer(response.status, excerpt)
        finally:
            connection.close()
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise SendError(_("timed out") if expired.is_set() else _describe(error)) from error
    finally:
        watchdog.cancel()
        held[0].close()


# --- Claims and attempts ---------------------------------------------------------------------


def _claimable(now: datetime.datetime) -> Q:
    """A delivery's own columns only: the claim's UPDATE re-checks them on the row it
    locks (a join there could let two workers claim the same row on PostgreSQL)."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return Q(status=WebhookDelivery.Status.PENDING) & due & free


def _claim(delivery_id: int, now: datetime.datetime) -> bool:
    claimed = WebhookDelivery.objects.filter(_claimable(now), pk=delivery_id).update(claimed_until=now + LEASE)
    return bool(claimed)


def webhook_delivery_send(delivery_id: int) -> str:
    """One attempt at a delivery if it is waiting, due, not being sent, and its
    subscription active: "delivered", "retry", "failed", or "skipped"."""
    if not _claim(delivery_id, timezone.now()):
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("subscription__campaign").filter(pk=delivery_id).first()
    if delivery is None:  # its webhook was deleted meanwhile
        return "skipped"
    subscription = delivery.subscription
    if not subscription.active:  # disabled since: the delivery waits for it to be re-enabled
        WebhookDelivery.objects.filter(pk=delivery_id).update(claimed_until=None)
        return "skipped"
    # The log and the reason for disabling speak the campaign's language, whoever reads them.
    with translation.override(subscription.campaign.language):
        return _attempt(delivery)


def _attempt(delivery: WebhookDelivery) -> str:
    subscription = delivery.subscription
    answer, error = None, ""
    try:
        body = body_of(delivery)
        target = target_for(subscription.url)
        answer = post(target, body, headers_for(delivery, decrypt(subscription.secret), body, int(time.time())))
    except UnsafeAddress as refused:
        error = _("Not sent: %(reason)s") % {"reason": refused}
    except SendError as failure:
        error = str(failure)
    if answer is not None and not answer.ok:
        error = _("HTTP %(status)s") % {"status": answer.status}
        if 300 <= answer.status < 400:
            error = _("HTTP %(status)s (redirects are not followed: give the final address)") % {
                "status": answer.status
            }
    return _record(delivery, answer, error[:300])


def _record(delivery: WebhookDelivery, answer: Answer | None, error: str) -> str:
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.claimed_until = None
    delivery.response_status = answer.status if answer else None
    delivery.response_excerpt = answer.excerpt if answer else ""
    delivery.error = error
    subscription = delivery.subscription
    if answer is not None and answer.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.DELIVERED, now, None
        outcome = "delivered"
    elif delivery.attempts >= MAX_ATTEMPTS or delivery.event == PING:
        # A ping is tried once: it asks whether the address works now.
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        outcome = "failed"
    else:
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
        outcome = "retry"
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "last_attempt_at",
            "claimed_until",
            "next_attempt_at",
            "response_status",
            "response_excerpt",
            "error",
            "delivered_at",
        ]
    )
    if outcome == "delivered" and subscription.consecutive_failures:
        WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
    elif outcome == "failed" and delivery.event != PING:
        _count_failure(subscription, error)
    return outcome


def _count_failure(subscription: WebhookSubscription, error: str) -> None:
    """One more delivery failed for good; at the limit the subscription is disabled
    (a conditional UPDATE: two workers reaching it together disable it once)."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    limit = disable_after()
    reason = _("Disabled on %(date)s after %(count)s deliveries in a row failed (last: %(error)s).") % {
        "date": timezone.localdate().isoformat(),
        "count": limit,
        "error": error,
    }
    disabled = WebhookSubscription.objects.filter(
        pk=subscription.pk, active=True, consecutive_failures__gte=limit
    ).update(active=False, disabled_reason=reason[:300])
    if disabled:
        logger.warning("webhook %s disabled after %s failed deliveries", subscription.pk, limit)
        audit_record(
            action="api.webhook_disable",
            campaign=subscription.campaign,
            obj=subscription,
            changes={"active": [True, False], "reason": [None, reason]},
        )


# --- The tick --------------------------------------------------------------------------------


def webhook_deliveries_send_due(*, limit: int = 200) -> int:
    """Send the deliveries that are due (retries, and what a lost task or a dead worker
    left); how many arrived. Safe in several processes at once (each is claimed)."""
    now = timezone.now()
    due = (
        WebhookDelivery.objects.filter(_claimable(now), subscription__active=True)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "subscription_id")[:limit]
    )
    failures: Counter[int] = Counter()
    delivered = 0
    for pk, subscription_id in list(due):
        if failures[subscription_id] >= FAILURES_PER_TICK:
            continue
        outcome = webhook_delivery_send(pk)
        delivered += outcome == "delivered"
        failures[subscription_id] += outcome in ("retry", "failed")
    return delivered


def webhook_deliveries_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete the deliveries older than the retention (their payloads hold personal
    data); how many went. In chunks, so a large backlog never holds a long lock."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=retention_days())
    pruned = 0
    while True:
        ids = list(WebhookDelivery.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:5000])
        if not ids:
            return pruned
        pruned += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]


def enqueue_sends(delivery_ids: list[int]) -> None:
    """Hand new or replayed deliveries to the workers: one task each for a few, one
    sweep for many (a bulk act), whatever is left going with the next tick."""
    from suffrage.api.tasks import webhook_deliver_task, webhooks_send_due_task

    if len(delivery_ids) > 20:
        webhooks_send_due_task.enqueue()
        return
    for delivery_id in delivery_ids:
        webhook_deliver_task.enqueue(delivery_id)


def payload_preview(delivery: WebhookDelivery) -> str:
    """The body as sent, indented, for the delivery log."""
    return json.dumps(delivery.payload, ensure_ascii=False, indent=2)
