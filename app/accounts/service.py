"""Account rules: registration, profile, password change, two-factor, erasure."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts import schemas
from app.accounts.events import event_context, record_event
from app.context import AppContext
from app.crypto.fields import DataKey, decrypt_field, encrypt_field
from app.db import rowcount, utcnow
from app.errors import NotFound, Unauthorized, Unprocessable
from app.models import (
    Account,
    AuthSession,
    CaseworkerNote,
    ConsentGrant,
    IncidentDraft,
    RecoveryCode,
    SecurityEvent,
)
from app.pagination import cursor_datetime, cursor_uuid, decode_cursor, encode_cursor
from app.security import ratelimit, totp
from app.security.actor import Actor
from app.security.client import ClientFacts
from app.security.keys import actor_key, create_data_key, load_data_key
from app.security.passwords import password_problems
from app.security.tokens import keyed_hash

REGISTER_CREATED = (
    "Your account exists. Log in with the full username shown here, suffix included; "
    "it is shown only this once."
)
# Four digits keep handles easy to write down. A chosen name that already has many handles
# gets longer suffixes after repeated collisions, so registration never fails for it.
_SUFFIX_DIGITS = (4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 8, 8, 8, 8)


@dataclass(frozen=True)
class Registered:
    account_id: uuid.UUID
    username: str  # the full handle, suffix included


def username_lookup(ctx: AppContext, username: str) -> bytes:
    return keyed_hash(ctx.keyring.hmac_key, "username", username.casefold())


def _check_password(password: str, username: str | None) -> None:
    problems = password_problems(password, username=username)
    if problems:
        raise Unprocessable(
            problems[0], extra={"errors": [{"loc": ["body", "password"], "msg": problems[0]}]}
        )


def register_limits(ctx: AppContext, facts: ClientFacts) -> list[ratelimit.Limit]:
    policy = ratelimit.registration_policy(ctx.settings.registrations_per_address_per_hour)
    return [(policy, keyed_hash(ctx.keyring.hmac_key, "address", facts.address).hex()[:40])]


def hash_new_password(ctx: AppContext, body: schemas.RegisterIn) -> str:
    """Apply the password policy, then hash (slow: call it before any write transaction)."""
    _check_password(body.password, body.username)
    return ctx.hasher.hash(body.password)


def register(
    ctx: AppContext,
    session: Session,
    body: schemas.RegisterIn,
    facts: ClientFacts,
    *,
    role: str = "victim",
    password_hash: str | None = None,
) -> Registered:
    """Create the account under a new handle: the chosen name plus a random suffix.

    Every valid registration succeeds, whoever else chose the same name, and no one can log
    in with a bare chosen name: registering someone's usual name and logging in with it tells
    nothing about whether she uses the service (SECURITY.md, section 5).
    """
    if password_hash is None:
        password_hash = hash_new_password(ctx, body)
    for digits in _SUFFIX_DIGITS:
        handle = f"{body.username}-{secrets.randbelow(10**digits):0{digits}d}"
        lookup = username_lookup(ctx, handle)
        if session.scalar(select(Account.id).where(Account.username_hmac == lookup)) is not None:
            continue
        account = Account(
            id=uuid.uuid4(),
            username_hmac=lookup,
            role=role,
            password_hash=password_hash,
            username_enc=b"",
        )
        try:
            with session.begin_nested():
                session.add(account)
                session.flush()
        except IntegrityError:
            continue  # a concurrent registration drew the same handle first
        key = create_data_key(session, ctx.keyring, account.id)
        account.username_enc = _seal(key, account.id, "username", handle)
        if body.email:
            account.email_enc = _seal(key, account.id, "email", body.email)
        record_event(session, key, "account_created", facts)
        return Registered(account.id, handle)
    # 16 collisions in a row, the last eight among 10^8 suffixes: not a state to answer in.
    raise RuntimeError("could not draw a free username suffix")


def _seal(key: DataKey, account_id: uuid.UUID, column: str, value: str) -> bytes:
    return encrypt_field(key, value, table="accounts", column=column, row_id=account_id)


def _open(key: DataKey, account_id: uuid.UUID, column: str, blob: bytes) -> str:
    return decrypt_field(key, blob, table="accounts", column=column, row_id=account_id)


def get_account(session: Session, actor: Actor) -> Account:
    account = session.get(Account, actor.account_id)
    if account is None:
        raise NotFound("Account not found.")
    return account


def me(ctx: AppContext, session: Session, actor: Actor) -> schemas.MeOut:
    account = get_account(session, actor)
    key = actor_key(ctx.keyring, actor)
    return schemas.MeOut(
        id=account.id,
        username=_open(key, account.id, "username", account.username_enc),
        email=_open(key, account.id, "email", account.email_enc) if account.email_enc else None,
        role=account.role,
        jurisdiction=account.jurisdiction,
        totp_enabled=account.totp_enabled,
        created_at=account.created_at,
        password_changed_at=account.password_changed_at,
    )


def update_me(
    ctx: AppContext, session: Session, actor: Actor, body: schemas.MePatch
) -> schemas.MeOut:
    account = get_account(session, actor)
    key = actor_key(ctx.keyring, actor)
    fields = body.model_fields_set
    if "email" in fields:
        account.email_enc = _seal(key, account.id, "email", body.email) if body.email else None
    if "jurisdiction" in fields and body.jurisdiction is not None:
        account.jurisdiction = body.jurisdiction
    session.flush()
    return me(ctx, session, actor)


def verify_password_for(
    ctx: AppContext, session: Session, account: Account, password: str, code: str | None
) -> None:
    """Re-authentication for sensitive changes; failures count against the account's limit."""
    limits = [(ratelimit.REAUTH, account.id.hex)]
    ratelimit.check(session, limits)
    ok, _ = ctx.hasher.verify(password, account.password_hash)
    if ok and account.totp_enabled:
        ok = accept_totp(ctx, session, account, code)
    if not ok:
        ratelimit.record_failure(session, limits)
        raise Unauthorized("The password or code is not correct.", headers={}, keep_changes=True)


