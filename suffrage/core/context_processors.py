"""What the base layout needs on every page: campaigns to switch to, navigation."""

from typing import Any

from django.http import HttpRequest

from suffrage.core.navigation import navigation_for


def shell(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "my_memberships": user.memberships.select_related("campaign").order_by("campaign__name"),
        "current_campaign": getattr(request, "campaign", None),
        "current_membership": membership,
        "navigation": navigation_for(membership) if membership else [],
    }
