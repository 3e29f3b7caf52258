"""Field encryption for personal data (ID number, phone): Fernet at rest, keyed hash for lookup."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings


@lru_cache(maxsize=4)
def _key_material(secret: str) -> bytes:
    return hashlib.sha256(("pbqms-field-key:" + secret).encode()).digest()


def _secret() -> str:
    return settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key_material(secret)))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(_secret()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    return _fernet(_secret()).decrypt(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """A keyed hash, so equal values match without the database ever holding them in clear."""
    return hmac.new(_key_material(_secret()), value.upper().encode(), hashlib.sha256).hexdigest()
