from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import CalendarElection, Campaign
from suffrage.core.roles import Role


class LanguagesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=settings.LANGUAGES, widget=forms.CheckboxSelectMultiple, **kwargs)


class CampaignCreateForm(forms.ModelForm[Campaign]):
    languages = LanguagesField(label=_("Languages"), initial=["fr"])

    class Meta:
        model = Campaign
        fields = ["name", "slug", "country", "languages", "time_zone"]


class CampaignSettingsForm(forms.ModelForm[Campaign]):
    languages = LanguagesField(label=_("Languages"))

    class Meta:
        model = Campaign
        fields = ["name", "country", "languages", "time_zone", "require_mfa"]


class CalendarElectionForm(forms.ModelForm[CalendarElection]):
    class Meta:
        model = CalendarElection
        fields = ["name", "kind", "first_round_on", "second_round_on"]
        widgets = {
            "first_round_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "second_round_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("first_round_on"), data.get("second_round_on")
        if first and second and second <= first:
            self.add_error("second_round_on", _("The second round comes after the first."))
        return data


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VOLUNTEER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), required=False)
    actor = forms.CharField(label=_("By (email contains)"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


def errors_to_form(form: forms.BaseForm, error: ValidationError, rename: dict[str, str] | None = None) -> None:
    """A service's ValidationError shown on the form: beside its field when the form has
    it (`rename` maps a model field to the form field that edits it), above otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field_name, errors in error.message_dict.items():
        target = (rename or {}).get(field_name, field_name)
        form.add_error(target if target in form.fields else None, errors)
