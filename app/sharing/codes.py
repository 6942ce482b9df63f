"""One-time codes: invitations (staff accounts) and link codes (a victim finds a caseworker).

Both are random from `secrets`, shown once and stored only as an HMAC under the server key, so
the database never holds a usable code. Each is claimed with a conditional UPDATE (unused and
unexpired), so two concurrent uses cannot both succeed.

Invitation codes travel by copy and paste: 256-bit opaque tokens. Link codes are read out or
written down for a victim to type: 16 Crockford base-32 characters (80 bits) in groups of four,
case-insensitive, with the look-alikes O/I/L read as 0/1/1; they live for a day, so guessing
one online is hopeless.
"""

from __future__ import annotations

import secrets

from app.security.tokens import keyed_hash, new_token, token_hash

INVITATION_PREFIX = "chi_"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
LINK_CODE_LENGTH = 16


def new_invitation_code() -> str:
    return new_token(INVITATION_PREFIX)


def invitation_hash(hmac_key: bytes, code: str) -> bytes:
    return token_hash(hmac_key, code.strip())


def new_link_code() -> str:
    raw = "".join(secrets.choice(_CROCKFORD) for _ in range(LINK_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LINK_CODE_LENGTH, 4))


def _normalise_link_code(code: str) -> str:
    compact = "".join(code.split()).replace("-", "").upper().translate(_LOOKALIKES)
    if len(compact) != LINK_CODE_LENGTH or any(ch not in _CROCKFORD for ch in compact):
        # Still hashed (to a value no real code has), so a malformed code costs the same.
        return "invalid:" + compact[:64]
    return compact


def link_code_hash(hmac_key: bytes, code: str) -> bytes:
    return keyed_hash(hmac_key, "link-code", _normalise_link_code(code))
