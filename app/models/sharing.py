"""Organisations, members, invitations, link codes, consent grants, caseworker notes, shares.

What stays plain here is what the server must look up or show to people who are not the
victim: organisation names and kinds, staff display names (professional identities, not victim
content), scopes and timestamps. Codes are stored only as HMACs. What a caseworker writes into a
victim's record (notes) is sealed under the victim's data key; a caseworker's private label for
a client is sealed under the caseworker's own key.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrganisationMember(Base):
    """A staff account's one organisation. Accounts join only by accepting an invitation."""

    __tablename__ = "organisation_members"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    display_name: Mapped[str] = mapped_column(String(100))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(Base):
    """A one-time code that creates a staff account in an organisation."""

    __tablename__ = "organisation_invitations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkCode(Base):
    """A one-time code a caseworker hands a victim, who turns it into a consent grant."""

    __tablename__ = "caseworker_link_codes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    caseworker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # The caseworker's own name for the client, sealed under the caseworker's data key.
    label_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentGrant(Base):
    """A victim's consent for one caseworker to see their diary, within a scope, until expiry.

    The grant's id is the victim's to choose, so it is unique per account: the key is
    (account_id, id). The caseworker names the relationship by `client_id`, unique across the
    service: the grant's id unless another grant already has that client id, then a fresh
    one, which only the caseworker ever sees (so the victim's answer is the same either way).
    A new grant is a new client id.
    """

    __tablename__ = "consent_grants"
    __table_args__ = (PrimaryKeyConstraint("account_id", "id", name="pk_consent_grants"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    caseworker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    link_code_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("caseworker_link_codes.id", ondelete="SET NULL"), index=True
    )
    scope: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(20))


class CaseworkerNote(Base):
    """A note a caseworker adds to a victim's record; sealed under the victim's data key.

    The note belongs to the victim: it outlives the grant and the caseworker's account, and its
    sealed document names its author as they were when it was written.
    """

    __tablename__ = "caseworker_notes"
    __table_args__ = (
        Index("ix_caseworker_notes_account_created", "account_id", "created_at"),
        # No ON DELETE SET NULL: on a composite key it would null account_id too. A grant goes
        # only with its caseworker's account, and erasing that account unlinks first
        # (app.accounts.service.erase_account).
        ForeignKeyConstraint(
            ["account_id", "grant_id"],
            ["consent_grants.account_id", "consent_grants.id"],
            name="fk_caseworker_notes_grant_id_consent_grants",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    grant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    content_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShareLink(Base):
    """A link a victim gives an officer: a bearer token (stored only as an HMAC), a scope, an
    expiry, and optionally a passcode (stored only as an argon2id hash).

    The recipient (officer's name, force, crime reference) is the victim's content and is
    sealed under the victim's data key, bound to this row. The scope stays plain: dates and
    subject ids are what the viewer filters the diary on (subject ids as `|a|b|` tags, as the
    diary keeps them).
    """

    __tablename__ = "share_links"
    __table_args__ = (Index("ix_share_links_account_created", "account_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    recipient_enc: Mapped[bytes] = mapped_column(LargeBinary)
    scope_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scope_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subject_ids: Mapped[str] = mapped_column(Text, default="")
    include_evidence: Mapped[bool] = mapped_column(default=False)
    passcode_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShareViewerSession(Base):
    """Proof, for a short while, that a browser entered a share's passcode.

    The cookie holds a random value; only its HMAC is stored. It dies with its share.
    """

    __tablename__ = "share_viewer_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    share_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("share_links.id", ondelete="CASCADE"), index=True
    )
    session_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentDraft(Base):
    """Marks a diary entry as drafted by a caseworker on the victim's behalf.

    The entry itself is an ordinary incident in the victim's diary and chain; `revision` is the
    revision the caseworker wrote (later revisions are the victim's own). The mark points at
    the caseworker note that announced the draft to the victim: that note names the author and
    the incident, is sealed under the victim's key and is committed to the victim's chain, so
    the attribution cannot be quietly removed or forged.
    """

    __tablename__ = "incident_drafts"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "incident_id", name="pk_incident_drafts"),
        ForeignKeyConstraint(
            ["account_id", "incident_id"],
            ["incidents.account_id", "incidents.id"],
            name="fk_incident_drafts_incident_id_incidents",
            ondelete="CASCADE",
        ),
        # As for notes: unlinked by erase_account, not by ON DELETE SET NULL.
        ForeignKeyConstraint(
            ["account_id", "grant_id"],
            ["consent_grants.account_id", "consent_grants.id"],
            name="fk_incident_drafts_grant_id_consent_grants",
        ),
    )

    incident_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    grant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    note_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("caseworker_notes.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
