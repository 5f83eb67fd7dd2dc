"""The retention page: the rules (French defaults and the campaign's overrides) in a
form, the preview ("on 2 July, 41,200 roll entries and 3,100 people will be removed,
because…"), and a button that applies what is due now as a job."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.core.access import CampaignRequest, campaign_view
from suffrage.core.models import Job
from suffrage.privacy import retention

SETTING_LABELS = {
    retention.ENABLED: gettext_lazy("Apply this rule"),
    retention.MONTHS: gettext_lazy("Months"),
    retention.GRACE_DAYS: gettext_lazy("Days after the last round"),
}


class RetentionForm(forms.Form):
    """One checkbox and one or two numbers per rule, named "<rule>-<setting>"."""

    def __init__(self, *args: Any, effective: dict[str, dict[str, int | bool]], automatic: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["policy-enabled"] = forms.BooleanField(
            label=gettext_lazy("Apply the rules automatically every day"),
            required=False,
            initial=automatic,
            help_text=gettext_lazy("Otherwise nothing is removed until someone presses “Apply what is due now”."),
        )
        for key, rule in retention.DEFAULT_RULES.items():
            for name, default in rule.defaults.items():
                label = f"{rule.label} · {SETTING_LABELS[name]}"
                initial = effective[key][name]
                if name == retention.ENABLED:
                    self.fields[f"{key}-{name}"] = forms.BooleanField(label=label, required=False, initial=initial)
                else:
                    self.fields[f"{key}-{name}"] = forms.IntegerField(
                        label=label,
                        initial=initial,
                        help_text=_("French default: %(value)s") % {"value": default},
                    )

    def rules(self) -> dict[str, dict[str, Any]]:
        """The submitted settings, by rule (only after is_valid())."""
        return {
            key: {name: self.cleaned_data.get(f"{key}-{name}") for name in rule.defaults}
            for key, rule in retention.DEFAULT_RULES.items()
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The same checks as stored overrides, field by field, with the same messages.
        for key, rule in retention.DEFAULT_RULES.items():
            for name in rule.defaults:
                field = f"{key}-{name}"
                if field not in cleaned or cleaned[field] is None:
                    continue
                try:
                    retention.rules_validate({key: {name: cleaned[field]}})
                except ValidationError as error:
                    self.add_error(field, error)
        return cleaned


def _rows(form: RetentionForm, effective: dict[str, dict[str, int | bool]]) -> list[dict[str, Any]]:
    """The form's fields grouped by rule, for the rules table."""
    return [
        {
            "rule": rule,
            "when": retention.rule_when(rule, effective[key]),
            "fields": [form[f"{key}-{name}"] for name in rule.defaults],
        }
        for key, rule in retention.DEFAULT_RULES.items()
    ]


@campaign_view("privacy.manage_retention")
@reauthentication_required(allow_get=True)
def retention_page(request: CampaignRequest) -> HttpResponseBase:
    campaign = request.campaign
    policy = retention.campaign_policy(campaign)
    try:
        effective = retention.campaign_rules(campaign)
        stored_error = ""
    except ValidationError as error:  # overrides edited elsewhere and no longer valid
        effective = retention.rules_effective({})
        stored_error = " ".join(error.messages)
    automatic = bool(policy and policy.enabled)

    if request.method == "POST" and request.POST.get("action") == "apply":
        if stored_error:
            messages.error(request, _("Fix the rules before applying them."))
            return redirect("privacy:retention", campaign.slug)
        retention.retention_apply_start(campaign=campaign, actor=request.user)
        messages.success(request, _("Removing what is due now. The progress shows below."))
        return redirect("privacy:retention", campaign.slug)

    form = RetentionForm(request.POST or None, effective=effective, automatic=automatic)
    if request.method == "POST" and form.is_valid():
        try:
            retention.retention_policy_update(
                campaign=campaign,
                rules=form.rules(),
                enabled=bool(form.cleaned_data["policy-enabled"]),
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Retention rules saved."))
            return redirect("privacy:retention", campaign.slug)

    preview = [] if stored_error else retention.retention_preview(campaign)
    context = {
        "form": form,
        "rows": _rows(form, effective),
        "automatic_field": form["policy-enabled"],
        "preview": preview,
        "anything_due": any(line.anything_due for line in preview),
        "today": retention.campaign_today(campaign),
        "election_end": retention.campaign_election_end(campaign),
        "policy": policy,
        "stored_error": stored_error,
        "job": Job.objects.filter(campaign=campaign, kind="retention_apply").first(),
    }
    return render(request, "privacy/retention.html", context)
