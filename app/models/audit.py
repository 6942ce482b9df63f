"""The audit trail: every access to an account's data by someone else, and every sharing change.

Append-only: the application never updates or deletes a row, and the migration adds database
triggers that refuse UPDATE (and, on PostgreSQL, TRUNCATE) and refuse DELETE while the account
still exists, so erasure (ON DELETE CASCADE from `accounts`) still removes an account's rows.
There is deliberately no foreign key that could SET NULL here: that would be an UPDATE.

Plain: who acted (kind and an opaque id), what was done to which object, and when, so the log can
be filtered and sorted. Sealed under the account's data key: the address, the user agent, the
actor's display name and any other facts.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_account_created", "account_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    context_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
