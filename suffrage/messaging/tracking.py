"""Unforgeable references to one delivery, carried by the links of its message
(clicks, opens, unsubscribe) and by its X-Suffrage-Delivery header (bounces)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

_signer = signing.Signer(salt="suffrage.messaging.delivery")


def delivery_token(delivery_id: int) -> str:
    return _signer.sign(signing.b62_encode(delivery_id))


def delivery_id_from(token: str) -> int | None:
    try:
        return signing.b62_decode(_signer.unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def unsubscribe_url(token: str) -> str:
    return f"{settings.SITE_URL}/u/{token}/"


def click_url(token: str, position: int) -> str:
    return f"{settings.SITE_URL}/m/{token}/c/{position}/"


def open_url(token: str) -> str:
    return f"{settings.SITE_URL}/m/{token}/o.gif"
