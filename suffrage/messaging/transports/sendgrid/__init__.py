"""SendGrid (v3 Mail Send), through anymail's SendGrid backend. The tracking
webhook takes basic auth, and the signed event webhook's public key when set."""

from __future__ import annotations

from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.anymail_base import Provider

PROVIDER = Provider(
    name="sendgrid",
    label=_("SendGrid"),
    backend="anymail.backends.sendgrid.EmailBackend",
    tracking_view=SendGridTrackingWebhookView,
    spf_hint="include:sendgrid.net",
    settings_fields=("api_url",),
    secret_fields=("api_key",),
    webhook_fields=("webhook_secret", "tracking_webhook_verification_key"),
    # 400 {"errors": [{"field": "personalizations.0.to.0.email", …}]}
    recipient_errors=(r"personalizations\.0\.to\.0\.email",),
)
KIND = PROVIDER.kind()
