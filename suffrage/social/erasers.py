"""What social holds about a person (see privacy.erasure): suggestions that a follower
may be them, and the note of which network they came from (for the reports). Their
profiles are people's (SocialProfile); posts, publications and the referrals on forms
and RSVPs name no one."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy

from suffrage.people.models import Person
from suffrage.privacy.erasure import Eraser, Part, Targets
from suffrage.social.models import NetworkArrival, ProfileSuggestion


def _arrivals(targets: Targets) -> models.QuerySet[NetworkArrival]:
    """The people's arrivals, and those of the records merged into them (a merge leaves
    them under the merged record's id; the reports follow `merged_ids`)."""
    merged = Person.objects.filter(campaign_id=targets.campaign_id, pk__in=targets.ids).values_list(
        "merged_ids", flat=True
    )
    earlier = [old for ids in merged for old in ids or [] if isinstance(old, int)]
    return NetworkArrival.objects.filter(campaign_id=targets.campaign_id, person_id__in=[*targets.ids, *earlier])


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
            Part("social.NetworkArrival", gettext_lazy("Arrivals from a social network"), _arrivals),
        ),
    ),
]
