"""The sending engine: workers claim small batches of deliveries, send each message,
and record the outcome batch by batch.

Nothing is lost and nothing is sent twice: a delivery is QUEUED, then CLAIMED by one
worker (PostgreSQL: SKIP LOCKED, so several workers share a mailing), then SENT or
FAILED, or QUEUED again for a retry with backoff. Outcomes are written every
FLUSH_EVERY messages, so if a worker dies, at most that many messages were sent but
not recorded: the claims of a dead worker go back to the queue and are counted in
`Mailing.resent_after_crash` (those people may receive the message twice).
Memory stays flat: only one batch of recipients is held at a time."""

from __future__ import annotations

import collections
import datetime
import html
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from email.headerregistry import Address
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Prefetch, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from suffrage.core.secrets import decrypt, decrypt_json
from suffrage.messaging import feedback
from suffrage.messaging.models import Delivery, Mailing, Sender, TransportConfig, mail_settings
from suffrage.messaging.rendering import CompiledMessage, compile_message, person_values
from suffrage.messaging.schedule import send_blocked_until
from suffrage.messaging.tracking import click_url, delivery_token, open_url, unsubscribe_url
from suffrage.messaging.transports import transport_kind
from suffrage.messaging.transports.base import (
    DkimKey,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    TransportConfigurationError,
)
from suffrage.people.models import Person, PostalAddress, Source

logger = logging.getLogger(__name__)

CLAIM_SIZE = 100
FLUSH_EVERY = 25
MAX_ATTEMPTS = 5
RETRY_BASE = datetime.timedelta(minutes=1)
# A claim older than this is abandoned whoever holds it (a worker on another machine
# that died): no batch takes that long to send.
LEASE = datetime.timedelta(minutes=10)
# A worker sending a mailing beats at every flush; silent this long, it is presumed dead.
HEARTBEAT_TIMEOUT = datetime.timedelta(minutes=2)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- Claims ---------------------------------------------------------------------------


def _worker_is_dead(claimed_by: str) -> bool:
    host, _sep, rest = claimed_by.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or claimed_by == WORKER_ID:
        return claimed_by == WORKER_ID  # our own claims are from a run that stopped
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reclaim_abandoned(mailing: Mailing) -> int:
    """Put back in the queue what dead workers had claimed; count it as possibly sent twice."""
    claimed = Delivery.objects.filter(mailing=mailing, status=Delivery.Status.CLAIMED)
    holders = set(claimed.values_list("claimed_by", flat=True).distinct())
    dead = [holder for holder in holders if _worker_is_dead(holder)]
    stale = Q(claimed_at__lt=timezone.now() - LEASE) | Q(claimed_by__in=dead)
    with transaction.atomic():
        count = claimed.filter(stale).update(status=Delivery.Status.QUEUED, claimed_by="", claimed_at=None)
        if count:
            Mailing.objects.filter(pk=mailing.pk).update(resent_after_crash=F("resent_after_crash") + count)
    if count:
        logger.warning("mailing %s: %s deliveries claimed by a dead worker are queued again", mailing.pk, count)
    return count


def acquire(mailing: Mailing) -> bool:
    """Become the one worker sending this mailing, unless a live one already is."""
    holder = Mailing.objects.filter(pk=mailing.pk).values_list("sending_by", flat=True).first() or ""
    free = Q(sending_by="") | Q(sending_by=WORKER_ID) | Q(heartbeat_at__lt=timezone.now() - HEARTBEAT_TIMEOUT)
    if holder and _worker_is_dead(holder):
        free |= Q(sending_by=holder)
    return bool(Mailing.objects.filter(free, pk=mailing.pk).update(sending_by=WORKER_ID, heartbeat_at=timezone.now()))


def release(mailing: Mailing) -> None:
    Mailing.objects.filter(pk=mailing.pk, sending_by=WORKER_ID).update(sending_by="")


