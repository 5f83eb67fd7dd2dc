"""Forms of the email pages. Secrets are password inputs that never show what is stored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign
from suffrage.messaging.models import EmailTemplate, Mailing, MailSettings, Sender, TransportConfig
from suffrage.messaging.transports import kinds_for
from suffrage.messaging.transports.base import TransportKind
from suffrage.segments.models import Segment

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class MailingForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Mailing
        fields = [
            "name",
            "sender",
            "transport",
            "segment",
            "subject",
            "preheader",
            "body",
            "footer",
            "subject_b",
            "ab_sample_percent",
            "ab_wait_hours",
        ]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 16, "class": "markdown"}),
            "footer": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {
            "body": _(
                'Markdown: **bold**, [a link](https://…), lists with "-". Personalise with '
                '{{ first_name|default:"Madame, Monsieur" }}; allowed fields: civility, first_name, '
                "last_name, full_name, town, email."
            ),
            "footer": _(
                "Your wording, but it must keep {{ sender_identity }}, {{ data_source }}, "
                "{{ rights_url }} and {{ unsubscribe_url }}."
            ),
            "subject_b": _("Optional: a sample receives one subject or the other; the better one goes to the rest."),
        }

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sender"].queryset = Sender.objects.filter(campaign=campaign)  # type: ignore[attr-defined]
        email_transports = TransportConfig.objects.filter(campaign=campaign, kind__in=kinds_for("email"))
        self.fields["transport"].queryset = email_transports  # type: ignore[attr-defined]
        self.fields["segment"].queryset = Segment.objects.filter(campaign=campaign)  # type: ignore[attr-defined]
        self.fields["segment"].required = True
        self.fields["ab_sample_percent"].widget.attrs.update(min=2, max=50)


class TemplateForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = EmailTemplate
        fields = ["name", "subject", "preheader", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16})}


class SenderForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Sender
        fields = ["name", "email", "reply_to", "dkim_algorithm"]


class SendingHoursMixin:
    """Settings forms with sending hours: the window must end after it starts."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}  # type: ignore[misc]
        start, end = data.get("send_from"), data.get("send_until")
        if start and end and start >= end:
            self.add_error("send_until", _("The end of the sending hours must come after their start."))  # type: ignore[attr-defined]
        return data


class MailSettingsForm(SendingHoursMixin, forms.ModelForm):  # type: ignore[type-arg]
    send_days = forms.TypedMultipleChoiceField(
        label=_("Days sends are allowed"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=WEEKDAYS,
        help_text=_("None ticked: every day."),
    )

    class Meta:
        model = MailSettings
        fields = [
            "identity",
            "privacy_contact",
            "brand_name",
            "brand_colour",
            "open_tracking",
            "send_from",
            "send_until",
            "send_days",
            "notice_sender",
            "notice_transport",
        ]
        widgets = {
            "send_from": forms.TimeInput(attrs={"type": "time"}),
            "send_until": forms.TimeInput(attrs={"type": "time"}),
            "brand_colour": forms.TextInput(attrs={"type": "color"}),
            "identity": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The instance is the campaign's own settings: only its senders and transports.
        campaign_id = self.instance.campaign_id
        senders = Sender.objects.filter(campaign_id=campaign_id)
        self.fields["notice_sender"].queryset = senders  # type: ignore[attr-defined]
        email_transports = TransportConfig.objects.filter(campaign_id=campaign_id, kind__in=kinds_for("email"))
        self.fields["notice_transport"].queryset = email_transports  # type: ignore[attr-defined]


# Labels of the transports' settings and secrets (each folder lists the names it needs).
FIELD_LABELS = {
    "host": _("Server"),
    "port": _("Port"),
    "security": _("Security (starttls, tls or none)"),
    "username": _("User name"),
    "password": _("Password"),
    "dkim_by_server": _("The server signs with DKIM (yes/no)"),
    "return_path": _("Bounce address (envelope sender)"),
    "api_url": _("API address (leave blank for the provider's)"),
    "api_key": _("API key"),
    "secret_key": _("Secret key"),
    "server_token": _("Server token"),
    "message_stream": _("Message stream"),
    "sender_domain": _("Sending domain"),
    "region": _("Region"),
    "configuration_set_name": _("Configuration set"),
    "endpoint_url": _("API address (leave blank for Amazon's)"),
    "aws_access_key_id": _("Access key ID"),
    "aws_secret_access_key": _("Secret access key"),
    "webhook_secret": _("Webhook secret (user:password for its address)"),
    "webhook_signing_key": _("Webhook signing key"),
    "tracking_webhook_verification_key": _("Webhook verification key"),
    "folder": _("Folder"),
    "account_sid": _("Account SID"),
    "auth_token": _("Auth token"),
    "sender_id": _("Sender (name of up to 11 letters, or a number)"),
}


def _label(name: str) -> Any:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


class TransportForm(forms.Form):
    """Built from the transport kind's fields: settings in clear, secrets write-only."""

    name = forms.CharField(label=_("Name"), max_length=120)
    rate_per_second = forms.FloatField(label=_("Messages per second at most"), min_value=0.1, initial=10)

    def __init__(
        self, *args: Any, kind: TransportKind, transport: TransportConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        stored = transport.settings if transport else {}
        for field_name in kind.settings_fields:
            self.fields[field_name] = forms.CharField(
                label=_label(field_name), required=False, initial=stored.get(field_name, "")
            )
        for field_name in kind.secret_fields:
            self.fields[field_name] = forms.CharField(
                label=_label(field_name),
                required=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=_("Stored encrypted and never shown again. Leave blank to keep the current value.")
                if transport
                else "",
            )
        if kind.channel == "sms":
            self.fields["price_per_part"] = forms.DecimalField(
                label=_("Price of one SMS part (€)"),
                required=False,
                min_value=0,
                max_digits=6,
                decimal_places=4,
                initial=transport.price_per_part if transport else None,
                help_text=_("For the cost estimate shown before sending."),
            )
        if transport:
            self.fields["name"].initial = transport.name
            self.fields["rate_per_second"].initial = transport.rate_per_second


class TestSendForm(forms.Form):
    to = forms.EmailField(label=_("Send a test to"))


class ScheduleForm(forms.Form):
    at = forms.DateTimeField(label=_("Send at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
