"""What texting holds about a person (see privacy.erasure): their text conversations
with the campaign. The texts of a mailing are messaging's deliveries."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.people.models import Person
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part
from suffrage.texting.models import Conversation, Text


def report(person: Person) -> dict[str, Any]:
    texts = Text.objects.filter(
        conversation__person_id=person.pk, conversation__campaign_id=person.campaign_id
    ).select_related("conversation")
    return {
        "texts": table(
            _("Text messages you exchanged with the campaign"),
            {"at": _("On"), "number": _("Number"), "direction": _("Direction"), "body": _("Text")},
            [
                {
                    "at": text.at,
                    "number": text.conversation.number,
                    "direction": text.get_direction_display(),
                    "body": text.body,
                }
                for text in texts
            ],
        )
    }


ERASERS = [
    Eraser(
        app_label="texting",
        label=gettext_lazy("Text conversations"),
        report=report,
        report_order=45,
        parts=(
            Part(
                "texting.Conversation",
                gettext_lazy("Text conversations and their messages"),
                lambda t: Conversation.objects.filter(person_id__in=t.ids, campaign_id=t.campaign_id),
            ),
        ),
    ),
]
