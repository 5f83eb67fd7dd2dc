"""Mailjet (Send API v3.1), through anymail's Mailjet backend."""

from __future__ import annotations

from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.anymail_base import Provider

PROVIDER = Provider(
    name="mailjet",
    label=_("Mailjet"),
    backend="anymail.backends.mailjet.EmailBackend",
    tracking_view=MailjetTrackingWebhookView,
    spf_hint="include:spf.mailjet.com",
    settings_fields=("api_url",),
    secret_fields=("api_key", "secret_key"),
    # 400 {"Messages": [{"Status": "error", "Errors": [{"ErrorRelatedTo": ["To[0].Email"], …}]}]}
    recipient_errors=(r'"To\[0\]\.Email"',),
)
KIND = PROVIDER.kind()
