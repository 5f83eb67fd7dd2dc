"""What social holds about a person (see privacy.erasure): suggestions that a follower
may be them. Their profiles are people's (SocialProfile)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from suffrage.privacy.erasure import Eraser, Part
from suffrage.social.models import ProfileSuggestion

ERASERS = [
    Eraser(
        app_label="social",
        label=gettext_lazy("Suggested social-network matches"),
        report=None,
        report_order=46,
        parts=(
            Part(
                "social.ProfileSuggestion",
                gettext_lazy("Followers suggested as this person"),
                lambda t: ProfileSuggestion.objects.filter(candidate_id__in=t.ids, campaign_id=t.campaign_id),
            ),
        ),
    ),
]
