"""The VK callback secret is stored only as a salted HMAC-SHA256; the webhook compares in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_salt() -> str:
    """A fresh random salt (hex)."""
    return secrets.token_hex(16)


def hash_secret(secret: str, salt: str) -> str:
    """hex HMAC-SHA256 of the secret under the salt."""
    return hmac.new(bytes.fromhex(salt), secret.encode("utf-8"), hashlib.sha256).hexdigest()


def secret_matches(candidate: str | None, *, salt: str | None, expected_hash: str | None) -> bool:
    """Constant-time check of a secret sent by VK against the stored hash (missing on either side: no match)."""
    if candidate is None or salt is None or expected_hash is None:
        return False
    return hmac.compare_digest(hash_secret(candidate, salt), expected_hash)
