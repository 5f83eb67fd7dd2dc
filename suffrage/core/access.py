"""Campaign scoping and role checks: the one place every campaign page goes through.

- `campaign_view(permission)` wraps each view under /c/<slug>/: an outsider (not
  a member of that campaign) gets 404, a member whose role lacks the permission
  gets 403, and an owner or manager without MFA, where the campaign requires it,
  is sent to set it up.
- `campaign_object_or_404` fetches an object of the current campaign, or 404,
  whatever campaign the id belongs to.
- Permissions live in each app's `permissions.py` as {action: roles}; here they
  are named "<app label>.<action>".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any, TypeVar

from allauth.mfa.utils import is_mfa_enabled
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from suffrage.core.models import Campaign, Membership, User
from suffrage.core.roles import MFA_BOUND_ROLES, Rule

ModelT = TypeVar("ModelT", bound=models.Model)
View = Callable[..., HttpResponseBase]


class CampaignRequest(HttpRequest):
    """What a campaign view receives: the request with its campaign and membership."""

    user: User
    campaign: Campaign
    membership: Membership


@functools.cache
def permission_table() -> dict[str, Rule]:
    """Every app's permissions, keyed "<app label>.<action>"."""
    table: dict[str, Rule] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("suffrage."):
            continue
        try:
            module = import_module(f"{config.name}.permissions")
        except ModuleNotFoundError:
            continue
        for action, permission_rule in module.PERMISSIONS.items():
            table[f"{config.label}.{action}"] = permission_rule
    return table


def role_can(role: str, permission: str) -> bool:
    # A KeyError here is a typo in a permission name: fail loudly, never open.
    return role in permission_table()[permission].roles


def needs_mfa_setup(membership: Membership) -> bool:
    return (
        membership.campaign.require_mfa and membership.role in MFA_BOUND_ROLES and not is_mfa_enabled(membership.user)
    )


def campaign_view(
    permission: str, *, methods: Iterable[str] = ("GET", "POST"), assigned_only: bool = False
) -> Callable[[View], View]:
    """Resolve /c/<campaign_slug>/…, check membership, role and MFA, then call the view.

    `assigned_only`: the view also checks that its object is assigned to the user (a
    volunteer's turf) and answers 404 otherwise; the URL-walk access test knows it."""
    if permission not in permission_table():
        raise KeyError(f"Unknown permission {permission!r}")
    allowed = tuple(methods)

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, campaign_slug: str, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = (
                Membership.objects.select_related("campaign", "user")
                .filter(user=request.user, campaign__slug=campaign_slug)
                .first()
            )
            if membership is None:
                raise Http404
            if not role_can(membership.role, permission):
                raise PermissionDenied
            if needs_mfa_setup(membership):
                messages.warning(
                    request,
                    _("This campaign requires two-factor authentication for your role. Set it up to continue."),
                )
                return redirect("mfa_activate_totp")
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            request.campaign = membership.campaign  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            _remember_campaign(membership)
            return view(request, **kwargs)

        wrapper.campaign_permission = permission  # type: ignore[attr-defined]
        wrapper.campaign_methods = allowed  # type: ignore[attr-defined]
        wrapper.assigned_only = assigned_only  # type: ignore[attr-defined]
        return wrapper

    return decorator


def _remember_campaign(membership: Membership) -> None:
    user = membership.user
    if user.last_campaign_id != membership.campaign_id:
        User.objects.filter(pk=user.pk).update(last_campaign=membership.campaign)


def campaign_object_or_404(
    queryset: type[ModelT] | models.QuerySet[ModelT], campaign: Campaign, **lookup: Any
) -> ModelT:
    """The object of this campaign matching lookup, or 404 (never 403: ids don't leak)."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    obj = queryset.filter(campaign=campaign, **lookup).first()
    if obj is None:
        raise Http404
    return obj


def can(request: CampaignRequest, permission: str) -> bool:
    return role_can(request.membership.role, permission)
