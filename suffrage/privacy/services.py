"""Writes of the privacy app: the suppression list (and the check every way in —
imports, forms, hand entry — makes before storing an address or a number), rights
requests, objection, and the public page's confirmation links."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.core.secrets import decrypt_json, secret_digest
from suffrage.messaging.models import TransportConfig
from suffrage.messaging.transports import kinds_for, transport_kind
from suffrage.messaging.transports.base import SmsMessage
from suffrage.people.models import Channel, Person, PersonEmail, PersonPhone, Source
from suffrage.privacy.models import RightsRequest, Suppression, Verification, suppression_digest


def suppression_add(
    *, campaign: Campaign, channel: str, value: str, reason: str, detail: str = "", actor: User | None = None
) -> bool:
    """Suppress a value on a channel (idempotent). True when it was not suppressed yet.

    Only a keyed hash is kept: the list recognises the address, it cannot give it back."""
    _, created = Suppression.objects.get_or_create(
        campaign=campaign,
        channel=channel,
        digest=suppression_digest(value),
        defaults={"reason": reason, "detail": detail[:300]},
    )
    _mark_held(campaign, channel, value)
    if created:
        audit_record(
            action="suppression.add", campaign=campaign, changes={"channel": channel, "reason": reason}, actor=actor
        )
    return created


def _mark_held(campaign: Campaign, channel: str, value: str) -> None:
    """People who already hold the value: their address or number becomes unusable."""
    if channel == "email":
        usable = PersonEmail.objects.filter(campaign=campaign, address=value.strip().lower(), status="ok")
        usable.update(status=PersonEmail.Status.SUPPRESSED)
    elif channel == "phone":
        PersonPhone.objects.filter(campaign=campaign, number=value.strip()).update(suppressed=True)
    # "sms": the number stays usable for calls; the texts' audience filters it out.


def suppressed_among(campaign_id: int, channel: str, values: Iterable[str]) -> set[str]:
    """Which of these values are on the campaign's suppression list."""
    by_digest = {suppression_digest(value): value for value in values if value}
    found = Suppression.objects.filter(campaign_id=campaign_id, channel=channel, digest__in=list(by_digest))
    return {by_digest[digest] for digest in found.values_list("digest", flat=True)}


def is_suppressed(campaign: Campaign, channel: str, value: str) -> bool:
    return bool(suppressed_among(campaign.pk, channel, [value]))


# --- Rights requests ------------------------------------------------------------------

VERIFICATION_HOURS = 48


@transaction.atomic
def request_create(*, campaign: Campaign, actor: User | None, **fields: Any) -> RightsRequest:
    """Log a request received by email, letter, phone or in person (the deadline runs from now)."""
    request = RightsRequest.objects.create(campaign=campaign, created_by=actor, **fields)
    audit_record(
        action="rights_request.create",
        campaign=campaign,
        obj=request,
        actor=actor,
        changes={"kind": request.kind, "channel": request.channel},
    )
    return request


@transaction.atomic
def request_update(*, request: RightsRequest, actor: User, **fields: Any) -> RightsRequest:
    """Change status, assignee, person or answer; closing records when."""
    before = {name: str(getattr(request, name)) for name in fields}
    for name, value in fields.items():
        setattr(request, name, value)
    if request.is_closed and request.closed_at is None:
        request.closed_at = timezone.now()
    if not request.is_closed:
        request.closed_at = None
    request.save()
    changes = {name: [before[name], str(getattr(request, name))] for name in fields if name != "outcome"}
    audit_record(action="rights_request.update", campaign=request.campaign, obj=request, actor=actor, changes=changes)
    return request


