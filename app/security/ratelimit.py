"""Brute-force defence: failure counters with exponential back-off, kept in the database.

Counters live in `rate_limit_buckets`, so they hold across every server process. They are
written in the request's own transaction; the refusal is raised with `keep_changes=True` so
the count is committed although the request fails.

Keys are HMACs of the username or address, never the values themselves. The same key is used
whether or not the account exists, so a lock-out reveals nothing. An attacker cannot lock the
real owner out for good: a device that has logged in before presents its device token and is
counted on its own bucket, not on the username's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import TooManyRequests
from app.models import RateLimitBucket


@dataclass(frozen=True)
class Policy:
    name: str
    threshold: int  # failures allowed before back-off starts
    base_delay: int  # seconds of the first back-off; doubles with each further failure
    max_delay: int
    window: int  # seconds without a failure after which the count starts again


LOGIN_ACCOUNT = Policy("login-account", threshold=5, base_delay=30, max_delay=900, window=3600)
LOGIN_DEVICE = Policy("login-device", threshold=5, base_delay=30, max_delay=900, window=3600)
LOGIN_ADDRESS = Policy("login-address", threshold=30, base_delay=60, max_delay=3600, window=3600)
REAUTH = Policy("reauth", threshold=5, base_delay=30, max_delay=900, window=3600)
SECOND_FACTOR = Policy("totp", threshold=5, base_delay=30, max_delay=900, window=3600)
# Owner's proofs (TOTP or recovery code) offered during a login lock-out, counted only when the
# password was right: an attacker without the password cannot fill this bucket.
LOCKOUT_PROOF = Policy("lockout-proof", threshold=5, base_delay=30, max_delay=900, window=3600)
# Per share: whoever holds a leaked link can trip this, and the officer's right passcode is
# refused while it is in back-off, so the wait is capped short (30 s doubling to 2 minutes).
# Guessing stays slow: one guess per 2 minutes per share at best, and the per-address bucket
# (app.viewer.links) holds a single guesser for up to an hour.
PASSCODE = Policy("passcode", threshold=5, base_delay=30, max_delay=120, window=3600)


def registration_policy(per_hour: int) -> Policy:
    """Registrations from one address: each one counts, not only failures.

    Handles are random, so the limit is not what stops enumeration; it bounds how fast one
    address can make accounts (spam, or drawing handles to map which suffixes are taken).
    """
    return Policy(
        "register-address", threshold=per_hour, base_delay=60, max_delay=3600, window=3600
    )


Limit = tuple[Policy, str]  # (policy, key suffix such as an HMAC hex)


def _key(limit: Limit) -> str:
    return f"{limit[0].name}:{limit[1]}"


def check(session: Session, limits: list[Limit], what: str = "Too many failed attempts.") -> None:
    """Raise 429 with Retry-After when any of the buckets is in back-off."""
    refusal = blocked(session, limits, what)
    if refusal is not None:
        raise refusal


def blocked(
    session: Session, limits: list[Limit], what: str = "Too many failed attempts."
) -> TooManyRequests | None:
    """The 429 to answer with while any of the buckets is in back-off, else None."""
    now = utcnow()
    rows = session.scalars(
        select(RateLimitBucket).where(RateLimitBucket.key.in_([_key(lim) for lim in limits]))
    ).all()
    waits = [(r.blocked_until - now).total_seconds() for r in rows if r.blocked_until]
    wait = max(waits, default=0.0)
    if wait > 0:
        seconds = math.ceil(wait)
        return TooManyRequests(
            f"{what} Try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )
    return None


def _delay(policy: Policy, failures: int) -> int:
    excess = failures - policy.threshold
    if excess < 0:
        return 0
    return int(min(policy.base_delay * 2 ** min(excess, 20), policy.max_delay))


def record_failure(session: Session, limits: list[Limit]) -> None:
    now = utcnow()
    for limit in limits:
        _bump(session, limit, now)
    session.flush()


def _bump(session: Session, limit: Limit, now: datetime) -> None:
    policy, key = limit[0], _key(limit)
    row = session.scalars(
        select(RateLimitBucket).where(RateLimitBucket.key == key).with_for_update()
    ).one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                row = RateLimitBucket(key=key, failures=0, window_started_at=now)
                session.add(row)
                session.flush()
        except IntegrityError:
            # Another process created the bucket first; count on the row it made.
            row = session.scalars(
                select(RateLimitBucket).where(RateLimitBucket.key == key).with_for_update()
            ).one()
    elapsed = now - row.window_started_at
    if elapsed > timedelta(seconds=policy.window) and not (
        row.blocked_until and row.blocked_until > now
    ):
        row.failures, row.window_started_at, row.blocked_until = 0, now, None
    row.failures += 1
    delay = _delay(policy, row.failures)
    if delay:
        row.blocked_until = now + timedelta(seconds=delay)


def reset(session: Session, limits: list[Limit]) -> None:
    session.execute(
        delete(RateLimitBucket).where(RateLimitBucket.key.in_([_key(lim) for lim in limits]))
    )
