"""Writes on email campaigns: senders and their keys, transports and their secrets,
templates, mailings (save, test, send, schedule, pause, resume, cancel, A/B winner).
All audited; sending itself is the engine's, run by a task."""

from __future__ import annotations

import datetime
import random
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.core.network import is_public
from suffrage.core.secrets import decrypt_json, encrypt, encrypt_json
from suffrage.messaging import dkim
from suffrage.messaging.engine import RunResult, build_transport, mailing_run, message_for, prepare, sender_dkim
from suffrage.messaging.models import Delivery, EmailTemplate, Link, Mailing, MailSettings, Sender, TransportConfig
from suffrage.messaging.rendering import TemplateError, check_footer, parse
from suffrage.messaging.schedule import send_refusal
from suffrage.messaging.transports import transport_kind
from suffrage.messaging.transports.base import TemporaryFailure, TransportConfigurationError
from suffrage.people.models import Channel, Person, PersonEmail, lawful_contact, reachable, usable_emails
from suffrage.segments.compiler import context_for, segment_members
from suffrage.segments.models import SnapshotMember
from suffrage.segments.services import snapshot_create

# --- Senders and transports -------------------------------------------------------------


@transaction.atomic
def sender_create(*, campaign: Campaign, name: str, email: str, reply_to: str, algorithm: str, actor: User) -> Sender:
    private_pem, public_b64 = dkim.dkim_key_generate(algorithm)
    sender = Sender.objects.create(
        campaign=campaign,
        name=name,
        email=email.lower(),
        reply_to=reply_to.lower(),
        dkim_algorithm=algorithm,
        dkim_selector=f"suffrage{timezone.now():%Y%m}",
        dkim_private_key=encrypt(private_pem),
        dkim_public_key=public_b64,
    )
    audit_record(action="sender.create", campaign=campaign, obj=sender, actor=actor)
    return sender


def sender_dns_records(sender: Sender, transports: list[TransportConfig]) -> list[dkim.DnsRecord]:
    hints = sorted({transport_kind(t.kind).spf_hint for t in transports if transport_kind(t.kind).spf_hint})
    return dkim.dns_records(
        domain=sender.domain,
        selector=sender.dkim_selector,
        algorithm=sender.dkim_algorithm,
        public_key_b64=sender.dkim_public_key,
        spf_hint=" ".join(hints) or "mx",
        report_address=sender.reply_to or sender.email,
    )


def sender_verify(*, sender: Sender, actor: User) -> dict[str, str]:
    """Look the DNS records up; remember what was found."""
    records = sender_dns_records(sender, list(TransportConfig.objects.filter(campaign=sender.campaign)))
    results = dkim.dns_check(records, resolver_nameservers=settings.DNS_NAMESERVERS or None)
    sender.dns_status = {record.purpose: status for record, status in results}
    sender.checked_at = timezone.now()
    sender.save(update_fields=["dns_status", "checked_at"])
    audit_record(action="sender.verify", campaign=sender.campaign, obj=sender, actor=actor, changes=sender.dns_status)
    return dict(sender.dns_status)


@transaction.atomic
def transport_save(
    *,
    campaign: Campaign,
    kind: str,
    name: str,
    values: dict[str, Any],
    rate_per_second: float,
    actor: User,
    transport: TransportConfig | None = None,
    price_per_part: Any = None,
) -> TransportConfig:
    """Create or change a transport. A secret left blank keeps its stored value."""
    description = transport_kind(kind)
    transport = transport or TransportConfig(campaign=campaign, kind=kind)
    secrets = decrypt_json(transport.secrets)
    for name_ in description.secret_fields:
        if values.get(name_):
            secrets[name_] = values[name_]
    transport.name, transport.rate_per_second = name, rate_per_second
    transport.price_per_part = price_per_part
    transport.settings = {key: values.get(key, "") for key in description.settings_fields}
    try:
        description.build(transport.settings, secrets, None)  # refuses settings that cannot work
    except (ValueError, TransportConfigurationError) as error:
        raise ValidationError(str(error)) from error
    transport.secrets = encrypt_json(secrets)
    created = transport.pk is None
    transport.save()
    # Which secrets were set, never their values.
    audit_record(
        action="transport.create" if created else "transport.update",
        campaign=campaign,
        obj=transport,
        actor=actor,
        changes={"kind": kind, "settings": transport.settings, "secrets": sorted(secrets)},
    )
    return transport


