"""Amazon SES (API v2), through anymail's Amazon SES backend and boto3. Tracking
needs a configuration set publishing events to an SNS topic whose HTTPS
subscription is this transport's webhook URL (with the webhook secret as basic auth).
"""

from __future__ import annotations

from typing import Any

from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from django.utils.translation import gettext_lazy as _

from suffrage.messaging.transports.anymail_base import Options, Provider


def _credentials(options: Options) -> dict[str, Any]:
    """Always the transport's own keys: boto3's default chain would find the
    server's (environment, instance role) and send from the wrong AWS account."""
    return {
        "aws_access_key_id": options["aws_access_key_id"],
        "aws_secret_access_key": options["aws_secret_access_key"],
    }


def _backend_options(options: Options) -> dict[str, Any]:
    client: dict[str, Any] = {
        **_credentials(options),
        "region_name": options["region"],
        # The engine retries with its own backoff; boto3 retrying too would multiply waits.
        "config": {"retries": {"total_max_attempts": 1}},
    }
    if options.get("endpoint_url"):
        client["endpoint_url"] = options["endpoint_url"]
    return {"client_params": client, "configuration_set_name": options.get("configuration_set_name") or None}


def _webhook_options(secrets: Options) -> dict[str, Any]:
    """Anymail confirms the SNS subscription with these keys (in the topic's region)."""
    if not secrets.get("aws_access_key_id") or not secrets.get("aws_secret_access_key"):
        return {}
    return {"client_params": _credentials(secrets)}


PROVIDER = Provider(
    name="amazon_ses",
    label=_("Amazon SES"),
    backend="anymail.backends.amazon_ses.EmailBackend",
    tracking_view=AmazonSESTrackingWebhookView,
    spf_hint="include:amazonses.com",
    settings_fields=("region", "configuration_set_name", "endpoint_url"),
    secret_fields=("aws_access_key_id", "aws_secret_access_key"),
    required_settings=("region",),
    configuration_errors=(
        r"AccountSuspended",
        r"SendingPaused",
        r"MailFromDomainNotVerified",
        r"not verified",  # MessageRejected in the sandbox, or an unverified identity
    ),
    backend_options=_backend_options,
    webhook_options=_webhook_options,
)
KIND = PROVIDER.kind()
