"""The campaign menu, gathered from every app's `menu.py` (a list ITEMS).

An app lists (url name, label, permission); a member sees the items their role allows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.urls import reverse
from django_stubs_ext import StrOrPromise

from suffrage.core.access import role_can
from suffrage.core.models import Membership


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: StrOrPromise
    permission: str
    order: int = 100


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str
    url_name: str


@functools.cache
def all_items() -> list[NavItem]:
    items: list[NavItem] = []
    for config in apps.get_app_configs():
        if config.name.startswith("suffrage."):
            try:
                items.extend(import_module(f"{config.name}.menu").ITEMS)
            except ModuleNotFoundError:
                continue
    return sorted(items, key=lambda item: item.order)


def navigation_for(membership: Membership) -> list[NavLink]:
    slug = membership.campaign.slug
    return [
        NavLink(reverse(item.url_name, args=[slug]), str(item.label), item.url_name)
        for item in all_items()
        if role_can(membership.role, item.permission)
    ]
