"""Automatic messages ("notices"): one message to one person because they did
something: the reply to a web form, a double-opt-in link, a petition or RSVP
confirmation (with its .ics), an event's reminder or follow-up.

Not mailings: no segment, no marketing consent (the person asked for it), no footer.
But like mailings they leave through the campaign's own sender and transport (DKIM),
never reach an address that bounced, complained or is suppressed, survive a worker
restart and are sent once:
- `notice_queue` inserts a row under the caller's key (unique in the campaign: a form
  posted twice queues one notice) and enqueues its sending on commit;
- a worker claims a row with a conditional UPDATE (pending → claimed), sends it and
  records the outcome at once; a claim older than LEASE is a dead worker's and is
  taken again (the one window in which a message may leave twice);
- `notices_send_due`, run by every `mailings_tick`, sends whatever is due, so a task
  lost in a restart only delays a notice, and later ones (reminders) go when due.
The Notice row is the record: no audit row per notice."""

from __future__ import annotations

import base64
import datetime
import itertools
import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from suffrage.core.models import Campaign
from suffrage.messaging import feedback
from suffrage.messaging.engine import RateLimit, build_transport, dkim_key_of
from suffrage.messaging.models import Notice, Sender, TransportConfig, mail_settings
from suffrage.messaging.transports import kinds_for
from suffrage.messaging.transports.anymail_base import django_email
from suffrage.messaging.transports.base import (
    Attachment,
    OutgoingMessage,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    Transport,
    TransportConfigurationError,
)
from suffrage.people.models import Channel, Person, PersonEmail
from suffrage.privacy.services import is_suppressed, suppressed_among

logger = logging.getLogger(__name__)

# A claim older than this is a dead worker's: one message never takes that long.
LEASE = datetime.timedelta(minutes=10)
# A temporary failure is retried after 5 minutes, then 10, 15, 20; the fifth fails.
RETRY_STEP = datetime.timedelta(minutes=5)
MAX_ATTEMPTS = 5


# --- Queuing ------------------------------------------------------------------------------


def notice_queue(
    *,
    campaign: Campaign,
    to: str,
    key: str,
    subject: str,
    text: str,
    html: str = "",
    person: Person | None = None,
    kind: str = "",
    attachments: Sequence[Attachment] = (),
    send_after: datetime.datetime | None = None,
) -> Notice | None:
    """Queue an automatic message to `to`, sent after `send_after` (now by default).

    None, and nothing queued, when the campaign already has a notice under `key` (a
    form posted twice, two workers handling one event) or when the address bounced,
    complained or is on the suppression list."""
    if person is not None and person.campaign_id != campaign.pk:
        raise ValueError("the person belongs to another campaign")
    address = to.strip().lower()
    if not notice_address_usable(campaign, address):
        return None
    if Notice.objects.filter(campaign=campaign, key=key).exists():
        return None
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a duplicate
            notice = Notice.objects.create(
                campaign=campaign,
                person=person,
                to=address,
                kind=kind,
                key=key,
                subject=subject,
                text=text,
                html=html,
                attachments=[_stored(attachment) for attachment in attachments],
                send_after=send_after or timezone.now(),
            )
    except IntegrityError:
        return None  # queued at the same moment by another request: the constraint decided
    if notice.send_after <= timezone.now():
        transaction.on_commit(lambda: _enqueue(notice.pk))
    return notice


def notice_address_usable(campaign: Campaign, address: str) -> bool:
    """Whether automatic messages may go to this address: it did not bounce or complain
    on any person of the campaign, and is not on the suppression list."""
    refused = PersonEmail.objects.filter(campaign=campaign, address=address.strip().lower())
    if refused.exclude(status=PersonEmail.Status.OK).exists():
        return False
    return not is_suppressed(campaign, Channel.EMAIL, address)


def notice_cancel(*, campaign: Campaign, key_prefix: str) -> int:
    """Cancel the pending notices whose key starts with `key_prefix` (an RSVP withdrawn:
    its reminders must not go). How many were cancelled."""
    if not key_prefix:
        raise ValueError("a key prefix is required")
    pending = Notice.objects.filter(campaign=campaign, key__startswith=key_prefix, status=Notice.Status.PENDING)
    return pending.update(status=Notice.Status.CANCELLED)


def _stored(attachment: Attachment) -> dict[str, str]:
    content = base64.b64encode(attachment.content).decode("ascii")
    return {"filename": attachment.filename, "mimetype": attachment.mimetype, "content_b64": content}


def _attachment(stored: dict[str, str]) -> Attachment:
    return Attachment(stored["filename"], base64.b64decode(stored["content_b64"]), stored["mimetype"])


