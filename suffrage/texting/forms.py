"""Forms of the SMS pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign, Membership
from suffrage.messaging.forms import WEEKDAYS, SendingHoursMixin
from suffrage.messaging.models import Mailing
from suffrage.segments.models import Segment
from suffrage.texting.models import CannedAnswer, SmsSettings
from suffrage.texting.services import sms_transports


class SmsMailingForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Mailing
        fields = ["name", "transport", "segment", "body", "consent_request"]
        labels = {"transport": _("Provider"), "body": _("Message")}
        widgets = {
            "body": forms.Textarea(attrs={"rows": 5, "data-sms-counter": "sms-count"}),
            "consent_request": forms.Textarea(attrs={"rows": 3, "data-sms-counter": "sms-consent-count"}),
        }
        help_texts = {
            "body": _(
                "Plain text. Personalise with {{ first_name }} (also civility, last_name, full_name, town). "
                "Your signature comes before it and the STOP mention after it, added for you."
            ),
            "consent_request": _(
                "For numbers without SMS consent (a rented list): they receive this once instead of the message, "
                "followed by “Reply YES to agree.”, and nothing else until they answer yes. Blank: they receive "
                "nothing."
            ),
        }

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["transport"].queryset = sms_transports(campaign)  # type: ignore[attr-defined]
        self.fields["segment"].queryset = Segment.objects.filter(campaign=campaign)  # type: ignore[attr-defined]
        self.fields["segment"].required = True


class SmsSettingsForm(SendingHoursMixin, forms.ModelForm):  # type: ignore[type-arg]
    send_days = forms.TypedMultipleChoiceField(
        label=_("Days sends are allowed"), coerce=int, widget=forms.CheckboxSelectMultiple, choices=WEEKDAYS
    )
    stop_words = forms.CharField(
        label=_("Words that opt out"),
        help_text=_("One per line. Case, accents and spaces around them do not matter."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    yes_words = forms.CharField(
        label=_("Words that answer yes to a consent request"),
        help_text=_("One per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = SmsSettings
        fields = [
            "transport",
            "sender_id",
            "signature",
            "stop_number",
            "send_from",
            "send_until",
            "send_days",
            "skip_public_holidays",
            "alsace_moselle",
            "stop_words",
            "yes_words",
        ]
        widgets = {
            "send_from": forms.TimeInput(attrs={"type": "time"}),
            "send_until": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["transport"].queryset = sms_transports(self.instance.campaign)  # type: ignore[attr-defined]
        for name in ("stop_words", "yes_words"):
            self.initial[name] = "\n".join(getattr(self.instance, name) or [])

    def _words(self, name: str) -> list[str]:
        words = [line.strip() for line in self.cleaned_data.get(name, "").splitlines() if line.strip()]
        if not words:
            raise forms.ValidationError(_("Give at least one word."))
        return words

    def clean_stop_words(self) -> list[str]:
        return self._words("stop_words")

    def clean_yes_words(self) -> list[str]:
        return self._words("yes_words")

    def clean_sender_id(self) -> str:
        value = str(self.cleaned_data.get("sender_id", "")).strip()
        if value and not value.lstrip("+").isdigit() and (len(value) > 11 or not value.isalnum() or value.isdigit()):
            raise forms.ValidationError(
                _("A sender name has at most 11 letters and digits, with at least one letter (no spaces).")
            )
        return value


class SmsTestForm(forms.Form):
    to = forms.CharField(label=_("Send a test to (mobile number)"), max_length=20)
    consent_request = forms.BooleanField(label=_("the consent request"), required=False)

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean_to(self) -> str:
        from suffrage.imports.normalise import InvalidValue, normalise_phone

        try:
            phone = normalise_phone(self.cleaned_data["to"], default_region=self.campaign.country or "FR")
        except InvalidValue as error:
            raise forms.ValidationError(str(error)) from None
        if phone is None or not phone.sms_capable:
            raise forms.ValidationError(_("Not a mobile number."))
        return str(phone.e164)


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Answer"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "data-sms-counter": "reply-count"}),
    )
    canned = forms.ModelChoiceField(label=_("or a canned answer"), queryset=CannedAnswer.objects.none(), required=False)

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["canned"].queryset = CannedAnswer.objects.filter(campaign=campaign)  # type: ignore[attr-defined]

    def answer(self) -> str:
        """The text typed, else the canned answer chosen (pages without JavaScript)."""
        text = str(self.cleaned_data.get("text") or "").strip()
        canned = self.cleaned_data.get("canned")
        return text or (canned.body if canned else "")


def members_choices(campaign: Campaign) -> Any:
    return Membership.objects.filter(campaign=campaign).select_related("user").order_by("user__email")


class MemberChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Membership) -> str:
        return f"{obj.user.email} ({obj.get_role_display()})"


class MembersChoice(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Membership) -> str:
        return f"{obj.user.email} ({obj.get_role_display()})"


class AssignForm(forms.Form):
    to = MemberChoice(label=_("Give to"), queryset=Membership.objects.none(), required=False, empty_label=_("nobody"))

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = members_choices(campaign)  # type: ignore[attr-defined]


class ShareForm(forms.Form):
    volunteers = MembersChoice(
        label=_("Share the unassigned conversations among"),
        queryset=Membership.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteers"].queryset = members_choices(campaign)  # type: ignore[attr-defined]


class CannedAnswerForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CannedAnswer
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4, "data-sms-counter": "canned-count"})}
