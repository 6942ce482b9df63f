"""Opening a share link: who may read it, the passcode, the viewer's session, the access log.

A link is looked up by the HMAC of its token; unknown, revoked and expired links are told
apart only as far as the officer needs (a revoked link reads like an unknown one).

Passcode: checked against the argon2id hash in a separate short read (so the request's own
transaction, on SQLite the write lock, is not held during the hash), throttled per link
(ratelimit.PASSCODE) and per address. A right passcode opens a viewer session: a random
256-bit value in a cookie (HttpOnly, SameSite=Strict, Path=/s/<token>, Secure over HTTPS),
stored only as an HMAC, valid for 30 minutes and never past the link's own expiry or
revocation. The passcode itself never travels in a URL and is never stored or logged.

Every page view and download is recorded in the victim's audit trail as `share.accessed`
(actor: the share link, named as its recipient) and every wrong passcode as
`share.passcode_failed`, with the address and browser, sealed under the victim's key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record as audit
from app.context import AppContext
from app.crypto.fields import DataKey
from app.db import utcnow
from app.errors import TooManyRequests
from app.models import ShareLink, ShareViewerSession
from app.security import ratelimit
from app.security.client import ClientFacts
from app.security.keys import load_data_key
from app.security.tokens import keyed_hash
from app.sharing.shares.schemas import Recipient
from app.sharing.shares.service import (
    MAX_TOKEN_LENGTH,
    SHARE_PREFIX,
    open_recipient,
    recipient_label,
    share_token_hash,
    status_of,
)

LinkStatus = Literal["unknown", "active", "expired", "revoked"]
VIEWER_SESSION_TTL = timedelta(minutes=30)
COOKIE_NAME = "chronicle_share"
PASSCODE_ADDRESS = ratelimit.Policy(
    "passcode-address", threshold=20, base_delay=60, max_delay=3600, window=3600
)


@dataclass(frozen=True)
class Link:
    status: LinkStatus
    share: ShareLink | None = None


def find_link(session: Session, hmac_key: bytes, token: str) -> Link:
    if not token.startswith(SHARE_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return Link("unknown")
    share = session.scalars(
        select(ShareLink)
        .where(ShareLink.token_hash == share_token_hash(hmac_key, token))
        .execution_options(populate_existing=True)
    ).one_or_none()
    if share is None:
        return Link("unknown")
    return Link(status_of(share), share)


def _session_hash(hmac_key: bytes, value: str) -> bytes:
    return keyed_hash(hmac_key, "share-viewer-session", value)


def has_viewer_session(
    session: Session, hmac_key: bytes, share: ShareLink, cookie: str | None
) -> bool:
    """Whether this browser may read the share: no passcode, or a live viewer session."""
    if share.passcode_hash is None:
        return True
    if not cookie or len(cookie) > MAX_TOKEN_LENGTH:
        return False
    found = session.scalar(
        select(ShareViewerSession.id).where(
            ShareViewerSession.session_hash == _session_hash(hmac_key, cookie),
            ShareViewerSession.share_id == share.id,
            ShareViewerSession.expires_at > utcnow(),
        )
    )
    return found is not None


def open_viewer_session(
    session: Session, hmac_key: bytes, share: ShareLink
) -> tuple[str, datetime]:
    """A new viewer session for `share`: (the cookie value, when it expires)."""
    value = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = min(now + VIEWER_SESSION_TTL, share.expires_at)
    session.add(
        ShareViewerSession(
            share_id=share.id,
            session_hash=_session_hash(hmac_key, value),
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return value, expires_at


def passcode_limits(hmac_key: bytes, share: ShareLink, address: str) -> list[ratelimit.Limit]:
    return [
        (ratelimit.PASSCODE, f"share:{share.id}"),
        (PASSCODE_ADDRESS, keyed_hash(hmac_key, "address", address).hex()[:40]),
    ]


@dataclass(frozen=True)
class Opened:
    """A share being read in this request, with the victim's key to read and record with."""

    share: ShareLink
    key: DataKey
    recipient: Recipient

    @property
    def actor(self) -> audit.AuditActor:
        return audit.AuditActor("share_link", str(self.share.id), recipient_label(self.recipient))


def open_share(ctx: AppContext, session: Session, share: ShareLink) -> Opened:
    key = load_data_key(session, ctx.keyring, share.account_id)
    return Opened(share, key, open_recipient(key, share))


def record_access(session: Session, opened: Opened, what: str, facts: ClientFacts) -> None:
    """`share.accessed` in the victim's audit trail: call before the content is built."""
    audit.record_audit(
        session,
        opened.key,
        opened.actor,
        audit.SHARE_ACCESSED,
        object_type="share",
        object_id=opened.share.id,
        facts=facts,
        details={"what": what},
    )
    session.flush()


def record_passcode_failure(session: Session, opened: Opened, facts: ClientFacts) -> None:
    audit.record_audit(
        session,
        opened.key,
        opened.actor,
        audit.SHARE_PASSCODE_FAILED,
        object_type="share",
        object_id=opened.share.id,
        facts=facts,
        details={"what": "passcode"},
    )


@dataclass(frozen=True)
class PasscodeResult:
    """What a passcode attempt came to; the route turns it into a page, a redirect or a cookie.

    `outcome`: "gone" (the link's `status` says why), "open" (the share has no passcode),
    "limited" (too many wrong attempts: try again in `retry_after` seconds), "wrong", or
    "admitted" (a viewer session `cookie` until `expires_at`)."""

    outcome: Literal["gone", "open", "limited", "wrong", "admitted"]
    status: str = "active"
    retry_after: int = 0
    cookie: str = ""
    expires_at: datetime | None = None


def check_passcode(
    ctx: AppContext, session: Session, token: str, passcode: str, facts: ClientFacts
) -> PasscodeResult:
    """The passcode flow: find the link, apply the rate limits, check the passcode (argon2, in
    no transaction: the link is read in a short one of its own first), then, in the request's
    transaction, re-read the share (revoked while the hash ran?), record a failure or open a
    viewer session, upgrading the stored hash when the hasher asks."""
    hmac_key = ctx.keyring.hmac_key
    with ctx.sessionmaker() as reader:
        link = find_link(reader, hmac_key, token)
        if link.share is None or link.status != "active":
            return PasscodeResult("gone", status=link.status)
        if link.share.passcode_hash is None:
            return PasscodeResult("open")
        limits = passcode_limits(hmac_key, link.share, facts.address)
        try:
            ratelimit.check(reader, limits)
        except TooManyRequests as refused:
            return PasscodeResult("limited", retry_after=int(refused.headers["Retry-After"]))
        share_id, stored = link.share.id, link.share.passcode_hash
    ok, new_hash = ctx.hasher.verify(passcode[:128], stored)
    share = session.get(ShareLink, share_id, populate_existing=True)
    if share is None or status_of(share) != "active":  # revoked while the hash ran
        return PasscodeResult("gone", status="revoked" if share is None else status_of(share))
    opened = open_share(ctx, session, share)
    if not ok:
        ratelimit.record_failure(session, limits)
        record_passcode_failure(session, opened, facts)
        return PasscodeResult("wrong")
    ratelimit.reset(session, limits[:1])
    if new_hash and share.passcode_hash == stored:
        share.passcode_hash = new_hash
    value, expires_at = open_viewer_session(session, hmac_key, share)
    return PasscodeResult("admitted", cookie=value, expires_at=expires_at)