def accept_totp(ctx: AppContext, session: Session, account: Account, code: str | None) -> bool:
    if code is None or account.totp_secret_enc is None:
        return False
    key = load_data_key(session, ctx.keyring, account.id)
    secret = _open(key, account.id, "totp_secret", account.totp_secret_enc)
    step = totp.accepted_step(secret, code, last_step=account.totp_last_step)
    if step is None:
        return False
    # Conditional update: two concurrent requests with the same code cannot both succeed.
    claimed = session.execute(
        update(Account)
        .where(Account.id == account.id)
        .where((Account.totp_last_step.is_(None)) | (Account.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    account.totp_last_step = step
    return rowcount(claimed) == 1


RECOVERY_CODE_COUNT = 10
RECOVERY_CODES_SHOWN = "Write these down now: they are not shown again. Each works once."
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _recovery_hash(ctx: AppContext, code: str) -> bytes:
    # Typed back by hand: case, spaces and dashes do not matter.
    normalised = "".join(ch for ch in code.casefold() if ch.isalnum())
    return keyed_hash(ctx.keyring.hmac_key, "recovery-code", normalised)


def _new_recovery_code() -> str:
    # 16 characters of a 31-letter alphabet: 79 bits, so a keyed hash (not argon2) suffices.
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def create_recovery_codes(
    ctx: AppContext, session: Session, actor: Actor, body: schemas.ReauthIn, facts: ClientFacts
) -> list[str]:
    """A fresh set of one-time recovery codes, shown once; any earlier set stops working."""
    account = get_account(session, actor)
    verify_password_for(ctx, session, account, body.password, body.totp_code)
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(code_hash=_recovery_hash(ctx, code), account_id=account.id) for code in codes
    )
    key = actor_key(ctx.keyring, actor)
    record_event(session, key, "recovery_codes_created", facts, session_id=actor.session_id)
    return codes


def use_recovery_code(ctx: AppContext, session: Session, account: Account, code: str) -> bool:
    """Spend one of the account's unused recovery codes (a conditional update: once only)."""
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.code_hash == _recovery_hash(ctx, code),
            RecoveryCode.account_id == account.id,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rowcount(spent) == 1


def change_password(
    ctx: AppContext,
    session: Session,
    actor: Actor,
    body: schemas.PasswordChangeIn,
    facts: ClientFacts,
) -> None:
    account = get_account(session, actor)
    verify_password_for(ctx, session, account, body.current_password, body.totp_code)
    key = actor_key(ctx.keyring, actor)
    _check_password(body.new_password, _open(key, account.id, "username", account.username_enc))
    account.password_hash = ctx.hasher.hash(body.new_password)
    account.password_changed_at = utcnow()
    # Someone else who knew the old password must be signed out everywhere but here.
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.account_id == account.id,
            AuthSession.id != actor.session_id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow(), revoked_reason="password_changed")
    )
    record_event(session, key, "password_changed", facts, session_id=actor.session_id)


