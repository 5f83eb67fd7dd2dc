"""Forms of the social-network pages. Secrets are password inputs that never show what is stored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from suffrage.engagement.forms import LocalDateTimeField
from suffrage.engagement.models import Action, CallToAction, Event
from suffrage.people.models import LegalBasis
from suffrage.social.exports import EXPORT_KINDS
from suffrage.social.links import PUBLIC_PAGES, tracked_address
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
        fields = ["network", "name", "handle", "server", "character_limit"]
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


# --- Posts -----------------------------------------------------------------------------------


class TargetSelect(forms.Select):
    """Each page's option carries its tracked address, for the live counters."""

    def __init__(self, *args: Any, addresses: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.addresses = addresses or {}

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        address = self.addresses.get(str(value))
        if address:
            option["attrs"]["data-url"] = address
        return option


def target_key(target: Any) -> str:
    if target is None:
        return ""
    return f"{PUBLIC_PAGES[type(target)]}:{target.pk}"


class PostForm(forms.Form):
    """The composer: the text once, then each account's own version where it needs one
    (fields `text_<account id>`, made per account)."""

    text = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 6, "data-social-text": ""}),
        help_text=_("Written once for every account; give an account its own version below when it needs one."),
    )
    accounts = forms.ModelMultipleChoiceField(
        label=_("Publish on"), queryset=SocialAccount.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    target = forms.ChoiceField(
        label=_("Link to one of the campaign's pages"),
        required=False,
        help_text=_(
            "Its address gets a mark naming this post and the network: the reports then show who came from it."
        ),
    )
    url = forms.URLField(
        label=_("Or link to an address"),
        required=False,
        assume_scheme="https",
        max_length=500,
        widget=forms.URLInput(attrs={"data-social-url": ""}),
    )
    image = forms.FileField(
        label=_("Image"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
        help_text=_("PNG, JPEG, GIF or WebP; 8 MB at most (1 MB for Bluesky, 4 MB for Facebook)."),
    )
    remove_image = forms.BooleanField(label=_("Remove the current image"), required=False)
    image_alt = forms.CharField(
        label=_("Image description"),
        required=False,
        max_length=1500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the image shows, for people who cannot see it."),
    )

    def __init__(self, *args: Any, campaign: Any, post: Any = None, code: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        accounts = SocialAccount.objects.filter(campaign=campaign)
        self.account_list = list(accounts)
        self.fields["accounts"].queryset = accounts  # type: ignore[attr-defined]
        self.targets = _targets(campaign)
        self.fields["target"].choices = _target_choices(self.targets)  # type: ignore[attr-defined]
        self.fields["target"].widget = TargetSelect(
            attrs={"data-social-target": ""},
            choices=self.fields["target"].choices,  # type: ignore[attr-defined]
            addresses={key: tracked_address(target, code) for key, target in self.targets.items()},
        )
        versions = {}
        if post is not None and post.pk:
            versions = {p.account_id: p.text for p in post.publications.all()}
            self.initial.update(
                {
                    "text": post.text,
                    "accounts": list(versions),
                    "target": target_key(post.target),
                    "url": post.url,
                    "image_alt": post.image_alt,
                }
            )
        elif len(self.account_list) == 1:
            self.initial.setdefault("accounts", [self.account_list[0].pk])
        for account in self.account_list:
            self.fields[f"text_{account.pk}"] = forms.CharField(
                label=_("Text for %(account)s") % {"account": account},
                required=False,
                widget=forms.Textarea(attrs={"rows": 3, "data-social-version": str(account.pk)}),
                initial=versions.get(account.pk, ""),
            )
        if post is None or not post.image:
            del self.fields["remove_image"]

    def clean_target(self) -> Any:
        return self.targets.get(self.cleaned_data.get("target") or "")

    def versions(self) -> dict[int, str]:
        return {account.pk: self.cleaned_data.get(f"text_{account.pk}") or "" for account in self.account_list}

    def version_field(self, account: SocialAccount) -> forms.BoundField:
        return self[f"text_{account.pk}"]


def _targets(campaign: Any) -> dict[str, Any]:
    """The campaign's public pages a post may link to (closed ones too: a post may
    thank or report), keyed "action:12"."""
    found: dict[str, Any] = {}
    for model in (Action, Event, CallToAction):
        for target in model.objects.filter(campaign=campaign).select_related("campaign").order_by("title"):
            found[target_key(target)] = target
    return found


def _target_choices(targets: dict[str, Any]) -> list[Any]:
    groups: dict[str, list[tuple[str, str]]] = {}
    names = {"action": _("Forms and petitions"), "event": _("Events"), "call": _("Calls to action")}
    for key, target in targets.items():
        label = str(target.title)
        if target.status == "draft":
            label = _("%(title)s (draft)") % {"title": label}
        groups.setdefault(str(names[key.split(":")[0]]), []).append((key, label))
    return [("", _("None"))] + [(name, options) for name, options in groups.items()]


class ScheduleForm(forms.Form):
    at = LocalDateTimeField(label=_("Date and time of publication"))