@transaction.atomic
def mail_settings_save(*, form: Any, actor: User) -> MailSettings:
    """Save the settings form (a ModelForm on the campaign's MailSettings), audited."""
    options: MailSettings = form.save()
    changes = {name: str(value) for name, value in form.cleaned_data.items() if name in form.changed_data}
    audit_record(action="mail_settings.update", campaign=options.campaign, obj=options, actor=actor, changes=changes)
    return options


# --- Templates and mailings ---------------------------------------------------------------


def _check_content(subject: str, subject_b: str, preheader: str, body: str, footer: str) -> None:
    errors: dict[str, list[str]] = {}
    for field_name, text in (("subject", subject), ("subject_b", subject_b), ("preheader", preheader), ("body", body)):
        try:
            parse(text)
        except TemplateError as error:
            errors.setdefault(field_name, []).append(str(error))
    try:
        check_footer(footer)
    except TemplateError as error:
        errors.setdefault("footer", []).append(str(error))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def template_save(
    *, campaign: Campaign, values: dict[str, Any], actor: User, template: EmailTemplate | None = None
) -> EmailTemplate:
    _check_content(values.get("subject", ""), "", values.get("preheader", ""), values.get("body", ""), default_footer())
    template = template or EmailTemplate(campaign=campaign)
    for key in ("name", "subject", "preheader", "body"):
        setattr(template, key, values.get(key, ""))
    created = template.pk is None
    template.save()
    audit_record(
        action="email_template.create" if created else "email_template.update",
        campaign=campaign,
        obj=template,
        actor=actor,
    )
    return template


def default_footer() -> str:
    return _(
        "{{ sender_identity }}\n\n{{ data_source }}\n\n"
        "You can access, correct or erase your data and object to its use: [your rights]({{ rights_url }}). "
        "[Unsubscribe]({{ unsubscribe_url }})"
    )


@transaction.atomic
def mailing_save(*, campaign: Campaign, values: dict[str, Any], actor: User, mailing: Mailing | None = None) -> Mailing:
    if mailing is not None and not mailing.is_editable:
        raise ValidationError(_("This mailing has started: it can no longer be changed."))
    _check_content(
        values["subject"], values.get("subject_b", ""), values.get("preheader", ""), values["body"], values["footer"]
    )
    mailing = mailing or Mailing(campaign=campaign, created_by=actor)
    fields = (
        "name",
        "sender",
        "transport",
        "segment",
        "subject",
        "subject_b",
        "ab_sample_percent",
        "ab_wait_hours",
        "preheader",
        "body",
        "footer",
    )
    for key in fields:
        if key in values:
            setattr(mailing, key, values[key])
    created = mailing.pk is None
    mailing.save()
    audit_record(action="mailing.create" if created else "mailing.update", campaign=campaign, obj=mailing, actor=actor)
    return mailing


def links_check(urls: list[str], timeout: float = 5) -> list[tuple[str, str]]:
    """Each link with its server's answer ("200", "404"…) or why it could not be reached.

    Only public addresses are fetched (a mailing's author must not make the server
    probe the internal network), unless LINK_CHECK_PRIVATE is set (tests, intranets)."""
    return [(url, _link_status(url, timeout)) for url in dict.fromkeys(urls)]


def _link_status(url: str, timeout: float) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("not a web address")
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        return _("unknown host")
    if not settings.LINK_CHECK_PRIVATE and not all(is_public(address) for address in addresses):
        return _("private address, not checked")
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "Suffrage link check"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return str(response.status)
    except urllib.error.HTTPError as error:
        return str(error.code)
    except (urllib.error.URLError, OSError) as error:
        return str(getattr(error, "reason", error))


# --- Audience -------------------------------------------------------------------------------