@transaction.atomic
def person_object(*, person: Person, actor: User | None, request: RightsRequest | None = None) -> None:
    """Objection (GDPR art. 21): no contact on any channel, at once and for good.

    Consent is withdrawn on every channel (with the request as proof), and the
    person's addresses and numbers go on the suppression list, so that a later import
    or form cannot bring them back."""
    from suffrage.people.services import consent_record  # people.services imports this module

    proof = _("Objection, request #%(id)s") % {"id": request.pk} if request else _("Objection")
    for channel in Channel.values:
        if getattr(person, f"consent_{channel}") is not False:
            consent_record(person=person, channel=channel, granted=False, source=Source.MANUAL, actor=actor, form=proof)
    for address in person.emails.values_list("address", flat=True):
        suppression_add(campaign=person.campaign, channel="email", value=address, reason="objection", actor=actor)
    for number in person.phones.values_list("number", flat=True):
        suppression_add(campaign=person.campaign, channel="phone", value=number, reason="objection", actor=actor)
    audit_record(action="person.objection", campaign=person.campaign, obj=person, actor=actor)


def people_with_email(campaign: Campaign, address: str) -> QuerySet[Person]:
    return Person.objects.filter(campaign=campaign, emails__address=address.strip().lower()).distinct()


@transaction.atomic
def public_request_start(*, campaign: Campaign, kind: str, email: str, name: str = "", ip: str | None = None) -> str:
    """A citizen asks on the public page: log it and send a confirmation link to the
    address given. Returns the link's secret (for tests); the page never says whether
    the address is known (no one can probe who is in the base)."""
    request = RightsRequest.objects.create(
        campaign=campaign,
        kind=kind,
        status=RightsRequest.Status.UNVERIFIED,
        channel=RightsRequest.Channel.SELF_SERVICE,
        requester_name=name[:200],
        contact_email=email.strip().lower(),
    )
    secret = secrets.token_urlsafe(32)
    Verification.objects.create(
        request=request,
        channel="email",
        secret_hash=secret_digest(secret),
        expires_at=timezone.now() + datetime.timedelta(hours=VERIFICATION_HOURS),
    )
    audit_record(action="rights_request.public", campaign=campaign, obj=request, changes={"kind": kind})
    link = f"{settings.SITE_URL}{reverse('privacy_public_verify', args=[campaign.slug, secret])}"
    transaction.on_commit(lambda: _send_link(campaign, request, link))
    return secret


def _send_link(campaign: Campaign, request: RightsRequest, link: str) -> None:
    subject = _("%(campaign)s: confirm your request") % {"campaign": campaign.name}
    body = render_to_string(
        "privacy/email/confirm_request.txt", {"campaign": campaign, "request": request, "link": link}
    )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [request.contact_email])


@dataclass
class Verified:
    request: RightsRequest
    people: list[Person]


def valid_verification(*, campaign: Campaign, secret: str) -> Verification | None:
    """The confirmation behind a link, while it is valid."""
    return (
        Verification.objects.select_related("request")
        .filter(request__campaign=campaign, secret_hash=secret_digest(secret), expires_at__gt=timezone.now())
        .first()
    )


@transaction.atomic
def public_request_verify(*, campaign: Campaign, secret: str) -> Verified | None:
    """The emailed link was opened: the address is confirmed."""
    verification = valid_verification(campaign=campaign, secret=secret)
    return None if verification is None else _confirm(verification)


def _confirm(verification: Verification) -> Verified:
    """Identity confirmed. Objection and access are answered at once (the law allows it
    for the holder of the address or number); erasure goes to the officer, who reviews
    what must be kept."""
    request = verification.request
    campaign = request.campaign
    people = list(people_of(request))
    if verification.used_at is None:
        verification.used_at = timezone.now()
        verification.save(update_fields=["used_at"])
        request.verified_at = timezone.now()
        request.person = people[0] if len(people) == 1 else None
        request.status = RightsRequest.Status.OPEN
        if request.kind == RightsRequest.Kind.OBJECTION:
            for person in people:
                person_object(person=person, actor=None, request=request)
            _close(request, _("No further contact: done at once on the public page."))
        elif request.kind == RightsRequest.Kind.ACCESS:
            _close(request, _("Data given on the public page after confirming the address."))
        request.save()
        audit_record(action="rights_request.verified", campaign=campaign, obj=request, changes={"people": len(people)})
    return Verified(request=request, people=people)


