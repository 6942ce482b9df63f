"""Login, refresh-token rotation with reuse detection (RFC 9700), logout and session lists.

A session is one signed-in device: the family of refresh tokens rotated from one login.
Presenting a refresh token that was already rotated revokes the whole family, because either
the legitimate client or a thief holds a stale copy. The one exception is a retry within a
short grace window of the latest rotation (a phone that lost the response): it receives the
same new pair, which the server keeps sealed under a key only the old token can derive.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.events import record_event
from app.accounts.service import accept_totp, use_recovery_code, username_lookup
from app.context import AppContext
from app.crypto.fields import decrypt_field, encrypt_field
from app.db import rowcount, utcnow
from app.errors import NotFound, TooManyRequests, Unauthorized
from app.models import AccessToken, Account, AuthSession, RefreshToken, TrustedDevice
from app.security import ratelimit
from app.security.actor import Actor
from app.security.client import ClientFacts
from app.security.keys import actor_key, load_data_key
from app.security.tokens import (
    ACCESS_PREFIX,
    DEVICE_PREFIX,
    REFRESH_PREFIX,
    keyed_hash,
    new_token,
    token_hash,
)
from app.sessions import schemas

LOGIN_FAILED = "The username, password or code is not correct."


def _login_limits(
    ctx: AppContext, body: schemas.TokenIn, facts: ClientFacts, device: TrustedDevice | None
) -> list[ratelimit.Limit]:
    if device is not None:
        # A known device is counted on its own, so strangers' failures cannot lock it out.
        return [(ratelimit.LOGIN_DEVICE, device.token_hash.hex()[:40])]
    key = ctx.keyring.hmac_key
    address = keyed_hash(key, "address", facts.address).hex()[:40]
    account = username_lookup(ctx, body.username).hex()[:40]
    return [(ratelimit.LOGIN_ACCOUNT, account), (ratelimit.LOGIN_ADDRESS, address)]


def _trusted_device(
    ctx: AppContext, session: Session, body: schemas.TokenIn, account: Account | None
) -> TrustedDevice | None:
    """The device token, if it was issued to this very account (not just any account)."""
    if not body.device_token or account is None:
        return None
    device = session.get(TrustedDevice, token_hash(ctx.keyring.hmac_key, body.device_token))
    return device if device is not None and device.account_id == account.id else None


def login(
    ctx: AppContext, session: Session, body: schemas.TokenIn, facts: ClientFacts
) -> schemas.TokenOut:
    account, trusted = authenticate(ctx, session, body, facts)
    return _open_session(ctx, session, account, facts, trusted)


def authenticate(
    ctx: AppContext, session: Session, body: schemas.TokenIn, facts: ClientFacts
) -> tuple[Account, bool]:
    """The account a login proves (and whether it came from a trusted device), or the error.

    Shared by the API's token login and the caseworker console's sign-in, so both get the
    same back-off, the same lock-out proof and the same answer for every kind of failure.
    """
    # Everything up to the password check reads in a separate, lock-free transaction: on
    # SQLite the request's own transaction holds the database write lock, and holding it for
    # the length of an argon2 hash would stall every other writer.
    with ctx.sessionmaker() as reader:
        found = reader.scalars(
            select(Account).where(Account.username_hmac == username_lookup(ctx, body.username))
        ).one_or_none()
        device = _trusted_device(ctx, reader, body, found)
        limits = _login_limits(ctx, body, facts, device)
        locked = ratelimit.blocked(reader, limits)
        if locked is not None and body.totp_code is None and body.recovery_code is None:
            raise locked  # no proof offered: answer at once, no hash
        stored_hash = found.password_hash if found else None
        account_id = found.id if found else None
        trusted = device is not None
    ok, new_hash = ctx.hasher.verify_or_dummy(body.password, stored_hash)
    account = session.get(Account, account_id) if account_id else None
    if locked is not None:
        account = _through_lockout(ctx, session, account if ok else None, body, facts, locked)
    else:
        if account is None or not ok:
            _fail(ctx, session, limits, account, facts, "login_failed")
        assert account is not None
        if account.totp_enabled:
            if body.totp_code is None and body.recovery_code is None:
                raise Unauthorized(
                    "Enter the code from your authenticator app.",
                    extra={"totp_required": True},
                )
            if _second_factor(ctx, session, account, body, facts) is None:
                _fail(ctx, session, limits, account, facts, "totp_failed")
        ratelimit.reset(session, limits[:1])
    if new_hash and account.password_hash == stored_hash:
        account.password_hash = new_hash  # parameters were raised since this hash was made
    return account, trusted


def _second_factor(
    ctx: AppContext, session: Session, account: Account, body: schemas.TokenIn, facts: ClientFacts
) -> str | None:
    """Which proof beyond the password the request carries and passes: a recovery code (spent
    here) or, when enrolled, a TOTP code. None when neither is offered or valid."""
    if body.recovery_code is not None:
        if not use_recovery_code(ctx, session, account, body.recovery_code):
            return None
        key = load_data_key(session, ctx.keyring, account.id)
        record_event(session, key, "recovery_code_used", facts)
        return "recovery_code"
    if body.totp_code is not None and account.totp_enabled:
        return "totp" if accept_totp(ctx, session, account, body.totp_code) else None
    return None


def _through_lockout(
    ctx: AppContext,
    session: Session,
    account: Account | None,
    body: schemas.TokenIn,
    facts: ClientFacts,
    locked: TooManyRequests,
) -> Account:
    """Let the owner in during a back-off with proof the attacker lacks: the right password
    and a TOTP code or a recovery code. Every other outcome gets the very same 429 as without
    a proof, so a lock-out stays no oracle for password guesses.

    The back-off is kept (not reset): the attacker stays locked out. Wrong proofs with the
    right password are counted on their own bucket, which only someone who knows the password
    can fill; the owner sees them in her security log.
    """
    if account is None:  # unknown username or wrong password
        raise locked
    proof_limits = [(ratelimit.LOCKOUT_PROOF, account.id.hex)]
    if ratelimit.blocked(session, proof_limits) is not None:
        raise locked
    key = load_data_key(session, ctx.keyring, account.id)
    proof = _second_factor(ctx, session, account, body, facts)
    if proof is None:
        ratelimit.record_failure(session, proof_limits)
        record_event(session, key, "lockout_proof_failed", facts)
        raise TooManyRequests(locked.detail, headers=locked.headers, keep_changes=True)
    record_event(session, key, f"lockout_passed_{proof}", facts)
    return account


def _fail(
    ctx: AppContext,
    session: Session,
    limits: list[ratelimit.Limit],
    account: Account | None,
    facts: ClientFacts,
    kind: str,
) -> None:
    ratelimit.record_failure(session, limits)
    if account is not None:
        # The owner sees the attempt in the security log (kept although this request fails).
        key = load_data_key(session, ctx.keyring, account.id)
        record_event(session, key, kind, facts)
    raise Unauthorized(LOGIN_FAILED, keep_changes=True)


def _open_session(
    ctx: AppContext,
    session: Session,
    account: Account,
    facts: ClientFacts,
    trusted_device: bool,
) -> schemas.TokenOut:
    settings = ctx.settings
    auth = open_auth_session(ctx, session, account, facts)
    device_token = None
    if not trusted_device:
        device_token = new_token(DEVICE_PREFIX)
        session.add(
            TrustedDevice(
                token_hash=token_hash(ctx.keyring.hmac_key, device_token), account_id=account.id
            )
        )
    access, refresh = _issue_pair(ctx, session, auth.id)
    return schemas.TokenOut(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
        session_id=auth.id,
        device_token=device_token,
    )


def open_auth_session(
    ctx: AppContext,
    session: Session,
    account: Account,
    facts: ClientFacts,
    lifetime: timedelta | None = None,
) -> AuthSession:
    """A new signed-in session (listed in GET /v1/sessions), its login and device events."""
    now = utcnow()
    lifetime = lifetime or timedelta(seconds=ctx.settings.refresh_absolute_ttl_seconds)
    key = load_data_key(session, ctx.keyring, account.id)
    device_hmac = keyed_hash(ctx.keyring.hmac_key, "device", facts.user_agent)
    known = session.scalar(
        select(AuthSession.id)
        .where(AuthSession.account_id == account.id, AuthSession.device_hmac == device_hmac)
        .limit(1)
    )
    auth = AuthSession(
        id=uuid.uuid4(),
        account_id=account.id,
        device_hmac=device_hmac,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    auth.device_enc = encrypt_field(
        key, facts.user_agent, table="auth_sessions", column="device", row_id=auth.id
    )
    auth.address_enc = encrypt_field(
        key, facts.address, table="auth_sessions", column="address", row_id=auth.id
    )
    session.add(auth)
    session.flush()
    record_event(session, key, "login", facts, session_id=auth.id)
    if known is None:
        record_event(session, key, "new_device", facts, session_id=auth.id)
    return auth


def _issue_pair(ctx: AppContext, session: Session, session_id: uuid.UUID) -> tuple[str, str]:
    now = utcnow()
    access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
    key = ctx.keyring.hmac_key
    session.add(
        AccessToken(
            token_hash=token_hash(key, access),
            session_id=session_id,
            expires_at=now + timedelta(seconds=ctx.settings.access_token_ttl_seconds),
        )
    )
    session.add(
        RefreshToken(token_hash=token_hash(key, refresh), session_id=session_id, created_at=now)
    )
    return access, refresh


def _pair_key(old_token: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"chronicle/refresh-retry\x00" + old_token.encode()).digest())


def _seal_pair(old_token: str, access: str, refresh: str) -> bytes:
    nonce = os.urandom(12)
    plain = json.dumps([access, refresh]).encode()
    return nonce + _pair_key(old_token).encrypt(nonce, plain, b"next-pair")


def _open_pair(old_token: str, sealed: bytes) -> tuple[str, str] | None:
    try:
        plain = _pair_key(old_token).decrypt(sealed[:12], sealed[12:], b"next-pair")
    except InvalidTag:
        return None
    access, refresh = json.loads(plain)
    return str(access), str(refresh)


def refresh(
    ctx: AppContext, session: Session, body: schemas.RefreshIn, facts: ClientFacts
) -> schemas.TokenOut:
    now = utcnow()
    settings = ctx.settings
    presented = body.refresh_token
    row = session.get(RefreshToken, token_hash(ctx.keyring.hmac_key, presented))
    auth = session.get(AuthSession, row.session_id) if row else None
    if row is None or auth is None or auth.revoked_at is not None or auth.expires_at <= now:
        raise Unauthorized("The refresh token is invalid or has expired.")
    if row.created_at + timedelta(seconds=settings.refresh_idle_ttl_seconds) <= now:
        raise Unauthorized("The session was idle too long; log in again.")
    out = schemas.TokenOut(
        access_token="",
        refresh_token="",
        expires_in=settings.access_token_ttl_seconds,
        session_id=auth.id,
    )
    if row.used_at is None:
        claimed = session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == row.token_hash, RefreshToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(claimed) == 1:
            access, new_refresh = _issue_pair(ctx, session, auth.id)
            session.execute(
                update(RefreshToken)
                .where(RefreshToken.token_hash == row.token_hash)
                .values(
                    replaced_by=token_hash(ctx.keyring.hmac_key, new_refresh),
                    next_pair_enc=_seal_pair(presented, access, new_refresh),
                )
                .execution_options(synchronize_session=False)
            )
            auth.last_seen_at = now
            return out.model_copy(update={"access_token": access, "refresh_token": new_refresh})
        session.refresh(row)
    retry = _grace_retry(ctx, session, row, presented)
    if retry is not None:
        return out.model_copy(update={"access_token": retry[0], "refresh_token": retry[1]})
    _revoke_family(ctx, session, auth, facts)
    raise Unauthorized(
        "The refresh token was already used; this session has been ended.", keep_changes=True
    )


def _grace_retry(
    ctx: AppContext, session: Session, row: RefreshToken, presented: str
) -> tuple[str, str] | None:
    if row.used_at is None or row.next_pair_enc is None or row.replaced_by is None:
        return None
    if utcnow() - row.used_at > timedelta(seconds=ctx.settings.refresh_grace_seconds):
        return None
    successor = session.get(RefreshToken, row.replaced_by)
    if successor is None or successor.used_at is not None:
        return None  # only the latest rotation may be retried
    return _open_pair(presented, row.next_pair_enc)


def _revoke_family(
    ctx: AppContext, session: Session, auth: AuthSession, facts: ClientFacts
) -> None:
    _revoke(session, auth.account_id, [auth.id], "refresh_token_reuse")
    key = load_data_key(session, ctx.keyring, auth.account_id)
    record_event(session, key, "refresh_token_reuse", facts, session_id=auth.id)


def logout(session: Session, actor: Actor) -> None:
    _revoke(session, actor.account_id, [actor.session_id], "logout")


def _revoke(
    session: Session, account_id: uuid.UUID, ids: list[uuid.UUID] | None, reason: str
) -> int:
    query = update(AuthSession).where(
        AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None)
    )
    if ids is not None:
        query = query.where(AuthSession.id.in_(ids))
    result = session.execute(query.values(revoked_at=utcnow(), revoked_reason=reason))
    return rowcount(result)


def revoke_session(
    ctx: AppContext, session: Session, actor: Actor, session_id: uuid.UUID, facts: ClientFacts
) -> None:
    if not _revoke(session, actor.account_id, [session_id], "revoked_by_owner"):
        raise NotFound("Session not found.")
    key = actor_key(ctx.keyring, actor)
    record_event(session, key, "session_revoked", facts, session_id=session_id)


def revoke_all(ctx: AppContext, session: Session, actor: Actor, facts: ClientFacts) -> int:
    count = _revoke(session, actor.account_id, None, "revoked_all")
    key = actor_key(ctx.keyring, actor)
    record_event(session, key, "sessions_revoked_all", facts, session_id=actor.session_id)
    return count


def list_sessions(ctx: AppContext, session: Session, actor: Actor) -> schemas.SessionList:
    now = utcnow()
    rows = session.scalars(
        select(AuthSession)
        .where(
            AuthSession.account_id == actor.account_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id)
        .limit(200)
    ).all()
    key = actor_key(ctx.keyring, actor)
    items = [
        schemas.SessionOut(
            id=s.id,
            device=decrypt_field(
                key, s.device_enc, table="auth_sessions", column="device", row_id=s.id
            ),
            address=decrypt_field(
                key, s.address_enc, table="auth_sessions", column="address", row_id=s.id
            ),
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
            expires_at=s.expires_at,
            current=s.id == actor.session_id,
        )
        for s in rows
    ]
    return schemas.SessionList(items=items)
