"""Provider tracking webhooks arrive as anymail's `tracking` signal."""

from __future__ import annotations

from typing import Any

from anymail.signals import tracking
from django.dispatch import receiver


@receiver(tracking, dispatch_uid="suffrage.messaging.tracking")
def provider_event(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    # Imported here: the services need every app loaded, and ready() runs before.
    from suffrage.messaging.feedback import feedback_record
    from suffrage.messaging.transports.feedback import feedback_from_anymail

    feedback = feedback_from_anymail(event)
    if feedback is not None:
        feedback_record(feedback)
