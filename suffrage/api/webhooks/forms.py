"""The webhook form: a name, the address, the events to send. The address is checked
against request forgery by the service (webhooks.services), which names the field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from suffrage.api.webhooks.events import event_choices


class WebhookForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What receives the events, e.g. “Newsletter tool”.")
    )
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where the events are posted (https://…). Private and local addresses are refused."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events to send"), choices=event_choices, widget=forms.CheckboxSelectMultiple
    )
