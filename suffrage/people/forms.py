from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign
from suffrage.imports.normalise import InvalidValue, Phone, normalise_email, normalise_phone, normalise_postcode
from suffrage.people.models import Channel, CustomField, LegalBasis, Person, Source, SupportLevel, Tag
from suffrage.people.selectors import SORTS
from suffrage.people.services import custom_value_clean

PERSON_FORM_FIELDS = [
    "civility",
    "first_names",
    "birth_name",
    "usage_name",
    "birth_date",
    "is_member",
    "is_volunteer",
    "is_donor",
    "external_id",
]


class CustomFieldsMixin:
    """Adds one form field per campaign custom field, validated by custom_value_clean."""

    custom_fields: list[CustomField]
    hidden_keys: set[str]

    def add_custom_fields(self, campaign: Campaign, initial: dict[str, Any], can_sensitive: bool = False) -> None:
        fields = list(CustomField.objects.filter(campaign=campaign))
        # A sensitive field is neither shown nor changed by a role that may not see it.
        self.custom_fields = [f for f in fields if can_sensitive or not f.sensitive]
        self.hidden_keys = {f.key for f in fields} - {f.key for f in self.custom_fields}
        for custom in self.custom_fields:
            name = f"custom_{custom.key}"
            kind = custom.kind
            if kind == CustomField.Kind.BOOLEAN:
                field: forms.Field = forms.NullBooleanField(label=custom.label, required=False)
            elif kind == CustomField.Kind.DATE:
                field = forms.DateField(
                    label=custom.label, required=False, widget=forms.DateInput(attrs={"type": "date"})
                )
            elif kind == CustomField.Kind.CHOICE:
                field = forms.ChoiceField(
                    label=custom.label, required=False, choices=[("", "—")] + [(c, c) for c in custom.choices]
                )
            elif kind == CustomField.Kind.MULTIPLE:
                field = forms.MultipleChoiceField(
                    label=custom.label,
                    required=False,
                    choices=[(c, c) for c in custom.choices],
                    widget=forms.CheckboxSelectMultiple,
                )
            else:
                field = forms.CharField(label=custom.label, required=False)
            field.initial = initial.get(custom.key)
            self.fields[name] = field  # type: ignore[attr-defined]

    def custom_values(self) -> dict[str, Any]:
        values = {}
        for custom in self.custom_fields:
            raw = self.cleaned_data.get(f"custom_{custom.key}")  # type: ignore[attr-defined]
            try:
                values[custom.key] = custom_value_clean(custom, raw)
            except InvalidValue as error:
                self.add_error(f"custom_{custom.key}", str(error))  # type: ignore[attr-defined]
        return {key: value for key, value in values.items() if value is not None}


class PersonForm(CustomFieldsMixin, forms.ModelForm[Person]):
    class Meta:
        model = Person
        fields = PERSON_FORM_FIELDS
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, campaign: Campaign, can_sensitive: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_custom_fields(campaign, self.instance.custom if self.instance.pk else {}, can_sensitive)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Values of fields this role does not see are kept as they are.
        kept = {key: value for key, value in (self.instance.custom or {}).items() if key in self.hidden_keys}
        data["custom"] = {**kept, **self.custom_values()}
        if not self.instance.pk and not any(data.get(n) for n in ("first_names", "birth_name", "usage_name")):
            raise forms.ValidationError(_("Give at least a first name or a last name."))
        return data


class NewPersonForm(PersonForm):
    """Creation also takes the first channel and the provenance."""

    email = forms.CharField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False)
    street = forms.CharField(label=_("Street (number and name)"), required=False)
    postcode = forms.CharField(label=_("Postcode"), required=False)
    town = forms.CharField(label=_("Town"), required=False)
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=LegalBasis.choices, initial=LegalBasis.CONSENT)

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, campaign=campaign, **kwargs)
        self.country = campaign.country

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data["email"])
        except InvalidValue as error:
            raise forms.ValidationError(str(error)) from None

    def clean_phone(self) -> Phone | None:
        try:
            return normalise_phone(self.cleaned_data["phone"], default_region=self.country)
        except InvalidValue as error:
            raise forms.ValidationError(str(error)) from None

    def clean_postcode(self) -> str:
        try:
            return (
                normalise_postcode(self.cleaned_data["postcode"], country=self.country)
                if self.cleaned_data["postcode"]
                else ""
            )
        except InvalidValue as error:
            raise forms.ValidationError(str(error)) from None


class PeopleFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("Name, email, phone, postcode, town")}),
    )
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.none(), required=False)
    source = forms.ChoiceField(label=_("Source"), choices=[("", _("Any")), *Source.choices], required=False)
    legal_basis = forms.ChoiceField(
        label=_("Legal basis"), choices=[("", _("Any")), *LegalBasis.choices], required=False
    )
    reachable = forms.ChoiceField(label=_("Reachable by"), choices=[("", _("Any")), *Channel.choices], required=False)
    notice_owed = forms.BooleanField(label=_("First-contact notice owed"), required=False)
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Tag.objects.none(), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("name", _("Name A→Z")),
            ("-name", _("Name Z→A")),
            ("-created", _("Newest")),
            ("created", _("Oldest")),
        ],
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = Tag.objects.filter(campaign=campaign)  # type: ignore[attr-defined]
        from suffrage.segments.models import Segment

        self.fields["segment"].queryset = Segment.objects.filter(campaign=campaign)  # type: ignore[attr-defined]

    def params(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        data["tag"] = data["tag"].pk if data.get("tag") else None
        data["segment"] = data["segment"].pk if data.get("segment") else None
        data["sort"] = data.get("sort") if data.get("sort") in SORTS else "name"
        return data


class BulkForm(forms.Form):
    ACTIONS = [
        ("tag", _("Add a tag")),
        ("untag", _("Remove a tag")),
        ("do_not_contact", _("Do not contact on a channel")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    tag_name = forms.CharField(label=_("Tag"), required=False, max_length=80)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, required=False)
    all_matching = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") in ("tag", "untag") and not data.get("tag_name", "").strip():
            self.add_error("tag_name", _("Name the tag."))
        if data.get("action") == "do_not_contact" and not data.get("channel"):
            self.add_error("channel", _("Choose the channel."))
        return data


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=[("email", _("Email")), ("phone", _("Phone"))])
    value = forms.CharField(label=_("Value"), max_length=254)


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    granted = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Consent given")), ("0", _("Consent withdrawn"))],
        coerce=lambda v: v == "1",
    )
    form = forms.CharField(label=_("How (form, call, letter…)"), max_length=200)
    wording = forms.CharField(
        label=_("Wording shown or said"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class SupportForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("Support level, as the person said"),
        choices=[("", _("Not said")), *SupportLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )


class CustomFieldForm(forms.ModelForm[CustomField]):
    choices_text = forms.CharField(
        label=_("Choices (one per line)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    class Meta:
        model = CustomField
        fields = ["label", "key", "kind", "sensitive"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["choices_text"].initial = "\n".join(self.instance.choices or [])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choices = [line.strip() for line in data.get("choices_text", "").splitlines() if line.strip()]
        if data.get("kind") in (CustomField.Kind.CHOICE, CustomField.Kind.MULTIPLE) and not choices:
            self.add_error("choices_text", _("List the choices."))
        data["choices"] = choices
        return data


EXPORT_COLUMNS = [
    ("id", _("Identifier")),
    ("civility", _("Civility")),
    ("first_names", _("First names")),
    ("birth_name", _("Birth name")),
    ("usage_name", _("Usage name")),
    ("birth_date", _("Birth date")),
    ("email", _("Email")),
    ("phone", _("Phone")),
    ("address", _("Address")),
    ("postcode", _("Postcode")),
    ("town", _("Town")),
    ("tags", _("Tags")),
    ("source", _("Source")),
    ("legal_basis", _("Legal basis")),
    ("collected_at", _("Collected on")),
    ("consent_email", _("Email consent")),
    ("consent_sms", _("SMS consent")),
    ("external_id", _("External identifier")),
]


class ExportForm(forms.Form):
    columns = forms.MultipleChoiceField(
        label=_("Columns"),
        choices=EXPORT_COLUMNS,
        initial=["first_names", "usage_name", "email", "phone", "postcode", "town"],
        widget=forms.CheckboxSelectMultiple,
    )
    format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")])
