"""Export jobs: a PDF, bundle or JSON export being made, made, or gone (app.exports.jobs).

The whole state of a job is this row and, once made, its result in the blob store, so any
server process can report on it, download it, or take over a job whose worker died: a worker
holds the job only while its lease (`lease_token` until `lease_until`) is renewed.

Plain: the format, the status, who asked (a kind and an opaque id, as the audit trail keeps
them), times, and the result's size and SHA-256. Sealed under the account's data key and bound
to the row: the request (filters, identification, the name of a caseworker who prepared it)
and the result's own key. The result itself is stored encrypted (app.crypto.stream), never
in plain, and is removed when the export expires or is deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class ExportJob(Base):
    __tablename__ = "exports"
    __table_args__ = (
        # Ids are the client's to choose: unique per account (SECURITY.md, "Client-chosen ids").
        PrimaryKeyConstraint("account_id", "id", name="pk_exports"),
        Index("ix_exports_account_created", "account_id", "created_at", "id"),
        Index("ix_exports_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(10))
    # queued, running, done, failed, expired
    status: Mapped[str] = mapped_column(String(10))
    request_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # "victim", or "caseworker" with the grant id (as the audit trail names them).
    requested_by: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an attempt starts, so the cleanup never takes a blob being written for an orphan.
    blob_key: Mapped[str | None] = mapped_column(String(512))
    file_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # A fixed title, never victim content or an exception message.
    error: Mapped[str | None] = mapped_column(String(200))
