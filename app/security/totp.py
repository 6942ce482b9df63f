"""TOTP (RFC 6238): 30-second steps, six digits, at most one step of drift either way.

A code is accepted once: the caller stores the accepted time step and passes it back as
`last_step`, and only a later step is ever accepted again.
"""

from __future__ import annotations

import hmac
import time

import pyotp

STEP_SECONDS = 30
ISSUER = "Chronicle"


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account_label: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_label, issuer_name=ISSUER)


def accepted_step(
    secret: str, code: str, *, last_step: int | None, now: float | None = None
) -> int | None:
    """The time step the code belongs to, if it is valid and newer than `last_step`."""
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code) and (last_step is None or step > last_step):
            return step
    return None