def claim(mailing: Mailing, size: int | None = None) -> list[Delivery]:
    size = size or CLAIM_SIZE
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(due, mailing=mailing, status=Delivery.Status.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        Delivery.objects.filter(pk__in=ids).update(status=Delivery.Status.CLAIMED, claimed_by=WORKER_ID, claimed_at=now)
    addresses = Prefetch(
        "person__addresses", queryset=PostalAddress.objects.order_by("pk"), to_attr="prefetched_addresses"
    )
    return list(Delivery.objects.filter(pk__in=ids).select_related("person").prefetch_related(addresses).order_by("pk"))


# --- What each message says -----------------------------------------------------------


@dataclass
class Prepared:
    """Everything a worker computes once per mailing."""

    mailing: Mailing
    variants: dict[str, CompiledMessage]
    from_email: str
    reply_to: str
    sender_domain: str
    identity: str
    transport: Transport
    rate_per_second: float
    links: list[str] = field(default_factory=list)

    def subject_variant(self, delivery: Delivery) -> CompiledMessage:
        variant = delivery.variant or self.mailing.ab_winner or "a"
        return self.variants.get(variant, self.variants["a"])

    def message(self, delivery: Delivery) -> OutgoingMessage:
        return message_for(self, delivery)

    def parts(self, message: Any) -> int:
        return 0  # emails are not billed by the part

    def tells_source(self, delivery: Delivery) -> bool:
        """Whether this message carries the first-contact notice (GDPR art. 14)."""
        return bool(delivery.person.notice_owed)

    def batch_recorded(self) -> None:
        """Called once a batch's outcomes are written (nothing to do for emails)."""


def compile_mailing(mailing: Mailing, subject: str | None = None) -> CompiledMessage:
    options = mail_settings(mailing.campaign)
    return compile_message(
        subject=mailing.subject if subject is None else subject,
        preheader=mailing.preheader,
        body=mailing.body,
        footer=mailing.footer,
        brand_name=options.brand_name or mailing.campaign.name,
        brand_colour=options.brand_colour,
        track_clicks=True,
        track_opens=options.open_tracking,
    )


def build_transport(config: TransportConfig, dkim: DkimKey | None) -> Any:
    """The transport of this configuration, ready to open (an SMS one is told where its
    provider is to post receipts and replies)."""
    kind = transport_kind(config.kind)
    options = dict(config.settings)
    if kind.channel == "sms":
        options["webhook_url"] = f"{settings.SITE_URL}/hooks/sms/{config.webhook_key}/"
    return kind.build(options, decrypt_json(config.secrets), dkim)


def sender_dkim(mailing: Mailing) -> DkimKey | None:
    return dkim_key_of(mailing.sender) if mailing.sender else None


def dkim_key_of(sender: Sender) -> DkimKey | None:
    """The sender's DKIM key, decrypted (None when it has none)."""
    key = decrypt(sender.dkim_private_key)
    if not key:
        return None
    return DkimKey(
        domain=sender.domain, selector=sender.dkim_selector, algorithm=sender.dkim_algorithm, private_key_pem=key
    )


def prepare(mailing: Mailing) -> Any:
    """What a worker computes once per mailing (`Prepared`, or texting's for text messages)."""
    if mailing.channel == Mailing.Channel.SMS:
        from suffrage.texting.sending import sms_prepare

        return sms_prepare(mailing)
    variants = {"a": compile_mailing(mailing)}
    if mailing.subject_b:
        variants["b"] = compile_mailing(mailing, mailing.subject_b)
    options = mail_settings(mailing.campaign)
    sender = mailing.sender
    assert sender is not None  # an email mailing has one (the form requires it)
    return Prepared(
        mailing=mailing,
        variants=variants,
        # Unicode kept: each transport encodes headers its own way.
        from_email=str(Address(display_name=sender.name, addr_spec=sender.email)),
        reply_to=sender.reply_to,
        sender_domain=sender.domain,
        identity=options.identity or mailing.campaign.name,
        transport=build_transport(mailing.transport, sender_dkim(mailing)),
        rate_per_second=mailing.transport.rate_per_second,
        links=variants["a"].links,
    )


def data_source(person: Any) -> str:
    """Why this person receives the message: where the campaign got their address."""
    collected_on = timezone.localtime(person.collected_at).date()
    return _data_source(person.source, person.source_detail, collected_on, get_language())


@lru_cache(maxsize=4096)
def _data_source(source: str, detail: str, collected_on: datetime.date, language: str | None) -> str:
    # Cached: thousands of recipients share a source and a day (the language is part
    # of the key because the text is translated).
    label = Source(source).label if source in Source.values else source
    return _("Your details come from: %(source)s%(detail)s, %(date)s.") % {
        "source": label,
        "detail": f" ({detail})" if detail else "",
        "date": date_format(collected_on, "SHORT_DATE_FORMAT"),
    }


def notice(prepared: Prepared, person: Any) -> tuple[str, str]:
    """The first message to someone whose data was not collected from them says so (GDPR art. 14)."""
    if not person.notice_owed:
        return "", ""
    text = _(
        "Why you receive this message: %(identity)s obtained your contact details indirectly (%(source)s) "
        "to inform you about its campaign, on the basis of %(basis)s. They are kept until the end of the "
        "election at the latest. You may access, correct or erase them and object to their use at any time "
        "(link below)."
    ) % {"identity": prepared.identity, "source": data_source(person), "basis": person.get_legal_basis_display()}
    return f'<div class="notice">{html.escape(text)}</div>', text


def message_for(prepared: Prepared, delivery: Delivery) -> OutgoingMessage:
    token = delivery_token(delivery.pk)
    values = person_values(delivery.person, delivery.address)
    notice_html, notice_text = notice(prepared, delivery.person)
    unsubscribe = unsubscribe_url(token)
    values.update(
        unsubscribe_url=unsubscribe,
        rights_url=f"{unsubscribe}#rights",
        sender_identity=prepared.identity,
        data_source=data_source(delivery.person),
        __open=open_url(token),
        __notice_html=notice_html,
        __notice_text=notice_text,
    )
    for position in range(len(prepared.links)):
        values[f"__click_{position}"] = click_url(token, position)
    subject, html_body, text = prepared.subject_variant(delivery).render(values)
    return OutgoingMessage(
        from_email=prepared.from_email,
        to=delivery.address,
        subject=subject,
        text=text,
        html=html_body,
        message_id=f"<m{delivery.mailing_id}.d{delivery.pk}@{prepared.sender_domain}>",
        reply_to=prepared.reply_to,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Suffrage-Delivery": token,
        },
    )