def audience_breakdown(people: Any) -> dict[str, int]:
    """Who of these people will receive an email, and why the others will not.

    Each person is counted once, under the first reason that applies, so the numbers add up."""
    has_address = Exists(PersonEmail.objects.filter(person_id=OuterRef("pk")))
    has_usable = Exists(usable_emails().filter(person_id=OuterRef("pk")))
    has_bounced = Exists(PersonEmail.objects.filter(person_id=OuterRef("pk"), status=PersonEmail.Status.BOUNCED))
    has_complained = Exists(PersonEmail.objects.filter(person_id=OuterRef("pk"), status=PersonEmail.Status.COMPLAINED))
    lawful = lawful_contact(Channel.EMAIL)
    counts = people.order_by().aggregate(
        in_segment=Count("pk"),
        no_address=Count("pk", filter=~Q(has_address)),
        unsubscribed=Count("pk", filter=Q(has_address) & Q(consent_email=False)),
        no_consent=Count("pk", filter=Q(has_address) & ~Q(consent_email=False) & ~lawful),
        complained=Count("pk", filter=Q(has_address) & lawful & ~Q(has_usable) & Q(has_complained)),
        bounced=Count("pk", filter=Q(has_address) & lawful & ~Q(has_usable) & ~Q(has_complained) & Q(has_bounced)),
        will_receive=Count("pk", filter=lawful & Q(has_usable)),
    )
    counts["suppressed"] = counts["in_segment"] - sum(value for key, value in counts.items() if key != "in_segment")
    return {key: int(value) for key, value in counts.items()}


def segment_audience(mailing: Mailing) -> Any:
    """The people of the mailing's segment now.

    Read with the right to use the support level: the segment was checked against its
    author's role when saved, and only owners and managers (who may see it) send."""
    if mailing.segment is None:
        return Person.objects.none()
    return segment_members(mailing.segment, context_for(mailing.campaign, can_sensitive=True))


def mailing_audience(mailing: Mailing) -> dict[str, int]:
    """The numbers shown before sending (computed on the segment as it is now)."""
    return audience_breakdown(segment_audience(mailing)) if mailing.segment else {}


def _snapshot_people(snapshot_id: int) -> Any:
    return Person.objects.filter(
        Exists(SnapshotMember.objects.filter(snapshot_id=snapshot_id, person_id=OuterRef("pk")))
    )


def deliveries_create(mailing: Mailing) -> int:
    """One delivery per reachable person of the snapshot, with the address to use: one INSERT … SELECT."""
    assert mailing.snapshot_id is not None
    first_address = usable_emails().filter(person_id=OuterRef("pk")).order_by("-is_primary", "pk").values("address")[:1]
    people = (
        _snapshot_people(mailing.snapshot_id)
        .filter(reachable(Channel.EMAIL))
        .annotate(recipient=Subquery(first_address))
        .order_by()
        .values("recipient", member=F("pk"))
    )
    sql, params = people.query.sql_with_params()
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        columns = "mailing_id, person_id, address, variant, status, attempts, claimed_by, provider_id, error"
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608
            f"SELECT %s, selected.member, selected.recipient, '', %s, 0, '', '', '' FROM ({sql}) AS selected",
            [mailing.pk, Delivery.Status.QUEUED, *params],
        )
    return Delivery.objects.filter(mailing=mailing).count()


# --- Sending ----------------------------------------------------------------------------------


def _ready_to_send(mailing: Mailing) -> None:
    if mailing.segment is None:
        raise ValidationError(_("Choose the segment to send to."))
    refusal = send_refusal(mailing.campaign, timezone.now(), mailing.channel)
    if refusal:
        raise ValidationError(refusal)


@transaction.atomic
def mailing_send(*, mailing: Mailing, actor: User, at: datetime.datetime | None = None) -> Mailing:
    """Send now, or schedule for later (the audience is taken when sending starts)."""
    mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
    if not mailing.is_editable:
        raise ValidationError(_("This mailing has already started."))
    if mailing.segment is None:
        raise ValidationError(_("Choose the segment to send to."))
    if at is not None and at > timezone.now():
        refusal = send_refusal(mailing.campaign, at, mailing.channel)
        if refusal:
            raise ValidationError(refusal)
        mailing.status, mailing.scheduled_at = Mailing.Status.SCHEDULED, at
        mailing.save(update_fields=["status", "scheduled_at"])
        audit_record(
            action="mailing.schedule",
            campaign=mailing.campaign,
            obj=mailing,
            actor=actor,
            changes={"at": at.isoformat()},
        )
        _enqueue(mailing, at)
        return mailing
    _ready_to_send(mailing)
    return mailing_start(mailing=mailing, actor=actor)


