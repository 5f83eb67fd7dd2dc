"""Postmark, through anymail's Postmark backend. Mailings belong in a "broadcast"
message stream (Postmark's terms), set as `message_stream`."""

from __future__ import annotations

from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.anymail_base import Provider

PROVIDER = Provider(
    name="postmark",
    label=_("Postmark"),
    backend="anymail.backends.postmark.EmailBackend",
    tracking_view=PostmarkTrackingWebhookView,
    spf_hint="include:spf.mtasv.net",
    settings_fields=("api_url", "message_stream"),
    secret_fields=("server_token",),
    # Anymail itself reports inactive (406) and invalid (300) recipients.
    # 422 ErrorCode 400/401: sender signature missing or unconfirmed; 405: no credits;
    # 412: account pending approval.
    configuration_errors=(r'"ErrorCode"\s*:\s*(400|401|405|412)\b',),
    # Postmark replaces the Message-ID unless told to keep ours.
    extra_headers=(("X-PM-KeepID", "true"),),
)
KIND = PROVIDER.kind()