# --- Sending --------------------------------------------------------------------------


@dataclass
class Outcomes:
    """What happened to the messages since the last flush."""

    sent: dict[int, tuple[str, int]] = field(default_factory=dict)  # delivery id -> (provider id, parts)
    retry: list[tuple[Delivery, str]] = field(default_factory=list)
    failed: list[tuple[Delivery, str]] = field(default_factory=list)
    noticed: list[int] = field(default_factory=list)  # people told where their data came from

    def __len__(self) -> int:
        return len(self.sent) + len(self.retry) + len(self.failed)

    def clear(self) -> None:
        for collection in (self.sent, self.retry, self.failed, self.noticed):
            collection.clear()


def flush(mailing: Mailing, outcomes: Outcomes) -> None:
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk__in=list(outcomes.sent)).update(
            status=Delivery.Status.SENT, sent_at=now, attempts=F("attempts") + 1, error=""
        )
        # Provider ids and SMS parts differ per message: one UPDATE … CASE for all of them.
        detailed = [
            Delivery(pk=pk, provider_id=provider, parts=parts) for pk, (provider, parts) in outcomes.sent.items()
        ]
        if any(delivery.provider_id or delivery.parts for delivery in detailed):
            Delivery.objects.bulk_update(detailed, ["provider_id", "parts"])
        for delivery, error in outcomes.retry:
            attempts = delivery.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                outcomes.failed.append((delivery, error))
                continue
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.QUEUED,
                attempts=attempts,
                next_attempt_at=now + RETRY_BASE * 2 ** (attempts - 1),
                claimed_by="",
                error=error[:500],
            )
        for delivery, error in outcomes.failed:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.FAILED, attempts=F("attempts") + 1, error=error[:500]
            )
        if outcomes.noticed:
            Person.objects.filter(pk__in=outcomes.noticed, notice_sent_at__isnull=True).update(notice_sent_at=now)
        Mailing.objects.filter(pk=mailing.pk, sending_by=WORKER_ID).update(heartbeat_at=now)
    for delivery, error in outcomes.failed:
        if error.startswith("permanent:"):
            _address_failed(mailing, delivery.address, error.removeprefix("permanent:"))
    outcomes.clear()


def _address_failed(mailing: Mailing, address: str, reason: str) -> None:
    if mailing.channel == Mailing.Channel.SMS:
        from suffrage.texting.sending import number_failed

        number_failed(mailing.campaign, address, reason)
    else:
        feedback.address_failed(mailing.campaign, address, reason)


class RateLimit:
    """At most `per_second` messages in any one second from this worker, as providers
    count them: a sliding window over the last sends, so that time lost to a flush or
    a claim is made up afterwards without ever putting more than the limit in one
    second. MARGIN keeps clear of the provider's clock and the network's jitter."""

    MARGIN = 0.02  # seconds

    def __init__(self, per_second: float) -> None:
        self.size = max(1, int(per_second)) if per_second > 0 else 0
        # The span in which `size` messages may go: one second, longer under 1/s.
        self.span = self.size / per_second if per_second > 0 else 0
        self.sent: collections.deque[float] = collections.deque(maxlen=self.size or 1)

    def wait(self) -> None:
        if not self.size:
            return
        if len(self.sent) == self.size:
            free_at = self.sent[0] + self.span + self.MARGIN
            now = time.monotonic()
            if free_at > now:
                time.sleep(free_at - now)
        self.sent.append(time.monotonic())


