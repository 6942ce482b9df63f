"""Who is calling: the one current-actor dependency every authenticated route uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from app.context import CtxDep
from app.db import utcnow
from app.errors import Forbidden, Unauthorized
from app.models import AccessToken, Account, AccountKey, AuthSession
from app.security.tokens import ACCESS_PREFIX, token_hash


@dataclass(frozen=True)
class Actor:
    account_id: uuid.UUID
    role: str
    session_id: uuid.UUID
    # The account's wrapped data key, fetched with the token so that routes that decrypt
    # need no second query (see app.security.keys.actor_key).
    kek_id: str
    wrapped_key: bytes


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _token_query(now: datetime) -> Select[uuid.UUID, uuid.UUID, str, str, bytes, bytes]:
    return (
        select(
            AuthSession.id,
            AuthSession.account_id,
            Account.role,
            AccountKey.kek_id,
            AccountKey.wrapped_key,
            AccessToken.token_hash,
        )
        .join(AccessToken, AccessToken.session_id == AuthSession.id)
        .join(Account, Account.id == AuthSession.account_id)
        .join(AccountKey, AccountKey.account_id == Account.id)
        .where(
            AccessToken.expires_at > now,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
    )


def _actor(row: Row[uuid.UUID, uuid.UUID, str, str, bytes, bytes]) -> Actor:
    return Actor(
        account_id=row.account_id,
        role=row.role,
        session_id=row.id,
        kek_id=row.kek_id,
        wrapped_key=row.wrapped_key,
    )


async def access_token(request: Request) -> str:
    """The request's bearer access token, checked for shape only (no database work yet).

    Async because it does no I/O: FastAPI runs a plain `def` dependency in the thread pool,
    and a hop there and back costs more than the check.
    """
    return _shaped_token(request)


# For routes that resolve the token themselves, in their own transaction (app.group_commit).
AccessTokenDep = Annotated[str, Depends(access_token)]


def actors_for_tokens(session: Session, hmac_key: bytes, tokens: Iterable[str]) -> dict[str, Actor]:
    """The live actors behind several access tokens, in one query (keyed hashes, never plain).

    A token that is unknown, expired or revoked is simply absent from the answer.
    """
    hashes = {token_hash(hmac_key, token): token for token in tokens}
    query = _token_query(utcnow()).where(AccessToken.token_hash.in_(hashes))
    return {hashes[row.token_hash]: _actor(row) for row in session.execute(query)}


def _shaped_token(request: Request) -> str:
    token = bearer_token(request)
    if token is None or not token.startswith(ACCESS_PREFIX) or len(token) > 128:
        raise Unauthorized("A valid access token is required.")
    return token


def current_actor(request: Request, ctx: CtxDep) -> Actor:
    token = _shaped_token(request)
    # Its own short read: the request's transaction (on SQLite, the write lock for a write)
    # then starts only when the route itself touches the database.
    hashed = token_hash(ctx.keyring.hmac_key, token)
    with ctx.sessionmaker() as session:
        row = session.execute(
            _token_query(utcnow()).where(AccessToken.token_hash == hashed)
        ).one_or_none()
    if row is None:
        raise Unauthorized("The access token is invalid or has expired.")
    actor = _actor(row)
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_role(*roles: str) -> object:
    def check(actor: CurrentActor) -> Actor:
        if actor.role not in roles:
            raise Forbidden("Your account cannot do this.")
        return actor

    return Depends(check)
