"""Secrets stored in the database (provider API keys, SMTP passwords, DKIM keys),
encrypted with a key derived from SECRET_KEY so that a database dump alone does not
give them away. Pages never render them back."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"suffrage.secrets:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    """The clear value; "" when there is none or SECRET_KEY changed since (re-enter it)."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def encrypt_json(values: dict[str, Any]) -> str:
    return encrypt(json.dumps(values)) if values else ""


def decrypt_json(token: str) -> dict[str, Any]:
    clear = decrypt(token)
    loaded = json.loads(clear) if clear else {}
    return loaded if isinstance(loaded, dict) else {}


def secret_digest(secret: str) -> str:
    """What is stored of a secret sent in a link (a confirmation, a double opt-in):
    the link proves itself against it; a database dump cannot rebuild the link."""
    return hashlib.sha256(secret.encode()).hexdigest()
