"""Social-network pages: the campaign's accounts, importing an export file or the
followers of an account (both go on to the import pages), and the suggested matches
waiting for a decision."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.forms import errors_to_form
from suffrage.social import services
from suffrage.social.forms import AccountForm, ExportForm
from suffrage.social.models import Network, ProfileSuggestion, SocialAccount


@campaign_view("social.view_social")
def home(request: CampaignRequest) -> HttpResponse:
    suggestions = ProfileSuggestion.objects.filter(campaign=request.campaign, status=ProfileSuggestion.Status.PENDING)
    context = {
        "accounts": SocialAccount.objects.filter(campaign=request.campaign),
        "form": ExportForm(),
        "pending": suggestions.count(),
        "can_import": can(request, "social.import_social") and can(request, "people.import_people"),
        "can_configure": can(request, "social.configure_social"),
        "readable": (Network.MASTODON, Network.BLUESKY),
    }
    return render(request, "social/home.html", context)


@campaign_view("social.import_social", methods=("POST",))
def export_upload(request: CampaignRequest) -> HttpResponseBase:
    if not can(request, "people.import_people"):
        messages.error(request, _("Your role does not allow this."))
        return redirect("social:home", request.campaign.slug)
    form = ExportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("social:home", request.campaign.slug)
    try:
        batch = services.export_upload(
            campaign=request.campaign,
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            legal_basis=form.cleaned_data["legal_basis"],
            actor=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("social:home", request.campaign.slug)
    return redirect("imports:detail", request.campaign.slug, batch.pk)


@campaign_view("social.import_social", methods=("POST",))
def followers_fetch(request: CampaignRequest, account_id: int) -> HttpResponseBase:
    account = campaign_object_or_404(SocialAccount, request.campaign, pk=account_id)
    if not can(request, "people.import_people"):
        messages.error(request, _("Your role does not allow this."))
        return redirect("social:home", request.campaign.slug)
    try:
        batch = services.followers_fetch(account=account, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("social:home", request.campaign.slug)
    return redirect("imports:detail", request.campaign.slug, batch.pk)


@campaign_view("social.configure_social")
def account_edit(request: CampaignRequest, account_id: int | None = None) -> HttpResponseBase:
    account = campaign_object_or_404(SocialAccount, request.campaign, pk=account_id) if account_id else None
    form = AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_save(
                campaign=request.campaign, values=form.cleaned_data, actor=request.user, account=account
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Account saved."))
            return redirect("social:home", request.campaign.slug)
    webhook = f"{settings.SITE_URL}/hooks/social/{account.webhook_key}/" if account else ""
    return render(request, "social/account_form.html", {"form": form, "account": account, "webhook": webhook})


@campaign_view("social.import_social")
def suggestions(request: CampaignRequest) -> HttpResponse:
    pending = ProfileSuggestion.objects.filter(
        campaign=request.campaign, status=ProfileSuggestion.Status.PENDING
    ).select_related("candidate")
    return render(request, "social/suggestions.html", {"suggestions": pending[:200]})


@campaign_view("social.import_social", methods=("POST",))
def suggestion_decide(request: CampaignRequest, suggestion_id: int) -> HttpResponseBase:
    suggestion = campaign_object_or_404(ProfileSuggestion, request.campaign, pk=suggestion_id)
    try:
        services.suggestion_decide(suggestion=suggestion, same=request.POST.get("same") == "1", actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("social:suggestions", request.campaign.slug)