def _enqueue(notice_id: int) -> None:
    from suffrage.messaging.tasks import notice_send_task

    notice_send_task.enqueue(notice_id)


# --- Claims -------------------------------------------------------------------------------


def _claimable(now: datetime.datetime) -> Q:
    due = Q(status=Notice.Status.PENDING, send_after__lte=now)
    return due | Q(status=Notice.Status.CLAIMED, claimed_at__lt=now - LEASE)


def _claim(notice_id: int, now: datetime.datetime) -> bool:
    """Take one notice; False when another worker did first (or it is sent, cancelled, not due)."""
    claimed = Notice.objects.filter(_claimable(now), pk=notice_id).update(status=Notice.Status.CLAIMED, claimed_at=now)
    return bool(claimed)


def notices_send_due(*, now: datetime.datetime | None = None, limit: int = 200) -> int:
    """Send the notices that are due, and those a dead worker held; how many were sent.

    One transport connection per campaign; run by `mailings_tick` and safe to run in
    several processes at once (each notice is claimed by one)."""
    now = now or timezone.now()
    candidates = Notice.objects.filter(_claimable(now)).order_by("send_after", "pk").values_list("pk", "status")
    claimed, abandoned = [], 0
    for pk, status in candidates[:limit]:
        if _claim(pk, now):
            claimed.append(pk)
            abandoned += status == Notice.Status.CLAIMED
    if abandoned:
        logger.warning("%s notices claimed by a dead worker are sent again", abandoned)
    notices = Notice.objects.filter(pk__in=claimed).select_related("campaign").order_by("campaign_id", "pk")
    sent = 0
    for campaign_id, group in itertools.groupby(notices, key=lambda notice: notice.campaign_id):
        batch = list(group)
        try:
            sent += _send_batch(batch[0].campaign, batch).count("sent")
        except Exception:
            # One campaign's fault (a key that no longer decrypts…) must not hold the
            # others' notices back; its notices were given back for the next run.
            logger.exception("campaign %s: automatic messages not sent", campaign_id)
    return sent


def notice_send(notice_id: int) -> str:
    """Send one notice if it is still waiting and due: "sent", "retry", "failed",
    "cancelled", or "skipped" (already sent, cancelled, not due, or being sent)."""
    if not _claim(notice_id, timezone.now()):
        return "skipped"
    notice = Notice.objects.select_related("campaign").get(pk=notice_id)
    return _send_batch(notice.campaign, [notice])[0]


# --- Sending ------------------------------------------------------------------------------


@dataclass
class Outbox:
    """How a campaign's notices leave: its transport and sender, or Django's backend."""

    transport: Transport
    from_email: str
    reply_to: str
    domain: str  # of the Message-ID
    rate_per_second: float = 0

    def message(self, notice: Notice) -> OutgoingMessage:
        # Derived from the row, so a retry carries the same Message-ID.
        stamp = int(notice.created_at.timestamp())
        return OutgoingMessage(
            from_email=self.from_email,
            to=notice.to,
            subject=notice.subject,
            text=notice.text,
            html=notice.html,
            message_id=f"<n{notice.pk}.{stamp}@{self.domain}>",
            reply_to=self.reply_to,
            # RFC 3834: a machine wrote it, so vacation replies and the like stay silent.
            headers={"Auto-Submitted": "auto-generated"},
            attachments=[_attachment(stored) for stored in notice.attachments],
        )


def notice_outbox(campaign: Campaign) -> Outbox:
    """The sender and transport chosen for automatic messages in the email settings;
    else the campaign's first sender and email transport; else Django's own backend."""
    options = mail_settings(campaign)
    sender = options.notice_sender or Sender.objects.filter(campaign=campaign).order_by("pk").first()
    config = (
        options.notice_transport
        or TransportConfig.objects.filter(campaign=campaign, kind__in=kinds_for("email")).order_by("pk").first()
    )
    if sender is None or config is None:
        return _django_outbox(campaign, sender)
    return Outbox(
        transport=build_transport(config, dkim_key_of(sender)),
        # Unicode kept: each transport encodes headers its own way.
        from_email=str(Address(display_name=sender.name, addr_spec=sender.email)),
        reply_to=sender.reply_to,
        domain=sender.domain,
        rate_per_second=config.rate_per_second,
    )


