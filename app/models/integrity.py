"""The per-account hash chain: one row per event, and one head row that serialises appends.

`chain_heads` holds each account's last seq and hash. An append locks that row (SELECT ... FOR
UPDATE on PostgreSQL; SQLite writers already hold the database lock from BEGIN IMMEDIATE), so
two devices or two server processes can never take the same seq or build on a stale head; the
UNIQUE (account_id, seq) constraint is the backstop that turns any such bug into an error
instead of a fork.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class ChainHead(Base):
    __tablename__ = "chain_heads"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))


class ChainEvent(Base):
    """One link: what happened (kind, object, revision), when, and the hash binding it all."""

    __tablename__ = "chain_events"
    __table_args__ = (
        UniqueConstraint("account_id", "seq", name="uq_chain_events_account_id_seq"),
        Index("ix_chain_events_object_id", "object_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    revision: Mapped[int] = mapped_column()
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_sha256: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
