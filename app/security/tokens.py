"""Opaque bearer tokens: random, 256 bits, stored only as HMAC-SHA-256 under the server key.

A token is useless to anyone reading the database; checking one is a keyed-hash lookup, which
cannot leak timing about other tokens (the comparison is an index lookup on the HMAC).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ACCESS_PREFIX = "cha_"
REFRESH_PREFIX = "chr_"
DEVICE_PREFIX = "chd_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(key: bytes, token: str) -> bytes:
    return hmac.new(key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def keyed_hash(key: bytes, purpose: str, value: str) -> bytes:
    """HMAC for lookups of non-token values (usernames, devices, addresses), per purpose."""
    message = purpose.encode() + b"\x00" + value.encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).digest()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
