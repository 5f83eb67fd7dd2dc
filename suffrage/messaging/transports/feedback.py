"""Provider tracking webhooks: anymail's views, configured per transport, and the
translation of anymail's normalised events into our Feedback.

The lead's URL routes /hooks/email/<transport>/ to webhook_view_for(kind, secrets),
and a receiver of anymail's `tracking` signal calls feedback_from_anymail(event).
(The view class that sends the signal is a subclass of anymail's: connect the
receiver without a `sender` filter.)"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt

from suffrage.messaging.transports.anymail_base import Provider
from suffrage.messaging.transports.base import Feedback, TransportKind

KINDS = {
    EventType.DELIVERED: "delivered",
    EventType.BOUNCED: "bounced",
    EventType.REJECTED: "bounced",
    EventType.DEFERRED: "deferred",
    EventType.COMPLAINED: "complained",
    EventType.OPENED: "opened",
    EventType.CLICKED: "clicked",
    EventType.UNSUBSCRIBED: "unsubscribed",
}

# Anymail reports some soft bounces as "bounced"; each provider marks them its own way.
SOFT_BOUNCE_MARKERS = (
    ("event", "soft_bounce"),  # Brevo
    ("Type", "SoftBounce"),  # Postmark
    ("hard_bounce", False),  # Mailjet
    ("type", "blocked"),  # SendGrid: the receiving server refused for now
)
SOFT_DESCRIPTIONS = ("Transient", "Undetermined")  # Amazon SES bounceType
TEMPORARY_SMTP_REPLY = re.compile(r"^(smtp;\s*)?4\d\d\b", re.IGNORECASE)

WebhookView = Callable[..., HttpResponse]


def feedback_from_anymail(event: AnymailTrackingEvent) -> Feedback | None:
    """Our Feedback for an anymail tracking event, or None for events the engine
    does not act on (queued, sent, failed, autoresponded, unknown…)."""
    kind = KINDS.get(event.event_type)
    if kind is None:
        return None
    return Feedback(
        kind=kind,
        recipient=event.recipient or "",
        provider_id=str(event.message_id or ""),
        permanent=kind == "bounced" and _permanent(event),
        detail=" — ".join(part for part in (event.description, event.mta_response) if part),
        url=(event.click_url or "") if kind == "clicked" else "",
    )


def _permanent(event: AnymailTrackingEvent) -> bool:
    """Whether the address should be suppressed. A provider's rejection is, unless
    it gives no address-related reason (a duplicate, a policy on the content)."""
    if event.event_type == EventType.REJECTED:
        return bool(event.reject_reason != RejectReason.OTHER)
    return not _soft_bounce(event)


def _soft_bounce(event: AnymailTrackingEvent) -> bool:
    esp_event: Any = event.esp_event if isinstance(event.esp_event, Mapping) else {}
    if any(key in esp_event and esp_event.get(key) == value for key, value in SOFT_BOUNCE_MARKERS):
        return True
    if (event.description or "").startswith(SOFT_DESCRIPTIONS):
        return True
    return bool(TEMPORARY_SMTP_REPLY.match((event.mta_response or "").strip()))


def webhook_view_for(kind: TransportKind, secrets: Mapping[str, str]) -> WebhookView:
    """Anymail's tracking view for this transport, checking THIS transport's webhook
    secrets (basic auth, signing key) rather than a global ANYMAIL setting. Without
    its webhook secret, a transport's webhook refuses everything (403)."""
    provider = kind.build
    if not isinstance(provider, Provider) or not provider.webhook_configured(secrets):
        return _unconfigured
    options = provider.webhook_kwargs(secrets)
    view: WebhookView = _accepting(provider.tracking_view, frozenset(options)).as_view(**options)
    return view


_ACCEPTING: dict[tuple[type[Any], frozenset[str]], type[Any]] = {}


def _accepting(view_class: type[Any], names: frozenset[str]) -> type[Any]:
    """Django's as_view() only takes kwargs named after class attributes, while
    anymail reads `webhook_secret` (and boto3's `client_params`) from the kwargs
    without declaring them: a subclass, made once, declares those missing."""
    missing = {name: None for name in names if not hasattr(view_class, name)}
    if not missing:
        return view_class
    key = (view_class, names)
    if key not in _ACCEPTING:
        _ACCEPTING[key] = type(view_class.__name__, (view_class,), missing)
    return _ACCEPTING[key]


@csrf_exempt
def _unconfigured(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponseForbidden()
