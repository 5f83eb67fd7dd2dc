"""API keys: made, recognised, checked. A key reads "sfg_<prefix>_<secret>"; the
prefix finds the row, the SHA-256 of the whole key is compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from suffrage.api.models import ApiToken

KEY_START = "sfg_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_make() -> tuple[str, str]:
    """A new key and its prefix."""
    prefix = secrets.token_hex(6)
    return f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}", prefix


def token_for_key(key: str) -> ApiToken | None:
    """The token this key belongs to (revoked or expired included: the caller says why
    it refuses), or None for a key that is not one of ours."""
    if not key.startswith(KEY_START):
        return None
    prefix, _, secret = key[len(KEY_START) :].partition("_")
    if not prefix or not secret:
        return None
    token = ApiToken.objects.select_related("campaign", "created_by").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, key_hash(key)):
        return None
    return token
