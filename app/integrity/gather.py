"""The chain read back from the database: one gather for every reader of an account's chain.

`gather_revisions` unseals every incident and subject revision of the account once and puts its
content in canonical form (the documents of app.diary.incidents.content and
app.diary.subjects.content); a revision that does not decrypt, or whose content is malformed,
carries a `problem` instead. Its readers:

- `verify_diary` (GET /v1/diary/integrity) recomputes every commitment and hands them, with
  every chain event, evidence record and identity row, to the pure verifier
  (app.integrity.verify), which reports the first broken link by seq;
- app.sharing.chain_export writes them into a bundle's chain.json (`OpenedRevision.document`);
- app.exports.chain_check, offline, recomputes the commitments from that chain.json with the
  same `revision_commitment` (app.integrity.canonical).

It reads the diary's sealed revisions, so it sits a layer above the chain core it stands
beside (tests/test_layers.py). On PostgreSQL `verify_diary` reads the account's chain head
FOR SHARE first, so no append can commit while the rows are read and the check sees one
consistent state; on SQLite the read transaction is already a snapshot.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto.fields import DataKey, DecryptionError
from app.diary import revisions as rev
from app.diary.incidents import content as incident_content
from app.diary.subjects import content as subject_content
from app.integrity.canonical import GENESIS_HASH, CanonicalError, revision_commitment
from app.integrity.verify import (
    EventRecord,
    StoredHead,
    StoredObject,
    StoredRevision,
    VerifyResult,
    verify_chain,
)
from app.models import (
    ChainEvent,
    ChainHead,
    Evidence,
    Incident,
    IncidentRevision,
    Subject,
    SubjectRevision,
)
from app.ownership import incident_revisions_join, owned_by, subject_revisions_join

Document = Callable[[Mapping[str, Any]], dict[str, Any]]
Revisions = dict[tuple[uuid.UUID, int], StoredRevision]
Objects = dict[uuid.UUID, StoredObject]

MALFORMED = "the stored content is malformed"


@dataclass(frozen=True)
class OpenedRevision:
    """One incident or subject revision, unsealed, with its content in canonical form."""

    object_id: uuid.UUID
    revision: int
    chain_seq: int
    recorded_at: datetime
    occurred_at: datetime | None  # the incident's; None for a subject
    salt: bytes | None  # None (with content) when erased with a withdrawal, or on a problem
    content: dict[str, Any] | None
    problem: str | None = None  # why it could not be opened

    def stored(self) -> StoredRevision:
        """What the verifier checks the revision's event against."""
        commitment, problem = None, self.problem
        if problem is None:
            try:
                commitment = revision_commitment(self.salt, self.content)
            except CanonicalError:
                problem = MALFORMED
        return StoredRevision(
            chain_seq=self.chain_seq,
            recorded_at=self.recorded_at,
            occurred_at=self.occurred_at,
            commitment=commitment,
            problem=problem,
        )

    def document(self) -> dict[str, Any]:
        """The revision as chain.json carries it (docs/integrity.md)."""
        return {
            "object_id": str(self.object_id),
            "revision": self.revision,
            "salt": None if self.salt is None else self.salt.hex(),
            "content": self.content,
        }


def _open(
    key: DataKey,
    table: str,
    object_id: uuid.UUID,
    row: IncidentRevision | SubjectRevision,
    occurred_at: datetime | None,
    document: Document,
) -> OpenedRevision:
    opened = partial(
        OpenedRevision,
        object_id=object_id,
        revision=row.revision,
        chain_seq=row.chain_seq,
        recorded_at=row.recorded_at,
        occurred_at=occurred_at,
    )
    if row.content_enc is None:
        return opened(salt=None, content=None)
    try:
        sealed = rev.unseal(key, table=table, revision_id=row.id, blob=row.content_enc)
    except DecryptionError:
        return opened(salt=None, content=None, problem="the content does not decrypt")
    try:
        if sealed.form == "withdrawal":
            content = rev.withdrawal_document(sealed.body["reason"])
        else:
            content = document(sealed.body)
    except (ValueError, KeyError, TypeError, CanonicalError):
        return opened(salt=None, content=None, problem=MALFORMED)
    return opened(salt=sealed.salt, content=content)