def people_of(request: RightsRequest) -> QuerySet[Person]:
    if request.contact_email:
        return people_with_email(request.campaign, request.contact_email)
    return Person.objects.filter(campaign=request.campaign, phones__number=request.contact_phone).distinct()


# --- Confirming by a code sent to the phone ---------------------------------------------

CODE_MINUTES = 15
MAX_CODE_ATTEMPTS = 5
_code_signer = signing.Signer(salt="suffrage.privacy.code")


def sms_transport(campaign: Campaign) -> TransportConfig | None:
    """The campaign's text-message transport, if it configured one."""
    return TransportConfig.objects.filter(campaign=campaign, kind__in=kinds_for("sms")).order_by("pk").first()


@transaction.atomic
def public_request_by_phone(*, campaign: Campaign, kind: str, phone: str, name: str = "") -> tuple[str, str]:
    """Log the request and text a six-digit code to the number given. Returns the
    page's reference to the request (signed) and the code (for tests)."""
    config = sms_transport(campaign)
    if config is None:
        raise ValidationError(_("Confirming by text message is not available here: give your email address."))
    request = RightsRequest.objects.create(
        campaign=campaign,
        kind=kind,
        status=RightsRequest.Status.UNVERIFIED,
        channel=RightsRequest.Channel.SELF_SERVICE,
        requester_name=name[:200],
        contact_phone=phone,
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    verification = Verification.objects.create(
        request=request,
        channel="sms",
        secret_hash=secret_digest(f"{request.pk}:{code}"),
        expires_at=timezone.now() + datetime.timedelta(minutes=CODE_MINUTES),
    )
    audit_record(action="rights_request.public", campaign=campaign, obj=request, changes={"kind": kind})
    text = _("%(campaign)s: your confirmation code is %(code)s (valid %(minutes)s minutes).") % {
        "campaign": campaign.name,
        "code": code,
        "minutes": CODE_MINUTES,
    }
    transport = transport_kind(config.kind).build(config.settings, decrypt_json(config.secrets), None)
    transaction.on_commit(lambda: transport.send(SmsMessage(to=phone, body=text)))
    return _code_signer.sign(str(verification.pk)), code


def confirmed_verification(*, campaign: Campaign, secret: str) -> Verification | None:
    """A confirmation the citizen holds: an emailed link while it is valid, or a page
    reference whose code was typed right within the last hour (for the downloads)."""
    found = valid_verification(campaign=campaign, secret=secret)
    if found is not None:
        return found
    try:
        pk = int(_code_signer.unsign(secret))
    except (signing.BadSignature, ValueError):
        return None
    recent = timezone.now() - datetime.timedelta(hours=1)
    confirmed = Verification.objects.select_related("request").filter(
        pk=pk, request__campaign=campaign, channel="sms", used_at__gt=recent
    )
    return confirmed.first()


@transaction.atomic
def public_code_check(*, campaign: Campaign, reference: str, code: str) -> Verified | str | None:
    """The code typed on the page: the confirmation, or why not ("wrong", "expired")."""
    try:
        pk = int(_code_signer.unsign(reference))
    except (signing.BadSignature, ValueError):
        return None
    verification = (
        Verification.objects.select_for_update()
        .select_related("request__campaign")
        .filter(pk=pk, request__campaign=campaign, channel="sms")
        .first()
    )
    if verification is None:
        return None
    if verification.expires_at <= timezone.now() or verification.attempts >= MAX_CODE_ATTEMPTS:
        return "expired"
    if not secrets.compare_digest(verification.secret_hash, secret_digest(f"{verification.request_id}:{code.strip()}")):
        verification.attempts += 1
        verification.save(update_fields=["attempts"])
        return "wrong"
    return _confirm(verification)


def _close(request: RightsRequest, outcome: str) -> None:
    request.status = RightsRequest.Status.DONE
    request.outcome = outcome
    request.closed_at = timezone.now()