def start_totp(ctx: AppContext, session: Session, actor: Actor) -> schemas.TotpEnrolOut:
    account = get_account(session, actor)
    if account.totp_enabled:
        raise Unprocessable("Two-factor authentication is already on; turn it off first.")
    key = actor_key(ctx.keyring, actor)
    secret = totp.new_secret()
    account.totp_secret_enc = _seal(key, account.id, "totp_secret", secret)
    account.totp_last_step = None
    label = _open(key, account.id, "username", account.username_enc)
    return schemas.TotpEnrolOut(secret=secret, otpauth_uri=totp.provisioning_uri(secret, label))


def confirm_totp(
    ctx: AppContext, session: Session, actor: Actor, code: str, facts: ClientFacts
) -> None:
    account = get_account(session, actor)
    if account.totp_enabled or account.totp_secret_enc is None:
        raise Unprocessable("Start two-factor enrolment first.")
    limits = [(ratelimit.SECOND_FACTOR, account.id.hex)]
    ratelimit.check(session, limits)
    if not accept_totp(ctx, session, account, code):
        ratelimit.record_failure(session, limits)
        raise Unprocessable(
            "That code is not correct; check the time on your device.", keep_changes=True
        )
    account.totp_enabled = True
    key = actor_key(ctx.keyring, actor)
    record_event(session, key, "totp_enabled", facts, session_id=actor.session_id)


def disable_totp(
    ctx: AppContext, session: Session, actor: Actor, body: schemas.ReauthIn, facts: ClientFacts
) -> None:
    account = get_account(session, actor)
    verify_password_for(ctx, session, account, body.password, body.totp_code)
    account.totp_enabled = False
    account.totp_secret_enc = None
    account.totp_last_step = None
    key = actor_key(ctx.keyring, actor)
    record_event(session, key, "totp_disabled", facts, session_id=actor.session_id)


def erase_account(ctx: AppContext, session: Session, actor: Actor, body: schemas.ReauthIn) -> None:
    """Crypto-shred: the data key goes first, then every row of the account (by cascade)."""
    account = get_account(session, actor)
    verify_password_for(ctx, session, account, body.password, body.totp_code)
    _unlink_grants_given_to(session, account.id)
    session.delete(account)
    session.flush()


def _unlink_grants_given_to(session: Session, caseworker_id: uuid.UUID) -> None:
    """The notes and drafts written under a caseworker's grants outlive them, in the clients'
    records, no longer naming the grant. (Grant keys are (account_id, id); ON DELETE SET NULL
    on such a key would null the account too, so this is done here, before the cascade.)"""
    granted = select(ConsentGrant.account_id, ConsentGrant.id).where(
        ConsentGrant.caseworker_id == caseworker_id
    )
    for model in (CaseworkerNote, IncidentDraft):
        session.execute(
            update(model)
            .where(tuple_(model.account_id, model.grant_id).in_(granted))
            .values(grant_id=None)
            .execution_options(synchronize_session=False)
        )


def security_events(
    ctx: AppContext, session: Session, actor: Actor, limit: int, cursor: str | None
) -> schemas.SecurityEventPage:
    query = (
        select(SecurityEvent)
        .where(SecurityEvent.account_id == actor.account_id)
        .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        created, event_id = decode_cursor(cursor, 2)
        query = query.where(
            tuple_(SecurityEvent.created_at, SecurityEvent.id)
            < tuple_(cursor_datetime(created), cursor_uuid(event_id))
        )
    rows: Sequence[SecurityEvent] = session.scalars(query).all()
    key = actor_key(ctx.keyring, actor)
    items = []
    for event in rows[:limit]:
        context = event_context(key, event)
        items.append(
            schemas.SecurityEventOut(
                id=event.id,
                kind=event.kind,
                created_at=event.created_at,
                session_id=event.session_id,
                address=context.get("address"),
                device=context.get("device"),
            )
        )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.created_at.isoformat(), str(last.id))
    return schemas.SecurityEventPage(items=items, next_cursor=next_cursor)
