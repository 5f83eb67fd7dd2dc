"""A small fixed-window rate limit for public endpoints (unsubscribe, tracking,
webhooks), kept in the cache: shared between processes when CACHE=redis."""

from __future__ import annotations

import time

from allauth.core.internal.httpkit import get_client_ip
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The visitor's address: behind a trusted proxy (TRUST_PROXY), the one it forwards,
    as the audit log reads it; otherwise every visitor would share the proxy's limit."""
    return str(get_client_ip(request) or "")


def over_limit(key: str, *, limit: int, window: int = 60) -> bool:
    """Count one more call for `key` in the current window: True once over `limit`."""
    counter = f"ratelimit:{key}:{int(time.time() // window)}"
    if cache.add(counter, 1, timeout=window + 1):
        return False
    try:
        return cache.incr(counter) > limit
    except ValueError:  # expired between add and incr
        return False


def seconds_left(window: int = 60) -> int:
    """Until the current window ends: what a 429's Retry-After says."""
    return window - int(time.time() % window)


def too_many(request: HttpRequest, scope: str, *, limit: int, window: int = 60) -> bool:
    """True once this client made more than `limit` requests to `scope` in the current window."""
    return over_limit(f"{scope}:{client_ip(request)}", limit=limit, window=window)