@transaction.atomic
def mailing_start(*, mailing: Mailing, actor: User | None) -> Mailing:
    """Take the audience now: snapshot the segment, create every delivery, start the workers."""
    assert mailing.segment is not None
    document = {"version": 1, "filter": {"field": "segment", "op": "in", "value": mailing.segment.pk}}
    snapshot = snapshot_create(
        campaign=mailing.campaign,
        document=document,
        purpose="mailing",
        actor=actor,
        context=context_for(mailing.campaign, can_sensitive=True),  # see segment_audience
    )
    mailing.snapshot = snapshot
    people = _snapshot_people(snapshot.pk)
    if mailing.channel == Mailing.Channel.SMS:
        from suffrage.texting import sending

        mailing.audience = sending.audience_breakdown(mailing, people)
        mailing.save(update_fields=["snapshot", "audience"])
        count = sending.sms_deliveries_create(mailing, people)
    else:
        mailing.audience = audience_breakdown(people)
        mailing.save(update_fields=["snapshot", "audience"])
        _links_record(mailing)
        count = deliveries_create(mailing)
    mailing.status = Mailing.Status.SENDING
    if mailing.subject_b and mailing.channel == Mailing.Channel.EMAIL:
        _ab_split(mailing)
        mailing.status = Mailing.Status.TESTING
        mailing.ab_decide_at = timezone.now() + datetime.timedelta(hours=mailing.ab_wait_hours)
    mailing.started_at = timezone.now()
    mailing.save(update_fields=["status", "started_at", "ab_decide_at"])
    audit_record(
        action="mailing.send", campaign=mailing.campaign, obj=mailing, actor=actor, changes={"recipients": count}
    )
    _enqueue(mailing)
    return mailing


def _links_record(mailing: Mailing) -> None:
    from suffrage.messaging.engine import compile_mailing

    links = compile_mailing(mailing).links
    Link.objects.bulk_create([Link(mailing=mailing, position=index, url=url) for index, url in enumerate(links)])