def _django_outbox(campaign: Campaign, sender: Sender | None) -> Outbox:
    """The server's address (DEFAULT_FROM_EMAIL), whose domain its mail server may send
    for, under the campaign's name; replies go to the campaign's sender if it has one."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    name = sender.name if sender is not None else campaign.name
    return Outbox(
        transport=DjangoMailTransport(),
        from_email=str(Address(display_name=name, addr_spec=address)),
        reply_to=(sender.reply_to or sender.email) if sender is not None else "",
        domain=address.rpartition("@")[2] or "localhost",
    )


class DjangoMailTransport:
    """The Transport protocol over Django's mail backend (the EMAIL_* settings)."""

    def __init__(self) -> None:
        self.connection = get_connection()

    def open(self) -> None:
        try:
            self.connection.open()
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryFailure(_("Could not connect to the mail server: %(error)s") % {"error": error}) from error

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            django_email(message, self.connection).send()
        except smtplib.SMTPRecipientsRefused as error:
            reason = _("The mail server refused the recipient: %(error)s") % {"error": error.recipients}
            codes = [code for code, _text in error.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentFailure(reason) from error
            raise TemporaryFailure(reason) from error
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryFailure(_("Sending failed: %(error)s") % {"error": error}) from error
        return SendResult()

    def close(self) -> None:
        self.connection.close()


def _send_batch(campaign: Campaign, notices: list[Notice]) -> list[str]:
    """Send claimed notices of one campaign over one connection; each outcome is
    recorded as soon as known. What an unexpected error leaves unsent goes back."""
    unsent = list(notices)
    outcomes: list[str] = []
    with override(campaign.language):
        try:
            blocked = _blocked(campaign, {notice.to for notice in notices})
            for notice in [notice for notice in notices if notice.to in blocked]:
                outcomes.append(_cancelled(notice, _("This address bounced, complained or is suppressed.")))
                unsent.remove(notice)
            if unsent:
                outcomes += _deliver_all(notice_outbox(campaign), unsent)
        finally:
            _release(unsent)
    return outcomes


def _deliver_all(outbox: Outbox, notices: list[Notice]) -> list[str]:
    """Send over one connection, popping each notice off `notices` once its outcome is
    recorded: after an unexpected error, what is left there goes back to the queue."""
    try:
        outbox.transport.open()
    except (TemporaryFailure, TransportConfigurationError) as error:
        outcomes = [_retry(notice, str(error)) for notice in notices]
        notices.clear()
        return outcomes
    limit = RateLimit(outbox.rate_per_second)
    outcomes = []
    try:
        while notices:
            limit.wait()
            outcomes.append(_deliver(outbox, notices[0]))
            notices.pop(0)
    finally:
        outbox.transport.close()
    return outcomes


def _deliver(outbox: Outbox, notice: Notice) -> str:
    try:
        outbox.transport.send(outbox.message(notice))
    except (TemporaryFailure, TransportConfigurationError) as error:
        return _retry(notice, str(error))
    except PermanentFailure as error:
        _record(notice, Notice.Status.FAILED, str(error))
        # As for a mailing: the address is marked bounced and suppressed.
        feedback.address_failed(notice.campaign, notice.to, str(error))
        return "failed"
    _record(notice, Notice.Status.SENT, "", sent_at=timezone.now())
    return "sent"


def _record(notice: Notice, status: str, error: str, **fields: object) -> None:
    Notice.objects.filter(pk=notice.pk).update(status=status, attempts=F("attempts") + 1, error=error[:500], **fields)


def _retry(notice: Notice, error: str) -> str:
    attempts = notice.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _record(notice, Notice.Status.FAILED, error)
        return "failed"
    later = timezone.now() + RETRY_STEP * attempts
    _record(notice, Notice.Status.PENDING, error, send_after=later, claimed_at=None)
    return "retry"


def _cancelled(notice: Notice, reason: str) -> str:
    Notice.objects.filter(pk=notice.pk).update(status=Notice.Status.CANCELLED, error=reason[:500])
    return "cancelled"


def _blocked(campaign: Campaign, addresses: Iterable[str]) -> set[str]:
    """Of these addresses, those that bounced, complained or were suppressed since queued."""
    addresses = list(addresses)
    refused = PersonEmail.objects.filter(campaign=campaign, address__in=addresses).exclude(status=PersonEmail.Status.OK)
    return set(refused.values_list("address", flat=True)) | suppressed_among(campaign.pk, Channel.EMAIL, addresses)


def _release(notices: list[Notice]) -> None:
    if notices:
        logger.warning("%s notices given back unsent after an error", len(notices))
        Notice.objects.filter(pk__in=[notice.pk for notice in notices], status=Notice.Status.CLAIMED).update(
            status=Notice.Status.PENDING, claimed_at=None
        )
