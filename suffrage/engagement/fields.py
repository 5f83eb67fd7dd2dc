"""The fields a public form can ask, and the Django form built from an action's
choice of them: the same form checks the public page, the embed and the JSON endpoint."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from suffrage.core.models import Campaign
from suffrage.imports.normalise import InvalidValue, normalise_email, normalise_phone
from suffrage.people.models import Civility, CustomField
from suffrage.people.services import custom_value_clean

# Every text field has a size limit: a form is not a place to store a file.
SHORT, LONG = 150, 5000


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: StrOrPromise
    kind: str  # "text", "email", "phone", "date", "civility", "textarea", or a CustomField kind
    person_field: bool = True  # stored on the person; otherwise kept in the submission's answers


PERSON_FIELDS = {
    spec.key: spec
    for spec in (
        FieldSpec("civility", _("Civility"), "civility"),
        FieldSpec("first_names", _("First name"), "text"),
        FieldSpec("last_name", _("Last name"), "text"),
        FieldSpec("email", _("Email address"), "email"),
        FieldSpec("phone", _("Mobile phone"), "phone"),
        FieldSpec("birth_date", _("Date of birth"), "date"),
        FieldSpec("street", _("Number and street"), "text"),
        FieldSpec("postcode", _("Postcode"), "text"),
        FieldSpec("town", _("Town"), "text"),
        FieldSpec("message", _("Your message"), "textarea", person_field=False),
    )
}


def _public_custom_fields(campaign: Campaign) -> dict[str, CustomField]:
    """The campaign's custom fields a form may ask, by form key: not the sensitive ones
    (an opinion is not collected by a web form)."""
    return {f"custom:{field.key}": field for field in CustomField.objects.filter(campaign=campaign, sensitive=False)}


def catalogue(campaign: Campaign, customs: dict[str, CustomField] | None = None) -> dict[str, FieldSpec]:
    """What an organiser may put on a form: person fields and public custom fields."""
    customs = _public_custom_fields(campaign) if customs is None else customs
    return PERSON_FIELDS | {key: FieldSpec(key, field.label, field.kind) for key, field in customs.items()}


def _form_field(spec: FieldSpec, required: bool, custom: CustomField | None) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "required": required}
    if spec.kind == "email":
        return forms.EmailField(max_length=254, **common)
    if spec.kind == "phone":
        return forms.CharField(max_length=30, widget=forms.TextInput(attrs={"type": "tel"}), **common)
    if spec.kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if spec.kind == "civility":
        return forms.ChoiceField(choices=Civility.choices, **common)
    if spec.kind == "textarea":
        return forms.CharField(max_length=LONG, widget=forms.Textarea(attrs={"rows": 5}), **common)
    if custom is not None and custom.kind == CustomField.Kind.BOOLEAN:
        return forms.BooleanField(**common)
    if custom is not None and custom.kind == CustomField.Kind.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *((c, c) for c in custom.choices)], **common)
    if custom is not None and custom.kind == CustomField.Kind.MULTIPLE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in custom.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    if custom is not None and custom.kind == CustomField.Kind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if custom is not None and custom.kind == CustomField.Kind.NUMBER:
        return forms.DecimalField(**common)
    return forms.CharField(max_length=SHORT, **common)


class PublicForm(forms.Form):
    """A citizen's submission. `website` is a honeypot: hidden from people, filled by bots."""

    website = forms.CharField(required=False, max_length=200, label=_("Leave this empty"))

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data.get("email", ""))
        except InvalidValue as error:
            raise forms.ValidationError(str(error)) from None

    def clean_phone(self) -> Any:
        try:
            return normalise_phone(self.cleaned_data.get("phone", ""), default_region=self.campaign.country)
        except InvalidValue as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contact_fields = [name for name in ("email", "phone") if name in self.fields]
        if contact_fields and not any(data.get(name) for name in contact_fields) and not self.errors:
            raise forms.ValidationError(_("Give an email address or a phone number, so that we can reach you."))
        return data

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


def build_form(
    campaign: Campaign,
    chosen: list[dict[str, Any]],
    wordings: list[Any],
    *,
    data: Any = None,
    extra: dict[str, forms.Field] | None = None,
) -> PublicForm:
    """The form for these fields ([{"key", "required", "label"}]) and consent wordings."""
    customs = _public_custom_fields(campaign)
    specs = catalogue(campaign, customs)
    form = PublicForm(data, campaign=campaign)
    form.fields.pop("website")
    for item in chosen:
        spec = specs.get(item["key"])
        if spec is None:
            continue  # a custom field deleted since the form was built
        field = _form_field(spec, bool(item.get("required")), customs.get(spec.key))
        if item.get("label"):
            field.label = item["label"][:SHORT]
        form.fields[item["key"]] = field
    for wording in wordings:
        form.fields[f"consent_{wording.channel}"] = forms.BooleanField(required=False, label=wording.text)
    form.fields.update(extra or {})
    form.fields["website"] = copy.deepcopy(PublicForm.base_fields["website"])
    return form


def custom_values(campaign: Campaign, data: dict[str, Any]) -> dict[str, Any]:
    """The custom fields of a cleaned form, in their stored form."""
    keys = [key.removeprefix("custom:") for key in data if key.startswith("custom:")]
    values = {}
    for field in CustomField.objects.filter(campaign=campaign, key__in=keys, sensitive=False):
        raw = data[f"custom:{field.key}"]
        if isinstance(raw, bool | int | float) or raw:
            values[field.key] = custom_value_clean(field, raw if not hasattr(raw, "normalize") else str(raw))
    return values