def send_batch(prepared: Any, batch: list[Delivery], limit: RateLimit) -> None:
    outcomes = Outcomes()
    unsent = list(batch)
    try:
        for delivery in batch:
            limit.wait()
            message = prepared.message(delivery)
            try:
                result = prepared.transport.send(message)
            except TemporaryFailure as error:
                outcomes.retry.append((delivery, str(error)))
            except PermanentFailure as error:
                outcomes.failed.append((delivery, f"permanent:{error}"))
            else:
                outcomes.sent[delivery.pk] = (result.provider_id, prepared.parts(message))
                if prepared.tells_source(delivery):
                    outcomes.noticed.append(delivery.person_id)
            unsent.remove(delivery)
            if len(outcomes) >= FLUSH_EVERY:
                flush(prepared.mailing, outcomes)
    finally:
        flush(prepared.mailing, outcomes)
        prepared.batch_recorded()
        if unsent:  # stopped early: give the rest back
            Delivery.objects.filter(pk__in=[d.pk for d in unsent], status=Delivery.Status.CLAIMED).update(
                status=Delivery.Status.QUEUED, claimed_by="", claimed_at=None
            )


@dataclass
class RunResult:
    # "finished", "stopped" (paused/cancelled), "blocked" (silence, hours), "waiting"
    # (retries or the A/B decision later), "busy" (another worker is sending it)
    outcome: str
    resume_at: datetime.datetime | None = None


def mailing_run(mailing_id: int, *, max_batches: int | None = None) -> RunResult:
    """Send what is due of a mailing until nothing is left, it is paused, or sends are blocked."""
    mailing = Mailing.objects.select_related("campaign", "sender", "transport").get(pk=mailing_id)
    if not mailing.is_running:
        return RunResult("stopped")
    if not acquire(mailing):
        return RunResult("busy")  # another worker is on it
    try:
        reclaim_abandoned(mailing)
        with override(mailing.campaign.languages[0] if mailing.campaign.languages else None):
            return _send(mailing, max_batches)
    finally:
        release(mailing)


def _send(mailing: Mailing, max_batches: int | None) -> RunResult:
    try:
        prepared = prepare(mailing)
    except TransportConfigurationError as error:
        _pause(mailing, str(error))
        return RunResult("stopped")
    prepared.transport.open()
    try:
        return _run_batches(prepared, RateLimit(prepared.rate_per_second), max_batches)
    except TransportConfigurationError as error:
        _pause(mailing, str(error))
        return RunResult("stopped")
    finally:
        prepared.transport.close()


def _run_batches(prepared: Any, limit: RateLimit, max_batches: int | None) -> RunResult:
    mailing = prepared.mailing
    batches = 0
    while max_batches is None or batches < max_batches:
        mailing.refresh_from_db(fields=["status", "ab_winner"])
        if not mailing.is_running:
            return RunResult("stopped")
        blocked_until = send_blocked_until(mailing.campaign, timezone.now(), mailing.channel)
        if blocked_until is not None:
            return RunResult("blocked", blocked_until)
        batch = claim(mailing)
        if not batch:
            return _finish_or_wait(mailing)
        send_batch(prepared, batch, limit)
        batches += 1
    return RunResult("waiting", timezone.now())


def _finish_or_wait(mailing: Mailing) -> RunResult:
    pending = Delivery.objects.filter(
        mailing=mailing, status__in=[Delivery.Status.QUEUED, Delivery.Status.CLAIMED, Delivery.Status.HELD]
    )
    if not pending.exists():
        Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.SENDING).update(
            status=Mailing.Status.SENT, finished_at=timezone.now()
        )
        return RunResult("finished")
    next_retry = pending.filter(status=Delivery.Status.QUEUED).order_by("next_attempt_at").first()
    if next_retry is not None and next_retry.next_attempt_at:
        return RunResult("waiting", next_retry.next_attempt_at)
    if mailing.status == Mailing.Status.TESTING and mailing.ab_decide_at:
        return RunResult("waiting", mailing.ab_decide_at)
    return RunResult("waiting", timezone.now() + LEASE)


def _pause(mailing: Mailing, reason: str) -> None:
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.PAUSED, status_reason=reason[:300])
