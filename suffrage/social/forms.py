"""Forms of the social-network pages. Secrets are password inputs that never show what is stored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from suffrage.people.models import LegalBasis
from suffrage.social.exports import EXPORT_KINDS
from suffrage.social.models import CONNECTABLE, Network, SocialAccount
from suffrage.social.services import SECRET_FIELDS

SECRET_LABELS = {
    "token": _("Access token"),
    "app_password": _("App password"),
    "page_token": _("Page access token"),
    "app_secret": _("App secret (for Lead Ads webhooks)"),
    "verify_token": _("Webhook verify token"),
}


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of file"), choices=list(EXPORT_KINDS.items()))
    file = forms.FileField(label=_("File"))
    legal_basis = forms.ChoiceField(
        label=_("Legal basis for people without consent"),
        choices=[
            (LegalBasis.LEGITIMATE_INTEREST.value, LegalBasis.LEGITIMATE_INTEREST.label),
            (LegalBasis.MEMBER.value, LegalBasis.MEMBER.label),
        ],
        initial=LegalBasis.LEGITIMATE_INTEREST,
        help_text=_("Leads who ticked a consent box on the platform are recorded with that consent."),
    )


class AccountForm(forms.ModelForm):  # type: ignore[type-arg]
    server = forms.URLField(
        label=_("server"),
        required=False,
        assume_scheme="https",
        help_text=_("Mastodon: the instance's address (https://mastodon.social). Bluesky: blank for bsky.social."),
    )

    class Meta:
        model = SocialAccount
        fields = ["network", "name", "handle", "server"]
        help_texts = {
            "handle": _("Mastodon: @name@instance; Bluesky: name.bsky.social; Facebook: the Page's id."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = [(n.value, n.label) for n in CONNECTABLE]  # type: ignore[attr-defined]
        if self.instance.pk:
            self.fields["network"].disabled = True
        names = sorted({name for fields in SECRET_FIELDS.values() for name in fields})
        for name in names:
            self.fields[name] = forms.CharField(
                label=SECRET_LABELS[name],
                required=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=_("Stored encrypted and never shown again. Leave blank to keep the current value.")
                if self.instance.pk
                else "",
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        network = data.get("network") or self.instance.network
        if network == Network.MASTODON and not data.get("server"):
            self.add_error("server", _("Give the Mastodon instance's address."))
        return data
