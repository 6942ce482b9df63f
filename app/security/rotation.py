"""Master-key rotation: add a KEK, then re-wrap every account's data key under it.

The data itself is never touched. Re-wrapping goes in small committed batches over the rows
still wrapped by an older KEK, so an interrupted rotation resumes where it stopped: run it
again and it picks up the remaining rows. Old KEKs stay in the ring until nothing uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.crypto.fields import unwrap_data_key_bytes, wrap_data_key
from app.crypto.keyring import KeyRing
from app.db import utcnow, write_session
from app.models import AccountKey


@dataclass(frozen=True)
class RotationProgress:
    rewrapped: int
    remaining: int


def pending(factory: sessionmaker[Session], ring: KeyRing) -> int:
    with factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AccountKey)
                .where(AccountKey.kek_id != ring.current_id)
            )
            or 0
        )


def rewrap_batch(factory: sessionmaker[Session], ring: KeyRing, batch_size: int) -> int:
    """Re-wrap up to batch_size data keys; returns how many were done (0 when finished)."""
    with write_session(factory) as session, session.begin():
        rows = session.scalars(
            select(AccountKey)
            .where(AccountKey.kek_id != ring.current_id)
            .order_by(AccountKey.account_id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            raw = unwrap_data_key_bytes(ring, row.account_id, row.kek_id, row.wrapped_key)
            row.kek_id, row.wrapped_key = wrap_data_key(ring, row.account_id, raw)
            row.rewrapped_at = utcnow()
        return len(rows)


def rewrap_all(
    factory: sessionmaker[Session],
    ring: KeyRing,
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
) -> RotationProgress:
    done = batches = 0
    while max_batches is None or batches < max_batches:
        count = rewrap_batch(factory, ring, batch_size)
        if count == 0:
            break
        done += count
        batches += 1
    return RotationProgress(rewrapped=done, remaining=pending(factory, ring))


def unused_key_ids(factory: sessionmaker[Session], ring: KeyRing) -> list[str]:
    with factory() as session:
        used = set(session.scalars(select(AccountKey.kek_id).distinct()).all())
    return sorted(kid for kid in ring.master_keys if kid not in used and kid != ring.current_id)
