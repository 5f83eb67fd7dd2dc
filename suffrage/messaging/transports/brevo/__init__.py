"""Brevo (formerly Sendinblue), through anymail's Brevo backend."""

from __future__ import annotations

from anymail.webhooks.brevo import BrevoTrackingWebhookView
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.anymail_base import Provider

PROVIDER = Provider(
    name="brevo",
    label=_("Brevo"),
    backend="anymail.backends.brevo.EmailBackend",
    tracking_view=BrevoTrackingWebhookView,
    spf_hint="include:spf.brevo.com",
    settings_fields=("api_url",),
    secret_fields=("api_key",),
    # 400 {"code": "invalid_parameter", "message": "email is not valid in to"}
    recipient_errors=(r"is not valid in to\b",),
    configuration_errors=(r"not_enough_credits", r"account_under_validation", r"permission_denied"),
)
KIND = PROVIDER.kind()
