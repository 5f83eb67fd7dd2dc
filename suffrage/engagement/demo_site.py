"""A sample "candidate website" for the demo: an ordinary page of the candidate's own
site that embeds the campaign's petition, volunteer form and events list with the
snippets organisers copy (Engagement → a form → Embed). Only with DEBUG (the demo)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from suffrage.core.models import Campaign
from suffrage.engagement.models import Action, Status


def candidate_site(request: HttpRequest, campaign_slug: str) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404
    campaign = get_object_or_404(Campaign, slug=campaign_slug)
    base = f"{request.scheme}://{request.get_host()}"
    forms = Action.objects.filter(campaign=campaign, status=Status.OPEN).order_by("kind", "pk")
    return render(
        request,
        "engagement/demo_site.html",
        {
            "campaign": campaign,
            "embed_js": base + reverse("engagement_public:embed_js", args=[campaign.slug]),
            "embeds": [
                (form.title, base + reverse("engagement_public:action", args=[campaign.slug, form.slug]))
                for form in forms
            ],
            "events_url": base + reverse("engagement_public:events", args=[campaign.slug]),
        },
    )