def gather_revisions(session: Session, key: DataKey) -> list[OpenedRevision]:
    """Every incident revision of the account, then every subject revision, each by seq."""
    incidents = session.scalars(
        select(IncidentRevision)
        .join(Incident, incident_revisions_join())
        .where(owned_by(Incident, key.account_id))
        .order_by(IncidentRevision.chain_seq)
    )
    gathered = [
        _open(
            key,
            incident_content.TABLE,
            row.incident_id,
            row,
            row.occurred_at,
            partial(incident_content.document, incident_content.row_columns(row)),
        )
        for row in incidents
    ]
    subjects = session.scalars(
        select(SubjectRevision)
        .join(Subject, subject_revisions_join())
        .where(owned_by(Subject, key.account_id))
        .order_by(SubjectRevision.chain_seq)
    )
    gathered += [
        _open(
            key,
            subject_content.TABLE,
            row.subject_id,
            row,
            None,
            partial(subject_content.document, row.relationship),
        )
        for row in subjects
    ]
    return gathered


def chain_events(session: Session, account_id: uuid.UUID) -> list[ChainEvent]:
    """The account's whole chain, in order."""
    return list(
        session.scalars(
            select(ChainEvent).where(ChainEvent.account_id == account_id).order_by(ChainEvent.seq)
        )
    )


def _object_problem(identity: Incident | Subject, current: OpenedRevision | None) -> str | None:
    if current is None:
        return None  # the missing revision is reported at its own event
    if identity.withdrawn_at is not None and identity.withdrawn_at != current.recorded_at:
        return "withdrawn_at differs from the withdrawal's recorded_at"
    if isinstance(identity, Incident) and identity.occurred_at != current.occurred_at:
        return "the listing copy of occurred_at differs from the current revision"
    return None


def _diary_objects(
    session: Session, account_id: uuid.UUID, opened: dict[tuple[uuid.UUID, int], OpenedRevision]
) -> Objects:
    identities: list[Incident | Subject] = [
        *session.scalars(select(Incident).where(owned_by(Incident, account_id))),
        *session.scalars(select(Subject).where(owned_by(Subject, account_id))),
    ]
    return {
        identity.id: StoredObject(
            current_revision=identity.current_revision,
            withdrawn=identity.withdrawn_at is not None,
            recorded_at=identity.recorded_at,
            problem=_object_problem(identity, opened.get((identity.id, identity.current_revision))),
        )
        for identity in identities
    }


def _gather_evidence(
    session: Session, key: DataKey, revisions: Revisions, objects: Objects
) -> None:
    """Evidence rows: `evidence.added` (revision 1) and `evidence.deleted` (revision 2) must
    record the file's SHA-256 and the row's own timestamps, at the seqs the row names."""
    for row in session.scalars(select(Evidence).where(Evidence.account_id == key.account_id)):
        revisions[(row.id, 1)] = StoredRevision(
            chain_seq=row.chain_seq,
            recorded_at=row.received_at,
            occurred_at=None,
            commitment=row.sha256,
        )
        deleted = row.deleted_at is not None
        if deleted or row.deleted_seq is not None:
            revisions[(row.id, 2)] = StoredRevision(
                chain_seq=row.deleted_seq or 0,
                recorded_at=row.deleted_at or row.received_at,
                occurred_at=None,
                commitment=row.sha256,
                problem=None if deleted and row.deleted_seq else "the deletion is half-recorded",
            )
        objects[row.id] = StoredObject(
            current_revision=2 if deleted else 1,
            withdrawn=deleted,
            recorded_at=row.received_at,
            problem=_evidence_problem(row),
        )


def _evidence_problem(row: Evidence) -> str | None:
    if row.deleted_at is None and (row.file_key_enc is None or row.blob_key is None):
        return "live evidence has lost its key or file"
    if row.deleted_at is not None and (row.file_key_enc is not None or row.details_enc):
        return "deleted evidence still holds its key or details"
    return None


def verify_diary(session: Session, key: DataKey) -> VerifyResult:
    """Verify the caller's whole chain against the stored diary; see the module docstring."""
    account_id = key.account_id
    head = session.scalars(
        select(ChainHead).where(ChainHead.account_id == account_id).with_for_update(read=True)
    ).one_or_none()
    events = [
        EventRecord(
            seq=event.seq,
            kind=event.kind,
            object_id=event.object_id,
            revision=event.revision,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            content_sha256=event.content_sha256,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )
        for event in chain_events(session, account_id)
    ]
    opened = {(found.object_id, found.revision): found for found in gather_revisions(session, key)}
    revisions: Revisions = {position: found.stored() for position, found in opened.items()}
    objects = _diary_objects(session, account_id, opened)
    _gather_evidence(session, key, revisions, objects)
    return verify_chain(
        events,
        head=StoredHead(seq=head.seq, hash=head.head_hash) if head else StoredHead(0, GENESIS_HASH),
        revisions=revisions,
        objects=objects,
        content_kinds=("incident", "subject", "evidence"),
    )
