"""Account data keys: created with the account, unwrapped per request, destroyed on erasure.

`KeyDep` is the caller's own data key as a route dependency; its `account_id` is the scope of
every query over the caller's data, in every package that holds it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from app.context import CtxDep
from app.crypto.fields import DataKey, new_data_key, unwrap_data_key, wrap_data_key
from app.crypto.keyring import KeyRing
from app.errors import NotFound
from app.models import AccountKey
from app.security.actor import Actor, CurrentActor


def create_data_key(session: Session, ring: KeyRing, account_id: uuid.UUID) -> DataKey:
    raw = new_data_key()
    kek_id, wrapped = wrap_data_key(ring, account_id, raw)
    session.add(AccountKey(account_id=account_id, kek_id=kek_id, wrapped_key=wrapped))
    return DataKey.from_bytes(account_id, raw)


def load_data_key(session: Session, ring: KeyRing, account_id: uuid.UUID) -> DataKey:
    row = session.get(AccountKey, account_id)
    if row is None:
        # Erased (crypto-shredded) or never existed: either way there is nothing to read.
        raise NotFound("Account not found.")
    return unwrap_data_key(ring, account_id, row.kek_id, row.wrapped_key)


def actor_key(ring: KeyRing, actor: Actor) -> DataKey:
    """The caller's own data key, unwrapped from what the token lookup already fetched."""
    return unwrap_data_key(ring, actor.account_id, actor.kek_id, actor.wrapped_key)


async def caller_key(actor: CurrentActor, ctx: CtxDep) -> DataKey:
    """The caller's data key, for `KeyDep`.

    `async` only so that FastAPI runs it on the event loop instead of a thread-pool hop: it
    does no I/O, just one AES-GCM unwrap of a 32-byte key.
    """
    return actor_key(ctx.keyring, actor)


KeyDep = Annotated[DataKey, Depends(caller_key)]
