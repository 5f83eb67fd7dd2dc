"""Unforgeable references to one delivery, carried by the links of its message
(clicks, opens, unsubscribe) and by its X-Suffrage-Delivery header (bounces)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from django.conf import settings
from django.core import signing


@cache
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"suffrage.messaging.delivery:" + secret.encode()).digest()


def _signature(value: str) -> str:
    # Computed for every message of a mailing: a plain HMAC with a key derived once
    # (Django's Signer derives its key again at each call).
    digest = hmac.new(_key(settings.SECRET_KEY), value.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def delivery_token(delivery_id: int) -> str:
    value = signing.b62_encode(delivery_id)
    return f"{value}-{_signature(value)}"


def delivery_id_from(token: str) -> int | None:
    value, _sep, signature = token.partition("-")
    if not value or not hmac.compare_digest(signature, _signature(value)):
        return None
    try:
        return signing.b62_decode(value)
    except ValueError:
        return None


def unsubscribe_url(token: str) -> str:
    return f"{settings.SITE_URL}/u/{token}/"


def click_url(token: str, position: int) -> str:
    return f"{settings.SITE_URL}/m/{token}/c/{position}/"


def open_url(token: str) -> str:
    return f"{settings.SITE_URL}/m/{token}/o.gif"
