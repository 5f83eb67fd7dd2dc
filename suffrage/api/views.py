"""The campaign's API page: its tokens (created here, the key shown once; revoked here)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from suffrage.api import services
from suffrage.api.forms import TokenForm
from suffrage.api.models import ApiToken
from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view


@campaign_view("api.manage_tokens")
def tokens(request: CampaignRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    key = ""
    if request.method == "POST" and form.is_valid():
        token, key = services.token_create(
            campaign=request.campaign,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.expires_at(),
            actor=request.user,
        )
        messages.success(request, _("Token “%(name)s” created.") % {"name": token.name})
        form = TokenForm()
    context = {
        "tokens": ApiToken.objects.filter(campaign=request.campaign).select_related("created_by"),
        "form": form,
        "key": key,
        "api_root": request.build_absolute_uri(reverse("rest:api-root")),
        "docs_url": reverse("rest:openapi-view"),
    }
    # The key is in this page only: never cached by the browser or a proxy.
    response = render(request, "api/tokens.html", context)
    response["Cache-Control"] = "no-store"
    return response


@campaign_view("api.manage_tokens", methods=("POST",))
def token_revoke(request: CampaignRequest, token_id: int) -> HttpResponseBase:
    token = campaign_object_or_404(ApiToken, request.campaign, pk=token_id)
    services.token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token “%(name)s” revoked: calls with it are refused.") % {"name": token.name})
    return redirect("api:tokens", request.campaign.slug)
