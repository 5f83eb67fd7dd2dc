"""The events a webhook can subscribe to. Payloads are documented in docs/user/webhooks.md."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

PERSON_CREATED = "person.created"
PERSON_UPDATED = "person.updated"
SUBMISSION_CREATED = "submission.created"
RSVP_CREATED = "rsvp.created"
RSVP_UPDATED = "rsvp.updated"
CONSENT_WITHDRAWN = "consent.withdrawn"
VISIT_RECORDED = "visit.recorded"
# Sent from the webhook's page to try the address; never subscribed to.
PING = "ping"

EVENTS: dict[str, StrOrPromise] = {
    PERSON_CREATED: _("A person is added (by hand, a form, a door, a social network)"),
    PERSON_UPDATED: _("A person's record is edited"),
    SUBMISSION_CREATED: _("A form is filled or a petition signed"),
    RSVP_CREATED: _("Someone says they are coming to an event"),
    RSVP_UPDATED: _("An RSVP changes (cancelled, off the waiting list)"),
    CONSENT_WITHDRAWN: _("Consent is withdrawn (unsubscribe link, STOP, objection, by hand)"),
    VISIT_RECORDED: _("A door is knocked or a call made (canvassing)"),
}


def event_choices() -> list[tuple[str, StrOrPromise]]:
    return list(EVENTS.items())
