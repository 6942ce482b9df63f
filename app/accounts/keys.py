"""Account data keys: created with the account, unwrapped per request, destroyed on erasure."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.crypto.fields import DataKey, new_data_key, unwrap_data_key, wrap_data_key
from app.crypto.keyring import KeyRing
from app.errors import NotFound
from app.models import AccountKey
from app.security.actor import Actor


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
