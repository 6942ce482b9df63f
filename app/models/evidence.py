"""Evidence files and the resumable uploads that bring them in.

An `Evidence` row exists only once its file is whole in the blob store and verified; it keeps
in plain only what the server sorts, filters or proves with: the file's SHA-256 and size, the
sniffed media type, the linked incident ids, and timestamps. The file name, caption and
capture metadata are one sealed JSON document (`details_enc`); the file's own key is wrapped
by the account's data key (`file_key_enc`); both are bound to the evidence id. Deleting
evidence erases both and the blob, and keeps the row as a tombstone that the chain's
`evidence.deleted` event points at.

An `EvidenceUpload` is a tus upload in progress. Its id becomes the evidence id. Between
requests its whole state is here (the encrypted writer's state, the offset) and in the blob
store, so any server process can continue it. A request streams only while it holds the
row's lease (`lease_token` until `lease_until`), taken and released in short transactions.
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
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class Evidence(Base):
    __tablename__ = "evidence"
    __table_args__ = (
        # Ids are the client's to choose: unique per account (SECURITY.md, "Client-chosen ids").
        PrimaryKeyConstraint("account_id", "id", name="pk_evidence"),
        Index("ix_evidence_account_received", "account_id", "received_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    # `|a|b|` tags, as incident revisions keep subject ids.
    incident_ids: Mapped[str] = mapped_column(Text, default="")
    # Bumped by every change to the caption or links: the record's ETag.
    version: Mapped[int] = mapped_column(default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    # None once deleted (the key is destroyed first, then the blob removed).
    blob_key: Mapped[str | None] = mapped_column(String(512))
    file_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    details_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_seq: Mapped[int | None] = mapped_column(BigInteger)


class EvidenceUpload(Base):
    __tablename__ = "evidence_uploads"
    __table_args__ = (Index("ix_evidence_uploads_account_id", "account_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    length: Mapped[int] = mapped_column(BigInteger)
    # The tus offset: plaintext bytes durably received.
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    blob_key: Mapped[str] = mapped_column(String(512))
    # app.blobs.encrypted.WriterState as JSON; its pending tail is sealed. None once complete.
    writer_state: Mapped[str | None] = mapped_column(Text)
    file_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    details_enc: Mapped[bytes] = mapped_column(LargeBinary)
    incident_ids: Mapped[str] = mapped_column(Text, default="")
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
