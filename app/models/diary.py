"""Subjects and incidents, each a stable identity row plus one row per revision.

An identity row (`subjects`, `incidents`) holds only what never changes or must be indexed:
the owner, the first `recorded_at`, the current revision number, the withdrawal time, and for
incidents the current `occurred_at` as the listing's sort key. Every revision row keeps what
the victim said at that point: the codes, timestamps and ids the server filters on in plain
columns, and everything else (her words, places, names, coordinates, references) with a
random salt in `content_enc`, one AES-256-GCM document sealed with the revision id as its row.

Nothing here is updated in place except the identity row's pointers and, on withdrawal, the
erasure of every earlier revision's content; the hash chain (app.models.integrity) records each
revision, so the integrity check can tell when any stored byte has changed.

Ids are the client's to choose, so they are unique per account, not globally: the key of an
identity row is (account_id, id), and its revisions point at it by both. Another account using
the same id is simply another record (SECURITY.md, "Client-chosen ids").

Multi-valued plain codes and ids are kept as `|a|b|` tag strings (sorted, delimited at both
ends), so "has behaviour X" is the same exact substring test on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class Subject(Base):
    """A person responsible: the ex-partner, the neighbour, "unknown man in a blue car"."""

    __tablename__ = "subjects"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "id", name="pk_subjects"),
        Index("ix_subjects_account_recorded", "account_id", "recorded_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    current_revision: Mapped[int] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubjectRevision(Base):
    __tablename__ = "subject_revisions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "subject_id"],
            ["subjects.account_id", "subjects.id"],
            name="fk_subject_revisions_subject_id_subjects",
            ondelete="CASCADE",
        ),
        UniqueConstraint(
            "account_id", "subject_id", "revision", name="uq_subject_revisions_revision"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    revision: Mapped[int] = mapped_column()
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    relationship: Mapped[str | None] = mapped_column(String(32))
    content_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


class Incident(Base):
    """One diary entry. `occurred_at` mirrors the current revision (None once withdrawn)."""

    __tablename__ = "incidents"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "id", name="pk_incidents"),
        Index("ix_incidents_account_order", "account_id", "occurred_at", "recorded_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    current_revision: Mapped[int] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IncidentRevision(Base):
    __tablename__ = "incident_revisions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "incident_id"],
            ["incidents.account_id", "incidents.id"],
            name="fk_incident_revisions_incident_id_incidents",
            ondelete="CASCADE",
        ),
        UniqueConstraint(
            "account_id", "incident_id", "revision", name="uq_incident_revisions_revision"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    incident_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    revision: Mapped[int] = mapped_column()
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The plain part of the content: None on a withdrawal revision and once erased.
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    precision: Mapped[str | None] = mapped_column(String(16))
    behaviours: Mapped[str | None] = mapped_column(Text)
    subject_ids: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(32))
    reported_to_police: Mapped[bool | None] = mapped_column()
    evidence_ids: Mapped[str | None] = mapped_column(Text)
    content_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
