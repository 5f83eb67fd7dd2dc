"""Mailgun, through anymail's Mailgun backend. `api_url` selects the region
(https://api.eu.mailgun.net/v3 for the EU); `sender_domain` defaults to the From
address's domain."""

from __future__ import annotations

from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.anymail_base import Provider

PROVIDER = Provider(
    name="mailgun",
    label=_("Mailgun"),
    backend="anymail.backends.mailgun.EmailBackend",
    tracking_view=MailgunTrackingWebhookView,
    spf_hint="include:mailgun.org",
    settings_fields=("api_url", "sender_domain"),
    secret_fields=("api_key",),
    # Mailgun signs its webhooks with this key (HMAC of timestamp and token).
    webhook_fields=("webhook_signing_key",),
    # 400 {"message": "'to' parameter is not a valid address. please check documentation"}
    recipient_errors=(r"'to' parameter is not a valid address",),
    configuration_errors=(r"Domain not found",),
)
KIND = PROVIDER.kind()
