"""GET /v1/diary/integrity: the account's chain re-verified against what is stored.

Gathers every chain event, every incident and subject revision (decrypting each and recomputing
its commitment), every evidence record (whose events commit to the file's SHA-256) and every
identity row, and hands them to the pure verifier (app.integrity.verify), which reports the
first broken link by seq.

On PostgreSQL the account's chain head is read FOR SHARE first, so no append can commit while
the rows are read and the check sees one consistent state; on SQLite the read transaction is
already a snapshot.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto.fields import DataKey, DecryptionError
from app.diary import revisions as rev
from app.diary.access import incident_revisions_join, owned_by, subject_revisions_join
from app.diary.incidents import content as incident_content
from app.diary.subjects import content as subject_content
from app.integrity.canonical import GENESIS_HASH, CanonicalError, content_commitment
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

Revisions = dict[tuple[uuid.UUID, int], StoredRevision]
Objects = dict[uuid.UUID, StoredObject]


def _commitment(
    key: DataKey,
    table: str,
    revision_id: uuid.UUID,
    blob: bytes,
    document: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> tuple[str | None, str | None]:
    """(recomputed commitment, problem) for one sealed revision."""
    try:
        opened = rev.unseal(key, table=table, revision_id=revision_id, blob=blob)
    except DecryptionError:
        return None, "the content does not decrypt"
    try:
        if opened.form == "withdrawal":
            body = rev.withdrawal_document(opened.body["reason"])
        else:
            body = document(opened.body)
        return content_commitment(opened.salt, body), None
    except (ValueError, KeyError, TypeError, CanonicalError):
        return None, "the stored content is malformed"


def _revision(
    key: DataKey,
    table: str,
    row: IncidentRevision | SubjectRevision,
    occurred_at: datetime | None,
    document: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> StoredRevision:
    commitment, problem = None, None
    if row.content_enc is not None:
        commitment, problem = _commitment(key, table, row.id, row.content_enc, document)
    return StoredRevision(
        chain_seq=row.chain_seq,
        recorded_at=row.recorded_at,
        occurred_at=occurred_at,
        commitment=commitment,
        problem=problem,
    )


def _object_problem(
    identity: Incident | Subject, current: IncidentRevision | SubjectRevision | None
) -> str | None:
    if current is None:
        return None  # the missing revision is reported at its own event
    if identity.withdrawn_at is not None and identity.withdrawn_at != current.recorded_at:
        return "withdrawn_at differs from the withdrawal's recorded_at"
    if (
        isinstance(identity, Incident)
        and isinstance(current, IncidentRevision)
        and identity.occurred_at != current.occurred_at
    ):
        return "the listing copy of occurred_at differs from the current revision"
    return None


def _gather_incidents(
    session: Session, key: DataKey, revisions: Revisions, objects: Objects
) -> None:
    current: dict[uuid.UUID, IncidentRevision] = {}
    incidents: dict[uuid.UUID, Incident] = {}
    rows = session.execute(
        select(Incident, IncidentRevision)
        .outerjoin(IncidentRevision, incident_revisions_join())
        .where(owned_by(Incident, key.account_id))
    )
    for incident, row in rows:
        incidents[incident.id] = incident
        if row is None:
            continue
        if row.revision == incident.current_revision:
            current[incident.id] = row
        document = partial(incident_content.document, incident_content.row_columns(row))
        revisions[(incident.id, row.revision)] = _revision(
            key, incident_content.TABLE, row, row.occurred_at, document
        )
    for incident_id, incident in incidents.items():
        objects[incident_id] = StoredObject(
            current_revision=incident.current_revision,
            withdrawn=incident.withdrawn_at is not None,
            recorded_at=incident.recorded_at,
            problem=_object_problem(incident, current.get(incident_id)),
        )


def _gather_subjects(
    session: Session, key: DataKey, revisions: Revisions, objects: Objects
) -> None:
    current: dict[uuid.UUID, SubjectRevision] = {}
    subjects: dict[uuid.UUID, Subject] = {}
    rows = session.execute(
        select(Subject, SubjectRevision)
        .outerjoin(SubjectRevision, subject_revisions_join())
        .where(owned_by(Subject, key.account_id))
    )
    for subject, row in rows:
        subjects[subject.id] = subject
        if row is None:
            continue
        if row.revision == subject.current_revision:
            current[subject.id] = row
        document = partial(subject_content.document, row.relationship)
        revisions[(subject.id, row.revision)] = _revision(
            key, subject_content.TABLE, row, None, document
        )
    for subject_id, subject in subjects.items():
        objects[subject_id] = StoredObject(
            current_revision=subject.current_revision,
            withdrawn=subject.withdrawn_at is not None,
            recorded_at=subject.recorded_at,
            problem=_object_problem(subject, current.get(subject_id)),
        )


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
        for event in session.scalars(
            select(ChainEvent).where(ChainEvent.account_id == account_id).order_by(ChainEvent.seq)
        )
    ]
    revisions: Revisions = {}
    objects: Objects = {}
    _gather_incidents(session, key, revisions, objects)
    _gather_subjects(session, key, revisions, objects)
    _gather_evidence(session, key, revisions, objects)
    return verify_chain(
        events,
        head=StoredHead(seq=head.seq, hash=head.head_hash) if head else StoredHead(0, GENESIS_HASH),
        revisions=revisions,
        objects=objects,
        content_kinds=("incident", "subject", "evidence"),
    )