def _ab_split(mailing: Mailing) -> None:
    """A random sample gets subject A or B; the others wait for the winner."""
    ids = list(Delivery.objects.filter(mailing=mailing).values_list("pk", flat=True))
    sample = random.sample(ids, max(2, len(ids) * mailing.ab_sample_percent // 100)) if len(ids) >= 4 else ids
    half = len(sample) // 2
    chosen = set(sample)
    Delivery.objects.filter(pk__in=sample[:half]).update(variant="a")
    Delivery.objects.filter(pk__in=sample[half:]).update(variant="b")
    rest = [pk for pk in ids if pk not in chosen]
    for start in range(0, len(rest), 5000):
        Delivery.objects.filter(pk__in=rest[start : start + 5000]).update(status=Delivery.Status.HELD)


def ab_results(mailing: Mailing) -> dict[str, dict[str, int]]:
    rows = (
        Delivery.objects.filter(mailing=mailing, variant__in=["a", "b"])
        .values("variant")
        .annotate(
            sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
        )
    )
    return {row["variant"]: {key: row[key] for key in ("sent", "clicked", "opened")} for row in rows}


@transaction.atomic
def ab_decide(*, mailing: Mailing, actor: User | None, winner: str = "") -> str:
    """Pick the subject with the better click rate (open rate if clicks tie), send it to the rest."""
    mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
    if mailing.status != Mailing.Status.TESTING:
        return mailing.ab_winner
    if not winner:
        results = ab_results(mailing)

        def score(variant: str) -> tuple[float, float]:
            row = results.get(variant, {"sent": 0, "clicked": 0, "opened": 0})
            sent = row["sent"] or 1
            return row["clicked"] / sent, row["opened"] / sent

        winner = "b" if score("b") > score("a") else "a"
    Delivery.objects.filter(mailing=mailing, status=Delivery.Status.HELD).update(status=Delivery.Status.QUEUED)
    mailing.ab_winner, mailing.status = winner, Mailing.Status.SENDING
    mailing.save(update_fields=["ab_winner", "status"])
    audit_record(
        action="mailing.ab_winner", campaign=mailing.campaign, obj=mailing, actor=actor, changes={"winner": winner}
    )
    _enqueue(mailing)
    return winner


@transaction.atomic
def mailing_pause(*, mailing: Mailing, actor: User) -> None:
    if not mailing.is_running and mailing.status != Mailing.Status.SCHEDULED:
        raise ValidationError(_("Only a mailing being sent can be paused."))
    previous = mailing.status
    Mailing.objects.filter(pk=mailing.pk).update(
        status=Mailing.Status.PAUSED, status_reason=_("Paused by %(user)s.") % {"user": actor.email}
    )
    audit_record(
        action="mailing.pause", campaign=mailing.campaign, obj=mailing, actor=actor, changes={"from": previous}
    )


@transaction.atomic
def mailing_resume(*, mailing: Mailing, actor: User | None) -> None:
    if mailing.status != Mailing.Status.PAUSED:
        raise ValidationError(_("Only a paused mailing can be resumed."))
    refusal = send_refusal(mailing.campaign, timezone.now(), mailing.channel)
    if refusal:
        raise ValidationError(refusal)
    if mailing.started_at is None:
        mailing.status = Mailing.Status.DRAFT
        mailing.save(update_fields=["status"])
        mailing_start(mailing=mailing, actor=actor)
        return
    testing = mailing.subject_b and not mailing.ab_winner and mailing.channel == Mailing.Channel.EMAIL
    status = Mailing.Status.TESTING if testing else Mailing.Status.SENDING
    Mailing.objects.filter(pk=mailing.pk).update(status=status, status_reason="")
    audit_record(action="mailing.resume", campaign=mailing.campaign, obj=mailing, actor=actor)
    _enqueue(mailing)


@transaction.atomic
def mailing_cancel(*, mailing: Mailing, actor: User) -> int:
    """Stop for good: what was not sent yet never will be."""
    if mailing.status in (Mailing.Status.SENT, Mailing.Status.CANCELLED):
        raise ValidationError(_("This mailing is over."))
    pending = Delivery.objects.filter(mailing=mailing, status__in=[Delivery.Status.QUEUED, Delivery.Status.HELD])
    count = pending.update(status=Delivery.Status.CANCELLED)
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.CANCELLED, finished_at=timezone.now())
    audit_record(
        action="mailing.cancel", campaign=mailing.campaign, obj=mailing, actor=actor, changes={"not_sent": count}
    )
    return count


def mailing_test_send(*, mailing: Mailing, person: Person, to: str, actor: User) -> None:
    """Send the message as `person` would get it, to a colleague's address, marked as a test."""
    prepared = prepare(mailing)
    delivery = Delivery(pk=0, mailing=mailing, person=person, address=to)
    message = message_for(prepared, delivery)
    message.subject = _("[TEST] %(subject)s") % {"subject": message.subject}
    message.headers.pop("List-Unsubscribe-Post", None)
    transport = build_transport(mailing.transport, sender_dkim(mailing))
    transport.open()
    try:
        transport.send(message)
    except TemporaryFailure as error:
        raise ValidationError(_("The test could not be sent: %(error)s") % {"error": error}) from error
    finally:
        transport.close()
    audit_record(action="mailing.test_send", campaign=mailing.campaign, obj=mailing, actor=actor, changes={"to": to})


# --- Running -----------------------------------------------------------------------------------


def _enqueue(mailing: Mailing, at: datetime.datetime | None = None) -> None:
    from suffrage.messaging.tasks import mailing_send_task

    def enqueue() -> None:
        task = mailing_send_task
        if at is not None:
            if not task.get_backend().supports_defer:
                return  # the tick (mailings_tick) will start it
            task = task.using(run_after=at)
        task.enqueue(mailing.pk)

    transaction.on_commit(enqueue)


def mailing_continue(mailing_id: int) -> RunResult:
    """What the task does: start a scheduled mailing when due, decide an A/B test, send."""
    mailing = Mailing.objects.select_related("campaign").get(pk=mailing_id)
    now = timezone.now()
    if mailing.status == Mailing.Status.SCHEDULED:
        if mailing.scheduled_at and mailing.scheduled_at > now:
            return RunResult("waiting", mailing.scheduled_at)
        try:
            _ready_to_send(mailing)
        except ValidationError as error:
            Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.PAUSED, status_reason=error.messages[0])
            return RunResult("stopped")
        mailing_start(mailing=mailing, actor=None)
        return RunResult("waiting", now)  # mailing_start enqueued the sending
    if mailing.status == Mailing.Status.TESTING and mailing.ab_decide_at and mailing.ab_decide_at <= now:
        ab_decide(mailing=mailing, actor=None)
        return RunResult("waiting", now)
    return mailing_run(mailing_id)


def mailings_tick() -> int:
    """Start what is due and pick up what a dead worker left; run every minute or so."""
    now = timezone.now()
    due = Mailing.objects.filter(
        Q(status=Mailing.Status.SCHEDULED, scheduled_at__lte=now)
        | Q(status=Mailing.Status.TESTING, ab_decide_at__lte=now)
        | Q(status__in=[Mailing.Status.SENDING, Mailing.Status.TESTING])
    )
    count = 0
    for mailing_id in due.values_list("pk", flat=True):
        result = mailing_continue(mailing_id)
        count += result.outcome != "stopped"
    return count
